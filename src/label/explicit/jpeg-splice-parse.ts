/**
 * @module label/explicit/jpeg-splice-parse
 * Reads a baseline JPEG (ITU T.81 sequential Huffman, SOF0/SOF1, 8-bit samples, one or three
 * components, one interleaved scan) down to its quantised DCT coefficients, for the DCT-block
 * splice of `jpeg-splice.ts`. Anything else (progressive, lossless, arithmetic coding, 12-bit,
 * several scans, CMYK, RGB-coded JPEGs, corrupt or truncated entropy data, hostile Huffman
 * tables) throws `NotSpliceable`, and the caller re-encodes the image as before.
 *
 * The entropy-coded data is first copied without its stuffed zero bytes and restart markers
 * (their positions kept), then decoded with a 9-bit lookahead table per Huffman table (the MCUs
 * outside the kept ones are only skipped over, several AC symbols per 12-bit lookup); the
 * coefficients land in one Int16Array, 64 per block in zigzag order (as they are coded), the DC
 * value absolute (not the difference). The bit position where every MCU starts is kept, so that
 * the splice can copy the coded bytes before the first changed MCU verbatim.
 */
// A builtin by process.getBuiltinModule (no ES module facade to build): this loads in every labelling thread.
const { crc32 } = process.getBuiltinModule('node:zlib');

/** The JPEG is outside what the splice handles (or is corrupt): label it by re-encoding. */
export class NotSpliceable extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'NotSpliceable';
  }
}

/**
 * A scan index (`ScanIndex`) that does not fit the bytes it was offered for: made for other
 * bytes, for this file before it changed, or altered. Never the file's fault: the parse drops the
 * index and reads the file itself (`decodeScan`), so it never leaves the parse.
 */
export class IndexMismatch extends Error {
  override name = 'IndexMismatch';
}

/** The JPEG is progressive (SOF2): not for this parser, but for `parseProgressiveJpeg` (`jpeg-progressive.ts`). */
export class ProgressiveJpeg extends NotSpliceable {
  constructor() {
    super('progressive JPEG');
    this.name = 'ProgressiveJpeg';
  }
}

/** A Huffman table as DHT states it, with its decoding lookups. */
export interface HuffmanTable {
  /** Number of codes of each length 1-16 (index 0 unused). */
  counts: Uint8Array;
  /** Symbols in code order. */
  symbols: Uint8Array;
  /** Per 9-bit lookahead: (code length << 8) | symbol, or 0 when the code is longer. */
  lookup: Int32Array;
  /** Largest code of each length (-1 when none), index 1-16; index 17 sentinel. */
  maxCode: Int32Array;
  /** For each length, symbols index minus the first code of that length. */
  offset: Int32Array;
  /** AC skipping (`skipTable`), built when a scan first skips with the table. */
  skip?: Int32Array;
  /** Encoding: code and length (0: absent) per symbol. */
  code: Int32Array;
  length: Uint8Array;
}

export interface FrameComponent {
  id: number;
  h: number;
  v: number;
  quant: number;
  /** Blocks per line and per column in the padded (whole-MCU) block grid. */
  blocksW: number;
  blocksH: number;
  /** Index of this component's first kept block in the coefficient array, in blocks. */
  blockBase: number;
  /** The first MCU row whose blocks are kept (rows before it take no memory). */
  firstRow: number;
  /** Huffman table ids of the scan. */
  dc: number;
  ac: number;
}

export interface BaselineJpeg {
  /** Whether an offered scan index was taken (`withPreparsed`): what the tests check, and nothing else reads. */
  indexed?: boolean;
  width: number;
  height: number;
  components: FrameComponent[];
  hMax: number;
  vMax: number;
  mcusX: number;
  mcusY: number;
  /** Restart interval in MCUs (0: none). */
  restartInterval: number;
  /** Quantisation tables by id, zigzag order. */
  quant: (Uint16Array | undefined)[];
  /** Huffman tables in force at the scan: dc[id], ac[id]. */
  dc: (HuffmanTable | undefined)[];
  ac: (HuffmanTable | undefined)[];
  /** The DHT segments before the scan. */
  dhtSegments: HuffmanSegment[];
  /** Offset of the SOS marker and of the first entropy-coded byte. */
  sosStart: number;
  scanStart: number;
  /** Offset of the marker that ends the entropy-coded data (EOI). */
  scanEnd: number;
  /** 64 coefficients per block, zigzag order, DC absolute, for the MCU rows of `from` to `to` (zero outside those MCUs). */
  coefficients: Int16Array;
  /**
   * With a box and no restart interval: the MCU columns (first and last, inclusive) whose AC
   * coefficients were kept in MCUs `from` to `to`, the MCU after each MCU of theirs too; the other
   * kept MCUs were skipped over keeping only their DC values. Undefined: every kept MCU is whole.
   */
  acColumns: { first: number; last: number } | undefined;
  /** The first MCU whose coefficients were kept (those before were only decoded, to check them and find the bit positions). */
  from: number;
  /** The MCU after the last kept one (those from it on were only decoded, as those before `from`). */
  to: number;
  /** DC predictors when MCU `from` starts. */
  predAtFrom: Int32Array;
  /** Restart markers' positions in the unstuffed data. */
  restarts: number[];
  /** Bit position (in the unstuffed data) where each MCU starts. */
  mcuBits: Float64Array;
  /** The unstuffed entropy-coded data. */
  clean: Uint8Array;
  /** The codes longer than 9 bits, where they are. */
  long: LongCodes;
  /** Per restart interval but the last: the bit position where its coded data ends (before the padding). */
  intervalEnds: number[];
  /**
   * For a progressive source (`parseProgressiveJpeg`): every block's coefficients are kept (`from`
   * 0, `to` every MCU) and the entropy-coded fields above are empty; `scans` says where each
   * scan's units start, so the splice codes again only the units around the notice
   * (`jpeg-progressive-splice.ts`), or, when a table has no room for a symbol the notice needs,
   * the whole file (`jpeg-progressive-encode.ts`). `ends` per block one past its last non-zero AC coefficient
   * (0: none), which the encoder takes rather than searching. Only the notice's blocks change
   * after the parse: `compose` keeps their entries true.
   */
  progressive?: { ends: Uint8Array; scans: ProgressiveScan[]; dht: HuffmanSegment[] };
}

/** A Huffman table segment (DHT): where it is, and the tables it defines (class, id, table), the same objects the scans after it use. */
export interface HuffmanSegment {
  at: number;
  end: number;
  tables: [number, number, HuffmanTable][];
}

/**
 * One scan of a progressive JPEG as decoded: its parameters, its tables, its unstuffed data and
 * where each of its units (an MCU of an interleaved scan, else a block inside the component)
 * starts, so the bits of the units away from the notice can be copied as they are.
 */
export interface ProgressiveScan {
  /** Where the entropy-coded data starts in the file, and where the marker after it is. */
  dataStart: number;
  dataEnd: number;
  /** Indices into the frame's components, in scan order. */
  components: number[];
  ss: number;
  se: number;
  ah: number;
  al: number;
  /** Per scan component, its DC table (DC first scans); the AC table (AC scans). */
  dc: (HuffmanTable | undefined)[];
  ac: HuffmanTable | undefined;
  restartInterval: number;
  /** The unstuffed data (restart markers taken out). */
  clean: Uint8Array;
  /** Per unit, the bit where its coding starts; at `units`, where the last one ends. Without restart intervals only. */
  starts: Uint32Array;
  /** Per unit of an AC scan: the end-of-band run still pending when it starts (its bits came before it). */
  runs: Uint16Array;
  units: number;
  /** Where each code longer than 9 bits starts, and (the table's slot in the scan << 8) | its symbol: a remapped table changes only these. */
  longPositions: Uint32Array;
  longKeys: Uint16Array;
}

const LOOK = 9;
/** Zero bytes after the unstuffed data: more than one block can overrun before the truncation test. */
const PAD = 512;

/** Builds the decoding and encoding lookups of a DHT table. @throws NotSpliceable for an oversubscribed table */
export function huffmanTable(counts: Uint8Array, symbols: Uint8Array): HuffmanTable {
  const lookup = new Int32Array(1 << LOOK);
  const maxCode = new Int32Array(18).fill(-1);
  const offset = new Int32Array(18);
  const code = new Int32Array(256);
  const length = new Uint8Array(256);
  let next = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    const n = counts[len] ?? 0;
    offset[len] = k - next;
    for (let i = 0; i < n; i++) {
      if (next >= 1 << len) throw new NotSpliceable('a Huffman table has more codes than its lengths allow');
      const symbol = symbols[k] ?? 0;
      if (length[symbol] === 0) {
        code[symbol] = next;
        length[symbol] = len;
      }
      if (len <= LOOK) {
        const shift = LOOK - len;
        const base = next << shift;
        lookup.fill((len << 8) | symbol, base, base + (1 << shift));
      }
      next++;
      k++;
    }
    if (n > 0) maxCode[len] = next - 1;
    next <<= 1;
  }
  maxCode[17] = 0x7fffffff;
  // `skip` set (to undefined) here: adding it later would give tables a second map.
  return { counts, symbols, lookup, maxCode, offset, skip: undefined, code, length };
}

