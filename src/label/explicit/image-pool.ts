/**
 * @module label/explicit/image-pool
 * Visible notices on a batch of images in parallel: a pool of worker threads, one per core by
 * default, each labelling whole images with `labelImage` (`image-pool-worker.ts`). Every
 * thread loads the canvas and the notice font once (and sharp, once an image needs libvips:
 * plain JPEGs on the DCT-splice path do not), then keeps them, with the layout
 * and drawing caches, for every image it is given, so a batch pays for its set-up once per
 * core, not once per file. Each image is decoded and encoded once, in its thread.
 *
 * Images go to the thread with the fewest pending, and a thread takes them one after the other:
 * a caller that keeps a few more images in flight than there are threads keeps every thread busy
 * while it writes the results. The bytes cross threads by moving their buffer, not by copying:
 * a caller's own buffer can be handed over (`transfer`), and the labelled bytes come back in a
 * buffer of their own.
 *
 * The pool returns the labelled bytes and leaves writing to the caller (atomically, in the
 * main thread: signals reach only that thread, so that is where an interrupted write removes
 * its temporary file). Errors come back with their code and message as `HeguiError`s (their
 * class does not cross threads). A thread that dies fails the images it held, and the others
 * take the rest. Options must survive structured cloning: an implicit label request with a
 * signing key (which holds a function) cannot be sent, and `poolable` says so.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { HeguiError } from '../../errors.js';
import type { ImageLabelResult, ImageNoticeOptions } from './image.js';
import { fromThreadError } from '../thread-error.js';
import type { ImagePoolReply, ImagePoolTask } from './image-pool-worker.js';
import { takeWorker } from './image-threads.js';
import { headerSegments } from './image-jpeg.js';
import type * as JpegParse from './jpeg-splice-parse.js';
import type { Preparsed } from './jpeg-splice-parse.js';
import type * as JpegProgressive from './jpeg-progressive.js';

export { batchImageThreads, prestartImageThreads } from './image-threads.js';

/** True when `options` can be sent to a pool thread (no signing key, custom codec, spool or other function inside). */
export function poolable(options: ImageNoticeOptions): boolean {
  return options.implicit?.key === undefined && options.codecs === undefined && options.spool === undefined;
}

/** A pool of threads that label images; `close` it when the batch is done. */
export interface ImageLabelPool {
  /** Threads running now (`progressiveThreads` may have added some). */
  readonly threads: number;
  /** Images whose scan the calling thread walked or decoded for the pool's threads (`walkScans`): JPEGs sent as bytes while a thread had images waiting. */
  readonly scansWalked: number;
  /**
   * Labels an image in a pool thread: the file at `input` (read there), or the bytes `input`.
   * With `transfer`, the caller gives the bytes up: their buffer moves to the thread (it is
   * empty here afterwards) when they fill it, and is copied otherwise.
   *
   * @throws HeguiError with the thread's code; `E_LABEL_THREAD` when no thread is left to run it.
   */
  label(input: string | Uint8Array, options: ImageNoticeOptions, send?: { transfer?: boolean }): Promise<ImageLabelResult>;
  /**
   * Gives a result's bytes back once they are written: their buffer goes back to a thread for
   * a later result (a new buffer costs zeroed pages and page faults). The bytes must not be used
   * afterwards. Bytes that did not come from this pool are left alone.
   */
  release(bytes: Uint8Array): void;
  close(): Promise<void>;
}

/**
 * A JPEG's scan is walked (a progressive one's decoded) here, in the caller's thread, when the
 * thread it goes to has at least this many images waiting, or has not answered yet (it is still
 * loading its modules and fonts): the walk then overlaps that thread's work, and the thread is
 * spared it (`Preparsed`). With fewer waiting the threads are keeping up and the caller's time
 * is better spent reading and writing files; so a caller with more threads than it can feed
 * stops walking by itself.
 *
 * A pool of one thread has every baseline JPEG walked here (`SOLE_THREAD_BACKLOG`): one
 * thread is what two cores give a batch, and there the caller's thread keeps up with it while
 * walking every scan (about 4 ms of a one-megapixel file, against the thread's 5 ms of
 * labelling). A thread sent some files walked and some not also walks some itself, and compiles
 * both paths of the parse (issue 14: 200 JPEGs on two cores, 6% less CPU and 3% less time with
 * every scan walked here). A progressive JPEG's decode costs more than its labelling, so it keeps
 * the backlog rule.
 */
