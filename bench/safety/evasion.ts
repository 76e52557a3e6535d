/**
 * @module bench/safety/evasion
 * The evasion set: keywords from the benchmark library hidden the ways users hide them, one
 * transform per item, each inside a sentence. Recall on it is the share of items where a tool
 * reports the hidden keyword. Seeded, so every run scores the same items.
 */
import { pinyin } from 'pinyin-pro';
import { Converter } from 'opencc-js';
import { seededRandom as rng } from '../../test/helpers/random.js';

export interface EvasionItem {
  transform: string;
  keyword: string;
  text: string;
}

const HAN = /\p{sc=Han}/u;
const NOISE = ['*', '.', '-', '_', ' ', '·', '/', '|', '~'];
const EMOJI = ['😀', '🔥', '👍', '🌸', '⭐'];
const CYRILLIC: Record<string, string> = { a: 'а', c: 'с', e: 'е', o: 'о', p: 'р', x: 'х', y: 'у', i: 'і' };
const LEET: Record<string, string> = { o: '0', i: '1', e: '3', a: '4', s: '5', t: '7' };

/** Transform name -> how it hides a keyword (undefined: does not apply to this keyword). */
function transforms(random: () => number): Record<string, (keyword: string) => string | undefined> {
  const toTraditional = Converter({ from: 'cn', to: 'tw' });
  const between = (keyword: string, pick: () => string): string => [...keyword].map((c, i) => (i === 0 ? c : pick() + c)).join('');
  const choose = (list: readonly string[]): string => list[Math.floor(random() * list.length)] as string;
  return {
    plain: (k) => k,
    'full-width': (k) => (HAN.test(k) ? undefined : k.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0))),
    case: (k) => (HAN.test(k) ? undefined : [...k].map((c, i) => (i % 2 === 0 ? c.toUpperCase() : c)).join('')),
    traditional: (k) => {
      if (!HAN.test(k)) return undefined;
      const t = toTraditional(k);
      return t === k ? undefined : t;
    },
    'zero-width': (k) => between(k, () => choose(['\u200b', '\u200c', '\u200d', '\u2060', '\ufeff'])),
    'symbols between': (k) => between(k, () => choose(NOISE)),
    'emoji between': (k) => between(k, () => choose(EMOJI)),
    // A repeat only hides a keyword of three or more characters (`abbbc`; `abbb` still holds `ab`).
    repeats: (k) => ([...k].length < 3 ? undefined : [...k].map((c, i) => (i === 1 ? c + c + c : c)).join('')),
    'look-alikes': (k) => {
      if (HAN.test(k)) return undefined;
      const swapped = [...k].map((c, i) => (i % 2 === 0 ? (CYRILLIC[c] ?? LEET[c] ?? c) : c)).join('');
      return swapped === k ? undefined : swapped;
    },
    pinyin: (k) => (/^\p{sc=Han}+$/u.test(k) ? pinyin(k, { toneType: 'none', type: 'array', v: true }).join(random() < 0.5 ? ' ' : '') : undefined),
  };
}

/** `perTransform` items for each transform, drawn from `keywords`. */
export function evasionSet(keywords: readonly string[], perTransform: number, seed = 260): EvasionItem[] {
  const random = rng(seed);
  const items: EvasionItem[] = [];
  for (const [name, hide] of Object.entries(transforms(random))) {
    let made = 0;
    for (let attempt = 0; made < perTransform && attempt < perTransform * 50; attempt++) {
      const keyword = keywords[Math.floor(random() * keywords.length)] as string;
      const hidden = hide(keyword);
      if (hidden === undefined) continue;
      // A space on each side keeps a Latin keyword a whole word, as it would be in real text.
      items.push({ transform: name, keyword, text: `用户说 ${hidden} 然后离开了` });
      made++;
    }
  }
  return items;
}
