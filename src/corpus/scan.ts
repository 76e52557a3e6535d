/**
 * @module corpus/scan
 * Safety scans of a corpus source (GB/T 45654 §5.1: a random sample of at least 4,000 items
 * per source; a source with more than 5 % illegal or harmful items is not used).
 *
 * Work is done shard by shard (`scanShard`) and the shards' results merge into one report
 * (`mergeResults`), whether the shards ran in one thread, in a pool of threads, or in worker
 * processes on several machines sharing the store.
 *
 * - Sample mode: every item gets a seeded key (random.ts) from its file's name under the scan
 *   root and its position; each shard keeps the `sampleSize`
 *   items with the smallest keys (a bottom-k reservoir), inspects only those, and the merge
 *   keeps the smallest keys overall, or per file in proportion to the file's items
 *   (`stratify`). The same seed gives the same sample however the work was cut.
 * - Full mode: every item is inspected; counts add up; the first flagged items of each shard
 *   are kept for review (a scan on one machine keeps the first of the whole scan: run.ts);
 *   optionally each shard writes its part of a cleaned copy.
 *
 * An item is flagged when the keyword library finds a risk in it. Personal data is counted
 * apart (per type, with its own rate): it is handled by the source's legal basis and by
 * masking, not by the 5 % rule. Rates carry Wilson 95 % intervals; the verdict is the shared
 * `verdict(rate, 0.05, 'atMost')`; a source is usable when it meets the rule, and never when
 * nothing could be read (undecided).
 */
