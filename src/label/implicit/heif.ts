/**
 * @module label/implicit/heif
 * HEIF and AVIF still images (ISO/IEC 23008-12; AV1 Image File Format). The label goes in
 * XMP (TC260 guide: "TIFF/HEIF: XMP"), stored as an item of type `mime` with content type
 * `application/rdf+xml` (ISO/IEC 23008-12 Annex A), linked to the primary image by a `cdsc`
 * reference. The packet goes in an `mdat` box of its own at the end of the file (readers such
 * as ExifTool do not read XMP kept in `idat`); the `meta` box is rebuilt, the image data is
 * copied untouched, and every `iloc` offset that points past `meta` is shifted by the change
 * in its size. A tail `mdat` written earlier is replaced, so relabelling does not grow the file.
 */
import { LabelFormatError } from '../errors.js';
import type { BytePatch, ByteRange, ByteSource, FoundLabel, LabelCodec } from './codec.js';
import { HEIF_STILL_BRANDS } from './codec-table.js';
import { ascii, concatBytes, fromUtf8, mergeRanges, readExact, startsWith, utf8, writePieces } from './bytes.js';
import {
  box,
  children,
  encodeIinf,
  encodeIloc,
  encodeIref,
  fullBox,
  parseIinf,
  parseIloc,
  parseIref,
  xmpInfe,
  Reader,
  type Child,
  type Iloc,
  type ItemInfo,
  type ItemLocation,
  type Reference,
} from './heif-meta.js';
import { canonicalXmpPacket, nextXmpPacket, readXmpLabels, setXmpLabel, type PacketRule } from './xmp.js';

export const HEIF_XMP_LOCATION = 'xmp:HEIF-item';
const MAX_META = 16 << 20;
const MAX_TOP_BOXES = 4096;
const XMP_TYPE = 'application/rdf+xml';

interface TopBox {
  type: string;
  start: number;
  end: number;
}

interface Meta {
  box: TopBox;
  bytes: Uint8Array;
  /** Size of the meta box header before its version and flags (8, or 16 with a 64-bit size). */
  headerSize: number;
  /** Children of meta, offsets within `bytes`. */
  kids: Child[];
  iinf: { version: number; items: ItemInfo[] };
  iloc: Iloc;
  iref: { version: number; references: Reference[] };
  /** Absolute offset of the idat content, and the content itself. */
  idat: { start: number; data: Uint8Array } | undefined;
  primary: number;
}

async function topBoxes(source: ByteSource): Promise<TopBox[]> {
  const boxes: TopBox[] = [];
  for (let at = 0; at < source.size; ) {
    if (boxes.length >= MAX_TOP_BOXES) throw new LabelFormatError('heif', 'too many top-level boxes', { offset: at });
    const head = await readExact(source, at, 8, 'heif');
    let size = new Reader(head, 0, 4).uint(4);
    const type = ascii(head, 4, 8);
    if (size === 1) size = new Reader(await readExact(source, at + 8, 8, 'heif'), 0, 8).uint(8);
    else if (size === 0) size = source.size - at;
    if (size < 8 || at + size > source.size) throw new LabelFormatError('heif', `box ${JSON.stringify(type)} of ${size} bytes does not fit the file`, { offset: at });
    boxes.push({ type, start: at, end: at + size });
    at += size;
  }
  return boxes;
}

