/**
 * @module safety/pinyin
 * Pinyin spellings of a keyword, for entries whose mode is `pinyin`: the full toneless
 * spelling (`falungong`), the initials from three characters up (`flg`; two-letter initials
 * would flag ordinary words), and for short keywords every mix of characters and syllables
 * (`法lun功`), the forms users type to get past a literal filter.
 */
import type { pinyin as PinyinFunction } from 'pinyin-pro';
import { KeywordLibraryError } from './errors.js';
import { nodeRequire } from './node-require.js';

let pinyin: typeof PinyinFunction | undefined;

/**
 * pinyin-pro, loaded on first use: importing it takes ~130 ms, which a scan with a cached
 * compiled library must not pay (issue 14). Loaded with Node's `require` (as the segmenter
 * loads jieba) so that compiling stays synchronous.
 */
function pinyinFunction(): typeof PinyinFunction {
  if (pinyin !== undefined) return pinyin;
  const require = nodeRequire();
  if (require === undefined) throw new KeywordLibraryError('pinyin entries need pinyin-pro, which loads only in Node; compile the library there');
  pinyin = (require('pinyin-pro') as { pinyin: typeof PinyinFunction }).pinyin;
  return pinyin;
}

const HAN = /^\p{sc=Han}$/u;
/** Keywords up to this many characters also get every character/syllable mix (2^n forms). */
const MAX_MIXED_LENGTH = 4;
const MIN_INITIALS_LENGTH = 3;

/** The spellings to match besides the keyword itself; empty when it has no Chinese character. */
export function pinyinVariants(keyword: string): string[] {
  const chars = [...keyword];
  if (!chars.some((c) => HAN.test(c))) return [];
  const syllables = pinyinFunction()(keyword, { toneType: 'none', type: 'array', v: true, nonZh: 'removed' });
  const han = chars.filter((c) => HAN.test(c));
  if (syllables.length !== han.length) return [];
  const variants = new Set<string>();
  // Each character is replaced by its syllable where it is Chinese; other characters stay.
  const parts: { char: string; syllable: string | undefined }[] = [];
  let next = 0;
  for (const char of chars) parts.push({ char, syllable: HAN.test(char) ? syllables[next++] : undefined });
  variants.add(parts.map((p) => p.syllable ?? p.char).join(''));
  if (han.length >= MIN_INITIALS_LENGTH) variants.add(parts.map((p) => p.syllable?.charAt(0) ?? p.char).join(''));
  if (han.length <= MAX_MIXED_LENGTH) {
    const hanIndexes = parts.flatMap((p, i) => (p.syllable === undefined ? [] : [i]));
    for (let mask = 1; mask < (1 << hanIndexes.length) - 1; mask++) {
      const mixed = parts.map((p, i) => {
        const bit = hanIndexes.indexOf(i);
        return bit >= 0 && (mask >> bit) & 1 ? (p.syllable as string) : p.char;
      });
      variants.add(mixed.join(''));
    }
  }
  variants.delete(keyword);
  return [...variants];
}
