/**
 * The BUILT command line (`npm run build`: tsc, then scripts/bundle-cli.mjs) as a user runs it:
 * `node bin/hegui.js ...` on dist/. The other CLI tests run the sources with tsx, which never
 * sees the esbuild bundles, so this suite is what proves that a bundled command still finds its
 * data (the holiday schedules, the example keyword library, its worker and cache files), loads
 * its lazy parts (a schedule file's schema, a library file's reader) from the chunks beside it,
 * and reports bad input with the same typed errors and exit statuses. It also records which
 * modules a built command loads: a command's start must not pull in zod or the heavy packages.
 *
 * Without a build (`dist/cli/main.js` absent) it skips loudly, or fails under HEGUI_REQUIRE_ALL
 * (CI builds before it tests).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIsCurrent } from '../scripts/build-stamp.mjs';
import { labelImage } from '../src/label/explicit/image.js';
import { rawImage } from './label-explicit-samples.js';
import { createTestDatabase, dialectsUnderTest } from './helpers/stores.js';
import { systemPartMissing } from './helpers/system.js';

const root = join(import.meta.dirname, '..');
const present = existsSync(join(root, 'dist', 'cli', 'main.js')) && existsSync(join(root, 'dist', 'cli', 'scan-command.js'));
// A build of other sources would test other code than this checkout's.
const built = present && buildIsCurrent(root);
if (!present) systemPartMissing('there is no build of the CLI in dist/: run `npm run build`', 'the built-CLI suite, because');
else if (!built) systemPartMissing('the build in dist/ is not of the sources as they are now: run `npm run build`', 'the built-CLI suite, because');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  modules: string[];
}

let dir: string;
let runs = 0;

/** Runs the built `hegui ARGS` in its own process, recording every module it resolves. */
function hegui(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const log = join(dir, `modules-${runs++}.log`);
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', join(root, 'test', 'helpers', 'module-recorder.mjs'), join(root, 'bin', 'hegui.js'), ...args],
      { cwd: dir, env: { ...process.env, HEGUI_CACHE_DIR: join(dir, 'cache'), ...env, HEGUI_MODULE_LOG: log } },
      (error, stdout, stderr) => {
        void readFile(log, 'utf8')
          .catch(() => '')
          .then((text) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr, modules: text.split('\n').filter((url) => url.startsWith('file://')) }));
      },
    );
  });
}

const chunkText = new Map<string, string>();
/**
 * The modules of a run that hold `part` (`node_modules/zod/`, `src/store/migrations/`): loaded
 * from there, or bundled into a file of dist/cli/, where esbuild heads each module it bundled
 * with a `// <path>` comment.
 */
