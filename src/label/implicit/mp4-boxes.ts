/**
 * @module label/implicit/mp4-boxes
 * ISO/IEC 14496-12 (ISO base media file format) and QuickTime boxes: a streaming walk over the
 * top-level boxes of a file (headers only, so `mdat` is never read), and an in-memory tree for
 * the few boxes a label edit touches (`moov`, `moof`, `mfra`). Untouched boxes keep their
 * original bytes, so serialising a tree that was not edited gives back the input exactly.
 */
import { LabelFormatError } from '../errors.js';
import { concatBytes, viewOf } from './bytes.js';
import type { ByteSource } from './codec.js';
import { latin1, latin1Bytes, readU64 } from './splice.js';

export const FORMAT = 'mp4';

/** A metadata box larger than this is refused rather than loaded (a 24-hour movie's `moov` is a few tens of MB). */
export const MAX_METADATA_BOX = 256 * 1024 * 1024;

/** Top-level boxes walked before giving up: long fragmented recordings have a few hundred thousand. */
const MAX_TOP_LEVEL_BOXES = 4_000_000;

/** A top-level box as found in the source: where it is, never its contents. */
export interface TopBox {
  type: string;
  start: number;
  /** Offset of the box's contents, after its (8, 16 or 24 byte) header. */
  dataStart: number;
  end: number;
}

/**
 * The top-level boxes of `source` in file order (ISO/IEC 14496-12 §4.2: size, type, then a
 * 64-bit `largesize` when size is 1, and "to the end of the file" when size is 0).
 */
export async function* topLevelBoxes(source: ByteSource): AsyncGenerator<TopBox> {
  let count = 0;
  for (let at = 0; at < source.size; ) {
    if (++count > MAX_TOP_LEVEL_BOXES) {
      throw new LabelFormatError(FORMAT, `more than ${MAX_TOP_LEVEL_BOXES} top-level boxes`, { offset: at });
    }
    const head = await source.read(at, 16);
    if (head.length < 8) throw new LabelFormatError(FORMAT, `a box header is cut short by the end of the file`, { offset: at });
    const view = viewOf(head);
    const size32 = view.getUint32(0);
    const type = latin1(head.subarray(4, 8));
    let headerSize = 8;
    let size: number;
    if (size32 === 1) {
      if (head.length < 16) throw new LabelFormatError(FORMAT, `box '${printable(type)}' 64-bit size is cut short`, { offset: at });
      size = readU64(view, 8, FORMAT, at);
      headerSize = 16;
    } else if (size32 === 0) {
      size = source.size - at;
    } else {
      size = size32;
    }
    if (type === 'uuid') headerSize += 16;
    if (size < headerSize) {
      throw new LabelFormatError(FORMAT, `box '${printable(type)}' has size ${size}, smaller than its own header`, { offset: at });
    }
    const end = at + size;
    if (end > source.size) {
      throw new LabelFormatError(FORMAT, `box '${printable(type)}' of ${size} bytes runs past the end of the file at byte ${source.size}`, {
        offset: at,
      });
    }
    yield { type, start: at, dataStart: at + headerSize, end };
    at = end;
  }
}

/** A box held in memory. Editing helpers drop `raw`, so `serializeBox` rebuilds what changed. */
export interface Mp4Box {
  /** Four-character code, one character per byte. */
  type: string;
  /** The extended type of a `uuid` box. */
  usertype?: Uint8Array;
  /** The source used a 64-bit size; kept so unchanged layout stays unchanged. */
  large: boolean;
  /** The whole box as read; present only while the box is unchanged. */
  raw?: Uint8Array;
  /** A leaf's contents after its header. */
  data?: Uint8Array;
  /** A container's bytes between its header and its first child (a full box's version and flags). */
  prefix?: Uint8Array;
  children?: Mp4Box[];
  /** Bytes after the last child too short to be a box: QuickTime may end `udta` with a 32-bit zero. */
  tail?: Uint8Array;
  /** Offset of the box in the source; -1 for a box built in memory. */
  offset: number;
}

/** Decides whether a box is parsed as a container: the prefix length before its children, or undefined for a leaf. */
export type ContainerRule = (type: string, path: readonly string[], data: Uint8Array) => number | undefined;

/**
 * Parses `bytes` (the contents of a box at `offset`) into boxes; containers are those `rule`
 * names. Every size is checked against the enclosing box, so a self-referencing or oversized
 * size is an error at the offset where it was found.
 */