/** Bits of the window `skipTable` looks up. */
const SKIP = 12;

/** `skipTable`: advance of a run that ends with an end of block (added to the positions it passes). */
export const SKIP_END = 128;
/** `skipTable`: the advance of a window whose first symbol is decoded one at a time. */
export const SKIP_NONE = 511;

/**
 * AC skipping for an AC table: per 12-bit window, the run of whole symbols (code and magnitude
 * bits) it starts with, as (advance << 8) | bits. The advance is the positions the run passes
 * (1 to 63), plus `SKIP_END` when the run ends with an end-of-block symbol (which passes none),
 * so that from position k the block goes on at k + advance when that is under 64, ends with
 * the run when it is 64 (no end of block) or in [SKIP_END + 1, SKIP_END + 64), and is decoded
 * one symbol at a time otherwise. A run holds as many symbols as fit in the window; it stops
 * before a code longer than the 9-bit lookahead (those are decoded one at a time, to record
 * where they are), a magnitude over 10 bits, or a prefix that is no code. `SKIP_NONE` when the
 * window starts with such a one, or with a symbol whose code and magnitude take more than the
 * window: every run takes at most 12 bits, so two runs can be looked up from one 25-bit window.
 */
export function skipTable(table: HuffmanTable): Int32Array {
  // One symbol per window: (advance << 8) | bits, advance 128 for an end of block.
  const single = new Int32Array(1 << SKIP);
  for (let w = 0; w < 1 << SKIP; w++) {
    const entry = table.lookup[w >> (SKIP - LOOK)] as number;
    if (entry === 0) continue;
    const len = entry >> 8;
    const symbol = entry & 255;
    const size = symbol & 15;
    const run = symbol >> 4;
    if (size > 10 || len + size > SKIP) continue;
    single[w] = ((size === 0 ? (run === 15 ? 16 : 128) : run + 1) << 8) | (len + size);
  }
  const skip = new Int32Array(1 << SKIP);
  for (let w = 0; w < 1 << SKIP; w++) {
    const first = single[w] as number;
    if (first === 0) {
      skip[w] = SKIP_NONE << 8;
      continue;
    }
    let bits = first & 255;
    if (first >> 8 === 128) {
      skip[w] = (SKIP_END << 8) | bits;
      continue;
    }
    let advance = first >> 8;
    let end = 0;
    while (bits < SKIP) {
      const next = single[(w << bits) & ((1 << SKIP) - 1)] as number;
      const nextBits = next & 255;
      if (next === 0 || bits + nextBits > SKIP) break;
      if (next >> 8 === 128) {
        bits += nextBits;
        end = SKIP_END;
        break;
      }
      // No run goes past a block's 63 positions.
      if (advance + (next >> 8) > 63) break;
      bits += nextBits;
      advance += next >> 8;
    }
    skip[w] = ((end + advance) << 8) | bits;
  }
  return skip;
}

/**
 * `items.map(f)` as a packed array. An optimised `map` makes holey arrays and the builtin
 * packed ones, so arrays made both ways reach the hot loops with two maps, and each new one
 * deoptimises them (a worker thread then spends its first files compiling again): every array
 * the splice's loops read is made here.
 */
export function packed<T, U>(items: readonly T[], f: (item: T, index: number) => U): U[] {
  const out: U[] = [];
  for (let i = 0; i < items.length; i++) out.push(f(items[i] as T, i));
  return out;
}

/** `bytes` as a plain Uint8Array over the same memory. */
export const plainBytes = (bytes: Uint8Array): Uint8Array => (Object.getPrototypeOf(bytes) === Uint8Array.prototype ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));

const u16 = (data: Uint8Array, at: number): number => ((data[at] ?? 0) << 8) | (data[at + 1] ?? 0);

/** Reads a DHT segment's body into `dc` and `ac`; returns the tables it defined (class, id, table), in order. */
function readDht(data: Uint8Array, start: number, end: number, dc: (HuffmanTable | undefined)[], ac: (HuffmanTable | undefined)[]): [number, number, HuffmanTable][] {
  const defined: [number, number, HuffmanTable][] = [];
  let at = start;
  while (at < end) {
    const info = data[at] ?? 0;
    const cls = info >> 4;
    const id = info & 15;
    if (cls > 1 || id > 3) throw new NotSpliceable('a Huffman table has an invalid class or id');
    if (at + 17 > end) throw new NotSpliceable('a Huffman table is cut short');
    const counts = new Uint8Array(17);
    let total = 0;
    for (let i = 1; i <= 16; i++) {
      counts[i] = data[at + i] ?? 0;
      total += counts[i] ?? 0;
    }
    if (total > 256 || at + 17 + total > end) throw new NotSpliceable('a Huffman table is cut short or too long');
    const symbols = data.slice(at + 17, at + 17 + total);
    const table = huffmanTable(counts, symbols);
    (cls === 0 ? dc : ac)[id] = table;
    defined.push([cls, id, table]);
    at += 17 + total;
  }
  return defined;
}

function readDqt(data: Uint8Array, start: number, end: number, quant: (Uint16Array | undefined)[]): void {
  let at = start;
  while (at < end) {
    const info = data[at] ?? 0;
    const wide = info >> 4;
    const id = info & 15;
    if (wide > 1 || id > 3 || at + 1 + 64 * (wide + 1) > end) throw new NotSpliceable('a quantisation table is invalid');
    const table = new Uint16Array(64);
    for (let i = 0; i < 64; i++) table[i] = wide ? u16(data, at + 1 + i * 2) : (data[at + 1 + i] ?? 0);
    if (table.includes(0)) throw new NotSpliceable('a quantisation table has a zero step');
    quant[id] = table;
    at += 1 + 64 * (wide + 1);
  }
}

const ascii = (data: Uint8Array, at: number, text: string): boolean => [...text].every((ch, i) => data[at + i] === ch.charCodeAt(0));

/**
 * Parses the headers and decodes the scan of a baseline JPEG. With `first`, the coefficients
 * are kept only from the MCU holding that pixel on (the blocks before are decoded and checked,
 * not stored); with `last` too, up to the MCU after the one holding that pixel, and (in a scan
 * without restart intervals, unless `whole`) only the DC values of the MCUs outside the columns
 * from `first` to `last` and the MCU after each of those (`acColumns`). With `reuse`, the
 * unstuffed data, the coefficients, the MCU positions and the long codes take the arrays the
 * previous parse with `reuse` had (no allocation per file in a batch): its result must no
 * longer be in use.
 *
 * @throws NotSpliceable when the JPEG is not baseline, 8-bit, Y/YCbCr, single-scan, or is corrupt
 */
export function parseBaselineJpeg(input: Uint8Array, first?: { x: number; y: number }, last?: { x: number; y: number }, whole = false, reuse = false): BaselineJpeg {
  // A plain Uint8Array view even of a Buffer: the hot loops then see one array shape (a Buffer
  // and its slices have another map, and mixing them deoptimises the decoder).
  const data = plainBytes(input);
  const headers = readHeaders(data);
  return decodeScan(data, headers, first, last, whole, reuse, offeredIndex(data));
}

/** What the headers before the scan say: the frame, the tables, where the scan's header and its data start. */
interface Headers {
  frame: Frame;
  tables: Tables;
  sosStart: number;
  scanStart: number;
}

export type Frame = { width: number; height: number; components: { id: number; h: number; v: number; quant: number }[] };

/**
 * A frame header's body (SOF0, SOF1 or SOF2): 8-bit samples, one or three components with
 * sampling factors 1-4 (a single component's taken as 1x1), table ids 0-3, distinct ids.
 * @throws NotSpliceable
 */
export function readFrame(data: Uint8Array, body: number, length: number): Frame {
  const precision = data[body] ?? 0;
  const height = u16(data, body + 1);
  const width = u16(data, body + 3);
  const count = data[body + 5] ?? 0;
  if (precision !== 8) throw new NotSpliceable(`${precision}-bit samples`);
  if (width === 0 || height === 0) throw new NotSpliceable('the height is set by a DNL marker');
  if (count !== 1 && count !== 3) throw new NotSpliceable(`${count} components`);
  if (length < 8 + count * 3) throw new NotSpliceable('the frame header is cut short');
  const components: Frame['components'] = [];
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
  return { width, height, components };
}

