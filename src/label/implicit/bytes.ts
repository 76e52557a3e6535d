/**
 * @module label/implicit/bytes
 * Building blocks shared by every container codec: byte sources over buffers, a collecting
 * sink, bounded-chunk copying of the media payload, and checked reads that turn a short read
 * into a `LabelFormatError` instead of a silent misparse.
 */
import { LabelFormatError } from '../errors.js';
import type { ByteRange, ByteSink, ByteSource } from './codec.js';

/** Payload is copied in chunks of this size, so memory stays bounded whatever the file size. */
export const COPY_CHUNK = 1 << 20;

/**
 * A `ByteSource` over bytes already in memory.
 *
 * @example
 * const labels = await jpegCodec.read(bufferSource(await readFile('a.jpg')));
 */
export function bufferSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read: (offset, length) => {
      const start = Math.max(0, Math.min(offset, bytes.length));
      return Promise.resolve(bytes.subarray(start, Math.min(bytes.length, start + Math.max(0, length))));
    },
  };
}

/** A `ByteSink` that keeps everything written; `bytes()` joins it. */
export class BufferSink implements ByteSink {
  readonly #chunks: Uint8Array[] = [];
  #length = 0;

  write(chunk: Uint8Array): Promise<void> {
    // The caller may reuse its buffer after the promise settles, so keep a copy.
    this.#chunks.push(chunk.slice());
    this.#length += chunk.length;
    return Promise.resolve();
  }

