/**
 * `hegui label embed DIR --in-place` on a batch (issue 14): small files go through the
 * synchronous path, and the batch is no less safe than one file at a time. A file that fails
 * is reported, left untouched, and the others are labelled; a read-only file is not replaced
 * behind the user's back; and what a batch writes equals, byte for byte, what the one-file
 * command writes.
 */
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLabelFile } from '../src/label/files.js';
import { cli } from './helpers/cli.js';
import { PRODUCER, imageSamples } from './label-samples.js';

let dir: string;
let samples: Record<string, Uint8Array>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hegui-batch-'));
  samples = await imageSamples();
}, 60_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A folder of sample images (and `extra` files), in a fresh folder named `name`. */
function folder(name: string, extra: Record<string, Uint8Array> = {}): string {
  const path = join(dir, name);
  mkdirSync(join(path, 'sub'), { recursive: true });
  const files: Record<string, Uint8Array | undefined> = {
    'a.jpg': samples['plain.jpg'],
    'b.png': samples['rgb.png'],
    'c.webp': samples['lossy.webp'],
    'sub/d.jpg': samples['exif.jpg'],
    'sub/e.png': samples['rgba.png'],
    'sub/f.gif': samples['still.gif'],
    ...extra,
  };
  for (const [file, bytes] of Object.entries(files)) writeFileSync(join(path, file), bytes ?? new Uint8Array());
  return path;
}

function leftovers(path: string): string[] {
  return readdirSync(path, { recursive: true, encoding: 'utf8' }).filter((name) => name.includes('.hegui-tmp'));
}

const embed = (cwd: string, ...args: string[]): ReturnType<typeof cli> => cli(['label', 'embed', ...args, '--producer', PRODUCER, '--id', 'batch-{name}'], { cwd });

