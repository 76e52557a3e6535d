/**
 * @module label/implicit/wav
 * The WAV codec: RIFF WAVE (Microsoft/IBM Multimedia Programming Interface 1.0), RF64 (EBU
 * Tech 3306) and BW64 (ITU-R BS.2088), whose sizes beyond 4 GiB live in the `ds64` chunk.
 *
 * The label is the TC260 property in the XMP packet of the `_PMX` chunk (XMP Part 3 §1.1.8,
 * the place Adobe tools and exiftool read and write WAV XMP), merged into a packet another
 * tool wrote there. A new `_PMX` goes at the end of the RIFF, after the audio, with the
 * packet's own padding so the next label change fits in place; readers that expect `fmt ` then
 * `data` first are not disturbed.
 *
 * Read besides, and removed on every write: the `AIGC` chunk earlier hegui versions wrote
 * (JSON text, NUL-padded, with a padding chunk after it), and an `<AIGC>` element in a BWF
 * `iXML` chunk, where broadcast tools keep their metadata.
 */
import { LabelFormatError } from '../errors.js';
import { concatBytes, fromUtf8, readExact, utf8, viewOf } from './bytes.js';
import type { ByteRange, BytePatch, ByteSink, ByteSource, FoundLabel, LabelCodec } from './codec.js';
import { SourceReader, SpliceWriter, latin1, pieceLength, writePieces } from './splice.js';
import type { Piece } from './splice.js';
import { canonicalXmpPacket, nextXmpPacket, readXmpLabels, setXmpLabel, type PacketRule } from './xmp.js';

const FORMAT = 'wav';
/** The chunk earlier hegui versions put the label in. */
const LABEL_ID = 'AIGC';
const PMX_ID = '_PMX';
const IXML_ID = 'iXML';
const PADDING_IDS = new Set(['JUNK', 'junk', 'PAD ', 'FLLR']);

export const WAV_XMP_LOCATION = 'xmp:WAV-_PMX';

/** A metadata chunk larger than this is not read into memory (XMP packets are kilobytes). */
const MAX_LABEL_CHUNK = 16 << 20;

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

/** A whole chunk: header, data and the pad byte of an odd size. */
function chunkBytes(id: string, data: Uint8Array): Uint8Array {
  return concatBytes([chunkHeader(id, data.length), data, new Uint8Array(data.length & 1)]);
}

/** The text of a metadata chunk, refused when larger than any label-carrying chunk should be. */
async function chunkText(source: ByteSource, chunk: Chunk): Promise<string> {
  const size = chunk.dataEnd - chunk.dataStart;
  if (size > MAX_LABEL_CHUNK) throw new LabelFormatError(FORMAT, `'${chunk.id}' chunk of ${size} bytes is larger than any metadata hegui reads`, { offset: chunk.start });
  return fromUtf8(await readExact(source, chunk.dataStart, size, FORMAT)).replace(/\0+$/, '');
}

/** `<AIGC>` elements of an iXML document (plain XML, no namespace), with where each is. */
function ixmlLabels(text: string): { value: string; start: number; end: number }[] {
  return [...text.matchAll(/<AIGC>([^<]*)<\/AIGC>/g)].map((m) => ({ value: unescapeXml(m[1] ?? '').trim(), start: m.index, end: m.index + m[0].length }));
}

function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|quot|apos|amp);/g, (_, name: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[name] ?? '');
}

interface LabelChunks {
  /** The first `_PMX` chunk and its packet: the standard place. */
  pmx: { chunk: Chunk; text: string } | undefined;
  /** Other `_PMX` chunks that hold a label. */
  otherPmx: { chunk: Chunk; text: string }[];
  /** `iXML` chunks that hold an `<AIGC>` element. */
  ixml: { chunk: Chunk; text: string }[];
  /** Legacy `AIGC` chunks. */
  legacy: Chunk[];
}

async function labelChunks(source: ByteSource, layout: Layout): Promise<LabelChunks> {
  const found: LabelChunks = { pmx: undefined, otherPmx: [], ixml: [], legacy: [] };
  for (const chunk of layout.chunks) {
    if (chunk.id === LABEL_ID) found.legacy.push(chunk);
    else if (chunk.id === PMX_ID) {
      const text = await chunkText(source, chunk);
      if (!found.pmx) found.pmx = { chunk, text };
      else if (readXmpLabels(text).length > 0) found.otherPmx.push({ chunk, text });
    } else if (chunk.id === IXML_ID) {
      const text = await chunkText(source, chunk);
      if (ixmlLabels(text).length > 0) found.ixml.push({ chunk, text });
    }
  }
  return found;
}

