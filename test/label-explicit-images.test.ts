/**
 * Image notices end to end (GB 45438 §5.2): real files of every format and size class are
 * labelled, then measured twice — by hegui's checker, and independently here by diffing the
 * labelled pixels against the original with sharp (the changed region's position, and the rows
 * holding text-coloured pixels inside it) — and decoded by ImageMagick. Metadata, encoding and
 * the implicit label must survive; bad inputs must fail with typed errors.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { embedLabel, readLabels } from '../src/label/index.js';
import {
  checkExplicitLabel,
  ExplicitFormatError,
  ImageDecodeError,
  jpegEncoding,
  labelImage,
  NoticeDoesNotFitError,
  NoticeFontError,
  NoticeWordingError,
  type ImageLabelResult,
  type RuleResult,
} from '../src/label/explicit/index.js';
import { explicitImageSamples, rawImage } from './label-explicit-samples.js';
import { systemTool } from './helpers/system.js';
import { PRODUCER } from './label-samples.js';

const hasConvert = systemTool('convert', 'imagemagick');
const hasTesseract = systemTool('tesseract', 'tesseract-ocr tesseract-ocr-chi-sim');
const work = mkdtempSync(join(tmpdir(), 'hegui-explicit-'));

interface Measured {
  /** Bounding box of pixels that changed by more than the re-encoding noise. */
  changed: { left: number; top: number; width: number; height: number };
  /** Rows spanned by text-coloured pixels (nearer the text colour than the outline's) inside the changed box. */
  inkHeight: number;
}

