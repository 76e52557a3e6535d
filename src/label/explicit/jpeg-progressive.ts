/**
 * @module label/explicit/jpeg-progressive
 * Reads a progressive JPEG (ITU T.81 Annex G: spectral selection and successive approximation,
 * Huffman coding, 8-bit samples, one or three components) down to its quantised DCT
 * coefficients, every block of every component, for the DCT-block splice of `jpeg-splice.ts`
 * (issue 14: "for baseline and progressive JPEG ... carry every other block's coefficients over
 * unchanged, as jpegtran's drop does"). The splice then changes only the blocks under the notice
 * and codes again only the units around them in each scan (`jpeg-progressive-splice.ts`, which
 * takes where each unit starts, the end-of-band run pending there and where the long codes are
 * from this decoder's record of each scan), or, failing that, writes the file again whole with
 * tables made for each scan (`jpeg-progressive-encode.ts`): every other block's coefficients,
 * and so its pixels, are the source's.
 *
 * The scans are decoded as T.81 G.1.2 and libjpeg's `jdphuff.c` describe them: DC first scans
 * (interleaved or not) and their refinement bits, AC first scans with end-of-band runs, and AC
 * refinement scans (correction bits for coefficients already non-zero, new coefficients of one
 * unit at the scan's bit position). A non-interleaved scan covers only the blocks inside its
 * component; the blocks that pad a component to whole MCUs keep the DC value an interleaved DC
 * scan gave them, or zero. Huffman tables and the restart interval may change between scans;
 * anything else there (metadata, quantisation tables, DNL) is refused rather than dropped.
 *
 * Anything this does not handle, and corrupt or truncated data, throws `NotSpliceable`: the
 * caller re-encodes the picture as before.
 */
import { type BaselineJpeg, type Frame, type FrameComponent, type HuffmanSegment, type HuffmanTable, LongCodes, type ProgressiveScan, noTables, NotSpliceable, packed, plainBytes, readFrame, readTables, refuseFrame, segmentAt, takeOfferedProgressive, unstuffScan } from './jpeg-splice-parse.js';

/** The largest magnitude of a DC and of an AC coefficient a sequential 8-bit JPEG can code (sizes 11 and 10). */
const MAX_DC = 2047;
const MAX_AC = 1023;

/** What the decoder keeps between scans. */
interface State {
  width: number;
  height: number;
  components: FrameComponent[];
  /** Blocks per line and column inside each component (a non-interleaved scan covers only these). */
  inside: { w: number; h: number }[];
  hMax: number;
  vMax: number;
  mcusX: number;
  mcusY: number;
  coefficients: Int16Array;
  /** Per block: one past the highest zigzag position holding a non-zero AC coefficient so far (a refinement's end-of-band run reads no bit past it). */
  ends: Uint8Array;
}

/**
 * Parses a progressive JPEG and decodes every scan into the coefficients of every block
 * (64 per block, zigzag order, DC absolute), in the layout `parseBaselineJpeg` uses with every
 * MCU kept.
 *
 * @throws NotSpliceable when the file is not a progressive Huffman-coded 8-bit Y or YCbCr JPEG, or is corrupt
 */
