/**
 * @module label/explicit/image-pool
 * Visible notices on a batch of images in parallel: a pool of worker threads (piscina), one
 * per core by default, each labelling whole images with `labelImage` (`image-pool-worker.ts`).
 * Every thread loads sharp, the canvas and the notice font once, then keeps them, with the
 * layout and drawing caches, for every image it is given, so a batch pays for its set-up once
 * per core, not once per file. Each image is decoded and encoded once, in its thread.
 *
 * The pool returns the labelled bytes and leaves writing to the caller (atomically, in the
 * main thread: signals reach only that thread, so that is where an interrupted write removes
 * its temporary file). Errors come back with their code and message as `HeguiError`s (their
 * class does not cross threads). Options must survive structured cloning: an implicit label
 * request with a signing key (which holds a function) cannot be sent, and `poolable` says so.
 */
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Piscina } from 'piscina';
import { HeguiError } from '../../errors.js';
import type { ImageLabelResult, ImageNoticeOptions } from './image.js';
import type { ImagePoolReply, ImagePoolTask } from './image-pool-worker.js';

function workerModule(): string {
  const here = fileURLToPath(import.meta.url);
  // Node 20 does not hand `--import tsx` on to worker threads: from the source, a small
  // JavaScript module registers tsx in the thread and loads the TypeScript task.
  return join(dirname(here), here.endsWith('.ts') ? 'image-pool-worker-source.mjs' : 'image-pool-worker.js');
}

/** True when `options` can be sent to a pool thread (no signing key, custom codec, spool or other function inside). */
export function poolable(options: ImageNoticeOptions): boolean {
  return options.implicit?.key === undefined && options.codecs === undefined && options.spool === undefined;
}

/** A pool of threads that label images; `close` it when the batch is done. */
export interface ImageLabelPool {
  readonly threads: number;
  /** Reads and labels the image at `path` in a pool thread. @throws HeguiError with the thread's code */
  label(path: string, options: ImageNoticeOptions): Promise<ImageLabelResult>;
  close(): Promise<void>;
}

/**
 * Starts a pool of `threads` (default: one per core) image-labelling threads. The threads
 * start at once, so their set-up overlaps the caller's own.
 *
 * @example
 * const pool = await openImageLabelPool();
 * try { const { bytes } = await pool.label('a.jpg', { language: 'zh' }); } finally { await pool.close(); }
 */
export async function openImageLabelPool(threads = availableParallelism()): Promise<ImageLabelPool> {
  const { Piscina: Pool } = await import('piscina');
  const size = Math.max(1, threads);
  const pool: Piscina<ImagePoolTask, ImagePoolReply> = new Pool({ filename: workerModule(), minThreads: size, maxThreads: size, idleTimeout: 60_000 });
  return {
    threads: size,
    async label(path, options) {
      const reply = await pool.run({ path, options });
      if (reply.ok) return reply.result;
      const { name, code, exitCode, message } = reply.error;
      if (code === undefined) throw new Error(`${name}: ${message}`);
      const error = new HeguiError(code, message, exitCode === undefined ? undefined : { exitCode });
      error.name = name;
      throw error;
    },
    close: () => pool.destroy(),
  };
}
