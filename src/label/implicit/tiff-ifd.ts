/**
 * @module label/implicit/tiff-ifd
 * TIFF 6.0 image file directories (§2 "Image File Directory"), read over a `ByteSource`. Used
 * by the TIFF codec and by every reader of EXIF (which is a TIFF structure inside JPEG APP1,
 * PNG eXIf and WebP EXIF). Offsets inside a TIFF structure are relative to its header at
 * `base`; every offset this module returns is absolute in the source.
 */
import { LabelFormatError } from '../errors.js';
import type { ByteSource } from './codec.js';
import { readExact, viewOf } from './bytes.js';

export interface TiffHeader {
  /** Byte order: `II` little-endian, `MM` big-endian. */
  little: boolean;
  /** Absolute offset of the header. */
  base: number;
  /** Absolute offset of IFD0. */
  ifd0: number;
}

export interface IfdEntry {
  tag: number;
  type: number;
  count: number;
  /** Absolute offset of the 12-byte entry. */
  entryOffset: number;
  /** Absolute offset of the value: inside the entry when it fits in 4 bytes, else where it points. */
  valueOffset: number;
  /** Size of the value in bytes. */
  valueBytes: number;
  /** The raw 4-byte value/offset field as stored (relative offset for out-of-line values). */
  rawValue: number;
}

export interface Ifd {
  offset: number;
  entries: IfdEntry[];
  /** Absolute offset of the next IFD, or 0. */
  next: number;
  /** Absolute offset just past the IFD (after the next-IFD pointer). */
  end: number;
}

/** Size of one value of each TIFF field type (TIFF 6.0 §2, plus type 13 IFD from TIFF/EP). */
const TYPE_SIZE: Readonly<Record<number, number>> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4 };

export const TAG_XMP = 0x02bc;
export const TAG_EXIF_IFD = 0x8769;
export const TAG_USER_COMMENT = 0x9286;
export const TAG_STRIP_OFFSETS = 0x0111;
export const TAG_STRIP_BYTE_COUNTS = 0x0117;
export const TAG_TILE_OFFSETS = 0x0144;
export const TAG_TILE_BYTE_COUNTS = 0x0145;

/** Most entries hegui accepts in one IFD; real files have tens. */
const MAX_ENTRIES = 4096;

export async function readTiffHeader(source: ByteSource, base: number, format: string): Promise<TiffHeader> {
  const head = await readExact(source, base, 8, format);
  const order = String.fromCharCode(head[0] ?? 0, head[1] ?? 0);
  if (order !== 'II' && order !== 'MM') throw new LabelFormatError(format, 'TIFF header has no II/MM byte order mark', { offset: base });
  const little = order === 'II';
  const view = viewOf(head);
  if (view.getUint16(2, little) !== 42) throw new LabelFormatError(format, 'TIFF header magic is not 42', { offset: base + 2 });
  return { little, base, ifd0: base + view.getUint32(4, little) };
}

/**
 * Reads the IFD at absolute `offset`.
 *
 * @throws LabelFormatError when it runs past the end of the source or is implausibly large.
 */
export async function readIfd(source: ByteSource, header: TiffHeader, offset: number, format: string): Promise<Ifd> {
  const { little, base } = header;
  const count = viewOf(await readExact(source, offset, 2, format)).getUint16(0, little);
  if (count > MAX_ENTRIES) throw new LabelFormatError(format, `IFD claims ${count} entries`, { offset });
  const body = await readExact(source, offset + 2, count * 12 + 4, format);
  const view = viewOf(body);
  const entries: IfdEntry[] = [];
  for (let i = 0; i < count; i++) {
    const at = i * 12;
    const type = view.getUint16(at + 2, little);
    const count32 = view.getUint32(at + 4, little);
    const valueBytes = (TYPE_SIZE[type] ?? 1) * count32;
    const rawValue = view.getUint32(at + 8, little);
    const entryOffset = offset + 2 + at;
    entries.push({
      tag: view.getUint16(at, little),
      type,
      count: count32,
      entryOffset,
      valueOffset: valueBytes <= 4 ? entryOffset + 8 : base + rawValue,
      valueBytes,
      rawValue,
    });
  }
  const nextRelative = view.getUint32(count * 12, little);
  return { offset, entries, next: nextRelative === 0 ? 0 : base + nextRelative, end: offset + 2 + count * 12 + 4 };
}

/** The unsigned integer values (BYTE, SHORT, LONG or IFD) of `entry`. */
export async function readUints(source: ByteSource, header: TiffHeader, entry: IfdEntry, format: string): Promise<number[]> {
  const size = TYPE_SIZE[entry.type] ?? 1;
  if (![1, 3, 4, 13].includes(entry.type)) throw new LabelFormatError(format, `tag ${entry.tag} is not an unsigned integer`);
  const bytes = await readExact(source, entry.valueOffset, entry.valueBytes, format);
  const view = viewOf(bytes);
  const values: number[] = [];
  for (let i = 0; i < entry.count; i++) {
    const at = i * size;
    values.push(size === 1 ? view.getUint8(at) : size === 2 ? view.getUint16(at, header.little) : view.getUint32(at, header.little));
  }
  return values;
}

/** The bytes of `entry`'s value. */
export function readValue(source: ByteSource, entry: IfdEntry, format: string): Promise<Uint8Array> {
  return readExact(source, entry.valueOffset, entry.valueBytes, format);
}