async function readMeta(source: ByteSource): Promise<{ meta: Meta; boxes: TopBox[] }> {
  const boxes = await topBoxes(source);
  if (boxes.some((b) => b.type === 'moov')) throw new LabelFormatError('heif', 'image sequences (with a moov box) are labelled as MP4, not HEIF');
  const found = boxes.find((b) => b.type === 'meta');
  if (!found) throw new LabelFormatError('heif', 'no meta box');
  if (found.end - found.start > MAX_META) throw new LabelFormatError('heif', `meta box of ${found.end - found.start} bytes is implausibly large`, { offset: found.start });
  const bytes = await readExact(source, found.start, found.end - found.start, 'heif');
  const headerSize = new Reader(bytes, 0, 4).uint(4) === 1 ? 16 : 8;
  const kids = children(bytes, headerSize + 4, bytes.length);
  const find = (type: string): Child | undefined => kids.find((k) => k.type === type);
  const iinfBox = find('iinf');
  const ilocBox = find('iloc');
  if (!iinfBox || !ilocBox) throw new LabelFormatError('heif', 'meta has no iinf or iloc box', { offset: found.start });
  const irefBox = find('iref');
  const idatBox = find('idat');
  const pitmBox = find('pitm');
  let primary = 0;
  if (pitmBox) {
    const r = new Reader(bytes, pitmBox.contentStart, pitmBox.end);
    const version = r.uint(1);
    r.uint(3);
    primary = r.uint(version === 0 ? 2 : 4);
  }
  const meta: Meta = {
    box: found,
    bytes,
    headerSize,
    kids,
    iinf: parseIinf(bytes, iinfBox),
    iloc: parseIloc(bytes, ilocBox),
    iref: irefBox ? parseIref(bytes, irefBox) : { version: 0, references: [] },
    idat: idatBox ? { start: found.start + idatBox.contentStart, data: bytes.slice(idatBox.contentStart, idatBox.end) } : undefined,
    primary,
  };
  return { meta, boxes };
}

function xmpItems(meta: Meta): ItemInfo[] {
  return meta.iinf.items.filter((i) => i.type === 'mime' && i.contentType === XMP_TYPE);
}

/** Absolute ranges of an item's bytes in the file, or undefined for data in another file. */
function itemRanges(meta: Meta, location: ItemLocation, size: number): ByteRange[] | undefined {
  if (location.dataReferenceIndex !== 0 || location.constructionMethod === 2) return undefined;
  const base = location.constructionMethod === 1 ? (meta.idat?.start ?? -1) + location.baseOffset : location.baseOffset;
  const limit = location.constructionMethod === 1 ? (meta.idat ? meta.idat.start + meta.idat.data.length : -1) : size;
  return location.extents.map((extent) => {
    const start = base + extent.offset;
    const end = extent.length === 0 ? limit : start + extent.length;
    if (start < 0 || end > limit || end < start) throw new LabelFormatError('heif', `item ${location.id} lies outside its data`, { offset: start });
    return { start, end };
  });
}

async function itemText(source: ByteSource, meta: Meta, id: number): Promise<string | undefined> {
  const location = meta.iloc.items.find((l) => l.id === id);
  const ranges = location && itemRanges(meta, location, source.size);
  if (!ranges) return undefined;
  const total = ranges.reduce((n, r) => n + r.end - r.start, 0);
  if (total > MAX_META) throw new LabelFormatError('heif', `XMP item of ${total} bytes is implausibly large`);
  const parts = await Promise.all(ranges.map((r) => readExact(source, r.start, r.end - r.start, 'heif')));
  return fromUtf8(concatBytes(parts));
}

interface Rewrite {
  meta: Meta;
  /** The new meta box. */
  bytes: Uint8Array;
  /** The file is copied up to here; a tail `mdat` hegui appended earlier is dropped. */
  keepEnd: number;
  /** A new `mdat` box with the XMP packets, appended at the end. */
  tail: Uint8Array;
}

/**
 * Where the copy of the file may stop: before a last `mdat` box that holds nothing but XMP
 * items being rewritten (hegui's own, from an earlier write), or at the end.
 */
function keepEndOf(meta: Meta, boxes: readonly TopBox[], rewritten: ReadonlySet<number>, size: number): number {
  const last = boxes[boxes.length - 1];
  if (!last || last.type !== 'mdat' || last.start < meta.box.end) return size;
  const contentStart = last.start + 8;
  let covered = 0;
  for (const location of meta.iloc.items) {
    const ranges = itemRanges(meta, location, size) ?? [];
    const inside = ranges.filter((r) => r.end > last.start);
    if (inside.length === 0) continue;
    if (!rewritten.has(location.id)) return size;
    covered += inside.reduce((n, r) => n + r.end - Math.max(r.start, contentStart), 0);
  }
  return covered === last.end - contentStart ? last.start : size;
}