export function parseProgressiveJpeg(input: Uint8Array): BaselineJpeg {
  const data = plainBytes(input);
  const offered = takeOfferedProgressive(data);
  if (offered) return arrived(offered);
  if (data[0] !== 0xff || data[1] !== 0xd8) throw new NotSpliceable('not a JPEG');
  const tables = noTables();
  let frame: Frame | undefined;
  /** The first scan: where its header is, where its data starts, the Huffman segments before it and the restart interval then. */
  let first: { sosStart: number; scanStart: number; dhtSegments: HuffmanSegment[]; restartInterval: number } | undefined;
  let state: State | undefined;
  const scans: ProgressiveScan[] = [];
  let at = 2;
  for (;;) {
    const segment = segmentAt(data, at, 'the file ends before its end-of-image marker');
    const { marker, body, end, length } = segment;
    if (marker === 0xd9) break;
    if (first && marker !== 0xc4 && marker !== 0xdd && marker !== 0xda) {
      throw new NotSpliceable((marker >= 0xe0 && marker <= 0xef) || marker === 0xfe ? 'metadata between the scans' : `marker 0xff${marker.toString(16)} between the scans`);
    }
    if (marker === 0xc2) {
      if (frame) throw new NotSpliceable('two frame headers');
      frame = readFrame(data, body, length);
    } else if (marker === 0xcc) {
      throw new NotSpliceable('arithmetic coding');
    } else if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8) {
      throw new NotSpliceable(`not a progressive Huffman JPEG (SOF${marker - 0xc0})`);
    } else if (marker === 0xda) {
      if (!frame) throw new NotSpliceable('a scan before the frame header');
      if (!state) {
        refuseFrame(frame, tables);
        state = setUp(frame);
        first = { sosStart: segment.at, scanStart: end, dhtSegments: [...tables.dhtSegments], restartInterval: tables.restartInterval };
      }
      const scan = decodeScan(data, segment.at, end, state, tables.dc, tables.ac, tables.restartInterval);
      scans.push(scan);
      at = scan.dataEnd;
      continue;
    } else {
      readTables(data, segment, tables);
    }
    at = end;
  }
  if (!state || !frame || !first) throw new NotSpliceable('no scan before the end of the image');
  const total = state.mcusX * state.mcusY;
  return {
    width: frame.width,
    height: frame.height,
    components: state.components,
    hMax: state.hMax,
    vMax: state.vMax,
    mcusX: state.mcusX,
    mcusY: state.mcusY,
    restartInterval: first.restartInterval,
    quant: tables.quant,
    dc: [],
    ac: [],
    dhtSegments: first.dhtSegments,
    sosStart: first.sosStart,
    scanStart: first.scanStart,
    scanEnd: at,
    coefficients: state.coefficients,
    acColumns: undefined,
    from: 0,
    to: total,
    predAtFrom: new Int32Array(state.components.length),
    restarts: [],
    mcuBits: new Float64Array(total + 1),
    clean: new Uint8Array(0),
    long: new LongCodes(),
    intervalEnds: [],
    progressive: { ends: state.ends, scans, dht: tables.dhtSegments },
  };
}

/**
 * A decode made in another thread (`withPreparsed`), as this thread's own: structured cloning
 * keeps its data but not the class of its long codes, nor the one object shape every
 * component gets from its literal here (the splice's loops would see another map).
 */
function arrived(decoded: BaselineJpeg): BaselineJpeg {
  const progressive = decoded.progressive && { ends: decoded.progressive.ends, scans: packed(decoded.progressive.scans, (scan) => ({ ...scan })), dht: decoded.progressive.dht };
  const components = packed(decoded.components, (c) => {
    const component: FrameComponent = { id: c.id, h: c.h, v: c.v, quant: c.quant, blocksW: c.blocksW | 0, blocksH: c.blocksH | 0, blockBase: c.blockBase | 0, firstRow: c.firstRow | 0, dc: c.dc, ac: c.ac };
    return component;
  });
  return { ...decoded, components, long: new LongCodes(), progressive };
}

/** The large buffers of a decode, which can move to another thread rather than be copied. */
export function transferables(decoded: BaselineJpeg): ArrayBuffer[] {
  const buffers = [decoded.coefficients.buffer, decoded.mcuBits.buffer];
  if (decoded.progressive) {
    buffers.push(decoded.progressive.ends.buffer);
    for (const scan of decoded.progressive.scans) buffers.push(scan.clean.buffer, scan.starts.buffer, scan.runs.buffer, scan.longPositions.buffer, scan.longKeys.buffer);
  }
  return buffers.filter((buffer): buffer is ArrayBuffer => buffer instanceof ArrayBuffer);
}

function setUp(frame: Frame): State {
  const hMax = Math.max(...frame.components.map((c) => c.h));
  const vMax = Math.max(...frame.components.map((c) => c.v));
  const mcusX = Math.ceil(frame.width / (8 * hMax));
  const mcusY = Math.ceil(frame.height / (8 * vMax));
  let blocks = 0;
  let perMcu = 0;
  const components: FrameComponent[] = packed(frame.components, (c, i) => {
    if (hMax % c.h !== 0 || vMax % c.v !== 0) throw new NotSpliceable('fractional chroma sampling');
    // The file written again codes its DC scan with table 0 for luma and 1 for chroma, as libjpeg does.
    const table = i === 0 ? 0 : 1;
    const component: FrameComponent = { id: c.id, h: c.h, v: c.v, quant: c.quant, blocksW: (mcusX * c.h) | 0, blocksH: (mcusY * c.v) | 0, blockBase: blocks | 0, firstRow: 0, dc: table, ac: table };
    blocks += component.blocksW * component.blocksH;
    perMcu += c.h * c.v;
    return component;
  });
  if (perMcu > 10) throw new NotSpliceable('more than 10 blocks per MCU');
  if (blocks > 64_000_000 / 32) throw new NotSpliceable('the image is too large');
  const inside = packed(frame.components, (c) => ({ w: Math.ceil(Math.ceil((frame.width * c.h) / hMax) / 8), h: Math.ceil(Math.ceil((frame.height * c.v) / vMax) / 8) }));
  return { width: frame.width, height: frame.height, components, inside, hMax, vMax, mcusX, mcusY, coefficients: new Int16Array(blocks * 64), ends: new Uint8Array(blocks) };
}

