/**
 * The CLI loads only the module of the command it runs (issue 14): `hegui --version` and
 * `hegui workdays` must never pull in image codecs, canvas, fonts, database drivers or the
 * other commands. Checked by recording every module a real `hegui` process resolves, not by
 * timing it (speed lives in bench/).
 */
import { execFile } from 'node:child_process';
import { cpSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { buildProgram, commandTable, VISIBLE_LABEL_VALUE_OPTIONS } from '../src/cli/main.js';
import { openImageLabelPool } from '../src/label/explicit/image-pool.js';
import { batchImageThreads, waitingImageThreads } from '../src/label/explicit/image-threads.js';
import type { CliIo } from '../src/cli/io.js';
import { Readable } from 'node:stream';
import { cli } from './helpers/cli.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..');

/** What no light command may load: heavy native or large dependencies. */
const heavy = ['node_modules/sharp/', 'node_modules/@napi-rs/canvas', 'node_modules/@embedpdf/', 'node_modules/better-sqlite3/', 'node_modules/pg/', 'node_modules/kysely/', 'node_modules/opencc-js/', 'node_modules/pinyin-pro/', 'node_modules/hono/'];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hegui-startup-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs `hegui ARGS` as its own process and returns what it printed and every module it resolved. */
async function modulesLoadedBy(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ stdout: string; modules: string[] }> {
  const log = join(dir, `${args.join('_').replace(/[^\w-]/g, '')}.log`);
  // The recorder appends: a log left by an earlier run of the same command line (the tests run
  // in a shuffled order) must not count as this run's.
  await rm(log, { force: true });
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--import', './test/helpers/module-recorder.mjs', 'src/cli/main.ts', ...args], {
    cwd: root,
    env: { ...process.env, ...env, HEGUI_MODULE_LOG: log },
  });
  const modules = (await readFile(log, 'utf8')).split('\n').filter((url) => url.startsWith('file://'));
  return { stdout, modules };
}

function commandModules(modules: string[]): string[] {
  const names = modules.filter((url) => /\/src\/cli\/(?!main|io|files)[\w-]+\.ts$/.test(url)).map((url) => url.slice(url.lastIndexOf('/') + 1));
  return [...new Set(names)];
}