/** A marker segment: its marker, where it is (after any fill bytes), its body and where it ends. */
export interface Segment {
  marker: number;
  at: number;
  body: number;
  end: number;
  length: number;
}

/**
 * The marker at `start` (fill bytes skipped) with its segment; EOI has none (`end` is after
 * the marker). SOI, a restart marker or TEM here is refused (`where`: `' in the headers'`...).
 * @throws NotSpliceable, with `ends` when the data ends first
 */
export function segmentAt(data: Uint8Array, start: number, ends: string, where = ''): Segment {
  let at = start;
  for (;;) {
    if (at + 2 > data.length) throw new NotSpliceable(ends);
    if (data[at] !== 0xff) throw new NotSpliceable('a marker was expected');
    if (data[at + 1] !== 0xff) break;
    at++;
  }
  const marker = data[at + 1] as number;
  if (marker === 0xd9) return { marker, at, body: at + 2, end: at + 2, length: 0 };
  if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) throw new NotSpliceable(`unexpected marker 0xff${marker.toString(16)}${where}`);
  if (at + 4 > data.length) throw new NotSpliceable(ends);
  const length = u16(data, at + 2);
  const end = at + 2 + length;
  if (length < 2 || end > data.length) throw new NotSpliceable('a segment runs past the end of the file');
  return { marker, at, body: at + 4, end, length };
}

/** Empty tables, for the segments before a scan to fill (`readTables`). */
export function noTables(): Tables {
  return { quant: [], dc: [], ac: [], dhtSegments: [], restartInterval: 0, adobeTransform: undefined };
}

/**
 * Reads `segment` into `tables` when it is a Huffman table (DHT, its place recorded),
 * quantisation table (DQT), restart interval (DRI) or Adobe APP14 segment; false for any other.
 * @throws NotSpliceable for a malformed one
 */
export function readTables(data: Uint8Array, segment: Segment, tables: Tables): boolean {
  const { marker, at, body, end, length } = segment;
  if (marker === 0xc4) {
    tables.dhtSegments.push({ at, end, tables: readDht(data, body, end, tables.dc, tables.ac) });
  } else if (marker === 0xdb) {
    readDqt(data, body, end, tables.quant);
  } else if (marker === 0xdd) {
    if (length !== 4) throw new NotSpliceable('a restart interval segment of the wrong length');
    tables.restartInterval = u16(data, body);
  } else if (marker === 0xee && length >= 14 && ascii(data, body, 'Adobe')) {
    tables.adobeTransform = data[body + 11];
  } else {
    return false;
  }
  return true;
}

/**
 * Refuses, at its first scan, a frame the splice does not take whatever its coding: RGB-coded
 * (an Adobe transform of 0, or components named R, G, B) or using an undefined quantisation table.
 * @throws NotSpliceable
 */
export function refuseFrame(frame: Frame, tables: Tables): void {
  const [a, b, c] = frame.components;
  if (frame.components.length === 3 && (tables.adobeTransform === 0 || (a?.id === 0x52 && b?.id === 0x47 && c?.id === 0x42))) throw new NotSpliceable('RGB-coded JPEG');
  if (frame.components.some((component) => !tables.quant[component.quant])) throw new NotSpliceable('a component uses an undefined quantisation table');
}

/** Reads the segments before the scan. @throws NotSpliceable */
function readHeaders(data: Uint8Array): Headers {
  if (data[0] !== 0xff || data[1] !== 0xd8) throw new NotSpliceable('not a JPEG');
  const tables = noTables();
  let frame: Frame | undefined;
  let at = 2;
  for (;;) {
    const segment = segmentAt(data, at, 'the headers end before the scan', ' in the headers');
    const { marker, body, end, length } = segment;
    if (marker === 0xd9) throw new NotSpliceable('unexpected marker 0xffd9 in the headers');
    if (marker === 0xc0 || marker === 0xc1) {
      if (frame) throw new NotSpliceable('two frame headers');
      frame = readFrame(data, body, length);
    } else if (marker >= 0xc2 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      throw marker === 0xc2 ? new ProgressiveJpeg() : new NotSpliceable(`coding process SOF${marker - 0xc0}`);
    } else if (marker === 0xcc) {
      throw new NotSpliceable('arithmetic coding');
    } else if (marker === 0xda) {
      if (!frame) throw new NotSpliceable('a scan before the frame header');
      return { frame, tables, sosStart: segment.at, scanStart: end };
    } else {
      readTables(data, segment, tables);
    }
    at = end;
  }
}

/**
 * Where every MCU of a scan starts, found by walking the whole scan once (`indexBaselineScan`):
 * what the skipped parts of a splice's parse would otherwise walk for themselves. A batch walks
 * the next file in its main thread while a pool thread labels the one before (issue 14: on two
 * cores the walk is about two fifths of a thread's work per one-megapixel JPEG, and the main
 * thread is mostly waiting).
 */
export interface ScanIndex {
  /** Length of the unstuffed entropy-coded data, MCU and component counts and the restart interval: an index for other data is not used. */
  cleanLength: number;
  totalMcus: number;
  components: number;
  restartInterval: number;
  /** Bit position (in the unstuffed data) where each MCU starts, and the end of the last one (`totalMcus + 1` entries). */
  mcuBits: Float64Array;
  /** With a restart interval: where each interval but the last ends (before its padding bits and marker). */
  intervalEnds: Float64Array;
  /** The codes longer than the 9-bit lookahead, in coding order (as `LongCodes`). */
  longPositions: Float64Array;
  longKeys: Uint16Array;
  /** Every block's DC value, in coding order (blocks per MCU after blocks per MCU): the DC predictors when any MCU starts follow from them. */
  dcs: Int16Array;
  /**
   * The unstuffed entropy-coded data the walk read (`cleanLength` bytes, then zeros), where the
   * restart markers were in it, where the scan's data starts and the marker after it is, and the
   * length of the file: a parse unstuffs the file's own data and takes the index only when these
   * are the same (`verifyIndex`), never its data instead of the file's.
   */
  clean: Uint8Array;
  restarts: number[];
  scanStart: number;
  scanEnd: number;
  byteLength: number;
  /** The file's bytes before the scan's data (its tables and frame): the index holds for these headers only. */
  headers: Uint8Array;
  /** A CRC-32 of what the walk derived (`indexSum`): an index changed since it was made no longer matches it. */
  sum: number;
}

/**
 * A CRC-32 of what the walk derived from the bytes: its counts, positions, DC values, long codes
 * and restart markers (not the headers and unstuffed data it walked, which a parse compares byte
 * for byte with the file's own instead). The walk sums what it made; a parse offered the index
 * sums it again, so an index changed on its way (in memory, by a fault of hegui's own) is
 * dropped before anything in it is used. With the comparison, an index that passes is the walk
 * of exactly these bytes. A checksum, not a signature: it guards against faults, not against
 * code in the same process that means harm (such code could as well change the file's bytes).
 */
function indexSum(index: Omit<ScanIndex, 'sum'>): number {
  const scalars = Buffer.from(JSON.stringify([index.cleanLength, index.totalMcus, index.components, index.restartInterval, index.restarts, index.scanStart, index.scanEnd, index.byteLength]), 'utf8');
  let sum = crc32(scalars);
  for (const array of [index.mcuBits, index.intervalEnds, index.longPositions, index.longKeys, index.dcs]) {
    // An empty array is passed over: Node's crc32 of nothing gives 0, not the sum it was handed.
    if (array.byteLength > 0) sum = crc32(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), sum);
  }
  return sum;
}

/** The most MCUs a scan index covers (about 20 MB of positions and DC values in 4:2:0, besides the unstuffed data; 268 megapixels in 4:2:0, 67 in 4:4:4). */
export const MAX_INDEXED_MCUS = 1 << 20;

/**
 * Walks the whole scan of a baseline JPEG without keeping any coefficient and returns where each
 * MCU starts (`ScanIndex`). Its buffers are its own (they can move to another thread).
 *
 * @throws NotSpliceable as `parseBaselineJpeg` would for the same file, and for more than `MAX_INDEXED_MCUS` MCUs
 */
