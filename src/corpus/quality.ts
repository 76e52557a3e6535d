/**
 * @module corpus/quality
 * Duplicates in a corpus: exact ones (the same text after trimming and collapsing white
 * space, by SHA-1) and near ones by MinHash with locality-sensitive hashing. Each text is cut
 * into character 5-grams (Chinese has no spaces, so characters, not words); 64 seeded hashes
 * give its signature; 16 bands of 4 rows put similar signatures in a shared bucket; candidate
 * pairs are kept when their signatures agree on at least `threshold` of the 64 hashes (the
 * estimate of their Jaccard similarity). Memory grows with the items kept (`maxItems` bounds it).
 */
import { createHash } from 'node:crypto';
import { hashString } from './random.js';

export const MINHASH_SIZE = 64;
const BANDS = 16;
const ROWS = MINHASH_SIZE / BANDS;
const SHINGLE = 5;

const SEEDS = Array.from({ length: MINHASH_SIZE }, (_, i) => hashString(`minhash-${i}`));

function mix(h: number, seed: number): number {
  let x = (h ^ seed) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

export function normaliseForDuplicates(text: string): string {
  return text.trim().replace(/\s+/g, ' ').toLowerCase();
}

/** The MinHash signature of a text. */
export function minhash(text: string): Uint32Array {
  const signature = new Uint32Array(MINHASH_SIZE).fill(0xffffffff);
  const chars = Array.from(normaliseForDuplicates(text));
  const count = Math.max(1, chars.length - SHINGLE + 1);
  const seen = new Set<number>();
  for (let i = 0; i < count; i += 1) {
    const h = hashString(chars.slice(i, i + SHINGLE).join(''));
    if (seen.has(h)) continue;
    seen.add(h);
    for (let k = 0; k < MINHASH_SIZE; k += 1) {
      const v = mix(h, SEEDS[k]!);
      if (v < signature[k]!) signature[k] = v;
    }
  }
  return signature;
}

export function similarity(a: Uint32Array, b: Uint32Array): number {
  let same = 0;
  for (let k = 0; k < MINHASH_SIZE; k += 1) if (a[k] === b[k]) same += 1;
  return same / MINHASH_SIZE;
}

export interface DuplicateReport {
  items: number;
  /** Items whose text (normalised) appeared before. */
  exactDuplicates: number;
  /** Items near an earlier item (estimated Jaccard >= threshold) without being an exact copy of one. */
  nearDuplicates: number;
  threshold: number;
  /** Items not looked at because `maxItems` was reached. */
  notChecked: number;
  /** Some groups of near or exact duplicates, by item id. */
  examples: string[][];
}

/** Exact and near duplicates among `items`, in one pass; the first of a group is the original. */
export async function findDuplicates(items: AsyncIterable<{ id: string; text: string }> | Iterable<{ id: string; text: string }>, options: { threshold?: number; maxItems?: number; examples?: number } = {}): Promise<DuplicateReport> {
  const threshold = options.threshold ?? 0.8;
  const maxItems = options.maxItems ?? 200_000;
  const exact = new Map<string, string>();
  const buckets = new Map<string, number[]>();
  const signatures: Uint32Array[] = [];
  const ids: string[] = [];
  const groups = new Map<string, string[]>();
  const report: DuplicateReport = { items: 0, exactDuplicates: 0, nearDuplicates: 0, threshold, notChecked: 0, examples: [] };
  for await (const item of items as AsyncIterable<{ id: string; text: string }>) {
    if (report.items >= maxItems) {
      report.notChecked += 1;
      continue;
    }
    report.items += 1;
    const digest = createHash('sha1').update(normaliseForDuplicates(item.text)).digest('base64');
    const original = exact.get(digest);
    if (original !== undefined) {
      report.exactDuplicates += 1;
      groups.set(original, [...(groups.get(original) ?? [original]), item.id]);
      continue;
    }
    exact.set(digest, item.id);
    const signature = minhash(item.text);
    const index = signatures.length;
    let near: number | undefined;
    const keys: string[] = [];
    for (let band = 0; band < BANDS; band += 1) {
      const key = `${band}:${Array.from(signature.subarray(band * ROWS, band * ROWS + ROWS)).join(',')}`;
      keys.push(key);
      if (near !== undefined) continue;
      for (const other of buckets.get(key) ?? []) {
        if (similarity(signature, signatures[other]!) >= threshold) {
          near = other;
          break;
        }
      }
    }
    if (near !== undefined) {
      report.nearDuplicates += 1;
      const first = ids[near]!;
      groups.set(first, [...(groups.get(first) ?? [first]), item.id]);
    }
    signatures.push(signature);
    ids.push(item.id);
    for (const key of keys) buckets.set(key, [...(buckets.get(key) ?? []), index]);
  }
  report.examples = [...groups.values()].slice(0, options.examples ?? 20);
  return report;
}
