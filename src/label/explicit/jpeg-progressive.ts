/**
 * @module label/explicit/jpeg-progressive
 * Reads a progressive JPEG (ITU T.81 Annex G: spectral selection and successive approximation,
 * Huffman coding, 8-bit samples, one or three components) down to its quantised DCT
 * coefficients, every block of every component, for the DCT-block splice of `jpeg-splice.ts`
 * (issue 14: "for baseline and progressive JPEG ... carry every other block's coefficients over
 * unchanged, as jpegtran's drop does"). The splice then changes only the blocks under the notice
 * and writes the file again whole as a sequential JPEG with Huffman tables made for it, as
 * jpegtran writes a sequential file unless asked otherwise: every other block's coefficients,
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
import { ascii, type BaselineJpeg, type FrameComponent, type HuffmanTable, LongCodes, NotSpliceable, packed, plainBytes, readDht, readDqt, unstuffScan } from './jpeg-splice-parse.js';

const u16 = (data: Uint8Array, at: number): number => ((data[at] ?? 0) << 8) | (data[at + 1] ?? 0);

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
  if (data[0] !== 0xff || data[1] !== 0xd8) throw new NotSpliceable('not a JPEG');
  const quant: (Uint16Array | undefined)[] = [];
  const dc: (HuffmanTable | undefined)[] = [];
  const ac: (HuffmanTable | undefined)[] = [];
  const dhtSegments: [number, number][] = [];
  let frame: { width: number; height: number; components: { id: number; h: number; v: number; quant: number }[] } | undefined;
  let sofOffset = -1;
  let wideQuant = false;
  let restartInterval = 0;
  let headerRestart = 0;
  let adobeTransform: number | undefined;
  let firstSos = -1;
  let firstScanStart = -1;
  let state: State | undefined;
  let at = 2;
  for (;;) {
    if (at + 2 > data.length) throw new NotSpliceable('the file ends before its end-of-image marker');
    if (data[at] !== 0xff) throw new NotSpliceable('a marker was expected');
    const marker = data[at + 1] ?? 0;
    if (marker === 0xff) {
      at++;
      continue;
    }
    if (marker === 0xd9) break;
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) throw new NotSpliceable(`unexpected marker 0xff${marker.toString(16)}`);
    if (at + 4 > data.length) throw new NotSpliceable('a segment is cut short');
    const length = u16(data, at + 2);
    const body = at + 4;
    const end = at + 2 + length;
    if (length < 2 || end > data.length) throw new NotSpliceable('a segment runs past the end of the file');
    if (firstSos >= 0 && marker !== 0xc4 && marker !== 0xdd && marker !== 0xda) {
      throw new NotSpliceable((marker >= 0xe0 && marker <= 0xef) || marker === 0xfe ? 'metadata between the scans' : `marker 0xff${marker.toString(16)} between the scans`);
    }
    if (marker === 0xc2) {
      if (frame) throw new NotSpliceable('two frame headers');
      const precision = data[body] ?? 0;
      const height = u16(data, body + 1);
      const width = u16(data, body + 3);
      const count = data[body + 5] ?? 0;
      if (precision !== 8) throw new NotSpliceable(`${precision}-bit samples`);
      if (width === 0 || height === 0) throw new NotSpliceable('the height is set by a DNL marker');
      if (count !== 1 && count !== 3) throw new NotSpliceable(`${count} components`);
      if (length < 8 + count * 3) throw new NotSpliceable('the frame header is cut short');
      const components: { id: number; h: number; v: number; quant: number }[] = [];
      for (let i = 0; i < count; i++) {
        const sampling = data[body + 7 + i * 3] ?? 0;
        const h = sampling >> 4;
        const v = sampling & 15;
        const q = data[body + 8 + i * 3] ?? 0;
        if (h < 1 || h > 4 || v < 1 || v > 4 || q > 3) throw new NotSpliceable('invalid sampling factors or table id');
        const id = data[body + 6 + i * 3] ?? 0;
        if (components.some((c) => c.id === id)) throw new NotSpliceable('two components with one id');
        components.push({ id, h: count === 1 ? 1 : h, v: count === 1 ? 1 : v, quant: q });
      }
      frame = { width, height, components };
      sofOffset = at;
    } else if (marker === 0xcc) {
      throw new NotSpliceable('arithmetic coding');
    } else if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8) {
      throw new NotSpliceable(`not a progressive Huffman JPEG (SOF${marker - 0xc0})`);
    } else if (marker === 0xc4) {
      readDht(data, body, end, dc, ac);
      if (firstSos < 0) dhtSegments.push([at, end]);
    } else if (marker === 0xdb) {
      readDqt(data, body, end, quant);
      for (let p = body; p < end; p += 1 + 64 * (((data[p] ?? 0) >> 4) + 1)) if ((data[p] ?? 0) >> 4 !== 0) wideQuant = true;
    } else if (marker === 0xdd) {
      if (length !== 4) throw new NotSpliceable('a restart interval segment of the wrong length');
      restartInterval = u16(data, body);
    } else if (marker === 0xee && length >= 14 && ascii(data, body, 'Adobe')) {
      adobeTransform = data[body + 11];
    } else if (marker === 0xda) {
      if (!frame) throw new NotSpliceable('a scan before the frame header');
      if (!state) {
        if (frame.components.length === 3 && (adobeTransform === 0 || (frame.components[0]?.id === 0x52 && frame.components[1]?.id === 0x47 && frame.components[2]?.id === 0x42))) throw new NotSpliceable('RGB-coded JPEG');
        if (frame.components.some((c) => !quant[c.quant])) throw new NotSpliceable('a component uses an undefined quantisation table');
        state = setUp(frame);
        firstSos = at;
        firstScanStart = end;
        headerRestart = restartInterval;
      }
      at = decodeScan(data, at, end, state, dc, ac, restartInterval);
      continue;
    }
    at = end;
  }
  if (!state || !frame) throw new NotSpliceable('no scan before the end of the image');
  const total = state.mcusX * state.mcusY;
  return {
    width: frame.width,
    height: frame.height,
    components: state.components,
    hMax: state.hMax,
    vMax: state.vMax,
    mcusX: state.mcusX,
    mcusY: state.mcusY,
    restartInterval: headerRestart,
    quant,
    dc: [],
    ac: [],
    dhtSegments,
    sosStart: firstSos,
    scanStart: firstScanStart,
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
    progressive: { sofOffset, wideQuant },
  };
}

function setUp(frame: { width: number; height: number; components: { id: number; h: number; v: number; quant: number }[] }): State {
  const hMax = Math.max(...frame.components.map((c) => c.h));
  const vMax = Math.max(...frame.components.map((c) => c.v));
  const mcusX = Math.ceil(frame.width / (8 * hMax));
  const mcusY = Math.ceil(frame.height / (8 * vMax));
  let blocks = 0;
  let perMcu = 0;
  const components: FrameComponent[] = packed(frame.components, (c, i) => {
    if (hMax % c.h !== 0 || vMax % c.v !== 0) throw new NotSpliceable('fractional chroma sampling');
    // The sequential file written again takes table 0 for luma and 1 for chroma, as libjpeg does.
    const table = i === 0 ? 0 : 1;
    const component: FrameComponent = { id: c.id, h: c.h, v: c.v, quant: c.quant, blocksW: (mcusX * c.h) | 0, blocksH: (mcusY * c.v) | 0, blockBase: blocks | 0, firstRow: 0, dc: table, ac: table };
    blocks += component.blocksW * component.blocksH;
    perMcu += c.h * c.v;
    return component;
  });
  if (perMcu > 10) throw new NotSpliceable('more than 10 blocks per MCU');
  if (blocks > 64_000_000 / 32) throw new NotSpliceable('the image is too large');
  const inside = packed(frame.components, (c) => ({ w: Math.ceil(Math.ceil((frame.width * c.h) / hMax) / 8), h: Math.ceil(Math.ceil((frame.height * c.v) / vMax) / 8) }));
  return { width: frame.width, height: frame.height, components, inside, hMax, vMax, mcusX, mcusY, coefficients: new Int16Array(blocks * 64) };
}

/** Reads the scan whose header is at `sosStart` into `state`; returns where the marker after its data is. */
function decodeScan(data: Uint8Array, sosStart: number, scanStart: number, state: State, dcTables: readonly (HuffmanTable | undefined)[], acTables: readonly (HuffmanTable | undefined)[], ri: number): number {
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
  const dcFirst = ss === 0 && ah === 0;
  for (let i = 0; i < count; i++) if ((dcFirst && !dcOf[i]) || (ss > 0 && !acOf[i])) throw new NotSpliceable('a scan uses an undefined Huffman table');
  const { clean, n, restarts, scanEnd } = unstuffScan(data, scanStart, false, false);
  const view = new DataView(clean.buffer, clean.byteOffset, clean.byteLength);
  const limit = n * 8;
  const coefficients = state.coefficients;
  const pred = new Int32Array(count);
  let pos = 0;
  let eobrun = 0;
  let restart = 0;
  let units = 0;

  const bits = (length: number): number => {
    const value = ((view.getUint32(pos >>> 3) << (pos & 7)) >>> (32 - length)) >>> 0;
    pos += length;
    return value;
  };
  const symbol = (table: HuffmanTable): number => {
    const window = view.getUint32(pos >>> 3) << (pos & 7);
    const entry = table.lookup[window >>> 23] as number;
    if (entry !== 0) {
      pos += entry >> 8;
      return entry & 255;
    }
    for (let length = 10; length <= 16; length++) {
      const code = window >>> (32 - length);
      if (code <= (table.maxCode[length] as number)) {
        const value = table.symbols[code + (table.offset[length] as number)];
        if (value === undefined) break;
        pos += length;
        return value;
      }
    }
    throw new NotSpliceable('an invalid Huffman code in the entropy-coded data');
  };
  const extend = (value: number, size: number): number => (value < 1 << (size - 1) ? value - (1 << size) + 1 : value);
  /** Before each restart interval but the first: the data goes on after the marker, predictors and band runs start again. */
  const unit = (): void => {
    if (ri > 0 && units > 0 && units % ri === 0) {
      if (restart >= restarts.length) throw new NotSpliceable('a restart marker is missing');
      if (pos > (restarts[restart] as number) * 8) throw new NotSpliceable('a restart interval runs past its marker');
      pos = (restarts[restart] as number) * 8;
      restart++;
      pred.fill(0);
      eobrun = 0;
    }
    units++;
  };
  const block = (base: number, scanIndex: number): void => {
    if (ss === 0) {
      if (ah === 0) {
        const size = symbol(dcOf[scanIndex] as HuffmanTable);
        if (size > 11) throw new NotSpliceable('a DC difference is out of range');
        const value = (pred[scanIndex] as number) + (size > 0 ? extend(bits(size), size) : 0);
        pred[scanIndex] = value;
        const dcValue = value * (1 << al);
        if (dcValue > MAX_DC || dcValue < -MAX_DC) throw new NotSpliceable('a DC value is out of range');
        coefficients[base] = dcValue;
      } else if (bits(1)) {
        coefficients[base] = (coefficients[base] as number) | (1 << al);
      }
    } else if (ah === 0) {
      acFirst(base, acOf[0] as HuffmanTable);
    } else {
      acRefine(base, acOf[0] as HuffmanTable);
    }
    if (pos > limit) throw new NotSpliceable('the entropy-coded data is truncated');
  };
  const acFirst = (base: number, table: HuffmanTable): void => {
    if (eobrun > 0) {
      eobrun--;
      return;
    }
    for (let k = ss; k <= se; k++) {
      const rs = symbol(table);
      const run = rs >> 4;
      const size = rs & 15;
      if (size === 0) {
        if (run === 15) {
          k += 15;
          continue;
        }
        eobrun = (1 << run) - 1 + (run > 0 ? bits(run) : 0);
        return;
      }
      k += run;
      if (k > se || size > 10) throw new NotSpliceable('an AC coefficient out of its band or range');
      const value = extend(bits(size), size) * (1 << al);
      if (value > MAX_AC || value < -MAX_AC) throw new NotSpliceable('an AC value is out of range');
      coefficients[base + k] = value;
    }
  };
  const p1 = 1 << al;
  const m1 = -1 << al;
  /** A correction bit for the coefficient at `at`, which is non-zero: its bit `al` is set away from zero. */
  const correct = (at: number): void => {
    const value = coefficients[at] as number;
    if (bits(1) && (value & p1) === 0) coefficients[at] = value >= 0 ? value + p1 : value + m1;
  };
  const acRefine = (base: number, table: HuffmanTable): void => {
    let k = ss;
    if (eobrun === 0) {
      for (; k <= se; k++) {
        const rs = symbol(table);
        let run = rs >> 4;
        const size = rs & 15;
        let value = 0;
        if (size !== 0) {
          if (size !== 1) throw new NotSpliceable('a refinement symbol of more than one bit');
          value = bits(1) ? p1 : m1;
        } else if (run !== 15) {
          eobrun = (1 << run) + (run > 0 ? bits(run) : 0);
          break;
        }
        // Pass `run` zero coefficients (correcting the non-zero ones on the way) to the new one's place.
        while (k <= se) {
          const at = base + k;
          if (coefficients[at] !== 0) correct(at);
          else if (--run < 0) break;
          k++;
        }
        if (value !== 0) {
          if (k > se) throw new NotSpliceable('a refinement coefficient past its band');
          coefficients[base + k] = value;
        }
      }
    }
    if (eobrun > 0) {
      // The rest of the band gets its correction bits only.
      for (; k <= se; k++) if (coefficients[base + k] !== 0) correct(base + k);
      eobrun--;
    }
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
  return scanEnd;
}
