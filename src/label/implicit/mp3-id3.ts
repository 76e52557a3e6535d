/**
 * @module label/implicit/mp3-id3
 * ID3v2 tags (id3.org: ID3v2.2, ID3v2.3.0, ID3v2.4.0 "structure" and "frames" documents): the
 * tag header with its syncsafe size, the extended header, the frames, padding and footer, and
 * the `TXXX` (user-defined text) frame whose description `AIGC` holds the label. Frames other
 * than the label are kept byte for byte.
 */
import { LabelFormatError } from '../errors.js';
import { concatBytes, fromUtf8, utf8, viewOf } from './bytes.js';
import { crc32 } from './bytes.js';
import { latin1 } from './splice.js';

export const FORMAT = 'mp3';
const DESCRIPTION = 'AIGC';

/** Tag-level flags (ID3v2.4 §3.1; v2.3 and v2.2 use the first two or three). */
export const UNSYNCHRONISATION = 0x80;
const EXTENDED_HEADER = 0x40;
const FOOTER = 0x10;

export interface Id3Frame {
  id: string;
  /** The frame's two flag bytes (v2.3 and v2.4; 0 for v2.2). */
  flags: number;
  /** The frame as stored: header and contents. */
  bytes: Uint8Array;
  /** The contents after the header (and after any v2.4 per-frame unsynchronisation is undone). */
  body: Uint8Array;
}

export interface Id3Tag {
  /** Major version: 2, 3 or 4. */
  version: number;
  revision: number;
  flags: number;
  /** The extended header as stored (v2.3: its size field counts the bytes after it). */
  extendedHeader?: Uint8Array;
  frames: Id3Frame[];
  /** Bytes of the whole tag in the file, header and footer included. */
  size: number;
}

/** A 28-bit syncsafe integer (ID3v2.4 §6.2): four bytes, top bit of each clear. */
export function readSyncsafe(bytes: Uint8Array, at: number, offset: number, format = FORMAT): number {
  let value = 0;
  for (let i = 0; i < 4; i++) {
    const byte = bytes[at + i] ?? 0;
    if (byte & 0x80) throw new LabelFormatError(format, `bad syncsafe size: byte 0x${byte.toString(16)} has its top bit set`, { offset: offset + at + i });
    value = value * 128 + byte;
  }
  return value;
}

export function syncsafe(value: number): Uint8Array {
  return Uint8Array.of((value >>> 21) & 0x7f, (value >>> 14) & 0x7f, (value >>> 7) & 0x7f, value & 0x7f);
}

/**
 * The total size of the tag whose 10-byte header is `header`, or undefined when it is not an
 * ID3v2 header. `format` names the container in errors (FLAC files may start with a tag too).
 */
export function tagSize(header: Uint8Array, offset: number, format = FORMAT): number | undefined {
  if (header.length < 10 || latin1(header.subarray(0, 3)) !== 'ID3') return undefined;
  const version = header[3] ?? 0;
  if (version < 2 || version > 4 || header[4] === 0xff) {
    throw new LabelFormatError(format, `unsupported ID3v2 version 2.${version}.${header[4] ?? 0}`, { offset: offset + 3 });
  }
  const flags = header[5] ?? 0;
  return 10 + readSyncsafe(header, 6, offset, format) + (version === 4 && flags & FOOTER ? 10 : 0);
}

/** Undoes unsynchronisation (ID3v2.4 §6.1): every 0x00 that follows a 0xFF was inserted. */
export function resynchronise(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] ?? 0;
    out[n++] = byte;
    if (byte === 0xff && bytes[i + 1] === 0) i++;
  }
  return out.subarray(0, n);
}

function frameIdLength(version: number): number {
  return version === 2 ? 3 : 4;
}

function frameHeaderLength(version: number): number {
  return version === 2 ? 6 : 10;
}

/**
 * A v2.4 frame size: syncsafe by the standard, but some writers (early iTunes) stored plain
 * integers; a byte with its top bit set can only be the latter.
 */
function frameSize(bytes: Uint8Array, at: number, version: number): number {
  const view = viewOf(bytes);
  if (version === 2) return ((bytes[at] ?? 0) << 16) | ((bytes[at + 1] ?? 0) << 8) | (bytes[at + 2] ?? 0);
  if (version === 3) return view.getUint32(at);
  const plain = [0, 1, 2, 3].some((i) => (bytes[at + i] ?? 0) & 0x80);
  return plain ? view.getUint32(at) : readSyncsafe(bytes, at, 0);
}

