/**
 * @module label/explicit/image-pool-worker
 * The task a thread of the image pool (`image-pool.ts`) runs: read one image and draw the
 * visible notice on it with `labelImage`. The codecs, the canvas, the notice font and the
 * plan and drawing caches of `image.ts` load once per thread and serve every image the thread
 * is given, with libvips set to one thread per image and no operation cache. The labelled bytes go back to the caller, which writes the file: atomic writes and
 * their clean-up on an interrupt belong to the main thread, where signals arrive. A failure
 * goes back as a plain record (its code and message), since an error's class does not cross
 * threads.
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { HeguiError } from '../../errors.js';
import { labelImage, type ImageLabelResult, type ImageNoticeOptions } from './image.js';

/** One image to label: its path and the options, which must survive structured cloning. */
export interface ImagePoolTask {
  path: string;
  options: ImageNoticeOptions;
}

// Parallelism comes from the pool's threads, one image each: libvips working one image on
// several threads as well would only add hand-offs, and its operation cache never hits when
// every image is new. (Both settings are per process; a batch's main thread does no image work.)
sharp.concurrency(1);
sharp.cache(false);

export type ImagePoolReply = { ok: true; result: ImageLabelResult } | { ok: false; error: { name: string; code?: string; exitCode?: number; message: string } };

export default async function labelImageTask(task: ImagePoolTask): Promise<ImagePoolReply> {
  try {
    return { ok: true, result: await labelImage(await readFile(task.path), task.options) };
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    return { ok: false, error: { name: e.name, message: e.message, ...(e instanceof HeguiError ? { code: e.code, exitCode: e.exitCode } : {}) } };
  }
}
