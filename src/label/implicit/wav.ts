/**
 * @module label/implicit/wav
 * The WAV codec: RIFF WAVE (Microsoft/IBM Multimedia Programming Interface 1.0), RF64 (EBU
 * Tech 3306) and BW64 (ITU-R BS.2088), whose sizes beyond 4 GiB live in the `ds64` chunk. The
 * label is a chunk with id `AIGC` holding the JSON text in UTF-8, word-aligned like every chunk
 * (a pad byte follows an odd size). A new label chunk goes at the end of the RIFF, after the
 * audio, followed by a 1 KiB `JUNK` chunk so the next label change fits in place; readers that
 * expect `fmt ` then `data` first are not disturbed. Trailing NUL bytes of the value are
 * padding, as in RIFF's ZSTR text chunks, and are not part of the label.
 */
import { LabelFormatError } from '../errors.js';
import { concatBytes, fromUtf8, readExact, utf8, viewOf } from './bytes.js';
import type { ByteRange, BytePatch, ByteSink, ByteSource, FoundLabel, LabelCodec } from './codec.js';
import { SourceReader, SpliceWriter, latin1, patchesFor, pieceLength, writePieces } from './splice.js';
import type { Piece } from './splice.js';

const FORMAT = 'wav';
const LABEL_ID = 'AIGC';
const PADDING_IDS = new Set(['JUNK', 'junk', 'PAD ', 'FLLR']);

/** The `JUNK` chunk's contents after a new or grown label chunk. */
export const WAV_PADDING = 1024;

/** A label chunk larger than this is not read into memory (a label is a few hundred bytes). */
const MAX_LABEL_CHUNK = 1 << 20;

/** A chunk's 32-bit size field meaning "see ds64" in RF64 and BW64. */
const SEE_DS64 = 0xffffffff;

interface Chunk {
  id: string;
  start: number;
  dataStart: number;
  /** End of the chunk's data; `end` adds the pad byte of an odd size. */
  dataEnd: number;
  end: number;
}

interface Layout {
  form: 'RIFF' | 'RF64' | 'BW64';
  chunks: Chunk[];
  /** End of the RIFF form; anything after it (a tag some tools append) is kept as it is. */
  riffEnd: number;
  /** The `ds64` chunk's sizes, for RF64 and BW64. */
  ds64?: { dataSize: number; table: Map<string, number> };
  /** A streamed file's `data` chunk with an unknown (0 or all-ones) size, which runs to the end. */
  unsizedData: boolean;
}

function u64(view: DataView, at: number, offset: number): number {
  const value = view.getBigUint64(at, true);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new LabelFormatError(FORMAT, `ds64 size ${value} is larger than any file`, { offset });
  return Number(value);
}

async function parseDs64(reader: SourceReader, at: number): Promise<{ dataSize: number; table: Map<string, number>; end: number }> {
  const header = await reader.bytes(at, 8, 'ds64 chunk header');
  if (latin1(header.subarray(0, 4)) !== 'ds64') throw new LabelFormatError(FORMAT, `RF64 file without a ds64 chunk first`, { offset: at });
  const size = viewOf(header).getUint32(4, true);
  if (size < 28) throw new LabelFormatError(FORMAT, `ds64 chunk of ${size} bytes is shorter than its 28 fixed bytes`, { offset: at });
  const body = await readExact(reader.source, at + 8, size, FORMAT);
  const view = viewOf(body);
  const count = view.getUint32(24, true);
  if (28 + count * 12 > size) throw new LabelFormatError(FORMAT, `ds64 table of ${count} entries overruns the chunk`, { offset: at + 32 });
  const table = new Map<string, number>();
  for (let i = 0; i < count; i++) table.set(latin1(body.subarray(28 + i * 12, 32 + i * 12)), u64(view, 32 + i * 12, at));
  return { dataSize: u64(view, 8, at), table, end: at + 8 + size + (size & 1) };
}

