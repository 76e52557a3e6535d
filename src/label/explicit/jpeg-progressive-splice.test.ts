/**
 * The splice of progressive JPEGs with their scans kept (`jpeg-progressive-splice.ts`): every
 * scan's header, band and successive approximation stay, only the units around the notice are
 * coded again, and the result carries exactly the coefficients the whole re-encode
 * (`jpeg-progressive-encode.ts`, checked against the source in `jpeg-splice.test.ts`) carries, so
 * libjpeg decodes both to the same pixels. Tables lacking a symbol are appended to or remapped;
 * where neither can be done the whole re-encode is taken.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { labelImage } from './image.js';
import { parseProgressiveJpeg, transferables } from './jpeg-progressive.js';
import { spliceProgressive } from './jpeg-progressive-splice.js';
import { NotSpliceable, parseBaselineJpeg, withPreparsed } from './jpeg-splice-parse.js';
import { openJpegSplice } from './jpeg-splice.js';
import type { PixelBox } from './image-style.js';
import { shadedField, stripedOverlay } from '../../../test/helpers/pixels.js';
import { seededRandom } from '../../../test/helpers/random.js';
import { systemTool } from '../../../test/helpers/system.js';

function picture(width: number, height: number, noise: number, seed = 7): Buffer {
  return shadedField(width, height, (x, y, c) => 128 + 90 * Math.sin((x * (c + 1)) / 37 + y / 51) * Math.cos(y / (29 + c * 7)), noise, seed);
}

const overlay = stripedOverlay;

/** Every scan header (SOS segment) of a JPEG, as hex, in order. */
function scanHeaders(bytes: Uint8Array): string[] {
  const out: string[] = [];
  const data = Buffer.from(bytes);
  let at = data.indexOf(Buffer.from([0xff, 0xda]));
  while (at >= 0) {
    out.push(data.subarray(at, at + 2 + data.readUInt16BE(at + 2)).toString('hex'));
    at = data.indexOf(Buffer.from([0xff, 0xda]), at + 2);
  }
  return out;
}

async function rawPixels(bytes: Uint8Array): Promise<Buffer> {
  return sharp(bytes).raw().toBuffer();
}

const raw = (width: number, height: number) => ({ raw: { width, height, channels: 3 as const } });