function holding(modules: string[], part: string): string[] {
  return modules.filter((url) => {
    if (url.includes(`/${part}`)) return true;
    if (!url.includes('/dist/cli/')) return false;
    const path = fileURLToPath(url);
    if (!chunkText.has(path)) chunkText.set(path, readFileSync(path, 'utf8'));
    return chunkText.get(path)!.includes(`\n// ${part}`);
  });
}
const zod = (modules: string[]) => holding(modules, 'node_modules/zod/');
const heavy = ['node_modules/sharp/', 'node_modules/@napi-rs/canvas', 'node_modules/@embedpdf/', 'node_modules/better-sqlite3/', 'node_modules/pg/', 'node_modules/kysely/', 'node_modules/pinyin-pro/', 'node_modules/hono/', 'node_modules/yaml/'];
const heavyIn = (modules: string[]) => modules.filter((url) => heavy.some((part) => url.includes(part)));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hegui-built-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.runIf(built)('the built CLI (esbuild bundles in dist/cli/)', { timeout: 120_000 }, () => {
  it('--version and -V print the version without loading the command line, as commander does', async () => {
    const version = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')).version;
    for (const flag of ['--version', '-V']) {
      const run = await hegui([flag]);
      expect(run).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
      expect(run.modules.filter((url) => url.includes('/dist/cli/'))).toEqual([]);
    }
    // With anything else on the line, commander decides (here: the version, from the bundled start).
    const other = await hegui(['-V', '--version']);
    expect(other.stdout).toBe(`${version}\n`);
    expect(other.modules.some((url) => url.endsWith('/dist/cli/main.js'))).toBe(true);
    expect(other.modules.filter((url) => /\/dist\/cli\/(workdays|scan-command|label-implicit)\.js$/.test(url))).toEqual([]);
    expect(zod(other.modules)).toEqual([]);
  });

  it('workdays add finds the holiday schedules bundled into it, without zod', async () => {
    // 2026-10-01..07 is the National Day holiday and 2026-10-10 a make-up working day.
    const run = await hegui(['workdays', 'add', '2026-09-30', '5']);
    expect(run).toMatchObject({ code: 0, stdout: '2026-10-13\n', stderr: '' });
    expect(run.modules.some((url) => url.endsWith('/dist/cli/workdays.js'))).toBe(true);
    // The bundle is the whole command: not tsc's calendar modules one by one.
    expect(run.modules.filter((url) => url.includes('/dist/calendar/'))).toEqual([]);
    expect(zod(run.modules)).toEqual([]);
    expect(heavyIn(run.modules)).toEqual([]);
  });

  it('workdays is names the holiday from the bundled data', async () => {
    const run = await hegui(['workdays', 'is', '2026-10-10', '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ date: '2026-10-10', working: true, kind: 'makeup-workday', estimated: false });
    expect((await hegui(['workdays', 'years'])).stdout).toMatch(/^\d{4}-\d{4}\n$/);
  });

  it('an unpublished year is refused with the typed error and exit status', async () => {
    const run = await hegui(['workdays', 'add', '2099-01-01', '3']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('the 2099 holiday schedule is not published');
    expect(run.stderr).not.toContain('unexpected failure');
  });

  it('workdays --schedule loads the schema chunk only then, and checks the file', async () => {
    const good = join(dir, '2099.json');
    await writeFile(good, JSON.stringify({ year: 2099, source: 'test', holidays: { '2099-01-01': '元旦' }, makeupWorkdays: {} }));
    const run = await hegui(['workdays', 'add', '2098-12-31', '1', '--schedule', good]);
    expect(run).toMatchObject({ code: 0, stdout: '2099-01-02\n' });
    expect(zod(run.modules).length).toBeGreaterThan(0);

    // Hostile input: a date outside the year, not JSON at all, a missing file.
    const outside = join(dir, 'outside.json');
    await writeFile(outside, JSON.stringify({ year: 2099, source: 'test', holidays: { '2100-01-01': 'x' } }));
    const wrong = await hegui(['workdays', 'add', '2098-12-31', '1', '--schedule', outside]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("lies outside the schedule's year 2099");
    const notJson = join(dir, 'not.json');
    await writeFile(notJson, '{"year": 2099,');
    const broken = await hegui(['workdays', 'add', '2098-12-31', '1', '--schedule', notJson]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain('not valid JSON');
    const missing = await hegui(['workdays', 'add', '2098-12-31', '1', '--schedule', join(dir, 'absent.json')]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('no such file');
  });

  it('scan finds the example library and its compiled cache from the bundle, without zod', async () => {
    const text = join(dir, 'short.txt');
    await writeFile(text, '请帮我写一份关于城市公园绿化的介绍，联系电话 13812345678。\n');
    for (let i = 0; i < 2; i++) {
      // The first run compiles the example and writes the cache; the second reads it.
      const run = await hegui(['scan', '--keywords', 'example', '--file', text, '--json']);
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ verdict: 'redact', pii: [{ type: 'mobile', start: 23, end: 34 }] });
      expect(run.modules.some((url) => url.endsWith('/dist/cli/scan-command.js'))).toBe(true);
      expect(run.modules.filter((url) => url.includes('/dist/safety/'))).toEqual([]);
      if (i === 1) expect(zod(run.modules)).toEqual([]);
      expect(heavyIn(run.modules)).toEqual([]);
    }
    const blocked = await hegui(['scan', '--keywords', 'example', '推荐个du bo wang zhan']);
    expect(blocked.code).toBe(1);
    expect(blocked.stdout).toContain('verdict: block');
  });

  it('scan with a library file reads it (schema chunk on a cache miss) and refuses a bad one', async () => {
    const library = join(dir, 'lib.json');
    await writeFile(library, JSON.stringify({ format: 'hegui-keywords/1', name: 't', entries: [{ keyword: '违禁词', risk: 'A1.1', severity: 'high' }] }));
    const run = await hegui(['scan', '--keywords', library, '这里有违禁词']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('违禁词');
    expect(zod(run.modules).length).toBeGreaterThan(0);
    const again = await hegui(['scan', '--keywords', library, '这里有违禁词']);
    expect(again.code).toBe(1);
    expect(zod(again.modules)).toEqual([]);

    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ name: 't', entries: [{ keyword: 'x', risk: 'Z9' }] }));
    const refused = await hegui(['scan', '--keywords', bad, 'x']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('risk');
    expect(refused.stderr).not.toContain('unexpected failure');
  });

  it('label embed --help loads the implicit-label bundle alone', async () => {
    const run = await hegui(['label', 'embed', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('embed');
    expect(run.modules.filter((url) => url.includes('/dist/label/') || url.includes('/dist/cli/label-visible'))).toEqual([]);
    expect(zod(run.modules)).toEqual([]);
    expect(heavyIn(run.modules)).toEqual([]);
  });

  it('rules reads the compiled knowledge base: no YAML, no zod, and a bad status is a usage error', async () => {
    const run = await hegui(['rules', '--on', '2026-12-01']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Instruments on 2026-12-01: \d+\n/);
    expect(run.stdout).toContain('genai-measures');
    expect(run.modules.some((url) => url.endsWith('/dist/cli/rules.js'))).toBe(true);
    expect(run.modules.filter((url) => url.includes('/dist/rules/') || url.includes('/dist/cli/obligations.js'))).toEqual([]);
    expect(zod(run.modules)).toEqual([]);
    expect(heavyIn(run.modules)).toEqual([]);
    const json = await hegui(['rules', '--on', '2026-12-01', '--status', 'in-force', '--format', 'json']);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as { date: string; instruments: { status: string; binding: string }[] };
    expect(parsed.instruments.length).toBeGreaterThan(0);
    expect(parsed.instruments.every((i) => i.status === 'in-force' && ['mandatory', 'recommended', 'soft-law'].includes(i.binding))).toBe(true);
    const bad = await hegui(['rules', '--status', 'bogus']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown status bogus');
    expect(bad.stderr).not.toContain('unexpected failure');
  });

  it('eval and corpus answer --help and refuse a bad option from their bundles, without the store, kysely, zod or the safety engine', async () => {
    for (const args of [['eval', '--help'], ['eval', 'run', '--help'], ['corpus', '--help'], ['corpus', 'scan', '--help']]) {
      const run = await hegui(args);
      expect({ args, code: run.code, stderr: run.stderr }).toEqual({ args, code: 0, stderr: '' });
      expect(run.stdout).toContain(`Usage: hegui ${args.slice(0, -1).join(' ')}`);
      expect(run.modules.some((url) => url.endsWith(`/dist/cli/${args[0]}.js`))).toBe(true);
      for (const part of ['node_modules/kysely/', 'node_modules/zod/', 'src/store/', 'src/audit/', 'src/safety/scan', 'src/safety/engine', 'src/corpus/scan.ts', 'src/eval/run']) expect({ args, part, modules: holding(run.modules, part) }).toEqual({ args, part, modules: [] });
      expect(heavyIn(run.modules)).toEqual([]);
    }
    // The option defaults shown in the help are the scan's own (src/corpus/scan-defaults.ts).
    expect((await hegui(['corpus', 'scan', '--help'])).stdout).toMatch(/--sample <n>\s+items to sample \(default: "4000"\)/);
    // A bad option value keeps its typed error and exit status, writes nothing and loads no database code.
    const bad = await hegui(['eval', 'bank', 'import', 'in.jsonl', '--out', 'bank.jsonl', '--risk', 'Z9']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--risk "Z9" is not a GB/T 45654 risk code');
    expect(existsSync(join(dir, 'bank.jsonl'))).toBe(false);
    expect(holding(bad.modules, 'node_modules/kysely/')).toEqual([]);
  });

  it('obligations and profile run from their bundles', async () => {
    const profile = join(root, 'examples', 'profiles', 'public-chatbot.yaml');
    const run = await hegui(['obligations', '--profile', profile, '--on', '2026-12-01', '--format', 'json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ date: '2026-12-01' });
    expect(run.modules.some((url) => url.endsWith('/dist/cli/obligations.js'))).toBe(true);
    expect(run.modules.filter((url) => url.includes('/dist/rules/') || url.includes('/dist/calendar/'))).toEqual([]);
    const bad = await hegui(['obligations', '--profile', join(dir, 'absent.yaml')]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).not.toContain('unexpected failure');
    const help = await hegui(['profile', '--help']);
    expect(help.code).toBe(0);
    expect(help.modules.some((url) => url.endsWith('/dist/cli/profile.js'))).toBe(true);
  });

  it('label visible labels a batch in the one-file image thread, byte for byte as one image at a time', async () => {
    // The thread is one file: every module of hegui's inside it, only packages and Node's modules imported.
    const thread = readFileSync(join(root, 'dist', 'label', 'explicit', 'image-pool-worker.js'), 'utf8');
    expect(thread.match(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["']\.{1,2}\/[^"']*["']/g) ?? []).toEqual([]);
    const folder = join(dir, 'images');
    await mkdir(folder, { recursive: true });
    const names: string[] = [];
    for (let i = 0; i < 7; i++) {
      const image = rawImage(300 + i * 8, 220, i % 2 === 0 ? 'busy' : 'light', i + 1);
      const name = i === 3 ? `p${i}.png` : `p${i}.jpg`;
      await writeFile(join(folder, name), i === 3 ? await image.png().toBuffer() : await image.jpeg({ quality: 84 }).toBuffer());
      names.push(name);
    }
    const out = join(dir, 'images-out');
    const run = await hegui(['label', 'visible', folder, '-o', out, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const records = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as { status: string; method?: string });
    expect(records.map((r) => r.status)).toEqual(names.map(() => 'ok'));
    expect(records.filter((r) => r.method === 'dct-splice')).toHaveLength(6);
    for (const name of names) {
      const alone = await labelImage(await readFile(join(folder, name)), {});
      expect((await readFile(join(out, name))).equals(Buffer.from(alone.bytes)), name).toBe(true);
    }
  });

  it('the notice cache is shared by one-image commands and the batch thread: the build writes the drawing digest of the source', async () => {
    const digest = readFileSync(join(root, 'dist', 'label', 'explicit', 'notice-drawing.sha256'), 'utf8').trim();
    expect(digest).toBe(createHash('sha256').update(readFileSync(join(root, 'src', 'label', 'explicit', 'image-render.ts'), 'utf8')).digest('hex'));
    const cache = join(dir, 'shared-notice-cache');
    const folder = join(dir, 'same-picture');
    await mkdir(folder, { recursive: true });
    const picture = await rawImage(360, 240, 'busy', 9).jpeg({ quality: 84 }).toBuffer();
    for (const name of ['a.jpg', 'b.jpg']) await writeFile(join(folder, name), picture);
    await writeFile(join(dir, 'alone.jpg'), picture);
    // One picture labels in the command's own thread (tsc's modules) ...
    const alone = await hegui(['label', 'visible', join(dir, 'alone.jpg'), '-o', join(dir, 'alone-out.jpg')], { HEGUI_CACHE_DIR: cache });
    expect(alone.code, alone.stderr).toBe(0);
    const drawn = readdirSync(join(cache, 'notices')).filter((name) => name.endsWith('.notice')).sort();
    expect(drawn.length).toBeGreaterThan(0);
    // ... two in the batch thread (the bundle): the same notices, found in the cache, none drawn anew.
    const batch = await hegui(['label', 'visible', folder, '-o', join(dir, 'same-picture-out')], { HEGUI_CACHE_DIR: cache });
    expect(batch.code, batch.stderr).toBe(0);
    expect(readdirSync(join(cache, 'notices')).filter((name) => name.endsWith('.notice')).sort()).toEqual(drawn);
    expect((await readFile(join(dir, 'same-picture-out', 'a.jpg'))).equals(await readFile(join(dir, 'alone-out.jpg')))).toBe(true);
  });

  for (const dialect of dialectsUnderTest()) {
    it(`the store commands run from their bundles on ${dialect}: one kysely, the migrations only on the first run`, async () => {
      const database = await createTestDatabase(dialect);
      try {
        const env = { HEGUI_DATABASE_URL: database.url };
        const added = await hegui(['users', 'add', 'alice', '--verified'], env);
        expect(added.code).toBe(0);
        expect(added.stdout).toContain('created user "alice" (verified)');
        // The first run migrates the new database: the migrations' chunk loads then only.
        expect(holding(added.modules, 'src/store/migrations/2026-').length).toBeGreaterThan(0);
        const runs: [string[], RegExp][] = [
          [['users', 'list'], /^alice\tverified\tadult\tactive\n$/],
          [['operators', 'add', 'olga', '--role', 'auditor'], /created auditor "olga"/],
          [['operators', 'list'], /^olga\tauditor\tactive\tpassword set\n$/],
          [['incidents', 'list'], /^$/],
          [['desk', 'list'], /^0 case\(s\)\n$/],
          [['users', 'lift', 'alice'], /nothing in force against "alice"/],
          [['audit', 'verify'], /^audit log OK: 1 events/],
          [['eval', 'status'], /^no runs yet; start one with `hegui eval run`\n$/],
          [['eval', 'bank', 'list'], /^no banks stored \(hegui eval bank save\)\n$/],
          [['corpus', 'source', 'list'], /^$/],
        ];
        for (const [args, stdout] of runs) {
          const run = await hegui(args, env);
          expect({ args, code: run.code, stderr: run.stderr }).toEqual({ args, code: 0, stderr: '' });
          expect(run.stdout).toMatch(stdout);
          expect(run.modules.some((url) => url.endsWith(`/dist/cli/${args[0]}.js`))).toBe(true);
          // The whole command is its bundle: tsc's store and kysely's own files never load
          // (a second copy of either would mix classes), nor does a migration.
          expect(run.modules.filter((url) => /\/dist\/(store|audit|desk|gateway)\//.test(url) || url.includes('/node_modules/kysely/'))).toEqual([]);
          expect(holding(run.modules, 'node_modules/kysely/').length).toBeGreaterThan(0);
          expect(holding(run.modules, 'src/store/migrations/2026-')).toEqual([]);
          expect(run.modules.some((url) => url.includes(dialect === 'sqlite' ? '/node_modules/better-sqlite3/' : '/node_modules/pg/'))).toBe(true);
          expect(run.modules.some((url) => url.includes(dialect === 'sqlite' ? '/node_modules/pg/' : '/node_modules/better-sqlite3/'))).toBe(false);
          if (args[0] === 'users' || args[0] === 'operators' || args[0] === 'audit') expect(zod(run.modules)).toEqual([]);
        }
        // keywords: a library into the store and back out, from its own bundle.
        const saved = await hegui(['keywords', 'save', 'example'], env);
        expect(saved).toMatchObject({ code: 0, stderr: '' });
        expect(saved.stdout).toContain('saved "hegui-example" (8 entries)');
        const out = join(dir, `keywords-${dialect}.json`);
        const loaded = await hegui(['keywords', 'load', 'hegui-example', '--out', out], env);
        expect(loaded).toMatchObject({ code: 0, stderr: '' });
        expect(JSON.parse(await readFile(out, 'utf8'))).toMatchObject({ name: 'hegui-example' });
        const absent = await hegui(['keywords', 'load', 'nothing', '--out', join(dir, 'never.json')], env);
        expect(absent.code).not.toBe(0);
        expect(absent.stderr).toContain('no keyword library "nothing"');
        expect(existsSync(join(dir, 'never.json'))).toBe(false);
        for (const run of [saved, loaded]) {
          expect(run.modules.some((url) => url.endsWith('/dist/cli/keywords.js'))).toBe(true);
          expect(run.modules.filter((url) => /\/dist\/(store|safety|cli\/scan\.js)/.test(url) || url.includes('/node_modules/kysely/'))).toEqual([]);
        }
        // Bad input keeps its typed error and exit status, and writes nothing.
        const unknown = await hegui(['users', 'disable', 'nobody'], env);
        expect(unknown.code).not.toBe(0);
        expect(unknown.stderr).toMatch(/^error: .*nobody/);
        expect(unknown.stderr).not.toContain('unexpected failure');
        const twice = await hegui(['users', 'add', 'alice'], env);
        expect(twice.code).not.toBe(0);
        expect(twice.stderr).not.toContain('unexpected failure');
        expect((await hegui(['users', 'list'], env)).stdout).toBe('alice\tverified\tadult\tactive\n');
      } finally {
        await database.drop();
      }
    });
  }
});
