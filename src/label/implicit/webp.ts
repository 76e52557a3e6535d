/**
 * @module label/implicit/webp
 * WebP (RIFF container, RFC 9649): lossy `VP8 `, lossless `VP8L`, and the extended format
 * with `VP8X`, animation (`ANIM`/`ANMF`), `ALPH`, `ICCP`, `EXIF` and `XMP `. The label goes
 * in the `XMP ` chunk, which only the extended format may carry, with the XMP flag set in
 * VP8X (RFC 9649 §2.7): a simple file is turned into an extended one whose canvas is read from
 * the bitstream header, and turned back when the label is removed and nothing else needs VP8X.
 */
import { LabelFormatError } from '../errors.js';
import type { BytePatch, ByteRange, ByteSource, FoundLabel, LabelCodec } from './codec.js';
import { applyEdits, ascii, concatBytes, fromUtf8, mergeRanges, readExact, startsWith, utf8, viewOf, writePieces, type Edit } from './bytes.js';
import { EXIF_LOCATION, blankUserComment, findExifLabel, type ExifLabel } from './exif.js';
import { canonicalXmpPacket, nextXmpPacket, readXmpLabels, setXmpLabel, type PacketRule } from './xmp.js';

const FLAG_XMP = 0x04;
const MAX_CHUNKS = 1 << 20;
export const WEBP_XMP_LOCATION = 'xmp:XMP';

interface Chunk {
  id: string;
  start: number;
  dataStart: number;
  /** Data size as stored (without the pad byte). */
  size: number;
  /** Offset just past the chunk and its pad byte. */
  end: number;
}

interface Plan {
  riffEnd: number;
  chunks: Chunk[];
  vp8x: Chunk | undefined;
  xmp: { chunk: Chunk; text: string }[];
  exif: { chunk: Chunk; label: ExifLabel }[];
}

async function readChunks(source: ByteSource): Promise<{ riffEnd: number; chunks: Chunk[] }> {
  const header = await readExact(source, 0, 12, 'webp');
  if (!startsWith(header, 'RIFF') || !startsWith(header, 'WEBP', 8)) throw new LabelFormatError('webp', 'missing RIFF/WEBP header', { offset: 0 });
  const riffEnd = 8 + viewOf(header).getUint32(4, true);
  if (riffEnd > source.size) throw new LabelFormatError('webp', `RIFF size claims ${riffEnd} bytes but the file has ${source.size}`, { offset: 4 });
  const chunks: Chunk[] = [];
  for (let at = 12; at < riffEnd; ) {
    if (chunks.length >= MAX_CHUNKS) throw new LabelFormatError('webp', 'too many chunks', { offset: at });
    const head = await readExact(source, at, 8, 'webp');
    const size = viewOf(head).getUint32(4, true);
    const end = at + 8 + size + (size & 1);
    if (at + 8 + size > riffEnd) throw new LabelFormatError('webp', `chunk ${JSON.stringify(ascii(head, 0, 4))} of ${size} bytes runs past the RIFF end`, { offset: at });
    chunks.push({ id: ascii(head, 0, 4), start: at, dataStart: at + 8, size, end: Math.min(end, riffEnd) });
    at = end;
  }
  if (chunks.length === 0) throw new LabelFormatError('webp', 'no chunks', { offset: 12 });
  return { riffEnd, chunks };
}

/** EXIF chunk data may or may not start with the JPEG-style `Exif\0\0` prefix. */
async function exifBase(source: ByteSource, chunk: Chunk): Promise<number> {
  const head = await source.read(chunk.dataStart, 6);
  return startsWith(head, 'Exif\0\0') ? chunk.dataStart + 6 : chunk.dataStart;
}

async function plan(source: ByteSource): Promise<Plan> {
  const { riffEnd, chunks } = await readChunks(source);
  const result: Plan = { riffEnd, chunks, vp8x: chunks[0]?.id === 'VP8X' ? chunks[0] : undefined, xmp: [], exif: [] };
  for (const chunk of chunks) {
    if (chunk.id === 'XMP ') result.xmp.push({ chunk, text: fromUtf8(await readExact(source, chunk.dataStart, chunk.size, 'webp')) });
    if (chunk.id === 'EXIF') {
      const label = await findExifLabel(source, await exifBase(source, chunk));
      if (label) result.exif.push({ chunk, label });
    }
  }
  return result;
}

