/**
 * @module safety/word-boundary
 * The check behind word-boundary entries: a hit stands only where it begins and ends between
 * two words of the text as the segmenter cuts it. The segmenter sees the folded text (noise
 * and invisible characters removed, traditional characters simplified, repeats kept) of a
 * window of `WORD_CONTEXT` UTF-16 units on each side of the hit, cut at line breaks, so the
 * verdict depends only on that window: a stream and a whole-text scan decide the same.
 */
import type { CompiledLibrary } from './compile.js';
import { BREAK, DROP, EXPAND, NOISE, SURROGATE } from './fold.js';
import type { WordSegmenter } from './segmenter.js';

/** Context on each side of a hit that the segmenter sees (a Chinese word is rarely longer than 8 characters). */
export const WORD_CONTEXT = 24;

/**
 * Whether the hit `[start, end)` begins and ends at word boundaries. `window` is the original
 * text from `windowStart`: `[max(0, start - WORD_CONTEXT), min(length, end + WORD_CONTEXT))`.
 */
export function atWordBoundaries(c: CompiledLibrary, segmenter: WordSegmenter, window: string, windowStart: number, start: number, end: number): boolean {
  const units: number[] = [];
  const offsets: number[] = [];
  for (let i = 0; i < window.length; i++) {
    const at = windowStart + i;
    let cp = window.charCodeAt(i);
    let folds: readonly number[];
    const f = c.fold.bmp[cp] as number;
    if (f === SURROGATE && i + 1 < window.length) {
      cp = window.codePointAt(i) as number;
      folds = cp > 0xffff ? c.fold.foldAstral(cp) : [cp];
      if (cp > 0xffff) i++;
    } else folds = f === EXPAND ? c.fold.expansion(cp) : f === SURROGATE ? [cp] : [f];
    for (const g of folds) {
      if (g === BREAK) {
        if (at >= end) return check(segmenter, units, offsets, start, end);
        if (at < start) {
          units.length = 0;
          offsets.length = 0;
        }
        continue;
      }
      if (g === NOISE || g === DROP) continue;
      const char = String.fromCodePoint(g);
      for (let k = 0; k < char.length; k++) {
        units.push(char.charCodeAt(k));
        offsets.push(at);
      }
    }
  }
  return check(segmenter, units, offsets, start, end);
}

function check(segmenter: WordSegmenter, units: number[], offsets: number[], start: number, end: number): boolean {
  let from = offsets.findIndex((o) => o >= start);
  if (from < 0) from = offsets.length;
  let to = from;
  while (to < offsets.length && (offsets[to] as number) < end) to++;
  const boundaries = new Set<number>([0]);
  let position = 0;
  for (const word of segmenter.cut(String.fromCharCode(...units))) boundaries.add((position += word.length));
  return boundaries.has(from) && boundaries.has(to);
}
