/**
 * @module safety/normalise
 * The normaliser as a standalone function: folds a text under a set of transforms and keeps,
 * for every UTF-16 code unit of the result, the span of the original text it came from. The
 * matcher runs the same fold inside its loop without building this string; this function is
 * for showing what the matcher sees and for mapping positions back by hand.
 */
import { BREAK, DROP, EXPAND, FoldTable, NOISE, SURROGATE } from './fold.js';
import type { Folded } from './fold.js';
import type { NormaliserOptions } from './options.js';
import { resolveOptions } from './options.js';

export interface NormalisedText {
  /** The folded text: noise removed (when skipped), line breaks as `\n`, repeats collapsed. */
  text: string;
  /** `start[k]`..`end[k]` is the original span of `text[k]` (UTF-16 offsets). */
  start: Uint32Array;
  end: Uint32Array;
}

/**
 * Normalises `text`. Pass a `FoldTable` to reuse one across calls.
 *
 * @example
 * const n = normalise('ＦＡ輪 功');  // n.text === 'fa轮功'
 * n.start[2], n.end[2];              // 2, 3: '轮' came from '輪' at offset 2
 */
export function normalise(text: string, options?: Partial<NormaliserOptions> | FoldTable): NormalisedText {
  const fold = options instanceof FoldTable ? options : new FoldTable(resolveOptions(options));
  const collapse = fold.options.collapseRepeats;
  const chars: number[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  let previous = -1;
  const push = (f: Folded, start: number, end: number): void => {
    if (f === DROP || f === NOISE) return;
    const cp = f === BREAK ? 0x0a : f;
    if (collapse && cp === previous && cp !== 0x0a) {
      ends[ends.length - 1] = end;
      return;
    }
    previous = cp;
    const char = String.fromCodePoint(cp);
    for (let k = 0; k < char.length; k++) {
      chars.push(char.charCodeAt(k));
      starts.push(start);
      ends.push(end);
    }
  };
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    const f = fold.bmp[unit] as number;
    if (f === SURROGATE) {
      const cp = text.codePointAt(i) as number;
      const width = cp > 0xffff ? 2 : 1;
      for (const g of cp > 0xffff ? fold.foldAstral(cp) : [unit]) push(g, i, i + width);
      i += width - 1;
    } else if (f === EXPAND) {
      for (const g of fold.expansion(unit)) push(g, i, i + 1);
    } else push(f, i, i + 1);
  }
  let out = '';
  for (let k = 0; k < chars.length; k += 8192) out += String.fromCharCode(...chars.slice(k, k + 8192));
  return { text: out, start: Uint32Array.from(starts), end: Uint32Array.from(ends) };
}