function makeChunk(id: string, data: Uint8Array): Uint8Array {
  const head = new Uint8Array(8);
  head.set(utf8(id));
  viewOf(head).setUint32(4, data.length, true);
  return concatBytes([head, data, new Uint8Array(data.length & 1)]);
}

/** Canvas size and alpha from a simple file's bitstream header (RFC 6386 §9.1; RFC 9649 §3.3). */
async function canvasOf(source: ByteSource, image: Chunk): Promise<{ width: number; height: number; alpha: boolean }> {
  const head = await readExact(source, image.dataStart, Math.min(10, image.size), 'webp');
  const view = viewOf(head);
  if (image.id === 'VP8 ' && head.length >= 10 && startsWith(head, [0x9d, 0x01, 0x2a], 3)) {
    return { width: view.getUint16(6, true) & 0x3fff, height: view.getUint16(8, true) & 0x3fff, alpha: false };
  }
  if (image.id === 'VP8L' && head.length >= 5 && head[0] === 0x2f) {
    const bits = view.getUint32(1, true);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1, alpha: ((bits >>> 28) & 1) === 1 };
  }
  throw new LabelFormatError('webp', `cannot read the canvas size from the ${image.id.trim()} bitstream header`, { offset: image.dataStart });
}

function vp8xData(flags: number, width: number, height: number): Uint8Array {
  const data = new Uint8Array(10);
  data[0] = flags;
  const view = viewOf(data);
  view.setUint16(4, (width - 1) & 0xffff, true);
  data[6] = ((width - 1) >>> 16) & 0xff;
  view.setUint16(7, (height - 1) & 0xffff, true);
  data[9] = ((height - 1) >>> 16) & 0xff;
  return data;
}

function exifEdits(p: Plan): Edit[] {
  return p.exif.map(({ label }) => ({ start: label.offset, end: label.offset + label.length, bytes: blankUserComment(label.length) }));
}

async function rewrite(source: ByteSource, value: string | null, rule: PacketRule = nextXmpPacket): Promise<Edit[]> {
  const p = await plan(source);
  const edits = exifEdits(p);
  const [target, ...others] = p.xmp;
  let xmpChunks = 0;
  for (const entry of others) {
    const next = readXmpLabels(entry.text).length === 0 ? entry.text : rule(entry.text, null);
    if (next !== null) xmpChunks++;
    if (next !== entry.text) edits.push({ start: entry.chunk.start, end: entry.chunk.end, bytes: next === null ? new Uint8Array(0) : makeChunk('XMP ', utf8(next)) });
  }
  const next = rule(target?.text, value);
  if (next !== null) xmpChunks++;
  if (target) edits.push({ start: target.chunk.start, end: target.chunk.end, bytes: next === null ? new Uint8Array(0) : makeChunk('XMP ', utf8(next)) });
  else if (next !== null) edits.push({ start: p.riffEnd, end: p.riffEnd, bytes: makeChunk('XMP ', utf8(next)) });
  edits.push(...(await vp8xEdits(source, p, xmpChunks > 0)));
  const growth = edits.reduce((n, e) => n + e.bytes.length - (e.end - e.start), 0);
  const size = new Uint8Array(4);
  viewOf(size).setUint32(0, p.riffEnd - 8 + growth, true);
  edits.push({ start: 4, end: 8, bytes: size });
  return edits;
}

/** True when a VP8X with `flags` says nothing the lone image chunk does not (a simple file would do). */
async function isImplied(source: ByteSource, vp8x: Chunk, image: Chunk, flags: number): Promise<boolean> {
  const canvas = await canvasOf(source, image);
  const expected = vp8xData(canvas.alpha ? 0x10 : 0, canvas.width, canvas.height);
  const actual = (await readExact(source, vp8x.dataStart, Math.min(10, vp8x.size), 'webp')).slice();
  actual[0] = flags;
  return actual.length === 10 && actual.every((byte, i) => byte === expected[i]);
}

