/**
 * @module label/explicit/jpeg-splice
 * The visible notice on a baseline or progressive JPEG without re-encoding the picture (issue 14): only the
 * 8x8 DCT blocks the notice covers change; every other block keeps its quantised coefficients
 * bit for bit, as jpegtran's lossless operations do, so the rest of the picture loses nothing.
 *
 * How (`parseBaselineJpeg` reads the file down to its coefficients):
 * 1. The MCUs under the notice's box are decoded (dequantise, inverse DCT) into per-component
 *    sample planes; the colour choice samples the box from them, as the re-encoding path
 *    samples its decoded pixels.
 * 2. The drawn notice (straight RGBA) is blended into the planes. RGB to YCbCr is linear, so
 *    blending each component with the notice's colour in YCbCr is the blend in RGB; a chroma
 *    sample of a subsampled component takes the mean over the pixels it covers. Only a block
 *    under at least one drawn pixel changes: forward DCT, quantised with the file's own table.
 * 3. The entropy-coded data up to the first changed MCU is copied verbatim (bytes, stuffing and
 *    restart markers, then the first bits of the byte where that MCU starts); from there the
 *    MCUs with a changed block and the MCU after each (its DC differences change) are
 *    Huffman-coded again with the file's tables, DC differences recomputed from the actual
 *    neighbours, and the coded bits of the others copied as they are (in a scan with restart
 *    intervals, every MCU up to the one after the notice's last is coded again, restart markers
 *    in sequence). Only the notice's MCU columns are decoded whole; elsewhere in its rows the
 *    parser keeps the DC values only (`acColumns`), and coding with new tables decodes the
 *    scan again whole. When a changed block needs a symbol a
 *    table lacks (files with optimised tables), room is made in the table without touching its
 *    short codes (`jpeg-splice-tables.ts`): symbols appended where the code space has room, or
 *    one rare symbol moved to a longer code (by 4 bits where that makes room: half the copy
 *    then stays byte-aligned), the data before the notice then copied bit for bit with
 *    only its codes longer than 9 bits written again. Only when neither works is the whole scan
 *    coded again with optimal tables (a new DHT), still entropy coding only: no block outside
 *    the notice changes.
 * 4. Every other header segment (APPn with EXIF, ICC, XMP; COM; DQT; SOF) is kept as it is.
 *
 * A progressive JPEG: `parseProgressiveJpeg` decodes every scan into every block's coefficients
 * and records where each scan's units start; steps 1-2 are the same, and then every scan is
 * kept, with its band, successive approximation and tables, only its units around the notice
 * coded again and the bits of the others copied (`jpeg-progressive-splice.ts`; tables lacking a
 * symbol appended to or remapped as above). When a table has no room even so, or a remapped
 * table serves a scan with restart intervals, the whole picture is coded again as a progressive
 * JPEG with tables made for each scan (`jpeg-progressive-encode.ts`; the segments before its
 * first scan kept): still entropy coding only.
 *
 * Anything the parsers do not take throws `NotSpliceable`, and `labelImage` re-encodes.
 */
import { forwardBlock, inverseBlock } from './jpeg-splice-dct.js';
import { BitWriter, countAc, countDc, dhtSegment, encodeBlocks, MissingSymbol, optimalTable, rawWithout, type CodingOrder } from './jpeg-splice-encode.js';
import { blockOffset, mcuLayout, mcuOrigin, NotSpliceable, packed, parseBaselineJpeg, plainBytes, ProgressiveJpeg, transcodeRange, type BaselineJpeg, type FrameComponent, type HuffmanTable } from './jpeg-splice-parse.js';
import { parseProgressiveJpeg } from './jpeg-progressive.js';
import { encodeProgressive } from './jpeg-progressive-encode.js';
import { spliceProgressive } from './jpeg-progressive-splice.js';
import { appendSymbols, missingSymbols, remapTable } from './jpeg-splice-tables.js';
import { LINEAR, relativeLuminance, summariseValues, type PixelBox, type RegionSample } from './image-style.js';

export { NotSpliceable } from './jpeg-splice-parse.js';

/** What the splice changed, for reports and tests. */
export interface SpliceResult {
  bytes: Uint8Array;
  /** The MCUs under the notice's box, in MCU units [first, last] inclusive. */
  mcus: { x0: number; y0: number; x1: number; y1: number };
  /** MCU size in pixels. */
  mcuWidth: number;
  mcuHeight: number;
  /**
   * Blocks re-transformed, and whether the scan kept the file's Huffman tables (the coded data
   * before the first changed MCU copied verbatim), kept them with symbols appended after their
   * longest codes (every old code unchanged: that data still copied verbatim, only the DHT
   * written again), remapped them (one rare symbol moved to make room: that data copied bit
   * for bit, only codes longer than 9 bits written again), or got new tables (that data
   * transcoded symbol for symbol; a progressive file: coded again whole, every scan with a table
   * made for it). For a progressive file the first three say the same of each scan's tables,
   * every scan's units away from the notice copied.
   */
  changedBlocks: number;
  tables: 'kept' | 'appended' | 'remapped' | 'extended';
  /** Bytes of entropy-coded data copied verbatim. */
  copiedBytes: number;
}

