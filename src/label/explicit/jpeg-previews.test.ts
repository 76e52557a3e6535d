/**
 * A labelled JPEG keeps no picture without the notice (`jpeg-previews.ts`): the EXIF thumbnail
 * (written by exiftool, both byte orders) is made again from the labelled picture on the splice
 * and the re-encoding paths; a malformed IFD1 or EXIF loses its thumbnail without a crash and
 * without the old thumbnail's bytes surviving; a Photoshop thumbnail in APP13 is zeroed; an MPF
 * file (built here: primary JPEG, APP2 MPF index, a second JPEG appended) loses its index with
 * the pictures after the primary one. In PNG, WebP, AVIF and HEIC the EXIF thumbnail is made
 * again in place.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { systemTool } from '../../../test/helpers/system.js';
import { checkExplicitLabel } from './check.js';
import { headerSegments } from './image-jpeg.js';
import { labelImage, type ImageLabelResult } from './image.js';
import { labelledPreviews, pictureEnd } from './jpeg-previews.js';
import { noisyField as pixels } from '../../../test/helpers/pixels.js';

const exiftool = systemTool('exiftool', 'libimage-exiftool-perl');
const heifEnc = systemTool('heif-enc', 'libheif-examples') && systemTool('heif-convert', 'libheif-examples');
const dir = mkdtempSync(join(tmpdir(), 'hegui-previews-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const jpeg = (width: number, height: number, noise?: number): Promise<Buffer> => sharp(pixels(width, height, noise), { raw: { width, height, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();

let files = 0;
/** Runs exiftool on a copy of `bytes` and returns the copy (`args` edit it) or exiftool's output. */
function withExiftool(bytes: Uint8Array, args: string[], read = false): Buffer {
  const head = Buffer.from(bytes.subarray(0, 12)).toString('latin1');
  const extension = head.startsWith('\x89PNG') ? 'png' : head.startsWith('RIFF') ? 'webp' : head.includes('ftypheic') ? 'heic' : head.includes('ftyp') ? 'avif' : 'jpg';
  const path = join(dir, `f${files++}.${extension}`);
  writeFileSync(path, bytes);
  const out = execFileSync('exiftool', [...args, path], { maxBuffer: 1 << 26 });
  return read ? out : readFileSync(path);
}

function withThumbnail(bytes: Uint8Array, thumb: Uint8Array, order: 'II' | 'MM' = 'MM'): Buffer {
  const thumbPath = join(dir, `t${files++}.jpg`);
  writeFileSync(thumbPath, thumb);
  return withExiftool(bytes, ['-q', '-overwrite_original', `-ExifByteOrder=${order === 'II' ? 'Little-endian' : 'Big-endian'}`, '-Make=hegui-test', `-ThumbnailImage<=${thumbPath}`]);
}

const thumbnailOf = (bytes: Uint8Array): Buffer => withExiftool(bytes, ['-b', '-ThumbnailImage'], true);

/** Mean absolute difference of two pictures' RGB pixels at the same size, over the bottom-right quarter (where the notice is). */
async function cornerDifference(a: Uint8Array, b: Uint8Array): Promise<number> {
  const rgb = async (bytes: Uint8Array): Promise<{ data: Buffer; width: number; height: number }> => {
    const { data, info } = await sharp(bytes).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height };
  };
  const [x, y] = await Promise.all([rgb(a), rgb(b)]);
  expect([x.width, x.height]).toEqual([y.width, y.height]);
  let sum = 0;
  let n = 0;
  for (let row = Math.floor(x.height / 2); row < x.height; row++) {
    for (let col = Math.floor(x.width / 2); col < x.width; col++) {
      for (let c = 0; c < 3; c++) sum += Math.abs((x.data[(row * x.width + col) * 3 + c] ?? 0) - (y.data[(row * x.width + col) * 3 + c] ?? 0));
      n += 3;
    }
  }
  return sum / n;
}

