/**
 * The DCT-block splice of baseline JPEGs (`jpeg-splice.ts`): every block outside the notice's
 * MCUs keeps its quantised coefficients exactly, sharp decodes the result to the original's
 * pixels away from the notice (one MCU of margin: libjpeg's fancy upsampling spreads a chroma
 * sample into the next MCU), and the notice is there. Sampling layouts sharp does not write
 * (4:2:2, 4:1:1) and restart intervals come from a small baseline writer built from the
 * module's own parts (`writeBaseline`), which sharp then decodes as the reference.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { checkExplicitLabel } from './check.js';
import { labelImage } from './image.js';
import { forwardBlock } from './jpeg-splice-dct.js';
import { BitWriter, countAc, countDc, dhtSegment, encodeBlocks, optimalTable } from './jpeg-splice-encode.js';
import { huffmanTable, indexBaselineScan, MAX_INDEXED_MCUS, mcuOrigin, NotSpliceable, packed, parseBaselineJpeg, SKIP_END, SKIP_NONE, skipTable, withPreparsed, type BaselineJpeg, type ScanIndex, type FrameComponent, type HuffmanTable } from './jpeg-splice-parse.js';
import { openJpegSplice, type SpliceResult } from './jpeg-splice.js';
import { parseProgressiveJpeg, transferables } from './jpeg-progressive.js';
import { appendSymbols, remapTable, type RemappedTable } from './jpeg-splice-tables.js';
import type { PixelBox } from './image-style.js';
import { shadedField, stripedOverlay } from '../../../test/helpers/pixels.js';
import { systemTool } from '../../../test/helpers/system.js';

/** A smooth colour field with seeded noise (JPEG work like a photograph's). */
function picture(width: number, height: number, seed = 7): Buffer {
  return shadedField(width, height, (x, y, c) => 128 + 90 * Math.sin((x * (c + 1)) / 37 + y / 51) * Math.cos(y / (29 + c * 7)), 40, seed);
}

const LUMA = [16, 11, 12, 14, 12, 10, 16, 14, 13, 14, 18, 17, 16, 19, 24, 40, 26, 24, 22, 22, 24, 49, 35, 37, 29, 40, 58, 51, 61, 60, 57, 51, 56, 55, 64, 72, 92, 78, 64, 68, 87, 69, 55, 56, 80, 109, 81, 87, 95, 98, 103, 104, 103, 62, 77, 113, 121, 112, 100, 120, 92, 101, 103, 99];
const CHROMA = [17, 18, 18, 24, 21, 24, 47, 26, 26, 47, 99, 66, 56, 66, 99, 99, ...Array.from({ length: 48 }, () => 99)];
const scaled = (table: number[]): Uint16Array => Uint16Array.from(table, (v) => Math.max(1, Math.min(255, Math.floor((v * 30 + 50) / 100)))); // IJG quality 85

/**
 * A baseline JPEG of `rgb` with the given sampling factors (`[h, v]` per component, one for
 * greyscale) and restart interval, optimal Huffman tables.
 */
function writeBaseline(rgb: Buffer, width: number, height: number, sampling: [number, number][], restartInterval = 0): Uint8Array {
  const grey = sampling.length === 1;
  const hMax = Math.max(...sampling.map((s) => s[0]));
  const vMax = Math.max(...sampling.map((s) => s[1]));
  const mcusX = Math.ceil(width / (8 * hMax));
  const mcusY = Math.ceil(height / (8 * vMax));
  const quant = [scaled(LUMA), scaled(CHROMA)];
  let blockBase = 0;
  const comps = sampling.map(([h, v], index) => {
    const c = { h, v, blocksW: mcusX * h, blocksH: mcusY * v, blockBase: blockBase, q: index === 0 ? 0 : 1 };
    blockBase += c.blocksW * c.blocksH;
    return c;
  });
  const coefficients = new Int16Array(blockBase * 64);
  comps.forEach((c, index) => {
    const sx = hMax / c.h;
    const sy = vMax / c.v;
    const stride = c.blocksW * 8;
    const plane = new Float32Array(stride * c.blocksH * 8);
    for (let y = 0; y < c.blocksH * 8; y++) {
      for (let x = 0; x < stride; x++) {
        let sum = 0;
        for (let j = 0; j < sy; j++) {
          for (let i = 0; i < sx; i++) {
            const px = Math.min(width - 1, x * sx + i);
            const py = Math.min(height - 1, y * sy + j);
            const at = (py * width + px) * 3;
            const [r, g, b] = [rgb[at] as number, rgb[at + 1] as number, rgb[at + 2] as number];
            sum += grey || index === 0 ? 0.299 * r + 0.587 * g + 0.114 * b : index === 1 ? -0.168736 * r - 0.331264 * g + 0.5 * b + 128 : 0.5 * r - 0.418688 * g - 0.081312 * b + 128;
          }
        }
        plane[y * stride + x] = sum / (sx * sy);
      }
    }
    for (let by = 0; by < c.blocksH; by++) {
      for (let bx = 0; bx < c.blocksW; bx++) forwardBlock(plane, stride, bx * 8, by * 8, quant[c.q] as Uint16Array, coefficients, (c.blockBase + by * c.blocksW + bx) * 64);
    }
  });
  const bases: number[] = [];
  const components: number[] = [];
  const restarts: number[] = [];
  for (let m = 0; m < mcusX * mcusY; m++) {
    if (restartInterval > 0 && m > 0 && m % restartInterval === 0) restarts.push(bases.length);
    const my = Math.floor(m / mcusX);
    const mx = m % mcusX;
    comps.forEach((c, index) => {
      for (let v = 0; v < c.v; v++) {
        for (let h = 0; h < c.h; h++) {
          bases.push((c.blockBase + (my * c.v + v) * c.blocksW + mx * c.h + h) * 64);
          components.push(index);
        }
      }
    });
  }
  const dcCounts = [new Int32Array(256), new Int32Array(256)];
  const acCounts = [new Int32Array(256), new Int32Array(256)];
  const pred = new Int32Array(3);
  bases.forEach((base, i) => {
    const c = components[i] as number;
    const t = c === 0 ? 0 : 1;
    if (restarts.includes(i)) pred.fill(0);
    countDc((coefficients[base] as number) - (pred[c] as number), dcCounts[t] as Int32Array);
    pred[c] = coefficients[base] as number;
    countAc(coefficients, base, acCounts[t] as Int32Array, 1);
  });
  const tables = (grey ? [0] : [0, 1]).map((t) => ({ dc: optimalTable(dcCounts[t] as Int32Array), ac: optimalTable(acCounts[t] as Int32Array) }));
  const w = new BitWriter(width * height);
  const segment = (marker: number, body: number[]): number[] => [0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 255, ...body];
  const header: number[] = [0xff, 0xd8];
  header.push(...segment(0xe0, [0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]));
  (grey ? [0] : [0, 1]).forEach((t) => header.push(...segment(0xdb, [t, ...Array.from(quant[t] as Uint16Array)])));
  header.push(...segment(0xc0, [8, height >> 8, height & 255, width >> 8, width & 255, comps.length, ...comps.flatMap((c, i) => [i + 1, (c.h << 4) | c.v, c.q])]));
  if (restartInterval > 0) header.push(...segment(0xdd, [restartInterval >> 8, restartInterval & 255]));
  w.raw(Uint8Array.from(header));
  w.raw(dhtSegment(tables.flatMap((t, id) => [[0, id, t.dc] as [number, number, typeof t.dc], [1, id, t.ac] as [number, number, typeof t.ac]])));
  w.raw(Uint8Array.from(segment(0xda, [comps.length, ...comps.flatMap((c, i) => [i + 1, c.q === 0 ? 0x00 : 0x11]), 0, 63, 0])));
  const byComponent = comps.map((c) => tables[c.q] as (typeof tables)[number]);
  encodeBlocks(w, coefficients, { bases: Int32Array.from(bases), components: Uint8Array.from(components), restarts: Int32Array.from(restarts), firstMarker: 0 }, new Int32Array(3), byComponent.map((t) => t.dc), byComponent.map((t) => t.ac));
  w.marker(0xd9);
  return w.result().slice();
}