/** Decoded sample planes of the MCUs under a box. */
interface Region {
  box: PixelBox;
  mx0: number;
  my0: number;
  mx1: number;
  my1: number;
  /** Per component: plane, its width, and its origin in component samples. */
  planes: { data: Float32Array; stride: number; rows: number; sx: number; sy: number }[];
}

/** A baseline JPEG opened for splicing: sample under the notice, then compose. */
export interface JpegSplice {
  jpeg: BaselineJpeg;
  sample(box: PixelBox): RegionSample;
  /** @throws NotSpliceable */
  compose(overlay: Uint8Array, box: PixelBox): SpliceResult;
}

/**
 * Parses and entropy-decodes `bytes` for splicing a notice into `box` (coefficients are kept
 * from the box's first MCU on; without `box`, all of them).
 *
 * `newTables` always codes the scan with new tables (the path taken when no room can be made
 * in the file's own; for tests and comparisons). `reuseBuffers` decodes (the scan, and the
 * sample planes under the box) into the arrays the previous splice opened with it used (a
 * batch allocates them once): that splice must be done with (composed or dropped) before this
 * one opens.
 *
 * @throws NotSpliceable when the file is not a baseline Y or YCbCr JPEG the splice handles
 */
export function openJpegSplice(input: Uint8Array, box?: PixelBox, options: { newTables?: boolean; reuseBuffers?: boolean } = {}): JpegSplice {
  const bytes = plainBytes(input);
  // The MCUs from the box's first to the one after its last are decoded whole; the rest are only skipped over.
  const first = box ? { x: box.left, y: box.top } : undefined;
  const last = box ? { x: box.left + box.width - 1, y: box.top + box.height - 1 } : undefined;
  let jpeg: BaselineJpeg;
  try {
    jpeg = parseBaselineJpeg(bytes, first, last, false, options.reuseBuffers === true);
  } catch (error) {
    // A progressive file is decoded whole, every scan; compose keeps its scans (or writes it again whole).
    if (!(error instanceof ProgressiveJpeg)) throw error;
    jpeg = parseProgressiveJpeg(bytes);
  }
  // Coding with new tables counts the symbols of every kept block: it needs them all decoded.
  const whole = (): BaselineJpeg => (jpeg.acColumns ? parseBaselineJpeg(bytes, first, last, true) : jpeg);
  let region: Region | undefined;
  const regionFor = (box: PixelBox): Region => {
    if (!region || region.box.left !== box.left || region.box.top !== box.top || region.box.width !== box.width || region.box.height !== box.height) region = decodeRegion(jpeg, box, options.reuseBuffers === true);
    return region;
  };
  return {
    jpeg,
    sample: (box) => sampleRegion(jpeg, regionFor(box), box),
    compose: (overlay, box) => compose(bytes, jpeg, regionFor(box), overlay, box, options.newTables === true, whole),
  };
}

/** Sample planes of the last region decoded with `reuse`, per component (each sample is written again). */
const sparePlanes: Float32Array[] = [];

function decodeRegion(jpeg: BaselineJpeg, box: PixelBox, reuse: boolean): Region {
  if (box.width <= 0 || box.height <= 0 || box.left < 0 || box.top < 0 || box.left + box.width > jpeg.width || box.top + box.height > jpeg.height) {
    throw new NotSpliceable('the notice box is outside the image');
  }
  const mcuW = 8 * jpeg.hMax;
  const mcuH = 8 * jpeg.vMax;
  const mx0 = Math.floor(box.left / mcuW);
  const my0 = Math.floor(box.top / mcuH);
  const mx1 = Math.floor((box.left + box.width - 1) / mcuW);
  const my1 = Math.floor((box.top + box.height - 1) / mcuH);
  const planes = packed(jpeg.components, (c, index) => {
    const stride = (mx1 - mx0 + 1) * c.h * 8;
    const rows = (my1 - my0 + 1) * c.v * 8;
    let data: Float32Array;
    if (reuse) {
      const kept = sparePlanes[index];
      if (!kept || kept.length < stride * rows) sparePlanes[index] = new Float32Array(stride * rows);
      data = (sparePlanes[index] as Float32Array).subarray(0, stride * rows);
    } else {
      data = new Float32Array(stride * rows);
    }
    const quant = jpeg.quant[c.quant] as Uint16Array;
    for (let by = 0; by < rows / 8; by++) {
      for (let bx = 0; bx < stride / 8; bx++) {
        const base = blockOffset(c, mx0 * c.h + bx, my0 * c.v + by);
        inverseBlock(jpeg.coefficients, base, quant, data, stride, bx * 8, by * 8);
      }
    }
    return { data, stride, rows, sx: jpeg.hMax / c.h, sy: jpeg.vMax / c.v };
  });
  return { box, mx0, my0, mx1, my1, planes };
}

