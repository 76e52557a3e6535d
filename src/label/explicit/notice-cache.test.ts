/**
 * The notice cache (issue 14): a notice measured and drawn once is read back the same, a
 * labelling process with a warm cache never loads the canvas, and nothing in the cache that is
 * damaged, foreign or stale is used.
 */
import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { threadId } from 'node:worker_threads';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { noisyField } from '../../../test/helpers/pixels.js';
import { loadNoticeFont, noticeFontPath } from './font.js';
import { planNotice, renderNotice } from './image-render.js';
import { chooseStyle } from './image-style.js';
import { userCacheDir } from '../../cache-dir.js';
import { entryPath, MAX_ENTRIES, readEntry, resetNoticeCacheDirectory, writeEntry } from './notice-cache.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..', '..');

let dir: string;
const before = process.env.HEGUI_CACHE_DIR;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hegui-notice-cache-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => {
  if (before === undefined) delete process.env.HEGUI_CACHE_DIR;
  else process.env.HEGUI_CACHE_DIR = before;
  resetNoticeCacheDirectory();
});

/** Points this process's notice cache at a new directory. */
function freshCache(name: string): string {
  const cache = join(dir, name);
  process.env.HEGUI_CACHE_DIR = cache;
  resetNoticeCacheDirectory();
  return join(cache, 'notices');
}

const entries = (notices: string): string[] => readdirSync(notices).filter((name) => name.endsWith('.notice'));