async function scan(source: ByteSource): Promise<Layout> {
  const reader = new SourceReader(source, FORMAT);
  const head = await reader.bytes(0, 12, 'RIFF header');
  const form = latin1(head.subarray(0, 4));
  if ((form !== 'RIFF' && form !== 'RF64' && form !== 'BW64') || latin1(head.subarray(8, 12)) !== 'WAVE') {
    throw new LabelFormatError(FORMAT, `not a RIFF WAVE file`, { offset: 0 });
  }
  const layout: Layout = { form, chunks: [], riffEnd: source.size, unsizedData: false };
  let at = 12;
  if (form === 'RIFF') {
    const declared = viewOf(head).getUint32(4, true);
    // A streamed writer leaves 0 or all ones; then the form runs to the end of the file.
    if (declared !== 0 && declared !== SEE_DS64) {
      if (8 + declared > source.size) throw new LabelFormatError(FORMAT, `RIFF size ${declared} runs past the end of the file`, { offset: 4 });
      layout.riffEnd = 8 + declared;
    }
  } else {
    const ds64 = await parseDs64(reader, 12);
    layout.ds64 = ds64;
    const header = await reader.bytes(20, 8, 'ds64');
    const riffSize = u64(viewOf(header), 0, 20);
    if (8 + riffSize > source.size) throw new LabelFormatError(FORMAT, `ds64 RIFF size ${riffSize} runs past the end of the file`, { offset: 20 });
    layout.riffEnd = 8 + riffSize;
    layout.chunks.push({ id: 'ds64', start: 12, dataStart: 20, dataEnd: ds64.end - ((ds64.end - 20) & 1), end: ds64.end });
    at = ds64.end;
  }
  while (at + 8 <= layout.riffEnd) {
    const header = await reader.bytes(at, 8, 'chunk header');
    const id = latin1(header.subarray(0, 4));
    let size = viewOf(header).getUint32(4, true);
    if (size === SEE_DS64 && layout.ds64) size = id === 'data' ? layout.ds64.dataSize : (layout.ds64.table.get(id) ?? size);
    let dataEnd = at + 8 + size;
    if (id === 'data' && (size === 0 || size === SEE_DS64 || dataEnd > layout.riffEnd) && layout.riffEnd === source.size && !layout.ds64) {
      layout.unsizedData = true;
      dataEnd = source.size;
    }
    if (dataEnd > layout.riffEnd) throw new LabelFormatError(FORMAT, `chunk '${id}' of ${size} bytes runs past the end of the RIFF form`, { offset: at });
    const end = Math.min(dataEnd + (size & 1), layout.riffEnd);
    layout.chunks.push({ id, start: at, dataStart: at + 8, dataEnd, end });
    at = end;
  }
  return layout;
}

function chunkHeader(id: string, size: number): Uint8Array {
  const header = new Uint8Array(8);
  header.set(utf8(id));
  viewOf(header).setUint32(4, size, true);
  return header;
}

/** A label chunk of exactly `total` bytes when given (the value NUL-padded), else of the value's size. */
function labelChunk(value: string, total?: number): Uint8Array {
  const text = utf8(value);
  const size = total === undefined ? text.length : total - 8;
  const chunk = new Uint8Array(8 + size + (size & 1));
  chunk.set(chunkHeader(LABEL_ID, size));
  chunk.set(text, 8);
  return chunk;
}

/** A label chunk followed by padding, filling exactly `room` bytes, or undefined when it does not fit. */
function labelInRoom(value: string, room: number): Uint8Array | undefined {
  // Rooms are whole, word-aligned chunks; an odd one (a last chunk missing its pad byte) is not reused.
  if (room % 2 === 1) return undefined;
  const needed = 8 + utf8(value).length;
  const padded = needed + (needed & 1);
  if (padded === room || padded + 8 <= room) {
    return padded === room ? labelChunk(value) : concatBytes([labelChunk(value), chunkHeader('JUNK', room - padded - 8), new Uint8Array(room - padded - 8)]);
  }
  return needed <= room ? labelChunk(value, room) : undefined;
}

/**
 * The chunks of the new RIFF body (after `WAVE`): label chunks dropped, and with `value` a
 * label either in the room of the first old one (with a padding chunk right after it) or a
 * new one with `WAV_PADDING` at the end. `inPlace` refuses a layout that would change size.
 */
function relabelChunks(layout: Layout, value: string | undefined, inPlace: boolean): Piece[] | undefined {
  const pieces: Piece[] = [];
  let placed = value === undefined;
  const chunks = layout.chunks;
  for (let i = 0; i < chunks.length; i++) {
    const chunk = chunks[i] as Chunk;
    if (chunk.id !== LABEL_ID) {
      if (chunk.id === 'data' && layout.unsizedData) pieces.push(chunkHeader('data', chunk.dataEnd - chunk.dataStart), { start: chunk.dataStart, end: chunk.end });
      else pieces.push({ start: chunk.start, end: chunk.end });
      continue;
    }
    let room = chunk.end - chunk.start;
    const next = chunks[i + 1];
    if (next && PADDING_IDS.has(next.id)) {
      room += next.end - next.start;
      i++;
    }
    const fitted = placed ? undefined : labelInRoom(value ?? '', room);
    if (fitted) {
      pieces.push(fitted);
      placed = true;
    } else if (inPlace) {
      if (!placed) return undefined;
      pieces.push(concatBytes([chunkHeader('JUNK', room - 8), new Uint8Array(room - 8)]));
    }
  }
  if (!placed) {
    if (inPlace) return undefined;
    pieces.push(labelChunk(value ?? ''), chunkHeader('JUNK', WAV_PADDING), new Uint8Array(WAV_PADDING));
  }
  return pieces;
}