describe('hegui loads only what the command line asks for', () => {
  it('--version loads no command module and no heavy dependency', async () => {
    const { stdout, modules } = await modulesLoadedBy(['--version']);
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    expect(modules.some((url) => url.endsWith('/src/cli/main.ts'))).toBe(true);
    expect(commandModules(modules)).toEqual([]);
    expect(modules.filter((url) => heavy.some((part) => url.includes(part)))).toEqual([]);
  });

  it('workdays add loads the workdays module alone', async () => {
    const { stdout, modules } = await modulesLoadedBy(['workdays', 'add', '2026-09-30', '5']);
    expect(stdout.trim()).toBe('2026-10-13');
    expect(commandModules(modules)).toEqual(['workdays.ts']);
    expect(modules.filter((url) => heavy.some((part) => url.includes(part)))).toEqual([]);
  });

  it('label read loads the implicit-label module alone: no visible labels, canvas, image codecs or YAML', async () => {
    const { stdout, modules } = await modulesLoadedBy(['label', 'read', 'README.md']);
    expect(stdout).toContain('no label');
    // label-implicit.ts: the entry the build bundles (it re-exports label.ts).
    expect(commandModules(modules)).toEqual(['label-implicit.ts', 'label.ts']);
    expect(modules.filter((url) => [...heavy, 'node_modules/yaml/', '/src/label/explicit/'].some((part) => url.includes(part)))).toEqual([]);
  });

  it('eval and corpus --help load their own module without the store, kysely, zod or the safety engine', async () => {
    for (const command of ['eval', 'corpus']) {
      const { stdout, modules } = await modulesLoadedBy([command, '--help']);
      expect(stdout).toContain(`Usage: hegui ${command}`);
      expect(commandModules(modules).filter((name) => !['store-lazy.ts', 'eval-run.ts'].includes(name))).toEqual([`${command}.ts`]);
      expect(modules.filter((url) => [...heavy, 'node_modules/zod/', '/src/store/', '/src/audit/', '/src/safety/index.ts', '/src/corpus/scan.ts', '/src/cli/store.ts'].some((part) => url.includes(part)))).toEqual([]);
    }
  });

  it('a command loads its own module and none of the others', async () => {
    const { modules } = await modulesLoadedBy(['label', '--help']);
    expect(commandModules(modules).sort()).toEqual(['label-visible.ts', 'label.ts']);
  });

  it('label embed of a JPEG loads the JPEG codec and no other container codec, no visible labels, no YAML', async () => {
    const jpeg = join(dir, 'photo.jpg');
    // The smallest JPEG the codec accepts: SOI, an APP0 segment, EOI.
    await writeFile(jpeg, Buffer.from('ffd8ffe000104a46494600010100000100010000ffd9', 'hex'));
    const { stdout, modules } = await modulesLoadedBy(['label', 'embed', jpeg, '-o', join(dir, 'labelled.jpg'), '--producer', '001191350100M000100Y431A001', '--id', 'x']);
    expect(stdout).toContain('labelled');
    expect(commandModules(modules)).toEqual(['label-implicit.ts', 'label.ts']);
    const codecs = modules.filter((url) => /\/src\/label\/implicit\/(gif|png|png-chunks|tiff|webp|heif|heif-meta|mp3|mp3-id3|flac|wav|(mp4|ogg|matroska|pdf|ooxml|markdown|html)(-[\w-]+)?)\.ts$/.test(url));
    expect(codecs).toEqual([]);
    expect(modules.some((url) => url.endsWith('/src/label/implicit/jpeg.ts'))).toBe(true);
    expect(modules.filter((url) => [...heavy, 'node_modules/yaml/', 'node_modules/sm-crypto/', '/src/label/explicit/', '/src/label/implicit/codecs.ts', '/src/label/implicit/registry.ts'].some((part) => url.includes(part)))).toEqual([]);
  });

  it('label visible loads the visible-label library only when a file needs it (a JPEG batch labels in the pool threads)', async () => {
    const { stdout, modules } = await modulesLoadedBy(['label', 'visible', '--help']);
    expect(stdout).toContain('--position');
    expect(modules.filter((url) => ['node_modules/sharp/', 'node_modules/@napi-rs/canvas', '/src/label/explicit/index.ts', '/src/label/explicit/image.ts', '/src/label/explicit/image-render.ts'].some((part) => url.includes(part)))).toEqual([]);
  });

  it('label visible of a text answer loads the text notice alone: no image, video, PDF or Word code, no thread', async () => {
    const answer = join(dir, 'answer.txt');
    await writeFile(answer, '一段回答\n');
    await writeFile(join(dir, 'answer-labelled.txt'), 'written by an earlier run\n');
    const { stdout, modules } = await modulesLoadedBy(['label', 'visible', answer, '-o', join(dir, 'answer-labelled.txt')]);
    expect(stdout).toContain('plain');
    expect(modules.filter((url) => [...heavy, '/src/label/explicit/index.ts', '/src/label/explicit/image.ts', '/src/label/explicit/image-codec.ts', '/src/label/explicit/image-render.ts', '/src/label/explicit/jpeg-splice', '/src/label/explicit/video.ts', '/src/label/explicit/pdf.ts', '/src/label/explicit/docx.ts'].some((part) => url.includes(part)))).toEqual([]);
    expect(modules.some((url) => url.endsWith('/src/label/explicit/image-pool-worker.ts'))).toBe(false);
  });

  it('label visible of one JPEG loads the image module alone: no sharp (the DCT splice needs none), no PDF, Word, audio or video code', async () => {
    const photo = join(dir, 'photo.jpg');
    await writeFile(photo, await sharp({ create: { width: 320, height: 240, channels: 3, background: '#4a7' } }).jpeg({ quality: 85 }).toBuffer());
    const { stdout, modules } = await modulesLoadedBy(['label', 'visible', photo, '-o', join(dir, 'photo-labelled.jpg'), '--json']);
    expect(JSON.parse(stdout.trim()) as { method?: string }).toMatchObject({ status: 'ok', method: 'dct-splice' });
    expect(modules.some((url) => url.endsWith('/src/label/explicit/image.ts'))).toBe(true);
    expect(modules.filter((url) => ['node_modules/sharp/', '/src/label/explicit/index.ts', '/src/label/explicit/video.ts', '/src/label/explicit/audio.ts', '/src/label/explicit/pdf.ts', '/src/label/explicit/docx.ts'].some((part) => url.includes(part)))).toEqual([]);
  });

  it('label visible on a folder of text files ends, though the image thread it started ahead is never used', async () => {
    const folder = join(dir, 'texts');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'a.txt'), 'an answer\n');
    await writeFile(join(folder, 'b.md'), '# an answer\n');
    const batch = await modulesLoadedBy(['label', 'visible', folder, '--in-place']);
    expect(batch.stdout.match(/^ok /gm)).toHaveLength(2);
  });

  it('label visible starts the image threads of a batch before loading the command; for one file or for help it starts none', async () => {
    const folder = join(dir, 'ahead');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'a.txt'), 'an answer\n');
    await writeFile(join(folder, 'b.txt'), 'an answer\n');
    const label = commandTable.find((entry) => entry.commands.some(([name]) => name === 'label'));
    const load = async (argv: string[], help = false): Promise<number> => {
      await label?.load(argv.filter((word) => !word.startsWith('-')), { help, argv });
      return waitingImageThreads();
    };
    expect(await load(['label', 'visible', join(folder, 'a.txt'), '--text', 'AI生成'])).toBe(0);
    // An option's value that names a file (here an output written before) is not a second file to label.
    expect(await load(['label', 'visible', join(folder, 'a.txt'), '-o', join(folder, 'b.txt')])).toBe(0);
    expect(await load(['label', 'all', '--font', join(folder, 'b.txt'), join(folder, 'a.txt'), '--producer', 'x', '--id', 'y'])).toBe(0);
    expect(await load(['label', 'visible', folder], true)).toBe(0);
    expect(await load(['label', 'embed', folder])).toBe(0);
    // Two files, or a folder: the batch's threads, started once however often asked.
    expect(await load(['label', 'all', join(folder, 'a.txt'), join(folder, 'b.txt')])).toBe(batchImageThreads());
    expect(await load(['label', 'visible', folder])).toBe(batchImageThreads());
    // The next pool takes them, and labels with them.
    const pool = await openImageLabelPool(batchImageThreads() || 1);
    try {
      expect(waitingImageThreads()).toBe(0);
      const image = await sharp({ create: { width: 200, height: 120, channels: 3, background: '#3a6' } }).jpeg().toBuffer();
      const labelled = await pool.label(image, { language: 'en' });
      expect(labelled.notice).toBe('AI-generated');
    } finally {
      await pool.close();
    }
  });

  it("knows which of label visible's and label all's options take a value", async () => {
    const program = await buildProgram(quietIo, ['label', 'visible']);
    const label = program.commands.find((command) => command.name() === 'label');
    for (const name of ['visible', 'all']) {
      const command = label?.commands.find((sub) => sub.name() === name);
      const taking = (command?.options ?? []).filter((option) => option.required || option.optional).flatMap((option) => [option.short, option.long].filter((flag): flag is string => flag !== undefined));
      expect(taking.length).toBeGreaterThan(5);
      for (const flag of taking) expect(VISIBLE_LABEL_VALUE_OPTIONS.has(flag), `${name} ${flag}`).toBe(true);
    }
  });

  it('serve --help loads neither the server nor the gateway', async () => {
    const { stdout, modules } = await modulesLoadedBy(['serve', '--help']);
    expect(stdout).toContain('--upstream');
    expect(commandModules(modules)).toEqual(['serve.ts']);
    expect(modules.filter((url) => [...heavy, 'node_modules/jose/', 'node_modules/prom-client/', 'node_modules/zod/', '/src/server/', '/src/gateway/', '/src/label/'].some((part) => url.includes(part)))).toEqual([]);
  });

  // Commands that only read and write the store: the SQLite driver and kysely, not the gateway's
  // request path, the server, the label libraries (sharp, canvas) nor pg (another dialect).
  for (const args of [
    ['users', 'list'],
    ['operators', 'list'],
    ['incidents', 'list'],
  ]) {
    it(`${args.join(' ')} loads the store, not the gateway, the server or the label libraries`, async () => {
      const { modules } = await modulesLoadedBy(args, { HEGUI_DATABASE_URL: `file:${join(dir, 'store.db')}` });
      expect(modules.some((url) => url.includes('node_modules/better-sqlite3/'))).toBe(true);
      const unwanted = ['node_modules/sharp/', 'node_modules/@napi-rs/canvas', 'node_modules/pg/', 'node_modules/hono/', 'node_modules/jose/', 'node_modules/prom-client/', '/src/server/', '/src/label/', '/src/gateway/pipeline.ts', '/src/gateway/index.ts'];
      // operators hashes passwords with the server's secrets module, and only that.
      expect(modules.filter((url) => unwanted.some((part) => url.includes(part)) && !url.endsWith('/src/server/auth/secrets.ts'))).toEqual([]);
    });
  }

  it('a store command on a current database loads none of the migrations (one query on their table instead)', async () => {
    const env = { HEGUI_DATABASE_URL: `file:${join(dir, 'current.db')}` };
    // The first command on a new database migrates it, and loads them.
    const first = await modulesLoadedBy(['users', 'list'], env);
    expect(first.modules.filter((url) => url.includes('/src/store/migrations/2026-'))).not.toEqual([]);
    const { modules } = await modulesLoadedBy(['operators', 'list'], env);
    expect(modules.filter((url) => url.includes('/src/store/migrations/') && !url.endsWith('/src/store/migrations/names.ts'))).toEqual([]);
  });

  it('rules loads its own module, not the obligations command, the reports nor the holiday schedules', async () => {
    const { stdout, modules } = await modulesLoadedBy(['rules', '--status', 'in-force']);
    expect(stdout).toMatch(/^Instruments on \d{4}-\d{2}-\d{2}: \d+/);
    expect(commandModules(modules)).toEqual(['rules.ts']);
    // (The sources have no compiled knowledge base: here the YAML is parsed, zod and all.)
    expect(modules.filter((url) => [...heavy, '/src/rules/render.ts', '/src/rules/profile-file.ts', '/src/calendar/china.ts'].some((part) => url.includes(part)))).toEqual([]);
  });

  it('the rules loader takes a current compiled knowledge base without loading YAML, zod or the validating loader', async () => {
    const data = join(dir, 'rules-data');
    cpSync(join(root, 'src', 'rules', 'data'), data, { recursive: true });
    const { writeCompiledInstruments, loadInstruments } = await import('../src/rules/load.js');
    writeCompiledInstruments(data);
    const log = join(dir, 'rules-loader.log');
    const script = `const { loadInstrumentsLazily } = await import('./src/rules/compiled.ts'); process.stdout.write(JSON.stringify(await loadInstrumentsLazily(${JSON.stringify(data)})));`;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--import', './test/helpers/module-recorder.mjs', '--input-type=module', '-e', script], { cwd: root, env: { ...process.env, HEGUI_MODULE_LOG: log }, maxBuffer: 64 * 1024 * 1024 });
    expect(JSON.parse(stdout)).toEqual(loadInstruments(data));
    const modules = (await readFile(log, 'utf8')).split('\n').filter((url) => url.startsWith('file://'));
    expect(modules.some((url) => url.endsWith('/src/rules/compiled.ts'))).toBe(true);
    expect(modules.filter((url) => ['node_modules/yaml/', 'node_modules/zod/', '/src/rules/load.ts', '/src/rules/schema.ts'].some((part) => url.includes(part)))).toEqual([]);
  });

  it('an implicit-label subcommand does not load the visible notices (images, video, fonts)', async () => {
    const { modules } = await modulesLoadedBy(['label', 'embed', '--help']);
    expect(commandModules(modules)).toEqual(['label-implicit.ts', 'label.ts']);
    expect(modules.filter((url) => url.includes('/label/explicit/') || heavy.some((part) => url.includes(part)))).toEqual([]);
  });
});

const quietIo: CliIo = { stdout: { write: () => true }, stderr: { write: () => true }, stdin: Readable.from([]), env: {}, cwd: root };

describe('the command table', () => {
  it('lists each command with the description its module registers', async () => {
    for (const entry of commandTable) {
      const program = new Command('hegui');
      for (const register of await entry.load()) register(program, quietIo);
      const registered = program.commands.map((command) => [command.name(), command.description()]);
      expect(registered).toEqual(entry.commands.map(([name, description]) => [name, description]));
    }
  });

  it('top-level help lists every command without loading them', async () => {
    const result = await cli(['--help']);
    expect(result.code).toBe(0);
    for (const entry of commandTable) for (const [name] of entry.commands) expect(result.stdout).toContain(name);
  });

  it('help NAME loads and shows that command', async () => {
    const help = await cli(['help', 'workdays']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('add');
    expect(help.stdout).toContain('years');
  });

  it('a mistyped command is a usage error with a suggestion', async () => {
    const result = await cli(['workday']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown command 'workday'");
    expect(result.stderr).toContain('workdays');
  });
});
