/**
 * @module corpus/queue
 * Scans shared by several machines through the store (PostgreSQL; SQLite works for processes
 * of one machine). `createQueuedScan` cuts the corpus into shards (byte ranges, Parquet row
 * groups, whole files) and stores them as pending rows of the lease table; any number of
 * `runWorker` loops (`hegui corpus worker`) claim a shard with a lease, renew the lease while
 * they work, and complete the shard in one transaction with its result, only if they still
 * hold the lease. A worker that dies mid-shard stops renewing; once its lease has expired
 * another worker takes the shard over and the dead worker can never complete it, so every
 * item is counted exactly once. The worker that completes the last shard merges the results
 * into the scan's report (`finishScan` is conditional, so two mergers cannot both write).
 *
 * Why a lease table of our own rather than pg-boss: the shard's result must be committed in
 * the same transaction as the shard's completion, through the store's own connection, on
 * PostgreSQL and SQLite alike; pg-boss keeps its jobs in its own schema and connection pool,
 * so completion and result would be two commits, and it runs on PostgreSQL only.
 *
 * The files must be readable at the same paths on every machine (a shared or mirrored mount).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { CorpusFlaggedRecord, Store } from '../store/index.js';
import { CorpusInputError, CorpusJobError } from './errors.js';
import { inspectorFor } from './pool-worker.js';
import type { CorpusFormat, Shard } from './read.js';
import { expandPaths, planShards } from './read.js';
import { DEFAULT_SHARD_BYTES } from './run.js';
import type { FlaggedItem, ScanReport, ScanSettings, ShardResult } from './scan.js';
import { mergeResults, scanShard } from './scan.js';

/** What a scan keeps in its `options` column: everything a worker needs to run any shard. */
export interface QueuedScanOptions {
  settings: ScanSettings;
  library: string | undefined;
  pii: boolean;
  paths: string[];
  skipped: { path: string; reason: string }[];
}

export interface CreateScanSpec {
  source: string;
  paths: readonly string[];
  settings: ScanSettings;
  library: string | undefined;
  pii: boolean;
  shardBytes?: number;
  format?: CorpusFormat;
  createdBy: string;
}

export function newScanId(now: Date = new Date()): string {
  return `scan-${now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${randomBytes(3).toString('hex')}`;
}

/** Stores a scan and its shards for workers to run; returns its id. */
export async function createQueuedScan(store: Store, spec: CreateScanSpec, now: Date = new Date()): Promise<{ scanId: string; shards: number }> {
  if ((await store.corpus.getSource(spec.source)) === undefined) throw new CorpusInputError('E_CORPUS_SOURCE_UNKNOWN', `no source "${spec.source}" in the register; add it with "hegui corpus source add"`);
  if (spec.settings.clean !== undefined) throw new CorpusInputError('E_CORPUS_CLEAN', 'a cleaned copy is written by a scan on one machine (without --queue)');
  const { files, skipped } = await expandPaths(spec.paths.map((p) => resolve(p)), spec.format);
  if (files.length === 0) throw new CorpusInputError('E_CORPUS_EMPTY', `no corpus files under ${spec.paths.join(', ')}`);
  const shards = await planShards(files, { shardBytes: spec.shardBytes ?? DEFAULT_SHARD_BYTES, textUnit: spec.settings.read.textUnit });
  const library = spec.library === undefined || spec.library === 'example' ? spec.library : resolve(spec.library);
  const options: QueuedScanOptions = { settings: spec.settings, library, pii: spec.pii, paths: files.map((f) => f.path), skipped };
  const scanId = newScanId(now);
  await store.corpus.createScan({ id: scanId, source: spec.source, mode: spec.settings.mode, options: options as unknown as Record<string, unknown>, state: 'running', createdAt: now.toISOString(), createdBy: spec.createdBy, shards: shards.length }, shards as unknown as Record<string, unknown>[]);
  return { scanId, shards: shards.length };
}

