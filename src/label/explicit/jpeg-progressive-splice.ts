/**
 * @module label/explicit/jpeg-progressive-splice
 * The notice on a progressive JPEG with its scans kept (issue 14: "change only the DCT blocks
 * under the notice ... the work is entropy coding, not a full re-encode"). Every scan of the
 * source stays, with its band, its successive approximation and its Huffman tables; in each,
 * only the units around the notice (an MCU of an interleaved scan, else a block) are coded
 * again, from the spliced coefficients, and the bits of every other unit are copied as they are.
 * The output is then the size of the source, give or take the notice, and costs no more than
 * the notice's blocks to code.
 *
 * Where a scan's coding may start and stop again without touching its neighbours
 * (`parseProgressiveJpeg` records where each unit starts, and the end-of-band run pending then):
 * - a DC first scan codes differences, so the unit after the last changed one is coded again too;
 * - an AC scan's end-of-band run codes many blocks with one symbol, read at the run's first
 *   block; the coding starts again at the first block of the run the first changed block is in,
 *   and stops at the first block after the last changed one that no run covers (so the source's
 *   own symbol starts there). In a refinement scan the correction bits of a run's blocks follow
 *   its symbol, and are coded again with it;
 * - with restart intervals, whole intervals are coded again and the others copied byte for byte,
 *   their markers included.
 *
 * The coding is libjpeg's (`jcphuff.c`, T.81 G.1.2): DC first scans as point-transformed
 * differences, DC refinements as one bit, AC first scans with end-of-band runs, AC refinements
 * with their correction bits buffered behind each run. The source's tables are kept; a table
 * lacking a symbol a changed block needs is grown as a baseline scan's is
 * (`jpeg-splice-tables.ts`): the symbols appended after its longest codes (every code it had
 * keeps its bits), or one rare symbol moved to a longer code to make room, the copied data's
 * codes longer than 9 bits then written again (the decoder recorded where they are). The
 * Huffman segment that defined the table is written again. When neither can be done, or a
 * remapped table serves a scan with restart intervals (whose intervals are copied as bytes),
 * `MissingSymbol` is thrown and the caller writes the whole file again with tables made for it
 * (`jpeg-progressive-encode.ts`).
 */
import { BitWriter, dhtSegment, magnitude, MissingSymbol } from './jpeg-splice-encode.js';
import { appendSymbols, remapTable } from './jpeg-splice-tables.js';
import { NotSpliceable, type BaselineJpeg, type FrameComponent, type HuffmanTable, type ProgressiveScan } from './jpeg-splice-parse.js';

/** libjpeg's bound on the correction bits a refinement scan buffers behind one end-of-band run (MAX_CORR_BITS - DCTSIZE2 + 1). */
const MAX_BUFFERED = 1000 - 64 + 1;

/** A changed block: its component, and its place in blocks. */
interface Changed {
  component: number;
  bx: number;
  by: number;
}

/**
 * The units of one scan coded again: spans [first, end) of units in coding order, apart and
 * ascending (one per row of the notice's blocks, merged where they meet); with restart
 * intervals, whole intervals.
 */
interface Window {
  scan: ProgressiveScan;
  spans: [number, number][];
}

/**
 * `data` (the progressive JPEG `jpeg` was decoded from, its notice's blocks since changed in
 * `jpeg.coefficients`) with the units around the changed blocks (`changed`: their offsets in the
 * coefficients) coded again in every scan, and every other byte of the file kept but the
 * Huffman segments of grown tables (see the module's comment). `tables` says whether any table
 * grew, and how.
 *
 * @throws MissingSymbol when a table lacking a symbol has no room for it, or a remapped table serves a scan with restart intervals
 * @throws NotSpliceable when `jpeg` carries no record of its scans, or one that does not fit `data`
 */