/** The form header (and `ds64`, whose RIFF size changes) for a body of `bodySize` bytes. */
function formHeader(layout: Layout, bodySize: number): Uint8Array {
  const header = new Uint8Array(12);
  header.set(utf8(layout.form));
  header.set(utf8('WAVE'), 8);
  const riffSize = bodySize + 4;
  if (layout.form === 'RIFF') {
    if (riffSize > 0xffffffff) throw new LabelFormatError(FORMAT, `the labelled file would pass the 4 GiB RIFF limit; convert it to RF64 first`);
    viewOf(header).setUint32(4, riffSize, true);
  } else {
    viewOf(header).setUint32(4, SEE_DS64, true);
  }
  return header;
}

async function relabelledPieces(source: ByteSource, layout: Layout, pieces: Piece[]): Promise<Piece[]> {
  const bodySize = pieces.reduce((n, p) => n + pieceLength(p), 0);
  const out: Piece[] = [formHeader(layout, bodySize)];
  const ds64 = layout.chunks[0]?.id === 'ds64' ? layout.chunks[0] : undefined;
  for (const piece of pieces) {
    if (ds64 && !(piece instanceof Uint8Array) && piece.start === ds64.start) {
      const chunk = (await readExact(source, ds64.start, ds64.end - ds64.start, FORMAT)).slice();
      viewOf(chunk).setBigUint64(8, BigInt(bodySize + 4), true);
      out.push(chunk);
    } else {
      out.push(piece);
    }
  }
  return out;
}

async function rewrite(source: ByteSource, value: string | undefined, sink: ByteSink): Promise<void> {
  const layout = await scan(source);
  const pieces = await relabelledPieces(source, layout, relabelChunks(layout, value, false) ?? []);
  const writer = new SpliceWriter(source, sink, FORMAT);
  await writePieces(writer, pieces);
  await writer.copy(layout.riffEnd, source.size);
  await writer.finish();
}

async function planInPlace(source: ByteSource, value: string): Promise<BytePatch[] | undefined> {
  const layout = await scan(source);
  const body = relabelChunks(layout, value, true);
  if (!body) return undefined;
  return patchesFor(source, 0, await relabelledPieces(source, layout, body), FORMAT);
}

async function read(source: ByteSource): Promise<FoundLabel[]> {
  const found: FoundLabel[] = [];
  for (const chunk of (await scan(source)).chunks) {
    if (chunk.id !== LABEL_ID) continue;
    const size = chunk.dataEnd - chunk.dataStart;
    if (size > MAX_LABEL_CHUNK) throw new LabelFormatError(FORMAT, `AIGC chunk of ${size} bytes is larger than any label`, { offset: chunk.start });
    const text = fromUtf8(await readExact(source, chunk.dataStart, size, FORMAT)).replace(/\0+$/, '');
    found.push({ value: text, location: 'wav:RIFF/AIGC', standard: true });
  }
  return found;
}

async function payloadRanges(source: ByteSource): Promise<ByteRange[]> {
  return (await scan(source)).chunks.filter((c) => c.id === 'data' && c.dataEnd > c.dataStart).map((c) => ({ start: c.dataStart, end: c.dataEnd }));
}

function detect(head: Uint8Array): boolean {
  return ['RIFF', 'RF64', 'BW64'].includes(latin1(head.subarray(0, 4))) && latin1(head.subarray(8, 12)) === 'WAVE';
}

export const wavCodec: LabelCodec = {
  format: 'wav',
  mediaTypes: ['audio/wav', 'audio/x-wav', 'audio/vnd.wave'],
  extensions: ['wav', 'rf64', 'bw64'],
  detect,
  read,
  write: (source, value, sink) => rewrite(source, value, sink),
  remove: (source, sink) => rewrite(source, undefined, sink),
  /** Signed content (docs/labels.md): the file as `remove` leaves it, which relabelling never changes. */
  signedContent: (source, sink) => wavCodec.remove(source, sink),
  payloadRanges,
  planInPlace,
};
