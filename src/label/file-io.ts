/**
 * @module label/file-io
 * Files as label/ sees them: a `ByteSource` over an open file, atomic writes (a temporary file
 * in the target's directory, renamed over the target only when complete, so a labelled file is
 * never left half written), and spools for stream input. Small files are read and written with
 * synchronous calls (see `SMALL_FILE`).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { NotFoundError } from '../errors.js';
import type { ByteSink, ByteSource } from './implicit/codec.js';
import { COPY_CHUNK, bufferSource } from './implicit/bytes.js';
import type { Spool } from './api-io.js';

/** A `ByteSource` over an open file. */
export function handleSource(handle: FileHandle, size: number): ByteSource {
  return {
    size,
    read: async (offset, length) => {
      const want = Math.max(0, Math.min(length, size - offset));
      const buffer = Buffer.allocUnsafe(want);
      let done = 0;
      while (done < want) {
        const { bytesRead } = await handle.read(buffer, done, want - done, offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return buffer.subarray(0, done);
    },
    readInto: async (offset, target) => (await handle.read(target, 0, Math.max(0, Math.min(target.length, size - offset)), offset)).bytesRead,
  };
}

/**
 * Files up to this size are read and written with synchronous calls: for a small file the
 * four thread-pool round trips of async I/O cost more than the work (benchmark (a) of issue 3
 * labels 1,000 small images), and the event loop is held for well under a millisecond.
 */
const SMALL_FILE = 1 << 20;

export interface OpenedSource {
  source: ByteSource;
  mode: number;
  /** True when the whole file is in memory (a small file). */
  small: boolean;
  close: () => Promise<void>;
}

function cannotOpen(path: string, error: unknown): NotFoundError {
  return new NotFoundError('E_LABEL_FILE', `cannot open ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
}

export async function openSource(path: string): Promise<OpenedSource> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw cannotOpen(path, error);
  }
  try {
    const { size, mode } = fstatSync(fd);
    if (size <= SMALL_FILE) {
      const bytes = Buffer.allocUnsafe(size);
      let done = 0;
      while (done < size) {
        const n = readSync(fd, bytes, done, size - done, done);
        if (n === 0) break;
        done += n;
      }
      return { source: bufferSource(bytes.subarray(0, done)), mode: mode & 0o7777, small: true, close: () => Promise.resolve() };
    }
    const handle = await open(path, 'r');
    return { source: handleSource(handle, size), mode: mode & 0o7777, small: false, close: () => handle.close() };
  } finally {
    closeSync(fd);
  }
}

/** Writes a small file atomically with synchronous calls (see `SMALL_FILE`). */
export function writeSmallAtomic(target: string, bytes: Uint8Array, mode: number, durable: boolean): void {
  const temp = tempPath(target);
  try {
    const fd = openSync(temp, 'wx', mode);
    try {
      for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
      if (durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, target);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

function tempPath(target: string): string {
  return join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.hegui-tmp`);
}

export async function writeAll(handle: FileHandle, data: Uint8Array, position?: number): Promise<void> {
  for (let done = 0; done < data.length; ) {
    const { bytesWritten } = await handle.write(data, done, data.length - done, position === undefined ? null : position + done);
    done += bytesWritten;
  }
}

/** A sink that coalesces small writes into large ones (codecs emit many small pieces). */
function handleSink(handle: FileHandle): ByteSink & { flush: () => Promise<void> } {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = async (): Promise<void> => {
    if (pendingBytes === 0) return;
    const data = Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    await writeAll(handle, data);
  };
  return {
    write: async (chunk) => {
      if (chunk.length >= COPY_CHUNK / 4) {
        await flush();
        await writeAll(handle, chunk);
        return;
      }
      // A copy: the caller may reuse its buffer once this promise settles.
      pending.push(Buffer.from(chunk));
      pendingBytes += chunk.length;
      if (pendingBytes >= COPY_CHUNK) await flush();
    },
    flush,
  };
}

/**
 * Writes `target` atomically: `produce` writes to a temporary file beside it, which is renamed
 * over `target` on success and removed on failure. The target's permissions are kept.
 *
 * @example
 * await writeFileAtomic('out.png', (sink) => pngCodec.write(source, value, sink));
 */
export async function writeFileAtomic(
  target: string,
  produce: (sink: ByteSink) => Promise<void>,
  options: { durable?: boolean; mode?: number } = {},
): Promise<void> {
  const temp = tempPath(target);
  const mode = options.mode ?? (await stat(target).then((s) => s.mode & 0o7777, () => 0o644));
  const handle = await open(temp, 'wx', mode);
  try {
    const sink = handleSink(handle);
    await produce(sink);
    await sink.flush();
    if (options.durable) await handle.sync();
    await handle.close();
    await rename(temp, target);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw error;
  }
}

/** A spool in a temporary file: stream input of any size in bounded memory. */
export async function fileSpool(directory = tmpdir()): Promise<Spool> {
  const path = join(directory, `hegui-spool-${randomBytes(8).toString('hex')}`);
  const handle = await open(path, 'wx+', 0o600);
  const sink = handleSink(handle);
  let size = 0;
  return {
    write: (chunk) => {
      size += chunk.length;
      return sink.write(chunk);
    },
    finish: async () => {
      await sink.flush();
      return handleSource(handle, size);
    },
    dispose: async () => {
      await handle.close().catch(() => undefined);
      await rm(path, { force: true });
    },
  };
}