export function parseBoxes(bytes: Uint8Array, offset: number, rule: ContainerRule, path: readonly string[] = []): { boxes: Mp4Box[]; tail?: Uint8Array } {
  const view = viewOf(bytes);
  const boxes: Mp4Box[] = [];
  let at = 0;
  while (at < bytes.length) {
    const rest = bytes.length - at;
    if (rest < 8) return { boxes, tail: bytes.subarray(at) };
    const size32 = view.getUint32(at);
    const type = latin1(bytes.subarray(at + 4, at + 8));
    let headerSize = 8;
    let size = size32;
    if (size32 === 1) {
      if (rest < 16) throw new LabelFormatError(FORMAT, `box '${printable(type)}' 64-bit size is cut short`, { offset: offset + at });
      size = readU64(view, at + 8, FORMAT, offset + at);
      headerSize = 16;
    } else if (size32 === 0) {
      throw new LabelFormatError(FORMAT, `box '${printable(type)}' inside '${path.join('/')}' has size 0`, { offset: offset + at });
    }
    if (type === 'uuid') headerSize += 16;
    if (size < headerSize) {
      throw new LabelFormatError(FORMAT, `box '${printable(type)}' has size ${size}, smaller than its own header`, { offset: offset + at });
    }
    if (size > rest) {
      throw new LabelFormatError(FORMAT, `box '${printable(type)}' of ${size} bytes overruns '${path.join('/')}' (${rest} bytes left)`, {
        offset: offset + at,
      });
    }
    const raw = bytes.subarray(at, at + size);
    const data = raw.subarray(headerSize);
    const box: Mp4Box = { type, large: size32 === 1, raw, offset: offset + at };
    if (type === 'uuid') box.usertype = raw.subarray(headerSize - 16, headerSize);
    const prefixLength = rule(type, path, data);
    if (prefixLength === undefined) {
      box.data = data;
    } else {
      if (prefixLength > data.length) {
        throw new LabelFormatError(FORMAT, `box '${printable(type)}' is too short for its header fields`, { offset: offset + at });
      }
      box.prefix = data.subarray(0, prefixLength);
      const inner = parseBoxes(data.subarray(prefixLength), offset + at + headerSize + prefixLength, rule, [...path, type]);
      box.children = inner.boxes;
      if (inner.tail) box.tail = inner.tail;
    }
    boxes.push(box);
    at += size;
  }
  return { boxes };
}

/** The serialised length of `box`. */
function boxSize(box: Mp4Box): number {
  if (box.raw) return box.raw.length;
  const body = bodySize(box);
  return headerSize(box, body) + body;
}

function bodySize(box: Mp4Box): number {
  if (box.children) {
    return (box.prefix?.length ?? 0) + box.children.reduce((n, child) => n + boxSize(child), 0) + (box.tail?.length ?? 0);
  }
  return box.data?.length ?? 0;
}

function headerSize(box: Mp4Box, body: number): number {
  const extra = box.usertype ? 16 : 0;
  return box.large || body + 8 + extra > 0xffffffff ? 16 + extra : 8 + extra;
}

/** The bytes of `box`: its original bytes when unchanged, rebuilt otherwise. */
export function serializeBox(box: Mp4Box): Uint8Array {
  return box.raw ?? concatBytes(boxParts(box));
}

/**
 * The bytes of `box` as a list of pieces; an unchanged box is one piece, a view of the bytes
 * it was parsed from, so an in-place edit can tell which pieces did not move.
 */
export function boxParts(box: Mp4Box): Uint8Array[] {
  const parts: Uint8Array[] = [];
  writeBox(box, parts);
  return parts;
}

function writeBox(box: Mp4Box, parts: Uint8Array[]): void {
  if (box.raw) {
    parts.push(box.raw);
    return;
  }
  const body = bodySize(box);
  const header = new Uint8Array(headerSize(box, body));
  const view = viewOf(header);
  const total = header.length + body;
  header.set(latin1Bytes(box.type), 4);
  if (header.length - (box.usertype ? 16 : 0) === 16) {
    view.setUint32(0, 1);
    view.setBigUint64(8, BigInt(total));
  } else {
    view.setUint32(0, total);
  }
  if (box.usertype) header.set(box.usertype, header.length - 16);
  parts.push(header);
  if (box.children) {
    if (box.prefix) parts.push(box.prefix);
    for (const child of box.children) writeBox(child, parts);
    if (box.tail) parts.push(box.tail);
  } else if (box.data) {
    parts.push(box.data);
  }
}

/** A new leaf box. */
export function leafBox(type: string, data: Uint8Array): Mp4Box {
  return { type, large: false, data, offset: -1 };
}

/** A new container box. */
export function containerBox(type: string, children: Mp4Box[], prefix?: Uint8Array): Mp4Box {
  return prefix ? { type, large: false, prefix, children, offset: -1 } : { type, large: false, children, offset: -1 };
}

/** The first child of `box` of type `type`. */
export function child(box: Mp4Box | undefined, type: string): Mp4Box | undefined {
  return box?.children?.find((c) => c.type === type);
}

/** Marks `box` as changed so it is rebuilt from its parts; call on every box on the path to an edit. */
export function touch(...boxes: Mp4Box[]): void {
  for (const box of boxes) delete box.raw;
}

/**
 * The header of a `free` box of `size` bytes in all (at least 8): padding that readers skip
 * (ISO/IEC 14496-12 §8.1.2). Its contents are whatever follows; callers zero what must not leak.
 */
export function freeHeader(size: number): Uint8Array {
  const large = size > 0xffffffff;
  const bytes = new Uint8Array(large ? 16 : 8);
  const view = viewOf(bytes);
  view.setUint32(0, large ? 1 : size);
  bytes.set(latin1Bytes('free'), 4);
  if (large) view.setBigUint64(8, BigInt(size));
  return bytes;
}

/** A four-character code made safe for an error message (binary types such as ilst indexes). */
export function printable(type: string): string {
  return /^[\x20-\x7e\xa9]{4}$/.test(type) ? type : `0x${Array.from(type, (c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join('')}`;
}
