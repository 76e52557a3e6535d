/**
 * @module label/explicit/jpeg-splice-tables
 * Keeps the DCT-block splice (`jpeg-splice.ts`) from coding the whole scan again when the
 * changed blocks need Huffman symbols the file's tables lack. Files written with optimised
 * tables (sharp's and mozjpeg's default) carry only the symbols their picture used, and the
 * sharp edges of a notice need more (large AC magnitudes, a large DC step onto a plate).
 *
 * - `appendSymbols`: when the table leaves code space unused, the missing symbols go after its
 *   longest codes; every existing code keeps its bits, so the coded data before the notice is
 *   copied as it is and only the DHT is written again.
 * - `remapTable`: an optimal table has no room (only the all-ones code is unused), so one rare
 *   symbol (a code of 10 to 15 bits) is moved to 16 bits, which frees room for the missing
 *   ones at 16 bits. Only codes longer than 9 bits change; the parser recorded where each of
 *   those is (`LongCodes`), so the coded data is copied bit for bit between them and only they
 *   are written with their new codes.
 *
 * The changed blocks keep their coefficients as quantised: nothing here alters a picture.
 */
import type { CodingOrder } from './jpeg-splice-encode.js';
import { huffmanTable, packed, type HuffmanTable, type LongCodes } from './jpeg-splice-parse.js';

const bitSize = (value: number): number => (value === 0 ? 0 : 32 - Math.clz32(value < 0 ? -value : value));

/** Codes up to this length may not change when a table is remapped (the parser's lookahead: longer ones are recorded). */
const KEPT_LENGTH = 9;

/**
 * `table` with `extra` symbols added after its longest codes, so that every code it had keeps
 * its bits (canonical codes of one length follow those of the shorter lengths in symbol
 * order): the coded data before the splice stays valid, and only the DHT changes. The new
 * symbols take the shortest length, no shorter than the table's longest, at which the unused
 * code space holds them all with the all-ones code still unused (T.81 C). Undefined when no
 * length up to 16 bits has the room.
 */
export function appendSymbols(table: HuffmanTable, extra: readonly number[]): HuffmanTable | undefined {
  if (extra.length === 0) return table;
  let longest = 16;
  while (longest > 0 && (table.counts[longest] ?? 0) === 0) longest--;
  // The next free code at the longest length (canonical assignment, T.81 C.2).
  let next = 0;
  for (let len = 1; len <= longest; len++) {
    next += table.counts[len] ?? 0;
    if (len < longest) next <<= 1;
  }
  for (let len = Math.max(1, longest); len <= 16; len++) {
    const free = 2 ** len - next * 2 ** (len - longest) - 1;
    if (free < extra.length) continue;
    const counts = Uint8Array.from(table.counts);
    counts[len] = (counts[len] ?? 0) + extra.length;
    return huffmanTable(counts, Uint8Array.from([...table.symbols, ...extra]));
  }
  return undefined;
}

/**
 * The symbols the blocks of `order` flagged in `changed` and the block after each of them (whose
 * DC difference changes) need and `dc`/`ac` lack, per component index: DC sizes and AC
 * run/size symbols.
 */
export function missingSymbols(coefficients: Int16Array, order: CodingOrder, changed: Uint8Array, pred: Int32Array, dc: readonly HuffmanTable[], ac: readonly HuffmanTable[]): { dc: Set<number>[]; ac: Set<number>[] } {
  const { bases, components, restarts } = order;
  const missing = { dc: packed(dc, () => new Set<number>()), ac: packed(ac, () => new Set<number>()) };
  const p = Int32Array.from(pred);
  const after = new Uint8Array(p.length);
  let nextRestart = restarts.length > 0 ? (restarts[0] as number) : -1;
  let restart = 0;
  for (let i = 0; i < bases.length; i++) {
    if (i === nextRestart) {
      p.fill(0);
      after.fill(0);
      restart++;
      nextRestart = restart < restarts.length ? (restarts[restart] as number) : -1;
    }
    const c = components[i] as number;
    const base = bases[i] as number;
    const value = coefficients[base] as number;
    if (changed[i] === 1 || after[c] === 1) {
      const size = bitSize(value - (p[c] as number));
      if ((dc[c] as HuffmanTable).length[size] === 0) (missing.dc[c] as Set<number>).add(size);
    }
    after[c] = changed[i] as number;
    p[c] = value;
    if (changed[i] !== 1) continue;
    const length = (ac[c] as HuffmanTable).length;
    const need = missing.ac[c] as Set<number>;
    let run = 0;
    let last = 0;
    for (let k = 1; k < 64; k++) {
      const v = coefficients[base + k] as number;
      if (v === 0) {
        run++;
        continue;
      }
      for (; run > 15; run -= 16) if (length[0xf0] === 0) need.add(0xf0);
      const symbol = (run << 4) | bitSize(v);
      if (length[symbol] === 0) need.add(symbol);
      run = 0;
      last = k;
    }
    if (last < 63 && length[0] === 0) need.add(0);
  }
  return missing;
}