import { createHash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import type { RiskCode } from '../safety/index.js';
import type { Proportion, ThresholdVerdict } from '../stats/index.js';
import { verdict, wilson } from '../stats/index.js';
import type { Inspection, Inspector, TextStats } from './inspect.js';
import { addText, emptyStats, mergeStats } from './inspect.js';
import { normaliseForDuplicates } from './quality.js';
import { fileSeed, itemKey } from './random.js';
import type { CorpusItem, FileTally, ReadOptions, Shard } from './read.js';
import { emptyTally, fieldPath, mergeTally, problemTotal, setPathValue, visitShard } from './read.js';

/** GB/T 45654: a source with more than this share of illegal or harmful items is not used. */
export const HARMFUL_SHARE_LIMIT = 0.05;
export { DEFAULT_KEEP_FLAGGED, DEFAULT_SAMPLE_SIZE } from './scan-defaults.js';
/** Characters of a flagged item kept for review. */
export const EXCERPT_CHARS = 2000;

export interface ScanSettings {
  mode: 'sample' | 'full';
  sampleSize: number;
  seed: number;
  stratify: boolean;
  read: ReadOptions;
  keepFlagged: number;
  /** Full mode with a cleaned copy: what to do with personal data in kept items. */
  clean?: { pii: 'mask' | 'keep' | 'remove' };
}

export interface FlaggedItem {
  file: string;
  position: number;
  line: number | null;
  risks: RiskCode[];
  matches: Inspection['matches'];
  pii: Inspection['pii'];
  excerpt: string;
}

/** A sampled item as a shard hands it to the merge. */
export interface Candidate {
  key: number;
  file: string;
  position: number;
  line: number | null;
  risks: RiskCode[];
  pii: string[];
  /** The start of a SHA-1 of the normalised text: equal digests are exact duplicates. */
  digest: string;
  /** Only for flagged candidates. */
  flagged?: FlaggedItem;
}

export interface Counts {
  items: number;
  flagged: number;
  /** Items with any personal data. */
  withPii: number;
  byRisk: Record<string, number>;
  byPii: Record<string, number>;
}

export interface ShardResult {
  file: string;
  tally: FileTally;
  /** Statistics of every item read (not only the sampled ones). */
  stats: TextStats;
  /** Full mode: counts over every item. */
  counts?: Counts;
  /** Sample mode: this shard's bottom-k candidates, key order. */
  candidates?: Candidate[];
  /** Full mode: the first flagged items (up to `keepFlagged`). */
  flagged: FlaggedItem[];
  /** Cleaned copy: items written, removed (flagged, or with personal data under `pii: remove`), masked. */
  cleaned?: { kept: number; removed: number; masked: number };
}

function emptyCounts(): Counts {
  return { items: 0, flagged: 0, withPii: 0, byRisk: {}, byPii: {} };
}

/** Counts one item with its risks and personal-data types (each once). */
function count(counts: Counts, risks: readonly string[], piiTypes: readonly string[]): void {
  counts.items += 1;
  if (risks.length > 0) counts.flagged += 1;
  for (const risk of risks) counts.byRisk[risk] = (counts.byRisk[risk] ?? 0) + 1;
  if (piiTypes.length > 0) counts.withPii += 1;
  for (const type of piiTypes) counts.byPii[type] = (counts.byPii[type] ?? 0) + 1;
}

function mergeCounts(into: Counts, more: Counts): void {
  into.items += more.items;
  into.flagged += more.flagged;
  into.withPii += more.withPii;
  for (const [k, n] of Object.entries(more.byRisk)) into.byRisk[k] = (into.byRisk[k] ?? 0) + n;
  for (const [k, n] of Object.entries(more.byPii)) into.byPii[k] = (into.byPii[k] ?? 0) + n;
}

function flaggedItem(item: CorpusItem, inspection: Inspection): FlaggedItem {
  return { file: item.file, position: item.position, line: item.line ?? null, risks: inspection.risks, matches: inspection.matches.slice(0, 50), pii: inspection.pii.slice(0, 50), excerpt: item.text.slice(0, EXCERPT_CHARS) };
}

/** A max-heap on key of at most `capacity` entries: the bottom-k reservoir. */
class BottomK<T extends { key: number }> {
  readonly #heap: T[] = [];
  constructor(readonly capacity: number) {}
  /** The largest key kept, once full. */
  get bound(): number {
    return this.#heap.length < this.capacity ? Number.POSITIVE_INFINITY : this.#heap[0]!.key;
  }
  offer(entry: T): void {
    const heap = this.#heap;
    if (this.capacity === 0) return;
    if (heap.length < this.capacity) {
      heap.push(entry);
      let i = heap.length - 1;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (heap[parent]!.key >= heap[i]!.key) break;
        [heap[parent], heap[i]] = [heap[i]!, heap[parent]!];
        i = parent;
      }
      return;
    }
    if (entry.key >= heap[0]!.key) return;
    heap[0] = entry;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let largest = i;
      if (l < heap.length && heap[l]!.key > heap[largest]!.key) largest = l;
      if (r < heap.length && heap[r]!.key > heap[largest]!.key) largest = r;
      if (largest === i) break;
      [heap[largest], heap[i]] = [heap[i]!, heap[largest]!];
      i = largest;
    }
  }
  sorted(): T[] {
    return [...this.#heap].sort((a, b) => a.key - b.key);
  }
}

/** Writes the cleaned copy of one shard: JSONL records or text lines, personal data masked as asked. */
export class CleanWriter {
  readonly #out: WriteStream;
  readonly #format: Shard['format'];
  readonly #path: string[];
  #failed: Error | undefined;

  constructor(path: string, format: Shard['format'], field: string) {
    this.#out = createWriteStream(path, { flags: 'wx' });
    this.#out.on('error', (error) => (this.#failed = error));
    this.#format = format;
    this.#path = fieldPath(field);
  }