/** Reads the scan whose header is at `sosStart` into `state`; returns its record (`dataEnd`: where the marker after its data is). */
function decodeScan(data: Uint8Array, sosStart: number, scanStart: number, state: State, dcTables: readonly (HuffmanTable | undefined)[], acTables: readonly (HuffmanTable | undefined)[], ri: number): ProgressiveScan {
  const body = sosStart + 4;
  const count = data[body] ?? 0;
  if (count < 1 || count > state.components.length || scanStart - body !== 4 + count * 2) throw new NotSpliceable('a scan header of the wrong length');
  const scanComponents: number[] = [];
  const dcOf: (HuffmanTable | undefined)[] = [];
  const acOf: (HuffmanTable | undefined)[] = [];
  for (let i = 0; i < count; i++) {
    const id = data[body + 1 + i * 2] ?? 0;
    const selectors = data[body + 2 + i * 2] ?? 0;
    const index = state.components.findIndex((c) => c.id === id);
    if (index < 0 || scanComponents.includes(index)) throw new NotSpliceable('a scan names an unknown or repeated component');
    if (scanComponents.length > 0 && index < (scanComponents.at(-1) as number)) throw new NotSpliceable('a scan lists the components out of frame order');
    scanComponents.push(index);
    dcOf.push(dcTables[selectors >> 4]);
    acOf.push(acTables[selectors & 15]);
  }
  const ss = data[body + 1 + count * 2] ?? 0;
  const se = data[body + 2 + count * 2] ?? 0;
  const ah = (data[body + 3 + count * 2] ?? 0) >> 4;
  const al = (data[body + 3 + count * 2] ?? 0) & 15;
  if (ss === 0 ? se !== 0 : count !== 1 || se < ss || se > 63) throw new NotSpliceable('a scan with an invalid spectral band');
  if (al > 13 || (ah !== 0 && ah !== al + 1)) throw new NotSpliceable('a scan with an invalid successive approximation');
  const firstDc = ss === 0 && ah === 0;
  for (let i = 0; i < count; i++) if ((firstDc && !dcOf[i]) || (ss > 0 && !acOf[i])) throw new NotSpliceable('a scan uses an undefined Huffman table');
  // Into the parser's reused array: what the splice needs of it is copied out below.
  const { clean, n, restarts, scanEnd } = unstuffScan(data, scanStart, true, false);
  if (n >= 2 ** 29) throw new NotSpliceable('the image is too large');
  const scan: Scan = { d: clean, pos: 0, limit: n * 8, eobrun: 0, ss, se, al, coefficients: state.coefficients, ends: state.ends, longPositions: [], longKeys: [] };
  const inside = state.inside[scanComponents[0] as number] as { w: number; h: number };
  const units = count > 1 ? state.mcusX * state.mcusY : inside.w * inside.h;
  // Where each unit starts and the band run pending then, for the splice to copy the units away from the notice.
  const starts = new Uint32Array(units + 1);
  const runs = new Uint16Array(ss > 0 ? units : 0);
  const pred = new Int32Array(count);
  let restart = 0;
  let unitCount = 0;
  /** Before each restart interval but the first: the data goes on after the marker, predictors and band runs start again. */
  const unit = (): void => {
    if (ri > 0 && unitCount > 0 && unitCount % ri === 0) {
      if (restart >= restarts.length) throw new NotSpliceable('a restart marker is missing');
      if (scan.pos > (restarts[restart] as number) * 8) throw new NotSpliceable('a restart interval runs past its marker');
      scan.pos = (restarts[restart] as number) * 8;
      restart++;
      pred.fill(0);
      scan.eobrun = 0;
    }
    starts[unitCount] = scan.pos;
    if (ss > 0) runs[unitCount] = scan.eobrun;
    unitCount++;
  };
  const block = (base: number, scanIndex: number): void => {
    if (ss === 0) {
      if (ah === 0) dcFirst(scan, base, dcOf[scanIndex] as HuffmanTable, pred, scanIndex);
      else if (readBit(scan)) scan.coefficients[base] = (scan.coefficients[base] as number) | (1 << al);
    } else if (ah === 0) {
      acFirst(scan, base, acOf[0] as HuffmanTable);
    } else {
      acRefine(scan, base, acOf[0] as HuffmanTable);
    }
    if (scan.pos > scan.limit) throw new NotSpliceable('the entropy-coded data is truncated');
  };

  if (count > 1) {
    // Interleaved (DC scans only): MCU by MCU, each component's blocks in it, padding blocks included.
    for (let my = 0; my < state.mcusY; my++) {
      for (let mx = 0; mx < state.mcusX; mx++) {
        unit();
        for (let s = 0; s < count; s++) {
          const c = state.components[scanComponents[s] as number] as FrameComponent;
          for (let v = 0; v < c.v; v++) for (let h = 0; h < c.h; h++) block((c.blockBase + (my * c.v + v) * c.blocksW + mx * c.h + h) * 64, s);
        }
      }
    }
  } else {
    // One component: its blocks inside the picture, row by row.
    const index = scanComponents[0] as number;
    const c = state.components[index] as FrameComponent;
    const inside = state.inside[index] as { w: number; h: number };
    for (let by = 0; by < inside.h; by++) {
      for (let bx = 0; bx < inside.w; bx++) {
        unit();
        block((c.blockBase + by * c.blocksW + bx) * 64, 0);
      }
    }
  }
  if (ri > 0 && restart !== restarts.length) throw new NotSpliceable('the restart markers do not match the restart interval');
  if (ri === 0 && restarts.length > 0) throw new NotSpliceable('restart markers in a scan without a restart interval');
  starts[units] = scan.pos;
  return {
    dataStart: scanStart,
    dataEnd: scanEnd,
    components: scanComponents,
    ss,
    se,
    ah,
    al,
    dc: firstDc ? dcOf : [],
    ac: ss > 0 ? acOf[0] : undefined,
    restartInterval: ri,
    // With restart intervals the splice copies whole intervals as the file has them.
    clean: ri > 0 ? new Uint8Array(0) : clean.slice(0, n + 4),
    starts,
    runs,
    units,
    longPositions: Uint32Array.from(scan.longPositions),
    longKeys: Uint16Array.from(scan.longKeys),
  };
}