const INDEX_BACKLOG = 2;
const SOLE_THREAD_BACKLOG = 0;

/** The JPEG parsers, loaded when the first pool that walks scans opens (a command that labels only text never loads them). */
let parsers: { baseline: typeof JpegParse; progressive: typeof JpegProgressive } | undefined;

/**
 * What this thread reads of `bytes` for the thread that splices them, with the buffers that move
 * along: a baseline JPEG's scan index, or a progressive JPEG's coefficients; undefined when they
 * are not a JPEG the thread will splice (or it is re-encoded anyway).
 */
function preparse(bytes: Uint8Array, options: ImageNoticeOptions): { preparsed: Preparsed; transfer: ArrayBuffer[] } | undefined {
  if (!parsers || options.jpegMethod === 'reencode' || options.quality !== undefined || bytes[0] !== 0xff || bytes[1] !== 0xd8 || bytes[2] !== 0xff) return undefined;
  const { baseline, progressive } = parsers;
  // A fault (in the file, or in this code) is the thread's to find again: it parses the file
  // itself, and re-encodes it or reports why not.
  let isProgressive: boolean;
  try {
    const index = baseline.indexBaselineScan(bytes);
    return { preparsed: { index }, transfer: baseline.indexTransferables(index) };
  } catch (error) {
    isProgressive = error instanceof baseline.ProgressiveJpeg;
  }
  if (!isProgressive) return undefined;
  try {
    const decoded = progressive.parseProgressiveJpeg(bytes);
    return { preparsed: { progressive: decoded }, transfer: progressive.transferables(decoded) };
  } catch {
    return undefined;
  }
}

interface Thread {
  worker: Worker;
  /** Images sent and not yet answered. */
  pending: Map<number, { resolve: (result: ImageLabelResult) => void; reject: (error: Error) => void }>;
  alive: boolean;
  /** Whether it has answered yet: until then it is still starting (loading its modules and fonts). */
  answered: boolean;
}

/** How a pool shares the work with its caller's thread. */
export interface ImageLabelPoolOptions {
  /**
   * Walk the scan of each JPEG given as bytes in the calling thread, while the thread it goes to
   * has images waiting or is still starting (`ScanIndex`; about two fifths of a thread's work on
   * a one-megapixel baseline JPEG), or decode a progressive one's scans there (more than
   * half of a thread's work on it: see `progressiveThreads`), done where the caller would otherwise wait for results. Off by default: each
   * holds the calling thread for a few milliseconds, which a server's event loop should not be;
   * the command line's batches turn it on.
   */
  walkScans?: boolean;
  /**
   * With `walkScans`: threads to add at the first progressive JPEG given as bytes. Decoding its
   * scans costs as much as labelling it (one-megapixel files: about 16 ms against 12), so the
   * calling thread would be the one the batch waits for; with these threads the calling thread
   * decodes no progressive JPEG and the threads each decode their own. A batch without one never
   * starts them. Default 0.
   */
  progressiveThreads?: number;
}

/**
 * Starts a pool of `threads` (default: one per core) image-labelling threads, taking those
 * `prestartImageThreads` started first. The threads start at once, so their set-up overlaps
 * the caller's own.
 *
 * @example
 * const pool = await openImageLabelPool();
 * try { const { bytes } = await pool.label('a.jpg', { language: 'zh' }); } finally { await pool.close(); }
 */
