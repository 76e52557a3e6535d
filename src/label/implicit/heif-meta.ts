/**
 * @module label/implicit/heif-meta
 * The parts of a HEIF/AVIF `meta` box (ISO/IEC 23008-12 §9; boxes from ISO/IEC 14496-12
 * §8.11) that locate items: `iinf`/`infe` (what each item is), `iloc` (where its bytes are),
 * `iref` (how items relate) and `idat` (item data kept inside `meta`). Parsed from the meta
 * box's bytes, and encoded again so the label's XMP item can be added, moved or dropped.
 */
import { LabelFormatError } from '../errors.js';
import { ascii, concatBytes, utf8 } from './bytes.js';

function fail(detail: string, offset?: number): never {
  throw new LabelFormatError('heif', detail, offset === undefined ? undefined : { offset });
}

/** A bounds-checked big-endian reader over a byte array. */
export class Reader {
  at: number;
  constructor(
    readonly bytes: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.at = start;
  }
  need(n: number): void {
    if (this.at + n > this.end) fail(`a field runs past the end of its box`, this.at);
  }
  uint(size: number): number {
    this.need(size);
    let value = 0;
    for (let i = 0; i < size; i++) value = value * 256 + (this.bytes[this.at + i] ?? 0);
    this.at += size;
    return value;
  }
  fourcc(): string {
    this.need(4);
    const text = ascii(this.bytes, this.at, this.at + 4);
    this.at += 4;
    return text;
  }
  cstring(): string {
    const nul = this.bytes.indexOf(0, this.at);
    if (nul < 0 || nul >= this.end) fail('a string is not NUL-terminated', this.at);
    const text = new TextDecoder().decode(this.bytes.subarray(this.at, nul));
    this.at = nul + 1;
    return text;
  }
}