/** Parses a whole tag (`bytes` from its header to its end) found at file offset `offset`. */
export function parseTag(bytes: Uint8Array, offset: number): Id3Tag {
  const version = bytes[3] ?? 0;
  const flags = bytes[5] ?? 0;
  const size = tagSize(bytes, offset) ?? 0;
  if (version === 2 && flags & 0x40) throw new LabelFormatError(FORMAT, `ID3v2.2 tag compression is not defined by the standard`, { offset: offset + 5 });
  let body = bytes.subarray(10, 10 + readSyncsafe(bytes, 6, offset));
  // v2.2 and v2.3 unsynchronise the whole tag; v2.4 does it frame by frame (§6.1).
  if (version < 4 && flags & UNSYNCHRONISATION) body = resynchronise(body);
  const tag: Id3Tag = { version, revision: bytes[4] ?? 0, flags, frames: [], size };
  let at = 0;
  if (version > 2 && flags & EXTENDED_HEADER) {
    const declared = body.length >= 4 ? (version === 3 ? viewOf(body).getUint32(0) + 4 : readSyncsafe(body, 0, offset + 10)) : 0;
    if (declared < 6 || declared > body.length) {
      throw new LabelFormatError(FORMAT, `extended header of ${declared} bytes does not fit the tag`, { offset: offset + 10 });
    }
    tag.extendedHeader = body.slice(0, declared);
    at = declared;
  }
  const headerLength = frameHeaderLength(version);
  const idLength = frameIdLength(version);
  while (at + headerLength <= body.length) {
    const id = latin1(body.subarray(at, at + idLength));
    if (!/^[A-Z0-9]+$/.test(id)) break;
    const length = frameSize(body, at + idLength, version);
    const end = at + headerLength + length;
    if (end > body.length) {
      throw new LabelFormatError(FORMAT, `frame ${id} of ${length} bytes overruns the tag`, { offset: offset + 10 + at });
    }
    const frameFlags = version === 2 ? 0 : viewOf(body).getUint16(at + 8);
    let content = body.subarray(at + headerLength, end);
    if (version === 4 && (frameFlags & 0x0002 || flags & UNSYNCHRONISATION)) content = resynchronise(content);
    tag.frames.push({ id, flags: frameFlags, bytes: body.slice(at, end), body: content });
    at = end;
  }
  return tag;
}

/** Decodes an ID3v2 text encoding (§4: 0 ISO-8859-1, 1 UTF-16 with BOM, 2 UTF-16BE, 3 UTF-8). */
function decodeText(bytes: Uint8Array, encoding: number): string {
  if (encoding === 0) return latin1(bytes);
  if (encoding === 3) return fromUtf8(bytes);
  let littleEndian = false;
  let start = 0;
  if (encoding === 1 && bytes.length >= 2) {
    if (bytes[0] === 0xff && bytes[1] === 0xfe) littleEndian = true;
    if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) start = 2;
  }
  return new TextDecoder(littleEndian ? 'utf-16le' : 'utf-16be').decode(bytes.subarray(start, start + ((bytes.length - start) & ~1)));
}

/** Splits a `TXXX` body into description and value; undefined for a compressed or encrypted frame. */
export function userText(frame: Id3Frame, version: number): { description: string; value: string } | undefined {
  if (frame.id !== (version === 2 ? 'TXX' : 'TXXX')) return undefined;
  const unreadable = version === 3 ? frame.flags & 0x00c0 : version === 4 ? frame.flags & 0x000c : 0;
  if (unreadable) return undefined;
  let body = frame.body;
  // v2.4 §4.1.2: a data length indicator adds four bytes before the contents.
  if (version === 4 && frame.flags & 0x0001) body = body.subarray(4);
  // v2.3 and v2.4: a grouping identity adds one byte.
  if ((version === 3 && frame.flags & 0x0020) || (version === 4 && frame.flags & 0x0040)) body = body.subarray(1);
  const encoding = body[0] ?? 0;
  const wide = encoding === 1 || encoding === 2;
  let end = 1;
  while (end < body.length && !(wide ? body[end] === 0 && body[end + 1] === 0 && (end - 1) % 2 === 0 : body[end] === 0)) end++;
  const description = decodeText(body.subarray(1, end), encoding);
  const value = decodeText(body.subarray(Math.min(body.length, end + (wide ? 2 : 1))), encoding).replace(/\0+$/, '');
  return { description, value };
}

/** Whether `frame` is a label frame: `TXXX` with description `AIGC`. */
export function isLabelFrame(frame: Id3Frame, version: number): boolean {
  return userText(frame, version)?.description.toUpperCase() === DESCRIPTION;
}

