/**
 * @module label/file-copy
 * Large files rewritten by "copy, then patch" (issue 14): a codec's output is first recorded as
 * a plan of pieces (ranges of the source, and the new bytes in between), with no payload read.
 * When most of the output sits where it sat in the source (an MP4 whose `moov` is at the end,
 * WAV, FLAC with padding, TIFF, a PDF incremental update), the source is copied by the kernel
 * with `fs.copyFile` (copy_file_range, or a reflink where the file system shares blocks), and
 * only the new bytes and any moved ranges are written over the copy, which is then cut to the
 * output's length. Otherwise (a grown `moov` before `mdat` shifts everything) the plan is
 * streamed as before, in large chunks. Either way the write is atomic (`file-io.ts`): a
 * temporary file beside the target, renamed over it only when complete, removed on failure or
 * interruption, and the input is never written.
 *
 * One place for every codec: `copyRange` (`implicit/bytes.ts`) offers each range to the sink's
 * `copyFrom`, and every codec copies its payload through `copyRange`, so no codec knows which
 * way its file is written. Both ways give the same bytes (src/label/file-copy.test.ts).
 */
import { constants, rmSync, type Stats } from 'node:fs';
import { copyFile, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { HeguiError } from '../errors.js';
import type { ByteSink, ByteSource } from './implicit/codec.js';
import { COPY_CHUNK, copyRange } from './implicit/bytes.js';
import { handleSink, keepMetadata, onInterrupt, planTarget, tempPath, writeAll, type WrittenFile } from './file-io.js';

/** One piece of the output: a range of the source, or bytes made in memory. */
type PlanPiece = { start: number; end: number } | Uint8Array;

/**
 * New bytes a plan may hold in memory (labels, rebuilt metadata, padding). Codecs copy their
 * payload as ranges, so a plan stays far below this; past it, the output is streamed.
 */
const PLAN_BYTES = 32 << 20;

/**
 * The copy is used when at least this share of the output is source bytes left where they
 * were: the rest must then be written over the copy, so below it streaming does less work.
 */
const IN_PLACE_SHARE = 0.5;

/** The file named `path` is no longer the file that was opened and parsed. */
export class FileChangedError extends HeguiError {
  constructor(path: string) {
    super('E_LABEL_FILE_CHANGED', `${path} changed while it was being labelled (another program wrote, replaced or truncated it); nothing was written, run the command again`);
  }
}

/**
 * A `ByteSink` that records the output as a plan. Ranges of `source` are kept as offsets;
 * written bytes are copied (the codec may reuse its buffer). A plan that outgrows
 * `PLAN_BYTES` turns into a stream: `stream()` opens the output, the plan so far is written
 * to it, and everything after goes straight there.
 */
class PlanSink implements ByteSink {
  readonly pieces: PlanPiece[] = [];
  /** The output's length so far. */
  length = 0;
  /** Bytes of the output that are source bytes at the same offset. */
  inPlace = 0;
  #held = 0;
  #stream: (ByteSink & { flush: () => Promise<void> }) | undefined;
  readonly #source: ByteSource;
  readonly #openStream: () => Promise<ByteSink & { flush: () => Promise<void> }>;

  constructor(source: ByteSource, openStream: () => Promise<ByteSink & { flush: () => Promise<void> }>) {
    this.#source = source;
    this.#openStream = openStream;
  }

  get streamed(): (ByteSink & { flush: () => Promise<void> }) | undefined {
    return this.#stream;
  }

  copyFrom(source: ByteSource, start: number, end: number): Promise<boolean> {
    // Another source (a box loaded into memory), or a range past the end (a truncated file,
    // which `copyRange` reports), is written as bytes.
    if (this.#stream || source !== this.#source || start < 0 || end > source.size) return Promise.resolve(false);
    const last = this.pieces.at(-1);
    if (last && !(last instanceof Uint8Array) && last.end === start) last.end = end;
    else this.pieces.push({ start, end });
    if (start === this.length) this.inPlace += end - start;
    this.length += end - start;
    return Promise.resolve(true);
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.#stream) return this.#stream.write(chunk);
    if (chunk.length === 0) return;
    this.pieces.push(chunk.slice());
    this.length += chunk.length;
    this.#held += chunk.length;
    if (this.#held > PLAN_BYTES) {
      this.#stream = await this.#openStream();
      await replay(this.#source, this.pieces.splice(0), this.#stream);
    }
  }
}

/** Writes `pieces` in order to `sink`, ranges in bounded chunks. */
async function replay(source: ByteSource, pieces: readonly PlanPiece[], sink: ByteSink): Promise<void> {
  for (const piece of pieces) {
    if (piece instanceof Uint8Array) await sink.write(piece);
    else await copyRange(source, piece.start, piece.end, sink);
  }
}

/** True when `now` is still the file `opened` was: same inode, size and modification time. */
function sameFile(opened: Stats, now: Stats): boolean {
  return opened.dev === now.dev && opened.ino === now.ino && opened.size === now.size && opened.mtimeMs === now.mtimeMs;
}

/**
 * Copies `sourcePath` to `temp` in the kernel and writes the plan's other pieces over the copy.
 * Returns the open temporary file. The copy gets `mode` as a file created with it would (the
 * umask applied), like the streamed file.
 */
async function copyAndPatch(sourcePath: string, opened: Stats, source: ByteSource, temp: string, mode: number, plan: PlanSink): Promise<FileHandle> {
  // What a new file with `mode` gets under this process's umask: copyFile gives the source's mode.
  const probe = await open(temp, 'wx', mode);
  const created = (await probe.stat()).mode & 0o7777;
  await probe.close();
  await rm(temp, { force: true });
  if (!sameFile(opened, await stat(sourcePath))) throw new FileChangedError(sourcePath);
  await copyFile(sourcePath, temp, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
  const handle = await open(temp, 'r+');
  try {
    // The copy was made by name: it must be of the file parsed, unchanged since.
    if (!sameFile(opened, await stat(sourcePath)) || (await handle.stat()).size !== source.size) throw new FileChangedError(sourcePath);
    await handle.chmod(created);
    let at = 0;
    let batch: Uint8Array[] = [];
    let batchStart = 0;
    let batchBytes = 0;
    const flush = async (): Promise<void> => {
      if (batchBytes === 0) return;
      await writeAll(handle, batch.length === 1 ? (batch[0] as Uint8Array) : Buffer.concat(batch, batchBytes), batchStart);
      batch = [];
      batchBytes = 0;
    };
    for (const piece of plan.pieces) {
      if (piece instanceof Uint8Array) {
        if (batchBytes === 0) batchStart = at;
        batch.push(piece);
        batchBytes += piece.length;
        at += piece.length;
        if (batchBytes >= COPY_CHUNK) await flush();
        continue;
      }
      await flush();
      // A range that moved is read and written; one in its place is already in the copy.
      if (piece.start !== at) await copyRange(source, piece.start, piece.end, positionedSink(handle, at));
      at += piece.end - piece.start;
    }
    await flush();
    await handle.truncate(at);
    return handle;
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
}

/** A sink writing at `position` onwards of an open file. */
function positionedSink(handle: FileHandle, position: number): ByteSink {
  let at = position;
  return {
    write: async (chunk) => {
      await writeAll(handle, chunk, at);
      at += chunk.length;
    },
  };
}

/** How a large file was written: copied by the kernel and patched, or streamed. */
export type LargeWriteMethod = 'copied' | 'streamed';

export interface LargeWriteOptions {
  /** The opened source's metadata (`openSource`), checked against the file copied by name. */
  opened: Stats;
  /** Mode for a new target (an existing target keeps its own). */
  mode: number;
  inPlace?: boolean;
  durable?: boolean;
  /** Force one way (tests compare them); by default the plan decides. */
  method?: LargeWriteMethod;
}

/**
 * Writes `target` atomically with what `produce` writes, reading from `source`, the file at
 * `sourcePath`: copied by the kernel and patched when most of the output stays in place,
 * streamed otherwise (see the module comment). The input is never written; on any failure
 * the temporary file is removed and the target is left as it was.
 *
 * @throws FileChangedError when the file at `sourcePath` is no longer the one opened.
 * @throws HardLinkError for a target with several hard links.
 * @example
 * const { source, stats, mode, close } = await openSource('movie.mp4');
 * await writeLargeAtomic('movie.mp4', source, 'out.mp4', (sink) => mp4Codec.write(source, value, sink), { opened: stats, mode });
 */
export async function writeLargeAtomic<T>(
  sourcePath: string,
  source: ByteSource,
  target: string,
  produce: (sink: ByteSink) => Promise<T>,
  options: LargeWriteOptions,
): Promise<{ result: T; written: WrittenFile; method: LargeWriteMethod }> {
  const plan = planTarget(target);
  const temp = tempPath(plan.path);
  const mode = plan.existing ? plan.existing.mode & 0o7777 : options.mode;
  const forget = onInterrupt(() => rmSync(temp, { force: true }));
  let handle: FileHandle | undefined;
  try {
    const openStream = async (): Promise<ByteSink & { flush: () => Promise<void> }> => {
      handle = await open(temp, 'wx', mode);
      return handleSink(handle);
    };
    const recorder = new PlanSink(source, openStream);
    const result = await produce(recorder);
    let method: LargeWriteMethod = 'streamed';
    const streamed = recorder.streamed;
    if (streamed) {
      await streamed.flush();
    } else if (options.method === 'copied' || (options.method === undefined && recorder.inPlace >= IN_PLACE_SHARE * recorder.length)) {
      handle = await copyAndPatch(sourcePath, options.opened, source, temp, mode, recorder);
      method = 'copied';
    } else {
      const sink = await openStream();
      await replay(source, recorder.pieces, sink);
      await sink.flush();
    }
    const file = handle as FileHandle | undefined;
    if (!file) throw new Error('no output file was opened');
    keepMetadata(file.fd, plan.existing, options.inPlace === true);
    if (options.durable) await file.sync();
    await file.close();
    handle = undefined;
    await rename(temp, plan.path);
    return { result, written: { path: plan.path, ...(plan.via ? { via: plan.via } : {}) }, method };
  } catch (error) {
    await (handle as FileHandle | undefined)?.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw error;
  } finally {
    forget();
  }
}