  get length(): number {
    return this.#length;
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.#length);
    let at = 0;
    for (const chunk of this.#chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  }
}

/**
 * Copies `[start, end)` of `source` to `sink` in bounded chunks, reading the next chunk while
 * the previous one is written, so a copy runs at the speed of the slower side. A source that
 * can fill a caller's buffer (`readInto`, a file can) is copied through two reused buffers:
 * no fresh memory per chunk and no garbage for the collector. A source that ends early is a
 * truncated container: `LabelFormatError` naming `format`. A sink that can take the range
 * itself (`ByteSink.copyFrom`, the file writer's plan) is handed it instead.
 */
export async function copyRange(source: ByteSource, start: number, end: number, sink: ByteSink, format = 'file'): Promise<void> {
  if (end <= start) return;
  if (sink.copyFrom && (await sink.copyFrom(source, start, end))) return;
  const truncated = (at: number): LabelFormatError => new LabelFormatError(format, `the file ends before byte ${end}`, { offset: at });
  if (source.readInto && end - start > COPY_CHUNK) {
    const readInto = source.readInto.bind(source);
    let filling = new Uint8Array(COPY_CHUNK);
    let spare = new Uint8Array(COPY_CHUNK);
    const fill = (offset: number, target: Uint8Array): Promise<number> => readInto(offset, target.subarray(0, Math.min(COPY_CHUNK, end - offset)));
    let at = start;
    let next: Promise<number> | undefined = fill(at, filling);
    while (next) {
      const count = await next;
      if (count <= 0) throw truncated(at);
      const chunk = filling.subarray(0, count);
      at += count;
      [filling, spare] = [spare, filling];
      next = at < end ? fill(at, filling) : undefined;
      await sink.write(chunk);
    }
    return;
  }
  let at = start;
  const readFrom = (offset: number): Promise<Uint8Array> => source.read(offset, Math.min(COPY_CHUNK, end - offset));
  let next = at < end ? readFrom(at) : undefined;
  while (next) {
    const chunk = await next;
    if (chunk.length === 0) throw truncated(at);
    at += chunk.length;
    next = at < end ? readFrom(at) : undefined;
    await sink.write(chunk);
  }
}

/**
 * Reads exactly `length` bytes at `offset`, or throws `LabelFormatError` naming `format` when
 * the source ends first (a truncated container).
 */
export async function readExact(source: ByteSource, offset: number, length: number, format: string): Promise<Uint8Array> {
  if (offset < 0 || length < 0 || offset + length > source.size) {
    throw new LabelFormatError(format, `needs ${length} bytes but the file ends at byte ${source.size}`, { offset });
  }
  const bytes = await source.read(offset, length);
  if (bytes.length !== length) {
    throw new LabelFormatError(format, `needs ${length} bytes but the file ends at byte ${offset + bytes.length}`, { offset });
  }
  return bytes;
}

/** A DataView over exactly the bytes of `bytes` (which may be a view into a larger buffer). */
export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The ASCII text of `bytes[start, end)`, for four-character codes and signatures. */
export function ascii(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let text = '';
  for (let i = start; i < end && i < bytes.length; i++) text += String.fromCharCode(bytes[i] ?? 0);
  return text;
}

/** True when `bytes` starts with `prefix` at `at`. */
export function startsWith(bytes: Uint8Array, prefix: readonly number[] | string, at = 0): boolean {
  // A plain loop: codecs call this for every box, chunk and segment they meet.
  if (bytes.length < at + prefix.length) return false;
  if (typeof prefix === 'string') {
    for (let i = 0; i < prefix.length; i++) if (bytes[at + i] !== prefix.charCodeAt(i)) return false;
    return true;
  }
  for (let i = 0; i < prefix.length; i++) if (bytes[at + i] !== prefix[i]) return false;
  return true;
}

/** Joins byte arrays. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/**
 * One piece of a rewritten container: a range copied from the source, or new bytes. Codecs
 * describe their output as pieces so that the payload is streamed, never held in memory.
 */
export type Piece = ByteRange | Uint8Array;

/** Writes `pieces` in order: ranges are copied from `source` in bounded chunks. */
export async function writePieces(source: ByteSource, pieces: readonly Piece[], sink: ByteSink): Promise<void> {
  for (const piece of pieces) {
    if (piece instanceof Uint8Array) {
      if (piece.length > 0) await sink.write(piece);
    } else if (piece.end > piece.start) {
      await copyRange(source, piece.start, piece.end, sink);
    }
  }
}

/** Sorted, merged ranges (adjacent or overlapping ranges become one). */
export function mergeRanges(ranges: readonly ByteRange[]): ByteRange[] {
  const sorted = ranges.filter((r) => r.end > r.start).sort((a, b) => a.start - b.start);
  const out: ByteRange[] = [];
  for (const range of sorted) {
    const last = out[out.length - 1];
    if (last && range.start <= last.end) last.end = Math.max(last.end, range.end);
    else out.push({ ...range });
  }
  return out;
}

/** A replacement of `[start, end)` of the source by `bytes` (an insertion when start === end). */
export interface Edit {
  start: number;
  end: number;
  bytes: Uint8Array;
}

/** The pieces of `source` with `edits` applied; edits must not overlap. */
export function applyEdits(size: number, edits: readonly Edit[]): Piece[] {
  const pieces: Piece[] = [];
  let at = 0;
  for (const edit of [...edits].sort((a, b) => a.start - b.start || a.end - b.end)) {
    if (edit.start > at) pieces.push({ start: at, end: edit.start });
    pieces.push(edit.bytes);
    at = Math.max(at, edit.end);
  }
  if (at < size) pieces.push({ start: at, end: size });
  return pieces;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * CRC-32 as ISO 3309 / ITU-T V.42 define it (reflected, polynomial 0x04C11DB7): PNG chunks
 * (PNG Annex D), ID3v2 extended headers (ID3v2.4 §3.2) and Matroska `CRC-32` elements
 * (RFC 8794 §11.3.1). Pass the previous result as `crc` to continue over several pieces.
 */
export function crc32(bytes: Uint8Array, crc = 0): number {
  const native = bytes.length >= NATIVE_CRC_BYTES ? nativeCrc32() : undefined;
  if (native) return native(bytes, crc);
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = (CRC_TABLE[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return ~c >>> 0;
}

/** From this length on, zlib's CRC-32 (native, the same function) is used: a batch of PNGs checks one per chunk. */
const NATIVE_CRC_BYTES = 64;
let zlibCrc32: ((data: Uint8Array, value?: number) => number) | null | undefined;

/** `zlib.crc32` (Node 20.15 and later), taken on first use so that zlib loads only when a CRC is needed. */
function nativeCrc32(): ((data: Uint8Array, value?: number) => number) | undefined {
  if (zlibCrc32 === undefined) {
    const zlib = typeof process === 'undefined' ? undefined : (process.getBuiltinModule?.('node:zlib') as { crc32?: (data: Uint8Array, value?: number) => number } | undefined);
    zlibCrc32 = typeof zlib?.crc32 === 'function' ? zlib.crc32 : null;
  }
  return zlibCrc32 ?? undefined;
}
