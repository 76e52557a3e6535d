/**
 * @module label/explicit/image-threads
 * The image pool's threads (`image-pool.ts`) and how many a batch uses, in a module of their
 * own with nothing else in it: the command line starts a batch's threads before it loads the
 * `label visible` command (issue 14: start-up), and this is all it loads for that.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/** The worker module beside this one: from the TypeScript source, a loader that registers tsx first. */
function workerUrl(): URL {
  const here = import.meta.url;
  // Node 20 does not hand `--import tsx` on to worker threads: from the source, a small
  // JavaScript module registers tsx in the thread and loads the TypeScript task.
  return new URL(here.endsWith('.ts') ? './image-pool-worker-source.mjs' : './image-pool-worker.js', here);
}

/**
 * The threads a command-line batch labels its images in: one per core but one, which is left
 * to the main thread's reading and writing and to V8's compiler and collector threads; none on
 * one core (the main thread labels). On two cores, one thread beside the main one labels 200
 * one-megapixel JPEGs in the same wall time as two threads and with about a third less CPU,
 * each thread paying its own start and JIT warm-up (bench/RESULTS.md, issue 14).
 */
export function batchImageThreads(cores = availableParallelism()): number {
  return cores > 1 ? cores - 1 : 0;
}

/** Threads started ahead of their pool (`prestartImageThreads`), waiting to be taken. */
const waiting: Worker[] = [];

/**
 * Starts `count` image-labelling threads now, before the pool that will use them is opened:
 * a thread takes about a quarter of a second to load its modules and have the canvas scan the
 * system's fonts, which can overlap the caller loading its own modules (the command line starts
 * them before it loads the `label visible` command, issue 14). The next `openImageLabelPool` takes them. Until then
 * they do not keep the process alive; threads never taken end with it, having touched nothing.
 */
export function prestartImageThreads(count: number): void {
  for (let i = waiting.length; i < count; i++) {
    const worker = new Worker(workerUrl());
    // An error before a pool takes it (a module that fails to load) is reported by the pool: a
    // thread that failed is not taken, and the pool starts its own, which fails the same way.
    worker.once('error', () => {
      const at = waiting.indexOf(worker);
      if (at >= 0) waiting.splice(at, 1);
    });
    worker.unref();
    waiting.push(worker);
  }
}

/** A thread for a pool: one started ahead if any is waiting, else a new one. */
export function takeWorker(): Worker {
  const worker = waiting.shift();
  if (!worker) return new Worker(workerUrl());
  worker.removeAllListeners('error');
  worker.ref();
  return worker;
}

/** How many threads started ahead are waiting for a pool (for diagnostics and tests). */
export function waitingImageThreads(): number {
  return waiting.length;
}