function toRecords(scanId: string, flagged: readonly FlaggedItem[]): CorpusFlaggedRecord[] {
  return flagged.map((f) => ({ scanId, file: f.file, position: f.position, line: f.line, risks: f.risks, matches: { keywords: f.matches, pii: f.pii }, excerpt: f.excerpt, review: 'open' }));
}

/** Records a scan that ran on one machine: its report and the flagged items kept for review. */
export async function recordLocalScan(store: Store, spec: { source: string; settings: ScanSettings; library: string | undefined; pii: boolean; paths: string[]; createdBy: string; startedAt: Date }, report: ScanReport, flagged: readonly FlaggedItem[], now: Date = new Date()): Promise<string> {
  if ((await store.corpus.getSource(spec.source)) === undefined) throw new CorpusInputError('E_CORPUS_SOURCE_UNKNOWN', `no source "${spec.source}" in the register`);
  const scanId = newScanId(spec.startedAt);
  const options: QueuedScanOptions = { settings: spec.settings, library: spec.library, pii: spec.pii, paths: spec.paths, skipped: report.skipped };
  await store.transaction(async (tx) => {
    await tx.corpus.createScan({ id: scanId, source: spec.source, mode: spec.settings.mode, options: options as unknown as Record<string, unknown>, state: 'running', createdAt: spec.startedAt.toISOString(), createdBy: spec.createdBy, shards: 0 }, []);
    await tx.corpus.finishScan(scanId, report as unknown as Record<string, unknown>, report.verdict.usable, now.toISOString(), toRecords(scanId, flagged));
  });
  return scanId;
}

/** Merges a scan whose shards are all done; false when some are not, or someone else merged it. */
export async function mergeQueuedScan(store: Store, scanId: string, now: Date = new Date()): Promise<boolean> {
  const scan = await store.corpus.getScan(scanId);
  if (scan === undefined || scan.state !== 'running') return false;
  const shards = await store.corpus.shards(scanId);
  if (shards.some((s) => s.state !== 'done')) return false;
  const options = scan.options as unknown as QueuedScanOptions;
  const { report, flagged } = mergeResults(
    shards.map((s) => s.result as unknown as ShardResult),
    options.settings,
    options.skipped,
  );
  // Full-pass flagged items were stored with their shards; a sample's are chosen by the merge.
  return store.corpus.finishScan(scanId, report as unknown as Record<string, unknown>, report.verdict.usable, now.toISOString(), options.settings.mode === 'sample' ? toRecords(scanId, flagged) : []);
}

export interface WorkerOptions {
  /** Who holds the leases; default `host:pid:random`. */
  owner?: string;
  /** How long a lease lasts without renewal; the worker renews it every third of that. */
  leaseMs?: number;
  /** How long to wait when nothing can be claimed. */
  pollMs?: number;
  /** Work only on this scan, and stop when it is finished. */
  scanId?: string;
  /** Stop when nothing can be claimed (instead of waiting for new scans). */
  exitWhenIdle?: boolean;
  signal?: AbortSignal;
  onEvent?: (event: WorkerEvent) => void;
  /** Fault injection for tests: stop reading (and hang, lease still renewed) after this many items of a shard. */
  stallAfterItems?: number;
  clock?: () => Date;
}

export type WorkerEvent =
  | { kind: 'claimed'; scanId: string; seq: number; attempt: number; shard: Shard }
  | { kind: 'progress'; scanId: string; seq: number; items: number; bytes: number }
  | { kind: 'completed'; scanId: string; seq: number; items: number }
  | { kind: 'lost'; scanId: string; seq: number }
  | { kind: 'merged'; scanId: string }
  | { kind: 'stalled'; scanId: string; seq: number };

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });

/** Claims and runs shards until told to stop; returns what it did. */
export async function runWorker(store: Store, options: WorkerOptions = {}): Promise<{ completed: number; lost: number; merged: string[] }> {
  const owner = options.owner ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const leaseMs = options.leaseMs ?? 60_000;
  const pollMs = options.pollMs ?? 1000;
  const clock = options.clock ?? (() => new Date());
  const emit = options.onEvent ?? (() => undefined);
  const done = { completed: 0, lost: 0, merged: [] as string[] };
  const settingsOf = new Map<string, QueuedScanOptions>();
  while (!options.signal?.aborted) {
    const now = clock();
    const claimed = await store.corpus.claimShard(owner, now.toISOString(), new Date(now.getTime() + leaseMs).toISOString(), options.scanId);
    if (claimed === undefined) {
      if (options.scanId !== undefined) {
        const scan = await store.corpus.getScan(options.scanId);
        if (scan === undefined) throw new CorpusJobError('E_CORPUS_SCAN_UNKNOWN', `no scan "${options.scanId}"`);
        if (scan.state !== 'running') return done;
        const progress = await store.corpus.shardProgress(options.scanId);
        if (progress.done === progress.total) {
          if (await mergeQueuedScan(store, options.scanId, clock())) {
            done.merged.push(options.scanId);
            emit({ kind: 'merged', scanId: options.scanId });
          }
          continue;
        }
      } else {
        for (const scan of await store.corpus.listScans()) {
          if (scan.state === 'running' && (await mergeQueuedScan(store, scan.id, clock()))) {
            done.merged.push(scan.id);
            emit({ kind: 'merged', scanId: scan.id });
          }
        }
        if (options.exitWhenIdle) return done;
      }
      await sleep(pollMs, options.signal);
      continue;
    }
    const { scanId, seq } = claimed;
    let scanOptions = settingsOf.get(scanId);
    if (scanOptions === undefined) {
      const scan = await store.corpus.getScan(scanId);
      if (scan === undefined) throw new CorpusJobError('E_CORPUS_SCAN_UNKNOWN', `shard ${seq} names scan "${scanId}", which is gone`);
      scanOptions = scan.options as unknown as QueuedScanOptions;
      settingsOf.set(scanId, scanOptions);
    }
    const shard = claimed.shard as unknown as Shard;
    emit({ kind: 'claimed', scanId, seq, attempt: claimed.attempts, shard });
    let held = true;
    const heartbeat = setInterval(() => {
      const at = clock();
      store.corpus.renewLease(scanId, seq, owner, new Date(at.getTime() + leaseMs).toISOString()).then(
        (ok) => (held = held && ok),
        () => undefined,
      );
    }, Math.max(50, Math.floor(leaseMs / 3)));
    let result: ShardResult;
    try {
      // Bad content never throws (it is counted); what does (a library that will not load, a
      // field path that cannot work) fails on every worker alike, so the scan is marked failed.
      const inspector = await inspectorFor(scanOptions.library, scanOptions.pii).catch(async (error: unknown) => {
        await store.corpus.failScan(scanId, `keyword library ${scanOptions.library ?? ''} could not be loaded: ${(error as Error).message}`, clock().toISOString());
        throw error;
      });
      let stalled = false;
      result = await scanShard(shard, scanOptions.settings, inspector, {
        progress: (items, bytes) => {
          emit({ kind: 'progress', scanId, seq, items, bytes });
          if (!stalled && options.stallAfterItems !== undefined && items >= options.stallAfterItems) {
            stalled = true;
            emit({ kind: 'stalled', scanId, seq });
            // Hang here for good: the test kills this process.
            return Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0) as unknown as undefined;
          }
        },
      });
    } finally {
      clearInterval(heartbeat);
    }
    const flagged = scanOptions.settings.mode === 'full' ? toRecords(scanId, result.flagged) : [];
    const completed = held && (await store.corpus.completeShard(scanId, seq, owner, { result: result as unknown as Record<string, unknown>, items: result.tally.items, bytes: result.tally.bytes, flagged, at: clock().toISOString() }));
    if (!completed) {
      done.lost += 1;
      emit({ kind: 'lost', scanId, seq });
      continue;
    }
    done.completed += 1;
    emit({ kind: 'completed', scanId, seq, items: result.tally.items });
    const progress = await store.corpus.shardProgress(scanId);
    if (progress.done === progress.total && (await mergeQueuedScan(store, scanId, clock()))) {
      done.merged.push(scanId);
      emit({ kind: 'merged', scanId });
    }
  }
  return done;
}