/** A sample rounded to 0-255, as a decoder's output (`Math.round` of a non-negative value is the truncation of value + 0.5). */
const clamp = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : (v + 0.5) | 0);

/** Luminances under the box, reused from file to file (the selection may reorder them). */
let sampleValues = new Float64Array(0);
let chromaColumns = new Int32Array(0);

/**
 * The luminance spread under `box`, as the re-encoding path measures its decoded pixels
 * (`collectLuminance`: WCAG luminance of 8-bit RGB); chroma is upsampled by replication.
 */
function sampleRegion(jpeg: BaselineJpeg, region: Region, box: PixelBox): RegionSample {
  const x0 = region.mx0 * 8 * jpeg.hMax;
  const y0 = region.my0 * 8 * jpeg.vMax;
  const [luma, cb, cr] = region.planes;
  const count = box.width * box.height;
  if (sampleValues.length < count) sampleValues = new Float64Array(count);
  const values = sampleValues.subarray(0, count);
  if (!luma) return summariseValues(values.subarray(0, 0));
  const Y = luma.data;
  if (cb && chromaColumns.length < box.width) chromaColumns = new Int32Array(box.width);
  const columns = chromaColumns;
  if (cb) for (let i = 0; i < box.width; i++) columns[i] = Math.floor((box.left + i - x0) / cb.sx);
  let at = 0;
  for (let y = box.top; y < box.top + box.height; y++) {
    const row = (y - y0) * luma.stride - x0 + box.left;
    if (!cb || !cr) {
      for (let i = 0; i < box.width; i++) values[at++] = LINEAR[clamp(Y[row + i] as number)] as number;
      continue;
    }
    const chromaRow = Math.floor((y - y0) / cb.sy) * cb.stride;
    const U = cb.data;
    const V = cr.data;
    for (let i = 0; i < box.width; i++) {
      const l = Y[row + i] as number;
      const chroma = chromaRow + (columns[i] as number);
      const u = (U[chroma] as number) - 128;
      const v = (V[chroma] as number) - 128;
      values[at++] = relativeLuminance(clamp(l + 1.402 * v), clamp(l - 0.344136 * u - 0.714136 * v), clamp(l + 1.772 * u));
    }
  }
  return summariseValues(values);
}

/** Sums of opacity and of weighted colour per sample of a component's plane, reused from call to call (zeroed). */
let sumScratch = { sumA: new Float32Array(0), sumAV: new Float32Array(0) };

/**
 * How an overlay changes one component's plane, block by block: the blocks under at least one
 * drawn pixel (`blocks`: bx, by pairs), and per sample of each (64 per block, row by row) the
 * factor its value keeps and the overlay's part added, so that blending is one multiply-add.
 */
interface PlaneBlend {
  blocks: Int32Array;
  keep: Float64Array;
  add: Float64Array;
}

/**
 * The last few overlays' weights and blends, with a copy of their pixels, latest first: a
 * batch draws the same few notices (light or dark text, with or without a plate) on file after
 * file, at the same place.
 */
interface OverlayEntry {
  pixels: Uint8Array;
  components: number;
  alphas: Float32Array;
  weighted: Float32Array[];
  /** Per plane geometry and component (`blendKey`). */
  blends: Map<string, PlaneBlend>;
}
const recentOverlays: OverlayEntry[] = [];
const RECENT_OVERLAYS = 4;
/** Plane geometries kept per overlay (a batch of one image size needs one per component). */
const BLENDS_PER_OVERLAY = 12;

/**
 * The overlay once: each pixel's opacity, and its colour as each component's value times that
 * opacity. The same pixels as a recent overlay's (compared byte for byte) give the same entry
 * back (its arrays only read).
 */
function overlayEntry(overlay: Uint8Array, pixelCount: number, components: number): OverlayEntry {
  const pixels = overlay.subarray(0, pixelCount * 4);
  const index = recentOverlays.findIndex((entry) => entry.components === components && Buffer.compare(entry.pixels, pixels) === 0);
  const entry = index >= 0 ? (recentOverlays.splice(index, 1)[0] as OverlayEntry) : { pixels: new Uint8Array(pixels), components, ...computeWeights(pixels, pixelCount, components), blends: new Map<string, PlaneBlend>() };
  recentOverlays.unshift(entry);
  recentOverlays.length = Math.min(recentOverlays.length, RECENT_OVERLAYS);
  return entry;
}

