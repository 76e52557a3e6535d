/**
 * Visible notices on HEIC (issue 11: "visible labels for ... HEIC ... bit depth, colour space,
 * ICC, EXIF preserved, with tests for each"), through Debian's libheif tools (heif-convert,
 * heif-enc with x265). The result stays HEVC-coded HEIF at the source's bit depth and chroma
 * format, with its ICC profile, EXIF, thumbnail and implicit label; what the round trip would
 * lose (a second image) is refused; a missing tool is a typed error. Every file is made here.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embedLabel, readLabels } from '../src/label/index.js';
import { checkExplicitLabel, labelImage } from '../src/label/explicit/index.js';
import { systemTool } from './helpers/system.js';
import { PRODUCER } from './label-samples.js';

const hasHeif = systemTool('heif-enc', 'libheif-examples') && systemTool('heif-convert', 'libheif-examples') && systemTool('heif-info', 'libheif-examples');
const hasExiftool = systemTool('exiftool', 'libimage-exiftool-perl');

describe.runIf(hasHeif && hasExiftool)('visible notices on HEIC', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hegui-heic-test-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  let n = 0;
  const file = (bytes: Uint8Array, ext: string): string => {
    const path = join(dir, `f${++n}.${ext}`);
    writeFileSync(path, bytes);
    return path;
  };

  /** A picture with detail everywhere, 8- or 16-bit, with a Display P3 profile and EXIF. */
  async function sourcePng(width: number, height: number, sixteen: boolean): Promise<Buffer> {
    const channels = 3;
    const raw = Buffer.alloc(width * height * channels * (sixteen ? 2 : 1));
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        for (let c = 0; c < channels; c++) {
          const value = ((x * 4 + y * 2 + c * 60) % 256) / 255;
          const i = (y * width + x) * channels + c;
          if (sixteen) raw.writeUInt16LE(Math.round(value * 65535), i * 2);
          else raw[i] = Math.round(value * 255);
        }
      }
    }
    const image = sharp(raw, { raw: { width, height, channels } });
    return (sixteen ? image.toColourspace('rgb16') : image)
      .withIccProfile('p3')
      .withExif({ IFD0: { Copyright: 'hegui heic test', Make: 'Test camera' } })
      .png()
      .toBuffer();
  }

  function heifEnc(png: Buffer, args: string[] = []): Buffer {
    const input = file(png, 'png');
    const output = join(dir, `f${++n}.heic`);
    execFileSync('heif-enc', ['-q', '85', ...args, '-o', output, input], { stdio: 'pipe' });
    return readFileSync(output);
  }

  function exif(bytes: Uint8Array, ...tags: string[]): Record<string, string> {
    const out = execFileSync('exiftool', ['-j', '-n', ...tags.map((t) => `-${t}`), file(bytes, 'heic')]).toString();
    return (JSON.parse(out) as Record<string, string>[])[0] ?? {};
  }

  function iccOf(bytes: Uint8Array): Buffer {
    return execFileSync('exiftool', ['-b', '-ICC_Profile', file(bytes, 'heic')]);
  }

  /** The image libheif shows, as raw RGB 8-bit pixels. */
  async function shown(bytes: Uint8Array): Promise<{ data: Buffer; width: number; height: number }> {
    const png = join(dir, `f${++n}.png`);
    execFileSync('heif-convert', [file(bytes, 'heic'), png], { stdio: 'pipe' });
    const { data, info } = await sharp(png).toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height };
  }

  function meanDifference(a: Buffer, b: Buffer, width: number, box: { left: number; top: number; width: number; height: number }): number {
    let sum = 0;
    let count = 0;
    for (let y = box.top; y < box.top + box.height; y++) {
      for (let x = box.left; x < box.left + box.width; x++) {
        for (let c = 0; c < 3; c++) {
          const i = (y * width + x) * 3 + c;
          sum += Math.abs((a[i] ?? 0) - (b[i] ?? 0));
          count++;
        }
      }
    }
    return sum / count;
  }

  it('draws the notice and keeps HEVC, 8-bit 4:2:0, the ICC profile, the EXIF and the implicit label', async () => {
    const source = heifEnc(await sourcePng(400, 300, false));
    const labelledSource = (await embedLabel(source, { producer: PRODUCER, produceId: 'heic-1' })).bytes ?? new Uint8Array();
    const result = await labelImage(labelledSource);
    expect(result.format).toBe('heif');
    const after = exif(result.bytes, 'MajorBrand', 'BitDepthLuma', 'BitDepthChroma', 'ChromaFormat', 'Copyright', 'Make', 'ImageWidth', 'ImageHeight');
    const before = exif(labelledSource, 'MajorBrand', 'BitDepthLuma', 'BitDepthChroma', 'ChromaFormat', 'Copyright', 'Make', 'ImageWidth', 'ImageHeight');
    expect(after).toEqual({ ...before, SourceFile: after.SourceFile });
    expect(after).toMatchObject({ MajorBrand: 'heic', BitDepthLuma: 8, ChromaFormat: 1, Copyright: 'hegui heic test' });
    expect(iccOf(result.bytes).equals(iccOf(source))).toBe(true);
    const exifBytes = (bytes: Uint8Array): Buffer => execFileSync('exiftool', ['-b', '-Exif', file(bytes, 'heic')]);
    expect(exifBytes(result.bytes).length).toBeGreaterThan(0);
    expect(exifBytes(result.bytes).equals(exifBytes(source))).toBe(true);
    expect((await readLabels(result.bytes)).label?.ProduceID).toBe('heic-1');
    const [a, b] = [await shown(labelledSource), await shown(result.bytes)];
    expect([b.width, b.height]).toEqual([a.width, a.height]);
    expect(meanDifference(a.data, b.data, a.width, result.box)).toBeGreaterThan(20);
    // Far from the notice, only the re-encoding differs.
    expect(meanDifference(a.data, b.data, a.width, { left: 0, top: 0, width: 150, height: 100 })).toBeLessThan(4);
  });

  it('the checker reads a HEIC: the notice on a labelled one is measured, an unlabelled one never passes', async () => {
    const source = heifEnc(await sourcePng(600, 400, false));
    const labelled = await labelImage(source);
    const pass = await checkExplicitLabel(labelled.bytes);
    expect(pass.rules.find((r) => r.rule === 'image.height')?.status).toBe('pass');
    expect(pass.rules.find((r) => r.rule === 'image.position')?.status).toBe('pass');
    expect(['passed', 'unverified']).toContain(pass.status);
    const fail = await checkExplicitLabel(source);
    expect(fail.status).not.toBe('passed');
  });

  it('keeps a 10-bit 4:4:4 HEIC 10-bit 4:4:4, and its thumbnail', async () => {
    const source = heifEnc(await sourcePng(320, 240, true), ['-b', '10', '-p', 'chroma=444', '-t', '64']);
    expect(exif(source, 'BitDepthLuma', 'ChromaFormat')).toMatchObject({ BitDepthLuma: 10, ChromaFormat: 3 });
    const result = await labelImage(source, { implicit: { producer: PRODUCER, produceId: 'heic-2' } });
    expect(exif(result.bytes, 'BitDepthLuma', 'BitDepthChroma', 'ChromaFormat', 'Copyright')).toMatchObject({ BitDepthLuma: 10, BitDepthChroma: 10, ChromaFormat: 3, Copyright: 'hegui heic test' });
    expect(iccOf(result.bytes).equals(iccOf(source))).toBe(true);
    const info = execFileSync('heif-info', [file(result.bytes, 'heic')]).toString();
    expect(info).toMatch(/thumbnail: 64x48/);
    expect((await readLabels(result.bytes)).label?.ProduceID).toBe('heic-2');
  });

  it('draws on the picture as HEIF readers show it when the EXIF orientation says otherwise, and sets that tag to match', async () => {
    const source = Buffer.from(heifEnc(await sourcePng(320, 160, false)));
    const tagged = file(source, 'heic');
    execFileSync('exiftool', ['-q', '-overwrite_original', '-Orientation#=6', tagged]);
    const result = await labelImage(readFileSync(tagged));
    expect([result.width, result.height]).toEqual([320, 160]);
    const out = await shown(result.bytes);
    expect([out.width, out.height]).toEqual([320, 160]);
    expect(exif(result.bytes, 'Orientation')).toMatchObject({ Orientation: 1 });
  });

  it('keeps an alpha channel, and adds no EXIF to a HEIC that had none', async () => {
    const png = await sharp({ create: { width: 300, height: 200, channels: 4, background: { r: 20, g: 120, b: 200, alpha: 0.5 } } }).png().toBuffer();
    const source = heifEnc(png);
    const result = await labelImage(source);
    const info = execFileSync('heif-info', [file(result.bytes, 'heic')]).toString();
    expect(info).toMatch(/alpha channel: yes/);
    expect(info).not.toMatch(/Exif:/);
    expect(info).toMatch(/color profile: no/);
  });

  it('refuses a HEIC of two images rather than keep one', async () => {
    const png = file(await sourcePng(64, 48, false), 'png');
    const output = join(dir, 'two.heic');
    execFileSync('heif-enc', ['-q', '80', '-o', output, png, png], { stdio: 'pipe' });
    await expect(labelImage(readFileSync(output))).rejects.toMatchObject({ code: 'E_LABEL_HEIC_STRUCTURE', message: expect.stringMatching(/2 top-level images/) });
  });

  it('says which tool is missing, as a typed error', async () => {
    const source = heifEnc(await sourcePng(64, 48, false));
    await expect(labelImage(source, { heifTools: { info: join(dir, 'no-such-heif-info') } })).rejects.toMatchObject({ code: 'E_LABEL_TOOL_MISSING', message: expect.stringMatching(/libheif-examples/) });
    await expect(labelImage(source, { heifTools: { enc: join(dir, 'no-such-heif-enc') } })).rejects.toMatchObject({ code: 'E_LABEL_TOOL_MISSING' });
  });

  it('leaves no temporary folder behind', async () => {
    const before = spawnSync('sh', ['-c', `ls -d ${tmpdir()}/hegui-heic-?????? 2>/dev/null | grep -v ${dir} | wc -l`]).stdout.toString().trim();
    await labelImage(heifEnc(await sourcePng(64, 48, false)));
    await labelImage(heifEnc(await sourcePng(64, 48, false)), { heifTools: { enc: join(dir, 'none') } }).catch(() => undefined);
    const after = spawnSync('sh', ['-c', `ls -d ${tmpdir()}/hegui-heic-?????? 2>/dev/null | grep -v ${dir} | wc -l`]).stdout.toString().trim();
    expect(after).toBe(before);
  });
});