/** A notice-like overlay: an opaque dark plate with light bars. */
const overlay = stripedOverlay;

async function pixels(bytes: Uint8Array): Promise<{ data: Buffer; channels: number }> {
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  return { data, channels: info.channels };
}

/** Blocks whose MCU lies outside `mcus` keep their coefficients; returns how many blocks were compared. */
function expectCoefficientsKept(before: BaselineJpeg, after: BaselineJpeg, result: SpliceResult): number {
  expect(after.coefficients.length).toBe(before.coefficients.length);
  let compared = 0;
  for (const c of before.components) {
    for (let by = 0; by < c.blocksH; by++) {
      for (let bx = 0; bx < c.blocksW; bx++) {
        const mx = Math.floor(bx / c.h);
        const my = Math.floor(by / c.v);
        if (mx >= result.mcus.x0 && mx <= result.mcus.x1 && my >= result.mcus.y0 && my <= result.mcus.y1) continue;
        const base = (c.blockBase + by * c.blocksW + bx) * 64;
        const a = before.coefficients.subarray(base, base + 64);
        const b = after.coefficients.subarray(base, base + 64);
        if (!a.every((v, i) => v === b[i])) throw new Error(`block ${bx},${by} of component ${c.id} changed outside the notice`);
        compared++;
      }
    }
  }
  return compared;
}

/**
 * Parses `jpeg` 40 times with garbage written over eight bytes of its entropy-coded data (seeded):
 * each parse either succeeds or is refused with NotSpliceable, nothing else. Returns how many were refused.
 */
function refusedGarbage(jpeg: Uint8Array, scan: { scanStart: number; scanEnd: number }, parse: (bytes: Uint8Array) => unknown): number {
  let refused = 0;
  for (let seed = 1; seed <= 40; seed++) {
    const bad = Buffer.from(jpeg);
    for (let i = 0; i < 8; i++) bad[scan.scanStart + ((seed * 7919 + i * 104729) % (scan.scanEnd - scan.scanStart - 4))] = (seed * 37 + i) & 0xfe;
    try {
      parse(bad);
    } catch (error) {
      expect(error).toBeInstanceOf(NotSpliceable);
      refused++;
    }
  }
  return refused;
}

/** Splices `overlay` into `jpeg` at `box` and checks pixels and coefficients against the original. */
async function spliceAndCompare(jpeg: Uint8Array, box: PixelBox, options: { newTables?: boolean } = {}): Promise<SpliceResult> {
  const original = jpeg.slice();
  const splice = openJpegSplice(jpeg, box, options);
  splice.sample(box);
  const result = splice.compose(overlay(box), box);
  expect(jpeg).toEqual(original);
  expect(result.changedBlocks).toBeGreaterThan(0);
  const isProgressive = (bytes: Uint8Array): boolean => Buffer.from(bytes).includes(Buffer.from([0xff, 0xc2]));
  const before = isProgressive(jpeg) ? parseProgressiveJpeg(jpeg) : parseBaselineJpeg(jpeg);
  // A progressive file stays progressive.
  expect(isProgressive(result.bytes)).toBe(isProgressive(jpeg));
  const after = isProgressive(result.bytes) ? parseProgressiveJpeg(result.bytes) : parseBaselineJpeg(result.bytes);
  expect([after.width, after.height]).toEqual([before.width, before.height]);
  const total = before.components.reduce((sum, c) => sum + c.blocksW * c.blocksH, 0);
  const compared = expectCoefficientsKept(before, after, result);
  const inside = before.components.reduce((sum, c) => sum + (result.mcus.x1 - result.mcus.x0 + 1) * (result.mcus.y1 - result.mcus.y0 + 1) * c.h * c.v, 0);
  expect(compared).toBe(total - inside);
  // Pixels: identical outside the notice's MCUs dilated by one MCU.
  const a = await pixels(jpeg);
  const b = await pixels(result.bytes);
  const x0 = (result.mcus.x0 - 1) * result.mcuWidth;
  const x1 = (result.mcus.x1 + 2) * result.mcuWidth;
  const y0 = (result.mcus.y0 - 1) * result.mcuHeight;
  const y1 = (result.mcus.y1 + 2) * result.mcuHeight;
  let outside = 0;
  let changedInside = 0;
  for (let y = 0; y < before.height; y++) {
    for (let x = 0; x < before.width; x++) {
      const near = x >= x0 && x < x1 && y >= y0 && y < y1;
      for (let c = 0; c < a.channels; c++) {
        const at = (y * before.width + x) * a.channels + c;
        if (a.data[at] === b.data[at]) continue;
        if (near) changedInside++;
        else outside++;
      }
    }
  }
  expect(outside).toBe(0);
  expect(changedInside).toBeGreaterThan(0);
  // The notice is there: the bars' light and the plate's dark in the middle row of the box.
  const row = box.top + Math.floor(box.height / 2);
  const values = Array.from({ length: box.width - 8 }, (_, i) => b.data[(row * before.width + box.left + 4 + i) * b.channels] as number);
  expect(Math.max(...values)).toBeGreaterThan(200);
  expect(Math.min(...values)).toBeLessThan(60);
  return result;
}

const W = 203;
const H = 157;
const BOX: PixelBox = { left: 101, top: 117, width: 90, height: 30 };

