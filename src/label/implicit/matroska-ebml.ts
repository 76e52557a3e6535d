/**
 * @module label/implicit/matroska-ebml
 * EBML (RFC 8794), the binary format under Matroska and WebM: variable-length integers for
 * element IDs and sizes (§4), elements parsed into an in-memory tree for the few master
 * elements a label edit rebuilds (SeekHead, Cues, Tags), and serialisation that keeps an
 * unchanged element's bytes and recomputes a master's `CRC-32` child (§11.3.1) when it changes.
 */
import { LabelFormatError } from '../errors.js';
import { concatBytes, viewOf } from './bytes.js';
import { crc32 } from './bytes.js';

export const FORMAT = 'matroska';

/** Element IDs used here (RFC 8794 §11.3, RFC 9559 §5.1). */
export const ID = {
  EBML: 0x1a45dfa3,
  DocType: 0x4282,
  Segment: 0x18538067,
  SeekHead: 0x114d9b74,
  Seek: 0x4dbb,
  SeekID: 0x53ab,
  SeekPosition: 0x53ac,
  Info: 0x1549a966,
  Tracks: 0x1654ae6b,
  Cues: 0x1c53bb6b,
  CuePoint: 0xbb,
  CueTrackPositions: 0xb7,
  CueClusterPosition: 0xf1,
  Tags: 0x1254c367,
  Tag: 0x7373,
  Targets: 0x63c0,
  SimpleTag: 0x67c8,
  TagName: 0x45a3,
  TagString: 0x4487,
  Cluster: 0x1f43b675,
  Chapters: 0x1043a770,
  Attachments: 0x1941a469,
  Void: 0xec,
  CRC32: 0xbf,
} as const;

/** Target UIDs: a Tag with any of them non-zero applies to a track, edition, chapter or attachment, not the whole segment. */
export const TARGET_UIDS: ReadonlySet<number> = new Set([0x63c5, 0x63c9, 0x63c4, 0x63c6]);

/** An element header: its ID (marker bits kept, as IDs are written), data size (undefined when unknown) and header length. */
export interface ElementHeader {
  id: number;
  size: number | undefined;
  headerLength: number;
}

/**
 * Reads an element header at `at` in `bytes` (which starts at file offset `offset`). IDs are
 * 1-4 bytes, sizes 1-8 (§4.1); a size of all ones means unknown (§6.2). Bad vints are errors.
 */
export function readHeader(bytes: Uint8Array, at: number, offset: number): ElementHeader {
  const first = bytes[at];
  if (first === undefined) throw new LabelFormatError(FORMAT, `an element header is cut short`, { offset: offset + at });
  const idLength = Math.clz32(first) - 23;
  if (first === 0 || idLength > 4) throw new LabelFormatError(FORMAT, `bad EBML vint: element ID starting 0x${first.toString(16)} is longer than 4 bytes`, { offset: offset + at });
  if (at + idLength >= bytes.length) throw new LabelFormatError(FORMAT, `an element header is cut short`, { offset: offset + at });
  let id = 0;
  for (let i = 0; i < idLength; i++) id = id * 256 + (bytes[at + i] ?? 0);
  const sizeAt = at + idLength;
  const sizeFirst = bytes[sizeAt] ?? 0;
  const sizeLength = Math.clz32(sizeFirst) - 23;
  if (sizeFirst === 0) throw new LabelFormatError(FORMAT, `bad EBML vint: element 0x${id.toString(16)} has a size longer than 8 bytes`, { offset: offset + sizeAt });
  if (sizeAt + sizeLength > bytes.length) throw new LabelFormatError(FORMAT, `an element header is cut short`, { offset: offset + at });
  let size = sizeFirst & (0xff >> sizeLength);
  let allOnes = size === 0xff >> sizeLength;
  for (let i = 1; i < sizeLength; i++) {
    const byte = bytes[sizeAt + i] ?? 0;
    size = size * 256 + byte;
    allOnes &&= byte === 0xff;
  }
  if (!allOnes && size > Number.MAX_SAFE_INTEGER) throw new LabelFormatError(FORMAT, `element size ${size} is larger than any file`, { offset: offset + sizeAt });
  return { id, size: allOnes ? undefined : size, headerLength: idLength + sizeLength };
}

/** The bytes of an element ID (IDs keep their length marker). */
export function idBytes(id: number): Uint8Array {
  const length = id > 0xffffff ? 4 : id > 0xffff ? 3 : id > 0xff ? 2 : 1;
  return Uint8Array.from({ length }, (_, i) => Math.floor(id / 256 ** (length - 1 - i)) & 0xff);
}