export function spliceProgressive(data: Uint8Array, jpeg: BaselineJpeg, changed: Iterable<number>): { bytes: Uint8Array; copied: number; tables: 'kept' | 'appended' | 'remapped' } {
  const progressive = jpeg.progressive;
  if (!progressive || progressive.scans.length === 0) throw new NotSpliceable('no record of the scans');
  for (const scan of progressive.scans) {
    // A record made for other bytes (or damaged on its way from another thread) is not followed.
    const fits = scan.dataStart <= scan.dataEnd && scan.dataEnd <= data.length && scan.starts.length === scan.units + 1 && (scan.restartInterval > 0 || (scan.starts[scan.units] as number) <= scan.clean.length * 8);
    if (!fits) throw new NotSpliceable('the record of the scans does not fit the file');
  }
  const blocks = locate(jpeg, changed);
  const windows = progressive.scans.map((scan) => windowOf(jpeg, scan, blocks));
  // First the symbols the tables lack, counted over the same units; then the tables that take them.
  const missing = new Map<HuffmanTable, Set<number>>();
  for (const window of windows) {
    if (!window) continue;
    const counter = new ScanCoder(new BitWriter(0), jpeg, window.scan, undefined, missing);
    for (const [first, end] of window.spans) code(counter, window.scan, first, end);
  }
  const grown = new Map<HuffmanTable, HuffmanTable>();
  /** Per remapped table: the symbols whose codes changed (only codes longer than 9 bits do). */
  const remapped = new Map<HuffmanTable, Uint8Array>();
  for (const [table, symbols] of missing) {
    const bigger = appendSymbols(table, [...symbols].sort((a, b) => a - b));
    if (bigger) {
      grown.set(table, bigger);
      continue;
    }
    // No room left: one rare symbol moves to a longer code to make some.
    const moved = remapTable(table, [...symbols].sort((a, b) => a - b));
    if (!moved) throw new MissingSymbol();
    grown.set(table, moved.table);
    remapped.set(table, moved.changed);
  }
  const w = new BitWriter(data.length + 4096);
  let copied = 0;
  let at = 0;
  /** Bytes [at, to) of the file, each Huffman segment defining a grown table written again. */
  const keep = (to: number): void => {
    for (const segment of progressive.dht) {
      if (segment.at < at || segment.at >= to || !segment.tables.some(([, , table]) => grown.has(table))) continue;
      w.raw(data.subarray(at, segment.at));
      w.raw(dhtSegment(segment.tables.map(([tableClass, id, table]) => [tableClass, id, grown.get(table) ?? table] as [number, number, HuffmanTable])));
      at = segment.end;
    }
    w.raw(data.subarray(at, to));
    at = to;
  };
  progressive.scans.forEach((scan, i) => {
    keep(scan.dataStart);
    at = scan.dataEnd;
    const window = windows[i];
    const rewrite = rewriting(scan, grown, remapped);
    if (rewrite && scan.restartInterval > 0) throw new MissingSymbol();
    if (!window && !rewrite) {
      w.raw(data.subarray(scan.dataStart, scan.dataEnd));
      copied += scan.dataEnd - scan.dataStart;
      return;
    }
    const coder = new ScanCoder(w, jpeg, scan, grown);
    copied += scan.restartInterval > 0 ? spliceIntervals(w, data, coder, window as Window) : spliceBits(w, coder, scan, window, rewrite);
  });
  keep(data.length);
  return { bytes: w.result(), copied, tables: remapped.size > 0 ? 'remapped' : grown.size > 0 ? 'appended' : 'kept' };
}

/** Each changed block's component and place. */
function locate(jpeg: BaselineJpeg, changed: Iterable<number>): Changed[] {
  const out: Changed[] = [];
  for (const base of changed) {
    const block = base >>> 6;
    const component = jpeg.components.findIndex((c) => block >= c.blockBase && block < c.blockBase + c.blocksW * c.blocksH);
    const c = jpeg.components[component];
    if (!c) throw new NotSpliceable('a changed block outside the frame');
    const index = block - c.blockBase;
    out.push({ component, bx: index % c.blocksW, by: Math.floor(index / c.blocksW) });
  }
  return out;
}

/** Blocks per line inside a component (what its one-component scans cover). */
function insideWidth(jpeg: BaselineJpeg, c: FrameComponent): number {
  return Math.ceil(Math.ceil((jpeg.width * c.h) / jpeg.hMax) / 8);
}