/** Sets or clears the XMP flag; adds VP8X to a simple file, or drops a VP8X nothing needs any more. */
async function vp8xEdits(source: ByteSource, p: Plan, hasXmp: boolean): Promise<Edit[]> {
  if (p.vp8x) {
    const flags = (await readExact(source, p.vp8x.dataStart, 1, 'webp'))[0] ?? 0;
    const nextFlags = hasXmp ? flags | FLAG_XMP : flags & ~FLAG_XMP;
    const rest = p.chunks.filter((c) => c !== p.vp8x && !(c.id === 'XMP ' && !hasXmp));
    const image = rest.length === 1 && (rest[0]?.id === 'VP8 ' || rest[0]?.id === 'VP8L') ? rest[0] : undefined;
    if (image && (await isImplied(source, p.vp8x, image, nextFlags))) return [{ start: p.vp8x.start, end: p.vp8x.end, bytes: new Uint8Array(0) }];
    return nextFlags === flags ? [] : [{ start: p.vp8x.dataStart, end: p.vp8x.dataStart + 1, bytes: new Uint8Array([nextFlags]) }];
  }
  if (!hasXmp) return [];
  const image = p.chunks.find((c) => c.id === 'VP8 ' || c.id === 'VP8L');
  if (!image) throw new LabelFormatError('webp', 'a simple WebP file without a VP8 or VP8L chunk', { offset: 12 });
  const canvas = await canvasOf(source, image);
  return [{ start: 12, end: 12, bytes: makeChunk('VP8X', vp8xData(FLAG_XMP | (canvas.alpha ? 0x10 : 0), canvas.width, canvas.height)) }];
}

/** Each XMP chunk whose packet `map` changes, written again, and the RIFF size. */
async function mappedXmp(source: ByteSource, map: (packet: string) => string): Promise<Edit[]> {
  const p = await plan(source);
  const edits: Edit[] = [];
  for (const entry of p.xmp) {
    const next = map(entry.text);
    if (next !== entry.text) edits.push({ start: entry.chunk.start, end: entry.chunk.end, bytes: makeChunk('XMP ', utf8(next)) });
  }
  if (edits.length === 0) return edits;
  const size = new Uint8Array(4);
  viewOf(size).setUint32(0, p.riffEnd - 8 + edits.reduce((n, e) => n + e.bytes.length - (e.end - e.start), 0), true);
  edits.push({ start: 4, end: 8, bytes: size });
  return edits;
}

export const webpCodec: LabelCodec = {
  format: 'webp',
  mediaTypes: ['image/webp'],
  extensions: ['webp'],

  detect: (head) => startsWith(head, 'RIFF') && startsWith(head, 'WEBP', 8),

  async mapXmp(source, map, sink) {
    await writePieces(source, applyEdits(source.size, await mappedXmp(source, map)), sink);
  },

  async read(source) {
    const p = await plan(source);
    const found: FoundLabel[] = [];
    for (const entry of p.xmp) for (const value of readXmpLabels(entry.text)) found.push({ value, location: WEBP_XMP_LOCATION, standard: true });
    for (const entry of p.exif) found.push({ value: entry.label.value, location: EXIF_LOCATION, standard: false });
    return found;
  },

  async write(source, value, sink) {
    await writePieces(source, applyEdits(source.size, await rewrite(source, value)), sink);
  },

  async remove(source, sink) {
    await writePieces(source, applyEdits(source.size, await rewrite(source, null)), sink);
  },

  /** Signed content (docs/labels.md): the file as `remove` leaves it, its XMP packet in canonical form. */
  async signedContent(source, sink) {
    await writePieces(source, applyEdits(source.size, await rewrite(source, null, canonicalXmpPacket)), sink);
  },

  async payloadRanges(source) {
    const { chunks } = await readChunks(source);
    const ranges: ByteRange[] = chunks.filter((c) => !['VP8X', 'EXIF', 'XMP '].includes(c.id)).map((c) => ({ start: c.start, end: c.end }));
    return mergeRanges(ranges);
  },

  async planInPlace(source, value) {
    const p = await plan(source);
    const [target, ...others] = p.xmp;
    if (!target || !p.vp8x) return undefined;
    const merged = setXmpLabel(target.text, value, { targetBytes: target.chunk.size });
    if (merged === undefined) return undefined;
    const patches: BytePatch[] = [{ offset: target.chunk.dataStart, bytes: utf8(merged) }];
    for (const entry of others) {
      if (readXmpLabels(entry.text).length === 0) continue;
      const emptied = setXmpLabel(entry.text, null, { targetBytes: entry.chunk.size });
      if (emptied === undefined) return undefined;
      patches.push({ offset: entry.chunk.dataStart, bytes: utf8(emptied) });
    }
    const flags = (await readExact(source, p.vp8x.dataStart, 1, 'webp'))[0] ?? 0;
    if ((flags & FLAG_XMP) === 0) patches.push({ offset: p.vp8x.dataStart, bytes: new Uint8Array([flags | FLAG_XMP]) });
    for (const edit of exifEdits(p)) patches.push({ offset: edit.start, bytes: edit.bytes });
    return patches;
  },
};
