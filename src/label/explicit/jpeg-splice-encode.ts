/**
 * @module label/explicit/jpeg-splice-encode
 * Huffman coding of quantised DCT blocks for the DCT-block splice (`jpeg-splice.ts`): a bit
 * writer with 0xFF byte stuffing and restart markers, block coding with a scan's tables, symbol
 * statistics, and optimal tables limited to 16-bit codes (ITU T.81 Annex K.2) for when the
 * changed blocks need a symbol the file's own tables lack.
 */
import { huffmanTable, NotSpliceable, type HuffmanTable } from './jpeg-splice-parse.js';

/** Writes bits, stuffing a zero byte after each 0xFF. */
export class BitWriter {
  bytes: Uint8Array;
  length = 0;
  /** Pending bits (the low `bits` bits of `acc`), fewer than 8 between calls. */
  acc = 0;
  bits = 0;

  constructor(capacity: number) {
    this.bytes = new Uint8Array(Math.max(1024, capacity));
  }

  room(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + extra));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  /** Appends raw bytes (whole bytes only: nothing may be pending). */
  raw(data: Uint8Array): void {
    this.room(data.length);
    this.bytes.set(data, this.length);
    this.length += data.length;
  }

  /** Writes the low `count` (0-16) bits of `value`. */
  put(value: number, count: number): void {
    this.acc = ((this.acc << count) | (value & ((1 << count) - 1))) & 0xffffff;
    this.bits += count;
    if (this.bits < 8) return;
    this.room(8);
    const out = this.bytes;
    while (this.bits >= 8) {
      const byte = (this.acc >>> (this.bits - 8)) & 255;
      out[this.length++] = byte;
      if (byte === 0xff) out[this.length++] = 0;
      this.bits -= 8;
    }
  }

  /**
   * Appends bits [`from`, `to`) of `source` (unstuffed entropy-coded data), stuffing as it goes:
   * whole runs between 0xFF bytes when the writer is byte-aligned, byte by byte with a shift
   * otherwise.
   */
  copyBits(source: Uint8Array, from: number, to: number): void {
    let at = from;
    const head = Math.min(to - at, (8 - (at & 7)) & 7);
    if (head > 0) {
      this.put(((source[at >> 3] as number) >> (8 - (at & 7) - head)) & ((1 << head) - 1), head);
      at += head;
    }
    const whole = (to - at) >> 3;
    let i = at >> 3;
    const stop = i + whole;
    this.room(whole * 2 + 8);
    const out = this.bytes;
    let len = this.length;
    if (this.bits === 0) {
      while (i < stop) {
        let ff = source.indexOf(0xff, i);
        if (ff < 0 || ff >= stop) ff = stop;
        out.set(source.subarray(i, ff), len);
        len += ff - i;
        i = ff;
        if (i < stop) {
          out[len++] = 0xff;
          out[len++] = 0;
          i++;
        }
      }
    } else {
      const shift = this.bits;
      let acc = this.acc & ((1 << shift) - 1);
      const keep = (1 << shift) - 1;
      // Four bytes at a time when none of the four written is 0xFF (no stuffing), else one.
      const input = new DataView(source.buffer, source.byteOffset, source.byteLength);
      const output = new DataView(out.buffer, out.byteOffset, out.byteLength);
      while (i < stop) {
        if (i + 4 <= stop) {
          const word = input.getUint32(i);
          const o = (acc << (32 - shift)) | (word >>> shift);
          const inverse = ~o;
          if (((inverse - 0x01010101) & ~inverse & 0x80808080) === 0) {
            output.setUint32(len, o);
            len += 4;
            acc = word & keep;
            i += 4;
            continue;
          }
        }
        const b = source[i] as number;
        const byte = ((acc << (8 - shift)) | (b >> shift)) & 255;
        out[len++] = byte;
        if (byte === 255) out[len++] = 0;
        acc = b & keep;
        i++;
      }
      this.acc = acc;
    }
    this.length = len;
    const tail = (to - at) & 7;
    if (tail > 0) this.put((source[stop] as number) >> (8 - tail), tail);
  }

  /** Pads with one bits to a byte boundary (T.81 F.1.2.3). */
  align(): void {
    if (this.bits > 0) this.put(0x7f, 8 - this.bits);
  }

  marker(code: number): void {
    this.align();
    this.room(2);
    this.bytes[this.length++] = 0xff;
    this.bytes[this.length++] = code;
  }

  result(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }
}

/** Bytes [0, `to`) of `data` without the segments `skipped` (in file order): the headers, their Huffman tables left out for new ones. */
export function rawWithout(w: BitWriter, data: Uint8Array, skipped: readonly { at: number; end: number }[], to: number): void {
  let at = 0;
  for (const segment of skipped) {
    w.raw(data.subarray(at, segment.at));
    at = segment.end;
  }
  w.raw(data.subarray(at, to));
}

/** Bits needed for a coefficient's magnitude. */
export const magnitude = (value: number): number => (value === 0 ? 0 : 32 - Math.clz32(value < 0 ? -value : value));

/** A block needs a symbol the table does not have. */
export class MissingSymbol extends Error {}