describe('progressive JPEG splice with the scans kept', () => {
  it('codes again only the units around the notice: the whole re-encode`s coefficients and pixels, every scan header kept, most bytes copied', async () => {
    const files: [string, Uint8Array][] = [
      ['sharp 4:2:0, smooth', await sharp(picture(320, 240, 10), raw(320, 240)).jpeg({ quality: 85, progressive: true }).toBuffer()],
      ['sharp 4:2:0, noisy (tables remapped)', await sharp(picture(320, 240, 80), raw(320, 240)).jpeg({ quality: 85, progressive: true }).toBuffer()],
      ['sharp 4:4:4', await sharp(picture(203, 157, 40), raw(203, 157)).jpeg({ quality: 93, progressive: true, chromaSubsampling: '4:4:4' }).toBuffer()],
      ['greyscale', await sharp(picture(203, 157, 40), raw(203, 157)).greyscale().jpeg({ quality: 80, progressive: true }).toBuffer()],
      ['mozjpeg scans', await sharp(picture(203, 157, 40), raw(203, 157)).jpeg({ quality: 75, mozjpeg: true }).toBuffer()],
    ];
    const dir = mkdtempSync(join(tmpdir(), 'hegui-progressive-splice-'));
    const jpegtran = systemTool('jpegtran', 'libjpeg-turbo-progs');
    try {
      if (jpegtran) {
        // libjpeg's own script, with and without restart intervals (in MCUs, and in blocks of the one-component scans).
        writeFileSync(join(dir, 'in.jpg'), await sharp(picture(320, 240, 80), raw(320, 240)).jpeg({ quality: 85 }).toBuffer());
        for (const restart of [undefined, '1', '3B', '7']) {
          const made = spawnSync('jpegtran', ['-progressive', ...(restart ? ['-restart', restart] : []), '-outfile', join(dir, 'out.jpg'), join(dir, 'in.jpg')]);
          expect(made.status, String(made.stderr)).toBe(0);
          files.push([`jpegtran${restart ? `, restarts ${restart}` : ''}`, readFileSync(join(dir, 'out.jpg'))]);
        }
      }
      const seen = new Set<string>();
      for (const [name, jpeg] of files) {
        const { width, height } = parseProgressiveJpeg(jpeg);
        const boxes: PixelBox[] = [
          { left: 0, top: 0, width: 70, height: 25 },
          { left: Math.floor(width / 3), top: Math.floor(height / 2), width: 90, height: 30 },
          { left: width - 80, top: height - 40, width: 80, height: 40 },
        ];
        for (const box of boxes) {
          const label = `${name} at ${JSON.stringify(box)}`;
          const original = Buffer.from(jpeg);
          const kept = openJpegSplice(jpeg, box).compose(overlay(box), box);
          const whole = openJpegSplice(jpeg, box, { newTables: true }).compose(overlay(box), box);
          expect(Buffer.from(jpeg).equals(original), label).toBe(true);
          expect(whole.tables, label).toBe('extended');
          seen.add(kept.tables);
          // The same coefficients as the whole re-encode, so the same pixels.
          const a = parseProgressiveJpeg(kept.bytes);
          const b = parseProgressiveJpeg(whole.bytes);
          expect(Buffer.from(a.coefficients.buffer).equals(Buffer.from(b.coefficients.buffer)), label).toBe(true);
          expect((await rawPixels(kept.bytes)).equals(await rawPixels(whole.bytes)), label).toBe(true);
          if (kept.tables === 'extended') continue;
          // Every scan header as the source has it, and most of the coded data copied.
          expect(scanHeaders(kept.bytes), label).toEqual(scanHeaders(jpeg));
          const coded = parseProgressiveJpeg(jpeg).progressive?.scans.reduce((sum, scan) => sum + scan.dataEnd - scan.dataStart, 0) ?? 0;
          expect(kept.copiedBytes, label).toBeGreaterThan(coded * 0.4);
          if (jpegtran) {
            // libjpeg reads the scans as this decoder does (away from the frame's padding blocks, which no one-component scan codes).
            writeFileSync(join(dir, 'k.jpg'), kept.bytes);
            const sequential = spawnSync('jpegtran', ['-optimize', '-outfile', join(dir, 'ks.jpg'), join(dir, 'k.jpg')]);
            expect(sequential.status, String(sequential.stderr)).toBe(0);
            if (box.left + box.width < width - 16 && box.top + box.height < height - 16) {
              expect(Buffer.from(parseBaselineJpeg(readFileSync(join(dir, 'ks.jpg'))).coefficients.buffer).equals(Buffer.from(a.coefficients.buffer)), label).toBe(true);
            }
          }
        }
      }
      expect([...seen].sort()).toEqual(jpegtran ? ['appended', 'extended', 'remapped'] : ['appended', 'remapped']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('damaged scans that still decode: the scans kept give the whole re-encode`s coefficients, or are refused typed', async () => {
    const random = seededRandom(4711);
    const sources = [
      await sharp(picture(160, 120, 60), raw(160, 120)).jpeg({ quality: 85, progressive: true }).toBuffer(),
      await sharp(picture(160, 120, 60), raw(160, 120)).jpeg({ quality: 80, progressive: true, chromaSubsampling: '4:4:4' }).toBuffer(),
    ];
    const box: PixelBox = { left: 50, top: 60, width: 70, height: 30 };
    let compared = 0;
    for (const source of sources) {
      const { scans } = parseProgressiveJpeg(source).progressive ?? { scans: [] };
      for (let n = 0; n < 150; n++) {
        const bad = Buffer.from(source);
        // A few bytes of one scan's coded data changed (never to 0xFF: the marker structure stays).
        const scan = scans[Math.floor(random() * scans.length)];
        if (!scan || scan.dataEnd - scan.dataStart < 4) continue;
        for (let i = 0; i < 1 + Math.floor(random() * 3); i++) bad[scan.dataStart + Math.floor(random() * (scan.dataEnd - scan.dataStart))] = Math.floor(random() * 255);
        let kept: Uint8Array;
        let whole: Uint8Array;
        try {
          kept = openJpegSplice(bad, box).compose(overlay(box), box).bytes;
          whole = openJpegSplice(bad, box, { newTables: true }).compose(overlay(box), box).bytes;
        } catch (error) {
          expect(error).toBeInstanceOf(NotSpliceable);
          continue;
        }
        const how = `mutation ${n}`;
        expect(Buffer.from(parseProgressiveJpeg(kept).coefficients.buffer).equals(Buffer.from(parseProgressiveJpeg(whole).coefficients.buffer)), how).toBe(true);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(20);
  }, 60_000);

  it('decoded in another thread and offered: the same bytes; smaller than the whole re-encode on a photograph-like picture', async () => {
    const jpeg = await sharp(picture(640, 480, 40), raw(640, 480)).jpeg({ quality: 85, progressive: true }).toBuffer();
    const box: PixelBox = { left: 400, top: 420, width: 220, height: 45 };
    const here = openJpegSplice(jpeg, box).compose(overlay(box), box);
    const offered = parseProgressiveJpeg(jpeg);
    const crossed = structuredClone(offered, { transfer: transferables(offered) });
    expect(offered.progressive?.scans[0]?.starts.length).toBe(0);
    const there = await withPreparsed(jpeg, { progressive: crossed }, async () => openJpegSplice(jpeg, box).compose(overlay(box), box));
    expect(Buffer.from(there.bytes).equals(Buffer.from(here.bytes))).toBe(true);
    const whole = openJpegSplice(jpeg, box, { newTables: true }).compose(overlay(box), box);
    expect(here.bytes.length).toBeLessThan(whole.bytes.length);
  });

  it('labelImage labels a progressive JPEG with its scans kept; a record that does not fit its file is refused, not written', async () => {
    const jpeg = await sharp(picture(640, 480, 40), raw(640, 480)).jpeg({ quality: 85, progressive: true }).toBuffer();
    const result = await labelImage(jpeg, { text: 'AI生成' });
    expect(result.method).toBe('dct-splice');
    expect(scanHeaders(result.bytes)).toEqual(scanHeaders(jpeg));
    expect(Math.abs(result.bytes.length - jpeg.length)).toBeLessThan(jpeg.length * 0.03);
    expect((await sharp(result.bytes).metadata()).isProgressive).toBe(true);
    // No record of the scans (a decode from elsewhere that lost it).
    const decoded = parseProgressiveJpeg(jpeg);
    expect(() => spliceProgressive(jpeg, { ...decoded, progressive: undefined }, [0])).toThrow(NotSpliceable);
    expect(() => spliceProgressive(jpeg, decoded, [decoded.coefficients.length])).toThrow(NotSpliceable);
    const scan = decoded.progressive?.scans[1];
    if (!scan) throw new Error('no second scan');
    scan.starts[scan.units] = scan.clean.length * 8 + 64;
    expect(() => spliceProgressive(jpeg, decoded, [0])).toThrow('does not fit the file');
    expect(() => spliceProgressive(jpeg.subarray(0, scan.dataEnd - 1), decoded, [0])).toThrow('does not fit the file');
  });
});
