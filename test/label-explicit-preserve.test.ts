/**
 * A visible notice changes the pixels under it and nothing else about the file (issue 11): an
 * animated PNG keeps every frame or is refused, a 16-bit PNG stays 16-bit (with its 16-bit
 * values), a CMYK JPEG stays CMYK, ICC profiles and EXIF survive byte for byte, and a
 * faststart MP4 keeps its index (moov) before the media data. Every file is made in the test.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { checkExplicitLabel, labelAudioFile, labelImage, labelVideoFile } from '../src/label/explicit/index.js';
import { PRODUCER } from './label-samples.js';
import { pixels } from './label-explicit-samples.js';
import { systemTool } from './helpers/system.js';

const hasFfmpeg = systemTool('ffmpeg', 'ffmpeg');

function ffmpeg(args: string[]): void {
  const run = spawnSync('ffmpeg', ['-v', 'error', '-nostdin', '-y', ...args], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`ffmpeg failed: ${run.stderr}`);
}

/** The order of the top-level boxes of an MP4 file. */
function topLevelBoxes(bytes: Buffer): string[] {
  const names: string[] = [];
  for (let at = 0; at + 8 <= bytes.length; ) {
    let size = bytes.readUInt32BE(at);
    if (size === 1) size = Number(bytes.readBigUInt64BE(at + 8));
    if (size === 0) size = bytes.length - at;
    names.push(bytes.toString('latin1', at + 4, at + 8));
    at += size;
  }
  return names;
}

/** Frames an APNG declares in its acTL chunk (0 for a still PNG). */
function apngFrames(bytes: Buffer): number {
  const at = bytes.indexOf('acTL', 8, 'latin1');
  return at < 0 ? 0 : bytes.readUInt32BE(at + 4);
}

/** The Compression tag (259) of a TIFF's first IFD. */
function tiffCompression(bytes: Buffer): number {
  const little = bytes.toString('latin1', 0, 2) === 'II';
  const u16 = (at: number): number => (little ? bytes.readUInt16LE(at) : bytes.readUInt16BE(at));
  const ifd = little ? bytes.readUInt32LE(4) : bytes.readUInt32BE(4);
  for (let i = 0; i < u16(ifd); i++) {
    const at = ifd + 2 + i * 12;
    if (u16(at) === 259) return u16(at + 8);
  }
  return 1;
}

/** A picture with 16-bit detail: neighbouring values differ below 8-bit resolution. */
function sixteenBit(width: number, height: number): Uint16Array {
  const data = new Uint16Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7919 + (i % 3) * 257 + 3) % 65536;
  return data;
}

