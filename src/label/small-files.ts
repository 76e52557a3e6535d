/**
 * @module label/small-files
 * The in-place patch of a small file (up to `SMALL_FILE`, see `file-io.ts`) with synchronous
 * calls: open, read the whole file, plan the patch in memory, write it through the same
 * descriptor, restore the times, close. A batch of thousands of small images (issue 14) spent
 * most of its time handing each of these calls to libuv's thread pool and waiting for the answer;
 * for a file of a few kilobytes each call is a few microseconds of kernel work, and the event
 * loop is held for well under a millisecond. Larger files keep the asynchronous path
 * (`files.ts`), which reads only what the codec asks for.
 *
 * The result is the same as the asynchronous path's, byte for byte: the same codec plans the
 * same patches from the same bytes.
 */
import { accessSync, closeSync, constants, fstatSync, fsyncSync, futimesSync, openSync, writeSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { HeguiError } from '../errors.js';
import type { LabelCodec } from './implicit/codec.js';
import { bufferSource } from './implicit/bytes.js';
import { findSourceCodec } from './implicit/codec-table.js';
import { cannotOpen, readWholeSync, SMALL_FILE } from './file-io.js';

/** A file hegui may not write (permissions, or a read-only file system) is refused in place. */
export class ReadOnlyFileError extends HeguiError {
  constructor(path: string, code: string, options?: ErrorOptions) {
    super(
      'E_LABEL_READ_ONLY',
      code === 'EROFS'
        ? `${path} is on a read-only file system: write the labelled file elsewhere with -o`
        : `${path} is read-only for this user (${code}): it is left as it is; make it writable (chmod u+w) or write the labelled file elsewhere with -o`,
      options,
    );
  }
}

const READ_ONLY_CODES = new Set(['EACCES', 'EPERM', 'EROFS']);

/**
 * The error for a failed open of `path` for writing: `ReadOnlyFileError` when this user may
 * not write it (the batch reports it and goes on), `cannotOpen` otherwise.
 */
export function patchOpenError(path: string, error: unknown): HeguiError {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  return READ_ONLY_CODES.has(code) ? new ReadOnlyFileError(path, code, { cause: error }) : cannotOpen(path, error);
}

/** Opens `path` for an in-place patch. @throws ReadOnlyFileError */
export function openForPatch(path: string): number {
  try {
    return openSync(path, 'r+');
  } catch (error) {
    throw patchOpenError(path, error);
  }
}

/**
 * Refuses to replace a file this user may not write (`access(W_OK)`: root may, as the system
 * allows), even though a rename in a writable folder could: a read-only file is left as it is.
 * Other errors (a missing file) are left to the open that follows.
 *
 * @throws ReadOnlyFileError
 */
export function assertWritable(path: string): void {
  try {
    accessSync(path, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (READ_ONLY_CODES.has(code)) throw new ReadOnlyFileError(path, code, { cause: error });
  }
}

/**
 * What `patchSmallFile` did: `large` when the file is over the small-file size (nothing done);
 * `no-room` with the file's bytes and permission bits, for the rewrite that must follow.
 */
export type SmallPatch = { kind: 'patched'; codec: LabelCodec } | { kind: 'no-room'; bytes: Uint8Array; mode: number; stats: Stats } | { kind: 'large' };

/**
 * Writes `value` into a small file in place when its codec can do so without changing the
 * file's size (`planInPlace`); the file keeps its access and modification times. `no-room`
 * means the caller must rewrite the file; `large` that the file is not small.
 *
 * `codecs`: codecs besides the built-in ones (`LabelOptions.codecs`).
 *
 * @throws ReadOnlyFileError, UnsupportedFormatError (no codec recognises the content).
 */
export async function patchSmallFile(path: string, value: string, codecs: readonly LabelCodec[], durable: boolean): Promise<SmallPatch> {
  const fd = openForPatch(path);
  try {
    const stats = fstatSync(fd);
    if (stats.size > SMALL_FILE) return { kind: 'large' };
    const bytes = readWholeSync(fd, stats.size);
    const source = bufferSource(bytes);
    const codec = await findSourceCodec(source, codecs, path);
    const patches = await codec.planInPlace?.(source, value);
    if (!patches) return { kind: 'no-room', bytes, mode: stats.mode & 0o7777, stats };
    for (const patch of patches) {
      for (let done = 0; done < patch.bytes.length; ) done += writeSync(fd, patch.bytes, done, patch.bytes.length - done, patch.offset + done);
    }
    // In place, the file keeps its times as a rewrite does (file-io.ts).
    futimesSync(fd, stats.atime, stats.mtime);
    if (durable) fsyncSync(fd);
    return { kind: 'patched', codec };
  } finally {
    closeSync(fd);
  }
}