function computeWeights(overlay: Uint8Array, pixelCount: number, components: number): { alphas: Float32Array; weighted: Float32Array[] } {
  const alphas = new Float32Array(pixelCount);
  const w0 = new Float32Array(pixelCount);
  const w1 = new Float32Array(components === 1 ? 0 : pixelCount);
  const w2 = new Float32Array(components === 1 ? 0 : pixelCount);
  const grey = components === 1;
  for (let i = 0; i < pixelCount; i++) {
    const alpha = overlay[i * 4 + 3] as number;
    if (alpha === 0) continue;
    const a = alpha / 255;
    alphas[i] = a;
    const r = overlay[i * 4] as number;
    const g = overlay[i * 4 + 1] as number;
    const b = overlay[i * 4 + 2] as number;
    if (grey) {
      w0[i] = a * (0.2126 * r + 0.7152 * g + 0.0722 * b);
      continue;
    }
    w0[i] = a * (0.299 * r + 0.587 * g + 0.114 * b);
    w1[i] = a * (-0.168736 * r - 0.331264 * g + 0.5 * b + 128);
    w2[i] = a * (0.5 * r - 0.418688 * g - 0.081312 * b + 128);
  }
  return { alphas, weighted: grey ? [w0] : [w0, w1, w2] };
}

/** Component `index`'s blend for `plane` (its samples from `x0`, `y0`) under `box`, computed once per overlay and geometry. */
function planeBlend(entry: OverlayEntry, index: number, plane: Region['planes'][number], box: PixelBox, x0: number, y0: number): PlaneBlend {
  const key = `${index} ${box.left} ${box.top} ${box.width} ${box.height} ${x0} ${y0} ${plane.sx} ${plane.sy} ${plane.stride} ${plane.rows}`;
  let blend = entry.blends.get(key);
  if (!blend) {
    if (entry.blends.size >= BLENDS_PER_OVERLAY) entry.blends.clear();
    blend = computeBlend(plane, entry.alphas, entry.weighted[index] as Float32Array, box, x0, y0);
    entry.blends.set(key, blend);
  }
  return blend;
}

/**
 * Sums opacity and weighted colour per sample of the plane (a subsampled sample takes the
 * pixels it covers), then keeps the blocks with a drawn pixel, each sample's blend with them
 * being value * (1 - sumA / area) + sumAV / area (a sample without one keeps its value).
 */
function computeBlend(plane: Region['planes'][number], alphas: Float32Array, values: Float32Array, box: PixelBox, x0: number, y0: number): PlaneBlend {
  const length = plane.data.length;
  if (sumScratch.sumA.length < length) sumScratch = { sumA: new Float32Array(length), sumAV: new Float32Array(length) };
  const sumA = sumScratch.sumA.subarray(0, length);
  const sumAV = sumScratch.sumAV.subarray(0, length);
  sumA.fill(0);
  sumAV.fill(0);
  const left = box.left - x0;
  for (let y = 0; y < box.height; y++) {
    const sy = Math.floor((box.top + y - y0) / plane.sy) * plane.stride;
    for (let x = 0; x < box.width; x++) {
      const i = y * box.width + x;
      const a = alphas[i] as number;
      if (a === 0) continue;
      const s = sy + Math.floor((left + x) / plane.sx);
      sumA[s] = (sumA[s] as number) + a;
      sumAV[s] = (sumAV[s] as number) + (values[i] as number);
    }
  }
  const area = plane.sx * plane.sy;
  const blocks: number[] = [];
  for (let by = 0; by < plane.rows / 8; by++) {
    for (let bx = 0; bx < plane.stride / 8; bx++) {
      let touched = false;
      for (let j = 0; j < 8 && !touched; j++) {
        const row = (by * 8 + j) * plane.stride + bx * 8;
        for (let i = 0; i < 8; i++) if (sumA[row + i] !== 0) touched = true;
      }
      if (touched) blocks.push(bx, by);
    }
  }
  const keep = new Float64Array((blocks.length / 2) * 64).fill(1);
  const add = new Float64Array(keep.length);
  for (let n = 0; n < blocks.length / 2; n++) {
    const bx = blocks[n * 2] as number;
    const by = blocks[n * 2 + 1] as number;
    for (let j = 0; j < 8; j++) {
      const row = (by * 8 + j) * plane.stride + bx * 8;
      for (let i = 0; i < 8; i++) {
        const a = sumA[row + i] as number;
        if (a === 0) continue;
        keep[n * 64 + j * 8 + i] = 1 - a / area;
        add[n * 64 + j * 8 + i] = (sumAV[row + i] as number) / area;
      }
    }
  }
  return { blocks: Int32Array.from(blocks), keep, add };
}