/** The units of `scan` to code again, or nothing when it holds no changed block. */
function windowOf(jpeg: BaselineJpeg, scan: ProgressiveScan, blocks: readonly Changed[]): Window | undefined {
  const units: number[] = [];
  const interleaved = scan.components.length > 1;
  for (const block of blocks) {
    if (!scan.components.includes(block.component)) continue;
    const c = jpeg.components[block.component] as FrameComponent;
    let unit: number;
    if (interleaved) {
      unit = Math.floor(block.by / c.v) * jpeg.mcusX + Math.floor(block.bx / c.h);
    } else {
      const width = insideWidth(jpeg, c);
      // A block padding the component to whole MCUs is in no one-component scan.
      if (block.bx >= width) continue;
      unit = block.by * width + block.bx;
    }
    if (unit < scan.units) units.push(unit);
  }
  if (units.length === 0) return undefined;
  units.sort((a, b) => a - b);
  const ri = scan.restartInterval;
  const spans: [number, number][] = [];
  let i = 0;
  while (i < units.length) {
    // A run of units next to each other (a row of the notice's blocks).
    let first = units[i] as number;
    let last = first;
    while (i < units.length && (units[i] as number) <= last + 1) last = units[i++] as number;
    // The difference the next unit codes depends on this one's value.
    if (scan.ss === 0 && scan.ah === 0) last = Math.min(scan.units - 1, last + 1);
    let end = last + 1;
    if (ri > 0) {
      first = Math.floor(first / ri) * ri;
      end = Math.min(scan.units, Math.ceil(end / ri) * ri);
    } else if (scan.ss > 0) {
      // Back to the block whose symbol began the run the first unit is in; on past the run the last one is in.
      while (first > 0 && (scan.runs[first] as number) > 0) first--;
      while (end < scan.units && (scan.runs[end] as number) > 0) end++;
    }
    const previous = spans.at(-1);
    if (previous && first <= previous[1]) previous[1] = Math.max(previous[1], end);
    else spans.push([first, end]);
  }
  return { scan, spans };
}

/** Codes units [first, end) (with a restart marker before each interval after the first), ending with the run still pending. */
function code(coder: ScanCoder, scan: ProgressiveScan, first: number, end: number): void {
  const ri = scan.restartInterval;
  if (ri === 0) {
    coder.run(first, end);
    return;
  }
  for (let unit = first; unit < end; unit += ri) {
    if (unit > first) coder.marker(0xd0 + ((unit / ri - 1) & 7));
    coder.reset();
    coder.run(unit, Math.min(end, unit + ri));
  }
}

/**
 * Without restart intervals: the bits between the window's spans copied, the spans coded (with
 * no window, the scan is copied whole), the codes of remapped symbols written again on the way
 * (`rewrite`). Returns the bytes copied.
 */
function spliceBits(w: BitWriter, coder: ScanCoder, scan: ProgressiveScan, window: Window | undefined, rewrite: Rewrite | undefined): number {
  let at = 0;
  let copied = 0;
  for (const [first, end] of window?.spans ?? []) {
    const from = scan.starts[first] as number;
    copyCoded(w, scan, at, from, rewrite);
    copied += from - at;
    code(coder, scan, first, end);
    at = scan.starts[end] as number;
  }
  const last = scan.starts[scan.units] as number;
  copyCoded(w, scan, at, last, rewrite);
  w.align();
  return (copied + last - at) >> 3;
}

/** With restart intervals: the intervals of the window's spans coded again, every other one copied with its marker. Returns the bytes copied. */
function spliceIntervals(w: BitWriter, data: Uint8Array, coder: ScanCoder, window: Window): number {
  const { scan, spans } = window;
  const ri = scan.restartInterval;
  const markers = restartMarkers(data, scan.dataStart, scan.dataEnd);
  if (markers.length !== Math.ceil(scan.units / ri) - 1) throw new NotSpliceable('the restart markers do not match the restart interval');
  let at = scan.dataStart;
  let copied = 0;
  for (const [first, end] of spans) {
    // Up to and with the marker before the span's first interval; from the marker after its last.
    const head = first === 0 ? scan.dataStart : (markers[first / ri - 1] as number) + 2;
    w.raw(data.subarray(at, head));
    copied += head - at;
    code(coder, scan, first, end);
    w.align();
    at = end < scan.units ? (markers[end / ri - 1] as number) : scan.dataEnd;
  }
  w.raw(data.subarray(at, scan.dataEnd));
  return copied + scan.dataEnd - at;
}

