/**
 * @module label/explicit/image-pool-worker
 * A thread of the image pool (`image-pool.ts`): for each image it is sent (its bytes, moved to
 * this thread, or a path to read) it draws the visible notice with `labelImage` and sends the
 * labelled bytes back, moved rather than copied. Images are labelled one after the other, in the
 * order they come; the pool keeps a few queued per thread so the thread never waits for the
 * next. The codecs, the canvas, the notice font and the plan and drawing caches of `image.ts`
 * load once per thread and serve every image the thread is given, with libvips set to one
 * thread per image and no operation cache. The caller writes the file: atomic writes and their
 * clean-up on an interrupt belong to the main thread, where signals arrive. A failure goes back
 * as a plain record (its code and message), since an error's class does not cross threads.
 */
import { readFile } from 'node:fs/promises';
import { parentPort } from 'node:worker_threads';
import { labelImage, type ImageLabelResult, type ImageNoticeOptions } from './image.js';
import { toThreadError, type ThreadError } from '../thread-error.js';
import { oneLibvipsThreadPerImage } from './sharp-lib.js';
import { warmCanvas } from './canvas-lib.js';
import { loadNoticeFont } from './font.js';
import { hasEntriesFor } from './notice-cache.js';
import { withPreparsed, type Preparsed } from './jpeg-splice-parse.js';

/** One image to label: its bytes (their buffer moved here) or its path, and the options, which must survive structured cloning. */
export interface ImagePoolTask {
  id: number;
  bytes?: Uint8Array;
  path?: string;
  options: ImageNoticeOptions;
  /** Buffers of earlier results the caller has written and gives back, for the next results. */
  spares?: ArrayBuffer[];
  /** With `bytes` of a JPEG: what the caller read of it (a baseline scan's index, a progressive file's coefficients), which the splice then need not read here. */
  preparsed?: Preparsed;
}

export type ImagePoolReply = { id: number; ok: true; result: ImageLabelResult } | { id: number; ok: false; error: ThreadError };

// Parallelism comes from the pool's threads, one image each: libvips working one image on
// several threads as well would only add hand-offs, and its operation cache never hits when
// every image is new. (Both settings are per process; a batch's main thread does no image work.)
// libvips loads only when an image needs it: plain JPEGs on the DCT-splice path never do.
oneLibvipsThreadPerImage();

/** Buffers given back by the caller, reused for results: a new buffer of a few hundred kilobytes costs about as much as labelling a tenth of a JPEG (zeroed pages, page faults). */
const spares: ArrayBuffer[] = [];
const MAX_SPARES = 4;

/** A buffer for `length` result bytes: a spare large enough, or a new one with room to spare. */
function resultBuffer(length: number): ArrayBuffer {
  const at = spares.findIndex((buffer) => buffer.byteLength >= length);
  return at >= 0 ? (spares.splice(at, 1)[0] as ArrayBuffer) : new ArrayBuffer(Math.ceil(length * 1.25));
}

/**
 * Labels one task's image. The labelled bytes come back in a buffer of their own, which the
 * reply moves to the caller: the labeller's output may be a view of a larger or reused buffer,
 * which must stay here.
 */
async function labelTask(task: ImagePoolTask): Promise<{ reply: ImagePoolReply; transfer: ArrayBuffer[] }> {
  for (const spare of task.spares ?? []) if (spares.length < MAX_SPARES) spares.push(spare);
  try {
    // A Buffer, as `readFile` gives: the same input type for both, and for `labelImage` in the main thread.
    const input = task.bytes ? Buffer.from(task.bytes.buffer, task.bytes.byteOffset, task.bytes.byteLength) : await readFile(task.path ?? '');
    const result = await withPreparsed(input, task.preparsed, () => labelImage(input, task.options));
    const bytes = new Uint8Array(resultBuffer(result.bytes.byteLength), 0, result.bytes.byteLength);
    bytes.set(result.bytes);
    return { reply: { id: task.id, ok: true, result: { ...result, bytes } }, transfer: [bytes.buffer] };
  } catch (error) {
    return { reply: { id: task.id, ok: false, error: toThreadError(error) }, transfer: [] };
  }
}

const port = parentPort;
if (port) {
  // The first buffer this thread moves (its first result) would invalidate V8's "no array
  // buffer was ever detached" assumption and throw away the functions compiled on it, to be
  // compiled again (issue 14: 200 JPEGs, 120 optimised compilations and 26 such discards in the
  // process, 103 and 7 with this). Detaching a buffer of nothing first has the code compiled
  // with the checks it needs anyway.
  const nothing = new ArrayBuffer(0);
  structuredClone(nothing, { transfer: [nothing] });
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (task: ImagePoolTask) => {
    queue = queue.then(async () => {
      const { reply, transfer } = await labelTask(task);
      try {
        port.postMessage(reply, transfer);
      } catch (error) {
        // A result that cannot be sent fails its image, not the thread: the next tasks still run.
        port.postMessage({ id: task.id, ok: false, error: toThreadError(error) } satisfies ImagePoolReply);
      }
    });
  });
  // A notice the cache has not drawn needs the canvas's fonts, whose first use scans the
  // system's font folders (about 0.15 s): done now, while the caller is still reading its first
  // files, unless the cache has drawn notices in the default font before (then most likely
  // this batch's too, and the canvas need not load at all).
  let cached = false;
  try {
    cached = hasEntriesFor(loadNoticeFont().fingerprint);
  } catch {
    // The first notice reports what is wrong with the font.
  }
  if (!cached) warmCanvas();
}