function compose(bytes: Uint8Array, jpeg: BaselineJpeg, region: Region, overlay: Uint8Array, box: PixelBox, newTables: boolean, whole: () => BaselineJpeg): SpliceResult {
  if (overlay.length < box.width * box.height * 4) throw new NotSpliceable('the overlay does not match its box');
  const x0 = region.mx0 * 8 * jpeg.hMax;
  const y0 = region.my0 * 8 * jpeg.vMax;
  let startMcu = jpeg.mcusX * jpeg.mcusY;
  let changedBlocks = 0;
  const changedBases = new Set<number>();
  const entry = overlayEntry(overlay, box.width * box.height, jpeg.components.length);
  for (let index = 0; index < jpeg.components.length; index++) {
    const c = jpeg.components[index] as FrameComponent;
    const plane = region.planes[index] as Region['planes'][number];
    const { blocks, keep, add } = planeBlend(entry, index, plane, box, x0, y0);
    const quant = jpeg.quant[c.quant] as Uint16Array;
    const data = plane.data;
    for (let n = 0; n < blocks.length / 2; n++) {
      const bx = blocks[n * 2] as number;
      const by = blocks[n * 2 + 1] as number;
      for (let j = 0; j < 8; j++) {
        const row = (by * 8 + j) * plane.stride + bx * 8;
        const at = n * 64 + j * 8;
        for (let i = 0; i < 8; i++) data[row + i] = (data[row + i] as number) * (keep[at + i] as number) + (add[at + i] as number);
      }
      const blockY = region.my0 * c.v + by;
      const blockX = region.mx0 * c.h + bx;
      const base = blockOffset(c, blockX, blockY);
      forwardBlock(data, plane.stride, bx * 8, by * 8, quant, jpeg.coefficients, base);
      if (jpeg.progressive) jpeg.progressive.ends[base >>> 6] = acEnd(jpeg.coefficients, base);
      changedBases.add(base);
      changedBlocks++;
      startMcu = Math.min(startMcu, Math.floor(blockY / c.v) * jpeg.mcusX + Math.floor(blockX / c.h));
    }
  }
  const mcus = { x0: region.mx0, y0: region.my0, x1: region.mx1, y1: region.my1 };
  const common = { mcus, mcuWidth: 8 * jpeg.hMax, mcuHeight: 8 * jpeg.vMax, changedBlocks };
  if (changedBlocks === 0) return { ...common, bytes, tables: 'kept', copiedBytes: jpeg.scanEnd - jpeg.scanStart };
  try {
    if (newTables) throw new MissingSymbol();
    if (jpeg.progressive) {
      // Each scan kept, only the units around the notice coded again (with the file's tables, grown where the notice needs).
      const spliced = spliceProgressive(bytes, jpeg, changedBases);
      return { ...common, bytes: spliced.bytes, tables: spliced.tables, copiedBytes: spliced.copied };
    }
    const spliced = encodeSuffix(bytes, jpeg, startMcu, changedBases);
    return { ...common, bytes: spliced.bytes, tables: spliced.tables, copiedBytes: spliced.copied };
  } catch (error) {
    if (!(error instanceof MissingSymbol)) throw error;
  }
  // The scan decoded again whole (when only the notice's columns were), with the changed blocks.
  const full = whole();
  if (full !== jpeg) for (const base of changedBases) full.coefficients.set(jpeg.coefficients.subarray(base, base + 64), base);
  return { ...common, bytes: full.progressive ? encodeProgressive(bytes, full) : encodeWithNewTables(bytes, full, startMcu), tables: 'extended', copiedBytes: 0 };
}

/** Source offset of the unstuffed entropy byte `index` (before any restart marker that precedes it). */
function sourceOffset(data: Uint8Array, scanStart: number, index: number): number {
  let n = 0;
  let at = scanStart;
  while (n < index) {
    const ff = data.indexOf(0xff, at);
    const run = (ff < 0 ? data.length : ff) - at;
    if (run > 0) {
      const step = Math.min(run, index - n);
      n += step;
      at += step;
      continue;
    }
    if (data[at] !== 0xff) {
      n++;
      at++;
    } else if (data[at + 1] === 0x00) {
      n++;
      at += 2;
    } else if (data[at + 1] === 0xff) at++;
    else at += 2;
  }
  return at;
}

/** DC predictors in force when MCU `m` starts. */
function predictorsAt(jpeg: BaselineJpeg, m: number): Int32Array {
  const pred = new Int32Array(jpeg.components.length);
  if (m === 0 || (jpeg.restartInterval > 0 && m % jpeg.restartInterval === 0)) return pred;
  if (m === jpeg.from) return Int32Array.from(jpeg.predAtFrom);
  if (m < jpeg.from) throw new Error('the coefficients before the kept MCUs were not kept');
  jpeg.components.forEach((c, i) => {
    pred[i] = jpeg.coefficients[mcuOrigin(c, m - 1, jpeg.mcusX) + ((c.v - 1) * c.blocksW + c.h - 1) * 64] as number;
  });
  return pred;
}

