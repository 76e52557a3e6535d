/**
 * @module label/files
 * The only part of label/ that touches the file system. A labelled file is never left half
 * written (DESIGN.md ground rules): output goes to a temporary file in the target's directory,
 * which replaces the target by rename only when complete. With `inPlace`, a codec that can
 * store the label without changing the file's size (`planInPlace`, e.g. the label fits in XMP
 * padding) patches those bytes directly, which takes the same few milliseconds for any size.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { InvalidInputError, NotFoundError } from '../errors.js';
import type { ByteSink, ByteSource, LabelCodec } from './implicit/codec.js';
import { BufferSink, COPY_CHUNK, bufferSource } from './implicit/bytes.js';
import { codecFor, codecList } from './implicit/registry.js';
import { embedLabel, propagateLabel, propagatedLabel, readLabels, stripLabel, type EmbedRequest, type LabelOptions, type LabelReport, type LabelWriteResult, type PropagateRequest } from './api.js';
import type { Spool } from './api-io.js';
import { createLabel, formatLabel } from './model.js';
import type { LabelVerifyKey } from './security-keys.js';

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

interface OpenedSource {
  source: ByteSource;
  mode: number;
  /** True when the whole file is in memory (a small file). */
  small: boolean;
  close: () => Promise<void>;
}

function cannotOpen(path: string, error: unknown): NotFoundError {
  return new NotFoundError('E_LABEL_FILE', `cannot open ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
}

async function openSource(path: string): Promise<OpenedSource> {
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
function writeSmallAtomic(target: string, bytes: Uint8Array, mode: number, durable: boolean): void {
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

async function writeAll(handle: FileHandle, data: Uint8Array, position?: number): Promise<void> {
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

export interface FileWriteOptions extends LabelOptions {
  /** Where to write; defaults to the input path when `inPlace` is set. */
  out?: string;
  /** Replace the input file (atomically, or by an in-place patch when the codec can). */
  inPlace?: boolean;
  /** fsync the new file before renaming it over the old one. */
  durable?: boolean;
}

/** What a file operation did, for the CLI's per-file report. */
export interface FileWriteResult extends Omit<LabelWriteResult, 'bytes'> {
  path: string;
  /** `patched` when the label was written into existing bytes, `rewritten` otherwise. */
  method: 'patched' | 'rewritten';
}

function targetOf(path: string, options: FileWriteOptions): string {
  if (options.out) return options.out;
  if (options.inPlace) return path;
  throw new InvalidInputError('E_LABEL_NO_OUTPUT', 'say where the labelled file goes: an output path, or in place');
}

/** Applies same-size patches to the file, when the codec can plan them for `value`. */
async function tryPatch(path: string, value: string, options: FileWriteOptions): Promise<LabelCodec | undefined> {
  const handle = await open(path, 'r+');
  try {
    const { size } = await handle.stat();
    const source = handleSource(handle, size);
    const codec = await codecFor(source, codecList(options.codecs), path);
    const patches = await codec.planInPlace?.(source, value);
    if (!patches) return undefined;
    for (const patch of patches) await writeAll(handle, patch.bytes, patch.offset);
    if (options.durable) await handle.sync();
    return codec;
  } finally {
    await handle.close();
  }
}

async function rewriteFile(
  path: string,
  options: FileWriteOptions,
  write: (source: ByteSource, output: ByteSink) => Promise<Omit<LabelWriteResult, 'bytes'>>,
): Promise<FileWriteResult> {
  const target = targetOf(path, options);
  const { source, mode, small, close } = await openSource(path);
  try {
    let result: Omit<LabelWriteResult, 'bytes'> | undefined;
    if (small) {
      const sink = new BufferSink();
      result = await write(source, sink);
      writeSmallAtomic(target, sink.bytes(), mode, options.durable === true);
    } else {
      const produce = async (sink: ByteSink): Promise<void> => {
        result = await write(source, sink);
      };
      await writeFileAtomic(target, produce, { mode, ...(options.durable ? { durable: true } : {}) });
    }
    if (!result) throw new InvalidInputError('E_LABEL_NO_OUTPUT', `nothing was written for ${path}`);
    return { format: result.format, label: result.label, path: target, method: 'rewritten' };
  } finally {
    await close();
  }
}

/**
 * Embeds a label into a file. In place and unsigned, the label is patched into existing bytes
 * when it fits (`planInPlace`); otherwise the file is rewritten atomically.
 *
 * @example
 * await embedLabelFile('photo.jpg', { producer, produceId: 'p-1', key }, { inPlace: true });
 */
export async function embedLabelFile(path: string, request: EmbedRequest, options: FileWriteOptions = {}): Promise<FileWriteResult> {
  if (options.inPlace && !options.out && !request.key) {
    const label = createLabel(request);
    const codec = await tryPatch(path, formatLabel(label), options);
    if (codec) return { format: codec.format, label, path, method: 'patched' };
  }
  return rewriteFile(path, options, (source, sink) => embedLabel(source, request, { name: path, ...options, output: sink }));
}

/** Adds a platform's propagation fields to a labelled file; patched in place when unsigned and it fits. */
export async function propagateLabelFile(path: string, request: PropagateRequest, options: FileWriteOptions = {}): Promise<FileWriteResult> {
  if (options.inPlace && !options.out && !request.key) {
    const current = (await readLabelFile(path, options)).label;
    if (current) {
      const label = propagatedLabel(current, request);
      const codec = await tryPatch(path, formatLabel(label), options);
      if (codec) return { format: codec.format, label, path, method: 'patched' };
    }
  }
  return rewriteFile(path, options, (source, sink) => propagateLabel(source, request, { name: path, ...options, output: sink }));
}

/** Removes every label from a file (atomic rewrite). */
export async function stripLabelFile(path: string, options: FileWriteOptions = {}): Promise<FileWriteResult> {
  return rewriteFile(path, options, (source, sink) => stripLabel(source, { name: path, ...options, output: sink }));
}

/** Reads (and with `keys`, verifies) the labels of a file without loading it into memory. */
export async function readLabelFile(path: string, options: LabelOptions & { keys?: readonly LabelVerifyKey[] } = {}): Promise<LabelReport> {
  const { source, close } = await openSource(path);
  try {
    return await readLabels(source, { name: path, ...options });
  } finally {
    await close();
  }
}