export function indexBaselineScan(input: Uint8Array): ScanIndex {
  const data = plainBytes(input);
  const { frame, tables, sosStart, scanStart } = readHeaders(data);
  // Only the last MCU kept: the layout's checks without memory for the blocks.
  const corner = { x: frame.width - 1, y: frame.height - 1 };
  const { components, totalMcus } = scanLayout(data, sosStart, frame, tables, corner, corner);
  // A huge grid of tiny MCUs would make an index of hundreds of megabytes beside the thread's own arrays.
  if (totalMcus > MAX_INDEXED_MCUS) throw new NotSpliceable(`more than ${MAX_INDEXED_MCUS} MCUs: not indexed`);
  const { clean, n, restarts, scanEnd } = unstuffScan(data, scanStart, false);
  const ri = tables.restartInterval;
  if (ri > 0 && restarts.length !== Math.ceil(totalMcus / ri) - 1) throw new NotSpliceable('the restart markers do not match the restart interval');
  const mcuBits = new Float64Array(totalMcus + 1);
  const layout = mcuLayout(components);
  const dcs = new Int16Array(totalMcus * layout.component.length);
  const intervalEnds: number[] = [];
  const long = new LongCodes();
  const state: SkipState = {
    view: new DataView(clean.buffer, clean.byteOffset, clean.byteLength),
    limit: n * 8,
    layout,
    components,
    dcTables: packed(components, (c) => tables.dc[c.dc] as HuffmanTable),
    acTables: packed(components, (c) => tables.ac[c.ac] as HuffmanTable),
    pred: new Int32Array(components.length),
    mcuBits,
    restarts,
    intervalEnds,
    long,
    ri,
    dcs,
  };
  mcuBits[totalMcus] = skipMcus(state, 0, totalMcus, 0);
  const index: Omit<ScanIndex, 'sum'> = {
    cleanLength: n,
    totalMcus,
    components: components.length,
    restartInterval: ri,
    mcuBits,
    intervalEnds: Float64Array.from(intervalEnds),
    longPositions: long.positions.slice(0, long.length),
    longKeys: long.keys.slice(0, long.length),
    dcs,
    clean,
    restarts,
    scanStart,
    scanEnd,
    byteLength: data.byteLength,
    headers: data.slice(0, scanStart),
  };
  return { ...index, sum: indexSum(index) };
}

/** The buffers of a scan index, which can move to another thread with it. */
export function indexTransferables(index: ScanIndex): ArrayBuffer[] {
  return [index.mcuBits, index.intervalEnds, index.longPositions, index.longKeys, index.dcs, index.clean, index.headers].map((array) => array.buffer).filter((buffer): buffer is ArrayBuffer => buffer instanceof ArrayBuffer);
}

/**
 * What a batch's calling thread read of a JPEG before sending it to a pool thread: the scan
 * index of a baseline file, or every coefficient of a progressive one (`parseProgressiveJpeg`;
 * its buffers can move with it).
 */
export interface Preparsed {
  index?: ScanIndex;
  progressive?: BaselineJpeg;
}

/** What is offered to the next parses of some bytes (`withPreparsed`); a progressive decode is taken once (the splice changes it). */
let offered: { bytes: Uint8Array; index: ScanIndex | undefined; progressive: BaselineJpeg | undefined } | undefined;

/**
 * Runs `work` with `preparsed` offered to every parse of `bytes` (the same memory: buffer,
 * offset and length) inside it. A baseline parse takes the MCU positions, DC values (and so the
 * predictors) and long codes of the parts it would skip from the index instead of walking them,
 * once the index is seen to be the walk of these very bytes (`verifyIndex`) and to agree with
 * the MCUs it decodes itself; an index that does not is dropped, and the bytes are parsed (and
 * labelled) as if none had been offered, never failed because of it; the first
 * progressive parse takes the decoded coefficients instead of decoding the scans. One offer at
 * a time per thread: the pool thread labels its images one after the other, and parses of other
 * bytes meanwhile are not touched.
 */
export async function withPreparsed<T>(bytes: Uint8Array, preparsed: Preparsed | undefined, work: () => Promise<T>): Promise<T> {
  if (!preparsed?.index && !preparsed?.progressive) return work();
  offered = { bytes, index: preparsed.index, progressive: preparsed.progressive };
  try {
    return await work();
  } finally {
    offered = undefined;
  }
}

/** Drops the index offered for `data` (it did not fit): the next parses of these bytes read them themselves. */
function dropOfferedIndex(data: Uint8Array): void {
  const here = offeredFor(data);
  if (here) here.index = undefined;
}

function offeredFor(data: Uint8Array): typeof offered {
  const bytes = offered?.bytes;
  return bytes && bytes.buffer === data.buffer && bytes.byteOffset === data.byteOffset && bytes.byteLength === data.byteLength ? offered : undefined;
}

function offeredIndex(data: Uint8Array): ScanIndex | undefined {
  return offeredFor(data)?.index;
}

/** The progressive decode offered for `data`, once (`parseProgressiveJpeg` takes it). */
export function takeOfferedProgressive(data: Uint8Array): BaselineJpeg | undefined {
  const here = offeredFor(data);
  const decoded = here?.progressive;
  if (here) here.progressive = undefined;
  return decoded;
}

/** The arrays of the last parse with `reuse`, for the next one. */
let spare = { bytes: new Uint8Array(0), coefficients: new Int16Array(0) };

function spareBytes(length: number): Uint8Array {
  if (spare.bytes.length < length) spare = { ...spare, bytes: new Uint8Array(Math.ceil(length * 1.25)) };
  return spare.bytes.subarray(0, length);
}

/** The MCU positions and long codes of the last parse with `reuse` (every position is written again). */
let spareBits = new Float64Array(0);
let spareLong: LongCodes | undefined;

function spareMcuBits(length: number): Float64Array {
  if (spareBits.length < length) spareBits = new Float64Array(Math.ceil(length * 1.25));
  return spareBits.subarray(0, length);
}

/** The spare long codes, emptied (their arrays keep the size the largest file grew them to). */
function spareLongCodes(): LongCodes {
  spareLong ??= new LongCodes();
  spareLong.length = 0;
  return spareLong;
}

/** `length` zeros from the spare coefficients. */
function spareCoefficients(length: number): Int16Array {
  if (spare.coefficients.length < length) {
    spare = { ...spare, coefficients: new Int16Array(Math.ceil(length * 1.25)) };
    return spare.coefficients.subarray(0, length);
  }
  const view = spare.coefficients.subarray(0, length);
  view.fill(0);
  return view;
}

export interface Tables {
  quant: (Uint16Array | undefined)[];
  dc: (HuffmanTable | undefined)[];
  ac: (HuffmanTable | undefined)[];
  /** The DHT segments read so far, with the tables each defined. */
  dhtSegments: HuffmanSegment[];
  restartInterval: number;
  adobeTransform: number | undefined;
}

/** The scan's geometry: its components (their blocks kept from MCU `from`'s row to MCU `to`'s), the MCU grid and the kept MCUs. */
interface ScanLayout {
  components: FrameComponent[];
  hMax: number;
  vMax: number;
  mcusX: number;
  mcusY: number;
  totalMcus: number;
  from: number;
  to: number;
  /** Blocks kept (in the rows of `from` to `to`). */
  blocks: number;
}

/** Reads the scan header against the frame: the MCU grid and which MCUs `first` and `last` keep. @throws NotSpliceable */
function scanLayout(data: Uint8Array, sosStart: number, frame: Frame, tables: Tables, first: { x: number; y: number } | undefined, last: { x: number; y: number } | undefined): ScanLayout {
  const body = sosStart + 4;
  const count = data[body] ?? 0;
  if (count !== frame.components.length) throw new NotSpliceable('the scan does not hold every component (several scans)');
  refuseFrame(frame, tables);
  const ss = data[body + 1 + count * 2] ?? 0;
  const se = data[body + 2 + count * 2] ?? 0;
  const a = data[body + 3 + count * 2] ?? 0;
  if (ss !== 0 || se !== 63 || a !== 0) throw new NotSpliceable('the scan is not a full sequential scan');
  const hMax = Math.max(...frame.components.map((c) => c.h));
  const vMax = Math.max(...frame.components.map((c) => c.v));
  const mcusX = Math.ceil(frame.width / (8 * hMax));
  const mcusY = Math.ceil(frame.height / (8 * vMax));
  const totalMcus = mcusX * mcusY;
  const from = first ? Math.min(totalMcus, Math.max(0, Math.floor(first.y / (8 * vMax))) * mcusX + Math.max(0, Math.min(mcusX - 1, Math.floor(first.x / (8 * hMax))))) : 0;
  // With `last`, the kept MCUs end with the one after the MCU holding that pixel (re-coded for its DC difference).
  const mcuAt = (point: { x: number; y: number }): number => Math.max(0, Math.min(mcusY - 1, Math.floor(point.y / (8 * vMax)))) * mcusX + Math.max(0, Math.min(mcusX - 1, Math.floor(point.x / (8 * hMax))));
  const to = last ? Math.max(from, Math.min(totalMcus, mcuAt(last) + 2)) : totalMcus;
  const firstRow = Math.min(mcusY, Math.floor(from / mcusX));
  const lastRow = to > from ? Math.floor((to - 1) / mcusX) : firstRow - 1;
  let blocks = 0;
  let perMcu = 0;
  const components: FrameComponent[] = packed(frame.components, (c, i) => {
    const selector = data[body + 1 + i * 2] ?? 0;
    const ids = data[body + 2 + i * 2] ?? 0;
    if (selector !== c.id) throw new NotSpliceable('the scan lists the components out of frame order');
    if (hMax % c.h !== 0 || vMax % c.v !== 0) throw new NotSpliceable('fractional chroma sampling');
    // One literal with small integers throughout: every file's components share one shape (a
    // spread, or a field first stored as a double, gives the hot loops another map to deoptimise on).
    const component: FrameComponent = { id: c.id, h: c.h, v: c.v, quant: c.quant, blocksW: (mcusX * c.h) | 0, blocksH: (mcusY * c.v) | 0, blockBase: blocks | 0, firstRow: firstRow | 0, dc: ids >> 4, ac: ids & 15 };
    if (component.dc > 3 || component.ac > 3 || !tables.dc[component.dc] || !tables.ac[component.ac]) throw new NotSpliceable('the scan uses an undefined Huffman table');
    blocks += component.blocksW * (lastRow - firstRow + 1) * c.v;
    perMcu += c.h * c.v;
    return component;
  });
  if (perMcu > 10) throw new NotSpliceable('more than 10 blocks per MCU');
  if (blocks > 64_000_000 / 32) throw new NotSpliceable('the image is too large');
  return { components, hMax, vMax, mcusX, mcusY, totalMcus, from, to, blocks };
}