/** The last 300 bytes of a JPEG: coded picture data, not headers another thumbnail would share. */
const scanOf = (thumb: Uint8Array): Uint8Array => thumb.subarray(thumb.length - 300);
const contains = (haystack: Uint8Array, needle: Uint8Array): boolean => Buffer.from(haystack).indexOf(Buffer.from(needle)) >= 0;
const soiCount = (bytes: Uint8Array): number => {
  let count = 0;
  for (let at = Buffer.from(bytes).indexOf(Buffer.from([0xff, 0xd8, 0xff])); at >= 0; at = Buffer.from(bytes).indexOf(Buffer.from([0xff, 0xd8, 0xff]), at + 1)) count++;
  return count;
};
const changeOf = (result: ImageLabelResult, kind: string): { action: string; detail: string } | undefined => result.previews?.find((p) => p.kind === kind);

/** The position in `bytes` of the IFD1 entry `tag` (a LONG) of the EXIF segment, found by its bytes. */
function ifd1Entry(bytes: Uint8Array, tag: number, order: 'II' | 'MM'): number {
  const le = order === 'II';
  const pattern = Buffer.alloc(8);
  if (le) {
    pattern.writeUInt16LE(tag, 0);
    pattern.writeUInt16LE(4, 2);
    pattern.writeUInt32LE(1, 4);
  } else {
    pattern.writeUInt16BE(tag, 0);
    pattern.writeUInt16BE(4, 2);
    pattern.writeUInt32BE(1, 4);
  }
  const at = Buffer.from(bytes).indexOf(pattern);
  expect(at).toBeGreaterThan(0);
  return at + 8;
}