describe('images keep what they are', () => {
  it.runIf(hasFfmpeg)('an animated PNG keeps every frame, never flattened to one (test/label-apng.test.ts has the rest)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hegui-apng-'));
    const path = join(dir, 'anim.png');
    ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=5', '-frames:v', '3', '-plays', '0', '-f', 'apng', path]);
    const bytes = readFileSync(path);
    expect(apngFrames(bytes)).toBe(3);
    const result = await labelImage(bytes);
    expect(result.frames).toBe(3);
    expect(apngFrames(Buffer.from(result.bytes))).toBe(3);
  });

  it('a 16-bit PNG stays 16-bit, its pixels away from the notice unchanged', async () => {
    const width = 320;
    const height = 240;
    const source = await sharp(sixteenBit(width, height), { raw: { width, height, channels: 3 } }).toColourspace('rgb16').png().toBuffer();
    expect((await sharp(source).metadata()).depth).toBe('ushort');
    const result = await labelImage(source, { position: 'bottom-right' });
    const meta = await sharp(result.bytes).metadata();
    expect(meta).toMatchObject({ format: 'png', depth: 'ushort', width, height, channels: 3 });
    const samples = async (png: Uint8Array): Promise<Uint16Array> => {
      const raw = await sharp(png).raw({ depth: 'ushort' }).toBuffer();
      return new Uint16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
    };
    const before = await samples(source);
    const after = await samples(result.bytes);
    expect(before.some((value) => value % 257 !== 0), 'the source has detail below 8 bits').toBe(true);
    // Away from the notice (the top half), every sample is as it was: nothing went through 8 bits.
    expect(Array.from(after.subarray(0, (width * height * 3) / 2))).toEqual(Array.from(before.subarray(0, (width * height * 3) / 2)));
  });

  it('an RGB PNG gains no alpha channel, a greyscale PNG stays greyscale', async () => {
    const source = await sharp(pixels(200, 150, 'grey'), { raw: { width: 200, height: 150, channels: 3 } }).png().toBuffer();
    expect(await sharp((await labelImage(source)).bytes).metadata()).toMatchObject({ channels: 3, hasAlpha: false });
    const grey = await sharp(pixels(200, 150, 'busy'), { raw: { width: 200, height: 150, channels: 3 } }).toColourspace('b-w').png().toBuffer();
    expect(await sharp(grey).metadata()).toMatchObject({ channels: 1, space: 'b-w' });
    expect(await sharp((await labelImage(grey)).bytes).metadata()).toMatchObject({ channels: 1, space: 'b-w', hasAlpha: false });
  });

  it('a CMYK JPEG stays CMYK, with its profile', async () => {
    const source = await sharp(pixels(400, 300, 'busy'), { raw: { width: 400, height: 300, channels: 3 } }).withIccProfile('cmyk').toColourspace('cmyk').jpeg({ quality: 90 }).toBuffer();
    const before = await sharp(source).metadata();
    expect(before.space).toBe('cmyk');
    const result = await labelImage(source);
    const after = await sharp(result.bytes).metadata();
    expect(after).toMatchObject({ format: 'jpeg', space: 'cmyk', channels: 4 });
    expect(after.icc?.equals(before.icc as Buffer)).toBe(true);
  });

  it.each(['jpeg', 'png', 'webp'] as const)('a %s keeps its ICC profile and EXIF byte for byte', async (format) => {
    const base = sharp(pixels(300, 200, 'busy'), { raw: { width: 300, height: 200, channels: 3 } })
      .withIccProfile('p3')
      .withExif({ IFD0: { Copyright: 'Example Studio', Artist: 'hegui test', Software: 'made-in-test' } });
    const source = await base.toFormat(format).toBuffer();
    const before = await sharp(source).metadata();
    expect(before.icc).toBeDefined();
    const result = await labelImage(source, { implicit: { producer: PRODUCER, produceId: 'keep-1' } });
    const after = await sharp(result.bytes).metadata();
    expect(after.icc?.equals(before.icc as Buffer), 'ICC profile').toBe(true);
    const exif = after.exif?.toString('latin1') ?? '';
    expect(exif).toContain('Example Studio');
    expect(exif).toContain('made-in-test');
    expect(result.implicit?.ProduceID).toBe('keep-1');
  });
});

describe('TIFF takes a visible notice and stays what it was', () => {
  it.each(['lzw', 'deflate', 'none'] as const)('a %s-compressed TIFF keeps its compression, ICC profile and implicit label', async (compression) => {
    const source = await sharp(pixels(400, 300, 'busy'), { raw: { width: 400, height: 300, channels: 3 } }).withIccProfile('p3').tiff({ compression }).toBuffer();
    const result = await labelImage(source, { implicit: { producer: PRODUCER, produceId: 'tif-1' } });
    expect(result.format).toBe('tiff');
    const before = await sharp(source).metadata();
    const after = await sharp(result.bytes).metadata();
    expect(after).toMatchObject({ format: 'tiff', width: 400, height: 300, channels: 3, space: 'srgb' });
    expect(tiffCompression(Buffer.from(result.bytes))).toBe(tiffCompression(source));
    expect(after.icc?.equals(before.icc as Buffer)).toBe(true);
    expect(result.implicit?.ProduceID).toBe('tif-1');
    const report = await checkExplicitLabel(result.bytes, { ocr: false });
    expect(report.rules.filter((rule) => rule.status === 'fail')).toEqual([]);
    expect(report.rules.find((rule) => rule.rule === 'image.height')?.status).toBe('pass');
  });

  it.runIf(systemTool('exiftool', 'libimage-exiftool-perl'))('a TIFF with EXIF, which the encoder would drop, is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hegui-tiff-exif-'));
    const path = join(dir, 'camera.tif');
    writeFileSync(path, await sharp(pixels(200, 150, 'busy'), { raw: { width: 200, height: 150, channels: 3 } }).tiff({ compression: 'lzw' }).toBuffer());
    const tagged = spawnSync('exiftool', ['-q', '-overwrite_original', '-Copyright=Example Studio', '-ExifIFD:UserComment=hello', path]);
    expect(tagged.status).toBe(0);
    await expect(labelImage(readFileSync(path))).rejects.toMatchObject({ code: 'E_LABEL_TIFF_METADATA', message: expect.stringMatching(/Copyright, EXIF IFD/) });
  });

  it('a multi-page TIFF is refused, never cut to its first page', async () => {
    const page = (seed: number): Promise<Buffer> => sharp(pixels(120, 90, 'busy', seed), { raw: { width: 120, height: 90, channels: 3 } }).png().toBuffer();
    const pages = await sharp([await page(1), await page(2)], { join: { animated: true } }).tiff().toBuffer();
    expect((await sharp(pages).metadata()).pages).toBe(2);
    await expect(labelImage(pages)).rejects.toMatchObject({ code: 'E_LABEL_MULTIPAGE_TIFF' });
  });
});

