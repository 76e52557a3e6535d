/**
 * @module label/implicit/jpeg
 * JPEG (ITU-T T.81 Annex B marker segments). The label goes in the XMP APP1 segment
 * (`http://ns.adobe.com/xap/1.0/\0`, XMP Part 3 §1.1.3), as the TC260 guide places it for
 * JPEG. A label in extended XMP (the APP1 chunks of a packet too large for one segment) is read
 * and taken out, each chunk keeping its size. Only the marker segments before the first SOS are parsed; the entropy-coded data and
 * everything after it is copied byte for byte.
 *
 * A multi-picture file's MPF APP2 segment (CIPA DC-007) holds offsets relative to itself, to
 * images after EOI: hegui only changes sizes before that segment, and empties a label found
 * after it without changing its size.
 */
import { createHash } from 'node:crypto';
import { LabelFormatError } from '../errors.js';
import type { BytePatch, ByteRange, ByteSource, FoundLabel, LabelCodec } from './codec.js';
import { applyEdits, ascii, bufferSource, concatBytes, fromUtf8, mergeRanges, readExact, startsWith, utf8, viewOf, writePieces, type Edit } from './bytes.js';
import { EXIF_LOCATION, blankUserComment, findExifLabel } from './exif.js';
import { canonicalXmpPacket, nextXmpPacket, readXmpLabels, setXmpLabel, withoutPadding, type PacketRule } from './xmp.js';

export const XMP_ID = 'http://ns.adobe.com/xap/1.0/\0';
export const EXTENDED_ID = 'http://ns.adobe.com/xmp/extension/\0';
/** Namespace, 32-character GUID, full length and offset before each extended XMP chunk. */
export const EXTENDED_HEADER = EXTENDED_ID.length + 32 + 8;
export const JPEG_EXTENDED_XMP_LOCATION = 'xmp:APP1-extended';
const EXIF_ID = 'Exif\0\0';
const MPF_ID = 'MPF\0';
const APP1 = 0xe1;
const APP2 = 0xe2;
const SOS = 0xda;
const EOI = 0xd9;
/** Largest XMP packet an APP1 segment holds: 65535 - 2 (length) - 29 (namespace). */
const MAX_XMP_BYTES = 65535 - 2 - XMP_ID.length;
const MAX_SEGMENTS = 65536;
export const JPEG_XMP_LOCATION = 'xmp:APP1';

interface Segment {
  marker: number;
  /** Offset of the 0xFF of the marker. */
  start: number;
  /** Offset of the segment's data (after the length field). */
  dataStart: number;
  end: number;
  /** First bytes of the data, enough to identify APP segments. */
  id: string;
}

interface Layout {
  segments: Segment[];
  /** Offset of the first SOS marker (or of EOI, or the end, for a file without a scan). */
  scanStart: number;
}

function isStandalone(marker: number): boolean {
  return marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7);
}

async function scanSegments(source: ByteSource): Promise<Layout> {
  const segments: Segment[] = [];
  let at = 2;
  for (;;) {
    if (at >= source.size) throw new LabelFormatError('jpeg', 'the file ends before the first scan (SOS)', { offset: at });
    const head = await source.read(at, 4);
    if (head[0] !== 0xff) throw new LabelFormatError('jpeg', 'expected a marker (0xFF)', { offset: at });
    const marker = head[1] ?? 0;
    if (marker === 0xff) {
      at++; // fill byte (T.81 B.1.1.2)
      continue;
    }
    if (marker === SOS || marker === EOI) return { segments, scanStart: at };
    if (segments.length >= MAX_SEGMENTS) throw new LabelFormatError('jpeg', 'too many marker segments', { offset: at });
    if (isStandalone(marker)) {
      segments.push({ marker, start: at, dataStart: at + 2, end: at + 2, id: '' });
      at += 2;
      continue;
    }
    if (head.length < 4) throw new LabelFormatError('jpeg', 'truncated segment header', { offset: at });
    const length = viewOf(head).getUint16(2);
    if (length < 2) throw new LabelFormatError('jpeg', `segment length ${length} is below the minimum of 2`, { offset: at + 2 });
    const end = at + 2 + length;
    if (end > source.size) throw new LabelFormatError('jpeg', `segment of ${length} bytes runs past the end of the file`, { offset: at });
    const id = marker >= 0xe0 && marker <= 0xef ? ascii(await source.read(at + 4, Math.min(length - 2, XMP_ID.length))) : '';
    segments.push({ marker, start: at, dataStart: at + 4, end, id });
    at = end;
  }
}

