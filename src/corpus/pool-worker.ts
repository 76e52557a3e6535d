/**
 * @module corpus/pool-worker
 * The task a pool thread runs: one shard of a scan. The compiled keyword library is loaded
 * once per thread (through the on-disk cache of safety/library-cache) and kept for the next
 * shards. Progress goes back on the task's message port.
 */
import type { MessagePort } from 'node:worker_threads';
import type { Inspector } from './inspect.js';
import { createInspector } from './inspect.js';
import type { Shard } from './read.js';
import type { ScanSettings, ShardResult } from './scan.js';
import { scanShard } from './scan.js';

export interface PoolTask {
  shard: Shard;
  settings: ScanSettings;
  /** A keyword library file, `example`, or undefined (personal data only). */
  library: string | undefined;
  pii: boolean;
  port?: MessagePort;
  cleanPart?: string;
  removedPart?: string;
}

let loaded: { key: string; inspector: Promise<Inspector> } | undefined;

/** The inspector for a library reference, loaded once per thread. */
export function inspectorFor(library: string | undefined, pii: boolean): Promise<Inspector> {
  const key = `${library ?? ''}\0${pii}`;
  if (loaded?.key !== key) {
    loaded = {
      key,
      inspector: (async () => {
        if (library === undefined) return createInspector(undefined, { pii });
        const cache = await import('../safety/library-cache.js');
        return createInspector(library === 'example' ? await cache.loadCompiledExample() : await cache.loadCompiledLibraryFile(library), { pii });
      })(),
    };
  }
  return loaded.inspector;
}

/** Progress messages from one shard at most this often: each wakes the main thread, which shares the cores with the pool. */
export const PROGRESS_INTERVAL_MS = 200;

export default async function runTask(task: PoolTask): Promise<ShardResult> {
  const inspector = await inspectorFor(task.library, task.pii);
  let posted = Number.NEGATIVE_INFINITY;
  try {
    return await scanShard(task.shard, task.settings, inspector, {
      // The shard's result carries its totals, so a progress message skipped here is only a later update on screen.
      progress: (items, bytes) => {
        const now = performance.now();
        if (now - posted < PROGRESS_INTERVAL_MS) return;
        posted = now;
        task.port?.postMessage({ items, bytes });
      },
      ...(task.cleanPart === undefined ? {} : { cleanPart: task.cleanPart }),
      ...(task.removedPart === undefined ? {} : { removedPart: task.removedPart }),
    });
  } finally {
    task.port?.close();
  }
}
