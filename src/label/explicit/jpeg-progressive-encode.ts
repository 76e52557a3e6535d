/**
 * @module label/explicit/jpeg-progressive-encode
 * Writes a progressive JPEG again from its coefficients (`parseProgressiveJpeg`, with the
 * notice's blocks changed by the splice) when its own scans cannot be kept
 * (`jpeg-progressive-splice.ts`: a table with no room for a symbol the notice needs), so a
 * progressive source stays progressive, as the
 * re-encoding path keeps it: every other block's coefficients, and so its pixels, are the
 * source's. The scans use spectral selection without successive approximation (T.81 G.1.1.1.1):
 * the DC coefficients of every component in one interleaved scan, then the AC bands one
 * component at a time (luma 1-5, each chroma 1-63, luma 6-63), each band coded with end-of-band
 * runs (G.1.2.2) and with Huffman tables made for that scan (Annex K.2), written before it.
 *
 * The segments before the source's first scan are kept (EXIF, XMP, COM, DQT, DRI, the SOF2
 * frame header), its Huffman tables replaced. With a restart interval, each scan has its
 * restart markers: every interval of MCUs in the DC scan, of blocks in an AC scan.
 */
import { BitWriter, dhtSegment, magnitude, optimalTable, rawWithout } from './jpeg-splice-encode.js';
import { NotSpliceable, type BaselineJpeg, type FrameComponent, type HuffmanTable } from './jpeg-splice-parse.js';

/** One scan of the script: its components (indices into the frame's) and its spectral band. */
interface ScanPlan {
  components: readonly number[];
  ss: number;
  se: number;
}

/** DC first, interleaved; then luma's low band, the chroma bands and luma's high band, as libjpeg orders its scripts. */
function scanScript(count: number): ScanPlan[] {
  if (count === 1) {
    return [
      { components: [0], ss: 0, se: 0 },
      { components: [0], ss: 1, se: 5 },
      { components: [0], ss: 6, se: 63 },
    ];
  }
  return [
    { components: [0, 1, 2], ss: 0, se: 0 },
    { components: [0], ss: 1, se: 5 },
    { components: [1], ss: 1, se: 63 },
    { components: [2], ss: 1, se: 63 },
    { components: [0], ss: 6, se: 63 },
  ];
}

/** Counts a scan's symbols (first pass) or writes them with its tables (second pass). */
class Coder {
  readonly frequencies = new Int32Array(256);
  table: HuffmanTable | undefined;

  constructor(private readonly w: BitWriter) {}

  symbol(symbol: number): void {
    const table = this.table;
    if (!table) {
      this.frequencies[symbol] = (this.frequencies[symbol] as number) + 1;
      return;
    }
    const length = table.length[symbol] as number;
    if (length === 0) throw new Error(`the scan's own Huffman table lacks symbol ${symbol}`);
    this.w.put(table.code[symbol] as number, length);
  }

  bits(value: number, count: number): void {
    if (this.table && count > 0) this.w.put(value, count);
  }
}

/**
 * The progressive JPEG `data` (whose coefficients `jpeg` holds) written again from `jpeg`'s
 * coefficients: the source's segments before its first scan, then the scans of `scanScript`.
 */
export function encodeProgressive(data: Uint8Array, jpeg: BaselineJpeg): Uint8Array {
  const w = new BitWriter(data.length + 8192);
  rawWithout(w, data, jpeg.dhtSegments, jpeg.sosStart);
  const count = jpeg.components.length;
  for (const plan of scanScript(count)) {
    const dc = plan.ss === 0;
    // The DC scan: each component's DC table (`FrameComponent.dc`: 0 for luma, 1 for chroma);
    // each AC scan: table 0, defined again before it.
    const tableIds = dc ? plan.components.map((index) => (jpeg.components[index] as FrameComponent).dc) : [0];
    const coders = Array.from({ length: Math.max(...tableIds) + 1 }, () => new Coder(w));
    runScan(w, jpeg, plan, coders);
    coders.forEach((coder) => (coder.table = optimalTable(coder.frequencies)));
    w.raw(dhtSegment(coders.map((coder, id) => [dc ? 0 : 1, id, coder.table as HuffmanTable] as [number, number, HuffmanTable])));
    const sos = new Uint8Array(8 + plan.components.length * 2);
    sos.set([0xff, 0xda, 0, 6 + plan.components.length * 2, plan.components.length]);
    plan.components.forEach((index, i) => {
      sos[5 + i * 2] = (jpeg.components[index] as FrameComponent).id;
      sos[6 + i * 2] = dc ? (jpeg.components[index] as FrameComponent).dc << 4 : 0;
    });
    sos.set([plan.ss, plan.se, 0], 5 + plan.components.length * 2);
    w.raw(sos);
    runScan(w, jpeg, plan, coders);
    w.align();
  }
  w.marker(0xd9);
  return w.result();
}

