/**
 * @module bench/safety/precision
 * `npx tsx bench/safety/precision.ts [--chars 5000000] [--entries 5200]`: how often each
 * matcher flags ordinary text, and how much of an evasion set it still catches.
 * - False matches: the benign corpus (real Chinese text, `precision-data.ts`) is scanned line
 *   by line; every distinct keyword reported on a line counts once (mint-filter reports each
 *   word once per call, so this is the count every tool can give), per million characters.
 *   The corpus holds no evasion, so every match of a literal peer is a plain substring hit and
 *   every match hegui makes beyond those was invented by a transform.
 * - Recall: the evasion set of `evasion.ts`, drawn from the same library (pinyin items only
 *   from entries marked `pinyin`).
 * hegui runs with every transform, with each transform off in turn, with clause punctuation
 * counted as noise (the behaviour before issue 12), with two-character entries in word mode,
 * and with every transform off. Prints a Markdown report for bench/RESULTS.md.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Mint } from 'mint-filter';
import FastScanner from 'fastscan';
import type { CompiledLibrary, KeywordLibrary, KeywordMatch, NormaliserOptions } from '../../src/safety/index.js';
import { compileLibrary, defaultNormaliserOptions, literalNormaliserOptions, scanText } from '../../src/safety/index.js';
import { evasionSet } from './evasion.js';
import type { EvasionItem } from './evasion.js';
import type { BenchEntry } from './precision-data.js';
import { poetryCorpus, realisticLibrary } from './precision-data.js';
import { numberOption } from './data.js';
import { usageIfAsked } from '../usage.js';

usageIfAsked(import.meta.url);

const characters = numberOption('chars', 5_000_000);
const entryCount = numberOption('entries', 5200);
const root = join(import.meta.dirname, '..', '..');

async function cachedCorpus(): Promise<string> {
  const file = join(root, '.bench-data', `poetry-simplified-${characters}.txt`);
  try {
    return await readFile(file, 'utf8');
  } catch {
    const text = await poetryCorpus(characters);
    await mkdir(join(root, '.bench-data'), { recursive: true });
    await writeFile(file, text);
    return text;
  }
}

const fmt = (n: number, digits = 1): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

const corpus = await cachedCorpus();
const lines = corpus.split('\n');
let codePoints = 0;
for (const _ of corpus) codePoints++;
const entries = realisticLibrary(entryCount);
const keywords = entries.map((e) => e.keyword);
const HAN = /^\p{sc=Han}+$/u;
console.log(`${fmt(codePoints, 0)} characters in ${fmt(lines.length, 0)} lines; ${entries.length} entries`);

/** A library of the benchmark entries; `extra` adds fields (noise, words) the engine may or may not know. */
function library(transforms: NormaliserOptions, extra: { noise?: string[]; wordsForTwo?: boolean } = {}): KeywordLibrary {
  const entry = (e: BenchEntry): KeywordLibrary['entries'][number] => ({
    keyword: e.keyword,
    risk: 'A1.8',
    mode: e.mode,
    severity: 'medium',
    ...(extra.wordsForTwo && HAN.test(e.keyword) && e.keyword.length === 2 ? { words: true } : {}),
  });
  return { name: 'precision', version: '1', updatedAt: '2026-12-04T00:00:00.000Z', transforms, entries: entries.map(entry), allow: [], ...(extra.noise ? { noise: extra.noise } : {}) } as KeywordLibrary;
}

interface Tool {
  name: string;
  /** Distinct keywords reported in one text. */
  keywords(text: string): Set<string>;
  /** hegui only: every match, for the breakdown by transform. */
  matches?(text: string): KeywordMatch[];
}

function hegui(name: string, compiled: CompiledLibrary): Tool {
  return { name, keywords: (text) => new Set(scanText(compiled, text).map((m) => m.keyword)), matches: (text) => scanText(compiled, text) };
}

const on = { ...defaultNormaliserOptions };
const off = (changes: Partial<NormaliserOptions>): NormaliserOptions => ({ ...on, ...changes });
const tools: Tool[] = [
  hegui('hegui, every transform', compileLibrary(library(on))),
  hegui('hegui, NFKC and width off', compileLibrary(library(off({ nfkc: false, width: false })))),
  hegui('hegui, case folding off', compileLibrary(library(off({ caseFold: false })))),
  hegui('hegui, traditional off', compileLibrary(library(off({ traditional: false })))),
  hegui('hegui, invisible off', compileLibrary(library(off({ invisible: false })))),
  hegui('hegui, noise skipping off', compileLibrary(library(off({ skipNoise: false })))),
  hegui('hegui, repeats off', compileLibrary(library(off({ collapseRepeats: false })))),
  hegui('hegui, look-alikes off', compileLibrary(library(off({ homoglyphs: false })))),
  hegui('hegui, pinyin off', compileLibrary(library(off({ pinyin: false })))),
  hegui('hegui, clause punctuation as noise', compileLibrary(library(on, { noise: ['space', 'punctuation', 'symbol', 'emoji', 'invisible', 'clause'] }))),
  hegui('hegui, two-character entries in word mode', compileLibrary(library(on, { wordsForTwo: true }))),
  hegui('hegui, every transform off', compileLibrary(library({ ...literalNormaliserOptions }))),
];
const mint = new Mint([...keywords]);
tools.push({ name: 'mint-filter 4.0.3', keywords: (text) => new Set(mint.filter(text, { replace: false }).words) });
const fast = new FastScanner([...keywords]);
tools.push({ name: 'fastscan 1.0.6', keywords: (text) => new Set(fast.search(text).map(([, word]) => word)) });

