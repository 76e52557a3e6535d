/**
 * The image pool behind `hegui label visible` on a batch (issue 14): threads that label images
 * give the same bytes as labelling in this thread, whether they read the file or are handed its
 * bytes (moved, not copied, when asked); their failures come back with the code of the error
 * they hit; and the CLI reports a folder's files in order, a broken one among them failed while
 * the rest are labelled, writes a file in place only if it is still the one read, refuses a named
 * pipe rather than waiting on it, and leaves no temporary file when it is killed mid-batch.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeLabelled } from '../src/cli/label-visible.js';
import { HeguiError } from '../src/errors.js';
import { labelImage, openImageLabelPool, poolable, type ImageLabelPool } from '../src/label/explicit/index.js';
import { createLabel } from '../src/label/model.js';
import { cli } from './helpers/cli.js';
import { rawImage } from './label-explicit-samples.js';
import { PRODUCER } from './label-samples.js';

const dir = mkdtempSync(join(tmpdir(), 'hegui-explicit-pool-'));
const folder = join(dir, 'in');
const names = ['a.jpg', 'b.jpg', 'c-broken.jpg', 'd.png', 'e.jpg'];
let pool: ImageLabelPool;

beforeAll(async () => {
  mkdirSync(folder, { recursive: true });
  for (const [i, name] of names.entries()) {
    const image = rawImage(320 + i * 16, 240, i % 2 === 0 ? 'busy' : 'light', i + 1);
    const bytes = name.endsWith('.png') ? await image.png().toBuffer() : await image.jpeg({ quality: 82 }).toBuffer();
    // A JPEG cut off in its scan: the headers read, the pixels do not.
    writeFileSync(join(folder, name), name.includes('broken') ? bytes.subarray(0, Math.floor(bytes.length / 3)) : bytes);
  }
  pool = await openImageLabelPool(2);
});

afterAll(async () => {
  await pool.close();
});

const root = resolve(import.meta.dirname, '..');
const temporaries = (at: string): string[] => readdirSync(at).filter((name) => name.endsWith('.hegui-tmp'));

describe('image label pool', () => {
  it('labels in a thread exactly as in this one', async () => {
    for (const name of ['a.jpg', 'd.png']) {
      const path = join(folder, name);
      const options = { language: 'en' as const, position: 'top-left' as const };
      const [pooled, here] = await Promise.all([pool.label(path, options), labelImage(readFileSync(path), options)]);
      expect(pooled.notice).toBe(here.notice);
      expect(pooled.box).toEqual(here.box);
      expect(Buffer.from(pooled.bytes).equals(Buffer.from(here.bytes))).toBe(true);
    }
  });

  it('writes an implicit label request sent to a thread', async () => {
    const implicit = { label: '1' as const, producer: PRODUCER, produceId: 'pool-1' };
    expect(poolable({ implicit })).toBe(true);
    const result = await pool.label(join(folder, 'e.jpg'), { implicit });
    expect(result.implicit?.ProduceID).toBe('pool-1');
    expect(result.implicit).toEqual(createLabel({ producer: PRODUCER, produceId: 'pool-1' }));
  });

  it('refuses options that cannot cross threads', () => {
    expect(poolable({ implicit: { producer: PRODUCER, produceId: 'x', key: { algorithm: 'ed25519', keyId: 'k', sign: () => new Uint8Array(), publicKey: {} } as never } })).toBe(false);
    expect(poolable({ language: 'zh', quality: 80 })).toBe(true);
  });

  it("gives back a thread's failure with its code", async () => {
    const failure = await pool.label(join(folder, 'c-broken.jpg'), {}).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(HeguiError);
    expect((failure as HeguiError).code).toBe('E_LABEL_IMAGE_DECODE');
    const missing = await pool.label(join(folder, 'nothing.jpg'), {}).catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(Error);
  });

  it('labels a folder through the pool, reporting files in order and failing only the broken one', async () => {
    const out = join(dir, 'out');
    const result = await cli(['label', 'visible', folder, '-o', out, '--json'], { cwd: dir });
    expect(result.code, result.stderr).toBe(1);
    const records = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { file: string; status: string; error?: { code: string } });
    expect(records.map((r) => [r.file, r.status])).toEqual(names.map((name) => [`in/${name}`, name.includes('broken') ? 'failed' : 'ok']));
    expect(records.find((r) => r.status === 'failed')?.error?.code).toBe('E_LABEL_IMAGE_DECODE');
    expect(result.stderr).toMatch(/5 files: 4 labelled, 1 failed/);
    for (const name of names.filter((n) => !n.includes('broken'))) expect(readFileSync(join(out, name)).length).toBeGreaterThan(0);
  });

  it('labels a batch of JPEGs byte for byte as one file at a time, the main thread walking the scans of those queued', async () => {
    const batch = join(dir, 'walked');
    mkdirSync(batch, { recursive: true });
    const sources = ['a.jpg', 'b.jpg', 'e.jpg'];
    const copies = Array.from({ length: 12 }, (_, i) => `${String(i).padStart(2, '0')}-${sources[i % 3] as string}`);
    for (const [i, name] of copies.entries()) writeFileSync(join(batch, name), readFileSync(join(folder, sources[i % 3] as string)));
    const out = join(dir, 'walked-out');
    const result = await cli(['label', 'visible', batch, '-o', out, '--position', 'top-left'], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    for (const [i, name] of copies.entries()) {
      const expected = await labelImage(readFileSync(join(folder, sources[i % 3] as string)), { position: 'top-left' });
      expect(expected.method).toBe('dct-splice');
      expect(readFileSync(join(out, name)).equals(Buffer.from(expected.bytes)), name).toBe(true);
    }
  });

  it('says which method labelled each JPEG: the DCT-block splice by default (and with --splice), the whole re-encode with --reencode', async () => {
    const method = async (extra: string[], out: string): Promise<(string | undefined)[]> => {
      const result = await cli(['label', 'visible', folder, '-o', join(dir, out), '--json', ...extra], { cwd: dir });
      const records = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { file: string; format?: string; method?: string });
      return records.filter((r) => r.format === 'jpeg').map((r) => r.method);
    };
    for (const [extra, out] of [[[], 'out-default'], [['--splice'], 'out-splice']] as const) {
      const spliced = await method([...extra], out);
      expect(spliced.length).toBeGreaterThan(0);
      expect(spliced.every((m) => m === 'dct-splice' || m === 'reencode')).toBe(true);
      expect(spliced).toContain('dct-splice');
    }
    expect(new Set(await method(['--reencode'], 'out-reencode'))).toEqual(new Set(['reencode']));
  });
  it('labels bytes handed to a thread as it labels the file, moving their buffer only when asked and when they fill it', async () => {
    const path = join(folder, 'a.jpg');
    const here = await labelImage(readFileSync(path), {});
    const own = new Uint8Array(readFileSync(path));
    const moved = await pool.label(own, {}, { transfer: true });
    expect(own.byteLength).toBe(0);
    expect(Buffer.from(moved.bytes).equals(Buffer.from(here.bytes))).toBe(true);
    // A view of a larger buffer is copied: the caller's bytes stay.
    const file = readFileSync(path);
    const larger = new Uint8Array(file.length + 10);
    larger.set(file, 5);
    const view = larger.subarray(5, 5 + file.length);
    const copied = await pool.label(view, {}, { transfer: true });
    expect(view.byteLength).toBe(file.length);
    expect(Buffer.from(copied.bytes).equals(Buffer.from(here.bytes))).toBe(true);
    // Without `transfer` the caller keeps its bytes.
    const kept = new Uint8Array(readFileSync(path));
    await pool.label(kept, {});
    expect(kept.byteLength).toBe(file.length);
  });

  it("walks a JPEG's scan in this thread while a thread has images waiting, and the labelled bytes are the same", async () => {
    const paths = ['a.jpg', 'e.jpg', 'b.jpg', 'a.jpg', 'e.jpg', 'b.jpg', 'd.png'].map((name) => join(folder, name));
    const two = await openImageLabelPool(2, { walkScans: true });
    try {
      for (const options of [{}, { position: 'top-left' as const }, { position: 'bottom' as const, language: 'en' as const }]) {
        const here = await Promise.all(paths.map(async (path) => Buffer.from((await labelImage(readFileSync(path), options)).bytes)));
        const before = two.scansWalked;
        const pooled = await Promise.all(paths.map((path) => two.label(new Uint8Array(readFileSync(path)), options, { transfer: true })));
        expect(pooled.map((result, i) => Buffer.from(result.bytes).equals(here[i] as Buffer))).toEqual(paths.map(() => true));
        // While the threads had not answered yet every JPEG was walked here (not the PNG); once
        // both had, the first four went to idle threads or behind one image, and only the JPEGs
        // queued behind two were (the fifth and sixth; the seventh is the PNG).
        expect(two.scansWalked - before).toBe(before === 0 ? 6 : 2);
      }
    } finally {
      await two.close();
    }
    const one = await openImageLabelPool(1, { walkScans: true });
    try {
      for (const options of [{}, { position: 'top-left' as const }]) {
        const here = await Promise.all(paths.map(async (path) => Buffer.from((await labelImage(readFileSync(path), options)).bytes)));
        const before = one.scansWalked;
        const pooled = await Promise.all(paths.map((path) => one.label(new Uint8Array(readFileSync(path)), options, { transfer: true })));
        expect(pooled.map((result, i) => Buffer.from(result.bytes).equals(here[i] as Buffer))).toEqual(paths.map(() => true));
        // A pool of one thread: every baseline JPEG is walked here, whether or not the thread has answered.
        expect(one.scansWalked - before).toBe(6);
      }
      // A progressive JPEG's scans are decoded here, its coefficients moved to the thread: the same bytes as labelling it here.
      const progressive = await sharp(readFileSync(join(folder, 'a.jpg'))).jpeg({ quality: 80, progressive: true }).toBuffer();
      const expected = await labelImage(progressive, {});
      expect(expected.method).toBe('dct-splice');
      const walkedBefore = one.scansWalked;
      const results = await Promise.all([0, 1, 2, 3, 4].map(() => one.label(new Uint8Array(progressive), {}, { transfer: true })));
      expect(results.map((result) => Buffer.from(result.bytes).equals(Buffer.from(expected.bytes)))).toEqual([true, true, true, true, true]);
      expect(one.scansWalked - walkedBefore).toBe(3);
      // Paths are read in the thread, and a re-encode needs no walk.
      const before = one.scansWalked;
      await Promise.all(paths.map((path) => one.label(path, {})));
      await Promise.all(paths.map((path) => one.label(readFileSync(path), { jpegMethod: 'reencode' })));
      expect(one.scansWalked).toBe(before);
    } finally {
      await one.close();
    }
    // By default the caller's thread walks nothing (a server's event loop stays free).
    await Promise.all(paths.slice(0, 5).map((path) => pool.label(readFileSync(path), {})));
    expect(pool.scansWalked).toBe(0);
  });

  it('adds its progressive threads at the first progressive JPEG, which the threads then decode themselves: the same bytes', async () => {
    const grows = await openImageLabelPool(1, { walkScans: true, progressiveThreads: 1 });
    try {
      // Baseline JPEGs and paths: no thread added.
      const paths = ['a.jpg', 'e.jpg', 'b.jpg', 'd.png'].map((name) => join(folder, name));
      await Promise.all(paths.map((path) => grows.label(new Uint8Array(readFileSync(path)), {}, { transfer: true })));
      expect(grows.threads).toBe(1);
      const walked = grows.scansWalked;
      const progressive = await sharp(readFileSync(join(folder, 'a.jpg'))).jpeg({ quality: 80, progressive: true }).toBuffer();
      const expected = await labelImage(progressive, {});
      const results = await Promise.all([0, 1, 2, 3, 4, 5].map(() => grows.label(new Uint8Array(progressive), {}, { transfer: true })));
      expect(results.map((result) => Buffer.from(result.bytes).equals(Buffer.from(expected.bytes)))).toEqual(results.map(() => true));
      expect(grows.threads).toBe(2);
      expect(grows.scansWalked).toBe(walked);
      // Baseline JPEGs are still walked here while a thread has images waiting, and spread over both threads.
      const again = await Promise.all(['a.jpg', 'e.jpg', 'b.jpg', 'a.jpg', 'e.jpg', 'b.jpg'].map((name) => grows.label(new Uint8Array(readFileSync(join(folder, name))), {}, { transfer: true })));
      expect(again).toHaveLength(6);
      expect(grows.threads).toBe(2);
    } finally {
      await grows.close();
    }
    // Without walking, no thread is added.
    const plain = await openImageLabelPool(1, { progressiveThreads: 1 });
    try {
      await plain.label(new Uint8Array(await sharp(readFileSync(join(folder, 'a.jpg'))).jpeg({ progressive: true }).toBuffer()), {});
      expect(plain.threads).toBe(1);
    } finally {
      await plain.close();
    }
  });

  it('reuses the buffers of results given back, and leaves alone bytes it did not make', async () => {
    const paths = ['a.jpg', 'e.jpg', 'a.jpg', 'e.jpg', 'a.jpg'].map((name) => join(folder, name));
    const expected = await Promise.all(paths.map(async (path) => Buffer.from((await labelImage(readFileSync(path), {})).bytes)));
    for (const [i, path] of paths.entries()) {
      const result = await pool.label(path, {});
      expect(Buffer.from(result.bytes).equals(expected[i] as Buffer), path).toBe(true);
      pool.release(result.bytes);
    }
    const mine = new Uint8Array(readFileSync(paths[0] as string));
    pool.release(mine);
    await pool.label(paths[1] as string, {});
    expect(Buffer.from(mine).equals(readFileSync(paths[0] as string))).toBe(true);
  });

  it('refuses work once closed, with a thread error', async () => {
    const closing = await openImageLabelPool(1);
    await closing.close();
    const refused = await closing.label(join(folder, 'a.jpg'), {}).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(HeguiError);
    expect((refused as HeguiError).code).toBe('E_LABEL_THREAD');
  });

  it('in place, a batch with a broken file in the middle reports it, labels the others, and leaves the broken one and no temporary file', async () => {
    const inPlace = join(dir, 'in-place');
    mkdirSync(inPlace);
    const before = new Map(names.map((name) => [name, readFileSync(join(folder, name))]));
    for (const [name, bytes] of before) writeFileSync(join(inPlace, name), bytes);
    const result = await cli(['label', 'visible', inPlace, '--in-place', '--json'], { cwd: dir });
    expect(result.code).toBe(1);
    const records = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { file: string; status: string; error?: { code: string } });
    expect(records.map((r) => [r.file, r.status])).toEqual(names.map((name) => [`in-place/${name}`, name.includes('broken') ? 'failed' : 'ok']));
    for (const [name, bytes] of before) {
      if (name.includes('broken')) expect(readFileSync(join(inPlace, name)).equals(bytes)).toBe(true);
      else expect(readFileSync(join(inPlace, name)).equals(bytes)).toBe(false);
    }
    expect(temporaries(inPlace)).toEqual([]);
  });

  it('writes in place only over the file it read: one changed meanwhile is left as it is', async () => {
    const path = join(dir, 'changing.jpg');
    writeFileSync(path, readFileSync(join(folder, 'a.jpg')));
    const read = statSync(path);
    const labelled = (await labelImage(readFileSync(path), {})).bytes;
    writeFileSync(path, 'written by another program');
    utimesSync(path, read.atime, new Date(read.mtimeMs + 5000));
    const refused = await writeLabelled(path, labelled, read).catch((error: unknown) => error);
    expect((refused as HeguiError).code).toBe('E_LABEL_FILE_CHANGED');
    expect(readFileSync(path, 'utf8')).toBe('written by another program');
    expect(temporaries(dir)).toEqual([]);
    // The file as read is replaced, and keeps its times.
    const again = statSync(path);
    await writeLabelled(path, labelled, again);
    expect(readFileSync(path).equals(Buffer.from(labelled))).toBe(true);
    expect(statSync(path).mtimeMs).toBe(again.mtimeMs);
  });

  it.runIf(spawnSync('mkfifo', ['--version']).status === 0)('refuses a named pipe given by name rather than waiting on it, and labels the other files', async () => {
    const pipe = join(dir, 'pipe.jpg');
    expect(spawnSync('mkfifo', [pipe]).status).toBe(0);
    const result = await cli(['label', 'visible', pipe, join(folder, 'a.jpg'), '-o', join(dir, 'out-pipe'), '--json'], { cwd: dir });
    expect(result.code).toBe(1);
    const records = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { status: string; error?: { code: string } });
    expect(records.map((r) => [r.status, r.error?.code])).toEqual([
      ['failed', 'E_LABEL_NOT_A_FILE'],
      ['ok', undefined],
    ]);
  });
});

describe('an interrupted batch', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('%s mid-batch leaves no temporary file, and every image whole: labelled or as it was', async (signal) => {
    const batchDir = mkdtempSync(join(tmpdir(), 'hegui-pool-signal-'));
    const pictures = await Promise.all([1, 2, 3, 4].map((seed) => rawImage(480, 360, seed % 2 === 0 ? 'busy' : 'light', seed).jpeg({ quality: 85 }).toBuffer()));
    const originals = Array.from({ length: 120 }, (_, i) => pictures[i % pictures.length] as Buffer);
    for (const [i, bytes] of originals.entries()) writeFileSync(join(batchDir, `p${String(i).padStart(3, '0')}.jpg`), bytes);
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'label', 'visible', batchDir, '--in-place'], { cwd: root, stdio: 'ignore' });
    const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.once('exit', (code, sig) => done({ code, signal: sig })));
    // Killed once the first files are labelled, well before the last.
    await new Promise<void>((done, fail) => {
      const started = Date.now();
      const timer = setInterval(() => {
        if (!readFileSync(join(batchDir, 'p000.jpg')).equals(originals[0] as Buffer)) {
          clearInterval(timer);
          done();
        } else if (Date.now() - started > 60_000 || child.exitCode !== null) {
          clearInterval(timer);
          fail(new Error(`the batch ended or timed out before its first file was labelled (exit ${child.exitCode})`));
        }
      }, 10);
    });
    child.kill(signal);
    expect((await ended).signal).toBe(signal);
    expect(temporaries(batchDir)).toEqual([]);
    let labelled = 0;
    for (const [i, original] of originals.entries()) {
      const now = readFileSync(join(batchDir, `p${String(i).padStart(3, '0')}.jpg`));
      if (now.equals(original)) continue;
      labelled++;
      // A labelled file is whole: it decodes to the full picture.
      const { width, height } = await sharp(now, { failOn: 'error' }).raw().toBuffer({ resolveWithObject: true }).then((r) => r.info);
      expect([width, height]).toEqual([480, 360]);
    }
    expect(labelled).toBeGreaterThan(0);
    expect(labelled).toBeLessThan(originals.length);
  }, 120_000);
});
