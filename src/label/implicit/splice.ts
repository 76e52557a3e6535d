/**
 * @module label/implicit/splice
 * How the media container codecs (MP4, MP3, WAV, FLAC, OGG, Matroska) rewrite a file: as a run
 * of pieces, each either a range copied from the source or new bytes built in memory. Only the
 * metadata a codec edits is ever held in memory; the payload streams from the `ByteSource` to
 * the `ByteSink` in bounded chunks, reading the next chunk while the previous one is written.
 */
import { LabelFormatError } from '../errors.js';
import { copyRange, readExact } from './bytes.js';
import type { BytePatch, ByteSink, ByteSource } from './codec.js';

/**
 * Writes a spliced file in order. Adjacent copies are merged, so a codec can describe its output
 * box by box while the payload still moves in large chunks.
 */
export class SpliceWriter {
  readonly #source: ByteSource;
  readonly #sink: ByteSink;
  readonly #format: string;
  #pending: { start: number; end: number } | undefined;

  constructor(source: ByteSource, sink: ByteSink, format: string) {
    this.#source = source;
    this.#sink = sink;
    this.#format = format;
  }

  /** Queues a copy of `[start, end)` of the source. */
  async copy(start: number, end: number): Promise<void> {
    if (end <= start) return;
    if (this.#pending?.end === start) {
      this.#pending.end = end;
      return;
    }
    await this.#flush();
    this.#pending = { start, end };
  }

  /** Writes new bytes after everything queued so far. */
  async bytes(bytes: Uint8Array): Promise<void> {
    if (bytes.length === 0) return;
    await this.#flush();
    await this.#sink.write(bytes);
  }

  /** Writes whatever is still queued; call once at the end. */
  async finish(): Promise<void> {
    await this.#flush();
  }

  async #flush(): Promise<void> {
    const pending = this.#pending;
    if (!pending) return;
    this.#pending = undefined;
    await copyRange(this.#source, pending.start, pending.end, this.#sink, this.#format);
  }
}

/**
 * Reads a source through a window, so parsers that walk many small headers (EBML elements, Ogg
 * pages, FLAC blocks) make one read per window instead of one per header. Every read is exact:
 * running past the end of the source is a `LabelFormatError` naming the offset.
 */
export class SourceReader {
  readonly source: ByteSource;
  readonly format: string;
  readonly #window: number;
  #buffer: Uint8Array = new Uint8Array(0);
  #bufferStart = 0;

  constructor(source: ByteSource, format: string, window = 64 * 1024) {
    this.source = source;
    this.format = format;
    this.#window = window;
  }

  get size(): number {
    return this.source.size;
  }

  /** Exactly `length` bytes at `offset`; the result is valid until the next call. */
  async bytes(offset: number, length: number, what = 'data'): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.source.size) {
      throw new LabelFormatError(this.format, `${what} (${length} bytes) runs past the end of the file at byte ${this.source.size}`, { offset });
    }
    const from = offset - this.#bufferStart;
    if (from >= 0 && from + length <= this.#buffer.length) return this.#buffer.subarray(from, from + length);
    const want = Math.min(Math.max(length, this.#window), this.source.size - offset);
    const chunk = await this.source.read(offset, want);
    if (chunk.length < length) {
      throw new LabelFormatError(this.format, `${what} is cut short: the file ends at byte ${offset + chunk.length}`, { offset });
    }
    this.#buffer = chunk;
    this.#bufferStart = offset;
    return chunk.subarray(0, length);
  }

  /** Up to `length` bytes at `offset`, fewer only at the end of the source. */
  async upTo(offset: number, length: number): Promise<Uint8Array> {
    return this.bytes(offset, Math.max(0, Math.min(length, this.source.size - offset)));
  }
}

/**
 * The in-place patches that turn `before` into `after` (equal lengths) at `offset`: only the
 * spans that differ, with spans closer than 64 bytes merged, so an in-place write touches a
 * few small ranges of a metadata region rather than all of it.
 */
export function diffPatches(offset: number, before: Uint8Array, after: Uint8Array): BytePatch[] {
  if (before.length !== after.length) throw new RangeError('diffPatches needs equal lengths');
  const patches: BytePatch[] = [];
  for (let i = firstDifference(before, after, 0); i < after.length; i = firstDifference(before, after, i)) {
    const start = i;
    let end = i + 1;
    for (let j = end, same = 0; j < after.length && same < 64; j++) {
      if (before[j] === after[j]) same++;
      else {
        same = 0;
        end = j + 1;
      }
    }
    patches.push({ offset: offset + start, bytes: after.slice(start, end) });
    i = end;
  }
  return patches;
}

/**
 * The first index at or after `from` where `a` and `b` (equal lengths) differ, or their length.
 * Compares 32-bit words when both are aligned: a `moov` is mostly unchanged sample tables, and
 * this runs once per in-place write, before the JIT has warmed up.
 */
function firstDifference(a: Uint8Array, b: Uint8Array, from: number): number {
  let i = from;
  if (a.byteOffset % 4 === 0 && b.byteOffset % 4 === 0) {
    for (; i % 4 !== 0 && i < a.length; i++) if (a[i] !== b[i]) return i;
    const words = Math.floor(a.length / 4);
    const wordsA = new Uint32Array(a.buffer, a.byteOffset, words);
    const wordsB = new Uint32Array(b.buffer, b.byteOffset, words);
    let w = i / 4;
    while (w < words && wordsA[w] === wordsB[w]) w++;
    i = Math.max(i, w * 4);
  }
  while (i < a.length && a[i] === b[i]) i++;
  return i;
}

/** Reads an unsigned 64-bit big-endian integer, refusing values beyond 2^53 (no file is that big). */
export function readU64(view: DataView, at: number, format: string, offset: number): number {
  const value = view.getBigUint64(at);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new LabelFormatError(format, `64-bit value ${value} is larger than any file`, { offset });
  }
  return Number(value);
}

/** Four-character codes and other single-byte text, one character per byte. */
export function latin1(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

/** The bytes of a single-byte string (four-character codes). */
export function latin1Bytes(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);
}

/** One piece of a rewritten region: a range `[start, end)` copied from the source, or new bytes. */
export type Piece = { start: number; end: number } | Uint8Array;

export function pieceLength(piece: Piece): number {
  return piece instanceof Uint8Array ? piece.length : piece.end - piece.start;
}

/** Writes `pieces` in order. */
export async function writePieces(writer: SpliceWriter, pieces: readonly Piece[]): Promise<void> {
  for (const piece of pieces) {
    if (piece instanceof Uint8Array) await writer.bytes(piece);
    else await writer.copy(piece.start, piece.end);
  }
}

/**
 * The in-place patches that make the region at `at` read as `pieces`, whose total length must
 * equal the region's. A copied piece that stays where it was costs nothing; anything else is
 * compared with the bytes now there and only the differences are patched.
 */
export async function patchesFor(source: ByteSource, at: number, pieces: readonly Piece[], format: string): Promise<BytePatch[]> {
  const patches: BytePatch[] = [];
  let position = at;
  for (const piece of pieces) {
    const length = pieceLength(piece);
    const unmoved = !(piece instanceof Uint8Array) && piece.start === position;
    if (length > 0 && !unmoved) {
      const wanted = piece instanceof Uint8Array ? piece : await readExact(source, piece.start, length, format);
      patches.push(...diffPatches(position, await readExact(source, position, length, format), wanted));
    }
    position += length;
  }
  return patches;
}