/** Rebuilds meta with the XMP items set to `packets` (null drops an item), data in a tail mdat. */
function rebuild(meta: Meta, packets: Map<number, string | null>, added: number | undefined, keepEnd: number): Rewrite {
  const dropped = new Set([...packets].filter(([, p]) => p === null).map(([id]) => id));
  const items = meta.iinf.items.filter((i) => !dropped.has(i.id));
  if (added !== undefined) items.push(xmpInfe(added));
  const data: Uint8Array[] = [];
  const placed = new Map<number, { offset: number; length: number }>();
  let tailLength = 0;
  for (const [id, packet] of packets) {
    if (packet === null) continue;
    const bytes = utf8(packet);
    placed.set(id, { offset: tailLength, length: bytes.length });
    data.push(bytes);
    tailLength += bytes.length;
  }
  const iloc: Iloc = { ...meta.iloc, offsetSize: Math.max(meta.iloc.offsetSize, 4), lengthSize: Math.max(meta.iloc.lengthSize, 4) };
  const kept = meta.iloc.items.filter((l) => !dropped.has(l.id) && !placed.has(l.id));
  const references = meta.iref.references
    .filter((ref) => !dropped.has(ref.from))
    .map((ref) => ({ ...ref, to: ref.to.filter((id) => !dropped.has(id)) }))
    .filter((ref) => ref.to.length > 0);
  if (added !== undefined && meta.primary !== 0) references.push({ type: 'cdsc', from: added, to: [meta.primary] });

  const encode = (delta: number): Uint8Array => {
    const tailStart = keepEnd + delta + 8;
    const located: ItemLocation[] = [...placed].map(([id, at]) => ({
      id,
      constructionMethod: 0,
      dataReferenceIndex: 0,
      baseOffset: 0,
      extents: [{ index: 0, offset: tailStart + at.offset, length: at.length }],
    }));
    const locations = [...kept.map((l) => shiftLocation(l, meta, delta)), ...located].sort((a, b) => a.id - b.id);
    const replaced = new Map<string, Uint8Array>([
      ['iinf', encodeIinf(meta.iinf.version, items)],
      ['iloc', encodeIloc({ ...iloc, items: locations })],
    ]);
    if (references.length > 0) replaced.set('iref', encodeIref(meta.iref.version, references));
    const parts: Uint8Array[] = [];
    for (const kid of meta.kids) {
      if (kid.type === 'iref' && references.length === 0) continue;
      parts.push(replaced.get(kid.type) ?? meta.bytes.subarray(kid.start, kid.end));
      replaced.delete(kid.type);
    }
    parts.push(...replaced.values());
    const versionAndFlags = new Reader(meta.bytes, meta.headerSize, meta.headerSize + 4);
    return fullBox('meta', versionAndFlags.uint(1), versionAndFlags.uint(3), ...parts);
  };
  // Field sizes do not depend on values, so the size found with no shift is the final size.
  const bytes = encode(encode(0).length - meta.bytes.length);
  return { meta, bytes, keepEnd, tail: data.length > 0 ? box('mdat', ...data) : new Uint8Array(0) };
}

/**
 * Moves a file-offset (construction method 0) location that points past the old meta box.
 *
 * @throws LabelFormatError for a location inside the meta box. Item data in `meta` belongs in
 *   `idat` (construction method 1); a file offset into `meta` points at bytes the rebuild drops
 *   or rewrites (the `iinf`, `iloc` and `iref` children), and when `meta` shrinks it lands on
 *   the same number as an offset past it, so a forger could hide another image there and keep
 *   the signed content unchanged (docs/labels.md, HEIF; issue 11).
 */
function shiftLocation(location: ItemLocation, meta: Meta, delta: number): ItemLocation {
  if (location.constructionMethod !== 0 || location.dataReferenceIndex !== 0) return location;
  for (const extent of location.extents) {
    const at = location.baseOffset + extent.offset;
    if (at >= meta.box.start && at < meta.box.end) {
      throw new LabelFormatError('heif', `item ${location.id} points at byte ${at}, inside the 'meta' box, where no item data can be`, { offset: at });
    }
  }
  if (delta === 0) return location;
  const metaEnd = meta.box.end;
  if (location.baseOffset >= metaEnd) return { ...location, baseOffset: location.baseOffset + delta };
  return { ...location, extents: location.extents.map((e) => (location.baseOffset + e.offset >= metaEnd ? { ...e, offset: e.offset + delta } : e)) };
}