/** A scan being decoded: its unstuffed data (zeros after it), the bit position, the band and the end-of-band run. */
interface Scan {
  d: Uint8Array;
  pos: number;
  limit: number;
  eobrun: number;
  ss: number;
  se: number;
  al: number;
  coefficients: Int16Array;
  ends: Uint8Array;
  /** Codes longer than 9 bits: where each starts, and (table slot in the scan << 8) | symbol. */
  longPositions: number[];
  longKeys: number[];
}

/** 32 bits of `d` from bit `p` (at least 25 of them valid). */
const windowAt = (d: Uint8Array, p: number): number => {
  const i = p >>> 3;
  return ((((d[i] as number) << 24) | ((d[i + 1] as number) << 16) | ((d[i + 2] as number) << 8) | (d[i + 3] as number)) << (p & 7)) | 0;
};

/** The Huffman symbol at bit `p`: (code length << 8) | symbol. @throws NotSpliceable for a code the table does not have */
function symbolAt(scan: Scan, d: Uint8Array, p: number, table: HuffmanTable, slot: number): number {
  const window = windowAt(d, p);
  const entry = table.lookup[window >>> 23] as number;
  if (entry !== 0) return entry;
  for (let length = 10; length <= 16; length++) {
    const code = window >>> (32 - length);
    if (code <= (table.maxCode[length] as number)) {
      const value = table.symbols[code + (table.offset[length] as number)];
      if (value === undefined) break;
      // Where the codes longer than the lookahead are, for the splice to write them again with a remapped table.
      scan.longPositions.push(p);
      scan.longKeys.push((slot << 8) | value);
      return (length << 8) | value;
    }
  }
  throw new NotSpliceable('an invalid Huffman code in the entropy-coded data');
}

/** `length` (1-16) bits at bit `p`, as an unsigned number. */
const bitsAt = (d: Uint8Array, p: number, length: number): number => windowAt(d, p) >>> (32 - length);

const extend = (value: number, size: number): number => (value < 1 << (size - 1) ? value - (1 << size) + 1 : value);

function readBit(scan: Scan): number {
  const p = scan.pos++;
  return ((scan.d[p >>> 3] as number) >> (~p & 7)) & 1;
}

function dcFirst(scan: Scan, base: number, table: HuffmanTable, pred: Int32Array, index: number): void {
  const entry = symbolAt(scan, scan.d, scan.pos, table, index);
  scan.pos += entry >> 8;
  const size = entry & 255;
  if (size > 11) throw new NotSpliceable('a DC difference is out of range');
  let value = pred[index] as number;
  if (size > 0) {
    value += extend(bitsAt(scan.d, scan.pos, size), size);
    scan.pos += size;
  }
  pred[index] = value;
  const dcValue = value * (1 << scan.al);
  if (dcValue > MAX_DC || dcValue < -MAX_DC) throw new NotSpliceable('a DC value is out of range');
  scan.coefficients[base] = dcValue;
}

