/**
 * @module label/file-io
 * Files as label/ sees them: a `ByteSource` over an open file, atomic writes (a temporary file
 * in the target's directory, renamed over the target only when complete, so a labelled file is
 * never left half written), and spools for stream input. Small files are read and written with
 * synchronous calls (see `SMALL_FILE`).
 *
 * Replacing a file keeps what the file system knows of it: a symbolic link is followed (the
 * file it points to is replaced, the link stays, and `WrittenFile.via` says so); a file with
 * more than one hard link is refused (`HardLinkError`), since a rename would give this name a
 * new file and leave the other names on the old one; the owner, group and permissions of an
 * existing target are kept, and with `inPlace` its access and modification times too (as
 * exiftool -P does: labelling is not editing). Temporary files and folders, and the tools
 * writing them, are removed when the process is interrupted (SIGINT, SIGTERM): `onInterrupt`.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fchownSync, fstatSync, fsyncSync, futimesSync, lstatSync, openSync, readSync, realpathSync, renameSync, rmSync, statSync, writeSync, type Stats } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { HeguiError, NotFoundError } from '../errors.js';
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
export const SMALL_FILE = 1 << 20;

export interface OpenedSource {
  source: ByteSource;
  mode: number;
  /** True when the whole file is in memory (a small file). */
  small: boolean;
  /** The opened file's metadata: a large file is copied by name, and must still be this file. */
  stats: Stats;
  close: () => Promise<void>;
}

export function cannotOpen(path: string, error: unknown): NotFoundError {
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
    const stats = fstatSync(fd);
    const { size, mode } = stats;
    if (size <= SMALL_FILE) {
      return { source: bufferSource(readWholeSync(fd, size)), mode: mode & 0o7777, small: true, stats, close: () => Promise.resolve() };
    }
    const handle = await open(path, 'r');
    return { source: handleSource(handle, size), mode: mode & 0o7777, small: false, stats, close: () => handle.close() };
  } finally {
    closeSync(fd);
  }
}

/** Cleanups to run if the process is interrupted: remove temporary files, stop child tools. */
const interruptCleanups = new Set<() => void>();
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