export async function openImageLabelPool(threads = availableParallelism(), options: ImageLabelPoolOptions = {}): Promise<ImageLabelPool> {
  const size = Math.max(1, threads);
  const walkScans = options.walkScans === true;
  let progressiveThreads = walkScans ? Math.max(0, Math.floor(options.progressiveThreads ?? 0)) : 0;
  /** Once the progressive threads have started, the calling thread decodes no progressive JPEG. */
  let grown = false;
  let closed = false;
  const start = (): Thread => {
    const thread: Thread = { worker: takeWorker(), pending: new Map(), alive: true, answered: false };
    const fail = (why: string): void => {
      thread.alive = false;
      for (const entry of thread.pending.values()) entry.reject(new HeguiError('E_LABEL_THREAD', `an image thread ${why}`));
      thread.pending.clear();
    };
    thread.worker.on('message', (reply: ImagePoolReply) => {
      thread.answered = true;
      const entry = thread.pending.get(reply.id);
      if (!entry) return;
      thread.pending.delete(reply.id);
      if (reply.ok && reply.result.bytes.buffer instanceof ArrayBuffer) fromThreads.add(reply.result.bytes.buffer);
      if (reply.ok) entry.resolve(reply.result);
      else entry.reject(fromThreadError(reply.error));
    });
    // A thread that dies fails the images it held; the batch reports them and the other threads go on.
    thread.worker.on('error', (error) => fail(`failed: ${error.message}`));
    thread.worker.on('exit', (code) => fail(closed ? 'was stopped' : `ended (exit code ${code})`));
    return thread;
  };
  const pool = Array.from({ length: size }, start);
  let next = 0;
  // Result buffers the caller gave back, sent with the next tasks; only buffers the threads made.
  const fromThreads = new WeakSet<ArrayBuffer>();
  const released: ArrayBuffer[] = [];
  let scansWalked = 0;
  // The threads are starting; the parser loads before the first image is sent, when a thread
  // is spared the walk most (its code is cold).
  // If it cannot load, the threads walk for themselves (and load it, or report why they cannot).
  if (walkScans) {
    parsers ??= await Promise.all([import('./jpeg-splice-parse.js'), import('./jpeg-progressive.js')]).then(
      ([baseline, progressive]) => ({ baseline, progressive }),
      () => undefined,
    );
  }
  return {
    get threads() {
      return pool.length;
    },
    get scansWalked() {
      return scansWalked;
    },
    label(input, options, send = {}) {
      const progressive = walkScans && typeof input !== 'string' && input[0] === 0xff && input[1] === 0xd8 && headerSegments(input).some((segment) => segment.marker === 0xc2);
      if (progressive && progressiveThreads > 0 && !closed) {
        for (; progressiveThreads > 0; progressiveThreads--) pool.push(start());
        grown = true;
      }
      let chosen: Thread | undefined;
      for (const thread of pool) if (thread.alive && (!chosen || thread.pending.size < chosen.pending.size)) chosen = thread;
      if (!chosen || closed) return Promise.reject(new HeguiError('E_LABEL_THREAD', closed ? 'the image pool is closed' : 'no image thread is running'));
      const id = next++;
      let task: ImagePoolTask;
      const transfer: ArrayBuffer[] = [];
      if (typeof input === 'string') task = { id, path: input, options };
      else {
        // Only a whole buffer of its own moves; a view of a larger or shared one is copied first.
        const whole = send.transfer === true && input.byteOffset === 0 && input.byteLength === input.buffer.byteLength && input.buffer instanceof ArrayBuffer;
        const bytes = whole ? input : new Uint8Array(input);
        // Once its threads run, the threads decode each progressive JPEG themselves.
        const backlog = pool.length === 1 && !progressive ? SOLE_THREAD_BACKLOG : INDEX_BACKLOG;
        const read = walkScans && !(progressive && grown) && (chosen.pending.size >= backlog || !chosen.answered) ? preparse(bytes, options) : undefined;
        task = read ? { id, bytes, options, preparsed: read.preparsed } : { id, bytes, options };
        transfer.push(bytes.buffer as ArrayBuffer);
        if (read) {
          scansWalked++;
          transfer.push(...read.transfer);
        }
      }
      if (released.length > 0) {
        task.spares = released.splice(0, 2);
        transfer.push(...task.spares);
      }
      const thread = chosen;
      return new Promise<ImageLabelResult>((resolve, reject) => {
        thread.pending.set(id, { resolve, reject });
        try {
          thread.worker.postMessage(task, transfer);
        } catch (error) {
          thread.pending.delete(id);
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
    },
    release(bytes) {
      const buffer = bytes.buffer;
      if (buffer instanceof ArrayBuffer && fromThreads.has(buffer) && buffer.byteLength > 0 && released.length < 2 * pool.length + 2) {
        fromThreads.delete(buffer);
        released.push(buffer);
      }
    },
    async close() {
      closed = true;
      await Promise.all(pool.map((thread) => thread.worker.terminate()));
    },
  };
}
