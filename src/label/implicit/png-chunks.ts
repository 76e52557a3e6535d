/**
 * @module label/implicit/png-chunks
 * PNG chunk layout (PNG 3rd edition §5.3: length, type, data, CRC), textual chunks
 * (§11.3.3: tEXt, zTXt, iTXt) and the CRC-32 they carry.
 */
import { LabelFormatError } from '../errors.js';
import type { ByteSource } from './codec.js';
import { ascii, concatBytes, crc32, fromUtf8, readExact, utf8, viewOf } from './bytes.js';

export const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] as const;
/** §5.3: a chunk's length is at most 2^31 - 1. */
const MAX_CHUNK_LENGTH = 0x7fffffff;
/** Largest decompressed text hegui inflates (a guard against compression bombs). */
const MAX_INFLATED = 16 << 20;
const MAX_CHUNKS = 1 << 20;

export interface Chunk {
  type: string;
  /** Offset of the length field. */
  start: number;
  dataStart: number;
  /** Offset just past the CRC. */
  end: number;
}


/** Every chunk of the file, up to and including IEND; bytes after IEND are not chunks. */
export async function readChunks(source: ByteSource): Promise<Chunk[]> {
  const chunks: Chunk[] = [];
  let at: number = PNG_SIGNATURE.length;
  for (;;) {
    if (chunks.length >= MAX_CHUNKS) throw new LabelFormatError('png', 'too many chunks', { offset: at });
    const head = await readExact(source, at, 8, 'png');
    const length = viewOf(head).getUint32(0);
    const type = ascii(head, 4, 8);
    if (length > MAX_CHUNK_LENGTH) throw new LabelFormatError('png', `chunk length ${length} exceeds 2^31-1`, { offset: at });
    if (!/^[A-Za-z]{4}$/.test(type)) throw new LabelFormatError('png', `invalid chunk type ${JSON.stringify(type)}`, { offset: at + 4 });
    const end = at + 12 + length;
    if (end > source.size) throw new LabelFormatError('png', `chunk ${type} of ${length} bytes runs past the end of the file`, { offset: at });
    chunks.push({ type, start: at, dataStart: at + 8, end });
    at = end;
    if (type === 'IEND') return chunks;
  }
}

/** The chunk's data (without length, type and CRC). */
export function chunkData(source: ByteSource, chunk: Chunk): Promise<Uint8Array> {
  return readExact(source, chunk.dataStart, chunk.end - 4 - chunk.dataStart, 'png');
}

/** A complete chunk with its length and CRC. */
export function makeChunk(type: string, data: Uint8Array): Uint8Array {
  const head = new Uint8Array(8);
  viewOf(head).setUint32(0, data.length);
  head.set(utf8(type), 4);
  const crc = new Uint8Array(4);
  viewOf(crc).setUint32(0, crc32(data, crc32(head.subarray(4))));
  return concatBytes([head, data, crc]);
}

/** A textual chunk's keyword and decoded text. */
export interface TextChunk {
  keyword: string;
  text: string;
  /** iTXt only: whether the text was compressed. */
  compressed: boolean;
}

function nul(data: Uint8Array, from: number): number {
  const at = data.indexOf(0, from);
  if (at < 0) throw new LabelFormatError('png', 'text chunk field is not NUL-terminated');
  return at;
}

/** Inflates zlib data (PNG compression method 0), refusing output beyond `MAX_INFLATED`. */
async function inflate(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data]).stream().pipeThrough(new DecompressionStream('deflate'));
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const part of stream as unknown as AsyncIterable<Uint8Array>) {
      total += part.length;
      if (total > MAX_INFLATED) throw new LabelFormatError('png', `compressed text inflates beyond ${MAX_INFLATED} bytes`);
      parts.push(part);
    }
  } catch (error) {
    if (error instanceof LabelFormatError) throw error;
    throw new LabelFormatError('png', 'compressed text is not valid zlib data', { cause: error });
  }
  return concatBytes(parts);
}

/** Decodes a tEXt, zTXt or iTXt chunk's data (§11.3.3.2-4). */
export async function decodeText(type: string, data: Uint8Array): Promise<TextChunk> {
  const keyEnd = nul(data, 0);
  const keyword = fromLatin1(data.subarray(0, keyEnd));
  if (type === 'tEXt') return { keyword, text: fromLatin1(data.subarray(keyEnd + 1)), compressed: false };
  if (type === 'zTXt') return { keyword, text: fromLatin1(await inflate(data.subarray(keyEnd + 2))), compressed: true };
  const compressed = data[keyEnd + 1] === 1;
  const languageEnd = nul(data, keyEnd + 3);
  const translatedEnd = nul(data, languageEnd + 1);
  const body = data.subarray(translatedEnd + 1);
  return { keyword, text: fromUtf8(compressed ? await inflate(body) : body), compressed };
}

/** An uncompressed iTXt chunk's data, with empty language and translated keyword. */
export function encodeITXt(keyword: string, text: string): Uint8Array {
  return concatBytes([utf8(keyword), new Uint8Array([0, 0, 0, 0, 0]), utf8(text)]);
}

/** Bytes before the text in an uncompressed iTXt chunk with empty language fields. */
export function iTXtHeaderLength(keyword: string): number {
  return keyword.length + 5;
}

function fromLatin1(bytes: Uint8Array): string {
  // tEXt is ISO 8859-1 (§11.3.3.2), but producers often write UTF-8 there; accept both.
  const text = fromUtf8(bytes);
  return text.includes('\uFFFD') ? ascii(bytes) : text;
}
