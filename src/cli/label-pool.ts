/**
 * @module cli/label-pool
 * Worker threads for `hegui label embed` over a large batch of small files (issue 14, "batch
 * file work"). Each thread reads a file, parses it and makes its labelled bytes (or patches it
 * in place when the label fits) with `prepareEmbedFile`; the main thread writes each result
 * atomically (`commitPreparedWrite`: temporary file, rename) and prints the per-file lines in
 * order. So the codec work of two files runs on two cores, while temporary files are made only
 * in the main thread, where an interrupt removes them (signals do not reach worker threads).
 */
import { Worker } from 'node:worker_threads';
import { HeguiError } from '../errors.js';
import type { EmbedRequest } from '../label/api.js';
import type { FileEmbedOptions, PreparedEmbed } from '../label/files.js';
import { fromThreadError } from '../label/thread-error.js';
import type { EmbedReply, EmbedTask } from './label-worker.js';

/** The worker module beside this one: from the TypeScript source, a loader that registers tsx first. */
function workerUrl(): URL {
  const here = import.meta.url;
  return new URL(here.endsWith('.ts') ? './label-worker-source.mjs' : './label-worker.js', here);
}

export interface EmbedPool {
  readonly threads: number;
  prepare(path: string, request: EmbedRequest, options: FileEmbedOptions): Promise<PreparedEmbed>;
  close(): Promise<void>;
}

/** Starts `threads` worker threads; each file goes to the thread with the fewest files pending. */
export function openEmbedPool(threads: number): EmbedPool {
  const pending = new Map<number, { resolve: (prepared: PreparedEmbed) => void; reject: (error: Error) => void }>();
  const workers = Array.from({ length: threads }, () => {
    const worker = new Worker(workerUrl());
    // A thread that dies fails the files it held; the batch reports them and goes on.
    worker.on('error', (error) => {
      for (const [id, entry] of pending) {
        if (owner.get(id) === worker) {
          pending.delete(id);
          entry.reject(new HeguiError('E_LABEL_THREAD', `a worker thread failed: ${error.message}`));
        }
      }
    });
    worker.on('message', (reply: EmbedReply) => {
      const entry = pending.get(reply.id);
      if (!entry) return;
      pending.delete(reply.id);
      owner.delete(reply.id);
      load.set(worker, (load.get(worker) ?? 1) - 1);
      if (reply.ok) entry.resolve(reply.prepared);
      else entry.reject(fromThreadError(reply.error));
    });
    return worker;
  });
  const owner = new Map<number, Worker>();
  const load = new Map<Worker, number>(workers.map((w) => [w, 0]));
  let next = 0;
  return {
    threads,
    prepare(path, request, options) {
      const id = next++;
      let chosen = workers[0] as Worker;
      for (const worker of workers) if ((load.get(worker) ?? 0) < (load.get(chosen) ?? 0)) chosen = worker;
      load.set(chosen, (load.get(chosen) ?? 0) + 1);
      owner.set(id, chosen);
      return new Promise<PreparedEmbed>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        chosen.postMessage({ id, path, request, options } satisfies EmbedTask);
      });
    },
    async close() {
      await Promise.all(workers.map((worker) => worker.terminate()));
    },
  };
}