/**
 * The scan's coefficients (`decodeWith`), taking what an offered index holds once it is seen to
 * fit these bytes. An index that does not fit, whatever the reason, is dropped and the file read
 * as if none had been offered: the same result, and the same errors, as without it.
 */
function decodeScan(data: Uint8Array, headers: Headers, first: { x: number; y: number } | undefined, last: { x: number; y: number } | undefined, whole: boolean, reuse: boolean, index: ScanIndex | undefined): BaselineJpeg {
  if (index) {
    try {
      return decodeWith(data, headers, first, last, whole, reuse, index);
    } catch {
      // Not this file's index, or not a true one (a fault the file itself has is found again below).
      dropOfferedIndex(data);
    }
  }
  return decodeWith(data, headers, first, last, whole, reuse, undefined);
}

function decodeWith(data: Uint8Array, headers: Headers, first: { x: number; y: number } | undefined, last: { x: number; y: number } | undefined, whole: boolean, reuse: boolean, index: ScanIndex | undefined): BaselineJpeg {
  const { frame, tables, sosStart, scanStart } = headers;
  const { components, hMax, vMax, mcusX, mcusY, totalMcus, from, to, blocks } = scanLayout(data, sosStart, frame, tables, first, last);
  const ri = tables.restartInterval;
  // The file's own scan data, always: an index is taken only once the data it was walked on is seen to be this (`verifyIndex`).
  const { clean, n, restarts, scanEnd } = unstuffScan(data, scanStart, reuse);
  if (index && verified.get(index) !== data) {
    verifyIndex(data, scanStart, components, tables, totalMcus, index, clean, n, restarts, scanEnd);
    verified.set(index, data);
  }
  if (ri > 0 && restarts.length !== Math.ceil(totalMcus / ri) - 1) throw new NotSpliceable('the restart markers do not match the restart interval');
  const coefficients = reuse ? spareCoefficients(blocks * 64) : new Int16Array(blocks * 64);
  const mcuBits = reuse ? spareMcuBits(totalMcus + 1) : new Float64Array(totalMcus + 1);
  const predAtFrom = new Int32Array(components.length);
  const long = reuse ? spareLongCodes() : new LongCodes();
  const intervalEnds: number[] = [];
  const column = (x: number): number => Math.max(0, Math.min(mcusX - 1, Math.floor(x / (8 * hMax))));
  const acColumns = first && last && !whole && ri === 0 ? { first: column(first.x), last: column(last.x) } : undefined;
  decodeEntropy(clean, n, components, tables, mcusX, totalMcus, restarts, coefficients, mcuBits, from, to, predAtFrom, long, intervalEnds, acColumns, index);
  return {
    ...(index ? { indexed: true } : {}),
    width: frame.width,
    height: frame.height,
    components,
    hMax,
    vMax,
    mcusX,
    mcusY,
    restartInterval: ri,
    quant: tables.quant,
    dc: tables.dc,
    ac: tables.ac,
    dhtSegments: tables.dhtSegments,
    sosStart,
    scanStart,
    scanEnd,
    coefficients,
    acColumns,
    from,
    to,
    predAtFrom,
    restarts,
    mcuBits,
    clean: clean.subarray(0, n),
    long,
    intervalEnds,
  };
}

/** The bytes each index was seen to fit (a second parse of the same offer, with new tables, does not check again). */
const verified = new WeakMap<ScanIndex, Uint8Array>();

/**
 * Checks that `index` is the walk of these bytes (`indexBaselineScan`), or throws IndexMismatch:
 * its counts and the shapes of its arrays; its sum (`indexSum`: nothing in it changed since the
 * walk made it); and the headers and unstuffed scan data it was walked on, restart markers and
 * end, byte for byte against the file's own (`own`, which the parse decodes: the index's copy is
 * only compared with it). What passes is what the walk made of exactly these bytes.
 * `decodeEntropy` then checks what it decodes itself, with the full decoder rather than the
 * walk's skipping one, against the index: the kept MCUs' DC values (and so the predictors they
 * started from), positions and long codes, and where the last of them ends.
 *
 * Cost: the file's own unstuffing (as without an index), one `Buffer.compare` of the headers and
 * of the unstuffed data (memcmp), and a CRC-32 of the derived arrays (about 90 KB for a
 * 1-megapixel 4:2:0 picture). Decoding the walk's results again (each interval's last MCU, the
 * long codes against their tables) cost the labelling thread about 1 ms a picture and told
 * nothing the sum and the comparison do not: it ran the same skipping decoder on the same bytes.
 */
function verifyIndex(data: Uint8Array, scanStart: number, components: readonly FrameComponent[], tables: Tables, totalMcus: number, index: ScanIndex, own: Uint8Array, ownLength: number, ownRestarts: readonly number[], scanEnd: number): void {
  const fail = (what: string): never => {
    throw new IndexMismatch(`the scan index does not match the data (${what})`);
  };
  const { clean, cleanLength: n, mcuBits, dcs, intervalEnds, restarts, longPositions, longKeys, headers } = index;
  const ri = tables.restartInterval;
  if (index.byteLength !== data.byteLength || index.scanStart !== scanStart || index.totalMcus !== totalMcus || index.components !== components.length || index.restartInterval !== ri) fail('made for another file');
  if (!(headers instanceof Uint8Array) || !(clean instanceof Uint8Array) || !(mcuBits instanceof Float64Array) || !(intervalEnds instanceof Float64Array) || !(longPositions instanceof Float64Array) || !(longKeys instanceof Uint16Array) || !(dcs instanceof Int16Array) || !Array.isArray(restarts)) fail('its arrays');
  let blocksPerMcu = 0;
  for (const c of components) blocksPerMcu += c.h * c.v;
  const intervals = ri > 0 ? Math.ceil(totalMcus / ri) - 1 : 0;
  if (!Number.isSafeInteger(n) || n < 0 || n !== ownLength || clean.length < n || headers.length !== scanStart) fail('its lengths');
  if (mcuBits.length !== totalMcus + 1 || dcs.length !== totalMcus * blocksPerMcu || intervalEnds.length !== intervals || restarts.length !== intervals || ownRestarts.length !== intervals || longKeys.length !== longPositions.length) fail('its lengths');
  if (indexSum(index) !== index.sum) fail('changed since the walk made it');
  if (Buffer.compare(headers, data.subarray(0, scanStart)) !== 0) fail('the headers');
  // The walk's data is this file's: the same unstuffed bytes, restart markers and end.
  if (scanEnd !== index.scanEnd || Buffer.compare(own.subarray(0, n), clean.subarray(0, n)) !== 0) fail('the scan data');
  for (let r = 0; r < restarts.length; r++) if (restarts[r] !== ownRestarts[r]) fail('the restart markers');
}

/**
 * The entropy-coded data from `scanStart`, without stuffed zeros and restart markers (runs
 * between 0xFF bytes copied whole), followed by zeros: the skipping decoder reads 32-bit
 * windows with no end test. `restarts`: where each restart marker was, in the unstuffed data.
 * `scanEnd`: where the marker that ends the data is (EOI, unless not `lastScan`).
 * @throws NotSpliceable when the data is not ended by a marker (EOI, with `lastScan`)
 */