/** Blocks in coding order: each one's offset in the coefficients and its component, and where restart markers go. */
export interface CodingOrder {
  bases: Int32Array;
  components: Uint8Array;
  /** Block indices (into `bases`) before which a restart marker goes, and the first marker's number. */
  restarts: Int32Array;
  firstMarker: number;
}

/**
 * Huffman-codes `order`'s blocks (64 zigzag coefficients each, DC absolute) into `w`, DC
 * predictors starting from `pred` (per component), with per-component tables.
 *
 * @throws MissingSymbol when a table lacks a symbol a block needs
 */
export function encodeBlocks(w: BitWriter, coefficients: Int16Array, order: CodingOrder, pred: Int32Array, dc: readonly HuffmanTable[], ac: readonly HuffmanTable[]): void {
  const { bases, components, restarts } = order;
  let out = w.bytes;
  let len = w.length;
  let acc = w.acc;
  let nb = w.bits;
  let nextRestart = restarts.length > 0 ? (restarts[0] as number) : -1;
  let restart = 0;
  // Each byte written is followed by a zero that stays (the stuffing, T.81 F.1.2.3) only after
  // 0xFF: (byte + 1) >> 8 is 1 for 255 alone. No branch: a rare one, taken first in optimised
  // code, threw that code away (the room checked per block covers the extra zero).
  for (let i = 0; i < bases.length; i++) {
    if (i === nextRestart) {
      w.length = len;
      w.acc = acc;
      w.bits = nb;
      w.marker(0xd0 + ((order.firstMarker + restart) & 7));
      out = w.bytes;
      len = w.length;
      acc = 0;
      nb = 0;
      pred.fill(0);
      restart++;
      nextRestart = restart < restarts.length ? (restarts[restart] as number) : -1;
    }
    if (len + 1500 > out.length) {
      w.length = len;
      w.room(1500);
      out = w.bytes;
    }
    const base = bases[i] as number;
    const c = components[i] as number;
    const dcTable = dc[c] as HuffmanTable;
    const acTable = ac[c] as HuffmanTable;
    const acCode = acTable.code;
    const acLen = acTable.length;
    // DC difference
    const value = coefficients[base] as number;
    const diff = value - (pred[c] as number);
    pred[c] = value;
    let size = diff === 0 ? 0 : 32 - Math.clz32(diff < 0 ? -diff : diff);
    if (size > 11) throw new NotSpliceable('a DC difference is out of range');
    let n = dcTable.length[size] as number;
    if (n === 0) throw new MissingSymbol();
    acc = (acc << n) | (dcTable.code[size] as number);
    nb += n;
    while (nb >= 8) {
      nb -= 8;
      const byte = (acc >>> nb) & 255;
      out[len++] = byte;
      out[len] = 0;
      len += (byte + 1) >> 8;
    }
    acc &= (1 << nb) - 1;
    if (size > 0) {
      acc = (acc << size) | ((diff < 0 ? diff - 1 : diff) & ((1 << size) - 1));
      nb += size;
      while (nb >= 8) {
        nb -= 8;
        const byte = (acc >>> nb) & 255;
        out[len++] = byte;
        out[len] = 0;
        len += (byte + 1) >> 8;
      }
      acc &= (1 << nb) - 1;
    }
    // AC run/size symbols
    let last = 63;
    while (last > 0 && coefficients[base + last] === 0) last--;
    let run = 0;
    for (let k = 1; k <= last; k++) {
      const v = coefficients[base + k] as number;
      if (v === 0) {
        run++;
        continue;
      }
      while (run > 15) {
        n = acLen[0xf0] as number;
        if (n === 0) throw new MissingSymbol();
        acc = (acc << n) | (acCode[0xf0] as number);
        nb += n;
        while (nb >= 8) {
          nb -= 8;
          const byte = (acc >>> nb) & 255;
          out[len++] = byte;
          out[len] = 0;
          len += (byte + 1) >> 8;
        }
        acc &= (1 << nb) - 1;
        run -= 16;
      }
      size = 32 - Math.clz32(v < 0 ? -v : v);
      if (size > 10) throw new NotSpliceable('an AC coefficient is out of range');
      const symbol = (run << 4) | size;
      n = acLen[symbol] as number;
      if (n === 0) throw new MissingSymbol();
      acc = (acc << n) | (acCode[symbol] as number);
      nb += n;
      while (nb >= 8) {
        nb -= 8;
        const byte = (acc >>> nb) & 255;
        out[len++] = byte;
        out[len] = 0;
        len += (byte + 1) >> 8;
      }
      acc &= (1 << nb) - 1;
      acc = (acc << size) | ((v < 0 ? v - 1 : v) & ((1 << size) - 1));
      nb += size;
      while (nb >= 8) {
        nb -= 8;
        const byte = (acc >>> nb) & 255;
        out[len++] = byte;
        out[len] = 0;
        len += (byte + 1) >> 8;
      }
      acc &= (1 << nb) - 1;
      run = 0;
    }
    if (last < 63) {
      n = acLen[0] as number;
      if (n === 0) throw new MissingSymbol();
      acc = (acc << n) | (acCode[0] as number);
      nb += n;
      while (nb >= 8) {
        nb -= 8;
        const byte = (acc >>> nb) & 255;
        out[len++] = byte;
        out[len] = 0;
        len += (byte + 1) >> 8;
      }
      acc &= (1 << nb) - 1;
    }
  }
  w.length = len;
  w.acc = acc;
  w.bits = nb;
}