async function frame0(bytes: Uint8Array): Promise<{ data: Buffer; width: number; height: number }> {
  const meta = await sharp(bytes, { animated: true }).metadata();
  const pages = meta.pages ?? 1;
  const pipeline = pages > 1 ? sharp(bytes, { animated: true }) : sharp(bytes).autoOrient();
  const { data, info } = await pipeline.flatten({ background: '#ffffff' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: pages > 1 ? (meta.pageHeight ?? info.height) : info.height };
}

/** The independent measurement: a diff against the original, with sharp only. */
async function measure(original: Uint8Array, labelled: Uint8Array, text: readonly number[], outline: readonly number[]): Promise<Measured> {
  const a = await frame0(original);
  const b = await frame0(labelled);
  expect([b.width, b.height]).toEqual([a.width, a.height]);
  // Re-encoding a noisy JPEG moves scattered pixels too: a pixel counts as changed when its
  // 5x5 neighbourhood changed on average, which only the drawn notice does.
  const diff = new Float64Array(b.width * b.height);
  for (let i = 0; i < diff.length; i++) diff[i] = Math.max(...[0, 1, 2].map((c) => Math.abs((a.data[i * 3 + c] ?? 0) - (b.data[i * 3 + c] ?? 0))));
  const dense = (x: number, y: number): boolean => {
    let sum = 0;
    let count = 0;
    for (let dy = -2; dy <= 2; dy++) {
      for (let dx = -2; dx <= 2; dx++) {
        const nx = x + dx;
        const ny = y + dy;
        if (nx < 0 || ny < 0 || nx >= b.width || ny >= b.height) continue;
        sum += diff[ny * b.width + nx] ?? 0;
        count++;
      }
    }
    return sum / count > 32;
  };
  let left = b.width;
  let top = b.height;
  let right = -1;
  let bottom = -1;
  for (let y = 0; y < b.height; y++) {
    for (let x = 0; x < b.width; x++) {
      if ((diff[y * b.width + x] ?? 0) <= 48 || !dense(x, y)) continue;
      left = Math.min(left, x);
      right = Math.max(right, x);
      top = Math.min(top, y);
      bottom = Math.max(bottom, y);
    }
  }
  let inkTop = -1;
  let inkBottom = -1;
  for (let y = top; y <= bottom; y++) {
    for (let x = left; x <= right; x++) {
      const at = (y * b.width + x) * 3;
      const toText = Math.max(...[0, 1, 2].map((c) => Math.abs((b.data[at + c] ?? 0) - (text[c] ?? 0))));
      const toOutline = Math.max(...[0, 1, 2].map((c) => Math.abs((b.data[at + c] ?? 0) - (outline[c] ?? 0))));
      if (toText > 100 || toText >= toOutline || (diff[y * b.width + x] ?? 0) <= 48) continue;
      if (inkTop < 0) inkTop = y;
      inkBottom = y;
    }
  }
  return { changed: { left, top, width: right - left + 1, height: bottom - top + 1 }, inkHeight: inkTop < 0 ? 0 : inkBottom - inkTop + 1 };
}

const ruleOf = (rules: RuleResult[], name: string): RuleResult | undefined => rules.find((r) => r.rule === name);

describe('image notices: every format and size class, measured twice (GB 45438 §5.2)', () => {
  let samples: Record<string, Buffer>;
  const results = new Map<string, ImageLabelResult>();

  beforeAll(async () => {
    samples = await explicitImageSamples();
    for (const [name, bytes] of Object.entries(samples)) {
      results.set(name, await labelImage(bytes, name.includes('panorama') ? { language: 'en', position: 'bottom' } : {}));
      // On disk for the tools that read files (ImageMagick), whichever test runs first.
      writeFileSync(join(work, name), (results.get(name) as ImageLabelResult).bytes);
    }
  }, 120_000);

  it('draws the notice with a measured text height of at least 5% of the shortest side, at an edge', async () => {
    for (const [name, original] of Object.entries(samples)) {
      const result = results.get(name) as ImageLabelResult;
      const shortest = Math.min(result.width, result.height);
      expect(result.textHeightPx, name).toBeGreaterThanOrEqual(0.05 * shortest);
      const independent = await measure(original, result.bytes, result.style.text, result.style.outline);
      expect(independent.inkHeight / shortest, `${name}: independent glyph rows ${independent.inkHeight} of ${shortest}`).toBeGreaterThanOrEqual(0.05);
      expect(independent.changed.height, name).toBeGreaterThanOrEqual(independent.inkHeight);
      const { left, top, width, height } = independent.changed;
      const edgeDistance = Math.min(left, top, result.width - left - width, result.height - top - height);
      expect(edgeDistance, `${name}: changed box ${JSON.stringify(independent.changed)}`).toBeLessThanOrEqual(0.06 * shortest + 2);
    }
  });

  it('passes the checker, whose height agrees with the independent measurement', async () => {
    for (const [name, original] of Object.entries(samples)) {
      const result = results.get(name) as ImageLabelResult;
      const report = await checkExplicitLabel(result.bytes, { offline: true });
      // Offline, OCR does not run: the wording is not read, so the file is unverified, never passed.
      expect(report.status, `${name}: ${JSON.stringify(report.rules)}`).toBe('unverified');
      expect(ruleOf(report.rules, 'image.wording')?.status).toBe('unverified');
      const height = ruleOf(report.rules, 'image.height');
      expect(height?.status).toBe('pass');
      expect(Number(height?.measured.ratio)).toBeGreaterThanOrEqual(0.05);
      expect(ruleOf(report.rules, 'image.position')?.status).toBe('pass');
      expect(Number(ruleOf(report.rules, 'image.contrast')?.measured.ratio), name).toBeGreaterThanOrEqual(3);
      const independent = await measure(original, result.bytes, result.style.text, result.style.outline);
      // A 16x16 image's notice is a 4 px blur: the two measures may differ by a few pixels there.
      const tolerance = Math.min(result.width, result.height) < 64 ? 3 : Math.max(2, independent.inkHeight * 0.1);
      expect(Math.abs(Number(height?.measured.heightPx) - independent.inkHeight), `${name}: checker ${height?.measured.heightPx} vs diff ${independent.inkHeight}`).toBeLessThanOrEqual(tolerance);
      if (result.frames > 1) expect(ruleOf(report.rules, 'image.frames')?.measured).toEqual({ frames: result.frames, framesWithNotice: result.frames });
    }
  });

  it.runIf(hasTesseract)('reads the wording with tesseract where the text is large enough', { timeout: 120_000 }, async () => {
    for (const name of ['landscape-1024x768-busy.jpg', 'portrait-600x1600-light.jpg', 'panorama-8000x500-busy.jpg', 'landscape-800x600-dark.png', 'animated-240x180.webp']) {
      const report = await checkExplicitLabel((results.get(name) as ImageLabelResult).bytes);
      expect(ruleOf(report.rules, 'image.wording')?.status, `${name}: ${JSON.stringify(report.rules)}`).toBe('pass');
    }
    const tiny = await checkExplicitLabel((results.get('tiny-16x16.png') as ImageLabelResult).bytes);
    expect(ruleOf(tiny.rules, 'image.wording')?.status).toBe('unverified');
  });

  it.runIf(hasConvert)('every output decodes with ImageMagick without warnings', () => {
    for (const name of Object.keys(samples)) {
      expect(() => execFileSync('convert', ['-regard-warnings', join(work, name), 'null:'], { stdio: 'pipe' }), name).not.toThrow();
    }
  });

  it('keeps frames, delays and the encoding of the source', async () => {
    for (const name of ['animated-200x150.gif', 'animated-240x180.webp']) {
      const before = await sharp(samples[name], { animated: true }).metadata();
      const after = await sharp((results.get(name) as ImageLabelResult).bytes, { animated: true }).metadata();
      expect([after.pages, after.pageHeight, after.delay, after.loop]).toEqual([before.pages, before.pageHeight, before.delay, before.loop]);
    }
    for (const name of ['landscape-1024x768-busy.jpg', 'portrait-600x1600-light.jpg']) {
      const source = jpegEncoding(samples[name] as Buffer);
      const output = jpegEncoding((results.get(name) as ImageLabelResult).bytes);
      expect(output.quality).toBe(source.quality);
      expect(output.chromaSubsampling).toBe(source.chromaSubsampling);
    }
    expect(jpegEncoding(samples['landscape-1024x768-busy.jpg'] as Buffer).quality).toBe(78);
    const lossless = (results.get('portrait-500x900-busy.webp') as ImageLabelResult).bytes;
    expect(Buffer.from(lossless).includes('VP8L')).toBe(true);
  });
});

describe('image notices keep metadata and the implicit label', () => {
  it('carries EXIF, the ICC profile, XMP and the implicit label over, or writes the label in the same pass', async () => {
    const base = await rawImage(640, 480, 'busy').withExif({ IFD0: { Make: 'hegui-camera', Software: 'test' } }).withIccProfile('p3').jpeg({ quality: 88 }).toBuffer();
    const labelled = (await embedLabel(base, { producer: PRODUCER, produceId: 'src-1' })).bytes as Uint8Array;
    const result = await labelImage(labelled);
    const meta = await sharp(result.bytes).metadata();
    expect(meta.exif?.includes('hegui-camera')).toBe(true);
    expect(meta.icc?.length).toBe((await sharp(base).metadata()).icc?.length);
    expect(result.implicit?.ProduceID).toBe('src-1');
    expect((await readLabels(result.bytes)).label?.ProduceID).toBe('src-1');
    const both = await labelImage(base, { implicit: { producer: PRODUCER, produceId: 'both-1' } });
    expect((await readLabels(both.bytes)).label?.ProduceID).toBe('both-1');
    const png = await labelImage((await embedLabel(await sharp(base).png().toBuffer(), { producer: PRODUCER, produceId: 'src-1' })).bytes as Uint8Array, { position: 'top-left' });
    expect((await readLabels(png.bytes)).label?.ProduceID).toBe('src-1');
  });

  it('puts a plain JPEG\'s metadata segments back byte for byte', async () => {
    const base = await rawImage(320, 240, 'light').withExif({ IFD0: { Make: 'hegui-camera' } }).jpeg({ quality: 83 }).toBuffer();
    const labelled = (await embedLabel(base, { producer: PRODUCER, produceId: 'plain-1' })).bytes as Uint8Array;
    const result = await labelImage(labelled);
    const segments = (bytes: Uint8Array): string[] => {
      const found: string[] = [];
      for (let at = 2; bytes[at] === 0xff && bytes[at + 1] !== 0xda; ) {
        const end = at + 2 + (((bytes[at + 2] ?? 0) << 8) | (bytes[at + 3] ?? 0));
        if ((bytes[at + 1] ?? 0) >= 0xe1 && (bytes[at + 1] ?? 0) <= 0xef) found.push(Buffer.from(bytes.subarray(at, end)).toString('base64'));
        at = end;
      }
      return found;
    };
    expect(segments(result.bytes)).toEqual(segments(labelled));
    expect(result.quality).toBe(83);
    expect((await readLabels(result.bytes)).label?.ProduceID).toBe('plain-1');
  });

  it('turns an EXIF-rotated photo upright and labels the edge a viewer sees', async () => {
    const rotated = await rawImage(300, 200, 'light').withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const result = await labelImage(rotated);
    expect([result.width, result.height]).toEqual([200, 300]);
    const meta = await sharp(result.bytes).metadata();
    expect([meta.width, meta.height, meta.orientation ?? 1]).toEqual([200, 300, 1]);
  });
});

describe('image notices refuse what they cannot do, with typed errors', () => {
  it('names unsupported and corrupt inputs', async () => {
    await expect(labelImage(new TextEncoder().encode('just text'))).rejects.toBeInstanceOf(ExplicitFormatError);
    await expect(labelImage(Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]))).rejects.toBeInstanceOf(ExplicitFormatError);
    const jpeg = await rawImage(64, 64, 'busy').jpeg().toBuffer();
    await expect(labelImage(jpeg.subarray(0, 200))).rejects.toBeInstanceOf(ImageDecodeError);
    await expect(labelImage(jpeg.subarray(0, 200))).rejects.toMatchObject({ code: 'E_LABEL_IMAGE_DECODE' });
  });

  it('refuses wording without the elements, characters the font lacks, and text that cannot fit at 5%', async () => {
    const png = await rawImage(64, 32, 'light').png().toBuffer();
    await expect(labelImage(png, { text: 'made by a person' })).rejects.toBeInstanceOf(NoticeWordingError);
    await expect(labelImage(png, { text: 'AI生成 😀' })).rejects.toBeInstanceOf(NoticeFontError);
    const square = await rawImage(100, 100, 'light').png().toBuffer();
    await expect(labelImage(square, { text: '本内容由人工智能生成，'.repeat(50) })).rejects.toBeInstanceOf(NoticeDoesNotFitError);
  });

  it('wraps a long wording onto several lines rather than going under 5%', async () => {
    const square = await rawImage(200, 200, 'light').png().toBuffer();
    const result = await labelImage(square, { text: '本图片内容由人工智能技术自动生成，仅供参考' });
    expect(result.lines.length).toBeGreaterThan(1);
    expect(result.textHeightPx).toBeGreaterThanOrEqual(10);
  });
});