/** The blocks of MCUs `from` to `total` (exclusive; by default the last kept one) in coding order, with the restart markers between them. */
function codingOrder(jpeg: BaselineJpeg, from: number, total = jpeg.to): CodingOrder {
  const layout = mcuLayout(jpeg.components);
  const perMcu = layout.component.length;
  const bases = new Int32Array((total - from) * perMcu);
  const components = new Uint8Array(bases.length);
  const restarts: number[] = [];
  const ri = jpeg.restartInterval;
  const origins = new Int32Array(jpeg.components.length);
  let i = 0;
  for (let m = from; m < total; m++) {
    if (ri > 0 && m > 0 && m % ri === 0) restarts.push(i);
    for (let c = 0; c < jpeg.components.length; c++) origins[c] = mcuOrigin(jpeg.components[c] as FrameComponent, m, jpeg.mcusX);
    for (let b = 0; b < perMcu; b++) {
      const c = layout.component[b] as number;
      bases[i] = (origins[c] as number) + (layout.delta[b] as number);
      components[i++] = c;
    }
  }
  const firstBoundary = ri > 0 ? Math.ceil(Math.max(from, 1) / ri) * ri : 0;
  return { bases, components, restarts: Int32Array.from(restarts), firstMarker: ri > 0 ? (firstBoundary / ri - 1) & 7 : 0 };
}

/**
 * The file with its entropy-coded data copied up to MCU `from` and coded again from there with
 * its own tables (without restart intervals, only the MCUs that change: `encodeChanged`). Symbols the changed blocks need and the tables lack are added
 * (`jpeg-splice-tables.ts`): after the tables' longest codes where the code space allows (every
 * existing code keeps its bits: the data before `from` is copied byte for byte), or by moving
 * one rare symbol to make room (the data before `from` is copied bit for bit with only the codes
 * longer than 9 bits written again). Only the DHT changes in the headers.
 *
 * @throws MissingSymbol when neither makes room (the caller codes with new tables)
 */
function encodeSuffix(data: Uint8Array, jpeg: BaselineJpeg, from: number, changed: ReadonlySet<number>): { bytes: Uint8Array; copied: number; tables: SpliceResult['tables'] } {
  const order = codingOrder(jpeg, from);
  // Changed blocks by block index (a base is 64 times it), then per block of the coding order.
  const marks = new Uint8Array(jpeg.coefficients.length >> 6);
  for (const base of changed) marks[base >> 6] = 1;
  const flags = new Uint8Array(order.bases.length);
  for (let i = 0; i < flags.length; i++) flags[i] = marks[(order.bases[i] as number) >> 6] as number;
  const byKey = tablesByKey(jpeg);
  const missing = missingSymbols(jpeg.coefficients, order, flags, predictorsAt(jpeg, from), packed(jpeg.components, (c) => jpeg.dc[c.dc] as HuffmanTable), packed(jpeg.components, (c) => jpeg.ac[c.ac] as HuffmanTable));
  const wanted = new Map<number, Set<number>>();
  jpeg.components.forEach((c, i) => {
    for (const [key, symbols] of [[c.dc, missing.dc[i]], [4 + c.ac, missing.ac[i]]] as const) {
      for (const symbol of symbols as Set<number>) wanted.set(key, (wanted.get(key) ?? new Set()).add(symbol));
    }
  });
  // Per table key (DC id, or 4 + AC id): symbols whose codes changed. Eight slots from the
  // start, and packed: one array shape for copyScan whether or not any table was remapped.
  const remapped: (Uint8Array | undefined)[] = packed(KEYS, () => undefined);
  let anyRemapped = false;
  for (const [key, symbols] of wanted) {
    const old = byKey[key] as HuffmanTable;
    const extra = [...symbols].sort((x, y) => x - y);
    const appended = appendSymbols(old, extra);
    if (appended) {
      byKey[key] = appended;
      continue;
    }
    const moved = remapTable(old, extra);
    if (!moved) throw new MissingSymbol();
    byKey[key] = moved.table;
    remapped[key] = moved.changed;
    anyRemapped = true;
  }
  const dc = packed(jpeg.components, (c) => byKey[c.dc] as HuffmanTable);
  const ac = packed(jpeg.components, (c) => byKey[4 + c.ac] as HuffmanTable);
  const w = new BitWriter(data.length + 4096);
  const end = jpeg.mcuBits[from] as number;
  let copied = 0;
  if (wanted.size > 0) {
    // One DHT with every table in force.
    const tables: [number, number, HuffmanTable][] = [];
    byKey.forEach((t, key) => t && tables.push([key < 4 ? 0 : 1, key & 3, t]));
    writeHeaders(w, data, jpeg, dhtSegment(tables));
  }
  if (anyRemapped) {
    copyScan(w, jpeg, 0, end, remapped, byKey);
  } else {
    const index = Math.floor(end / 8);
    const partial = end - index * 8;
    const copyEnd = sourceOffset(data, jpeg.scanStart, index);
    w.raw(data.subarray(wanted.size > 0 ? jpeg.scanStart : 0, copyEnd));
    if (partial > 0) w.put((jpeg.clean[index] as number) >> (8 - partial), partial);
    copied = copyEnd - jpeg.scanStart;
  }
  if (jpeg.restartInterval === 0) encodeChanged(w, jpeg, from, order, flags, dc, ac, remapped, byKey);
  else encodeBlocks(w, jpeg.coefficients, order, predictorsAt(jpeg, from), dc, ac);
  // After the kept MCUs (the last one unchanged, so the DC differences after it are as they were): the coded bits as they are.
  const total = jpeg.mcusX * jpeg.mcusY;
  if (jpeg.to < total) copyScan(w, jpeg, jpeg.mcuBits[jpeg.to] as number, jpeg.mcuBits[total] as number, remapped, byKey);
  w.marker(0xd9);
  return { bytes: w.result(), copied, tables: wanted.size === 0 ? 'kept' : anyRemapped ? 'remapped' : 'appended' };
}