/** A data size as a vint of `width` bytes (1-8), or the shortest that holds it when `width` is 0. */
export function sizeBytes(size: number, width = 0): Uint8Array {
  let length = 1;
  while (length < 8 && size > 2 ** (7 * length) - 2) length++;
  length = Math.max(length, width);
  if (size > 2 ** (7 * length) - 2) throw new LabelFormatError(FORMAT, `size ${size} does not fit a ${length}-byte EBML vint`);
  const out = new Uint8Array(length);
  let rest = size;
  for (let i = length - 1; i >= 0; i--) {
    out[i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  out[0] = (out[0] ?? 0) | (0x80 >> (length - 1));
  return out;
}

/** An element of `id` holding `data`, its size written in at least `width` bytes. */
export function element(id: number, data: Uint8Array, width = 0): Uint8Array {
  return concatBytes([idBytes(id), sizeBytes(data.length, width), data]);
}

/** An unsigned integer element's data in at least `width` bytes (§7.2: big-endian, 0-8 bytes). */
export function uintBytes(value: number, width = 1): Uint8Array {
  let length = 1;
  while (length < 8 && value >= 2 ** (8 * length)) length++;
  length = Math.max(length, width);
  const out = new Uint8Array(length);
  let rest = value;
  for (let i = length - 1; i >= 0; i--) {
    out[i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  return out;
}

export function readUint(data: Uint8Array, offset: number): number {
  if (data.length > 8) throw new LabelFormatError(FORMAT, `unsigned integer of ${data.length} bytes is longer than 8`, { offset });
  let value = 0;
  for (const byte of data) value = value * 256 + byte;
  if (value > Number.MAX_SAFE_INTEGER) throw new LabelFormatError(FORMAT, `unsigned integer ${value} is larger than any file`, { offset });
  return value;
}

/** A Void element (§11.3.2) of exactly `total` bytes (at least 2): skipped by every reader. */
export function voidElement(total: number): Uint8Array {
  if (total < 2) throw new RangeError('a Void element needs at least 2 bytes');
  for (let width = 1; width <= 8; width++) {
    const data = total - 1 - width;
    if (data >= 0 && data <= 2 ** (7 * width) - 2) return concatBytes([Uint8Array.of(ID.Void), sizeBytes(data, width), new Uint8Array(data)]);
  }
  throw new RangeError(`no Void element of ${total} bytes`);
}

/** An element in memory. Children are parsed for masters a rule names; `raw` is dropped when anything changes. */
export interface EbmlElement {
  id: number;
  /** The whole element as read; present only while unchanged. */
  raw?: Uint8Array;
  /** Leaf data. */
  data?: Uint8Array;
  children?: EbmlElement[];
  /** The width of the size field as read, kept so an unchanged layout stays unchanged. */
  sizeWidth: number;
  offset: number;
}

/** Master elements nested deeper than this are refused (SimpleTags may nest, but not without end). */
const MAX_DEPTH = 16;

/**
 * Parses the elements in `bytes` (file offset `offset`); `masters` are parsed into children.
 * Every size is checked against its parent, and unknown sizes are refused inside these trees.
 */
export function parseElements(bytes: Uint8Array, offset: number, masters: ReadonlySet<number>, depth = 0): EbmlElement[] {
  if (depth > MAX_DEPTH) throw new LabelFormatError(FORMAT, `elements nested more than ${MAX_DEPTH} deep`, { offset });
  const elements: EbmlElement[] = [];
  for (let at = 0; at < bytes.length; ) {
    const header = readHeader(bytes, at, offset);
    if (header.size === undefined) throw new LabelFormatError(FORMAT, `element 0x${header.id.toString(16)} has an unknown size where none is allowed`, { offset: offset + at });
    const end = at + header.headerLength + header.size;
    if (end > bytes.length) {
      throw new LabelFormatError(FORMAT, `element 0x${header.id.toString(16)} of ${header.size} bytes overruns its parent (${bytes.length - at - header.headerLength} left)`, {
        offset: offset + at,
      });
    }
    const data = bytes.subarray(at + header.headerLength, end);
    const sizeWidth = header.headerLength - idBytes(header.id).length;
    const el: EbmlElement = { id: header.id, raw: bytes.subarray(at, end), sizeWidth, offset: offset + at };
    if (masters.has(header.id)) el.children = parseElements(data, offset + at + header.headerLength, masters, depth + 1);
    else el.data = data;
    elements.push(el);
    at = end;
  }
  return elements;
}

/** The bytes of `el`: as read when unchanged; rebuilt otherwise, with a fresh CRC-32 first child if it had one. */
export function serializeElement(el: EbmlElement): Uint8Array {
  if (el.raw) return el.raw;
  if (!el.children) return element(el.id, el.data ?? new Uint8Array(0), el.sizeWidth);
  const parts = el.children.map((c) => (c.id === ID.CRC32 ? undefined : serializeElement(c)));
  const crcAt = el.children.findIndex((c) => c.id === ID.CRC32);
  if (crcAt !== -1) {
    const crc = new Uint8Array(4);
    viewOf(crc).setUint32(0, crc32(concatBytes(parts.slice(crcAt + 1).filter((p): p is Uint8Array => p !== undefined))), true);
    parts[crcAt] = element(ID.CRC32, crc);
  }
  return element(el.id, concatBytes(parts.filter((p): p is Uint8Array => p !== undefined)), el.sizeWidth);
}

/** The bytes of `el` with its size field at least `width` bytes wide (to fill a room exactly). */
export function serializeWidened(el: EbmlElement, width: number): Uint8Array {
  if (width <= el.sizeWidth) return serializeElement(el);
  const bytes = serializeElement({ ...el, raw: undefined, sizeWidth: 0 } as EbmlElement);
  const header = readHeader(bytes, 0, 0);
  return element(el.id, bytes.subarray(header.headerLength), width);
}

/** Marks elements changed so they are rebuilt; call on every element on the path to an edit. */
export function touch(...elements: EbmlElement[]): void {
  for (const el of elements) delete el.raw;
}

export function childOf(el: EbmlElement | undefined, id: number): EbmlElement | undefined {
  return el?.children?.find((c) => c.id === id);
}

/** A new element in memory. */
export function newElement(id: number, content: Uint8Array | EbmlElement[]): EbmlElement {
  return content instanceof Uint8Array ? { id, data: content, sizeWidth: 0, offset: -1 } : { id, children: content, sizeWidth: 0, offset: -1 };
}