export function unstuffScan(data: Uint8Array, scanStart: number, reuse: boolean, lastScan = true): { clean: Uint8Array; n: number; restarts: number[]; scanEnd: number } {
  const clean = reuse ? spareBytes(Math.max(0, data.length - scanStart) + PAD) : new Uint8Array(Math.max(0, data.length - scanStart) + PAD);
  const restarts: number[] = [];
  let n = 0;
  let at = scanStart;
  let scanEnd = -1;
  while (at < data.length) {
    let ff = data.indexOf(0xff, at);
    if (ff < 0) ff = data.length;
    clean.set(data.subarray(at, ff), n);
    n += ff - at;
    at = ff;
    if (at >= data.length) break;
    const next = data[at + 1];
    if (next === 0x00) {
      clean[n++] = 0xff;
      at += 2;
    } else if (next === 0xff) {
      at++; // fill byte before a marker
    } else if (next !== undefined && next >= 0xd0 && next <= 0xd7) {
      if ((next & 7) !== (restarts.length & 7)) throw new NotSpliceable('restart markers out of order');
      restarts.push(n);
      at += 2;
    } else {
      scanEnd = at;
      break;
    }
  }
  // A reused array holds the last file's bytes after this one's data: the padding must be zeros.
  if (reuse) clean.fill(0, n, n + PAD);
  if (scanEnd < 0) throw new NotSpliceable('the entropy-coded data is truncated (no end of image)');
  if (lastScan && data[scanEnd + 1] !== 0xd9) throw new NotSpliceable('a marker after the scan (several scans or DNL)');
  return { clean, n, restarts, scanEnd };
}

/**
 * Where the codes longer than the 9-bit lookahead are (the rare symbols), in coding order: bit
 * position in the unstuffed data, table (DC id, or 4 + AC id) and symbol. A splice that must
 * give such symbols new codes rewrites only them and copies the bits between.
 */
export class LongCodes {
  positions = new Float64Array(1024);
  keys = new Uint16Array(1024);
  length = 0;

  push(position: number, table: number, symbol: number): void {
    if (this.length === this.positions.length) {
      const positions = new Float64Array(this.length * 2);
      positions.set(this.positions);
      this.positions = positions;
      const keys = new Uint16Array(this.length * 2);
      keys.set(this.keys);
      this.keys = keys;
    }
    this.positions[this.length] = position;
    this.keys[this.length++] = (table << 8) | symbol;
  }
}

/** Per block of an MCU, in coding order: its component and its block offset within the MCU's rows. */
export interface McuLayout {
  /** Component index of each block in an MCU. */
  component: Int32Array;
  /** Offset in coefficients (in values) of each block relative to the MCU's origin block of its component. */
  delta: Int32Array;
}

export function mcuLayout(components: readonly FrameComponent[]): McuLayout {
  const component: number[] = [];
  const delta: number[] = [];
  components.forEach((c, index) => {
    for (let v = 0; v < c.v; v++) {
      for (let h = 0; h < c.h; h++) {
        component.push(index);
        delta.push((v * c.blocksW + h) * 64);
      }
    }
  });
  return { component: Int32Array.from(component), delta: Int32Array.from(delta) };
}

/** Offset (in values) of block (`bx`, `by`) of component `c` (its row at or after the first kept one). */
export function blockOffset(c: FrameComponent, bx: number, by: number): number {
  return (c.blockBase + (by - c.firstRow * c.v) * c.blocksW + bx) * 64;
}

/** Offset (in values) of MCU `m`'s first block of component `c`. */
export function mcuOrigin(c: FrameComponent, m: number, mcusX: number): number {
  const my = Math.floor(m / mcusX);
  const mx = m - my * mcusX;
  return (c.blockBase + (my - c.firstRow) * c.v * c.blocksW + mx * c.h) * 64;
}

