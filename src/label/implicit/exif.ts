/**
 * @module label/implicit/exif
 * Labels some producers put in EXIF UserComment (tag 0x9286 in the Exif IFD, EXIF 2.32 §4.6.5)
 * instead of XMP. GB 45438 names XMP for images, so hegui reads this place and reports where
 * it found the label, and when it writes the standard place it blanks this one in place (same
 * size, no offsets move), keeping one label per file (Labeling Measures Art. 5).
 */
import { LabelFormatError } from '../errors.js';
import type { ByteSource } from './codec.js';
import { fromUtf8 } from './bytes.js';
import { TAG_EXIF_IFD, TAG_USER_COMMENT, readIfd, readTiffHeader, readValue, type TiffHeader } from './tiff-ifd.js';

export const EXIF_LOCATION = 'exif:UserComment';

/** A UserComment holding an AIGC label. */
export interface ExifLabel {
  /** The label text, without the 8-byte character code. */
  value: string;
  /** Absolute offset and size of the whole UserComment value, for blanking. */
  offset: number;
  length: number;
}

/** True when a free-text value looks like a GB 45438 label (either JSON form). */
export function looksLikeLabel(text: string): boolean {
  const trimmed = text.trim();
  return trimmed.startsWith('{') && (trimmed.includes('"AIGC"') || trimmed.includes('"ContentProducer"'));
}

function decodeUserComment(bytes: Uint8Array, header: TiffHeader): string {
  const code = String.fromCharCode(...bytes.subarray(0, 8)).replace(/\0+$/, '');
  const text = bytes.subarray(8);
  if (code === 'UNICODE') {
    return new TextDecoder(header.little ? 'utf-16le' : 'utf-16be').decode(text).replace(/\0+$/, '');
  }
  return fromUtf8(text).replace(/\0+$/, '');
}

/**
 * The AIGC label in the UserComment of the EXIF (TIFF) structure at `base`, if any. A
 * malformed EXIF block yields `undefined`: it is somebody else's metadata, which hegui
 * neither needs to understand nor may damage.
 */
export async function findExifLabel(source: ByteSource, base: number): Promise<ExifLabel | undefined> {
  try {
    const header = await readTiffHeader(source, base, 'exif');
    const ifd0 = await readIfd(source, header, header.ifd0, 'exif');
    const pointer = ifd0.entries.find((entry) => entry.tag === TAG_EXIF_IFD);
    if (!pointer || pointer.count !== 1) return undefined;
    const exifIfd = await readIfd(source, header, base + pointer.rawValue, 'exif');
    const comment = exifIfd.entries.find((entry) => entry.tag === TAG_USER_COMMENT);
    if (!comment || comment.valueBytes <= 8) return undefined;
    const value = decodeUserComment(await readValue(source, comment, 'exif'), header);
    if (!looksLikeLabel(value)) return undefined;
    return { value: value.trim(), offset: comment.valueOffset, length: comment.valueBytes };
  } catch (error) {
    if (error instanceof LabelFormatError) return undefined;
    throw error;
  }
}

/** Bytes that overwrite a UserComment: the "undefined" character code and an empty comment. */
export function blankUserComment(length: number): Uint8Array {
  return new Uint8Array(length);
}
