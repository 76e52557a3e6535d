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
 *   symbol (a code of 10 to 15 bits) is moved to a longer code (by 4 bits where that makes room
 *   enough, which keeps half the copied data byte-aligned; else to 16 bits), which frees room
 *   for the missing ones at 16 bits. Only codes longer than 9 bits change; the parser recorded where each of
 *   those is (`LongCodes`), so the coded data is copied bit for bit between them and only they
 *   are written with their new codes.
 *
 * The changed blocks keep their coefficients as quantised: nothing here alters a picture.
 */
import { magnitude, type CodingOrder } from './jpeg-splice-encode.js';
import { huffmanTable, packed, type HuffmanTable } from './jpeg-splice-parse.js';

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
      const size = magnitude(value - (p[c] as number));
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
      const symbol = (run << 4) | magnitude(v);
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
 * `table` with `extra` symbols added at 16 bits, room made by moving one symbol of 10 to 15
 * bits to a longer code. Every code of 9 bits or fewer keeps its bits. Undefined when no such
 * symbol makes room enough.
 *
 * The moved symbol's codes each grow, and the coded data copied after one of them is shifted
 * by the growth (mod 8): `BitWriter.copyBits` copies byte-aligned stretches as whole runs, and
 * shifted ones a few bytes at a time with shifts. Growing by 4 bits keeps every other stretch
 * between its codes aligned (1 bit or 3 bits, one in eight), so the symbol moved is the last of
 * the longest length of 10 to 12 bits whose move by 4 bits makes room enough (moving from a
 * longer length changes fewer codes: those of the lengths after it); when none does, the last
 * of the longest length of 10 to 15 bits whose move to 16 bits does.
 */
export function remapTable(table: HuffmanTable, extra: readonly number[]): RemappedTable | undefined {
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
  const room = (from: number, to: number): boolean => free + (1 << (16 - from)) - (1 << (16 - to)) >= extra.length;
  let from = 0;
  let to = 0;
  for (let len = 12; len > KEPT_LENGTH && from === 0; len--) {
    if ((groups[len] as number[]).length > 0 && room(len, len + 4)) [from, to] = [len, len + 4];
  }
  for (let len = 15; len > KEPT_LENGTH && from === 0; len--) {
    if ((groups[len] as number[]).length > 0 && room(len, 16)) [from, to] = [len, 16];
  }
  if (from === 0) return undefined;
  const moved = packed(groups, (g) => [...g]);
  const symbol = (moved[from] as number[]).pop() as number;
  (moved[to] as number[]).push(symbol);
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
  return { table: next, changed, moved: { symbol, from, to } };
}