function utf16WithBom(text: string): Uint8Array {
  const out = new Uint8Array(2 + text.length * 2);
  out[0] = 0xff;
  out[1] = 0xfe;
  for (let i = 0; i < text.length; i++) {
    out[2 + i * 2] = text.charCodeAt(i) & 0xff;
    out[3 + i * 2] = text.charCodeAt(i) >>> 8;
  }
  return out;
}

/**
 * A `TXXX` frame with description `AIGC`: UTF-8 in v2.4; in v2.3 and v2.2, which have no UTF-8,
 * ISO-8859-1 when the value allows it and UTF-16 with a byte order mark otherwise.
 */
export function labelFrame(value: string, version: number, tagFlags: number): Uint8Array {
  let body: Uint8Array;
  if (version === 4) body = concatBytes([Uint8Array.of(3), utf8(DESCRIPTION), Uint8Array.of(0), utf8(value)]);
  else if (Array.from(value).every((c) => c.charCodeAt(0) <= 0xff)) body = concatBytes([Uint8Array.of(0), Uint8Array.from(DESCRIPTION + '\0' + value, (c) => c.charCodeAt(0))]);
  else body = concatBytes([Uint8Array.of(1), utf16WithBom(DESCRIPTION), Uint8Array.of(0, 0), utf16WithBom(value)]);
  if (version === 2) {
    const header = Uint8Array.of(0x54, 0x58, 0x58, (body.length >>> 16) & 0xff, (body.length >>> 8) & 0xff, body.length & 0xff);
    return concatBytes([header, body]);
  }
  const header = new Uint8Array(10);
  header.set(utf8('TXXX'));
  if (version === 4) header.set(syncsafe(body.length), 4);
  else viewOf(header).setUint32(4, body.length);
  // A v2.4 tag flagged as unsynchronised says every frame is; UTF-8 and our header hold no
  // false sync (0xFF never occurs in UTF-8), so the flag is all that changes (§6.1).
  if (version === 4 && tagFlags & UNSYNCHRONISATION) header[9] = 0x02;
  return concatBytes([header, body]);
}

/**
 * Serialises `tag` to exactly `size` bytes (header, extended header, frames, zero padding,
 * footer), or returns undefined when the frames do not fit. A v2.2/v2.3 tag that was
 * unsynchronised is written without it: its frames are stored decoded, which every ID3v2
 * reader accepts, and the scheme only guards players that predate ID3v2.
 */
export function serializeTag(tag: Id3Tag, size: number): Uint8Array | undefined {
  const hasFooter = tag.version === 4 && (tag.flags & FOOTER) !== 0;
  const frames = concatBytes(tag.frames.map((f) => f.bytes));
  const extended = tag.extendedHeader ? tag.extendedHeader.slice() : new Uint8Array(0);
  const bodySize = size - 10 - (hasFooter ? 10 : 0);
  const padding = bodySize - extended.length - frames.length;
  // ID3v2.4 §3.3: a tag with a footer has no padding.
  if (padding < 0 || (hasFooter && padding !== 0)) return undefined;
  updateExtendedHeader(tag, extended, frames, padding);
  const flags = tag.version < 4 ? tag.flags & ~UNSYNCHRONISATION : tag.flags;
  const out = new Uint8Array(size);
  out.set([0x49, 0x44, 0x33, tag.version, tag.revision, flags]);
  out.set(syncsafe(bodySize), 6);
  out.set(extended, 10);
  out.set(frames, 10 + extended.length);
  if (hasFooter) {
    out.set(out.subarray(0, 10), size - 10);
    out.set([0x33, 0x44, 0x49], size - 10);
  }
  return out;
}

/**
 * Keeps the extended header true to the new tag: v2.3 records the padding size and may carry a
 * CRC-32 of the frames (§3.2); v2.4 may carry a CRC-32 of frames and padding, as a 35-bit
 * syncsafe number (§3.2), after the flag data of the update flag.
 */
function updateExtendedHeader(tag: Id3Tag, extended: Uint8Array, frames: Uint8Array, padding: number): void {
  if (extended.length === 0) return;
  const view = viewOf(extended);
  if (tag.version === 3) {
    if (extended.length >= 10) view.setUint32(6, padding);
    if (extended.length >= 14 && view.getUint16(4) & 0x8000) view.setUint32(10, crc32(frames));
    return;
  }
  const flags = extended[5] ?? 0;
  if (!(flags & 0x20)) return;
  const at = 6 + (flags & 0x40 ? 1 : 0) + 1;
  if (at + 5 > extended.length) return;
  const crc = crc32(new Uint8Array(padding), crc32(frames));
  extended.set([Math.floor(crc / 2 ** 28) & 0x0f, (crc >>> 21) & 0x7f, (crc >>> 14) & 0x7f, (crc >>> 7) & 0x7f, crc & 0x7f], at);
}