/** Per table slot of a scan (as its long codes name them): the symbols whose codes changed, the old table and the new one. */
type Rewrite = ({ changed: Uint8Array; old: HuffmanTable; next: HuffmanTable } | undefined)[];

/** What writing `scan`'s copied bits again takes, when one of its tables was remapped. */
function rewriting(scan: ProgressiveScan, grown: ReadonlyMap<HuffmanTable, HuffmanTable>, remapped: ReadonlyMap<HuffmanTable, Uint8Array>): Rewrite | undefined {
  if (remapped.size === 0) return undefined;
  const slots = scan.ss > 0 ? [scan.ac] : scan.dc;
  const rewrite: Rewrite = slots.map((table) => {
    const changed = table && remapped.get(table);
    return changed && table ? { changed, old: table, next: grown.get(table) as HuffmanTable } : undefined;
  });
  return rewrite.some((slot) => slot !== undefined) ? rewrite : undefined;
}

/** Bits [from, to) of the scan's coded data, the codes of remapped symbols in the new table's codes (each of them longer than 9 bits, so recorded). */
function copyCoded(w: BitWriter, scan: ProgressiveScan, from: number, to: number, rewrite: Rewrite | undefined): void {
  if (!rewrite) {
    w.copyBits(scan.clean, from, to);
    return;
  }
  const { longPositions: positions, longKeys: keys } = scan;
  let lo = 0;
  let hi = positions.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((positions[mid] as number) < from) lo = mid + 1;
    else hi = mid;
  }
  let last = from;
  for (let j = lo; j < positions.length && (positions[j] as number) < to; j++) {
    const key = keys[j] as number;
    const slot = rewrite[key >> 8];
    const symbol = key & 255;
    if (!slot || slot.changed[symbol] !== 1) continue;
    const at = positions[j] as number;
    w.copyBits(scan.clean, last, at);
    w.put(slot.next.code[symbol] as number, slot.next.length[symbol] as number);
    last = at + (slot.old.length[symbol] as number);
  }
  w.copyBits(scan.clean, last, to);
}

/** Where each restart marker (0xFFD0-0xFFD7) of the entropy-coded data [start, end) is. */
function restartMarkers(data: Uint8Array, start: number, end: number): number[] {
  const out: number[] = [];
  let at = start;
  for (;;) {
    const ff = data.indexOf(0xff, at);
    if (ff < 0 || ff + 1 >= end) return out;
    const next = data[ff + 1] as number;
    if (next >= 0xd0 && next <= 0xd7) out.push(ff);
    at = ff + (next === 0xff ? 1 : 2);
  }
}

/**
 * Codes units of one scan from the coefficients, as libjpeg's `jcphuff.c` does, with the scan's
 * own tables. Between `reset` calls its state (DC predictors, the pending end-of-band run and,
 * in a refinement, the correction bits behind it) carries from unit to unit.
 */
class ScanCoder {
  private readonly pred: Int32Array;
  private eobrun = 0;
  /** Correction bits buffered behind the pending run (refinement scans). */
  private readonly buffered = new Uint8Array(MAX_BUFFERED + 64);
  private bufferedCount = 0;
  /** This block's correction bits, until its next new coefficient (refinement scans). */
  private readonly pending = new Uint8Array(64);

  /** The tables: the scan's, or those grown from them. */
  private readonly dc: (HuffmanTable | undefined)[];
  private readonly ac: HuffmanTable | undefined;