describe('notice cache entries', () => {
  it('reads back what was written, and refuses a truncated, damaged or foreign entry', () => {
    const notices = freshCache('entries');
    const value = Buffer.from('pixels of a notice');
    writeEntry('f'.repeat(64), 'key one', value);
    expect(readEntry('f'.repeat(64), 'key one')?.equals(value)).toBe(true);
    // In memory of its own (the entry's file and nothing else), never a slice of Node's shared pool.
    expect(readEntry('f'.repeat(64), 'key one')?.buffer.byteLength).toBe(readFileSync(join(notices, entries(notices)[0] as string)).length);
    expect(readEntry('f'.repeat(64), 'key two')).toBeUndefined();
    const [name] = entries(notices);
    const path = join(notices, name as string);
    const whole = readFileSync(path);
    for (const broken of [whole.subarray(0, whole.length - 1), Buffer.concat([whole, Buffer.from([0])]), Buffer.alloc(0), Buffer.from('HGUINC01')]) {
      writeFileSync(path, broken);
      expect(readEntry('f'.repeat(64), 'key one')).toBeUndefined();
    }
    for (const at of [0, 9, 14, whole.length - 6, whole.length - 1]) {
      const flipped = Buffer.from(whole);
      flipped[at] = (flipped[at] as number) ^ 0x10;
      writeFileSync(path, flipped);
      expect(readEntry('f'.repeat(64), 'key one'), `byte ${at}`).toBeUndefined();
    }
    // Another key's entry renamed to this key's name: its key does not match.
    writeEntry('f'.repeat(64), 'key two', value);
    const other = entries(notices).find((entry) => join(notices, entry) !== path) as string;
    copyFileSync(join(notices, other), path);
    expect(readEntry('f'.repeat(64), 'key one')).toBeUndefined();
    // A file far larger than any entry (planted, or grown by accident) is not read.
    writeFileSync(path, Buffer.alloc(5 * 1024 * 1024, 0x41));
    expect(readEntry('f'.repeat(64), 'key one')).toBeUndefined();
    // A writer killed before its rename left temporary files: an hour-old one goes at the next
    // write, one just made (another writer's, under way) stays.
    const killed = join(notices, 'killed.notice.123.0.tmp');
    const writing = join(notices, 'writing.notice.124.0.tmp');
    writeFileSync(killed, 'half');
    writeFileSync(writing, 'half');
    const hourAgo = new Date(Date.now() - 3_700_000);
    utimesSync(killed, hourAgo, hourAgo);
    // Written again, it reads again, and no temporary file of its own is left.
    writeEntry('f'.repeat(64), 'key one', value);
    expect(readEntry('f'.repeat(64), 'key one')?.equals(value)).toBe(true);
    expect(readdirSync(notices).filter((entry) => entry.endsWith('.tmp'))).toEqual(['writing.notice.124.0.tmp']);
  });

  it(`keeps at most ${MAX_ENTRIES} entries, removing the oldest written half`, () => {
    const notices = freshCache('prune');
    for (let i = 0; i < MAX_ENTRIES; i++) writeEntry('a'.repeat(64), `entry ${i}`, Buffer.from([i & 255]));
    expect(entries(notices)).toHaveLength(MAX_ENTRIES);
    // Ten entries made an hour older than the rest: they are among the half removed.
    const old = new Date(Date.now() - 3_600_000);
    const oldest = entries(notices).slice(0, 10);
    for (const name of oldest) utimesSync(join(notices, name), old, old);
    writeEntry('a'.repeat(64), 'one more', Buffer.from([1]));
    const left = entries(notices);
    expect(left).toHaveLength(MAX_ENTRIES / 2 + 1);
    for (const name of oldest) expect(left).not.toContain(name);
    expect(readEntry('a'.repeat(64), 'one more')?.equals(Buffer.from([1]))).toBe(true);
  });

  it('follows no link and reads no FIFO or device under an entry or temporary name, and writes nowhere else', () => {
    const notices = freshCache('links');
    const fingerprint = 'a'.repeat(64);
    writeEntry(fingerprint, 'warm', Buffer.from('x'));
    const path = entryPath(fingerprint, 'key') as string;
    // An entry that is a link to /dev/zero (which reports no size) or to a good entry elsewhere is not read.
    symlinkSync('/dev/zero', path);
    expect(readEntry(fingerprint, 'key')).toBeUndefined();
    rmSync(path);
    const elsewhere = join(dir, 'elsewhere.notice');
    writeEntry(fingerprint, 'key', Buffer.from('good'));
    copyFileSync(path, elsewhere);
    rmSync(path);
    symlinkSync(elsewhere, path);
    expect(readEntry(fingerprint, 'key')).toBeUndefined();
    rmSync(path);
    // A FIFO under the name: refused at once, not waited on.
    if (process.platform !== 'win32') {
      const made = spawnSync('mkfifo', [path]);
      if (made.status === 0) expect(readEntry(fingerprint, 'key')).toBeUndefined();
      rmSync(path, { force: true });
    }
    // A link planted at the temporary name this thread will write: not written through, no entry made.
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'untouched');
    symlinkSync(victim, `${path}.${process.pid}.${threadId}.tmp`);
    writeEntry(fingerprint, 'key', Buffer.from('pixels'));
    expect(readFileSync(victim, 'utf8')).toBe('untouched');
    expect(readEntry(fingerprint, 'key')).toBeUndefined();
    rmSync(`${path}.${process.pid}.${threadId}.tmp`);
    // A folder under the temporary name: the write fails quietly.
    mkdirSync(`${path}.${process.pid}.${threadId}.tmp`);
    expect(() => writeEntry(fingerprint, 'key', Buffer.from('pixels'))).not.toThrow();
    expect(readEntry(fingerprint, 'key')).toBeUndefined();
    expect(entries(notices).length).toBe(1);
  });

  it('uses no notices folder that is a link, writable by everyone, or missing a home to live in', () => {
    const target = join(dir, 'link-target');
    mkdirSync(target);
    const linked = join(dir, 'linked');
    mkdirSync(linked);
    symlinkSync(target, join(linked, 'notices'));
    process.env.HEGUI_CACHE_DIR = linked;
    resetNoticeCacheDirectory();
    writeEntry('b'.repeat(64), 'key', Buffer.from('pixels'));
    expect(entryPath('b'.repeat(64), 'key')).toBeUndefined();
    expect(readdirSync(target)).toEqual([]);
    const open = freshCache('world-writable');
    mkdirSync(open, { recursive: true });
    chmodSync(open, 0o777);
    resetNoticeCacheDirectory();
    writeEntry('b'.repeat(64), 'key', Buffer.from('pixels'));
    expect(readdirSync(open)).toEqual([]);
    // No HOME and no passwd entry for the user: os.homedir() throws, and there is simply no cache.
    expect(userCacheDir({}, () => { throw new Error('uv_os_homedir returned ENOENT (no such file or directory)'); })).toBeUndefined();
    expect(userCacheDir({ XDG_CACHE_HOME: 'relative/cache' }, () => '/home/someone')).toBe(join('/home/someone', '.cache', 'hegui'));
    expect(userCacheDir({ XDG_CACHE_HOME: '/var/cache/me' }, () => '/home/someone')).toBe(join('/var/cache/me', 'hegui'));
  });

  it('goes without a cache where its directory cannot be made, and still draws', () => {
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, 'not a directory');
    process.env.HEGUI_CACHE_DIR = join(blocker, 'cache');
    resetNoticeCacheDirectory();
    writeEntry('b'.repeat(64), 'key', Buffer.from('x'));
    expect(readEntry('b'.repeat(64), 'key')).toBeUndefined();
    const font = loadNoticeFont();
    const plan = planNotice('AI生成', { width: 640, height: 480 }, font);
    expect(renderNotice(plan, chooseStyle({ p05: 0.1, p50: 0.2, p95: 0.3 }), font).rgba.length).toBe(plan.box.width * plan.box.height * 4);
  });

  it("gives the canvas's own pixels back, and draws again over a damaged drawing", () => {
    const notices = freshCache('drawings');
    const font = loadNoticeFont();
    const plan = planNotice('AI生成', { width: 1000, height: 750 }, font);
    const style = chooseStyle({ p05: 0.05, p50: 0.5, p95: 0.95 });
    const drawn = Buffer.from(renderNotice(plan, style, font).rgba);
    const stored = entries(notices);
    expect(stored.length).toBeGreaterThan(0);
    expect(Buffer.from(renderNotice(plan, style, font).rgba).equals(drawn)).toBe(true);
    // Every entry cut short: the drawing is drawn again, the same pixels, and written whole again
    // (the ink measures stay this process's own until it ends).
    for (const name of stored) writeFileSync(join(notices, name), readFileSync(join(notices, name)).subarray(0, 20));
    expect(Buffer.from(renderNotice(plan, style, font).rgba).equals(drawn)).toBe(true);
    expect(entries(notices).filter((name) => readFileSync(join(notices, name)).length > plan.box.width * plan.box.height * 4)).toHaveLength(1);
  });
});