async function layoutOf(source: ByteSource): Promise<Layout> {
  const soi = await readExact(source, 0, 2, 'jpeg');
  if (!startsWith(soi, [0xff, 0xd8])) throw new LabelFormatError('jpeg', 'missing SOI marker', { offset: 0 });
  return scanSegments(source);
}

const isXmp = (s: Segment): boolean => s.marker === APP1 && s.id === XMP_ID;
/** Extended XMP (XMP Part 3 §1.1.3.1): the first bytes of its namespace, as `Segment.id` holds them. */
const isExtendedXmp = (s: Segment): boolean => s.marker === APP1 && EXTENDED_ID.startsWith(s.id) && s.id.length === XMP_ID.length;
const isExif = (s: Segment): boolean => s.marker === APP1 && s.id.startsWith(EXIF_ID);
const isMpf = (s: Segment): boolean => s.marker === APP2 && s.id.startsWith(MPF_ID);

async function xmpText(source: ByteSource, segment: Segment): Promise<string> {
  const start = segment.dataStart + XMP_ID.length;
  return fromUtf8(await readExact(source, start, segment.end - start, 'jpeg'));
}

function app1(packet: string): Uint8Array {
  let body = utf8(packet);
  if (body.length > MAX_XMP_BYTES) body = utf8(withoutPadding(packet));
  if (body.length > MAX_XMP_BYTES) {
    throw new LabelFormatError('jpeg', `the XMP packet needs ${body.length} bytes, more than the ${MAX_XMP_BYTES} an APP1 segment holds`);
  }
  const header = new Uint8Array(4);
  const view = viewOf(header);
  view.setUint16(0, 0xff00 | APP1);
  view.setUint16(2, 2 + XMP_ID.length + body.length);
  return concatBytes([header, utf8(XMP_ID), body]);
}

/** Where a new XMP segment goes: after the leading JFIF APP0 and Exif APP1 (XMP Part 3 §1.1.3). */
function insertionPoint(segments: readonly Segment[]): number {
  let at = 2;
  for (const segment of segments) {
    if (segment.marker === 0xe0 || isExif(segment)) at = segment.end;
    else break;
  }
  return at;
}

/** One extended XMP packet, put together from its chunks. */
interface ExtendedXmp {
  guid: string;
  text: string;
  chunks: { segment: Segment; offset: number; length: number }[];
}

/** One chunk of an extended XMP packet: the data of its APP1 segment (after the length field), and what it belongs to. */
export interface ExtendedChunk<T> {
  ref: T;
  data: Uint8Array;
}

/** What `assembleExtendedXmp` found: the packets whose chunks are all there, and the GUIDs of those that cannot be put together. */
export interface AssembledExtendedXmp<T> {
  complete: { guid: string; text: string; chunks: { ref: T; offset: number; length: number }[] }[];
  broken: { guid: string; refs: T[]; why: string }[];
}

/**
 * Puts extended XMP packets together from their APP1 chunks (XMP Part 3 §1.1.3.1: each holds
 * the namespace, the GUID, the full length and the offset of its chunk). `broken` lists what
 * cannot be read: a chunk too short for its header or stating another full length than the
 * first chunk of its GUID (left out of the packet), and a packet with a chunk missing,
 * overlapping or past its length, or stating more than 64 MiB.
 */