  /**
   * With `missing`, a symbol a table lacks is recorded there (under the scan's own table) and
   * nothing useful is written; without it, such a symbol throws `MissingSymbol`.
   */
  constructor(
    private readonly w: BitWriter,
    private readonly jpeg: BaselineJpeg,
    private readonly scan: ProgressiveScan,
    grown?: ReadonlyMap<HuffmanTable, HuffmanTable>,
    private readonly missing?: Map<HuffmanTable, Set<number>>,
  ) {
    this.pred = new Int32Array(scan.components.length);
    const resolve = (table: HuffmanTable | undefined): HuffmanTable | undefined => (table && grown?.get(table)) ?? table;
    this.dc = scan.dc.map(resolve);
    this.ac = resolve(scan.ac);
  }

  marker(code: number): void {
    this.w.marker(code);
  }

  /** At an interval's start: predictors from zero, no run pending. */
  reset(): void {
    this.flushRun();
    this.pred.fill(0);
  }

  /** Codes units [first, end), then the run still pending. */
  run(first: number, end: number): void {
    const { jpeg, scan } = this;
    const interleaved = scan.components.length > 1;
    if (scan.ss === 0 && scan.ah === 0 && first > 0 && (scan.restartInterval === 0 || first % scan.restartInterval !== 0)) this.predictBefore(first);
    for (let unit = first; unit < end; unit++) {
      if (interleaved) {
        const my = Math.floor(unit / jpeg.mcusX);
        const mx = unit - my * jpeg.mcusX;
        scan.components.forEach((index, s) => {
          const c = jpeg.components[index] as FrameComponent;
          for (let v = 0; v < c.v; v++) for (let h = 0; h < c.h; h++) this.block((c.blockBase + (my * c.v + v) * c.blocksW + mx * c.h + h) * 64, s);
        });
      } else {
        const c = jpeg.components[scan.components[0] as number] as FrameComponent;
        const width = insideWidth(jpeg, c);
        const by = Math.floor(unit / width);
        this.block((c.blockBase + by * c.blocksW + (unit - by * width)) * 64, 0);
      }
    }
    this.flushRun();
  }

  /** The DC predictors as they stand before `unit`: the point-transformed value of each component's block before it. */
  private predictBefore(unit: number): void {
    const { jpeg, scan } = this;
    const coefficients = jpeg.coefficients;
    if (scan.components.length > 1) {
      const my = Math.floor((unit - 1) / jpeg.mcusX);
      const mx = unit - 1 - my * jpeg.mcusX;
      scan.components.forEach((index, s) => {
        const c = jpeg.components[index] as FrameComponent;
        this.pred[s] = (coefficients[(c.blockBase + (my * c.v + c.v - 1) * c.blocksW + mx * c.h + c.h - 1) * 64] as number) >> scan.al;
      });
    } else {
      const c = jpeg.components[scan.components[0] as number] as FrameComponent;
      const width = insideWidth(jpeg, c);
      const by = Math.floor((unit - 1) / width);
      this.pred[0] = (coefficients[(c.blockBase + by * c.blocksW + (unit - 1 - by * width)) * 64] as number) >> scan.al;
    }
  }

  private symbol(table: HuffmanTable | undefined, symbol: number): void {
    if (!table) throw new NotSpliceable('a scan uses an undefined Huffman table');
    const length = table.length[symbol] as number;
    if (length !== 0) {
      this.w.put(table.code[symbol] as number, length);
    } else if (this.missing) {
      const set = this.missing.get(table) ?? new Set<number>();
      set.add(symbol);
      this.missing.set(table, set);
    } else {
      throw new MissingSymbol();
    }
  }

  private block(base: number, s: number): void {
    const { scan } = this;
    if (scan.ss === 0) {
      const value = this.jpeg.coefficients[base] as number;
      if (scan.ah === 0) {
        const shifted = value >> scan.al;
        const diff = shifted - (this.pred[s] as number);
        this.pred[s] = shifted;
        const size = magnitude(diff);
        if (size > 11) throw new NotSpliceable('a DC difference is out of range');
        this.symbol(this.dc[s], size);
        if (size > 0) this.w.put(diff < 0 ? diff - 1 : diff, size);
      } else {
        this.w.put((value >> scan.al) & 1, 1);
      }
    } else if (scan.ah === 0) {
      this.acFirst(base);
    } else {
      this.acRefine(base);
    }
  }