const pinyinKeywords = entries.filter((e) => e.mode === 'pinyin').map((e) => e.keyword);
const evasion: EvasionItem[] = [...evasionSet(keywords, 100).filter((e) => e.transform !== 'pinyin'), ...evasionSet(pinyinKeywords, 100).filter((e) => e.transform === 'pinyin')];
const transforms = [...new Set(evasion.map((e) => e.transform))];

interface Row {
  name: string;
  falseMatches: number;
  /** Line/keyword pairs fastscan does not report (invented by a transform). */
  extra: number;
  recall: Map<string, number>;
  all: number;
}

const literalPairs = new Set<string>();
lines.forEach((line, i) => {
  for (const k of (tools.find((t) => t.name.startsWith('fastscan')) as Tool).keywords(line)) literalPairs.add(`${i}\u0000${k}`);
});

const rows: Row[] = [];
const breakdown = new Map<string, number>();
for (const tool of tools) {
  let falseMatches = 0;
  let extra = 0;
  lines.forEach((line, i) => {
    for (const k of tool.keywords(line)) {
      falseMatches++;
      if (!literalPairs.has(`${i}\u0000${k}`)) extra++;
    }
  });
  if (tool === tools[0] && tool.matches) {
    for (const line of lines) {
      for (const m of tool.matches(line)) {
        const key = (m as { transforms?: string[] }).transforms?.join('+') || 'none';
        breakdown.set(key, (breakdown.get(key) ?? 0) + 1);
      }
    }
  }
  const recall = new Map<string, number>();
  let found = 0;
  for (const t of transforms) {
    const items = evasion.filter((e) => e.transform === t);
    const hits = items.filter((e) => tool.keywords(e.text).has(e.keyword)).length;
    found += hits;
    recall.set(t, hits / items.length);
  }
  rows.push({ name: tool.name, falseMatches, extra, recall, all: found / evasion.length });
  console.log(`${tool.name}: ${falseMatches} false matches (${extra} beyond fastscan), recall ${fmt((found / evasion.length) * 100)}%`);
}

const perMillion = (n: number): string => fmt((n / codePoints) * 1e6);
const out: string[] = [];
out.push(`Benign corpus: ${fmt(codePoints, 0)} characters of chinese-poetry in ${fmt(lines.length, 0)} lines (simplified with OpenCC). Library: ${entries.length.toLocaleString('en-US')} entries (${entries.filter((e) => HAN.test(e.keyword) && e.keyword.length === 2).length.toLocaleString('en-US')} two-character, ${pinyinKeywords.length} marked pinyin, ${entries.filter((e) => !HAN.test(e.keyword)).length} Latin). Evasion set: ${evasion.length} items.`);
out.push('');
out.push('| tool | false matches | per million characters | beyond the literal peers | recall on evasions |');
out.push('|---|---|---|---|---|');
for (const r of rows) out.push(`| ${r.name} | ${r.falseMatches.toLocaleString('en-US')} | ${perMillion(r.falseMatches)} | ${r.extra.toLocaleString('en-US')} (${perMillion(r.extra)} per million) | ${fmt(r.all * 100)}% |`);
out.push('');
out.push(`Recall by evasion (${transforms.map((t) => `${t} ${evasion.filter((e) => e.transform === t).length}`).join(', ')}):`);
out.push('');
out.push(`| tool | ${transforms.join(' | ')} |`);
out.push(`|---|${transforms.map(() => '---').join('|')}|`);
for (const r of rows) out.push(`| ${r.name} | ${transforms.map((t) => `${fmt((r.recall.get(t) ?? 0) * 100, 0)}%`).join(' | ')} |`);
out.push('');
out.push(`Matches of "hegui, every transform" on the benign corpus by the transforms they needed: ${[...breakdown].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n.toLocaleString('en-US')}`).join(', ')}.`);
console.log(`\n${out.join('\n')}`);