describe('the image checker on notices hegui did not draw', () => {
  it.runIf(hasConvert)('measures an ImageMagick-drawn notice, and fails one that is too small or absent', async () => {
    const font = (await import('../src/label/explicit/font.js')).noticeFontPath();
    const draw = (size: number, out: string): Buffer => {
      execFileSync('convert', ['-size', '800x600', 'xc:#f4f4f0', '-font', font, '-pointsize', String(size), '-fill', '#202020', '-gravity', 'southwest', '-annotate', '+20+16', 'AI生成', join(work, out)]);
      return execFileSync('convert', [join(work, out), 'png:-']);
    };
    const large = await checkExplicitLabel(draw(44, 'im-large.png'), { offline: true });
    expect(large.status, JSON.stringify(large.rules)).toBe('unverified');
    expect(large.rules.filter((r) => r.status === 'fail')).toEqual([]);
    expect(ruleOf(large.rules, 'image.position')?.measured.position).toBe('bottom-left');
    const small = await checkExplicitLabel(draw(18, 'im-small.png'), { offline: true });
    expect(ruleOf(small.rules, 'image.height')?.status).toBe('fail');
    const none = await checkExplicitLabel(await rawImage(800, 600, 'light').png().toBuffer(), { offline: true });
    expect(none.passed).toBe(false);
    expect(ruleOf(none.rules, 'image.position')?.status).toBe('fail');
  });
});