/** Adds `step` (1 or -1) to the counts of the AC symbols one block codes to. */
export function countAc(coefficients: Int16Array, base: number, ac: Int32Array, step: number): void {
  let last = 63;
  while (last > 0 && coefficients[base + last] === 0) last--;
  let run = 0;
  for (let k = 1; k <= last; k++) {
    const value = coefficients[base + k] as number;
    if (value === 0) {
      run++;
      continue;
    }
    while (run > 15) {
      ac[0xf0] = (ac[0xf0] as number) + step;
      run -= 16;
    }
    const size = magnitude(value);
    if (size > 10) throw new NotSpliceable('an AC coefficient is out of range');
    const symbol = (run << 4) | size;
    ac[symbol] = (ac[symbol] as number) + step;
    run = 0;
  }
  if (last < 63) ac[0] = (ac[0] as number) + step;
}

/** Adds the DC symbol of a difference to `dc`. */
export function countDc(diff: number, dc: Int32Array): void {
  const size = magnitude(diff);
  if (size > 11) throw new NotSpliceable('a DC difference is out of range');
  dc[size] = (dc[size] as number) + 1;
}

/**
 * The optimal Huffman table for symbol frequencies (256 entries), with codes of at most 16
 * bits and no code of all one bits (T.81 Annex K.2, as libjpeg builds it).
 */
export function optimalTable(frequencies: Int32Array): HuffmanTable {
  const freq = new Float64Array(257);
  for (let i = 0; i < 256; i++) freq[i] = Math.max(0, frequencies[i] ?? 0);
  freq[256] = 1; // reserved: no code is all ones
  const codesize = new Int32Array(257);
  const others = new Int32Array(257).fill(-1);
  for (;;) {
    let c1 = -1;
    let v = Infinity;
    for (let i = 0; i <= 256; i++) {
      const f = freq[i] as number;
      if (f > 0 && f <= v) {
        v = f;
        c1 = i;
      }
    }
    let c2 = -1;
    v = Infinity;
    for (let i = 0; i <= 256; i++) {
      const f = freq[i] as number;
      if (f > 0 && f <= v && i !== c1) {
        v = f;
        c2 = i;
      }
    }
    if (c2 < 0) break;
    freq[c1] = (freq[c1] as number) + (freq[c2] as number);
    freq[c2] = 0;
    codesize[c1] = (codesize[c1] as number) + 1;
    while ((others[c1] as number) >= 0) {
      c1 = others[c1] as number;
      codesize[c1] = (codesize[c1] as number) + 1;
    }
    others[c1] = c2;
    codesize[c2] = (codesize[c2] as number) + 1;
    while ((others[c2] as number) >= 0) {
      c2 = others[c2] as number;
      codesize[c2] = (codesize[c2] as number) + 1;
    }
  }
  const bits = new Int32Array(33);
  for (let i = 0; i <= 256; i++) {
    const size = codesize[i] as number;
    if (size > 0) {
      if (size > 32) throw new NotSpliceable('a Huffman code is too long');
      bits[size] = (bits[size] as number) + 1;
    }
  }
  for (let i = 32; i > 16; i--) {
    while ((bits[i] as number) > 0) {
      let j = i - 2;
      while (bits[j] === 0) j--;
      bits[i] = (bits[i] as number) - 2;
      bits[i - 1] = (bits[i - 1] as number) + 1;
      bits[j + 1] = (bits[j + 1] as number) + 2;
      bits[j] = (bits[j] as number) - 1;
    }
  }
  let longest = 16;
  while (bits[longest] === 0) longest--;
  bits[longest] = (bits[longest] as number) - 1; // the reserved symbol's code
  const counts = new Uint8Array(17);
  for (let i = 1; i <= 16; i++) counts[i] = bits[i] as number;
  const symbols: number[] = [];
  for (let size = 1; size <= 32; size++) {
    for (let s = 0; s < 256; s++) if (codesize[s] === size) symbols.push(s);
  }
  return huffmanTable(counts, Uint8Array.from(symbols));
}

/** A DHT segment holding `tables` ([class 0 DC / 1 AC, id, table]). */
export function dhtSegment(tables: readonly [number, number, HuffmanTable][]): Uint8Array {
  const length = 2 + tables.reduce((sum, [, , t]) => sum + 17 + t.symbols.length, 0);
  const out = new Uint8Array(2 + length);
  out[0] = 0xff;
  out[1] = 0xc4;
  out[2] = length >> 8;
  out[3] = length & 255;
  let at = 4;
  for (const [cls, id, table] of tables) {
    out[at++] = (cls << 4) | id;
    out.set(table.counts.subarray(1, 17), at);
    at += 16;
    out.set(table.symbols, at);
    at += table.symbols.length;
  }
  return out;
}