function decodeEntropy(
  d: Uint8Array,
  n: number,
  components: FrameComponent[],
  tables: Tables,
  mcusX: number,
  totalMcus: number,
  restarts: number[],
  out: Int16Array,
  mcuBits: Float64Array,
  from: number,
  to: number,
  predAtFrom: Int32Array,
  long: LongCodes,
  intervalEnds: number[],
  acColumns: { first: number; last: number } | undefined,
  index: ScanIndex | undefined,
): void {
  const layout = mcuLayout(components);
  const blocksPerMcu = layout.component.length;
  const dcTables = packed(components, (c) => tables.dc[c.dc] as HuffmanTable);
  const acTables = packed(components, (c) => tables.ac[c.ac] as HuffmanTable);
  const pred = new Int32Array(components.length);
  const origins = new Int32Array(components.length);
  const ri = tables.restartInterval;
  // Before (and after) the kept MCUs only positions and DC predictors matter (`skipMcus`).
  const skipping: SkipState = { view: new DataView(d.buffer, d.byteOffset, d.byteLength), limit: n * 8, layout, components, dcTables, acTables, pred, mcuBits, restarts, intervalEnds, long, ri };
  let pos: number;
  /** Whether MCU `m` starts a restart interval (its data then starts after a marker). */
  const boundary = (m: number): boolean => ri > 0 && m > 0 && m < totalMcus && m % ri === 0;
  if (index) {
    // The walk up to MCU `from` is in the index. At an interval's start the decoding below aligns
    // to the marker itself: it starts where the interval before ended.
    for (let k = 0; ri > 0 && k < Math.floor((from - 1) / ri); k++) intervalEnds.push(index.intervalEnds[k] as number);
    pos = (boundary(from) ? index.intervalEnds[from / ri - 1] : index.mcuBits[from]) as number;
    mcuBits.set(index.mcuBits.subarray(0, from));
    // The predictors then: each component's last DC value in the MCU before, none at the scan's or an interval's start.
    // (The kept MCUs' DC values, decoded from these predictors, are checked against the index's below.)
    if (from > 0 && !boundary(from)) for (let b = 0; b < blocksPerMcu; b++) pred[layout.component[b] as number] = index.dcs[(from - 1) * blocksPerMcu + b] as number;
    for (let i = 0; i < index.longPositions.length && (index.longPositions[i] as number) < pos; i++) long.push(index.longPositions[i] as number, (index.longKeys[i] as number) >> 8, (index.longKeys[i] as number) & 255);
  } else {
    pos = skipMcus(skipping, 0, from, 0);
  }
  // The kept MCUs: full decoding, with a byte-refilled accumulator.
  const keptLong = long.length;
  let restart = intervalEnds.length;
  let p = pos >>> 3;
  let bits = 0;
  let acc = 0;
  if ((pos & 7) !== 0) {
    acc = d[p++] as number;
    bits = 8 - (pos & 7);
  }
  // With `acColumns`, whether MCU `m` is decoded whole (in those columns, or right after one).
  const inColumns = (m: number): boolean => {
    const x = m % mcusX;
    return x >= (acColumns as { first: number }).first && x <= (acColumns as { last: number }).last;
  };
  const dcOnly: DcOut = { out, mcusX, origins: new Int32Array(components.length) };
  /** The index's long codes not yet passed (a stretch taken from the index adds its own). */
  let longAt = 0;
  /** MCUs `m0` to `m1` (exclusive) from the index: their positions, DC values and long codes, as `skipMcus` with `dcOnly` would find them. */
  const fromIndex = (walk: ScanIndex, m0: number, m1: number, start: number): number => {
    if (walk.mcuBits[m0] !== start) throw new IndexMismatch(`the scan index does not match the data (MCU ${m0} at bit ${start}, indexed at ${walk.mcuBits[m0]})`);
    const stop = walk.mcuBits[m1] as number;
    for (let m = m0; m < m1; m++) {
      mcuBits[m] = walk.mcuBits[m] as number;
      for (let c = 0; c < components.length; c++) origins[c] = mcuOrigin(components[c] as FrameComponent, m, mcusX);
      for (let b = 0; b < blocksPerMcu; b++) {
        const c = layout.component[b] as number;
        const dc = walk.dcs[m * blocksPerMcu + b] as number;
        out[(origins[c] as number) + (layout.delta[b] as number)] = dc;
        // The predictor after the stretch: each component's last block in it.
        pred[c] = dc;
      }
    }
    while (longAt < walk.longPositions.length && (walk.longPositions[longAt] as number) < start) longAt++;
    for (; longAt < walk.longPositions.length && (walk.longPositions[longAt] as number) < stop; longAt++) long.push(walk.longPositions[longAt] as number, (walk.longKeys[longAt] as number) >> 8, (walk.longKeys[longAt] as number) & 255);
    return stop;
  };
  for (let m = from; m < to; m++) {
    if (acColumns && m > from && !inColumns(m) && !inColumns(m - 1)) {
      // Skip to the next MCU decoded whole, keeping the DC values (no restart intervals here).
      let end = m + 1;
      while (end < to && !inColumns(end) && !inColumns(end - 1)) end++;
      const at = index ? fromIndex(index, m, end, p * 8 - bits) : skipMcus(skipping, m, end, p * 8 - bits, dcOnly);
      p = at >>> 3;
      acc = 0;
      bits = 0;
      if ((at & 7) !== 0) {
        acc = d[p++] as number;
        bits = 8 - (at & 7);
      }
      m = end - 1;
      continue;
    }
    if (ri > 0 && m > 0 && m % ri === 0) {
      // Byte-align: the next interval starts after the restart marker.
      const consumed = p * 8 - bits;
      const aligned = Math.ceil(consumed / 8);
      if (aligned !== restarts[restart]) throw new NotSpliceable('a restart interval does not end at its marker');
      intervalEnds.push(consumed);
      restart++;
      p = aligned;
      acc = 0;
      bits = 0;
      pred.fill(0);
    }
    mcuBits[m] = p * 8 - bits;
    if (m === from) predAtFrom.set(pred);
    for (let c = 0; c < components.length; c++) origins[c] = mcuOrigin(components[c] as FrameComponent, m, mcusX);
    for (let b = 0; b < blocksPerMcu; b++) {
      const c = layout.component[b] as number;
      const base = (origins[c] as number) + (layout.delta[b] as number);
      // DC
      let table = dcTables[c] as HuffmanTable;
      while (bits <= 24) {
        acc = (acc << 8) | (p < n ? (d[p] as number) : 0);
        p++;
        bits += 8;
      }
      let entry = table.lookup[(acc >>> (bits - LOOK)) & 511] as number;
      let symbol: number;
      if (entry !== 0) {
        bits -= entry >> 8;
        symbol = entry & 255;
      } else {
        symbol = slowSymbol(table, acc, bits);
        long.push(p * 8 - bits, (components[c] as FrameComponent).dc, symbol & 255);
        bits -= symbol >> 8;
        symbol &= 255;
      }
      if (symbol > 11) throw new NotSpliceable('a DC difference is out of range');
      let value = 0;
      if (symbol > 0) {
        if (bits < 16) {
          while (bits <= 24) {
            acc = (acc << 8) | (p < n ? (d[p] as number) : 0);
            p++;
            bits += 8;
          }
        }
        value = (acc >>> (bits - symbol)) & ((1 << symbol) - 1);
        bits -= symbol;
        if (value < 1 << (symbol - 1)) value -= (1 << symbol) - 1;
      }
      const dcValue = (pred[c] as number) + value;
      if (dcValue > 2047 || dcValue < -2048) throw new NotSpliceable('a DC value is out of range');
      if (index && index.dcs[m * blocksPerMcu + b] !== dcValue) throw new IndexMismatch(`the scan index does not match the data (a DC value of MCU ${m})`);
      pred[c] = dcValue;
      out[base] = dcValue;
      // AC
      table = acTables[c] as HuffmanTable;
      const lookup = table.lookup;
      for (let k = 1; k < 64; ) {
        if (bits < 16) {
          while (bits <= 24) {
            acc = (acc << 8) | (p < n ? (d[p] as number) : 0);
            p++;
            bits += 8;
          }
        }
        entry = lookup[(acc >>> (bits - LOOK)) & 511] as number;
        if (entry !== 0) {
          bits -= entry >> 8;
          symbol = entry & 255;
        } else {
          symbol = slowSymbol(table, acc, bits);
          long.push(p * 8 - bits, 4 + (components[c] as FrameComponent).ac, symbol & 255);
          bits -= symbol >> 8;
          symbol &= 255;
        }
        const size = symbol & 15;
        const next = acPosition(k, symbol);
        if (next < 0) break;
        k = next;
        if (size === 0) continue;
        if (bits < 16) {
          while (bits <= 24) {
            acc = (acc << 8) | (p < n ? (d[p] as number) : 0);
            p++;
            bits += 8;
          }
        }
        value = (acc >>> (bits - size)) & ((1 << size) - 1);
        if (value < 1 << (size - 1)) value -= (1 << size) - 1;
        out[base + k] = value;
        bits -= size;
        k++;
      }
      if (bits < 0 || p * 8 - bits > n * 8) throw new NotSpliceable('the entropy-coded data is truncated');
    }
  }
  const end = p * 8 - bits;
  if (!index) {
    mcuBits[totalMcus] = skipMcus(skipping, to, totalMcus, end);
    return;
  }
  // The rest is in the index too, once the decoded MCUs are seen to end where it says.
  const indexed = boundary(to) ? index.intervalEnds[to / ri - 1] : index.mcuBits[to];
  if (end !== indexed) throw new IndexMismatch(`the scan index does not match the data (MCU ${to} at bit ${end}, indexed at ${indexed})`);
  mcuBits.set(index.mcuBits.subarray(to), to);
  for (let k = ri > 0 ? Math.ceil(to / ri) - 1 : 0; ri > 0 && k < index.intervalEnds.length; k++) intervalEnds.push(index.intervalEnds[k] as number);
  if (intervalEnds.length !== restarts.length) throw new IndexMismatch('the scan index does not match the data (restart intervals)');
  // The long codes of the kept MCUs, found here, are the index's there.
  let i = 0;
  while (i < index.longPositions.length && (index.longPositions[i] as number) < pos) i++;
  for (let j = keptLong; j < long.length; j++, i++) {
    if (index.longPositions[i] !== long.positions[j] || index.longKeys[i] !== (long.keys[j] as number)) throw new IndexMismatch('the scan index does not match the data (long codes)');
  }
  if (i < index.longPositions.length && (index.longPositions[i] as number) < end) throw new IndexMismatch('the scan index does not match the data (long codes)');
  for (; i < index.longPositions.length; i++) long.push(index.longPositions[i] as number, (index.longKeys[i] as number) >> 8, (index.longKeys[i] as number) & 255);
}

/** Where skipping stores the DC values of the MCUs it passes (kept MCUs outside `acColumns`). */
interface DcOut {
  out: Int16Array;
  mcusX: number;
  origins: Int32Array;
}

interface SkipState {
  view: DataView;
  limit: number;
  layout: McuLayout;
  components: FrameComponent[];
  dcTables: HuffmanTable[];
  acTables: HuffmanTable[];
  pred: Int32Array;
  mcuBits: Float64Array;
  restarts: number[];
  intervalEnds: number[];
  long: LongCodes;
  ri: number;
  /** With an index being made: every block's DC value. */
  dcs?: Int16Array;
}

/**
 * Decodes MCUs `m0` to `m1` (exclusive) from bit `start` keeping only their positions, the DC
 * predictors and the long codes (and, with `dcOut`, each block's DC value): each symbol, or run
 * of AC symbols (`skipTable`), is looked up in a 32-bit window read at its bit position (at
 * least 25 bits valid) from the zero-padded data, with no refill branches.
 * Returns the bit position after them.
 */
