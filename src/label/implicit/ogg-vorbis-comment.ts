/**
 * @module label/implicit/ogg-vorbis-comment
 * The Vorbis comment structure (Vorbis I specification §5.2.1), shared by Ogg Vorbis, Ogg Opus
 * (RFC 7845 §5.2, after the `OpusTags` magic) and FLAC's VORBIS_COMMENT block: a vendor string
 * and a list of `NAME=value` fields, all lengths little-endian 32-bit. The label is the field
 * `AIGC` (names compare case-insensitively, §5.2.2). Fields other than the label keep their
 * bytes and their order.
 */
import { LabelFormatError } from '../errors.js';
import { concatBytes, fromUtf8, utf8, viewOf } from './bytes.js';

const NAME = 'AIGC';

export interface VorbisComment {
  vendor: Uint8Array;
  /** Each field as stored, `NAME=value` in UTF-8. */
  fields: Uint8Array[];
  /** Whatever follows the list: Vorbis's framing bit, or binary data Opus allows (RFC 7845 §5.2). */
  rest: Uint8Array;
}

/** Parses a comment structure at file offset `offset`; every length is checked against the bytes. */
export function parseVorbisComment(bytes: Uint8Array, offset: number, format: string): VorbisComment {
  const view = viewOf(bytes);
  const need = (at: number, length: number, what: string): void => {
    if (at + length > bytes.length) {
      throw new LabelFormatError(format, `Vorbis comment ${what} of ${length} bytes runs past the end of its header (${bytes.length - at} left)`, {
        offset: offset + at,
      });
    }
  };
  need(0, 4, 'vendor length');
  const vendorLength = view.getUint32(0, true);
  need(4, vendorLength, 'vendor string');
  let at = 4 + vendorLength;
  need(at, 4, 'field count');
  const count = view.getUint32(at, true);
  at += 4;
  // Each field needs at least its 4-byte length, so a count larger than that is corrupt (and
  // must not size an allocation).
  need(at, count * 4, `list of ${count} fields`);
  const fields: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    need(at, 4, 'field length');
    const length = view.getUint32(at, true);
    need(at + 4, length, `field ${i + 1}`);
    fields.push(bytes.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return { vendor: bytes.subarray(4, 4 + vendorLength), fields, rest: bytes.subarray(at) };
}

export function serializeVorbisComment(comment: VorbisComment): Uint8Array {
  const parts: Uint8Array[] = [le32(comment.vendor.length), comment.vendor, le32(comment.fields.length)];
  for (const field of comment.fields) parts.push(le32(field.length), field);
  parts.push(comment.rest);
  return concatBytes(parts);
}

function le32(value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  viewOf(bytes).setUint32(0, value, true);
  return bytes;
}

/** The field's value when its name is `AIGC`. */
function labelValue(field: Uint8Array): string | undefined {
  const equals = field.indexOf(0x3d);
  if (equals !== NAME.length) return undefined;
  return fromUtf8(field.subarray(0, equals)).toUpperCase() === NAME ? fromUtf8(field.subarray(equals + 1)) : undefined;
}

/** The values of every `AIGC` field. */
export function labelValues(comment: VorbisComment): string[] {
  return comment.fields.map(labelValue).filter((value): value is string => value !== undefined);
}

/** `comment` without its `AIGC` fields and, when `value` is given, with one new `AIGC` field at the end. */
export function withLabel(comment: VorbisComment, value: string | undefined): VorbisComment {
  const fields = comment.fields.filter((field) => labelValue(field) === undefined);
  if (value !== undefined) fields.push(utf8(`${NAME}=${value}`));
  return { ...comment, fields };
}

/** Whether `comment` holds an `AIGC` field. */
export function hasLabel(comment: VorbisComment): boolean {
  return comment.fields.some((field) => labelValue(field) !== undefined);
}