describe.runIf(exiftool)('EXIF thumbnails', () => {
  for (const order of ['MM', 'II'] as const) {
    for (const jpegMethod of ['splice', 'reencode'] as const) {
      it(`is made again from the labelled picture (${order}, ${jpegMethod})`, async () => {
        const main = await jpeg(640, 480);
        const oldThumb = await sharp(main).resize(160, 120).jpeg({ quality: 80 }).toBuffer();
        const source = withThumbnail(main, oldThumb, order);
        expect(thumbnailOf(source).equals(oldThumb)).toBe(true);
        const result = await labelImage(source, { jpegMethod });
        expect(result.method).toBe(jpegMethod === 'splice' ? 'dct-splice' : 'reencode');
        expect(changeOf(result, 'exif-thumbnail')).toEqual({ kind: 'exif-thumbnail', action: 'regenerated', detail: '160x120, made from the labelled picture' });
        const newThumb = thumbnailOf(result.bytes);
        expect((await sharp(newThumb).metadata()).width).toBe(160);
        expect(contains(result.bytes, scanOf(oldThumb))).toBe(false);
        // The notice is in the thumbnail: far from the old one in its corner, close to one made from the labelled picture.
        expect(await cornerDifference(newThumb, oldThumb)).toBeGreaterThan(1.5);
        const fromLabelled = await sharp(result.bytes).resize(160, 120).jpeg({ quality: 80 }).toBuffer();
        expect(await cornerDifference(newThumb, fromLabelled)).toBeLessThan(1.5);
        // The rest of the EXIF is still there and valid.
        const tags = withExiftool(result.bytes, ['-s', '-s', '-s', '-Make', '-ExifByteOrder', '-Validate'], true).toString();
        expect(tags).toContain('hegui-test');
        expect(tags).toContain(order === 'II' ? 'Little-endian' : 'Big-endian');
        expect(tags).toMatch(/^OK$/m);
      });
    }
  }

  it('is made upright with a picture turned upright by re-encoding', async () => {
    const main = await jpeg(640, 480);
    const oldThumb = await sharp(main).resize(160, 120).jpeg({ quality: 80 }).toBuffer();
    const source = withExiftool(withThumbnail(main, oldThumb), ['-q', '-overwrite_original', '-Orientation#=6']);
    const result = await labelImage(source);
    expect(result.spliceFallback).toMatch(/orientation 6/);
    expect(changeOf(result, 'exif-thumbnail')?.detail).toBe('120x160, made from the labelled picture');
    const meta = await sharp(thumbnailOf(result.bytes)).metadata();
    expect([meta.width, meta.height]).toEqual([120, 160]);
  });

  it('keeps the pixels outside the notice of a spliced JPEG', async () => {
    const main = await jpeg(640, 480);
    const source = withThumbnail(main, await sharp(main).resize(160, 120).jpeg().toBuffer());
    const result = await labelImage(source);
    expect(result.method).toBe('dct-splice');
    const before = await sharp(source).raw().toBuffer();
    const after = await sharp(result.bytes).raw().toBuffer();
    const rows = result.box.top - 16;
    expect(rows).toBeGreaterThan(100);
    expect(after.subarray(0, rows * 640 * 3).equals(before.subarray(0, rows * 640 * 3))).toBe(true);
  });

  it('is removed when IFD1 points outside the segment, and the old bytes do not survive', async () => {
    const main = await jpeg(640, 480);
    const oldThumb = await sharp(main).resize(160, 120).jpeg({ quality: 80 }).toBuffer();
    for (const [tag, value] of [
      [0x0201, 60000], // offset past the segment
      [0x0202, 60000], // length past the segment
      [0x0201, 3], // offset inside the TIFF header
    ] as const) {
      const source = withThumbnail(main, oldThumb);
      Buffer.from(source.buffer, source.byteOffset).writeUInt32BE(value, ifd1Entry(source, tag, 'MM'));
      for (const jpegMethod of ['splice', 'reencode'] as const) {
        const result = await labelImage(source, { jpegMethod });
        expect(changeOf(result, 'exif-thumbnail')?.action).toBe('removed');
        expect(thumbnailOf(result.bytes).length).toBe(0);
        expect(contains(result.bytes, scanOf(oldThumb))).toBe(false);
        expect(soiCount(result.bytes)).toBe(1);
        expect(withExiftool(result.bytes, ['-s', '-s', '-s', '-Make'], true).toString()).toContain('hegui-test');
        await sharp(result.bytes).stats();
      }
    }
  });

  it('is made again when its stated length is short, and removed when IFD1 itself is out of reach', async () => {
    const main = await jpeg(640, 480);
    const oldThumb = await sharp(main).resize(160, 120).jpeg({ quality: 80 }).toBuffer();
    const short = withThumbnail(main, oldThumb, 'II');
    Buffer.from(short.buffer, short.byteOffset).writeUInt32LE(100, ifd1Entry(short, 0x0202, 'II'));
    const remade = await labelImage(short);
    expect(changeOf(remade, 'exif-thumbnail')?.action).toBe('regenerated');
    expect(contains(remade.bytes, scanOf(oldThumb))).toBe(false);
    expect(await cornerDifference(thumbnailOf(remade.bytes), oldThumb)).toBeGreaterThan(1.5);

    // IFD0's next-IFD offset (right after IFD0's entries) pointed far away.
    const lost = withThumbnail(main, oldThumb);
    const app1 = headerSegments(lost).find((s) => s.marker === 0xe1) as { start: number };
    const tiff = app1.start + 10;
    const view = Buffer.from(lost.buffer, lost.byteOffset);
    const ifd0 = tiff + view.readUInt32BE(tiff + 4);
    view.writeUInt32BE(0x7fff0000, ifd0 + 2 + 12 * view.readUInt16BE(ifd0));
    const result = await labelImage(lost);
    expect(changeOf(result, 'exif-thumbnail')?.action).toBe('removed');
    expect(changeOf(result, 'embedded-jpeg')?.action).toBe('removed');
    expect(contains(result.bytes, scanOf(oldThumb))).toBe(false);
    expect(soiCount(result.bytes)).toBe(1);
  });

  it('removes an EXIF segment it cannot read', async () => {
    const main = await jpeg(320, 240);
    const oldThumb = await sharp(main).resize(160, 120).jpeg({ quality: 80 }).toBuffer();
    const source = withThumbnail(main, oldThumb);
    const app1 = headerSegments(source).find((s) => s.marker === 0xe1) as { start: number };
    source[app1.start + 13] = 0x00; // `MM\0*` -> `MM\0\0`
    for (const jpegMethod of ['splice', 'reencode'] as const) {
      const result = await labelImage(source, { jpegMethod });
      expect(changeOf(result, 'exif')?.action).toBe('removed');
      expect(headerSegments(result.bytes).some((s) => s.marker === 0xe1 && Buffer.from(result.bytes.subarray(s.start + 4, s.start + 8)).toString() === 'Exif')).toBe(false);
      expect(soiCount(result.bytes)).toBe(1);
    }
  });

  it('is removed when a new one would not fit in the APP1 segment', async () => {
    const main = await jpeg(1200, 900, 250);
    const oldThumb = await sharp({ create: { width: 1000, height: 750, channels: 3, background: '#808080' } })
      .jpeg({ quality: 50 })
      .toBuffer();
    const source = withThumbnail(main, oldThumb);
    const result = await labelImage(source);
    expect(changeOf(result, 'exif-thumbnail')).toMatchObject({ action: 'removed', detail: expect.stringMatching(/does not fit/) as unknown });
    expect(thumbnailOf(result.bytes).length).toBe(0);
    expect(soiCount(result.bytes)).toBe(1);
    expect(withExiftool(result.bytes, ['-s', '-s', '-s', '-Validate'], true).toString()).toMatch(/^OK$/m);
  });
});