describe('hegui label embed on a folder', () => {
  it('reports a corrupt file in the middle, leaves it untouched, and labels the others', async () => {
    // A PNG signature and a chunk that runs past the end: recognised as PNG, unreadable as one.
    const corrupt = Buffer.concat([Buffer.from((samples['rgb.png'] ?? new Uint8Array()).subarray(0, 8)), Buffer.from([0, 0, 0x7f, 0xff, 0x49, 0x48, 0x44, 0x52, 1, 2, 3])]);
    const path = folder('corrupt', { 'b2-corrupt.png': corrupt });
    const result = await embed(dir, 'corrupt', '--in-place', '--json');
    expect(result.code).toBe(1);
    const records = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { file: string; status: string; error?: { code: string } });
    expect(records.map((r) => [r.file, r.status])).toEqual([
      ['corrupt/a.jpg', 'ok'],
      ['corrupt/b.png', 'ok'],
      ['corrupt/b2-corrupt.png', 'failed'],
      ['corrupt/c.webp', 'ok'],
      ['corrupt/sub/d.jpg', 'ok'],
      ['corrupt/sub/e.png', 'ok'],
      ['corrupt/sub/f.gif', 'ok'],
    ]);
    expect(records[2]?.error?.code).toMatch(/^E_LABEL_/);
    expect(result.stderr).toContain('7 files: 6 labelled, 1 failed');
    expect(readFileSync(join(path, 'b2-corrupt.png')).equals(corrupt)).toBe(true);
    for (const file of ['a.jpg', 'b.png', 'c.webp', 'sub/d.jpg', 'sub/e.png', 'sub/f.gif']) {
      expect((await readLabelFile(join(path, file))).label?.ProduceID).toBe(`batch-${file}`);
    }
    expect(leftovers(path)).toEqual([]);
  });

  it('writes, byte for byte, what the one-file command writes, whether the label is patched in or rewritten', async () => {
    const batchDir = folder('same-batch');
    const single = folder('same-single');
    const names = ['a.jpg', 'b.png', 'c.webp', 'sub/d.jpg', 'sub/e.png', 'sub/f.gif'];
    // First pass: every file is rewritten (no room for the label yet). Second pass with other
    // IDs: the label now fits where the first one is, so files are patched in place.
    for (const id of ['first-{name}', 'second-{name}']) {
      const batch = await cli(['label', 'embed', 'same-batch', '--in-place', '--producer', PRODUCER, '--id', id], { cwd: dir });
      expect(batch.code).toBe(0);
      for (const name of names) {
        const one = await cli(['label', 'embed', name, '--in-place', '--producer', PRODUCER, '--id', id.replace('{name}', name)], { cwd: single });
        expect(one.code).toBe(0);
      }
      for (const name of names) expect(readFileSync(join(batchDir, name)).equals(readFileSync(join(single, name))), `${name} after ${id}`).toBe(true);
    }
    const second = await cli(['label', 'embed', 'same-batch', '--in-place', '--producer', PRODUCER, '--id', 'third-{name}'], { cwd: dir });
    expect(second.stdout).toContain('(patched)');
    // And what the batch writes in place equals a copy written with -o.
    const out = await cli(['label', 'embed', 'same-single', '-o', 'same-out', '--producer', PRODUCER, '--id', 'third-{name}'], { cwd: dir });
    expect(out.code).toBe(0);
    for (const name of names) expect(readFileSync(join(batchDir, name)).equals(readFileSync(join(dir, 'same-out', name))), name).toBe(true);
  });

  it('keeps each file\'s permissions and times, and refuses a read-only file unless the system lets this user write it', async () => {
    const path = folder('read-only');
    chmodSync(join(path, 'b.png'), 0o444);
    chmodSync(join(path, 'a.jpg'), 0o640);
    const before = { a: statSync(join(path, 'a.jpg')), b: statSync(join(path, 'b.png')), bytes: readFileSync(join(path, 'b.png')) };
    const result = await embed(dir, 'read-only', '--in-place');
    const a = statSync(join(path, 'a.jpg'));
    expect(a.mode & 0o777).toBe(0o640);
    // Kept to the millisecond (the precision the times are set with).
    expect(Math.abs(a.mtimeMs - before.a.mtimeMs)).toBeLessThan(1);
    expect((await readLabelFile(join(path, 'a.jpg'))).label?.ProduceID).toBe('batch-a.jpg');
    expect((await readLabelFile(join(path, 'c.webp'))).label?.ProduceID).toBe('batch-c.webp');
    const root = process.getuid?.() === 0;
    if (root) {
      // root may write any file (access(2) says so), as it could before: labelled, still read-only.
      expect(result.code).toBe(0);
      expect((await readLabelFile(join(path, 'b.png'))).label?.ProduceID).toBe('batch-b.png');
    } else {
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/FAIL {2}read-only\/b\.png {2}E_LABEL_READ_ONLY: .*read-only/);
      expect(readFileSync(join(path, 'b.png')).equals(before.bytes)).toBe(true);
      expect(result.stderr).toContain('6 files: 5 labelled, 1 failed');
    }
    expect(statSync(join(path, 'b.png')).mode & 0o777).toBe(0o444);
    expect(leftovers(path)).toEqual([]);
  });

  it('shows progress on stderr only on a terminal, or with --progress', async () => {
    folder('progress');
    const quiet = await embed(dir, 'progress', '--in-place');
    expect(quiet.stderr).toBe('6 files: 6 labelled, 0 failed\n');
    const shown = await embed(dir, 'progress', '--in-place', '--progress');
    expect(shown.stderr).toContain('1/6 progress/a.jpg\n');
    expect(shown.stderr).toContain('6/6 progress/sub/f.gif\n');
    // Lines on stdout all arrive (buffered when stdout is not a terminal, flushed at the end).
    expect(shown.stdout.trim().split('\n')).toHaveLength(6);
  });

  it('names files found in the working folder itself without a prefix, and in a parent with ..', async () => {
    const path = folder('names');
    const here = await embed(path, '.', '--in-place', '--json');
    expect((JSON.parse(here.stdout.split('\n')[0] ?? '') as { file: string; output: string })).toMatchObject({ file: 'a.jpg', output: 'a.jpg' });
    const up = await embed(join(path, 'sub'), '..', '--in-place');
    expect(up.stdout.split('\n')[0]).toMatch(/^ok {4}\.\.\/a\.jpg {2}jpeg/);
    expect(up.stdout).toContain('ok    d.jpg  jpeg');
    cpSync(path, join(dir, 'names-copy'), { recursive: true });
  });
});