/**
 * The kept MCUs from `from` (a scan without restart intervals): an MCU with a changed block,
 * or right after one (its DC differences change), is coded from its coefficients; every other
 * one is copied as it is coded (`copyScan`, the codes of remapped symbols written again).
 */
function encodeChanged(w: BitWriter, jpeg: BaselineJpeg, from: number, order: CodingOrder, flags: Uint8Array, dc: readonly HuffmanTable[], ac: readonly HuffmanTable[], remapped: readonly (Uint8Array | undefined)[], tables: readonly (HuffmanTable | undefined)[]): void {
  const perMcu = jpeg.components.reduce((sum, c) => sum + c.h * c.v, 0);
  const count = jpeg.to - from;
  const changed = (i: number): boolean => {
    for (let b = i * perMcu; b < (i + 1) * perMcu; b++) if (flags[b] === 1) return true;
    return false;
  };
  const dirty = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    if (!changed(i)) continue;
    dirty[i] = 1;
    if (i + 1 < count) dirty[i + 1] = 1;
  }
  for (let i = 0; i < count; ) {
    let j = i + 1;
    while (j < count && dirty[j] === dirty[i]) j++;
    if (dirty[i] === 1) {
      const blocks = { bases: order.bases.subarray(i * perMcu, j * perMcu), components: order.components.subarray(i * perMcu, j * perMcu), restarts: new Int32Array(0), firstMarker: 0 };
      encodeBlocks(w, jpeg.coefficients, blocks, predictorsAt(jpeg, from + i), dc, ac);
    } else {
      copyScan(w, jpeg, jpeg.mcuBits[from + i] as number, jpeg.mcuBits[from + j] as number, remapped, tables);
    }
    i = j;
  }
}

/** The file's header segments without its DHT segments, then `dht` (the tables in force), then the scan header. */
function writeHeaders(w: BitWriter, data: Uint8Array, jpeg: BaselineJpeg, dht: Uint8Array): void {
  rawWithout(w, data, jpeg.dhtSegments, jpeg.sosStart);
  w.raw(dht);
  w.raw(data.subarray(jpeg.sosStart, jpeg.scanStart));
}

/** One past the zigzag position of the block's last non-zero AC coefficient (0: none). */
function acEnd(coefficients: Int16Array, base: number): number {
  let last = 63;
  while (last > 0 && coefficients[base + last] === 0) last--;
  return last > 0 ? last + 1 : 0;
}

/** The Huffman tables in force by key: DC ids 0-3, then AC ids 0-3 at 4-7. */
const KEYS = [0, 1, 2, 3, 4, 5, 6, 7];
const tablesByKey = (jpeg: BaselineJpeg): (HuffmanTable | undefined)[] => packed(KEYS, (key) => (key < 4 ? jpeg.dc[key] : jpeg.ac[key - 4]));

/**
 * Bits `start` to `end` of the unstuffed coded data, with the restart markers of the intervals
 * that begin in that span, and the codes of the symbols `remapped` flags written with
 * `tables`' codes (every other bit copied as it is).
 */