/** A HEIC of `png`, by libheif's encoder. */
function heic(png: Uint8Array): Buffer {
  const input = join(dir, `h${files++}.png`);
  const output = join(dir, `h${files++}.heic`);
  writeFileSync(input, png);
  execFileSync('heif-enc', ['-q', '80', '-o', output, input]);
  return readFileSync(output);
}

describe.runIf(exiftool)('the checker on a JPEG with an EXIF thumbnail or pictures after it', () => {
  const previews = async (bytes: Uint8Array): Promise<string | undefined> => (await checkExplicitLabel(bytes, { ocr: false })).rules.find((r) => r.rule === 'image.previews')?.status;

  it('passes a thumbnail made again by label visible, fails one made before the notice, leaves MPF pictures unverified', async () => {
    const main = await jpeg(640, 480);
    const oldThumb = await sharp(main).resize(160, 120).jpeg({ quality: 90 }).toBuffer();
    const labelled = await labelImage(withThumbnail(main, oldThumb), { plate: 'always' });
    expect(await previews(labelled.bytes)).toBe('pass');
    // Another tool's output: the notice on the picture, the thumbnail of before.
    expect(await previews(withThumbnail(labelled.bytes, oldThumb))).toBe('fail');
    // Not a copy of this picture at all: not measured.
    const other = await sharp(await jpeg(640, 480, 20)).flop().resize(160, 120).jpeg().toBuffer();
    expect(await previews(withThumbnail(labelled.bytes, other))).toBe('unverified');
    // Pictures after the end: not checked.
    expect(await previews(Buffer.concat([labelled.bytes, oldThumb]))).toBe('unverified');
    expect(await previews(await labelImage(main).then((r) => r.bytes))).toBeUndefined();
  });
});

describe.runIf(exiftool)('EXIF thumbnails in PNG, WebP, AVIF and HEIC', () => {
  for (const format of ['png', 'webp', 'avif', ...(heifEnc ? (['heic'] as const) : [])] as const) {
    it(`is made again in place in a ${format} (or removed), never kept`, async () => {
      const main = await jpeg(640, 480);
      const oldThumb = await sharp(main).resize(160, 120).jpeg({ quality: 90 }).toBuffer();
      const source = withThumbnail(format === 'heic' ? heic(await sharp(main).png().toBuffer()) : await sharp(main).toFormat(format).toBuffer(), oldThumb);
      expect(thumbnailOf(source).equals(oldThumb)).toBe(true);
      const result = await labelImage(source);
      expect(result.bytes.length).toBeGreaterThan(0);
      expect(contains(result.bytes, scanOf(oldThumb))).toBe(false);
      const change = changeOf(result, 'exif-thumbnail');
      const newThumb = thumbnailOf(result.bytes);
      if (change?.action === 'regenerated') expect(await cornerDifference(newThumb, oldThumb)).toBeGreaterThan(1.5);
      else expect(newThumb.length).toBe(0);
      expect(change?.action).toBe('regenerated'); // a quality-90 slot holds a quality-80 thumbnail
      expect(withExiftool(result.bytes, ['-s', '-s', '-s', '-Make', '-Validate'], true).toString()).toContain('hegui-test');
      if (format !== 'heic') await sharp(result.bytes).stats(); // a PNG's eXIf CRC is right, or libspng would refuse it
    });
  }
});

