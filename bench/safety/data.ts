/**
 * @module bench/safety/data
 * Deterministic benchmark data: a synthetic keyword library and mixed Chinese/English text,
 * generated from a fixed seed so every run and every machine measures the same input. We do
 * not publish a list of prohibited words; these keywords are random strings shaped like real
 * ones (Chinese words of 2-6 characters drawn from a skewed character distribution, English
 * words of 4-10 letters), which is what the matchers' cost depends on.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { seededRandom as rng } from '../../test/helpers/random.js';


/** 5,000 distinct CJK unified ideographs in a seeded order; earlier ones are drawn more often. */
function hanPool(random: () => number): string[] {
  const all: string[] = [];
  for (let cp = 0x4e00; cp <= 0x9fa5; cp++) all.push(String.fromCodePoint(cp));
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [all[i], all[j]] = [all[j] as string, all[i] as string];
  }
  return all.slice(0, 5000);
}

/** Zipf-like pick: index ~ pool.length * u^2.5 favours the head of the pool. */
function skewed<T>(pool: readonly T[], random: () => number): T {
  return pool[Math.floor(pool.length * random() ** 2.5)] as T;
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

function englishWord(random: () => number, min: number, max: number): string {
  const length = min + Math.floor(random() * (max - min + 1));
  let word = '';
  for (let i = 0; i < length; i++) word += LETTERS[Math.floor(random() * 26)];
  return word;
}

function chineseWord(pool: readonly string[], random: () => number, min: number, max: number): string {
  const length = min + Math.floor(random() * (max - min + 1));
  let word = '';
  for (let i = 0; i < length; i++) word += skewed(pool, random);
  return word;
}

/** The number given as `--NAME N` on the benchmark's command line, or `fallback`. */
export function numberOption(name: string, fallback: number): number {
  const args = process.argv.slice(2);
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
}

/** `count` distinct keywords, 80% Chinese and 20% English. */
export function syntheticKeywords(count: number, seed = 20251101): string[] {
  const random = rng(seed);
  const pool = hanPool(rng(7));
  const words = new Set<string>();
  while (words.size < count) words.add(random() < 0.8 ? chineseWord(pool, random, 2, 6) : englishWord(random, 4, 10));
  return [...words];
}

/**
 * About `bytes` UTF-8 bytes of text: Chinese sentences with English words mixed in, Chinese
 * and ASCII punctuation, line breaks every few sentences, and one of `keywords` planted about
 * every 2,000 characters.
 */
export function syntheticText(bytes: number, keywords: readonly string[], seed = 45654): string {
  const random = rng(seed);
  const pool = hanPool(rng(7));
  const parts: string[] = [];
  let size = 0;
  while (size < bytes) {
    let sentence = '';
    const clauses = 1 + Math.floor(random() * 3);
    for (let c = 0; c < clauses; c++) {
      sentence += chineseWord(pool, random, 6, 20);
      if (random() < 0.4) sentence += ` ${englishWord(random, 2, 9)} ${englishWord(random, 2, 9)} `;
      if (random() < 0.05) sentence += keywords[Math.floor(random() * keywords.length)];
      sentence += random() < 0.5 ? '，' : ', ';
    }
    sentence += random() < 0.2 ? '。\n' : '。';
    parts.push(sentence);
    size += Buffer.byteLength(sentence);
  }
  return parts.join('');
}

/** Reads the cached file or generates and caches it under `.bench-data/`. */
export async function cached(root: string, name: string, make: () => string): Promise<string> {
  const dir = join(root, '.bench-data');
  const file = join(dir, name);
  try {
    return await readFile(file, 'utf8');
  } catch {
    const content = make();
    await mkdir(dir, { recursive: true });
    await writeFile(file, content);
    return content;
  }
}
