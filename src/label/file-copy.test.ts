import { execFile } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { systemTool } from '../../test/helpers/system.js';
import { embedLabel } from './api.js';
import { openSource } from './file-io.js';
import { FileChangedError, writeLargeAtomic, type LargeWriteMethod } from './file-copy.js';
import { embedLabelFile, readLabelFile, stripLabelFile } from './files.js';
import { codecFor, codecList } from './implicit/registry.js';
import { hasFfmpeg, makeMedia, probeTags, tagValue } from './implicit/media-testkit.js';
import { buildPdf, pageObjects } from './implicit/pdf-fixtures.js';
import sharp from 'sharp';

const run = promisify(execFile);
const PRODUCER = '001191350100M000100Y431A001';
const exiftool = systemTool('exiftool', 'libimage-exiftool-perl');
const dir = mkdtempSync(join(tmpdir(), 'hegui-file-copy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** About 22 MB of H.264 (constant bit rate, so the size does not depend on the picture) with AAC. */
const bigVideo = (faststart: boolean): Promise<Uint8Array> =>
  makeMedia(
    [
      ...['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '3'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '60M', '-minrate', '60M', '-maxrate', '60M', '-bufsize', '2M', '-x264-params', 'nal-hrd=cbr', '-c:a', 'aac'],
      ...(faststart ? ['-movflags', '+faststart'] : []),
    ],
    'mp4',
  );

let files = 0;
function place(bytes: Uint8Array, extension: string): string {
  const path = join(dir, `in-${files++}.${extension}`);
  writeFileSync(path, bytes);
  return path;
}

/** Labels `path` into `out` through `writeLargeAtomic`, forced one way or left to the plan. */
async function labelLarge(path: string, out: string, method?: LargeWriteMethod): Promise<LargeWriteMethod> {
  const { source, stats, mode, close } = await openSource(path);
  try {
    const codec = await codecFor(source, codecList(undefined), path);
    const written = await writeLargeAtomic(path, source, out, (sink) => embedLabel(source, { producer: PRODUCER, produceId: 'copy-1' }, { output: sink }), {
      opened: stats,
      mode,
      ...(method ? { method } : {}),
    });
    expect(written.written.path).toBe(out);
    expect(codec.format).toBeTruthy();
    return written.method;
  } finally {
    await close();
  }
}

/** Temporary files a failed write could have left in `folder`. */
const leftovers = (folder: string): string[] => readdirSync(folder).filter((name) => name.endsWith('.hegui-tmp'));

describe.skipIf(!hasFfmpeg)('large files: copied by the kernel and patched, or streamed', () => {
  it('gives an MP4 with moov at the end the same bytes either way, and picks the copy', async () => {
    const input = place(await bigVideo(false), 'mp4');
    const before = readFileSync(input);
    expect(before.length).toBeGreaterThan(15e6);
    const copied = join(dir, 'end-copied.mp4');
    const streamed = join(dir, 'end-streamed.mp4');
    expect(await labelLarge(input, copied)).toBe('copied');
    expect(await labelLarge(input, streamed, 'streamed')).toBe('streamed');
    const inMemory = (await embedLabel(before, { producer: PRODUCER, produceId: 'copy-1' })).bytes;
    const copiedBytes = readFileSync(copied);
    expect(copiedBytes.equals(readFileSync(streamed))).toBe(true);
    expect(Buffer.from(inMemory ?? []).equals(copiedBytes)).toBe(true);
    expect(readFileSync(input).equals(before)).toBe(true);
    // An independent reader finds the label.
    expect(JSON.parse(tagValue(await probeTags(copiedBytes, 'mp4'), 'AIGC') ?? '{}')).toMatchObject({ ContentProducer: PRODUCER, ProduceID: 'copy-1' });
    if (exiftool) {
      const { stdout } = await run('exiftool', ['-j', '-G1', '-a', copied], { maxBuffer: 16 << 20 });
      expect(stdout).toContain('copy-1');
    }
    expect(leftovers(dir)).toEqual([]);
  });

  it('streams an MP4 whose grown moov moves the payload, with the same bytes as the copy', async () => {
    const input = place(await bigVideo(true), 'mp4');
    const copied = join(dir, 'front-copied.mp4');
    const streamed = join(dir, 'front-streamed.mp4');
    expect(await labelLarge(input, streamed)).toBe('streamed');
    expect(await labelLarge(input, copied, 'copied')).toBe('copied');
    const bytes = readFileSync(streamed);
    expect(bytes.equals(readFileSync(copied))).toBe(true);
    expect(JSON.parse(tagValue(await probeTags(bytes, 'mp4'), 'AIGC') ?? '{}')).toMatchObject({ ProduceID: 'copy-1' });
  });

  it('labels and strips through the file API in place, as the in-memory codec does', async () => {
    const original = await bigVideo(false);
    const input = place(original, 'mp4');
    const result = await embedLabelFile(input, { producer: PRODUCER, produceId: 'copy-1' }, { inPlace: true });
    expect(result.method).toBe('rewritten');
    const inMemory = (await embedLabel(original, { producer: PRODUCER, produceId: 'copy-1' })).bytes;
    expect(Buffer.from(inMemory ?? []).equals(readFileSync(input))).toBe(true);
    expect((await readLabelFile(input)).label?.ProduceID).toBe('copy-1');
    await stripLabelFile(input, { inPlace: true });
    expect((await readLabelFile(input)).label).toBeNull();
    expect(leftovers(dir)).toEqual([]);
  });

  it.each([
    ['wav', ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=15', '-ac', '2']],
    ['flac', ['-f', 'lavfi', '-i', 'anoisesrc=sample_rate=48000:duration=10', '-ac', '2']],
  ])('gives %s above the small-file size the same bytes as the in-memory codec, the payload copied in place', async (extension, args) => {
    const original = await makeMedia(args, extension);
    expect(original.length).toBeGreaterThan(1 << 20);
    const input = place(original, extension);
    const out = join(dir, `labelled.${extension}`);
    expect(await labelLarge(input, out)).toBe('copied');
    const inMemory = (await embedLabel(original, { producer: PRODUCER, produceId: 'copy-1' })).bytes;
    expect(Buffer.from(inMemory ?? []).equals(readFileSync(out))).toBe(true);
    expect((await readLabelFile(out)).label?.ProduceID).toBe('copy-1');
    if (extension !== 'wav') expect(JSON.parse(tagValue(await probeTags(readFileSync(out), extension), 'AIGC') ?? '{}')).toMatchObject({ ProduceID: 'copy-1' });
  });

  it('streams an MKV whose Clusters move for the first label, and copies it for the next', async () => {
    const original = await makeMedia(['-f', 'lavfi', '-i', 'anoisesrc=sample_rate=48000:duration=10', '-ac', '2', '-c:a', 'pcm_s16le'], 'mkv');
    const input = place(original, 'mkv');
    const first = join(dir, 'first.mkv');
    // ffmpeg leaves no room for Tags before the Clusters: they move (matroska.ts, strategy 3).
    expect(await labelLarge(input, first)).toBe('streamed');
    const inMemory = (await embedLabel(original, { producer: PRODUCER, produceId: 'copy-1' })).bytes;
    expect(Buffer.from(inMemory ?? []).equals(readFileSync(first))).toBe(true);
    const second = join(dir, 'second.mkv');
    expect(await labelLarge(first, second)).toBe('copied');
    expect(Buffer.from((await embedLabel(readFileSync(first), { producer: PRODUCER, produceId: 'copy-1' })).bytes ?? []).equals(readFileSync(second))).toBe(true);
    expect(JSON.parse(tagValue(await probeTags(readFileSync(second), 'mkv'), 'AIGC') ?? '{}')).toMatchObject({ ProduceID: 'copy-1' });
  });
});

describe('large files whose payload stays in place: TIFF and PDF', () => {
  /** Pixels that do not compress, so the file is as large as its raw samples. */
  const noise = (bytes: number): Buffer => {
    const out = Buffer.alloc(bytes);
    for (let i = 0, x = 1; i < bytes; i++) out[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
    return out;
  };

  it.each([
    ['tif', async () => sharp(noise(1200 * 1000 * 3), { raw: { width: 1200, height: 1000, channels: 3 } }).tiff({ compression: 'none' }).toBuffer()],
    ['pdf', () => Promise.resolve(buildPdf({ objects: [...pageObjects(), { num: 5, body: `<< /Length ${3 << 20} >>\nstream\n${'x'.repeat(3 << 20)}\nendstream` }], trailer: '/Root 1 0 R', xref: 'table' }))],
  ])('gives %s the same bytes as the in-memory codec, copied and patched', async (extension, make) => {
    const original = await make();
    expect(original.length).toBeGreaterThan(1 << 20);
    const input = place(original, extension);
    const out = join(dir, `labelled.${extension}`);
    expect(await labelLarge(input, out)).toBe('copied');
    const inMemory = (await embedLabel(original, { producer: PRODUCER, produceId: 'copy-1' })).bytes;
    expect(Buffer.from(inMemory ?? []).equals(readFileSync(out))).toBe(true);
    expect((await readLabelFile(out)).label?.ProduceID).toBe('copy-1');
    if (exiftool) expect((await run('exiftool', ['-j', '-a', out], { maxBuffer: 16 << 20 })).stdout).toContain('copy-1');
  });
});

describe.skipIf(!hasFfmpeg)('large files: a failure leaves the input as it was and no temporary file', () => {
  it('a truncated input fails with a format error and writes nothing', async () => {
    const original = await bigVideo(false);
    const input = place(original, 'mp4');
    truncateSync(input, original.length - 1000);
    const before = readFileSync(input);
    const folder = join(dir, 'out-truncated');
    mkdirSync(folder);
    await expect(embedLabelFile(input, { producer: PRODUCER, produceId: 'x' }, { out: join(folder, 'x.mp4') })).rejects.toMatchObject({ code: 'E_LABEL_FORMAT' });
    await expect(embedLabelFile(input, { producer: PRODUCER, produceId: 'x' }, { inPlace: true })).rejects.toMatchObject({ code: 'E_LABEL_FORMAT' });
    expect(readFileSync(input).equals(before)).toBe(true);
    expect(readdirSync(folder)).toEqual([]);
    expect(leftovers(dir)).toEqual([]);
  });

  it('a write that fails after the copy (the target is a folder) removes the temporary file', async () => {
    const original = await bigVideo(false);
    const input = place(original, 'mp4');
    const target = join(dir, 'a-folder.mp4');
    mkdirSync(join(target, 'inside'), { recursive: true });
    await expect(labelLarge(input, target)).rejects.toThrow();
    expect(readFileSync(input).equals(Buffer.from(original))).toBe(true);
    expect(existsSync(join(target, 'inside'))).toBe(true);
    expect(leftovers(dir)).toEqual([]);
  });

  it('refuses to copy a file that changed after it was parsed', async () => {
    const input = place(await bigVideo(false), 'mp4');
    const out = join(dir, 'changed.mp4');
    const { source, stats, mode, close } = await openSource(input);
    try {
      const write = async (sink: Parameters<Parameters<typeof writeLargeAtomic>[3]>[0]): Promise<void> => {
        await embedLabel(source, { producer: PRODUCER, produceId: 'x' }, { output: sink });
        appendFileSync(input, 'more');
      };
      await expect(writeLargeAtomic(input, source, out, write, { opened: stats, mode })).rejects.toBeInstanceOf(FileChangedError);
    } finally {
      await close();
    }
    expect(existsSync(out)).toBe(false);
    expect(leftovers(dir)).toEqual([]);
  });

  it('a producer that fails part way leaves no temporary file, copied or streamed', async () => {
    const input = place(await bigVideo(true), 'mp4');
    const { source, stats, mode, close } = await openSource(input);
    try {
      for (const method of ['copied', 'streamed'] as const) {
        const fail = async (sink: Parameters<Parameters<typeof writeLargeAtomic>[3]>[0]): Promise<void> => {
          await sink.write(new Uint8Array(40 << 20));
          throw new Error('codec failed');
        };
        await expect(writeLargeAtomic(input, source, join(dir, 'failed.mp4'), fail, { opened: stats, mode, method })).rejects.toThrow('codec failed');
      }
    } finally {
      await close();
    }
    expect(existsSync(join(dir, 'failed.mp4'))).toBe(false);
    expect(leftovers(dir)).toEqual([]);
  });
});