function skipMcus(state: SkipState, m0: number, m1: number, start: number, dcOut?: DcOut): number {
  const { view, limit, layout, components, dcTables, acTables, pred, mcuBits, restarts, intervalEnds, long, ri, dcs } = state;
  const blocksPerMcu = layout.component.length;
  const acSkips = packed(acTables, (table) => (table.skip ??= skipTable(table)));
  let pos = start;
  for (let m = m0; m < m1; m++) {
    if (ri > 0 && m > 0 && m % ri === 0) {
      const aligned = Math.ceil(pos / 8);
      if (aligned !== restarts[intervalEnds.length]) throw new NotSpliceable('a restart interval does not end at its marker');
      intervalEnds.push(pos);
      pos = aligned * 8;
      pred.fill(0);
    }
    mcuBits[m] = pos;
    if (dcOut) for (let c = 0; c < components.length; c++) dcOut.origins[c] = mcuOrigin(components[c] as FrameComponent, m, dcOut.mcusX);
    for (let b = 0; b < blocksPerMcu; b++) {
      const c = layout.component[b] as number;
      const dcTable = dcTables[c] as HuffmanTable;
      let window = view.getUint32(pos >>> 3) << (pos & 7);
      let entry = dcTable.lookup[window >>> 23] as number;
      if (entry === 0) {
        entry = slowSymbol(dcTable, window, 32);
        long.push(pos, (components[c] as FrameComponent).dc, entry & 255);
        // A long code and its magnitude can take more than the window.
        const at = pos + (entry >> 8);
        window = view.getUint32(at >>> 3) << (at & 7);
      } else {
        window <<= entry >> 8;
      }
      pos += entry >> 8;
      const size = entry & 255;
      if (size > 11) throw new NotSpliceable('a DC difference is out of range');
      if (size > 0) {
        let value = window >>> (32 - size);
        if (value < 1 << (size - 1)) value -= (1 << size) - 1;
        pos += size;
        const dcValue = (pred[c] as number) + value;
        if (dcValue > 2047 || dcValue < -2048) throw new NotSpliceable('a DC value is out of range');
        pred[c] = dcValue;
      }
      if (dcOut) dcOut.out[(dcOut.origins[c] as number) + (layout.delta[b] as number)] = pred[c] as number;
      if (dcs) dcs[m * blocksPerMcu + b] = pred[c] as number;
      const acTable = acTables[c] as HuffmanTable;
      const skip = acSkips[c] as Int32Array;
      for (let k = 1; ; ) {
        // Two runs from one window (at least 25 bits, a run at most 12): the position is the
        // chain each lookup waits on, and reading the data again is the longer step of it.
        window = view.getUint32(pos >>> 3) << (pos & 7);
        entry = skip[window >>> (32 - SKIP)] as number;
        let next = k + (entry >> 8);
        if (next < 64) {
          const bits = entry & 255;
          pos += bits;
          k = next;
          window <<= bits;
          entry = skip[window >>> (32 - SKIP)] as number;
          next = k + (entry >> 8);
          if (next < 64) {
            pos += entry & 255;
            k = next;
            continue;
          }
        }
        // The block ends with the run (its 63rd position, or an end of block inside it).
        if (next === 64 || (next > SKIP_END && next < SKIP_END + 64)) {
          pos += entry & 255;
          break;
        }
        // Otherwise one symbol at a time.
        window = view.getUint32(pos >>> 3) << (pos & 7);
        let symbol = acTable.lookup[window >>> (32 - LOOK)] as number;
        if (symbol === 0) {
          symbol = slowSymbol(acTable, window, 32);
          long.push(pos, 4 + (components[c] as FrameComponent).ac, symbol & 255);
        }
        pos += symbol >> 8;
        const size = symbol & 15;
        next = acPosition(k, symbol & 255);
        if (next < 0) break;
        k = next;
        if (size > 0) {
          pos += size;
          k++;
        }
        if (k >= 64) break;
      }
      if (pos > limit) throw new NotSpliceable('the entropy-coded data is truncated');
    }
  }
  return pos;
}

/**
 * Where AC symbol `symbol` (zero run << 4 | magnitude bits) read at position `k` of a block
 * leads, for both decoders (whole and skipping): -1 for the end of the block, `k` + 16 for a run
 * of sixteen zeros, otherwise the position of the coefficient it codes.
 *
 * @throws NotSpliceable when the run leaves the block or the magnitude takes over 10 bits
 */
function acPosition(k: number, symbol: number): number {
  const size = symbol & 15;
  const run = symbol >> 4;
  if (size === 0) {
    if (run !== 15) return -1;
    if (k + 16 > 64) throw new NotSpliceable('a zero run overruns its block');
    return k + 16;
  }
  if (k + run > 63 || size > 10) throw new NotSpliceable('a block has too many coefficients');
  return k + run;
}

/** A code longer than the lookahead: (length << 8) | symbol. @throws NotSpliceable for no valid code */
function slowSymbol(table: HuffmanTable, acc: number, bits: number): number {
  for (let len = LOOK + 1; len <= 16; len++) {
    const code = (acc >>> (bits - len)) & ((1 << len) - 1);
    if (code <= (table.maxCode[len] as number)) {
      const symbol = table.symbols[code + (table.offset[len] as number)];
      if (symbol === undefined) break;
      return (len << 8) | symbol;
    }
  }
  throw new NotSpliceable('an invalid Huffman code in the entropy-coded data');
}

/**
 * Codes MCUs `from` to `to` (exclusive) of `jpeg` again into `w` with other Huffman tables
 * (`dc`/`ac` per component), symbol for symbol: each code is read with the file's table and
 * written with the new one, its magnitude bits copied; restart markers are written where the
 * file has them (the one before `from` too). No coefficient is reconstructed.
 *
 * @throws MissingSymbol (from the encoder) when a new table lacks a symbol; NotSpliceable for corrupt data
 */
export function transcodeRange(jpeg: BaselineJpeg, from: number, to: number, w: { bytes: Uint8Array; length: number; acc: number; bits: number; room(extra: number): void; marker(code: number): void }, dc: readonly HuffmanTable[], ac: readonly HuffmanTable[], missing: () => Error): void {
  const d = jpeg.clean;
  const n = d.length;
  const layout = mcuLayout(jpeg.components);
  const perMcu = layout.component.length;
  const oldDc = packed(jpeg.components, (c) => jpeg.dc[c.dc] as HuffmanTable);
  const oldAc = packed(jpeg.components, (c) => jpeg.ac[c.ac] as HuffmanTable);
  const ri = jpeg.restartInterval;
  const start = jpeg.mcuBits[from] as number;
  let p = start >>> 3;
  let acc = 0;
  let bits = 0;
  if ((start & 7) !== 0) {
    acc = d[p++] as number;
    bits = 8 - (start & 7);
  }
  let restart = from > 0 && ri > 0 ? Math.floor((from - 1) / ri) : 0;
  let out = w.bytes;
  let len = w.length;
  let oacc = w.acc;
  let nb = w.bits;
  // Stuffing without a branch, as encodeBlocks writes (the room per MCU covers the extra zero).
  for (let m = from; m < to; m++) {
    if (ri > 0 && m > 0 && m % ri === 0) {
      p = jpeg.restarts[restart] as number;
      acc = 0;
      bits = 0;
      w.length = len;
      w.acc = oacc;
      w.bits = nb;
      w.marker(0xd0 + (restart & 7));
      out = w.bytes;
      len = w.length;
      oacc = 0;
      nb = 0;
      restart++;
    }
    if (len + 1500 * perMcu > out.length) {
      w.length = len;
      w.room(1500 * perMcu);
      out = w.bytes;
    }
    for (let b = 0; b < perMcu; b++) {
      const c = layout.component[b] as number;
      for (let k = 0; k < 64; ) {
        const table = k === 0 ? (oldDc[c] as HuffmanTable) : (oldAc[c] as HuffmanTable);
        const target = k === 0 ? (dc[c] as HuffmanTable) : (ac[c] as HuffmanTable);
        while (bits <= 24) {
          acc = (acc << 8) | (p < n ? (d[p] as number) : 0);
          p++;
          bits += 8;
        }
        let symbol: number;
        const entry = table.lookup[(acc >>> (bits - LOOK)) & 511] as number;
        if (entry !== 0) {
          bits -= entry >> 8;
          symbol = entry & 255;
        } else {
          symbol = slowSymbol(table, acc, bits);
          bits -= symbol >> 8;
          symbol &= 255;
        }
        const codeLength = target.length[symbol] as number;
        if (codeLength === 0) throw missing();
        oacc = (oacc << codeLength) | (target.code[symbol] as number);
        nb += codeLength;
        while (nb >= 8) {
          nb -= 8;
          const byte = (oacc >>> nb) & 255;
          out[len++] = byte;
          out[len] = 0;
          len += (byte + 1) >> 8;
        }
        oacc &= (1 << nb) - 1;
        const size = k === 0 ? symbol : symbol & 15;
        if (size > 0) {
          if (bits < 16) {
            while (bits <= 24) {
              acc = (acc << 8) | (p < n ? (d[p] as number) : 0);
              p++;
              bits += 8;
            }
          }
          const raw = (acc >>> (bits - size)) & ((1 << size) - 1);
          bits -= size;
          oacc = (oacc << size) | raw;
          nb += size;
          while (nb >= 8) {
            nb -= 8;
            const byte = (oacc >>> nb) & 255;
            out[len++] = byte;
            out[len] = 0;
            len += (byte + 1) >> 8;
          }
          oacc &= (1 << nb) - 1;
        }
        if (k === 0) {
          k = 1;
          continue;
        }
        if (size === 0) {
          if (symbol >> 4 !== 15) break;
          k += 16;
          continue;
        }
        k += (symbol >> 4) + 1;
      }
    }
  }
  const consumed = p * 8 - bits;
  const atRestart = ri > 0 && to > 0 && to % ri === 0 && to < jpeg.mcusX * jpeg.mcusY;
  if ((atRestart ? Math.ceil(consumed / 8) * 8 : consumed) !== jpeg.mcuBits[to]) throw new NotSpliceable('the entropy-coded data did not decode the same way twice');
  w.length = len;
  w.acc = oacc;
  w.bits = nb;
}