async function rewrite(source: ByteSource, value: string | null, rule: PacketRule = nextXmpPacket): Promise<Rewrite> {
  const { meta, boxes } = await readMeta(source);
  const [target, ...others] = xmpItems(meta);
  const packets = new Map<number, string | null>();
  for (const item of others) {
    const text = await itemText(source, meta, item.id);
    if (text !== undefined && readXmpLabels(text).length > 0) packets.set(item.id, rule(text, null));
  }
  const current = target ? await itemText(source, meta, target.id) : undefined;
  const next = rule(current, value);
  let added: number | undefined;
  if (target) packets.set(target.id, next);
  else if (next !== null) {
    added = Math.max(0, ...meta.iinf.items.map((i) => i.id), ...meta.iloc.items.map((l) => l.id)) + 1;
    packets.set(added, next);
  }
  if (packets.size === 0) return { meta, bytes: meta.bytes, keepEnd: source.size, tail: new Uint8Array(0) };
  return rebuild(meta, packets, added, keepEndOf(meta, boxes, new Set(packets.keys()), source.size));
}

async function emit(source: ByteSource, value: string | null, sink: Parameters<LabelCodec['write']>[2], rule: PacketRule = nextXmpPacket): Promise<void> {
  const { meta, bytes, keepEnd, tail } = await rewrite(source, value, rule);
  await writePieces(source, [{ start: 0, end: meta.box.start }, bytes, { start: meta.box.end, end: keepEnd }, tail], sink);
}

export const heifCodec: LabelCodec = {
  format: 'heif',
  mediaTypes: ['image/heif', 'image/heic', 'image/avif'],
  extensions: ['heif', 'heic', 'hif', 'avif'],

  detect: (head) => startsWith(head, 'ftyp', 4) && HEIF_STILL_BRANDS.has(ascii(head, 8, 12)),

  async read(source) {
    const { meta } = await readMeta(source);
    const found: FoundLabel[] = [];
    for (const item of xmpItems(meta)) {
      const text = await itemText(source, meta, item.id);
      if (text !== undefined) for (const value of readXmpLabels(text)) found.push({ value, location: HEIF_XMP_LOCATION, standard: true });
    }
    return found;
  },

  write: (source, value, sink) => emit(source, value, sink),

  remove: (source, sink) => emit(source, null, sink),

  /** Signed content (docs/labels.md): the file as `remove` leaves it, its XMP packet in canonical form. */
  signedContent: (source, sink) => emit(source, null, sink, canonicalXmpPacket),

  async payloadRanges(source) {
    const { meta, boxes } = await readMeta(source);
    // Item properties (codec configuration, size, rotation...) shape the decoded image too.
    const iprp = meta.kids.find((k) => k.type === 'iprp');
    const ranges: ByteRange[] = iprp ? [{ start: meta.box.start + iprp.start, end: meta.box.start + iprp.end }] : [];
    const metadataIds = new Set(meta.iinf.items.filter((i) => i.type === 'mime' || i.type === 'Exif').map((i) => i.id));
    for (const location of meta.iloc.items) {
      if (!metadataIds.has(location.id)) ranges.push(...(itemRanges(meta, location, source.size) ?? []));
    }
    if (ranges.length === 0 && boxes.length > 0) throw new LabelFormatError('heif', 'no image data found');
    return mergeRanges(ranges);
  },

  async planInPlace(source, value) {
    const { meta } = await readMeta(source);
    const [target, ...others] = xmpItems(meta);
    if (!target || others.length > 0) return undefined;
    const location = meta.iloc.items.find((l) => l.id === target.id);
    const ranges = location && itemRanges(meta, location, source.size);
    const range = ranges?.length === 1 ? ranges[0] : undefined;
    if (!range) return undefined;
    const text = fromUtf8(await readExact(source, range.start, range.end - range.start, 'heif'));
    const merged = setXmpLabel(text, value, { targetBytes: range.end - range.start });
    return merged === undefined ? undefined : ([{ offset: range.start, bytes: utf8(merged) }] satisfies BytePatch[]);
  },
};
