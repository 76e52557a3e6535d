/**
 * @module safety/confidence
 * What a hit needed to be found. A keyword written as it is (`法轮功`) is a hit of high
 * confidence; one found only after folding traditional characters, skipping symbols and
 * collapsing repeats (`法 輪 *功功`) is more likely an evasion, but also more likely a false
 * match, so a policy may send it to review rather than block it (GB/T 45654 asks for accurate
 * hits, not invented ones). The transforms are read back from the original text of the hit.
 */
import type { CompiledLibrary } from './compile.js';
import { DROP, EXPAND, NOISE, SURROGATE } from './fold.js';

/** The transforms a hit can need, in the order of `NormaliserOptions`. */
export const matchTransforms = ['nfkc', 'width', 'case', 'traditional', 'invisible', 'noise', 'repeats', 'homoglyphs', 'pinyin'] as const;
export type MatchTransform = (typeof matchTransforms)[number];

/** `high`: no transform; `medium`: one; `low`: two or more. */
export const confidences = ['low', 'medium', 'high'] as const;
export type Confidence = (typeof confidences)[number];

const HAN = /^\p{sc=Han}$/u;

/** The confidence of a hit that needed `transforms`. */
export function confidenceOf(transforms: readonly MatchTransform[]): Confidence {
  if (transforms.length === 0) return 'high';
  return transforms.length === 1 ? 'medium' : 'low';
}

/**
 * The transforms that turned `original` into the keyword: each character is compared with its
 * fold, and the count of significant characters with the keyword's own length (`length`, or
 * undefined for regex hits) to tell repeats.
 */
export function transformsOf(c: CompiledLibrary, original: string, length: number | undefined, pinyin: boolean): MatchTransform[] {
  const fold = c.fold;
  // One bit per `matchTransforms` index; hits are scanned once, without per-character objects.
  let used = 0;
  let significant = 0;
  for (let i = 0; i < original.length; i++) {
    const unit = original.charCodeAt(i);
    const f = fold.bmp[unit] as number;
    if (f !== EXPAND && f !== SURROGATE) {
      if (f === DROP) used |= INVISIBLE;
      else if (f === NOISE) used |= NOISY;
      else if (f >= 0) {
        significant++;
        if (f !== unit) used |= bit(changeOf(String.fromCharCode(unit), String.fromCodePoint(f)));
      }
      continue;
    }
    const cp = original.codePointAt(i) as number;
    const char = String.fromCodePoint(cp);
    if (cp > 0xffff) i++;
    const folds = f === EXPAND ? fold.expansion(unit) : cp > 0xffff ? fold.foldAstral(cp) : [cp];
    if (folds.length === 0) used |= INVISIBLE;
    let changed = '';
    for (const g of folds) {
      if (g === NOISE) used |= NOISY;
      else if (g >= 0) {
        significant++;
        changed += String.fromCodePoint(g);
      }
    }
    if (changed !== '' && changed !== char) used |= bit(changeOf(char, changed));
  }
  if (length !== undefined && significant > length) used |= REPEATS;
  if (pinyin) used |= PINYIN;
  const out: MatchTransform[] = [];
  if (used !== 0) matchTransforms.forEach((t, k) => (used & (1 << k) ? out.push(t) : 0));
  return out;
}

const bit = (transform: MatchTransform): number => 1 << matchTransforms.indexOf(transform);
const INVISIBLE = bit('invisible');
const NOISY = bit('noise');
const REPEATS = bit('repeats');
const PINYIN = bit('pinyin');

/** Which transform turned one character into its fold (applied in the fold's order). */
function changeOf(char: string, folded: string): MatchTransform {
  const cp = char.codePointAt(0) as number;
  let text = char.normalize('NFKC');
  if (text !== char) {
    if ((cp >= 0xff01 && cp <= 0xff5e) || cp === 0x3000) return text.toLowerCase() === folded || text === folded ? 'width' : 'homoglyphs';
    return 'nfkc';
  }
  const bare = char.normalize('NFD').charAt(0);
  if (bare !== char && bare.toLowerCase() === folded) return 'nfkc';
  text = char.toLowerCase();
  if (text !== char) return text === folded ? 'case' : 'homoglyphs';
  return HAN.test(char) && HAN.test(folded) ? 'traditional' : 'homoglyphs';
}