function acFirst(scan: Scan, base: number, table: HuffmanTable): void {
  if (scan.eobrun > 0) {
    scan.eobrun--;
    return;
  }
  const { d, se, coefficients } = scan;
  const scale = 1 << scan.al;
  let p = scan.pos;
  for (let k = scan.ss; k <= se; k++) {
    const entry = symbolAt(scan, d, p, table, 0);
    p += entry >> 8;
    const run = (entry >> 4) & 15;
    const size = entry & 15;
    if (size === 0) {
      if (run === 15) {
        k += 15;
        continue;
      }
      scan.eobrun = (1 << run) - 1;
      if (run > 0) {
        scan.eobrun += bitsAt(d, p, run);
        p += run;
      }
      break;
    }
    k += run;
    if (k > se || size > 10) throw new NotSpliceable('an AC coefficient out of its band or range');
    const value = extend(bitsAt(d, p, size), size) * scale;
    p += size;
    if (value > MAX_AC || value < -MAX_AC) throw new NotSpliceable('an AC value is out of range');
    coefficients[base + k] = value;
    if (k >= (scan.ends[base >>> 6] as number)) scan.ends[base >>> 6] = k + 1;
  }
  scan.pos = p;
}

/**
 * An AC refinement scan's block (T.81 G.1.2.3, libjpeg's decode_mcu_AC_refine): each symbol
 * gives a run of zero coefficients to pass and a new coefficient of one unit at bit `al`; every
 * coefficient already non-zero that is passed takes a correction bit; an end-of-band run ends
 * the block, whose other non-zero coefficients take their correction bits too.
 */
function acRefine(scan: Scan, base: number, table: HuffmanTable): void {
  const d = scan.d;
  const se = scan.se;
  const coefficients = scan.coefficients;
  const lookup = table.lookup;
  const block = base >>> 6;
  const p1 = 1 << scan.al;
  const m1 = -1 << scan.al;
  let p = scan.pos;
  let k = scan.ss;
  let eobrun = scan.eobrun;
  /** One past the block's last non-zero coefficient so far. */
  let end = scan.ends[block] as number;
  if (eobrun === 0) {
    for (; k <= se; k++) {
      // The symbol (the lookahead's entry, or the long code's) and the bit after it, from one window.
      const window = windowAt(d, p);
      let entry = lookup[window >>> 23] as number;
      if (entry === 0) entry = symbolAt(scan, d, p, table, 0);
      const length = entry >> 8;
      p += length;
      let run = (entry >> 4) & 15;
      const size = entry & 15;
      let value = 0;
      if (size !== 0) {
        if (size !== 1) throw new NotSpliceable('a refinement symbol of more than one bit');
        value = (window << length) < 0 ? p1 : m1;
        p++;
      } else if (run !== 15) {
        eobrun = 1 << run;
        if (run > 0) {
          eobrun += bitsAt(d, p, run);
          p += run;
        }
        break;
      }
      // Pass `run` zero coefficients (correcting the non-zero ones on the way) to the new one's place.
      while (k <= se) {
        const at = base + k;
        const coefficient = coefficients[at] as number;
        if (coefficient !== 0) {
          if (((d[p >>> 3] as number) >> (~p & 7)) & 1 && (coefficient & p1) === 0) coefficients[at] = coefficient >= 0 ? coefficient + p1 : coefficient + m1;
          p++;
        } else if (--run < 0) {
          break;
        }
        k++;
      }
      if (value !== 0) {
        if (k > se) throw new NotSpliceable('a refinement coefficient past its band');
        coefficients[base + k] = value;
        if (k >= end) end = k + 1;
      }
      // Past the data only zeros are read, and the loop ends with the band: `block` checks the position after it.
    }
  }
  if (eobrun > 0) {
    // The rest of the band gets its correction bits only: its non-zero coefficients, none past the block's end.
    const stop = Math.min(se + 1, end);
    for (; k < stop; k++) {
      const at = base + k;
      const coefficient = coefficients[at] as number;
      if (coefficient !== 0) {
        if (((d[p >>> 3] as number) >> (~p & 7)) & 1 && (coefficient & p1) === 0) coefficients[at] = coefficient >= 0 ? coefficient + p1 : coefficient + m1;
        p++;
      }
    }
    eobrun--;
  }
  scan.ends[block] = end;
  scan.eobrun = eobrun;
  scan.pos = p;
}