describe.runIf(exiftool)('hostile EXIF', () => {
  it('never throws and never keeps the old thumbnail, whatever bytes of the EXIF structure change', async () => {
    const main = await jpeg(320, 240);
    // Not what a thumbnail made again from `main` would be byte for byte (the picture here is not labelled).
    const oldThumb = await sharp(main).flip().resize(160, 120).jpeg({ quality: 80 }).toBuffer();
    for (const order of ['MM', 'II'] as const) {
      const source = withThumbnail(main, oldThumb, order);
      const app1 = headerSegments(source).find((s) => s.marker === 0xe1) as { start: number; end: number };
      const thumbAt = source.indexOf(oldThumb);
      expect(thumbAt).toBeGreaterThan(app1.start);
      let state = order === 'MM' ? 11 : 12;
      const random = (n: number): number => {
        state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
        return state % n;
      };
      for (let round = 0; round < 150; round++) {
        const hostile = Buffer.from(source);
        // 1-4 bytes of the TIFF header and IFDs (everything before the thumbnail) set at random.
        for (let k = 0, n = 1 + random(4); k < n; k++) hostile[app1.start + 10 + random(thumbAt - app1.start - 10)] = random(4) === 0 ? 0xff : random(256);
        const { bytes, changes } = await labelledPreviews(hostile, hostile);
        expect(contains(bytes, scanOf(oldThumb))).toBe(false);
        expect(changes.length).toBeGreaterThan(0);
        expect(pictureEnd(bytes)).toBe(bytes.length);
      }
    }
  });
});

/** `bytes` with `segment` (marker, length, body) inserted after the SOI. */
function insertSegment(bytes: Uint8Array, marker: number, body: Uint8Array): Buffer {
  const head = Buffer.from([0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff]);
  return Buffer.concat([bytes.subarray(0, 2), head, body, bytes.subarray(2)]);
}