  /** An AC first scan's block (libjpeg's encode_mcu_AC_first): magnitudes shifted right by `al`, signs kept. */
  private acFirst(base: number): void {
    const { ss, se, al } = this.scan;
    const ac = this.ac;
    const coefficients = this.jpeg.coefficients;
    // Nothing past the block's last non-zero coefficient (the decoder's record, kept true by the splice).
    const top = Math.min(se, this.lastNonZero(base));
    let r = 0;
    for (let k = ss; k <= top; k++) {
      const value = coefficients[base + k] as number;
      const shifted = value < 0 ? -(-value >> al) : value >> al;
      if (shifted === 0) {
        r++;
        continue;
      }
      this.flushRun();
      while (r > 15) {
        this.symbol(ac, 0xf0);
        r -= 16;
      }
      const size = magnitude(shifted);
      if (size > 10) throw new NotSpliceable('an AC coefficient is out of range');
      this.symbol(ac, (r << 4) | size);
      this.w.put(shifted < 0 ? shifted - 1 : shifted, size);
      r = 0;
    }
    // The band's zeros after `top` end it too.
    if (r > 0 || top < se) {
      this.eobrun++;
      if (this.eobrun === 0x7fff) this.flushRun();
    }
  }

  /**
   * An AC refinement scan's block (libjpeg's encode_mcu_AC_refine): a coefficient that becomes
   * non-zero at bit `al` is a symbol and a sign; one already non-zero gives its bit `al` as a
   * correction bit, sent after the next symbol, or behind the end-of-band run the block joins.
   */
  private acRefine(base: number): void {
    const { ss, se, al } = this.scan;
    const ac = this.ac;
    const coefficients = this.jpeg.coefficients;
    const pending = this.pending;
    const top = Math.min(se, this.lastNonZero(base));
    // The last coefficient that becomes non-zero in this scan.
    let eob = -1;
    for (let k = top; k >= ss; k--) {
      const value = coefficients[base + k] as number;
      if ((value < 0 ? -value : value) >> al === 1) {
        eob = k;
        break;
      }
    }
    let r = 0;
    let count = 0;
    for (let k = ss; k <= top; k++) {
      const value = coefficients[base + k] as number;
      const shifted = (value < 0 ? -value : value) >> al;
      if (shifted === 0) {
        r++;
        continue;
      }
      while (r > 15 && k <= eob) {
        this.flushRun();
        this.symbol(ac, 0xf0);
        r -= 16;
        for (let i = 0; i < count; i++) this.w.put(pending[i] as number, 1);
        count = 0;
      }
      if (shifted > 1) {
        pending[count++] = shifted & 1;
        continue;
      }
      this.flushRun();
      this.symbol(ac, (r << 4) | 1);
      this.w.put(value < 0 ? 0 : 1, 1);
      for (let i = 0; i < count; i++) this.w.put(pending[i] as number, 1);
      count = 0;
      r = 0;
    }
    if (r > 0 || count > 0 || top < se) {
      this.eobrun++;
      this.buffered.set(pending.subarray(0, count), this.bufferedCount);
      this.bufferedCount += count;
      if (this.eobrun === 0x7fff || this.bufferedCount > MAX_BUFFERED) this.flushRun();
    }
  }

  /** The zigzag position of the block's last non-zero AC coefficient (0 when it has none). */
  private lastNonZero(base: number): number {
    const ends = this.jpeg.progressive?.ends;
    return ends ? (ends[base >>> 6] as number) - 1 : 63;
  }

  /** The pending end-of-band run: its symbol, its length's low bits, then the correction bits behind it. */
  private flushRun(): void {
    if (this.eobrun === 0) return;
    const bits = 31 - Math.clz32(this.eobrun);
    this.symbol(this.ac, bits << 4);
    if (bits > 0) this.w.put(this.eobrun, bits);
    for (let i = 0; i < this.bufferedCount; i++) this.w.put(this.buffered[i] as number, 1);
    this.eobrun = 0;
    this.bufferedCount = 0;
  }
}
