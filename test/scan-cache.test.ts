/**
 * `hegui scan` compiles a keyword library once and then loads it from its cache (issue 14):
 * checked by recording the modules a real `hegui` process resolves (pinyin-pro is imported only
 * to compile pinyin variants), not by timing it (speed lives in bench/).
 */
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLibrary, serialiseLibrary } from '../src/safety/library.js';
import { exampleCacheName } from '../src/safety/library-cache.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..');
const PINYIN = 'node_modules/pinyin-pro/';

/**
 * pinyin-pro is loaded with `require` (compiling is synchronous), which the ESM resolve hooks
 * of module-recorder.mjs do not see: this preload records CommonJS loads into the same log.
 */
const cjsRecorder = `const Module = require('node:module');
const { appendFileSync } = require('node:fs');
const { pathToFileURL } = require('node:url');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (...args) {
  const file = resolve.apply(this, args);
  if (process.env.HEGUI_MODULE_LOG && file.startsWith('/')) appendFileSync(process.env.HEGUI_MODULE_LOG, pathToFileURL(file).href + '\\n');
  return file;
};
`;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hegui-scan-cache-'));
  await writeFile(join(dir, 'cjs-recorder.cjs'), cjsRecorder);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

let runs = 0;
/** Runs `hegui scan ARGS --json` as its own process; returns its report and the modules it resolved. */
async function scan(args: string[], env: Record<string, string> = {}, uid?: number): Promise<{ report: unknown; modules: string[] }> {
  const log = join(dir, `modules-${runs++}.log`);
  const { stdout } = await run(process.execPath, ['--require', join(dir, 'cjs-recorder.cjs'), '--import', 'tsx', '--import', './test/helpers/module-recorder.mjs', 'src/cli/main.ts', 'scan', '--json', ...args], {
    cwd: root,
    env: { ...process.env, HEGUI_MODULE_LOG: log, ...env },
    ...(uid === undefined ? {} : { uid, gid: uid }),
  }).catch((error: { stdout?: string; code?: number }) => {
    // Exit status 1 is a block verdict, which these texts are meant to get.
    if (error.code === 1 && error.stdout !== undefined) return { stdout: error.stdout };
    throw error;
  });
  const modules = (await readFile(log, 'utf8')).split('\n').filter((url) => url.startsWith('file://'));
  return { report: JSON.parse(stdout) as unknown, modules };
}

const text = '推荐个du bo wang zhan，还有 赌-博-网-站';

describe('hegui scan caches the compiled library', () => {
  it('the example library: pinyin-pro loads on the first run only, and both runs report the same', async () => {
    const env = { HEGUI_CACHE_DIR: join(dir, 'cache') };
    const first = await scan(['--keywords', 'example', text], env);
    expect(first.modules.some((url) => url.includes(PINYIN))).toBe(true);
    expect(await readdir(join(dir, 'cache'))).toEqual([exampleCacheName()]);
    const second = await scan(['--keywords', 'example', text], env);
    expect(second.modules.filter((url) => url.includes(PINYIN))).toEqual([]);
    expect(second.report).toEqual(first.report);
    expect((second.report as { matches: unknown[] }).matches).toHaveLength(2);
  });

  it('a library file: cached beside it, and pinyin-pro not loaded once it is', async () => {
    const lib = createLibrary('file-lib');
    lib.entries = [{ keyword: '赌博网站', risk: 'A1.8', mode: 'pinyin', severity: 'high' }];
    const path = join(dir, 'lib.json');
    await writeFile(path, serialiseLibrary(lib));
    const first = await scan(['--keywords', path, text]);
    expect(first.modules.some((url) => url.includes(PINYIN))).toBe(true);
    const second = await scan(['--keywords', path, text]);
    expect(second.modules.filter((url) => url.includes(PINYIN))).toEqual([]);
    expect(second.report).toEqual(first.report);
    expect((await readdir(dir)).filter((name) => name.startsWith('lib.json'))).toEqual(['lib.json', 'lib.json.hegui-cache']);
  });

  it('a library in a directory it cannot write to still scans, writing no cache', async () => {
    const lib = createLibrary('read-only');
    lib.entries = [{ keyword: '赌博网站', risk: 'A1.8', mode: 'pinyin', severity: 'high' }];
    const libDir = join(dir, 'ro');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(libDir);
    await writeFile(join(libDir, 'lib.json'), serialiseLibrary(lib));
    await chmod(libDir, 0o555);
    await chmod(dir, 0o777);
    // root writes anywhere: run the scan as an unprivileged user instead.
    const uid = process.getuid?.() === 0 ? 65534 : undefined;
    const result = await scan(['--keywords', join(libDir, 'lib.json'), text], { HEGUI_CACHE_DIR: join(libDir, 'cache') }, uid);
    expect((result.report as { verdict: string }).verdict).toBe('block');
    expect((result.report as { matches: unknown[] }).matches).toHaveLength(2);
    expect(await readdir(libDir)).toEqual(['lib.json']);
  });
});