/** A table with some symbols' codes changed, and which. */
export interface RemappedTable {
  table: HuffmanTable;
  /** Per symbol: 1 when its code or length differs from the old table's. */
  changed: Uint8Array;
  /** The symbol moved to a longer code, and its old and new lengths. */
  moved: { symbol: number; from: number; to: number };
}

/**
 * How a table's symbols occur in the coded data that is copied, for `remapTable` to choose the
 * symbol it moves (`symbolUses`).
 */
export interface SymbolUse {
  /** Bits of coded data copied before the first changed MCU (the prefix). */
  prefixEnd: number;
  /** Per symbol: how many times it occurs in the prefix, and where first (when it does). */
  inPrefix: Int32Array;
  first: Float64Array;
  /** Per symbol: how many times it occurs in the whole scan. */
  count: Int32Array;
  /**
   * The codes other tables, already remapped, grew in the prefix (shared by every table's use):
   * where the first of them is (`prefixEnd`: none), and the largest power of two dividing 8
   * and every growth (8: none).
   */
  others: { first: number; step: number };
}

/**
 * One rewritten code (`copyScan`: the copy split there and the new code written) costs about
 * as much as copying this many bits at a shift rather than byte-aligned (`BitWriter.copyBits`).
 */
const REWRITE_BITS = 1024;

/** The largest power of two (up to 8) dividing both. */
const commonStep = (a: number, b: number): number => {
  let step = 8;
  while (a % step !== 0 || b % step !== 0) step >>= 1;
  return step;
};

/**
 * About how many bits of the prefix are copied byte-aligned when `symbol`'s code grows by
 * `delta` bits. The copy starts aligned; every grown code shifts the rest by its growth (mod 8),
 * so after codes that grew by steps of `step` bits the copy is aligned in about `step` / 8 of
 * the stretches between them (all of them after `n` codes when `n` < 8 / `step`, none).
 */
function alignedBits(use: SymbolUse, symbol: number, delta: number): number {
  const end = use.prefixEnd;
  const n = use.inPrefix[symbol] as number;
  const own = n === 0 ? end : (use.first[symbol] as number);
  const { first, step } = use.others;
  const alone = n === 0 ? 1 : Math.floor((n * commonStep(delta, 8)) / 8) / n;
  const both = n === 0 ? step / 8 : first >= end ? alone : commonStep(delta, step) / 8;
  const early = Math.min(own, first);
  const late = Math.max(own, first);
  return early + (late - early) * (own < first ? alone : step / 8) + (end - late) * both;
}

/**
 * `table` with `extra` symbols added at 16 bits, room made by moving one symbol of 10 to 15
 * bits to a longer code. Every code of 9 bits or fewer keeps its bits. Undefined when no such
 * symbol makes room enough.
 *
 * Without `use`, the symbol moved is the last of the longest such length whose room suffices,
 * and it goes to 16 bits. With `use`, every symbol and new length with room enough is weighed
 * by what copying the coded data with it costs (`copyScan`): the codes whose bits change are
 * each written again (moving a symbol changes the codes of every longer one, and of those after
 * it at its length), and from each code of the moved symbol on, the copy is shifted by the bits
 * it grew (mod 8) until the shifts add up to whole bytes again, the copy then byte-aligned (a
 * symbol absent from the prefix keeps it all aligned; growing by 4 bits keeps half of it). The
 * cheapest wins, ties going to the choice without `use`.
 */