export function assembleExtendedXmp<T>(chunks: readonly ExtendedChunk<T>[]): AssembledExtendedXmp<T> {
  const out: AssembledExtendedXmp<T> = { complete: [], broken: [] };
  const groups = new Map<string, { full: number; chunks: { ref: T; offset: number; data: Uint8Array }[] }>();
  for (const { ref, data } of chunks) {
    if (data.length < EXTENDED_HEADER || ascii(data, 0, EXTENDED_ID.length) !== EXTENDED_ID) {
      out.broken.push({ guid: data.length >= EXTENDED_ID.length + 32 ? ascii(data, EXTENDED_ID.length, EXTENDED_ID.length + 32) : '', refs: [ref], why: 'a chunk too short for its header' });
      continue;
    }
    const guid = ascii(data, EXTENDED_ID.length, EXTENDED_ID.length + 32);
    const view = viewOf(data);
    const full = view.getUint32(EXTENDED_ID.length + 32);
    const offset = view.getUint32(EXTENDED_ID.length + 36);
    const group = groups.get(guid) ?? { full, chunks: [] };
    if (group.full !== full) {
      out.broken.push({ guid, refs: [ref], why: `a chunk stating ${full} bytes in all where the others state ${group.full}` });
      continue;
    }
    group.chunks.push({ ref, offset, data: data.subarray(EXTENDED_HEADER) });
    groups.set(guid, group);
  }
  for (const [guid, { full, chunks: parts }] of groups) {
    const refs = parts.map((part) => part.ref);
    if (full > 64 << 20) {
      out.broken.push({ guid, refs, why: `a stated length of ${full} bytes` });
      continue;
    }
    const bytes = new Uint8Array(full);
    let covered = 0;
    for (const chunk of [...parts].sort((a, b) => a.offset - b.offset)) {
      if (chunk.offset !== covered || chunk.offset + chunk.data.length > full) break;
      bytes.set(chunk.data, chunk.offset);
      covered += chunk.data.length;
    }
    if (covered !== full) {
      out.broken.push({ guid, refs, why: `its chunks cover ${covered} of its ${full} bytes without a gap or an overlap` });
      continue;
    }
    out.complete.push({ guid, text: fromUtf8(bytes), chunks: parts.map(({ ref, offset, data }) => ({ ref, offset, length: data.length })) });
  }
  return out;
}

/**
 * The extended XMP packets whose chunks are all there (`assembleExtendedXmp`). One with a chunk
 * missing or overlapping is left alone: it cannot be read, so hegui neither reports nor
 * rewrites it.
 */
async function extendedXmp(source: ByteSource, segments: readonly Segment[]): Promise<ExtendedXmp[]> {
  const chunks: ExtendedChunk<Segment>[] = [];
  for (const segment of segments.filter(isExtendedXmp)) chunks.push({ ref: segment, data: await readExact(source, segment.dataStart, segment.end - segment.dataStart, 'jpeg') });
  return assembleExtendedXmp(chunks).complete.map(({ guid, text, chunks: parts }) => ({ guid, text, chunks: parts.map(({ ref, offset, length }) => ({ segment: ref, offset, length })) }));
}

/** The labels of an extended packet; none when it is not well-formed XMP. */
function extendedLabels(xmp: ExtendedXmp): string[] {
  try {
    return readXmpLabels(xmp.text);
  } catch (error) {
    if (error instanceof LabelFormatError) return [];
    throw error;
  }
}

/**
 * Same-size edits that take the label out of extended XMP packets: the packet is padded back
 * to its length, so every chunk keeps its size, and its GUID, the MD5 of the packet, is
 * renewed; `guids` maps each old GUID to the new one, for the main packet's HasExtendedXMP.
 */
function extendedRemovals(packets: readonly ExtendedXmp[]): { edits: Edit[]; guids: Map<string, string> } {
  const edits: Edit[] = [];
  const guids = new Map<string, string>();
  for (const xmp of packets) {
    if (extendedLabels(xmp).length === 0) continue;
    const full = utf8(xmp.text).length;
    const stripped = setXmpLabel(xmp.text, null, { targetBytes: full });
    if (stripped === undefined) continue;
    const bytes = utf8(stripped);
    const guid = createHash('md5').update(bytes).digest('hex').toUpperCase();
    guids.set(xmp.guid, guid);
    for (const chunk of xmp.chunks) {
      const start = chunk.segment.dataStart + EXTENDED_ID.length;
      edits.push({ start, end: start + 32, bytes: utf8(guid) });
      edits.push({ start: chunk.segment.dataStart + EXTENDED_HEADER, end: chunk.segment.end, bytes: bytes.subarray(chunk.offset, chunk.offset + chunk.length) });
    }
  }
  return { edits, guids };
}

/** `packet` pointing at the renewed extended XMP GUIDs (the GUID is as long as before). */
export function withGuids(packet: string, guids: ReadonlyMap<string, string>): string {
  let out = packet;
  for (const [old, renewed] of guids) out = out.split(old).join(renewed);
  return out;
}

interface Plan {
  /** The XMP segment the label is merged into (before any MPF segment), if any. */
  target: Segment | undefined;
  /** Other XMP segments: their label is emptied without changing their size. */
  others: Segment[];
  exif: Segment[];
  extended: ExtendedXmp[];
  layout: Layout;
}