function onSignal(signal: NodeJS.Signals): void {
  for (const cleanup of interruptCleanups) {
    try {
      cleanup();
    } catch {
      // Best effort: the process is ending; the other cleanups must still run.
    }
  }
  interruptCleanups.clear();
  for (const name of SIGNALS) process.removeListener(name, onSignal);
  // With no other handler the signal's default action applies again: end the process with it.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

/**
 * Runs `cleanup` (synchronous) if SIGINT or SIGTERM arrives before the returned function is
 * called. The handlers are installed only while a cleanup is pending; afterwards the signal
 * does what it did before (a server's own graceful-shutdown handler still runs).
 *
 * @example
 * const forget = onInterrupt(() => rmSync(temp, { force: true }));
 * try { await produce(temp); } finally { forget(); }
 */
export function onInterrupt(cleanup: () => void): () => void {
  if (interruptCleanups.size === 0) for (const name of SIGNALS) process.on(name, onSignal);
  interruptCleanups.add(cleanup);
  return () => {
    if (!interruptCleanups.delete(cleanup)) return;
    if (interruptCleanups.size === 0) for (const name of SIGNALS) process.removeListener(name, onSignal);
  };
}

/** A file has more than one hard link: replacing it would silently split the names. */
export class HardLinkError extends HeguiError {
  constructor(path: string, links: number) {
    super(
      'E_LABEL_HARD_LINK',
      `${path} has ${links} hard links: replacing it would leave the other ${links - 1} name${links > 2 ? 's' : ''} on the unlabelled file, so it is refused; write the result elsewhere with -o, or remove the other links first`,
    );
  }
}

/** Where a replacement really goes, and what of the old file to keep. */
export interface TargetPlan {
  /** The path written: the target, or the file a symbolic link at the target points to. */
  path: string;
  /** The symbolic link followed, when the target was one. */
  via?: string;
  /** The existing file's metadata, when there is one. */
  existing?: Stats;
}

/**
 * Resolves `target` before it is replaced: follows a symbolic link (the link stays), refuses a
 * file with several hard links, and returns the existing file's metadata to keep.
 *
 * @throws HardLinkError
 */
export function planTarget(target: string): TargetPlan {
  let link: Stats;
  try {
    link = lstatSync(target);
  } catch {
    return { path: target };
  }
  const path = link.isSymbolicLink() ? realpathSync(target) : target;
  const existing = link.isSymbolicLink() ? statSync(path) : link;
  if (existing.isFile() && existing.nlink > 1) throw new HardLinkError(target, existing.nlink);
  return { path, ...(path !== target ? { via: target } : {}), existing };
}

/**
 * Gives the temporary file (open as `fd`) the old file's owner, group and permissions, and
 * with `keepTimes` its times. Only root may give a file away: another user keeps the file's
 * owner when it is theirs, and otherwise the replacement is refused rather than changing hands.
 */
export function keepMetadata(fd: number, existing: Stats | undefined, keepTimes: boolean): void {
  if (!existing) return;
  const mine = fstatSync(fd);
  if (mine.uid !== existing.uid || mine.gid !== existing.gid) {
    try {
      fchownSync(fd, existing.uid, existing.gid);
    } catch (cause) {
      throw new HeguiError('E_LABEL_OWNER', `cannot keep the file's owner ${existing.uid}:${existing.gid} (${(cause as NodeJS.ErrnoException).code ?? 'error'}); run as that user or root, or write elsewhere with -o`, { cause });
    }
  }
  // The temporary file was created through the umask: set the permissions outright.
  if ((mine.mode & 0o7777) !== (existing.mode & 0o7777)) fchmodSync(fd, existing.mode & 0o7777);
  if (keepTimes) futimesSync(fd, existing.atime, existing.mtime);
}

/** What an atomic write replaced. */
export interface WrittenFile {
  path: string;
  via?: string;
}

/**
 * Writes a small file atomically with synchronous calls (see `SMALL_FILE`). A signal handler
 * runs only between event-loop turns, so none can find this temporary file: it is renamed or
 * removed before this function returns.
 */
export function writeSmallAtomic(target: string, bytes: Uint8Array, mode: number, durable: boolean, inPlace = false, check?: (existing: Stats | undefined) => void): WrittenFile {
  const plan = planTarget(target);
  // The caller's last word on the file about to be replaced (e.g. that it is still the one read).
  check?.(plan.existing);
  const temp = tempPath(plan.path);
  try {
    const fd = openSync(temp, 'wx', plan.existing ? plan.existing.mode & 0o7777 : mode);
    try {
      for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
      keepMetadata(fd, plan.existing, inPlace);
      if (durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, plan.path);
    return { path: plan.path, ...(plan.via ? { via: plan.via } : {}) };
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/** This process's part of temporary names: random, so another process cannot predict them. */
let tempPrefix: string | undefined;
let tempCount = 0;

/**
 * A temporary name beside `target` (same file system, so the rename is atomic); walks skip it.
 * Unique within the process by a counter after a random prefix drawn once (a batch of thousands
 * of files need not draw random bytes for each); created with `wx`, so a clash fails, never
 * overwrites.
 */
export function tempPath(target: string): string {
  tempPrefix ??= randomBytes(6).toString('hex');
  return join(dirname(target), `.${basename(target)}.${tempPrefix}${(tempCount++).toString(36)}.hegui-tmp`);
}

export async function writeAll(handle: FileHandle, data: Uint8Array, position?: number): Promise<void> {
  for (let done = 0; done < data.length; ) {
    const { bytesWritten } = await handle.write(data, done, data.length - done, position === undefined ? null : position + done);
    done += bytesWritten;
  }
}

/** A sink that coalesces small writes into large ones (codecs emit many small pieces). */
export function handleSink(handle: FileHandle): ByteSink & { flush: () => Promise<void> } {
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
 * over `target` on success and removed on failure or interruption. An existing target keeps
 * its owner, group and permissions (and with `inPlace` its times); a symbolic link is followed.
 *
 * @throws HardLinkError for a target with several hard links.
 * @example
 * await writeFileAtomic('out.png', (sink) => pngCodec.write(source, value, sink));
 */
export async function writeFileAtomic(
  target: string,
  produce: (sink: ByteSink) => Promise<void>,
  options: { durable?: boolean; mode?: number; inPlace?: boolean } = {},
): Promise<WrittenFile> {
  const plan = planTarget(target);
  const temp = tempPath(plan.path);
  const mode = plan.existing ? plan.existing.mode & 0o7777 : (options.mode ?? 0o644);
  const forget = onInterrupt(() => rmSync(temp, { force: true }));
  try {
    const handle = await open(temp, 'wx', mode);
    try {
      const sink = handleSink(handle);
      await produce(sink);
      await sink.flush();
      keepMetadata(handle.fd, plan.existing, options.inPlace === true);
      if (options.durable) await handle.sync();
      await handle.close();
      await rename(temp, plan.path);
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
    return { path: plan.path, ...(plan.via ? { via: plan.via } : {}) };
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  } finally {
    forget();
  }
}

/**
 * Like `writeFileAtomic`, for a tool that writes the file itself (ffmpeg): `produce` is given
 * the temporary path to write.
 */
export async function replaceFileAtomic<T>(target: string, produce: (tempPath: string) => Promise<T>, options: { inPlace?: boolean } = {}): Promise<T & WrittenFile> {
  const plan = planTarget(target);
  const temp = tempPath(plan.path);
  const forget = onInterrupt(() => rmSync(temp, { force: true }));
  try {
    const result = await produce(temp);
    const fd = openSync(temp, 'r+');
    try {
      keepMetadata(fd, plan.existing, options.inPlace === true);
    } finally {
      closeSync(fd);
    }
    await rename(temp, plan.path);
    return { ...result, path: plan.path, ...(plan.via ? { via: plan.via } : {}) };
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  } finally {
    forget();
  }
}

/** A spool in a temporary file: stream input of any size in bounded memory. */
export async function fileSpool(directory = tmpdir()): Promise<Spool> {
  const path = join(directory, `hegui-spool-${randomBytes(8).toString('hex')}`);
  const handle = await open(path, 'wx+', 0o600);
  const forget = onInterrupt(() => rmSync(path, { force: true }));
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
      forget();
    },
  };
}

/** Reads `size` bytes from the start of `fd` (fewer if the file is shorter). */
export function readWholeSync(fd: number, size: number): Uint8Array {
  const bytes = Buffer.allocUnsafe(size);
  let done = 0;
  while (done < size) {
    const n = readSync(fd, bytes, done, size - done, done);
    if (n === 0) break;
    done += n;
  }
  return bytes.subarray(0, done);
}
