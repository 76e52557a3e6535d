/**
 * @module corpus/run
 * A scan on one machine: the files cut into shards, the shards run on a pool of worker
 * threads (piscina; one per core by default) or inline (`workers: 0`), the results merged.
 * With `clean`, a full pass writes a cleaned copy of the corpus and a manifest of what it left
 * out and why into a temporary folder beside the target, renamed into place only when every
 * shard has finished: the target is either absent or whole, never half written.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { CorpusInputError } from './errors.js';
import type { PoolTask } from './pool-worker.js';
import type { CorpusFile, CorpusFormat, Shard } from './read.js';
import { expandPaths, planShards } from './read.js';
import type { FlaggedItem, ScanReport, ScanSettings, ShardResult } from './scan.js';
import { mergeResults } from './scan.js';

/** Shard size: large enough that a shard's fixed costs vanish, small enough to spread over cores. */
export const DEFAULT_SHARD_BYTES = 64 * 1024 * 1024;
/** Full pass on one machine: flagged items kept for review across the whole scan (all are counted). */
export const DEFAULT_MAX_FLAGGED_KEPT = 10_000;

export interface Progress {
  shardsDone: number;
  shards: number;
  items: number;
  bytes: number;
  totalBytes: number;
  elapsedMs: number;
}

export interface LocalScanOptions {
  paths: readonly string[];
  settings: ScanSettings;
  library: string | undefined;
  pii: boolean;
  /** Threads; 0 runs inline in this thread. Default: one per core. */
  workers?: number;
  shardBytes?: number;
  format?: CorpusFormat;
  /** Full mode: write the cleaned copy to this folder (which must not exist). */
  cleanOut?: string;
  /**
   * Full mode: flagged items kept for review over the whole scan, the first in shard order
   * (each shard keeps its first `settings.keepFlagged`); default DEFAULT_MAX_FLAGGED_KEPT. The
   * main thread drops the rest as shards finish, so its memory does not grow with the corpus.
   */
  maxFlagged?: number;
  onProgress?: (progress: Progress) => void;
}

export interface LocalScanResult {
  report: ScanReport;
  flagged: FlaggedItem[];
  files: CorpusFile[];
  shards: Shard[];
  /** The cleaned copy's folder, when one was written. */
  cleanOut?: string;
}

/** Where the pool thread's module is: the built JavaScript, or the TypeScript source run through tsx. */
function workerModule(): string {
  const here = fileURLToPath(import.meta.url);
  // Node 20 does not hand `--import tsx` on to worker threads: from the source, a small
  // JavaScript module registers tsx in the thread and loads the TypeScript task.
  return join(dirname(here), here.endsWith('.ts') ? 'pool-worker-source.mjs' : 'pool-worker.js');
}

/** The output name of each file in a cleaned copy: its path under the inputs' common folder, compression dropped, CSV and Parquet as JSONL. */
export function cleanNames(files: readonly CorpusFile[], paths: readonly string[]): Map<string, string> {
  const roots = paths.map((p) => resolve(p));
  const names = new Map<string, string>();
  for (const file of files) {
    const absolute = resolve(file.path);
    const root = roots.find((r) => absolute === r || absolute.startsWith(`${r}/`));
    let name = root === undefined || root === absolute ? basename(absolute) : relative(root, absolute);
    if (roots.length > 1 && root !== undefined && root !== absolute) name = join(basename(root), name);
    name = name.replace(/\.(gz|zst|zstd)$/i, '');
    if (file.format === 'csv' || file.format === 'parquet') name = `${name}.jsonl`;
    names.set(file.path, name);
  }
  return names;
}