async function plan(source: ByteSource): Promise<Plan> {
  const layout = await layoutOf(source);
  const mpf = layout.segments.findIndex(isMpf);
  const xmp = layout.segments.filter(isXmp);
  const first = xmp[0];
  const target = first && (mpf < 0 || layout.segments.indexOf(first) < mpf) ? first : undefined;
  return { target, others: xmp.filter((s) => s !== target), exif: layout.segments.filter(isExif), extended: await extendedXmp(source, layout.segments), layout };
}

/** Same-size edits that empty labels outside the target: other XMP segments and EXIF UserComment. */
async function sameSizeRemovals(source: ByteSource, p: Plan): Promise<Edit[]> {
  const { edits, guids } = extendedRemovals(p.extended);
  for (const segment of p.others) {
    const packet = await xmpText(source, segment);
    if (readXmpLabels(packet).length === 0 && ![...guids.keys()].some((guid) => packet.includes(guid))) continue;
    const start = segment.dataStart + XMP_ID.length;
    const emptied = setXmpLabel(withGuids(packet, guids), null, { targetBytes: segment.end - start });
    if (emptied !== undefined) edits.push({ start, end: segment.end, bytes: utf8(emptied) });
  }
  for (const segment of p.exif) {
    const data = await readExact(source, segment.dataStart, segment.end - segment.dataStart, 'jpeg');
    const found = await findExifLabel(bufferSource(data), EXIF_ID.length);
    if (found) edits.push({ start: segment.dataStart + found.offset, end: segment.dataStart + found.offset + found.length, bytes: blankUserComment(found.length) });
  }
  return edits;
}

async function rewrite(source: ByteSource, value: string | null, rule: PacketRule = nextXmpPacket): Promise<Edit[]> {
  const p = await plan(source);
  const edits = await sameSizeRemovals(source, p);
  const { guids } = extendedRemovals(p.extended);
  const current = p.target ? withGuids(await xmpText(source, p.target), guids) : undefined;
  const next = rule(current, value);
  if (p.target) edits.push({ start: p.target.start, end: p.target.end, bytes: next === null ? new Uint8Array(0) : app1(next) });
  else if (next !== null) {
    const at = insertionPoint(p.layout.segments);
    edits.push({ start: at, end: at, bytes: app1(next) });
  }
  return edits;
}

export const jpegCodec: LabelCodec = {
  format: 'jpeg',
  mediaTypes: ['image/jpeg'],
  extensions: ['jpg', 'jpeg', 'jpe', 'jfif'],

  detect: (head) => startsWith(head, [0xff, 0xd8, 0xff]),

  async read(source) {
    const p = await plan(source);
    const found: FoundLabel[] = [];
    for (const segment of [p.target, ...p.others]) {
      if (!segment) continue;
      for (const value of readXmpLabels(await xmpText(source, segment))) found.push({ value, location: JPEG_XMP_LOCATION, standard: true });
    }
    for (const xmp of p.extended) for (const value of extendedLabels(xmp)) found.push({ value, location: JPEG_EXTENDED_XMP_LOCATION, standard: false });
    for (const segment of p.exif) {
      const data = await readExact(source, segment.dataStart, segment.end - segment.dataStart, 'jpeg');
      const exif = await findExifLabel(bufferSource(data), EXIF_ID.length);
      if (exif) found.push({ value: exif.value, location: EXIF_LOCATION, standard: false });
    }
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
    const { segments, scanStart } = await layoutOf(source);
    // Every segment that shapes the pixels (tables, frame header, restart markers) and the scans;
    // APPn and COM segments are metadata (T.81 B.2.4.5, B.2.4.6).
    const ranges: ByteRange[] = [{ start: 0, end: 2 }];
    for (const s of segments) if (!(s.marker >= 0xe0 && s.marker <= 0xef) && s.marker !== 0xfe) ranges.push({ start: s.start, end: s.end });
    ranges.push({ start: scanStart, end: source.size });
    return mergeRanges(ranges);
  },

  async planInPlace(source, value) {
    const p = await plan(source);
    if (!p.target) return undefined;
    const start = p.target.dataStart + XMP_ID.length;
    const { guids } = extendedRemovals(p.extended);
    const merged = setXmpLabel(withGuids(await xmpText(source, p.target), guids), value, { targetBytes: p.target.end - start });
    if (merged === undefined) return undefined;
    const patches: BytePatch[] = [{ offset: start, bytes: utf8(merged) }];
    for (const edit of await sameSizeRemovals(source, p)) patches.push({ offset: edit.start, bytes: edit.bytes });
    return patches;
  },
};