export function remapTable(table: HuffmanTable, extra: readonly number[], use?: SymbolUse): RemappedTable | undefined {
  const groups: number[][] = Array.from({ length: 17 }, () => []);
  let k = 0;
  let used = 0;
  for (let len = 1; len <= 16; len++) {
    for (let i = 0; i < (table.counts[len] ?? 0); i++) {
      (groups[len] as number[]).push(table.symbols[k++] as number);
      used += 1 << (16 - len);
    }
  }
  // Code space in 16-bit codes, the all-ones code kept unused.
  const free = 2 ** 16 - 1 - used;
  let best: { len: number; index: number; to: number } | undefined;
  let bestCost = Infinity;
  // Occurrences of the codes longer than each length.
  const longer = new Float64Array(18);
  if (use) {
    for (let len = 16; len > KEPT_LENGTH; len--) {
      const group = groups[len + 1] ?? [];
      let sum = 0;
      for (let i = 0; i < group.length; i++) sum += use.count[group[i] as number] as number;
      longer[len] = (longer[len + 1] as number) + sum;
    }
  }
  for (let len = 15; len > KEPT_LENGTH; len--) {
    const group = groups[len] as number[];
    let after = 0;
    for (let index = group.length - 1; index >= 0; index--) {
      const symbol = group[index] as number;
      for (let to = 16; to > len; to--) {
        if (free + (1 << (16 - len)) - (1 << (16 - to)) < extra.length) continue;
        if (!use) {
          best = { len, index, to };
          break;
        }
        const rewrites = (use.count[symbol] as number) + after + (longer[len] as number);
        const cost = use.prefixEnd - alignedBits(use, symbol, to - len) + REWRITE_BITS * rewrites;
        if (cost < bestCost) {
          bestCost = cost;
          best = { len, index, to };
        }
      }
      if (best && !use) break;
      if (use) after += use.count[symbol] as number;
    }
    if (best && !use) break;
  }
  if (!best) return undefined;
  const moved = packed(groups, (g) => [...g]);
  const symbol = (moved[best.len] as number[]).splice(best.index, 1)[0] as number;
  (moved[best.to] as number[]).push(symbol);
  (moved[16] as number[]).push(...extra);
  const counts = new Uint8Array(17);
  for (let l = 1; l <= 16; l++) counts[l] = (moved[l] as number[]).length;
  const next = huffmanTable(counts, Uint8Array.from(moved.flat()));
  const changed = new Uint8Array(256);
  for (let s = 0; s < 256; s++) {
    if (table.length[s] === 0) continue;
    if (next.code[s] === table.code[s] && next.length[s] === table.length[s]) continue;
    if ((table.length[s] as number) <= KEPT_LENGTH) return undefined;
    changed[s] = 1;
  }
  return { table: next, changed, moved: { symbol, from: best.len, to: best.to } };
}

/** Per table key and symbol: occurrences in the prefix, first position there, occurrences in the scan (reused from call to call). */
const spareUse = { inPrefix: new Int32Array(8 * 256), first: new Float64Array(8 * 256), count: new Int32Array(8 * 256) };

/**
 * How the symbols of tables `keys` (DC id, or 4 + AC id) occur in the scan, from the parser's
 * record of the codes longer than 9 bits (`long`): the moved symbol is one of those, and only
 * those change. One pass for every table; the uses share `others` (`addShift`). Valid until
 * the next call.
 */
export function symbolUses(long: LongCodes, keys: readonly number[], prefixEnd: number): Map<number, SymbolUse> {
  const { inPrefix, first, count } = spareUse;
  inPrefix.fill(0);
  count.fill(0);
  const { positions, keys: codes, length } = long;
  for (let i = 0; i < length; i++) {
    const code = codes[i] as number;
    count[code] = (count[code] as number) + 1;
    if ((positions[i] as number) >= prefixEnd) continue;
    if (inPrefix[code] === 0) first[code] = positions[i] as number;
    inPrefix[code] = (inPrefix[code] as number) + 1;
  }
  const others = { first: prefixEnd, step: 8 };
  const uses = new Map<number, SymbolUse>();
  for (const key of keys) uses.set(key, { prefixEnd, inPrefix: inPrefix.subarray(key * 256, key * 256 + 256), first: first.subarray(key * 256, key * 256 + 256), count: count.subarray(key * 256, key * 256 + 256), others });
  return uses;
}

/** Records in `use.others` the growth of `moved`'s codes in the prefix, for the tables remapped after it. */
export function addShift(use: SymbolUse, moved: RemappedTable['moved']): void {
  if (use.inPrefix[moved.symbol] === 0) return;
  use.others.first = Math.min(use.others.first, use.first[moved.symbol] as number);
  use.others.step = commonStep(moved.to - moved.from, use.others.step);
}