describe('JPEG DCT-block splice', () => {
  it('keeps every block outside the notice on sharp 4:2:0 and 4:4:4 JPEGs, optimised or standard tables', async () => {
    const rgb = picture(W, H);
    for (const options of [
      { chromaSubsampling: '4:2:0', optimiseCoding: true },
      { chromaSubsampling: '4:2:0', optimiseCoding: false },
      { chromaSubsampling: '4:4:4', optimiseCoding: true },
      { chromaSubsampling: '4:4:4', optimiseCoding: false },
    ]) {
      const jpeg = await sharp(rgb, { raw: { width: W, height: H, channels: 3 } }).jpeg({ quality: 85, ...options }).toBuffer();
      const result = await spliceAndCompare(jpeg, BOX);
      expect(result.tables).not.toBe('extended');
      if (!options.optimiseCoding) {
        // libjpeg's standard tables code every symbol: only the MCUs from the notice on are coded again.
        expect(result.tables).toBe('kept');
        expect(result.copiedBytes).toBeGreaterThan(0);
      }
    }
  });

  it('handles 4:2:2, 4:1:1, 4:4:0 and greyscale, with and without restart intervals, at odd sizes', async () => {
    const rgb = picture(W, H, 99);
    const layouts: [number, number][][] = [
      [[2, 1], [1, 1], [1, 1]],
      [[4, 1], [1, 1], [1, 1]],
      [[1, 2], [1, 1], [1, 1]],
      [[2, 2], [1, 1], [1, 1]],
      [[1, 1]],
    ];
    const modes = new Set<string>();
    for (const sampling of layouts) {
      for (const restart of [0, 1, 3, 7]) {
        const jpeg = writeBaseline(rgb, W, H, sampling, restart);
        expect((await sharp(jpeg).metadata()).width).toBe(W);
        modes.add((await spliceAndCompare(jpeg, BOX)).tables);
      }
    }
    // writeBaseline's optimal tables lack the notice's symbols: room is made by remapping a rare code, not by coding everything again.
    expect(modes).toContain('remapped');
    expect(modes).not.toContain('extended');
  });

  it('copies the coded bits after the notice (shifted, restuffed, restart markers kept) for boxes anywhere, every table path', async () => {
    const rgb = picture(W, H, 31);
    const sharpOptimised = await sharp(rgb, { raw: { width: W, height: H, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
    const standard = await sharp(rgb, { raw: { width: W, height: H, channels: 3 } }).jpeg({ quality: 92, optimiseCoding: false }).toBuffer();
    const boxes: PixelBox[] = [
      { left: 0, top: 0, width: 50, height: 20 },
      { left: 150, top: 0, width: 53, height: 24 },
      { left: 60, top: 70, width: 70, height: 18 },
      { left: 9, top: 41, width: 33, height: 9 },
    ];
    const modes = new Set<string>();
    for (const jpeg of [sharpOptimised, standard, writeBaseline(rgb, W, H, [[2, 2], [1, 1], [1, 1]], 3), writeBaseline(rgb, W, H, [[1, 1], [1, 1], [1, 1]], 7), writeBaseline(rgb, W, H, [[1, 1]], 2)]) {
      for (const box of boxes) {
        const result = openJpegSplice(jpeg, box).compose(overlay(box), box);
        modes.add(result.tables);
        expect(await spliceAndCompare(jpeg, box, { newTables: true })).toMatchObject({ tables: 'extended' });
      }
    }
    expect([...modes].sort()).toEqual(['kept', 'remapped']);
  });

  it('keeps the coefficients at every seam position: bits copied at each shift, 0xFF bytes restuffed', () => {
    const rgb = picture(96, 64, 77);
    const jpeg = writeBaseline(rgb, 96, 64, [[2, 1], [1, 1], [1, 1]], 0);
    const before = parseBaselineJpeg(jpeg);
    let stuffed = 0;
    for (let left = 0; left + 12 <= 96; left += 5) {
      for (let top = 0; top + 10 <= 64; top += 9) {
        const box = { left, top, width: 12, height: 10 };
        const splice = openJpegSplice(jpeg, box);
        const result = splice.compose(overlay(box), box);
        const after = parseBaselineJpeg(result.bytes);
        expectCoefficientsKept(before, after, result);
        for (let i = after.scanStart; i < after.scanEnd - 1; i++) if (result.bytes[i] === 0xff && result.bytes[i + 1] === 0) stuffed++;
      }
    }
    expect(stuffed).toBeGreaterThan(0);
  });

  it('refuses corrupt coded data after the notice too (it is decoded, not copied blind)', async () => {
    const jpeg = await sharp(picture(W, H, 8), { raw: { width: W, height: H, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
    const scan = parseBaselineJpeg(jpeg);
    const top: PixelBox = { left: 0, top: 0, width: 40, height: 16 };
    let refused = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const bad = Buffer.from(jpeg);
      const span = scan.scanEnd - scan.scanStart;
      for (let i = 0; i < 6; i++) bad[scan.scanStart + Math.floor(span * 0.6) + ((seed * 7919 + i * 104729) % Math.floor(span * 0.35))] = (seed * 37 + i) & 0xfe;
      try {
        openJpegSplice(bad, top);
      } catch (error) {
        expect(error).toBeInstanceOf(NotSpliceable);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(0);
    const cut = Buffer.concat([jpeg.subarray(0, scan.scanEnd - 200), Buffer.from([0xff, 0xd9])]);
    expect(() => openJpegSplice(cut, top)).toThrow(NotSpliceable);
  });

  it('adds missing symbols keeping every short code, and remaps only codes longer than 9 bits', () => {
    // A full table (only the all-ones code unused): 1 code of 1 bit, ..., 2 of 16 bits.
    const counts = new Uint8Array(17);
    for (let len = 1; len <= 15; len++) counts[len] = 1;
    counts[16] = 1;
    const full = huffmanTable(counts, Uint8Array.from({ length: 16 }, (_, i) => i + 1));
    expect(appendSymbols(full, [0x55])).toBeUndefined();
    const moved = remapTable(full, [0x55, 0x66]) as NonNullable<ReturnType<typeof remapTable>>;
    expect(moved).toBeDefined();
    for (let s = 1; s <= 16; s++) {
      if ((full.length[s] as number) <= 9) expect([moved.table.code[s], moved.table.length[s], moved.changed[s]]).toEqual([full.code[s], full.length[s], 0]);
      else if (moved.changed[s] === 0) expect([moved.table.code[s], moved.table.length[s]]).toEqual([full.code[s], full.length[s]]);
    }
    expect([moved.table.length[0x55], moved.table.length[0x66]]).toEqual([16, 16]);
    // A table with room: the symbols go after its longest codes, every old code kept.
    const short = new Uint8Array(17);
    short[2] = 3;
    const roomy = huffmanTable(short, Uint8Array.from([1, 2, 3]));
    const appended = appendSymbols(roomy, [9, 10]) as NonNullable<ReturnType<typeof appendSymbols>>;
    for (const s of [1, 2, 3]) expect([appended.code[s], appended.length[s]]).toEqual([roomy.code[s], roomy.length[s]]);
    expect(appended.length[9]).toBeGreaterThan(0);
    // Too many symbols for any room: neither works, and the splice codes the scan with new tables.
    expect(remapTable(full, Array.from({ length: 200 }, (_, i) => i + 20))).toBeUndefined();
  });

  it('moves a symbol by 4 bits where that makes room (half the copy stays byte-aligned), else to 16 bits', () => {
    // Symbol i has a code of i bits (1 to 16): only the all-ones code is unused.
    const counts = new Uint8Array(17);
    for (let len = 1; len <= 16; len++) counts[len] = 1;
    const full = huffmanTable(counts, Uint8Array.from({ length: 16 }, (_, i) => i + 1));
    const extras = (n: number): number[] => Array.from({ length: n }, (_, i) => 0x20 + i);
    // Moving 12 bits to 16 frees 15 codes of 16 bits, 11 to 15 bits 30, 10 to 14 bits 60.
    expect((remapTable(full, extras(1)) as RemappedTable).moved).toEqual({ symbol: 12, from: 12, to: 16 });
    expect((remapTable(full, extras(29)) as RemappedTable).moved).toEqual({ symbol: 11, from: 11, to: 15 });
    expect((remapTable(full, extras(60)) as RemappedTable).moved).toEqual({ symbol: 10, from: 10, to: 14 });
    // No move by 4 bits makes room for 62: the old rule, the longest length whose move to 16 bits does.
    expect((remapTable(full, extras(62)) as RemappedTable).moved).toEqual({ symbol: 10, from: 10, to: 16 });
    expect(remapTable(full, extras(64))).toBeUndefined();
    for (const n of [1, 29, 60, 62]) {
      const moved = remapTable(full, extras(n)) as RemappedTable;
      let kraft = 0;
      for (let s = 0; s < 256; s++) {
        const length = moved.table.length[s] as number;
        if (length === 0) continue;
        kraft += 2 ** (16 - length);
        if (full.length[s] !== 0 && (full.length[s] as number) <= 9) expect([moved.table.code[s], moved.table.length[s], moved.changed[s]]).toEqual([full.code[s], full.length[s], 0]);
        else if (full.length[s] !== 0 && moved.changed[s] === 0) expect([moved.table.code[s], moved.table.length[s]]).toEqual([full.code[s], full.length[s]]);
      }
      // A valid canonical table, the all-ones code still unused, every extra symbol at 16 bits.
      expect(kraft).toBeLessThanOrEqual(2 ** 16 - 1);
      expect(extras(n).every((s) => moved.table.length[s] === 16)).toBe(true);
    }
  });

  /** The symbol the splice used to move (to 16 bits): the last of the longest length of 10 to 15 bits whose room suffices. */
  const oldRule = (table: HuffmanTable, extras: number): number => {
    let used = 0;
    for (let s = 0; s < 256; s++) if (table.length[s] !== 0) used += 2 ** (16 - (table.length[s] as number));
    let at = 0;
    const last: number[] = [];
    for (let len = 1; len <= 16; len++) {
      at += table.counts[len] as number;
      last[len] = table.counts[len] === 0 ? -1 : (table.symbols[at - 1] as number);
    }
    for (let len = 15; len > 9; len--) if ((last[len] as number) >= 0 && 2 ** 16 - 1 - used + 2 ** (16 - len) - 1 >= extras) return last[len] as number;
    return -1;
  };

  it('copies more of the coded data before the notice byte-aligned than moving the old rule\'s symbol, the same coefficients', async () => {
    let aligned = 0;
    let oldAligned = 0;
    let remapped = 0;
    for (const [width, height, seed, subsampling] of [[480, 360, 3, '4:2:0'], [400, 400, 5, '4:4:4'], [512, 288, 6, '4:2:0']] as const) {
      const jpeg = await sharp(picture(width, height, seed), { raw: { width, height, channels: 3 } }).jpeg({ quality: 85, chromaSubsampling: subsampling }).toBuffer();
      for (const box of [{ left: width - 130, top: height - 40, width: 120, height: 32 }, { left: 10, top: height - 40, width: 120, height: 32 }, { left: width - 130, top: 8, width: 120, height: 32 }]) {
        const result = openJpegSplice(jpeg, box).compose(overlay(box), box);
        // The same coefficients as the same splice coded with new tables: the same pixels as any choice of moved symbol.
        const extended = openJpegSplice(jpeg, box, { newTables: true }).compose(overlay(box), box);
        const after = parseBaselineJpeg(result.bytes);
        const same = parseBaselineJpeg(extended.bytes).coefficients;
        expect(Buffer.from(after.coefficients.buffer, after.coefficients.byteOffset, after.coefficients.byteLength).equals(Buffer.from(same.buffer, same.byteOffset, same.byteLength))).toBe(true);
        expect((await pixels(result.bytes)).data.equals((await pixels(extended.bytes)).data)).toBe(true);
        if (result.tables !== 'remapped') continue;
        remapped++;
        // Bits before the first changed MCU, and each long code's growth there, new tables and the old rule's.
        const before = parseBaselineJpeg(jpeg);
        let first = 0;
        while (before.coefficients.subarray(first * 64, first * 64 + 64).every((v, i) => v === after.coefficients[first * 64 + i])) first++;
        const c = before.components[0] as FrameComponent;
        // The notice changes luma blocks: the first changed one in storage order (block rows) is in the first changed MCU.
        const block = first - c.blockBase;
        const mcu = Math.floor(Math.floor(block / c.blocksW) / c.v) * before.mcusX + Math.floor((block % c.blocksW) / c.h);
        const end = before.mcuBits[Math.min(mcu, before.mcuBits.length - 1)] as number;
        const tables = (jpeg: BaselineJpeg, key: number): HuffmanTable => (key < 4 ? jpeg.dc[key] : jpeg.ac[key - 4]) as HuffmanTable;
        const old = new Map<number, number>();
        for (let key = 0; key < 8; key++) {
          const input = key < 4 ? before.dc[key] : before.ac[key - 4];
          if (!input) continue;
          const output = tables(after, key);
          const extra = Array.from({ length: 256 }, (_, s) => s).filter((s) => input.length[s] === 0 && output.length[s] !== 0);
          if (extra.length > 0 && appendSymbols(input, extra) === undefined) old.set(key, oldRule(input, extra.length));
        }
        const alignedBits = (grow: (key: number, symbol: number) => number): number => {
          let shift = 0;
          let last = 0;
          let sum = 0;
          for (let i = 0; i < before.long.length && (before.long.positions[i] as number) < end; i++) {
            const key = (before.long.keys[i] as number) >> 8;
            const delta = grow(key, (before.long.keys[i] as number) & 255);
            if (delta === 0) continue;
            if (shift === 0) sum += (before.long.positions[i] as number) - last;
            last = before.long.positions[i] as number;
            shift = (shift + delta) & 7;
          }
          return sum + (shift === 0 ? end - last : 0);
        };
        aligned += alignedBits((key, s) => (tables(after, key).length[s] as number) - (tables(before, key).length[s] as number));
        oldAligned += alignedBits((key, s) => (old.get(key) === s ? 16 - (tables(before, key).length[s] as number) : 0));
      }
    }
    expect(remapped).toBeGreaterThan(3);
    expect(aligned).toBeGreaterThan(oldAligned * 1.5);
  }, 120_000);

  it('copies the coded data before the notice verbatim and re-codes only from there when the tables allow', async () => {
    const rgb = picture(W, H, 5);
    for (const restart of [0, 4]) {
      const jpeg = writeBaseline(rgb, W, H, [[2, 2], [1, 1], [1, 1]], restart);
      // writeBaseline's optimal tables lack symbols; libjpeg's standard tables (sharp without optimisation) have them all.
      const standard = await sharp(await sharp(jpeg).raw().toBuffer(), { raw: { width: W, height: H, channels: 3 } }).jpeg({ quality: 90, optimiseCoding: false }).toBuffer();
      const result = await spliceAndCompare(standard, BOX);
      expect(result.tables).toBe('kept');
      const scan = parseBaselineJpeg(standard);
      expect(Buffer.from(result.bytes.subarray(0, scan.scanStart + result.copiedBytes)).equals(Buffer.from(standard.subarray(0, scan.scanStart + result.copiedBytes)))).toBe(true);
    }
  });

  it('decodes whole only the notice\'s MCU columns (and the MCU after each), the DC values of every kept block, as a whole decode does', async () => {
    const rgb = picture(W, H, 9);
    for (const chromaSubsampling of ['4:2:0', '4:4:4']) {
      const jpeg = await sharp(rgb, { raw: { width: W, height: H, channels: 3 } }).jpeg({ quality: 90, chromaSubsampling }).toBuffer();
      // A box whose last column is the image's last: the MCU after it starts the next row.
      for (const box of [BOX, { left: 150, top: 40, width: 53, height: 50 }]) {
        const first = { x: box.left, y: box.top };
        const last = { x: box.left + box.width - 1, y: box.top + box.height - 1 };
        const part = parseBaselineJpeg(jpeg, first, last);
        const whole = parseBaselineJpeg(jpeg, first, last, true);
        expect(part.acColumns).toBeDefined();
        expect(whole.acColumns).toBeUndefined();
        expect(Array.from(part.mcuBits)).toEqual(Array.from(whole.mcuBits));
        const { first: c0, last: c1 } = part.acColumns as { first: number; last: number };
        let wholeMcus = 0;
        for (let m = part.from; m < part.to; m++) {
          const x = m % part.mcusX;
          const before = (m - 1 + part.mcusX) % part.mcusX;
          const full = (x >= c0 && x <= c1) || (m > part.from && before >= c0 && before <= c1);
          wholeMcus += full ? 1 : 0;
          for (const c of part.components) {
            const origin = mcuOrigin(c, m, part.mcusX);
            for (let v = 0; v < c.v; v++) {
              for (let h = 0; h < c.h; h++) {
                const base = origin + (v * c.blocksW + h) * 64;
                const values = full ? 64 : 1;
                expect(Array.from(part.coefficients.subarray(base, base + values))).toEqual(Array.from(whole.coefficients.subarray(base, base + values)));
              }
            }
          }
        }
        expect(wholeMcus).toBeLessThan(part.to - part.from);
        // New tables (which count every kept block's symbols) decode the scan again whole.
        expect(await spliceAndCompare(jpeg, box, { newTables: true })).toMatchObject({ tables: 'extended' });
        await spliceAndCompare(jpeg, box);
      }
    }
  });

  it('makes the arrays its loops read as map does, with no holes (packed)', () => {
    expect(packed([3, 1, 2], (value, index) => value * 10 + index)).toEqual([30, 11, 22]);
    expect(packed([], () => 1)).toEqual([]);
    const made = packed([0, 0, 0, 0], () => undefined);
    expect(made).toHaveLength(4);
    expect(Object.keys(made)).toEqual(['0', '1', '2', '3']);
  });

  it('skips runs of AC symbols that never pass a block\'s end, even with hostile short codes', () => {
    // A 1-bit zero run of 16 and a 2-bit end of block: twelve runs fit a 12-bit window.
    const counts = new Uint8Array(17);
    counts[1] = 1;
    counts[2] = 1;
    counts[3] = 1;
    const table = huffmanTable(counts, Uint8Array.from([0xf0, 0x00, 0x01]));
    const skip = skipTable(table);
    for (const entry of skip) {
      const advance = entry >> 8;
      expect(advance === SKIP_NONE || advance <= 63 || (advance >= SKIP_END && advance < SKIP_END + 64)).toBe(true);
      if (advance !== SKIP_NONE) expect(entry & 255).toBeLessThanOrEqual(12);
    }
    // All zeros: runs of 16 up to 63 positions at most (from position 1, 64 would leave the block); 0b10 then ones: end of block at once.
    expect(skip[0] as number).toBe((48 << 8) | 3);
    expect(skip[0b100000000000] as number).toBe((SKIP_END << 8) | 2);
    // 0b110 (run 0, size 1) then its magnitude bit, then an end of block.
    expect(skip[0b110010000000] as number).toBe(((SKIP_END + 1) << 8) | 6);
  });

  it('takes the overlay as it is at each compose, the same buffer changed in between too', async () => {
    const jpeg = await sharp(picture(W, H, 4), { raw: { width: W, height: H, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
    const drawn = overlay(BOX);
    expect(openJpegSplice(jpeg, BOX).compose(drawn, BOX).changedBlocks).toBeGreaterThan(0);
    // Transparent now: nothing to change, whatever the last overlay's weights were.
    for (let i = 3; i < drawn.length; i += 4) drawn[i] = 0;
    const again = openJpegSplice(jpeg, BOX).compose(drawn, BOX);
    expect(again.changedBlocks).toBe(0);
    expect(Buffer.from(again.bytes).equals(jpeg)).toBe(true);
  });

  it('splices file after file into reused arrays exactly as into fresh ones, a larger file before a smaller', async () => {
    const large = await sharp(picture(W, H, 12), { raw: { width: W, height: H, channels: 3 } }).jpeg({ quality: 95 }).toBuffer();
    const small = await sharp(picture(W, H, 13), { raw: { width: W, height: H, channels: 3 } }).jpeg({ quality: 40 }).toBuffer();
    const drawn = overlay(BOX);
    const fresh = [large, small, large].map((jpeg) => Buffer.from(openJpegSplice(jpeg, BOX).compose(drawn, BOX).bytes));
    const reused = [large, small, large].map((jpeg) => Buffer.from(openJpegSplice(jpeg, BOX, { reuseBuffers: true }).compose(drawn, BOX).bytes));
    expect(reused.map((bytes, i) => bytes.equals(fresh[i] as Buffer))).toEqual([true, true, true]);
    // A cut scan after a larger file's: still refused, not decoded on into the last file's bytes.
    openJpegSplice(large, BOX, { reuseBuffers: true });
    const cut = Buffer.concat([small.subarray(0, Math.floor(small.length * 0.7)), Buffer.from([0xff, 0xd9])]);
    expect(() => openJpegSplice(cut, BOX, { reuseBuffers: true })).toThrow(NotSpliceable);
    // New tables decode the scan again into arrays of their own.
    const extended = openJpegSplice(small, BOX, { reuseBuffers: true, newTables: true }).compose(drawn, BOX);
    expect(extended.tables).toBe('extended');
    expect(Buffer.from(extended.bytes).equals(Buffer.from(openJpegSplice(small, BOX, { newTables: true }).compose(drawn, BOX).bytes))).toBe(true);
  });

  it('splices with the scan walked beforehand (a scan index) exactly as without, restart intervals too, and takes no index made for other data', async () => {
    const rgb = picture(W, H, 41);
    const raw = { raw: { width: W, height: H, channels: 3 as const } };
    const files = [
      await sharp(rgb, raw).jpeg({ quality: 85 }).toBuffer(),
      await sharp(rgb, raw).jpeg({ quality: 97, chromaSubsampling: '4:4:4', optimiseCoding: false }).toBuffer(),
      await sharp(rgb, raw).jpeg({ quality: 30, quantisationTable: 2 }).toBuffer(),
      writeBaseline(rgb, W, H, [[4, 1], [1, 1], [1, 1]]),
      writeBaseline(rgb, W, H, [[1, 1]]),
      // Restart intervals: boxes that start and end at an interval's first MCU, and in its middle.
      writeBaseline(rgb, W, H, [[2, 2], [1, 1], [1, 1]], 3),
      writeBaseline(rgb, W, H, [[1, 1], [1, 1], [1, 1]], 1),
      writeBaseline(rgb, W, H, [[2, 1], [1, 1], [1, 1]], 13),
    ];
    const boxes: PixelBox[] = [BOX, { left: 0, top: 0, width: 70, height: 25 }, { left: 60, top: 50, width: 80, height: 40 }, { left: 0, top: 0, width: W, height: H }];
    let longCodes = 0;
    for (const jpeg of files) {
      const index = indexBaselineScan(jpeg);
      longCodes += index.longPositions.length;
      expect(index.mcuBits[index.totalMcus]).toBe(parseBaselineJpeg(jpeg).mcuBits[index.totalMcus]);
      for (const box of boxes) {
        const drawn = overlay(box);
        const first = { x: box.left, y: box.top };
        const last = { x: box.left + box.width - 1, y: box.top + box.height - 1 };
        const walked = parseBaselineJpeg(jpeg, first, last);
        const indexed = await withPreparsed(jpeg, { index }, async () => parseBaselineJpeg(jpeg, first, last));
        // The walk's own index is taken, not dropped.
        expect(indexed.indexed).toBe(true);
        expect(Array.from(indexed.mcuBits)).toEqual(Array.from(walked.mcuBits));
        expect(Array.from(indexed.predAtFrom)).toEqual(Array.from(walked.predAtFrom));
        expect(indexed.long.length).toBe(walked.long.length);
        expect(Array.from(indexed.long.positions.subarray(0, indexed.long.length))).toEqual(Array.from(walked.long.positions.subarray(0, walked.long.length)));
        expect(Array.from(indexed.long.keys.subarray(0, indexed.long.length))).toEqual(Array.from(walked.long.keys.subarray(0, walked.long.length)));
        expect(Buffer.from(indexed.coefficients).equals(Buffer.from(walked.coefficients))).toBe(true);
        expect(indexed.intervalEnds).toEqual(walked.intervalEnds);
        const plain = Buffer.from(openJpegSplice(jpeg, box).compose(drawn, box).bytes);
        const spliced = await withPreparsed(jpeg, { index }, async () => Buffer.from(openJpegSplice(jpeg, box, { reuseBuffers: true }).compose(drawn, box).bytes));
        expect(spliced.equals(plain)).toBe(true);
        // New tables parse the scan whole a second time: that parse takes the index too.
        const extended = await withPreparsed(jpeg, { index }, async () => Buffer.from(openJpegSplice(jpeg, box, { newTables: true }).compose(drawn, box).bytes));
        expect(extended.equals(Buffer.from(openJpegSplice(jpeg, box, { newTables: true }).compose(drawn, box).bytes))).toBe(true);
      }
    }
    // Long codes (past the 9-bit lookahead) before, inside and after the kept MCUs came from the index.
    expect(longCodes).toBeGreaterThan(0);
    const [a, b] = files as [Buffer, Buffer];
    const drawn = overlay(BOX);
    // Another file's index, or an index offered for other bytes (a copy), is not taken.
    const other = indexBaselineScan(b);
    expect(await withPreparsed(a, { index: other }, async () => Buffer.from(openJpegSplice(a, BOX).compose(drawn, BOX).bytes))).toEqual(Buffer.from(openJpegSplice(a, BOX).compose(drawn, BOX).bytes));
    const lying = indexBaselineScan(a);
    lying.mcuBits.fill(0);
    expect(await withPreparsed(Buffer.from(a), { index: lying }, async () => Buffer.from(openJpegSplice(a, BOX).compose(drawn, BOX).bytes))).toEqual(Buffer.from(openJpegSplice(a, BOX).compose(drawn, BOX).bytes));
    // An index that does not fit the data it is offered for is dropped, not trusted: the file is read as if none had been offered; nothing stays offered afterwards.
    const dropped = await withPreparsed(a, { index: lying }, async () => openJpegSplice(a, BOX));
    expect(dropped.jpeg.indexed).toBeUndefined();
    expect(() => openJpegSplice(a, BOX)).not.toThrow();
    // Files the splice refuses are not indexed.
    expect(() => indexBaselineScan(Buffer.concat([a.subarray(0, a.length >> 1), Buffer.from([0xff, 0xd9])]))).toThrow(NotSpliceable);
    const progressive = await sharp(rgb, raw).jpeg({ progressive: true }).toBuffer();
    expect(() => indexBaselineScan(progressive)).toThrow(NotSpliceable);
    // A frame header claiming a grid of more MCUs than an index covers (the scan itself is never reached).
    const huge = Buffer.from(a);
    const sof = huge.indexOf(Buffer.from([0xff, 0xc0]));
    huge.writeUInt16BE(65_000, sof + 5);
    huge.writeUInt16BE(65_000, sof + 7);
    expect(() => indexBaselineScan(huge)).toThrow(`more than ${MAX_INDEXED_MCUS} MCUs`);
  });

  it('drops a scan index that is not the walk of the bytes it is offered with (another file, a changed file, altered arrays): the same bytes as without one, never a failure', async () => {
    const raw = { raw: { width: W, height: H, channels: 3 as const } };
    // Two files of the same length (the shorter padded after its end of image, as camera files often are).
    let a = await sharp(picture(W, H, 51), raw).jpeg({ quality: 85, optimiseCoding: false }).toBuffer();
    let c = await sharp(picture(W, H, 52), raw).jpeg({ quality: 85, optimiseCoding: false }).toBuffer();
    const length = Math.max(a.length, c.length);
    a = Buffer.concat([a, Buffer.alloc(length - a.length)]);
    c = Buffer.concat([c, Buffer.alloc(length - c.length)]);
    expect(indexBaselineScan(a).scanStart).toBe(indexBaselineScan(c).scanStart);
    const restarted = Buffer.from(writeBaseline(picture(W, H, 53), W, H, [[2, 2], [1, 1], [1, 1]], 3));
    const boxes: PixelBox[] = [BOX, { left: 60, top: 50, width: 80, height: 40 }, { left: 0, top: 0, width: 30, height: 16 }];
    /** Every splice of `jpeg` with `index` offered equals its splice with none (kept and new tables, reused arrays or not), and takes no index (unless `taken`). */
    const same = async (jpeg: Buffer, make: () => ScanIndex, taken = false): Promise<void> => {
      for (const box of boxes) {
        const drawn = overlay(box);
        for (const newTables of [false, true]) {
          const plain = Buffer.from(openJpegSplice(jpeg, box, { newTables }).compose(drawn, box).bytes);
          const index = make();
          const spliced = await withPreparsed(jpeg, { index }, async () => {
            const open = openJpegSplice(jpeg, box, { newTables, reuseBuffers: true });
            const bytes = Buffer.from(open.compose(drawn, box).bytes);
            expect(open.jpeg.indexed).toBe(taken ? true : undefined);
            return bytes;
          });
          expect(spliced.equals(plain)).toBe(true);
        }
      }
    };
    const altered = (jpeg: Buffer, change: (index: ScanIndex) => void) => (): ScanIndex => {
      const index = indexBaselineScan(jpeg);
      change(index);
      return index;
    };
    // Another file's index, the same length and headers.
    await same(c, () => indexBaselineScan(a));
    // The file changed after its walk: a scan byte (0xFF bytes left alone), or a quantisation step.
    const changed = Buffer.from(a);
    const walk = indexBaselineScan(a);
    const at = walk.scanStart + Math.floor((walk.scanEnd - walk.scanStart) * 0.9);
    changed[at] = changed[at] === 0x00 ? 0x01 : (changed[at] as number) & 0xfe;
    const plainChanged = (): Buffer => Buffer.from(openJpegSplice(changed, BOX).compose(overlay(BOX), BOX).bytes);
    let refused: unknown;
    try {
      plainChanged();
    } catch (error) {
      refused = error;
    }
    if (refused) await expect(withPreparsed(changed, { index: indexBaselineScan(a) }, async () => openJpegSplice(changed, BOX).compose(overlay(BOX), BOX))).rejects.toThrow(NotSpliceable);
    else await same(changed, () => indexBaselineScan(a));
    const requantised = Buffer.from(a);
    const dqt = requantised.indexOf(Buffer.from([0xff, 0xdb]));
    requantised[dqt + 6] = (requantised[dqt + 6] as number) + 1;
    await same(requantised, () => indexBaselineScan(a));
    // Altered arrays.
    const flip = (index: ScanIndex, at: number): void => {
      index.clean[at] = (index.clean[at] as number) ^ 0x10;
    };
    await same(a, altered(a, (index) => flip(index, Math.floor(index.cleanLength * 0.05))));
    await same(a, altered(a, (index) => flip(index, Math.floor(index.cleanLength * 0.95))));
    // The index's padding is never read (the file's own unstuffed data is decoded): such an index is taken, with the same result.
    await same(a, altered(a, (index) => index.clean.fill(0x55, index.cleanLength)), true);
    await same(a, altered(a, (index) => (index.cleanLength -= 1)));
    await same(a, altered(a, (index) => (index.scanEnd = 0)));
    await same(a, altered(a, (index) => index.dcs.fill(0)));
    await same(a, altered(a, (index) => index.dcs.set(index.dcs.map((dc) => dc + 1))));
    await same(a, altered(a, (index) => index.dcs.copyWithin(1, 0)));
    await same(a, altered(a, (index) => (index.dcs = index.dcs.subarray(0, 3))));
    await same(a, altered(a, (index) => index.mcuBits.fill(0)));
    await same(a, altered(a, (index) => index.mcuBits.fill(Number.NaN)));
    await same(a, altered(a, (index) => (index.mcuBits = index.mcuBits.subarray(1))));
    await same(a, altered(a, (index) => (index.mcuBits[index.totalMcus] = (index.mcuBits[index.totalMcus] as number) - 1)));
    await same(a, altered(a, (index) => index.longKeys.set(index.longKeys.map((key) => key ^ 1))));
    await same(a, altered(a, (index) => ((index.longPositions = new Float64Array(0)), (index.longKeys = new Uint16Array(0)))));
    await same(a, altered(a, (index) => (index.clean = new Uint8Array(0))));
    // Restart intervals: their ends, the MCU positions and the markers.
    await same(restarted, altered(restarted, (index) => index.intervalEnds.set(index.intervalEnds.map((end) => end + 1))));
    // An interval end moved into its padding bits (a whole byte of them before some markers): the index's sum tells (decoding would need the interval's last MCU).
    for (const interval of [13, 40]) {
      const file = Buffer.from(writeBaseline(picture(W, H, 55), W, H, [[2, 2], [1, 1], [1, 1]], interval));
      await same(file, altered(file, (index) => index.intervalEnds.set(index.intervalEnds.map((end) => end + 1))));
    }
    await same(restarted, altered(restarted, (index) => index.intervalEnds.set(index.intervalEnds.map((end) => end - 8))));
    await same(restarted, altered(restarted, (index) => (index.intervalEnds = index.intervalEnds.subarray(1))));
    await same(restarted, altered(restarted, (index) => index.mcuBits.set(index.mcuBits.map((bit, m) => (m > 0 && m % 3 === 0 ? bit + 8 : bit)))));
    await same(restarted, altered(restarted, (index) => (index.restarts = index.restarts.map((r) => r + 1))));
    await same(restarted, altered(restarted, (index) => index.dcs.set(index.dcs.map((dc) => dc + 1))));
    await same(restarted, altered(restarted, (index) => ((index.longPositions = new Float64Array(0)), (index.longKeys = new Uint16Array(0)))));
  });

  it('labels a JPEG offered an index that does not fit as if none had been offered (labelImage does not fail)', async () => {
    const jpeg = await sharp(picture(W, H, 54), { raw: { width: W, height: H, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
    const index = indexBaselineScan(jpeg);
    index.mcuBits.fill(0);
    const withIndex = await withPreparsed(jpeg, { index }, () => labelImage(jpeg, { text: 'AI生成' }));
    const without = await labelImage(jpeg, { text: 'AI生成' });
    expect(withIndex.method).toBe('dct-splice');
    expect(withIndex.spliceFallback).toBeUndefined();
    expect(Buffer.from(withIndex.bytes).equals(Buffer.from(without.bytes))).toBe(true);
  });

  it('splices progressive JPEGs: every scan decoded (as jpegtran reads them), written again progressive (as jpegtran reads it), every block outside the notice kept', async () => {
    const rgb = picture(W, H, 17);
    const raw = { raw: { width: W, height: H, channels: 3 as const } };
    const files: [string, Uint8Array][] = [
      ['4:2:0, successive approximation', await sharp(rgb, raw).jpeg({ quality: 85, progressive: true }).toBuffer()],
      ['4:4:4', await sharp(rgb, raw).jpeg({ quality: 93, progressive: true, chromaSubsampling: '4:4:4' }).toBuffer()],
      ['greyscale', await sharp(rgb, raw).greyscale().jpeg({ quality: 80, progressive: true }).toBuffer()],
      ['mozjpeg scans', await sharp(rgb, raw).jpeg({ quality: 75, mozjpeg: true }).toBuffer()],
    ];
    const dir = mkdtempSync(join(tmpdir(), 'hegui-progressive-'));
    try {
      const jpegtran = systemTool('jpegtran', 'libjpeg-turbo-progs');
      if (jpegtran) {
        // Restart intervals (in MCUs, and in blocks of the one-component scans) and odd layouts, from libjpeg itself.
        for (const [name, sampling, restart] of [['4:2:2, restarts every 3 MCUs', [[2, 1], [1, 1], [1, 1]], '3B'], ['4:1:1, restarts every MCU row', [[4, 1], [1, 1], [1, 1]], '1']] as const) {
          writeFileSync(join(dir, 'in.jpg'), writeBaseline(rgb, W, H, sampling.map((f) => [...f] as [number, number])));
          const made = spawnSync('jpegtran', ['-progressive', '-restart', restart, '-outfile', join(dir, 'out.jpg'), join(dir, 'in.jpg')]);
          expect(made.status, String(made.stderr)).toBe(0);
          files.push([name, readFileSync(join(dir, 'out.jpg'))]);
        }
      }
      const boxes: PixelBox[] = [BOX, { left: 0, top: 0, width: 70, height: 25 }, { left: 40, top: 30, width: 100, height: 60 }];
      for (const [name, jpeg] of files) {
        expect(Buffer.from(jpeg).includes(Buffer.from([0xff, 0xc2])), name).toBe(true);
        const decoded = parseProgressiveJpeg(jpeg);
        if (jpegtran) {
          // libjpeg's reading of the same scans, written sequential with the same coefficients.
          writeFileSync(join(dir, 'p.jpg'), jpeg);
          const sequential = spawnSync('jpegtran', ['-optimize', '-outfile', join(dir, 's.jpg'), join(dir, 'p.jpg')]);
          expect(sequential.status, String(sequential.stderr)).toBe(0);
          const reference = parseBaselineJpeg(readFileSync(join(dir, 's.jpg')));
          expect(reference.coefficients.length, name).toBe(decoded.coefficients.length);
          expect(Buffer.from(decoded.coefficients.buffer).equals(Buffer.from(reference.coefficients.buffer)), name).toBe(true);
        }
        // Decoded in another thread (structured cloning, its buffers moved) and offered: the same file, and taken once only.
        const drawn = overlay(BOX);
        const here = Buffer.from(openJpegSplice(jpeg, BOX).compose(drawn, BOX).bytes);
        const offered = parseProgressiveJpeg(jpeg);
        const crossed = structuredClone(offered, { transfer: transferables(offered) });
        expect(offered.coefficients.length).toBe(0);
        const twice = await withPreparsed(jpeg, { progressive: crossed }, async () => [Buffer.from(openJpegSplice(jpeg, BOX).compose(drawn, BOX).bytes), Buffer.from(openJpegSplice(jpeg, BOX).compose(drawn, BOX).bytes)]);
        expect(twice.map((bytes) => bytes.equals(here)), name).toEqual([true, true]);
        for (const box of boxes) {
          const result = await spliceAndCompare(jpeg, box);
          // The scans kept (their tables appended to or remapped), or, for a remapped table in a scan with restart intervals, coded again whole.
          expect(['kept', 'appended', 'remapped', 'extended']).toContain(result.tables);
          const written = parseProgressiveJpeg(result.bytes);
          expect(written.restartInterval).toBe(decoded.restartInterval);
          if (jpegtran) {
            // libjpeg reads the scans written here as this decoder does.
            writeFileSync(join(dir, 'w.jpg'), result.bytes);
            const sequential = spawnSync('jpegtran', ['-optimize', '-outfile', join(dir, 'ws.jpg'), join(dir, 'w.jpg')]);
            expect(sequential.status, String(sequential.stderr)).toBe(0);
            expect(Buffer.from(parseBaselineJpeg(readFileSync(join(dir, 'ws.jpg'))).coefficients.buffer).equals(Buffer.from(written.coefficients.buffer)), name).toBe(true);
          }
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('labels a progressive JPEG by the splice through labelImage, progressive and metadata kept; refuses what it cannot carry, and corrupt scans, without hanging', async () => {
    const rgb = picture(640, 480, 23);
    const raw = { raw: { width: 640, height: 480, channels: 3 as const } };
    const jpeg = await sharp(rgb, raw).jpeg({ quality: 85, progressive: true }).withExif({ IFD0: { Copyright: 'hegui test' } }).toBuffer();
    const copy = Buffer.from(jpeg);
    const result = await labelImage(jpeg, { text: 'AI生成' });
    expect(result.method).toBe('dct-splice');
    expect(result.spliceFallback).toBeUndefined();
    expect(jpeg.equals(copy)).toBe(true);
    expect((await sharp(result.bytes).metadata()).exif).toEqual((await sharp(jpeg).metadata()).exif);
    expect((await sharp(result.bytes).metadata()).isProgressive).toBe(true);
    const report = await checkExplicitLabel(result.bytes, { ocr: false });
    expect(report.rules.find((r) => r.rule === 'image.height')?.status).toBe('pass');
    // Metadata between the scans would be lost: refused, and the picture re-encoded as before.
    const firstScan = jpeg.indexOf(Buffer.from([0xff, 0xda]));
    const secondScan = jpeg.indexOf(Buffer.from([0xff, 0xda]), firstScan + 2);
    const secondTables = jpeg.lastIndexOf(Buffer.from([0xff, 0xc4]), secondScan);
    const at = secondTables > firstScan ? secondTables : secondScan;
    const comment = Buffer.concat([jpeg.subarray(0, at), Buffer.from([0xff, 0xfe, 0x00, 0x06]), Buffer.from('note'), jpeg.subarray(at)]);
    expect(() => parseProgressiveJpeg(comment)).toThrow('metadata between the scans');
    const fallback = await labelImage(comment, { text: 'AI生成' });
    expect(fallback.method).toBe('reencode');
    expect(fallback.spliceFallback).toBe('metadata between the scans');
    // Cut short, or garbage in the scans: refused (or, cut between scans, read as the scans there are), never a hang or another error.
    const scanned = parseProgressiveJpeg(jpeg);
    for (const cut of [0.2, 0.5, 0.8, 0.95]) {
      const short = Buffer.concat([jpeg.subarray(0, Math.floor(jpeg.length * cut)), Buffer.from([0xff, 0xd9])]);
      try {
        parseProgressiveJpeg(short);
      } catch (error) {
        expect(error).toBeInstanceOf(NotSpliceable);
      }
    }
    expect(() => parseProgressiveJpeg(jpeg.subarray(0, Math.floor(jpeg.length * 0.6)))).toThrow(NotSpliceable);
    expect(refusedGarbage(jpeg, scanned, parseProgressiveJpeg)).toBeGreaterThan(0);
    // Not progressive: the baseline parser's file.
    const sequential = await sharp(rgb, raw).jpeg().toBuffer();
    expect(() => parseProgressiveJpeg(sequential)).toThrow(NotSpliceable);
  });

  it('covers a tiny image whole and a notice at the top-left corner', async () => {
    const rgb = picture(24, 18, 3);
    const tiny = await sharp(rgb, { raw: { width: 24, height: 18, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
    await spliceAndCompare(tiny, { left: 0, top: 0, width: 24, height: 18 });
    const jpeg = writeBaseline(picture(W, H, 11), W, H, [[2, 2], [1, 1], [1, 1]], 5);
    await spliceAndCompare(jpeg, { left: 3, top: 4, width: 60, height: 20 });
  });

  it('labels baseline JPEGs through labelImage with the splice, and the checker passes them', async () => {
    const rgb = picture(640, 480, 21);
    const jpeg = await sharp(rgb, { raw: { width: 640, height: 480, channels: 3 } }).jpeg({ quality: 85 }).withExif({ IFD0: { Copyright: 'hegui test' } }).toBuffer();
    const result = await labelImage(jpeg, { text: 'AI生成', jpegMethod: 'splice' });
    expect(result.method).toBe('dct-splice');
    const report = await checkExplicitLabel(result.bytes, { ocr: false });
    expect(report.rules.find((r) => r.rule === 'image.height')?.status).toBe('pass');
    expect((await sharp(result.bytes).metadata()).exif).toEqual((await sharp(jpeg).metadata()).exif);
    expect((await labelImage(jpeg, { text: 'AI生成' })).method).toBe('dct-splice');
    const whole = await labelImage(jpeg, { text: 'AI生成', jpegMethod: 'reencode' });
    expect(whole.method).toBe('reencode');
    expect(whole.spliceFallback).toBeUndefined();
  });

  it('falls back to re-encoding rotated and 12-bit-like files', async () => {
    const rgb = picture(320, 240, 4);
    const base = sharp(rgb, { raw: { width: 320, height: 240, channels: 3 } });
    const rotated = await base.clone().jpeg({ quality: 85 }).withMetadata({ orientation: 6 }).toBuffer();
    const turned = await labelImage(rotated, { text: 'AI生成', jpegMethod: 'splice' });
    expect(turned.method).toBe('reencode');
    expect(turned.spliceFallback).toMatch(/orientation 6/);
  });

  it('refuses corrupt and truncated entropy data and hostile tables without hanging, input untouched', async () => {
    const jpeg = await sharp(picture(W, H, 8), { raw: { width: W, height: H, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
    const scan = parseBaselineJpeg(jpeg);
    const truncated = Buffer.concat([jpeg.subarray(0, scan.scanStart + Math.floor((scan.scanEnd - scan.scanStart) / 2)), Buffer.from([0xff, 0xd9])]);
    expect(() => parseBaselineJpeg(truncated)).toThrow(NotSpliceable);
    const noEnd = jpeg.subarray(0, scan.scanStart + 100);
    expect(() => parseBaselineJpeg(noEnd)).toThrow(NotSpliceable);
    const copy = Buffer.from(truncated);
    await labelImage(truncated, { text: 'AI生成', jpegMethod: 'splice' }).then(
      (r) => expect(r.method).toBe('reencode'),
      (error: Error) => expect((error as { code?: string }).code).toBe('E_LABEL_IMAGE_DECODE'),
    );
    expect(truncated.equals(copy)).toBe(true);
    // Garbage in the entropy data: an invalid code somewhere, or a symbol overrunning a block.
    expect(refusedGarbage(jpeg, scan, parseBaselineJpeg)).toBeGreaterThan(0);
    // Oversubscribed and empty Huffman tables.
    const counts = new Uint8Array(17);
    counts[1] = 3;
    expect(() => huffmanTable(counts, Uint8Array.from([0, 1, 2]))).toThrow(NotSpliceable);
    const dht = jpeg.indexOf(Buffer.from([0xff, 0xc4]));
    const empty = Buffer.from(jpeg);
    empty.fill(0, dht + 5, dht + 21); // the first table's 16 counts: no codes at all
    expect(() => parseBaselineJpeg(empty)).toThrow(NotSpliceable);
  });
});