/**
 * The chunks of the new RIFF body (after `WAVE`): the first `_PMX` packet made by `rule`
 * (`nextXmpPacket` to write or remove, `canonicalXmpPacket` for the signed content), labels
 * taken out of every other place, and with `value` but no `_PMX`, a new one at the end.
 */
async function relabelChunks(source: ByteSource, layout: Layout, value: string | undefined, rule: PacketRule): Promise<Piece[]> {
  const labels = await labelChunks(source, layout);
  const replaced = new Map<Chunk, Uint8Array | null>();
  const next = rule(labels.pmx?.text, value ?? null);
  if (labels.pmx) replaced.set(labels.pmx.chunk, next === null ? null : chunkBytes(PMX_ID, utf8(next)));
  for (const { chunk, text } of labels.otherPmx) {
    const stripped = nextXmpPacket(text, null);
    replaced.set(chunk, stripped === null ? null : chunkBytes(PMX_ID, utf8(stripped)));
  }
  for (const { chunk, text } of labels.ixml) {
    let kept = text;
    for (const label of ixmlLabels(text).reverse()) kept = kept.slice(0, label.start) + kept.slice(label.end);
    replaced.set(chunk, chunkBytes(IXML_ID, utf8(kept)));
  }
  const pieces: Piece[] = [];
  const chunks = layout.chunks;
  for (let i = 0; i < chunks.length; i++) {
    const chunk = chunks[i] as Chunk;
    if (chunk.id === LABEL_ID) {
      // The padding chunk earlier versions wrote right after their label chunk goes with it.
      if (chunks[i + 1] && PADDING_IDS.has(chunks[i + 1]?.id ?? '')) i++;
      continue;
    }
    if (replaced.has(chunk)) {
      const bytes = replaced.get(chunk);
      if (bytes) pieces.push(bytes);
      continue;
    }
    if (chunk.id === 'data' && layout.unsizedData) pieces.push(chunkHeader('data', chunk.dataEnd - chunk.dataStart), { start: chunk.dataStart, end: chunk.end });
    else pieces.push({ start: chunk.start, end: chunk.end });
  }
  if (!labels.pmx && next !== null) pieces.push(chunkBytes(PMX_ID, utf8(next)));
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

async function rewrite(source: ByteSource, value: string | undefined, sink: ByteSink, rule: PacketRule = nextXmpPacket): Promise<void> {
  const layout = await scan(source);
  const pieces = await relabelledPieces(source, layout, await relabelChunks(source, layout, value, rule));
  const writer = new SpliceWriter(source, sink, FORMAT);
  await writePieces(writer, pieces);
  await writer.copy(layout.riffEnd, source.size);
  await writer.finish();
}

/** In place when the only label place is a `_PMX` packet with room for `value`. */
async function planInPlace(source: ByteSource, value: string): Promise<BytePatch[] | undefined> {
  const layout = await scan(source);
  const labels = await labelChunks(source, layout);
  if (!labels.pmx || labels.otherPmx.length > 0 || labels.ixml.length > 0 || labels.legacy.length > 0) return undefined;
  const { chunk } = labels.pmx;
  const merged = setXmpLabel(labels.pmx.text, value, { targetBytes: chunk.dataEnd - chunk.dataStart });
  return merged === undefined ? undefined : [{ offset: chunk.dataStart, bytes: utf8(merged) }];
}

async function read(source: ByteSource): Promise<FoundLabel[]> {
  const found: FoundLabel[] = [];
  const labels = await labelChunks(source, await scan(source));
  for (const { text } of labels.pmx ? [labels.pmx, ...labels.otherPmx] : labels.otherPmx) {
    for (const value of readXmpLabels(text)) found.push({ value, location: WAV_XMP_LOCATION, standard: true });
  }
  for (const { text } of labels.ixml) for (const { value } of ixmlLabels(text)) found.push({ value, location: 'wav:iXML/AIGC', standard: false });
  for (const chunk of labels.legacy) found.push({ value: await chunkText(source, chunk), location: 'wav:RIFF/AIGC', standard: false });
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
  /** Signed content (docs/labels.md): the file as `remove` leaves it, its `_PMX` packet in canonical form. */
  signedContent: (source, sink) => rewrite(source, undefined, sink, canonicalXmpPacket),
  payloadRanges,
  planInPlace,
};
