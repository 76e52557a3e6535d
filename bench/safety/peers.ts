/**
 * @module bench/safety/peers
 * The matchers compared, each behind the same small interface: build from a keyword list,
 * scan a document for every hit, and say whether a given keyword was reported in a text
 * (for recall). Peers are used through their documented public APIs.
 */
import { Mint } from 'mint-filter';
import FastScanner from 'fastscan';
import AhoCorasick from 'modern-ahocorasick';
import stringDsa from 'string-dsa';
import type { CompiledLibrary, KeywordLibrary } from '../../src/safety/index.js';
import { compileLibrary, literalNormaliserOptions, scanText } from '../../src/safety/index.js';

export interface Matcher {
  /** Number of hits in `text` (all of them, overlapping ones included where the tool reports them). */
  count(text: string): number;
  /** Whether `keyword` is among the hits the tool reports for `text`. */
  finds(text: string, keyword: string): boolean;
}

export interface Tool {
  name: string;
  /** What the tool matches on. */
  kind: string;
  build(keywords: readonly string[]): Matcher;
}

interface StringDsaMatcher {
  find(text: string): [number, number][];
}

const HAN = /\p{sc=Han}/u;

/** The benchmark library: every keyword under one risk; Chinese ones marked pinyin when asked. */
export function benchLibrary(keywords: readonly string[], pinyin: boolean): KeywordLibrary {
  return {
    name: 'bench',
    version: '1',
    updatedAt: '2025-11-01T00:00:00.000Z',
    transforms: { nfkc: true, width: true, caseFold: true, traditional: true, invisible: true, skipNoise: true, collapseRepeats: true, homoglyphs: true, pinyin: true, crossLineBreaks: false, latinWordBoundary: true },
    entries: keywords.map((keyword) => ({ keyword, risk: 'A1.8', mode: pinyin && HAN.test(keyword) ? 'pinyin' : 'literal', severity: 'medium' })),
    allow: [],
  };
}

function heguiMatcher(compiled: CompiledLibrary): Matcher {
  return {
    count: (text) => scanText(compiled, text).length,
    finds: (text, keyword) => scanText(compiled, text).some((m) => m.keyword === keyword),
  };
}

export const tools: readonly Tool[] = [
  {
    name: 'hegui (every normalisation)',
    kind: 'NFKC, width, case, traditional, invisible, noise, repeats, look-alikes, pinyin (Chinese entries), word boundaries',
    build: (keywords) => heguiMatcher(compileLibrary(benchLibrary(keywords, true))),
  },
  {
    name: 'hegui (literal)',
    kind: 'every transform off',
    build: (keywords) => heguiMatcher(compileLibrary({ ...benchLibrary(keywords, false), transforms: { ...literalNormaliserOptions } })),
  },
  {
    name: 'mint-filter 4.0.3',
    kind: 'literal',
    build: (keywords) => {
      const mint = new Mint([...keywords]);
      return {
        count: (text) => mint.filter(text, { replace: false }).words.length,
        finds: (text, keyword) => mint.filter(text, { replace: false }).words.includes(keyword),
      };
    },
  },
  {
    name: 'fastscan 1.0.6',
    kind: 'literal',
    build: (keywords) => {
      const scanner = new FastScanner([...keywords]);
      return {
        count: (text) => scanner.search(text).length,
        finds: (text, keyword) => scanner.search(text).some(([, word]) => word === keyword),
      };
    },
  },
  {
    name: 'modern-ahocorasick 3.3.0',
    kind: 'literal, grapheme clusters',
    build: (keywords) => {
      const matcher = new AhoCorasick([...keywords]);
      return {
        count: (text) => matcher.count(text),
        finds: (text, keyword) => matcher.search(text).some((m) => m.pattern === keyword),
      };
    },
  },
  {
    name: 'string-dsa 2.0.0',
    kind: 'literal',
    build: (keywords) => {
      const matcher = new (stringDsa as unknown as { AhoCorasick: new (words: string[]) => StringDsaMatcher }).AhoCorasick([...keywords]);
      return {
        count: (text) => matcher.find(text).length,
        finds: (text, keyword) => matcher.find(text).some(([start, end]) => text.slice(start, end + 1) === keyword),
      };
    },
  },
];