/** Labels `input` in a process of its own (the sources, through tsx) with the cache in `cache`; returns the bytes and whether the canvas loaded. */
async function labelInProcess(input: string, output: string, cache: string, fontPath?: string): Promise<{ bytes: Buffer; canvas: boolean }> {
  const script = join(dir, 'label-one.mts');
  writeFileSync(
    script,
    [
      `import { readFileSync, writeFileSync } from 'node:fs';`,
      `import { createRequire } from 'node:module';`,
      `import { labelImage } from ${JSON.stringify(join(root, 'src/label/explicit/image.ts'))};`,
      `const [input, output, fontPath] = process.argv.slice(2);`,
      `const result = await labelImage(readFileSync(input), { text: 'AI生成', ...(fontPath ? { fontPath } : {}) });`,
      `writeFileSync(output, result.bytes);`,
      `const canvas = Object.keys(createRequire(import.meta.url).cache).some((id) => id.includes('@napi-rs'));`,
      `process.stdout.write(JSON.stringify({ canvas, method: result.method }));`,
    ].join('\n'),
  );
  const { stdout } = await run(process.execPath, ['--import', 'tsx', script, input, output, ...(fontPath ? [fontPath] : [])], { cwd: root, env: { ...process.env, HEGUI_CACHE_DIR: cache } });
  const reply = JSON.parse(stdout) as { canvas: boolean; method: string };
  expect(reply.method).toBe('dct-splice');
  return { bytes: readFileSync(output), canvas: reply.canvas };
}

describe('a labelling process with the notice cache', () => {
  it('labels the same bytes from a warm cache as from the canvas, without loading the canvas; a font changed since misses', async () => {
    const input = join(dir, 'photo.jpg');
    await sharp(noisyField(640, 480), { raw: { width: 640, height: 480, channels: 3 } }).jpeg({ quality: 85 }).toFile(input);
    const cache = join(dir, 'process-cache');
    const cold = await labelInProcess(input, join(dir, 'cold.jpg'), cache);
    expect(cold.canvas).toBe(true);
    const warm = await labelInProcess(input, join(dir, 'warm.jpg'), cache);
    expect(warm.canvas).toBe(false);
    expect(warm.bytes.equals(cold.bytes)).toBe(true);
    // The same font at the same path, touched: its fingerprint changed, so everything is drawn again (the same pixels).
    const fonts = join(dir, 'fonts');
    mkdirSync(fonts, { recursive: true });
    const font = join(fonts, 'notice.otf');
    copyFileSync(noticeFontPath(), font);
    const first = await labelInProcess(input, join(dir, 'font-1.jpg'), cache, font);
    expect(first.canvas).toBe(true);
    expect((await labelInProcess(input, join(dir, 'font-2.jpg'), cache, font)).canvas).toBe(false);
    const later = new Date(Date.now() + 60_000);
    utimesSync(font, later, later);
    const touched = await labelInProcess(input, join(dir, 'font-3.jpg'), cache, font);
    expect(touched.canvas).toBe(true);
    expect(touched.bytes.equals(first.bytes)).toBe(true);
  }, 60_000);
});