describe('hegui label embed --threads (worker threads prepare, the main thread writes)', () => {
  it('reports files in order, fails and skips as without threads, and writes the same bytes', async () => {
    const corrupt = Buffer.concat([Buffer.from((samples['rgb.png'] ?? new Uint8Array()).subarray(0, 8)), Buffer.from([0, 0, 0x7f, 0xff, 0x49, 0x48, 0x44, 0x52, 1, 2, 3])]);
    // Over the small-file size: the main thread labels it, as without threads.
    const large = Buffer.concat([Buffer.from(samples['plain.jpg'] ?? new Uint8Array()).subarray(0, -2), Buffer.alloc(1 << 20), Buffer.from([0xff, 0xd9])]);
    const extra = { 'b2-corrupt.png': corrupt, 'notes.bin': Buffer.from([1, 2, 3, 0, 4]), 'sub/big.jpg': large };
    const threaded = folder('threads-on', extra);
    const plain = folder('threads-off', extra);
    for (const id of ['first-{name}', 'second-{name}']) {
      const on = await cli(['label', 'embed', 'threads-on', '--in-place', '--threads', '2', '--json', '--producer', PRODUCER, '--id', id], { cwd: dir });
      const off = await cli(['label', 'embed', 'threads-off', '--in-place', '--json', '--producer', PRODUCER, '--id', id], { cwd: dir });
      expect(on.code).toBe(1);
      const records = (text: string): string[][] => text.trim().split('\n').map((line) => JSON.parse(line) as { file: string; status: string; method?: string }).map((r) => [r.file.replace(/^threads-(on|off)\//, ''), r.status, r.method ?? '']);
      expect(records(on.stdout)).toEqual(records(off.stdout));
      expect(records(on.stdout).map((r) => r[0])).toEqual(['a.jpg', 'b.png', 'b2-corrupt.png', 'c.webp', 'notes.bin', 'sub/big.jpg', 'sub/d.jpg', 'sub/e.png', 'sub/f.gif']);
      expect(on.stderr).toContain('9 files: 7 labelled, 1 failed, 1 skipped');
      for (const name of ['a.jpg', 'b.png', 'b2-corrupt.png', 'c.webp', 'notes.bin', 'sub/big.jpg', 'sub/d.jpg', 'sub/e.png', 'sub/f.gif']) {
        expect(readFileSync(join(threaded, name)).equals(readFileSync(join(plain, name))), `${name} after ${id}`).toBe(true);
      }
    }
    expect(readFileSync(join(threaded, 'b2-corrupt.png')).equals(corrupt)).toBe(true);
    expect(leftovers(threaded)).toEqual([]);
    // Into another folder too.
    const out = await cli(['label', 'embed', 'threads-off', '-o', 'threads-out', '--threads', '2', '--producer', PRODUCER, '--id', 'second-{name}'], { cwd: dir });
    expect(out.code).toBe(1);
    for (const name of ['a.jpg', 'sub/e.png', 'sub/big.jpg']) expect(readFileSync(join(dir, 'threads-out', name)).equals(readFileSync(join(plain, name))), name).toBe(true);
  });

  it('refuses --threads with a signing key, and a --threads that is not a number', async () => {
    const path = folder('threads-key');
    const before = readFileSync(join(path, 'a.jpg'));
    expect((await cli(['label', 'keygen', '--out', 'threads-key-pair'], { cwd: dir })).code).toBe(0);
    const key = await cli(['label', 'embed', 'threads-key', '--in-place', '--threads', '2', '--key', 'threads-key-pair.key.pem', '--producer', PRODUCER, '--id', 'x'], { cwd: dir });
    expect(key.code).toBe(2);
    expect(key.stderr).toContain('--threads cannot be used with --key');
    expect(readFileSync(join(path, 'a.jpg')).equals(before)).toBe(true);
    const bad = await cli(['label', 'embed', 'threads-key', '--in-place', '--threads', 'two', '--producer', PRODUCER, '--id', 'x'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--threads must be a number');
  });
});
