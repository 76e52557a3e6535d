/**
 * @module corpus/inspect
 * One corpus item through the safety engine: the compiled keyword library (with the
 * normaliser the library's transforms switch on) and the personal-data detectors. Also the
 * cheap statistics every item feeds: length and language by script share.
 */
import type { CompiledLibrary, PiiType, RiskCode } from '../safety/index.js';
import { detectPii, redactPii, scanRisks, scanText } from '../safety/index.js';

export interface Inspection {
  /** Risk codes of the keyword hits, sorted, each once. */
  risks: RiskCode[];
  matches: { risk: RiskCode; keyword: string; start: number; end: number; confidence: string }[];
  pii: { type: PiiType; start: number; end: number }[];
}

/** What counting an item needs: its risks (sorted, each once) and its personal-data types (each once). */
export interface Classification {
  risks: RiskCode[];
  pii: PiiType[];
}

export interface Inspector {
  inspect(text: string): Inspection;
  /** The risks and personal-data types `inspect` would give, without building the matches. */
  classify(text: string): Classification;
  /** The text with its personal data masked. */
  mask(text: string): string;
}

export function createInspector(library: CompiledLibrary | undefined, options: { pii?: boolean } = {}): Inspector {
  const pii = options.pii ?? true;
  return {
    inspect(text) {
      const matches = library === undefined ? [] : scanText(library, text);
      const risks = [...new Set(matches.map((m) => m.risk))].sort();
      return {
        risks,
        matches: matches.map((m) => ({ risk: m.risk, keyword: m.keyword, start: m.start, end: m.end, confidence: m.confidence })),
        pii: pii ? detectPii(text).map((p) => ({ type: p.type, start: p.start, end: p.end })) : [],
      };
    },
    classify(text) {
      const risks = library === undefined ? [] : scanRisks(library, text);
      if (!pii) return { risks, pii: [] };
      const found = detectPii(text);
      const types: PiiType[] = [];
      for (const p of found) if (!types.includes(p.type)) types.push(p.type);
      return { risks, pii: types };
    },
    mask(text) {
      return redactPii(text, detectPii(text));
    },
  };
}

export const languages = ['zh', 'en', 'other'] as const;
export type Language = (typeof languages)[number];

/**
 * The language of a text by script share: `zh` when Han characters are at least 30 % of its
 * letters, `en` when Latin letters are at least 60 %, `other` otherwise (other scripts, or no
 * letters at all). A script test, not a language model: Japanese with many kanji counts as zh.
 */
export function languageOf(text: string): Language {
  let han = 0;
  let latin = 0;
  let other = 0;
  const n = Math.min(text.length, 4096);
  for (let i = 0; i < n; i += 1) {
    const c = text.charCodeAt(i);
    if (c < 0x80) {
      if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) latin += 1;
    } else if ((c >= 0x4e00 && c <= 0x9fff) || (c >= 0x3400 && c <= 0x4dbf) || (c >= 0xf900 && c <= 0xfaff) || (c >= 0xd840 && c <= 0xd87f)) han += 1;
    else if ((c >= 0xc0 && c <= 0x24f) || (c >= 0xff21 && c <= 0xff5a)) latin += 1;
    else if (c >= 0x370 && !(c >= 0x2000 && c <= 0x2bff) && !(c >= 0x3000 && c <= 0x303f) && !(c >= 0xfe30 && c <= 0xff20) && !(c >= 0xdc00 && c <= 0xdfff) && !(c >= 0xd800 && c <= 0xdbff)) other += 1;
  }
  const letters = han + latin + other;
  if (letters === 0) return 'other';
  if (han / letters >= 0.3) return 'zh';
  if (latin / letters >= 0.6) return 'en';
  return 'other';
}

/** Upper bounds (characters, exclusive) of the length histogram's buckets; the last bucket is open. */
export const LENGTH_BUCKETS = [16, 64, 256, 1024, 4096, 16384] as const;

export interface TextStats {
  items: number;
  chars: number;
  minChars: number | null;
  maxChars: number | null;
  /** Items per length bucket (`LENGTH_BUCKETS`, then the open bucket). */
  lengths: number[];
  languages: Record<Language, number>;
}

export function emptyStats(): TextStats {
  return { items: 0, chars: 0, minChars: null, maxChars: null, lengths: new Array<number>(LENGTH_BUCKETS.length + 1).fill(0), languages: { zh: 0, en: 0, other: 0 } };
}

export function addText(stats: TextStats, text: string): void {
  const length = text.length;
  stats.items += 1;
  stats.chars += length;
  stats.minChars = stats.minChars === null ? length : Math.min(stats.minChars, length);
  stats.maxChars = stats.maxChars === null ? length : Math.max(stats.maxChars, length);
  let bucket = 0;
  while (bucket < LENGTH_BUCKETS.length && length >= LENGTH_BUCKETS[bucket]!) bucket += 1;
  stats.lengths[bucket]! += 1;
  stats.languages[languageOf(text)] += 1;
}

export function mergeStats(into: TextStats, more: TextStats): void {
  into.items += more.items;
  into.chars += more.chars;
  if (more.minChars !== null) into.minChars = into.minChars === null ? more.minChars : Math.min(into.minChars, more.minChars);
  if (more.maxChars !== null) into.maxChars = into.maxChars === null ? more.maxChars : Math.max(into.maxChars, more.maxChars);
  more.lengths.forEach((n, i) => (into.lengths[i] = (into.lengths[i] ?? 0) + n));
  for (const language of languages) into.languages[language] += more.languages[language];
}