describe('AVIF takes a visible notice', () => {
  it('an AVIF stays AVIF (AV1), with its ICC profile, EXIF and implicit label', async () => {
    const source = await sharp(pixels(400, 300, 'busy'), { raw: { width: 400, height: 300, channels: 3 } })
      .withIccProfile('p3')
      .withExif({ IFD0: { Copyright: 'Example Studio' } })
      .avif({ quality: 70 })
      .toBuffer();
    const result = await labelImage(source, { implicit: { producer: PRODUCER, produceId: 'avif-1' } });
    const before = await sharp(source).metadata();
    const after = await sharp(result.bytes).metadata();
    expect(after).toMatchObject({ format: 'heif', compression: 'av1', width: 400, height: 300 });
    expect(after.icc?.equals(before.icc as Buffer)).toBe(true);
    expect(after.exif?.toString('latin1')).toContain('Example Studio');
    expect(result.implicit?.ProduceID).toBe('avif-1');
    const report = await checkExplicitLabel(result.bytes, { ocr: false });
    expect(report.rules.find((rule) => rule.rule === 'image.height')?.status).toBe('pass');
    expect(report.rules.filter((rule) => rule.status === 'fail')).toEqual([]);
  });
});

describe.runIf(hasFfmpeg)('video keeps its layout', () => {
  it('a faststart MP4 stays faststart (moov before mdat), with and without the implicit label', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hegui-faststart-'));
    const source = join(dir, 'fast.mp4');
    ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10', '-t', '3', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', source]);
    const order = (path: string): string[] => topLevelBoxes(readFileSync(path)).filter((name) => name === 'moov' || name === 'mdat');
    expect(order(source)).toEqual(['moov', 'mdat']);
    await labelVideoFile(source, { out: join(dir, 'visible.mp4'), quality: { preset: 'ultrafast' } });
    expect(order(join(dir, 'visible.mp4'))).toEqual(['moov', 'mdat']);
    await labelVideoFile(source, { out: join(dir, 'all.mp4'), quality: { preset: 'ultrafast' }, implicit: { producer: PRODUCER, produceId: 'v-1' } });
    expect(order(join(dir, 'all.mp4'))).toEqual(['moov', 'mdat']);
    // A source with its index at the end keeps that layout too (nothing is moved that need not be).
    const tail = join(dir, 'tail.mp4');
    ffmpeg(['-i', source, '-c', 'copy', tail]);
    expect(order(tail)).toEqual(['mdat', 'moov']);
    await labelVideoFile(tail, { out: join(dir, 'tail-out.mp4'), quality: { preset: 'ultrafast' } });
    expect(order(join(dir, 'tail-out.mp4'))).toEqual(['mdat', 'moov']);
  });

  it('a faststart M4A stays faststart after the audio notice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hegui-faststart-m4a-'));
    const source = join(dir, 'voice.m4a');
    ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440:duration=4', '-c:a', 'aac', '-b:a', '96k', '-movflags', '+faststart', source]);
    const order = (path: string): string[] => topLevelBoxes(readFileSync(path)).filter((name) => name === 'moov' || name === 'mdat');
    expect(order(source)).toEqual(['moov', 'mdat']);
    await labelAudioFile(source, { out: join(dir, 'out.m4a') });
    expect(order(join(dir, 'out.m4a'))).toEqual(['moov', 'mdat']);
  });
});
