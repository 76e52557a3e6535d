/**
 * @module label/files
 * The label operations on files: embed, propagate, strip and read, each atomic (see
 * `file-io.ts`). With `inPlace`, a codec that can store the label without changing the file's
 * size (`planInPlace`, e.g. the label fits in XMP padding) patches those bytes directly, which
 * takes the same few milliseconds for any size. Files whose format has no place for a label can
 * carry it in a `.aigc.json` sidecar (`sidecar-files.ts`); reading and stripping look there too.
 */
import { lstatSync, realpathSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { InvalidInputError } from '../errors.js';
import { UnsupportedFormatError } from './errors.js';
import type { ByteSink, ByteSource, LabelCodec } from './implicit/codec.js';
import { BufferSink, bufferSource } from './implicit/bytes.js';
import { findSourceCodec } from './implicit/codec-table.js';
import { embedLabel, propagateLabel, propagatedLabel, readLabels, stripLabel, type EmbedRequest, type LabelOptions, type LabelReport, type LabelWriteResult, type PropagateRequest } from './api.js';
import { createLabel, formatLabel } from './model.js';
import type { LabelVerifyKey } from './security-keys.js';
import type { CheckOptions } from './security.js';
import { handleSource, openSource, type OpenedSource, writeAll, writeSmallAtomic, type WrittenFile } from './file-io.js';
import { FileChangedError, writeLargeAtomic } from './file-copy.js';
import { assertWritable, patchOpenError, patchSmallFile } from './small-files.js';
import { embedSidecarFile, propagateSidecarFile, readSidecarFile, removeSidecarFile } from './sidecar-files.js';

export { fileSpool, handleSource, HardLinkError, onInterrupt, replaceFileAtomic, writeFileAtomic, type WrittenFile } from './file-io.js';
export { embedSidecarFile, propagateSidecarFile, readSidecarFile, removeSidecarFile, type SidecarWriteResult } from './sidecar-files.js';

export interface FileWriteOptions extends LabelOptions {
  /** Where to write; defaults to the input path when `inPlace` is set. */
  out?: string;
  /** Replace the input file (atomically, or by an in-place patch when the codec can). */
  inPlace?: boolean;
  /** fsync the new file before renaming it over the old one. */
  durable?: boolean;
}

export interface FileEmbedOptions extends FileWriteOptions {
  /**
   * `fallback`: a file whose format has no place for a label gets a `.aigc.json` sidecar instead
   * of an error; `always`: every file gets a sidecar and is left unchanged. Default: never.
   */
  sidecar?: 'never' | 'fallback' | 'always';
}

/** What a file operation did, for the CLI's per-file report. */
export interface FileWriteResult extends Omit<LabelWriteResult, 'bytes'> {
  /** The file written (for a symbolic link: the file it points to). */
  path: string;
  /** The symbolic link that was followed to `path`, when the target was one. */
  via?: string;
  /** `patched` when the label was written into existing bytes, `rewritten` otherwise; `removed` for a deleted sidecar. */
  method: 'patched' | 'rewritten' | 'removed';
}

function targetOf(path: string, options: FileWriteOptions): string {
  if (options.out) return options.out;
  if (options.inPlace) return path;
  throw new InvalidInputError('E_LABEL_NO_OUTPUT', 'say where the labelled file goes: an output path, or in place');
}

/**
 * What `tryPatch` did: `codec` when the file was patched; otherwise, for a small file, its
 * bytes as read (`opened`), so that the rewrite that follows does not read it again.
 */
interface PatchAttempt {
  codec?: LabelCodec;
  opened?: OpenedSource;
}

/** Applies same-size patches to the file, when the codec can plan them for `value`. */
async function tryPatch(path: string, value: string, options: FileWriteOptions): Promise<PatchAttempt> {
  const small = await patchSmallFile(path, value, options.codecs ?? [], options.durable === true);
  if (small.kind === 'patched') return { codec: small.codec };
  if (small.kind === 'no-room') return { opened: { source: bufferSource(small.bytes), mode: small.mode, small: true, stats: small.stats, close: () => Promise.resolve() } };
  const handle = await open(path, 'r+').catch((error: unknown) => {
    throw patchOpenError(path, error);
  });
  try {
    const { size, atime, mtime } = await handle.stat();
    const source = handleSource(handle, size);
    const codec = await findSourceCodec(source, options.codecs, path);
    const patches = await codec.planInPlace?.(source, value);
    if (!patches) return {};
    for (const patch of patches) await writeAll(handle, patch.bytes, patch.offset);
    // In place, the file keeps its times as a rewrite does (file-io.ts).
    await handle.utimes(atime, mtime);
    if (options.durable) await handle.sync();
    return { codec };
  } finally {
    await handle.close();
  }
}

/** Rewrites the file atomically; `opened` is the file as `tryPatch` already read it (opened for writing). */
async function rewriteFile(
  path: string,
  options: FileWriteOptions,
  write: (source: ByteSource, output: ByteSink) => Promise<Omit<LabelWriteResult, 'bytes'>>,
  opened?: OpenedSource,
): Promise<FileWriteResult> {
  const target = targetOf(path, options);
  const inPlace = target === path;
  if (inPlace && !opened) assertWritable(path);
  const { source, mode, small, stats, close } = opened ?? (await openSource(path));
  try {
    let result: Omit<LabelWriteResult, 'bytes'> | undefined;
    let written: WrittenFile;
    if (small) {
      const sink = new BufferSink();
      result = await write(source, sink);
      written = writeSmallAtomic(target, sink.bytes(), mode, options.durable === true, inPlace);
    } else {
      // Copied by the kernel and patched where the payload stays in place (file-copy.ts).
      ({ result, written } = await writeLargeAtomic(path, source, target, (sink) => write(source, sink), { opened: stats, mode, inPlace, ...(options.durable ? { durable: true } : {}) }));
    }
    if (!result) throw new InvalidInputError('E_LABEL_NO_OUTPUT', `nothing was written for ${path}`);
    return { format: result.format, label: result.label, path: written.path, ...(written.via ? { via: written.via } : {}), method: 'rewritten' };
  } finally {
    await close();
  }
}

/** What identifies the file read: it is replaced only if it is still that file. */
interface ReadIdentity {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
}

/**
 * A small file's labelled bytes, made but not yet written (`prepareEmbedFile`). Plain data, so
 * it can come back from a worker thread; `commitPreparedWrite` writes it atomically.
 */
export interface PreparedWrite {
  kind: 'prepared';
  path: string;
  target: string;
  inPlace: boolean;
  durable: boolean;
  bytes: Uint8Array;
  mode: number;
  read: ReadIdentity;
  format: LabelWriteResult['format'];
  label: LabelWriteResult['label'];
}

/**
 * What `prepareEmbedFile` did: `done` (patched in place, nothing left to write), `prepared`
 * (the bytes to write), or `other` for the cases it leaves to `embedLabelFile` (a large file,
 * a signing key, sidecars for every file).
 */
export type PreparedEmbed = { kind: 'done'; result: FileWriteResult } | PreparedWrite | { kind: 'other' };

/**
 * The first half of `embedLabelFile` for a small file: reads it, patches it in place when the
 * label fits (unsigned, in place), or makes the labelled bytes without writing them. The CLI's
 * worker threads run this; the main thread then writes with `commitPreparedWrite`, so temporary
 * files are made only where signals are handled (file-io.ts, `onInterrupt`). The same codec
 * calls as `embedLabelFile`, so the same bytes.
 *
 * @throws as `embedLabelFile` (UnsupportedFormatError, ReadOnlyFileError, label errors...)
 */
export async function prepareEmbedFile(path: string, request: EmbedRequest, options: FileEmbedOptions = {}): Promise<PreparedEmbed> {
  if (options.sidecar === 'always' || request.key || request.tsa) return { kind: 'other' };
  const target = targetOf(path, options);
  const inPlace = target === path;
  let bytes: Uint8Array;
  let stats: Stats;
  let mode: number;
  if (inPlace) {
    const label = createLabel(request);
    const small = await patchSmallFile(path, formatLabel(label), options.codecs ?? [], options.durable === true);
    if (small.kind === 'large') return { kind: 'other' };
    if (small.kind === 'patched') return { kind: 'done', result: { format: small.codec.format, label, ...patchedPath(path), method: 'patched' } };
    ({ bytes, stats, mode } = small);
  } else {
    const opened = await openSource(path);
    if (!opened.small) {
      await opened.close();
      return { kind: 'other' };
    }
    bytes = await opened.source.read(0, opened.source.size);
    ({ stats, mode } = opened);
  }
  const sink = new BufferSink();
  const result = await embedLabel(bufferSource(bytes), request, { name: path, ...options, output: sink });
  const { dev, ino, size, mtimeMs } = stats;
  return { kind: 'prepared', path, target, inPlace, durable: options.durable === true, bytes: sink.bytes(), mode, read: { dev, ino, size, mtimeMs }, format: result.format, label: result.label };
}

/**
 * Writes what `prepareEmbedFile` made, atomically. In place, the file must still be the one
 * read (same inode, size and modification time): otherwise nothing is written.
 *
 * @throws FileChangedError, HardLinkError, and the errors of an atomic write.
 */
export function commitPreparedWrite(prepared: PreparedWrite): FileWriteResult {
  const check = (existing: Stats | undefined): void => {
    if (!prepared.inPlace) return;
    const { read } = prepared;
    if (!existing || existing.dev !== read.dev || existing.ino !== read.ino || existing.size !== read.size || existing.mtimeMs !== read.mtimeMs) throw new FileChangedError(prepared.path);
  };
  const written = writeSmallAtomic(prepared.target, prepared.bytes, prepared.mode, prepared.durable, prepared.inPlace, check);
  return { format: prepared.format, label: prepared.label, path: written.path, ...(written.via ? { via: written.via } : {}), method: 'rewritten' };
}

/** A patched file as the report names it: through a symbolic link, the file it points to. */
function patchedPath(path: string): { path: string; via?: string } {
  return lstatSync(path).isSymbolicLink() ? { path: realpathSync(path), via: path } : { path };
}

/**
 * Embeds a label into a file. In place and unsigned, the label is patched into existing bytes
 * when it fits (`planInPlace`); otherwise the file is rewritten atomically.
 *
 * @example
 * await embedLabelFile('photo.jpg', { producer, produceId: 'p-1', key }, { inPlace: true });
 */
export async function embedLabelFile(path: string, request: EmbedRequest, options: FileEmbedOptions = {}): Promise<FileWriteResult> {
  const sidecar = options.sidecar ?? 'never';
  if (sidecar === 'always') return embedSidecarFile(path, request, options);
  try {
    if (options.inPlace && !options.out && !request.key) {
      const label = createLabel(request);
      const { codec, opened } = await tryPatch(path, formatLabel(label), options);
      if (codec) return { format: codec.format, label, ...patchedPath(path), method: 'patched' };
      if (opened) return await rewriteFile(path, options, (source, sink) => embedLabel(source, request, { name: path, ...options, output: sink }), opened);
    }
    return await rewriteFile(path, options, (source, sink) => embedLabel(source, request, { name: path, ...options, output: sink }));
  } catch (error) {
    if (sidecar === 'fallback' && error instanceof UnsupportedFormatError) return embedSidecarFile(path, request, options);
    throw error;
  }
}

/** Adds a platform's propagation fields to a labelled file; patched in place when unsigned and it fits. */
export async function propagateLabelFile(path: string, request: PropagateRequest, options: FileWriteOptions = {}): Promise<FileWriteResult> {
  try {
    if (options.inPlace && !options.out && !request.key) {
      const current = (await readLabelFile(path, options)).label;
      if (current) {
        const label = propagatedLabel(current, request);
        const { codec, opened } = await tryPatch(path, formatLabel(label), options);
        if (codec) return { format: codec.format, label, ...patchedPath(path), method: 'patched' };
        if (opened) return await rewriteFile(path, options, (source, sink) => propagateLabel(source, request, { name: path, ...options, output: sink }), opened);
      }
    }
    return await rewriteFile(path, options, (source, sink) => propagateLabel(source, request, { name: path, ...options, output: sink }));
  } catch (error) {
    // A file hegui cannot label inside may carry its label in a sidecar.
    const viaSidecar = error instanceof UnsupportedFormatError ? await propagateSidecarFile(path, request, options) : undefined;
    if (viaSidecar) return viaSidecar;
    throw error;
  }
}

/** Removes every label from a file (atomic rewrite), and its sidecar if it has one. */
export async function stripLabelFile(path: string, options: FileWriteOptions = {}): Promise<FileWriteResult> {
  const removeSidecar = (): Promise<FileWriteResult | undefined> => (options.out ? Promise.resolve(undefined) : removeSidecarFile(path));
  try {
    const result = await rewriteFile(path, options, (source, sink) => stripLabel(source, { name: path, ...options, output: sink }));
    await removeSidecar();
    return result;
  } catch (error) {
    const removed = error instanceof UnsupportedFormatError ? await removeSidecar() : undefined;
    if (removed) return removed;
    throw error;
  }
}

/**
 * Reads (and with `keys`, verifies) the labels of a file without loading it into memory. A file
 * with no label inside, or of a format with no place for one, is read from its sidecar when it
 * has one.
 */
export async function readLabelFile(path: string, options: LabelOptions & CheckOptions & { keys?: readonly LabelVerifyKey[] } = {}): Promise<LabelReport> {
  const { source, close } = await openSource(path);
  let report: LabelReport;
  try {
    report = await readLabels(source, { name: path, ...options });
  } catch (error) {
    const sidecar = error instanceof UnsupportedFormatError ? await readSidecarFile(path, options.keys, options) : undefined;
    if (sidecar) return sidecar;
    throw error;
  } finally {
    await close();
  }
  return report.label === null ? ((await readSidecarFile(path, options.keys, options)) ?? report) : report;
}