describe('other pictures in a JPEG', () => {
  it('zeroes a Photoshop thumbnail resource (APP13)', async () => {
    const main = await jpeg(320, 240);
    const thumb = await sharp(main).resize(80, 60).jpeg().toBuffer();
    const resource = Buffer.alloc(28 + thumb.length + (thumb.length % 2));
    thumb.copy(resource, 28);
    const size = Buffer.alloc(4);
    size.writeUInt32BE(28 + thumb.length);
    const body = Buffer.concat([Buffer.from('Photoshop 3.0\0', 'latin1'), Buffer.from('8BIM'), Buffer.from([0x04, 0x0c, 0, 0]), size, resource]);
    const source = insertSegment(main, 0xed, body);
    for (const jpegMethod of ['splice', 'reencode'] as const) {
      const result = await labelImage(source, { jpegMethod });
      expect(changeOf(result, 'embedded-jpeg')?.detail).toMatch(/APP13 segment \("Photoshop 3.0"\) zeroed/);
      expect(contains(result.bytes, scanOf(thumb))).toBe(false);
      expect(headerSegments(result.bytes).some((s) => s.marker === 0xed)).toBe(true);
      expect(soiCount(result.bytes)).toBe(1);
    }
  });

  it('cuts a JFIF thumbnail off and removes a JFXX thumbnail segment (APP0)', async () => {
    const main = await jpeg(320, 240);
    expect(headerSegments(main).some((s) => s.marker === 0xe0)).toBe(false);
    const pixels = Buffer.alloc(4 * 4 * 3, 0xc8);
    // JFIF 1.01, no units, 1:1 density, a 4x4 RGB thumbnail.
    const jfif = Buffer.concat([Buffer.from('JFIF\0', 'latin1'), Buffer.from([1, 1, 0, 0, 1, 0, 1, 4, 4]), pixels]);
    const thumb = await sharp(main).resize(80, 60).jpeg().toBuffer();
    const jfxx = Buffer.concat([Buffer.from('JFXX\0', 'latin1'), Buffer.from([0x10]), thumb]);
    const source = insertSegment(insertSegment(main, 0xe0, jfxx), 0xe0, jfif);
    for (const jpegMethod of ['splice', 'reencode'] as const) {
      const result = await labelImage(source, { jpegMethod });
      expect((result.previews ?? []).filter((p) => p.kind === 'jfif-thumbnail').length).toBe(jpegMethod === 'splice' ? 2 : 0);
      const app0 = headerSegments(result.bytes).filter((s) => s.marker === 0xe0);
      expect(app0.map((s) => s.end - s.start)).toEqual(jpegMethod === 'splice' ? [18] : []);
      if (jpegMethod === 'splice') expect(result.bytes[(app0[0] as { start: number }).start + 16]).toBe(0);
      expect(contains(result.bytes, pixels)).toBe(false);
      expect(contains(result.bytes, scanOf(thumb))).toBe(false);
      expect(soiCount(result.bytes)).toBe(1);
    }
  });

  it('removes the MPF index with the pictures after the primary one', async () => {
    const primary = await jpeg(320, 240);
    const second = await jpeg(160, 120);
    // APP2 `MPF\0`, then a little-endian MP index IFD: version, number of images, MP entries.
    const tiff = Buffer.alloc(8 + 2 + 3 * 12 + 4 + 32);
    tiff.write('II', 0, 'latin1');
    tiff.writeUInt16LE(42, 2);
    tiff.writeUInt32LE(8, 4);
    tiff.writeUInt16LE(3, 8);
    const entry = (i: number, tag: number, type: number, count: number, value: number): void => {
      const at = 10 + 12 * i;
      tiff.writeUInt16LE(tag, at);
      tiff.writeUInt16LE(type, at + 2);
      tiff.writeUInt32LE(count, at + 4);
      tiff.writeUInt32LE(value, at + 8);
    };
    entry(0, 0xb000, 7, 4, Buffer.from('0100').readUInt32LE());
    entry(1, 0xb001, 4, 1, 2);
    const entries = 8 + 2 + 36 + 4;
    entry(2, 0xb002, 7, 32, entries);
    const segmentLength = 4 + 4 + tiff.length;
    const total = primary.length + segmentLength;
    const tiffAt = 2 + 4 + 4; // in the file: SOI, marker and length, `MPF\0`
    tiff.writeUInt32LE(0x20030000, entries);
    tiff.writeUInt32LE(total, entries + 4);
    tiff.writeUInt32LE(0, entries + 8);
    tiff.writeUInt32LE(0x00010001, entries + 16);
    tiff.writeUInt32LE(second.length, entries + 20);
    tiff.writeUInt32LE(total - tiffAt, entries + 24);
    const source = Buffer.concat([insertSegment(primary, 0xe2, Buffer.concat([Buffer.from('MPF\0', 'latin1'), tiff])), second]);
    expect(pictureEnd(source)).toBe(total);
    if (exiftool) expect(withExiftool(source, ['-s', '-s', '-s', '-NumberOfImages'], true).toString().trim()).toBe('2');
    for (const jpegMethod of ['splice', 'reencode'] as const) {
      const result = await labelImage(source, { jpegMethod });
      expect(changeOf(result, 'mpf-images')).toEqual({ kind: 'mpf-images', action: 'removed', detail: `the MPF index (2 pictures, the primary one labelled) and the ${second.length} bytes after the primary picture` });
      expect(headerSegments(result.bytes).some((s) => s.marker === 0xe2)).toBe(false);
      expect(pictureEnd(result.bytes)).toBe(result.bytes.length);
      expect(soiCount(result.bytes)).toBe(1);
    }
  });

  it('reports other bytes after the picture, and a plain JPEG has no changes', async () => {
    const main = await jpeg(320, 240);
    const trailed = Buffer.concat([main, Buffer.from('a motion photo would be here')]);
    const result = await labelImage(trailed);
    expect(result.previews).toEqual([{ kind: 'trailing-data', action: 'removed', detail: '28 bytes after the end of the picture' }]);
    expect(pictureEnd(result.bytes)).toBe(result.bytes.length);
    expect((await labelImage(main)).previews).toBeUndefined();
  });
});