/** Writes big-endian unsigned integers of 0, 2, 4 or 8 bytes. */
export function uintBytes(value: number, size: number): Uint8Array {
  if (size > 0 && value >= 2 ** (8 * size)) fail(`the value ${value} does not fit in ${size} bytes`);
  const out = new Uint8Array(size);
  let rest = value;
  for (let i = size - 1; i >= 0; i--) {
    out[i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  return out;
}

export function box(type: string, ...parts: Uint8Array[]): Uint8Array {
  const body = concatBytes(parts);
  return concatBytes([uintBytes(body.length + 8, 4), utf8(type), body]);
}

export function fullBox(type: string, version: number, flags: number, ...parts: Uint8Array[]): Uint8Array {
  return box(type, new Uint8Array([version, (flags >> 16) & 255, (flags >> 8) & 255, flags & 255]), ...parts);
}

/** A child box inside the meta box's bytes. */
export interface Child {
  type: string;
  start: number;
  /** Where its content starts (after size, type and, for `uuid`, the extended type). */
  contentStart: number;
  end: number;
}

/** The boxes in `bytes[start, end)`. */
export function children(bytes: Uint8Array, start: number, end: number): Child[] {
  const out: Child[] = [];
  for (let at = start; at < end; ) {
    const r = new Reader(bytes, at, end);
    let size = r.uint(4);
    const type = r.fourcc();
    if (size === 1) size = r.uint(8);
    else if (size === 0) size = end - at;
    if (size < r.at - at || at + size > end) fail(`box ${JSON.stringify(type)} of ${size} bytes does not fit its parent`, at);
    out.push({ type, start: at, contentStart: r.at, end: at + size });
    at += size;
  }
  return out;
}

export interface ItemInfo {
  id: number;
  type: string;
  contentType: string;
  /** The infe box bytes, kept as they are when the item stays. */
  raw: Uint8Array;
}

export function parseIinf(bytes: Uint8Array, child: Child): { version: number; items: ItemInfo[] } {
  const r = new Reader(bytes, child.contentStart, child.end);
  const version = r.uint(1);
  r.uint(3);
  const count = r.uint(version === 0 ? 2 : 4);
  const boxes = children(bytes, r.at, child.end).filter((c) => c.type === 'infe');
  if (count < boxes.length) fail(`iinf counts ${count} items but holds ${boxes.length}`, child.start);
  const items = boxes.map((infe): ItemInfo => {
    const e = new Reader(bytes, infe.contentStart, infe.end);
    const v = e.uint(1);
    e.uint(3);
    if (v < 2) return { id: e.uint(2), type: '', contentType: '', raw: bytes.slice(infe.start, infe.end) };
    const id = e.uint(v === 2 ? 2 : 4);
    e.uint(2);
    const type = e.fourcc();
    e.cstring();
    const contentType = type === 'mime' && e.at < infe.end ? e.cstring() : '';
    return { id, type, contentType, raw: bytes.slice(infe.start, infe.end) };
  });
  return { version, items };
}

export function encodeIinf(version: number, items: readonly ItemInfo[]): Uint8Array {
  const v = version === 0 && items.length > 0xffff ? 1 : version;
  return fullBox('iinf', v, 0, uintBytes(items.length, v === 0 ? 2 : 4), ...items.map((i) => i.raw));
}

/** An `infe` (version 2, or 3 for large IDs) for an XMP item (ISO/IEC 23008-12 Annex A). */
export function xmpInfe(id: number): ItemInfo {
  const v = id > 0xffff ? 3 : 2;
  const raw = fullBox('infe', v, 0, uintBytes(id, v === 2 ? 2 : 4), uintBytes(0, 2), utf8('mime'), utf8('XMP\0'), utf8('application/rdf+xml\0'));
  return { id, type: 'mime', contentType: 'application/rdf+xml', raw };
}

export interface Extent {
  index: number;
  offset: number;
  length: number;
}

export interface ItemLocation {
  id: number;
  constructionMethod: number;
  dataReferenceIndex: number;
  baseOffset: number;
  extents: Extent[];
}

export interface Iloc {
  version: number;
  offsetSize: number;
  lengthSize: number;
  baseOffsetSize: number;
  indexSize: number;
  items: ItemLocation[];
}

export function parseIloc(bytes: Uint8Array, child: Child): Iloc {
  const r = new Reader(bytes, child.contentStart, child.end);
  const version = r.uint(1);
  r.uint(3);
  if (version > 2) fail(`iloc version ${version} is unknown`, child.start);
  const sizes = r.uint(1);
  const sizes2 = r.uint(1);
  const iloc: Iloc = {
    version,
    offsetSize: sizes >> 4,
    lengthSize: sizes & 15,
    baseOffsetSize: sizes2 >> 4,
    indexSize: version === 0 ? 0 : sizes2 & 15,
    items: [],
  };
  for (const size of [iloc.offsetSize, iloc.lengthSize, iloc.baseOffsetSize, iloc.indexSize]) {
    if (![0, 4, 8].includes(size)) fail(`iloc field size ${size} is not 0, 4 or 8`, child.start);
  }
  const count = r.uint(version < 2 ? 2 : 4);
  for (let i = 0; i < count; i++) {
    const id = r.uint(version < 2 ? 2 : 4);
    const constructionMethod = version === 0 ? 0 : r.uint(2) & 15;
    const dataReferenceIndex = r.uint(2);
    const baseOffset = r.uint(iloc.baseOffsetSize);
    const extentCount = r.uint(2);
    r.need(extentCount * (iloc.indexSize + iloc.offsetSize + iloc.lengthSize));
    const extents: Extent[] = [];
    for (let e = 0; e < extentCount; e++) {
      extents.push({ index: r.uint(iloc.indexSize), offset: r.uint(iloc.offsetSize), length: r.uint(iloc.lengthSize) });
    }
    iloc.items.push({ id, constructionMethod, dataReferenceIndex, baseOffset, extents });
  }
  return iloc;
}

export function encodeIloc(iloc: Iloc): Uint8Array {
  const v = iloc.version;
  const parts: Uint8Array[] = [
    new Uint8Array([(iloc.offsetSize << 4) | iloc.lengthSize, (iloc.baseOffsetSize << 4) | (v === 0 ? 0 : iloc.indexSize)]),
    uintBytes(iloc.items.length, v < 2 ? 2 : 4),
  ];
  for (const item of iloc.items) {
    parts.push(uintBytes(item.id, v < 2 ? 2 : 4));
    if (v > 0) parts.push(uintBytes(item.constructionMethod, 2));
    parts.push(uintBytes(item.dataReferenceIndex, 2), uintBytes(item.baseOffset, iloc.baseOffsetSize), uintBytes(item.extents.length, 2));
    for (const extent of item.extents) {
      if (v > 0) parts.push(uintBytes(extent.index, iloc.indexSize));
      parts.push(uintBytes(extent.offset, iloc.offsetSize), uintBytes(extent.length, iloc.lengthSize));
    }
  }
  return fullBox('iloc', v, 0, ...parts);
}

export interface Reference {
  type: string;
  from: number;
  to: number[];
}

export function parseIref(bytes: Uint8Array, child: Child): { version: number; references: Reference[] } {
  const r = new Reader(bytes, child.contentStart, child.end);
  const version = r.uint(1);
  r.uint(3);
  const idSize = version === 0 ? 2 : 4;
  const references = children(bytes, r.at, child.end).map((c): Reference => {
    const e = new Reader(bytes, c.contentStart, c.end);
    const from = e.uint(idSize);
    const count = e.uint(2);
    e.need(count * idSize);
    return { type: c.type, from, to: Array.from({ length: count }, () => e.uint(idSize)) };
  });
  return { version, references };
}

export function encodeIref(version: number, references: readonly Reference[]): Uint8Array {
  const wide = version === 1 || references.some((ref) => [ref.from, ...ref.to].some((id) => id > 0xffff));
  const idSize = wide ? 4 : 2;
  const boxes = references.map((ref) => box(ref.type, uintBytes(ref.from, idSize), uintBytes(ref.to.length, 2), ...ref.to.map((id) => uintBytes(id, idSize))));
  return fullBox('iref', wide ? 1 : 0, 0, ...boxes);
}