/** One pass over a scan: counting its symbols while its coders have no table, else writing them. */
function runScan(w: BitWriter, jpeg: BaselineJpeg, plan: ScanPlan, coders: Coder[]): void {
  const writing = coders[0]?.table !== undefined;
  const coefficients = jpeg.coefficients;
  const ri = jpeg.restartInterval;
  let units = 0;
  let restarts = 0;
  /** Before each restart interval but the first: the pending run, the marker; predictors and runs start again. */
  const unit = (flush: () => void, reset: () => void): void => {
    if (ri > 0 && units > 0 && units % ri === 0) {
      flush();
      if (writing) w.marker(0xd0 + (restarts & 7));
      restarts++;
      reset();
    }
    units++;
  };
  if (plan.ss === 0) {
    const pred = new Int32Array(plan.components.length);
    for (let my = 0; my < jpeg.mcusY; my++) {
      for (let mx = 0; mx < jpeg.mcusX; mx++) {
        unit(
          () => undefined,
          () => pred.fill(0),
        );
        plan.components.forEach((index, s) => {
          const c = jpeg.components[index] as FrameComponent;
          const coder = coders[c.dc] as Coder;
          for (let v = 0; v < c.v; v++) {
            for (let h = 0; h < c.h; h++) {
              const value = coefficients[(c.blockBase + (my * c.v + v) * c.blocksW + mx * c.h + h) * 64] as number;
              const diff = value - (pred[s] as number);
              pred[s] = value;
              const size = magnitude(diff);
              if (size > 11) throw new NotSpliceable('a DC difference is out of range');
              coder.symbol(size);
              coder.bits(diff < 0 ? diff - 1 : diff, size);
            }
          }
        });
      }
    }
    return;
  }
  const index = plan.components[0] as number;
  const c = jpeg.components[index] as FrameComponent;
  const coder = coders[0] as Coder;
  const blocksW = Math.ceil(Math.ceil((jpeg.width * c.h) / jpeg.hMax) / 8);
  const blocksH = Math.ceil(Math.ceil((jpeg.height * c.v) / jpeg.vMax) / 8);
  const ends = jpeg.progressive?.ends;
  let eobrun = 0;
  const flushRun = (): void => {
    if (eobrun === 0) return;
    const bits = 31 - Math.clz32(eobrun);
    coder.symbol(bits << 4);
    coder.bits(eobrun, bits);
    eobrun = 0;
  };
  for (let by = 0; by < blocksH; by++) {
    for (let bx = 0; bx < blocksW; bx++) {
      unit(flushRun, () => (eobrun = 0));
      const base = (c.blockBase + by * c.blocksW + bx) * 64;
      // No coefficient past the block's last non-zero one (the decoder's record, when it has one).
      const last = ends ? Math.min(plan.se, (ends[base >>> 6] as number) - 1) : plan.se;
      let run = 0;
      for (let k = plan.ss; k <= last; k++) {
        const value = coefficients[base + k] as number;
        if (value === 0) {
          run++;
          continue;
        }
        flushRun();
        while (run > 15) {
          coder.symbol(0xf0);
          run -= 16;
        }
        const size = magnitude(value);
        if (size > 10) throw new NotSpliceable('an AC coefficient is out of range');
        coder.symbol((run << 4) | size);
        coder.bits(value < 0 ? value - 1 : value, size);
        run = 0;
      }
      // The band ends in zeros (or is all zeros): one more block in the end-of-band run.
      if (run > 0 || last < plan.se) {
        eobrun++;
        if (eobrun === 0x7fff) flushRun();
      }
    }
  }
  flushRun();
}