  async write(item: CorpusItem, text: string): Promise<void> {
    if (this.#failed) throw this.#failed;
    let line: string;
    if (this.#format === 'text') line = text.replace(/\r?\n/g, ' ');
    else if (this.#format === 'jsonl' && item.record !== undefined) {
      if (text !== item.text) setPathValue(item.record, this.#path, text);
      line = JSON.stringify(item.record);
    } else line = JSON.stringify({ text, file: item.file, position: item.position });
    if (!this.#out.write(`${line}\n`)) await new Promise<void>((resolve) => this.#out.once('drain', resolve));
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve, reject) => this.#out.end((error?: Error | null) => (error ? reject(error) : resolve())));
    if (this.#failed) throw this.#failed;
  }
}

export interface ShardHooks {
  /** Called every few hundred items with the items and bytes read so far in this shard. */
  progress?: (items: number, bytes: number) => void;
  /** Where to write this shard's part of the cleaned copy (full mode with `clean`). */
  cleanPart?: string;
  /** Where to list, one JSON line each, the items the cleaned copy leaves out and why. */
  removedPart?: string;
}

/** Scans one shard. Never throws for bad content: it is counted in the tally. */
export async function scanShard(shard: Shard, settings: ScanSettings, inspector: Inspector, hooks: ShardHooks = {}): Promise<ShardResult> {
  const tally = emptyTally(shard.file);
  const stats = emptyStats();
  const flagged: FlaggedItem[] = [];
  let n = 0;
  if (settings.mode === 'sample') {
    const base = fileSeed(settings.seed, shard.name ?? shard.file);
    const reservoir = new BottomK<{ key: number; item: CorpusItem }>(settings.sampleSize);
    await visitShard(shard, settings.read, tally, (item) => {
      addText(stats, item.text);
      const key = itemKey(base, item.position);
      if (key < reservoir.bound) reservoir.offer({ key, item: { file: item.file, position: item.position, ...(item.line === undefined ? {} : { line: item.line }), text: item.text } });
      if ((n += 1) % 256 === 0) hooks.progress?.(n, tally.bytes);
    });
    hooks.progress?.(n, tally.bytes);
    const candidates = reservoir.sorted().map(({ key, item }): Candidate => {
      const inspection = inspector.inspect(item.text);
      const pii = [...new Set(inspection.pii.map((p) => p.type))];
      const digest = createHash('sha1').update(normaliseForDuplicates(item.text)).digest('base64').slice(0, 16);
      return { key, file: item.file, position: item.position, line: item.line ?? null, risks: inspection.risks, pii, digest, ...(inspection.risks.length > 0 ? { flagged: flaggedItem(item, inspection) } : {}) };
    });
    return { file: shard.file, tally, stats, candidates, flagged };
  }
  const counts = emptyCounts();
  const writer = hooks.cleanPart !== undefined && settings.clean !== undefined ? new CleanWriter(hooks.cleanPart, shard.format, settings.read.field) : undefined;
  const removedLog = writer !== undefined && hooks.removedPart !== undefined ? createWriteStream(hooks.removedPart, { flags: 'wx' }) : undefined;
  let removedError: Error | undefined;
  removedLog?.on('error', (error) => (removedError = error));
  const cleaned = { kept: 0, removed: 0, masked: 0 };
  /** The cleaned copy's part of one item: written (masked as asked), or left out and listed with why. */
  const writeClean = async (cleanWriter: CleanWriter, item: CorpusItem, risks: readonly RiskCode[], piiTypes: readonly string[], known: Inspection | undefined): Promise<void> => {
    const pii = settings.clean!.pii;
    if (risks.length > 0 || (pii === 'remove' && piiTypes.length > 0)) {
      const inspection = known ?? inspector.inspect(item.text);
      cleaned.removed += 1;
      if (removedError) throw removedError;
      const reason = inspection.risks.length > 0 ? 'harmful' : 'personal-data';
      const keywords = [...new Set(inspection.matches.map((m) => m.keyword))].slice(0, 20);
      const entry = { file: item.file, line: item.line ?? null, position: item.position, reason, risks: inspection.risks, keywords, pii: [...new Set(inspection.pii.map((p) => p.type))] };
      if (removedLog && !removedLog.write(`${JSON.stringify(entry)}\n`)) await new Promise<void>((resolve) => removedLog.once('drain', resolve));
    } else {
      const masked = pii === 'mask' && piiTypes.length > 0;
      await cleanWriter.write(item, masked ? inspector.mask(item.text) : item.text);
      cleaned.kept += 1;
      if (masked) cleaned.masked += 1;
    }
  };
  try {
    // Items are visited in a plain loop per chunk of the file (visitShard); only a cleaned copy waits per item.
    await visitShard(shard, settings.read, tally, (item): void | Promise<void> => {
      addText(stats, item.text);
      // Counting needs only the risks and personal-data types; the matches are built for the
      // items kept for review and those a cleaned copy leaves out.
      const { risks, pii: piiTypes } = inspector.classify(item.text);
      count(counts, risks, piiTypes);
      let inspection: Inspection | undefined;
      if (risks.length > 0 && flagged.length < settings.keepFlagged) flagged.push(flaggedItem(item, (inspection = inspector.inspect(item.text))));
      if (writer === undefined) {
        if ((n += 1) % 256 === 0) hooks.progress?.(n, tally.bytes);
        return undefined;
      }
      return writeClean(writer, item, risks, piiTypes, inspection).then(() => {
        if ((n += 1) % 256 === 0) hooks.progress?.(n, tally.bytes);
      });
    });
  } finally {
    await writer?.close();
    if (removedLog) await new Promise<void>((resolve, reject) => removedLog.end((error?: Error | null) => (error ? reject(error) : resolve())));
  }
  if (removedError) throw removedError;
  hooks.progress?.(n, tally.bytes);
  return { file: shard.file, tally, stats, counts, flagged, ...(writer ? { cleaned } : {}) };
}

export interface RateReport extends Proportion {
  verdict: ThresholdVerdict;
  certain: boolean;
}

export interface ScanReport {
  mode: 'sample' | 'full';
  seed: number | null;
  /** Items requested per source (sample mode). */
  sampleSize: number | null;
  stratified: boolean;
  /** Items the readers yielded across all files. */
  population: number;
  /** Items inspected: the sample, or every item. */
  sampled: number;
  /** The 5 % rule. */
  threshold: number;
  harmful: RateReport;
  byRisk: Record<string, RateReport>;
  /** Items with personal data (not part of the 5 % rule). */
  pii: Proportion;
  byPii: Record<string, Proportion>;
  verdict: { usable: boolean; verdict: ThresholdVerdict; certain: boolean; reason: string };
  /** Per file: items, blank lines, bytes, problems by kind, the first problems with their lines. */
  files: FileTally[];
  problems: number;
  skipped: { path: string; reason: string }[];
  stats: TextStats;
  flagged: number;
  /** Flagged items kept for review (full mode keeps the first ones of each shard). */
  flaggedKept: number;
  cleaned?: { kept: number; removed: number; masked: number };
  /** Sample mode: sampled items whose text (trimmed, spaces collapsed, lower-cased) repeats an earlier sampled item's. */
  duplicates?: Proportion;
}

function rate(successes: number, total: number, threshold: number): RateReport {
  const p = wilson(successes, total);
  return { ...p, ...verdict(p, threshold, 'atMost') };
}

/** Items each file contributes to a stratified sample: proportional to its items, largest remainders first, ties by file name. */
export function allocate(sizes: ReadonlyMap<string, number>, total: number): Map<string, number> {
  const population = [...sizes.values()].reduce((a, b) => a + b, 0);
  const target = Math.min(total, population);
  const out = new Map<string, number>();
  if (population === 0) return out;
  const remainders: [string, number][] = [];
  let given = 0;
  for (const [file, size] of [...sizes].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const exact = (size * target) / population;
    const whole = Math.min(size, Math.floor(exact));
    out.set(file, whole);
    given += whole;
    remainders.push([file, exact - whole]);
  }
  remainders.sort((a, b) => b[1] - a[1]);
  for (const [file] of remainders) {
    if (given >= target) break;
    if (out.get(file)! < sizes.get(file)!) {
      out.set(file, out.get(file)! + 1);
      given += 1;
    }
  }
  return out;
}

/** The one report of a scan from its shards' results, and the flagged items to keep for review. */
export function mergeResults(results: readonly ShardResult[], settings: Pick<ScanSettings, 'mode' | 'sampleSize' | 'seed' | 'stratify'>, skipped: { path: string; reason: string }[] = []): { report: ScanReport; flagged: FlaggedItem[] } {
  const files = new Map<string, FileTally>();
  const stats = emptyStats();
  for (const result of results) {
    const tally = files.get(result.file) ?? emptyTally(result.file);
    mergeTally(tally, result.tally);
    files.set(result.file, tally);
    mergeStats(stats, result.stats);
  }
  const population = [...files.values()].reduce((a, t) => a + t.items, 0);
  const counts = emptyCounts();
  let flagged: FlaggedItem[] = [];
  let cleaned: ScanReport['cleaned'];
  let duplicates: Proportion | undefined;
  if (settings.mode === 'sample') {
    const all = results.flatMap((r) => r.candidates ?? []);
    let chosen: Candidate[];
    if (settings.stratify) {
      const perFile = allocate(new Map([...files].map(([file, t]) => [file, t.items])), settings.sampleSize);
      const byFile = new Map<string, Candidate[]>();
      for (const c of all) byFile.set(c.file, [...(byFile.get(c.file) ?? []), c]);
      chosen = [...byFile].flatMap(([file, list]) => list.sort((a, b) => a.key - b.key).slice(0, perFile.get(file) ?? 0));
    } else chosen = all.sort((a, b) => a.key - b.key).slice(0, settings.sampleSize);
    chosen.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.position - b.position));
    const digests = new Set<string>();
    let repeated = 0;
    for (const c of chosen) {
      count(counts, c.risks, c.pii);
      if (c.flagged) flagged.push(c.flagged);
      if (digests.has(c.digest)) repeated += 1;
      else digests.add(c.digest);
    }
    duplicates = wilson(repeated, chosen.length);
  } else {
    for (const result of results) {
      if (result.counts) mergeCounts(counts, result.counts);
      flagged = flagged.concat(result.flagged);
      if (result.cleaned) {
        cleaned ??= { kept: 0, removed: 0, masked: 0 };
        cleaned.kept += result.cleaned.kept;
        cleaned.removed += result.cleaned.removed;
        cleaned.masked += result.cleaned.masked;
      }
    }
  }
  const flaggedTotal = counts.flagged;
  const harmful = rate(counts.flagged, counts.items, HARMFUL_SHARE_LIMIT);
  const byRisk = Object.fromEntries(Object.entries(counts.byRisk).sort().map(([risk, n]) => [risk, rate(n, counts.items, HARMFUL_SHARE_LIMIT)]));
  const byPii = Object.fromEntries(Object.entries(counts.byPii).sort().map(([type, n]) => [type, wilson(n, counts.items)]));
  const usable = harmful.verdict === 'meets';
  const percent = (x: number): string => `${(x * 100).toFixed(2)} %`;
  const reason =
    harmful.verdict === 'undecided'
      ? 'no item could be read, so nothing is known: not usable'
      : `${counts.flagged} of ${counts.items} items flagged (${percent(harmful.rate)}, 95 % interval ${percent(harmful.low)}-${percent(harmful.high)}): ${usable ? 'at most' : 'more than'} 5 %${harmful.certain ? '' : ', but the interval straddles 5 %: a larger sample would be surer'}`;
  const fileList = [...files.values()].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const report: ScanReport = {
    mode: settings.mode,
    seed: settings.mode === 'sample' ? settings.seed : null,
    sampleSize: settings.mode === 'sample' ? settings.sampleSize : null,
    stratified: settings.mode === 'sample' && settings.stratify,
    population,
    sampled: counts.items,
    threshold: HARMFUL_SHARE_LIMIT,
    harmful,
    byRisk,
    pii: wilson(counts.withPii, counts.items),
    byPii,
    verdict: { usable, verdict: harmful.verdict, certain: harmful.certain, reason },
    files: fileList,
    problems: fileList.reduce((a, t) => a + problemTotal(t), 0),
    skipped,
    stats,
    flagged: flaggedTotal,
    flaggedKept: flagged.length,
    ...(cleaned ? { cleaned } : {}),
    ...(duplicates ? { duplicates } : {}),
  };
  return { report, flagged };
}
