/**
 * @module label/explicit/audio-video-files
 * Files for the audio and video labels. ffmpeg reads and writes paths, so bytes and streams
 * handed to the library API are first written to a private temporary directory, and results
 * are read back or streamed to the caller from there. A labelled file is never left half
 * written (DESIGN.md ground rules): it is produced under a temporary name beside the target and
 * renamed over it only when complete; on failure the temporary file is removed.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { rmSync } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { openInput, openOutput, type LabelInput, type LabelOutput } from '../api-io.js';
import { InvalidInputError } from '../../errors.js';
import { fileSpool, onInterrupt, replaceFileAtomic } from '../files.js';

/**
 * Runs `use` with a fresh private directory that is removed afterwards, whatever happens (an
 * interrupted process included).
 *
 * @example
 * await withTempDir(async (dir) => writeFile(join(dir, 'x.wav'), bytes));
 */
export async function withTempDir<T>(use: (dir: string) => Promise<T>, parent = tmpdir()): Promise<T> {
  const dir = await mkdtemp(join(parent, 'hegui-av-'));
  const forget = onInterrupt(() => rmSync(dir, { recursive: true, force: true }));
  try {
    return await use(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
    forget();
  }
}

/**
 * Produces `target` atomically: `produce` writes the file at the temporary path it is given,
 * which then replaces `target` by rename (see `replaceFileAtomic`: a symbolic link is followed,
 * hard links refused, owner and permissions kept, and with `inPlace` the times too).
 */
export async function replaceAtomically<T>(target: string, produce: (tempPath: string) => Promise<T>, inPlace = false): Promise<T> {
  return (await replaceFileAtomic(target, async (temp) => ({ value: await produce(temp) }), { inPlace })).value;
}

/** Writes whatever the caller holds (bytes, a stream) to `path`, in bounded memory. */
export async function writeInput(input: LabelInput, path: string): Promise<void> {
  const { source, dispose } = await openInput(input, { spool: () => fileSpool(dirname(path)) });
  try {
    const sink = fileSink(path);
    try {
      for (let at = 0; at < source.size; ) {
        const chunk = await source.read(at, Math.min(1 << 20, source.size - at));
        if (chunk.length === 0) break;
        await sink.sink.write(chunk);
        at += chunk.length;
      }
      await sink.close();
    } catch (error) {
      await sink.abort(error);
      throw error;
    }
  } finally {
    await dispose();
  }
}

/** A `ByteSink` over a new file. */
export function fileSink(path: string): ReturnType<typeof openOutput> {
  return openOutput(createWriteStream(path, { flags: 'wx', mode: 0o600 }));
}

/** Hands a finished file to the caller: its bytes, or streamed to `output`. */
export async function deliverFile(path: string, output?: LabelOutput): Promise<Uint8Array | undefined> {
  if (!output) return new Uint8Array(await readFile(path));
  const out = openOutput(output);
  try {
    await pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), async (chunks: AsyncIterable<Buffer>) => {
      for await (const chunk of chunks) await out.sink.write(chunk);
    });
  } catch (error) {
    await out.abort(error);
    throw error;
  }
  await out.close();
  return undefined;
}

/** Where a labelled file goes: `out`, or the input itself with `inPlace`. */
export function targetPath(path: string, options: { out?: string; inPlace?: boolean }): string {
  if (options.out) return options.out;
  if (options.inPlace) return path;
  throw new InvalidInputError('E_LABEL_NO_OUTPUT', 'say where the labelled file goes: an output path, or in place');
}

/** Top-level boxes looked at before giving up on finding `moov` or `mdat`. */
const MAX_TOP_BOXES = 64;

/**
 * True when an MP4/MOV file has its index (`moov`) before its media data (`mdat`): a
 * "faststart" file that players start before the download ends. ffmpeg writes the index at
 * the end unless asked (`-movflags +faststart`), so a labeller re-encoding such a file asks.
 */
export async function mp4IndexFirst(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const header = Buffer.alloc(16);
    for (let at = 0, boxes = 0; at + 8 <= size && boxes < MAX_TOP_BOXES; boxes++) {
      const { bytesRead } = await handle.read(header, 0, 16, at);
      if (bytesRead < 8) return false;
      const type = header.toString('latin1', 4, 8);
      if (type === 'moov') return true;
      if (type === 'mdat') return false;
      let length = header.readUInt32BE(0);
      if (length === 1 && bytesRead >= 16) length = Number(header.readBigUInt64BE(8));
      if (length < 8) return false;
      at += length;
    }
    return false;
  } finally {
    await handle.close();
  }
}