function copyScan(w: BitWriter, jpeg: BaselineJpeg, start: number, end: number, remapped: readonly (Uint8Array | undefined)[], tables: readonly (HuffmanTable | undefined)[]): void {
  const { positions, keys, length } = jpeg.long;
  const old = tablesByKey(jpeg);
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((positions[mid] as number) < start) lo = mid + 1;
    else hi = mid;
  }
  let j = lo;
  const intervals = jpeg.intervalEnds.length + 1;
  for (let r = 0; r < intervals; r++) {
    const intervalStart = r === 0 ? 0 : (jpeg.restarts[r - 1] as number) * 8;
    const intervalEnd = r < jpeg.intervalEnds.length ? (jpeg.intervalEnds[r] as number) : end;
    if (intervalEnd < start) continue;
    if (intervalStart >= end) break;
    if (r > 0 && intervalStart >= start) w.marker(0xd0 + ((r - 1) & 7));
    const stop = Math.min(end, intervalEnd);
    let last = Math.max(start, intervalStart);
    if (remapped.some((flags) => flags !== undefined)) {
      for (; j < length && (positions[j] as number) < stop; j++) {
        const key = keys[j] as number;
        const symbol = key & 255;
        if (remapped[key >> 8]?.[symbol] !== 1) continue;
        const at = positions[j] as number;
        w.copyBits(jpeg.clean, last, at);
        const next = tables[key >> 8] as HuffmanTable;
        w.put(next.code[symbol] as number, next.length[symbol] as number);
        last = at + ((old[key >> 8] as HuffmanTable).length[symbol] as number);
      }
    }
    w.copyBits(jpeg.clean, last, stop);
  }
}

/**
 * The file with new Huffman tables (a new DHT before the scan): the file's own tables with the
 * symbols the changed MCUs need added. Code lengths come from the old tables' lengths (as
 * frequencies 2^(16 - length)) plus the symbol counts of the MCUs from `from` on; the MCUs
 * before `from` and after the kept ones are transcoded symbol for symbol (`transcodeRange`), the kept ones coded
 * from their coefficients.
 */
function encodeWithNewTables(data: Uint8Array, jpeg: BaselineJpeg, from: number): Uint8Array {
  const dcFreq = [0, 1, 2, 3].map(() => new Int32Array(256));
  const acFreq = [0, 1, 2, 3].map(() => new Int32Array(256));
  const usedDc = [...new Set(jpeg.components.map((c) => c.dc))];
  const usedAc = [...new Set(jpeg.components.map((c) => c.ac))];
  const seed = (table: HuffmanTable, freq: Int32Array): void => {
    for (let symbol = 0; symbol < 256; symbol++) {
      const length = table.length[symbol] as number;
      if (length > 0) freq[symbol] = 1 << (16 - length);
    }
  };
  for (const id of usedDc) seed(jpeg.dc[id] as HuffmanTable, dcFreq[id] as Int32Array);
  for (const id of usedAc) seed(jpeg.ac[id] as HuffmanTable, acFreq[id] as Int32Array);
  const order = codingOrder(jpeg, from);
  const pred = predictorsAt(jpeg, from);
  let restart = 0;
  for (let i = 0; i < order.bases.length; i++) {
    if (i === order.restarts[restart]) {
      pred.fill(0);
      restart++;
    }
    const index = order.components[i] as number;
    const c = jpeg.components[index] as FrameComponent;
    const base = order.bases[i] as number;
    const value = jpeg.coefficients[base] as number;
    countDc(value - (pred[index] as number), dcFreq[c.dc] as Int32Array);
    countAc(jpeg.coefficients, base, acFreq[c.ac] as Int32Array, 1);
    pred[index] = value;
  }
  const dcTables = new Map(usedDc.map((id) => [id, optimalTable(dcFreq[id] as Int32Array)]));
  const acTables = new Map(usedAc.map((id) => [id, optimalTable(acFreq[id] as Int32Array)]));
  const dht = dhtSegment([...[...dcTables].map(([id, t]) => [0, id, t] as [number, number, HuffmanTable]), ...[...acTables].map(([id, t]) => [1, id, t] as [number, number, HuffmanTable])]);
  const dc = packed(jpeg.components, (c) => dcTables.get(c.dc) as HuffmanTable);
  const ac = packed(jpeg.components, (c) => acTables.get(c.ac) as HuffmanTable);
  const w = new BitWriter(data.length + 4096);
  writeHeaders(w, data, jpeg, dht);
  const missing = (): Error => new NotSpliceable('a new Huffman table lacks a symbol of the source');
  transcodeRange(jpeg, 0, from, w, dc, ac, missing);
  encodeBlocks(w, jpeg.coefficients, order, predictorsAt(jpeg, from), dc, ac);
  const total = jpeg.mcusX * jpeg.mcusY;
  if (jpeg.to < total) transcodeRange(jpeg, jpeg.to, total, w, dc, ac, missing);
  w.marker(0xd9);
  return w.result();
}