export async function runLocalScan(options: LocalScanOptions): Promise<LocalScanResult> {
  const { settings } = options;
  const { files, skipped } = await expandPaths(options.paths, options.format);
  if (files.length === 0) throw new CorpusInputError('E_CORPUS_EMPTY', `no corpus files under ${options.paths.join(', ')}${skipped.length ? ` (skipped: ${skipped.slice(0, 5).map((s) => `${s.path}: ${s.reason}`).join('; ')})` : ''}`);
  const shards = await planShards(files, { shardBytes: options.shardBytes ?? DEFAULT_SHARD_BYTES, textUnit: settings.read.textUnit });
  if (options.cleanOut !== undefined) {
    if (settings.mode !== 'full' || settings.clean === undefined) throw new CorpusInputError('E_CORPUS_CLEAN', 'a cleaned copy needs a full pass (--full)');
    if (existsSync(options.cleanOut)) throw new CorpusInputError('E_CORPUS_CLEAN', `${options.cleanOut} exists; name a new folder for the cleaned copy`);
  }
  const tmp = options.cleanOut === undefined ? undefined : `${options.cleanOut.replace(/\/+$/, '')}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const started = Date.now();
  const totalBytes = files.reduce((a, f) => a + f.size, 0);
  const live = new Map<number, { items: number; bytes: number }>();
  let doneItems = 0;
  let doneBytes = 0;
  let shardsDone = 0;
  const report = (): void =>
    options.onProgress?.({
      shardsDone,
      shards: shards.length,
      items: doneItems + [...live.values()].reduce((a, p) => a + p.items, 0),
      bytes: doneBytes + [...live.values()].reduce((a, p) => a + p.bytes, 0),
      totalBytes,
      elapsedMs: Date.now() - started,
    });
  const results: ShardResult[] = new Array(shards.length);
  const workers = options.workers ?? availableParallelism();
  try {
    if (tmp !== undefined) await mkdir(join(tmp, '.parts'), { recursive: true });
    const maxFlagged = options.maxFlagged ?? DEFAULT_MAX_FLAGGED_KEPT;
    /**
     * A full pass keeps the first `maxFlagged` flagged items in shard order: a shard can add at
     * most what the finished shards before it leave room for (those still running can only take
     * more of it), so once the first shards fill it the rest send none back to this thread.
     */
    let prefixSeq = 0; // shards [0, prefixSeq) are all finished, and kept prefixSum items between them
    let prefixSum = 0;
    const keepFor = (seq: number): ScanSettings => {
      if (settings.mode !== 'full') return settings;
      // What a shard kept when it finished is at most what it flagged, so `before` never
      // overstates the flagged items ahead of `seq`, whatever trimming happened since.
      for (let done = results[prefixSeq]; prefixSeq < seq && done !== undefined; done = results[prefixSeq]) {
        prefixSum += done.flagged.length;
        prefixSeq += 1;
      }
      let before = prefixSum;
      for (let i = prefixSeq; i < seq; i += 1) before += results[i]?.flagged.length ?? 0;
      return { ...settings, keepFlagged: Math.min(settings.keepFlagged, Math.max(0, maxFlagged - before)) };
    };
    const task = (seq: number): PoolTask => ({
      shard: shards[seq]!,
      settings: keepFor(seq),
      library: options.library,
      pii: options.pii,
      ...(tmp === undefined ? {} : { cleanPart: join(tmp, '.parts', `${seq}.part`), removedPart: join(tmp, '.parts', `${seq}.removed`) }),
    });
    const finished = (seq: number, result: ShardResult): void => {
      live.delete(seq);
      results[seq] = result;
      if (settings.mode === 'full') keepFirstFlagged(results, maxFlagged);
      shardsDone += 1;
      doneItems += result.tally.items;
      doneBytes += result.tally.bytes;
      report();
    };
    if (workers === 0) {
      const { scanShard } = await import('./scan.js');
      const { inspectorFor } = await import('./pool-worker.js');
      const inspector = await inspectorFor(options.library, options.pii);
      for (let seq = 0; seq < shards.length; seq += 1) {
        const t = task(seq);
        const result = await scanShard(t.shard, settings, inspector, {
          progress: (items, bytes) => {
            live.set(seq, { items, bytes });
            report();
          },
          ...(t.cleanPart === undefined ? {} : { cleanPart: t.cleanPart, removedPart: t.removedPart! }),
        });
        finished(seq, result);
      }
    } else {
      const { Piscina } = await import('piscina');
      const pool = new Piscina({ filename: workerModule(), minThreads: Math.min(workers, shards.length), maxThreads: workers, idleTimeout: 1000 });
      try {
        // Shards go out in order, two per thread at a time (no thread waits for work), so each
        // task is made when it is sent, knowing what the shards before it have kept.
        let next = 0;
        let failed = false;
        const lane = async (): Promise<void> => {
          while (!failed && next < shards.length) {
            const seq = next;
            next += 1;
            const channel = new MessageChannel();
            channel.port1.on('message', (p: { items: number; bytes: number }) => {
              live.set(seq, p);
              report();
            });
            try {
              const result = (await pool.run({ ...task(seq), port: channel.port2 }, { transferList: [channel.port2] })) as ShardResult;
              finished(seq, result);
            } catch (error) {
              failed = true;
              throw error;
            } finally {
              channel.port1.close();
            }
          }
        };
        await Promise.all(Array.from({ length: Math.min(shards.length, workers * 2) }, lane));
      } finally {
        await pool.destroy();
      }
    }
    const merged = mergeResults(results, settings, skipped);
    if (tmp !== undefined && options.cleanOut !== undefined) {
      await assembleCleanCopy(tmp, files, shards, cleanNames(files, options.paths), merged.report, options.paths, settings);
      await rename(tmp, options.cleanOut);
      return { ...merged, files, shards, cleanOut: options.cleanOut };
    }
    return { ...merged, files, shards };
  } catch (error) {
    if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Trims the flagged items of the finished shards so that, whatever the shards still running
 * bring, the first `max` in shard order are kept and little more: the items of the shards
 * finished before a shard are at most those before it in the end, so what lies past `max` of
 * them can go now.
 */
export function keepFirstFlagged(results: (ShardResult | undefined)[], max: number): void {
  let before = 0;
  for (const result of results) {
    if (result === undefined) continue;
    const room = Math.max(0, max - before);
    if (result.flagged.length > room) result.flagged = result.flagged.slice(0, room);
    before += result.flagged.length;
  }
}

async function appendFile(from: string, to: string): Promise<void> {
  if (!existsSync(from)) return;
  await pipeline(createReadStream(from), createWriteStream(to, { flags: 'a' }));
}

/** Joins the shards' parts in order into one output per input file, and writes the manifest and the list of what was removed. */
async function assembleCleanCopy(tmp: string, files: readonly CorpusFile[], shards: readonly Shard[], names: Map<string, string>, report: ScanReport, paths: readonly string[], settings: ScanSettings): Promise<void> {
  const removed = join(tmp, 'removed.jsonl');
  await writeFile(removed, '');
  for (const file of files) {
    const out = join(tmp, names.get(file.path)!);
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, '', { flag: 'wx' });
    for (let seq = 0; seq < shards.length; seq += 1) {
      if (shards[seq]!.file !== file.path) continue;
      await appendFile(join(tmp, '.parts', `${seq}.part`), out);
      await appendFile(join(tmp, '.parts', `${seq}.removed`), removed);
    }
  }
  await rm(join(tmp, '.parts'), { recursive: true, force: true });
  const manifest = {
    format: 'hegui-corpus-clean/1',
    createdAt: new Date().toISOString(),
    inputs: paths,
    files: files.map((f) => ({ input: f.path, output: names.get(f.path), format: f.format })),
    counts: report.cleaned,
    harmful: { flagged: report.flagged, of: report.sampled },
    problems: report.files.filter((t) => Object.keys(t.problems).length > 0).map((t) => ({ file: t.file, problems: t.problems })),
    removedList: 'removed.jsonl',
    pii: settings.clean?.pii,
    rule: 'items where the keyword library found a risk are removed; personal data in kept items is masked (pii: mask), kept (keep) or the item removed (remove)',
  };
  await writeFile(join(tmp, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}
