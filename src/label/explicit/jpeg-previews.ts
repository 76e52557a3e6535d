/**
 * @module label/explicit/jpeg-previews
 * The other pictures a JPEG carries besides the one the notice is drawn on (GB 45438 §5.2): a
 * viewer or file manager that shows one of them would show the content without its notice, so
 * a labelled JPEG keeps none of them unlabelled. Applied to every JPEG `labelImage` writes
 * (DCT splice and re-encoding alike), after the notice is drawn; only header segments change,
 * never the scan.
 *
 * - The EXIF thumbnail (APP1 `Exif`, IFD1 with JPEGInterchangeFormat/Length) is made again from
 *   the labelled picture at the size of the old one (its sides swapped when the picture was
 *   turned upright), letterboxed in black as cameras do, and written back into IFD1: the old
 *   thumbnail's bytes are replaced (or zeroed, and the new one appended to the TIFF data), the
 *   offset and length entries updated, every other offset left valid. When the new thumbnail
 *   would not fit in the 64 KiB of an APP1 segment at quality 80, 60 or 40, or IFD1 cannot be
 *   followed (offset or length outside the segment, a thumbnail that is not a JPEG, an
 *   uncompressed strip thumbnail), the thumbnail is removed: IFD0 no longer links to IFD1 and
 *   the old thumbnail's bytes inside the segment are zeroed. An EXIF segment whose TIFF header
 *   or IFD0 cannot be read is removed whole: no reader could say where a thumbnail in it is.
 * - A JFIF APP0 segment's thumbnail (uncompressed pixels) is cut off, its size set to 0x0; a
 *   JFXX APP0 segment (a thumbnail extension) is removed.
 * - Any other JPEG embedded in an APPn segment (a maker-note preview inside the EXIF, a
 *   Photoshop thumbnail resource in APP13, a FlashPix stream in APP2) is zeroed in place from
 *   its start-of-image marker to its end-of-image marker (or the segment's end), so offsets
 *   pointing at it stay valid but find no picture. An embedded JPEG is recognised by a chain of
 *   well-formed marker segments from its SOI to an SOS or the segment's end, not by the two-byte
 *   SOI alone. ICC profiles and XMP are not scanned.
 * - MPF (CIPA DC-007: APP2 `MPF\0`) indexes further pictures stored after the end of the primary
 *   one (phones' full-size previews, depth maps). Drawing the notice writes the primary picture
 *   only, so those bytes are not carried over; the MPF segment that would point past the end of
 *   the file is removed with them. Other bytes after the end of the picture (a motion photo's
 *   video, a vendor trailer) are likewise not carried over.
 *
 * - In a PNG (`eXIf`), WebP, AVIF or HEIC, the EXIF thumbnail is made again or removed in place
 *   (`labelledExifInPlace`): the container's sizes and offsets do not move.
 *
 * Every change is reported (`PreviewChange`): `labelImage` returns them as `previews`, and
 * `hegui label visible` prints them and puts them in its `--json` records.
 */
import { createHash } from 'node:crypto';
import type sharp from 'sharp';
import { LabelFormatError } from '../errors.js';
import { BufferSink, bufferSource, crc32, fromUtf8, utf8 } from '../implicit/bytes.js';
import { codecFor } from '../implicit/registry.js';
import { EXTENDED_HEADER, EXTENDED_ID, XMP_ID, assembleExtendedXmp, withGuids } from '../implicit/jpeg.js';
import { xmpHasProperties, type XmpProperty } from '../implicit/xmp.js';
import { TAG_STRIP_OFFSETS } from '../implicit/tiff-ifd.js';
import { headerSegments, type Segment } from './image-jpeg.js';
import { libvips } from './sharp-lib.js';
import { withoutXmpPreviews, xmpPicturesIfReadable, type XmpPicture, type XmpPreviewRemoval } from './xmp-previews.js';

/** One embedded picture that was made again from the labelled picture, or removed. */
export interface PreviewChange {
  /**
   * `exif-thumbnail` (IFD1), `exif` (an unreadable EXIF segment, removed whole),
   * `jfif-thumbnail` (the thumbnail of a JFIF APP0 segment, or a JFXX one),
   * `embedded-jpeg` (a JPEG inside another APPn segment, zeroed), `mpf-images` (the MPF index and
   * the pictures after the primary one), `trailing-data` (other bytes after the picture),
   * `xmp-thumbnail` (`xmp:Thumbnails` in an XMP packet), `xmp-picture` (another base64 picture
   * in an XMP packet, e.g. `GImage:Data`), `xmp-extended` (extended XMP chunks that cannot be put
   * together or read, removed whole), `motion-photo` (a motion photo's video after the picture
   * and the XMP properties describing it), `xmp-directory` (`Container:Directory` or `hdrgm:*`
   * describing pictures after the primary one).
   */
  kind: 'exif-thumbnail' | 'exif' | 'jfif-thumbnail' | 'embedded-jpeg' | 'mpf-images' | 'trailing-data' | 'xmp-thumbnail' | 'xmp-picture' | 'xmp-extended' | 'motion-photo' | 'xmp-directory';
  action: 'regenerated' | 'removed';
  /** For people, e.g. `160x120, made from the labelled picture`. */
  detail: string;
}

const EXIF_ID = 'Exif\0\0';
const MPF_ID = 'MPF\0';
/** Largest TIFF structure an APP1 segment holds: 65535 - 2 (length) - 6 (`Exif\0\0`). */
const MAX_TIFF_BYTES = 65535 - 2 - EXIF_ID.length;
const THUMBNAIL_QUALITIES = [80, 60, 40];
/** Longest side of a thumbnail made when the old one cannot be decoded (EXIF's customary 160x120). */
const DEFAULT_THUMBNAIL_SIDE = 160;

const latin1 = (data: Uint8Array, start: number, length: number): string => Buffer.from(data.buffer, data.byteOffset + start, Math.max(0, Math.min(length, data.length - start))).toString('latin1');
const segmentId = (data: Uint8Array, s: Segment, length: number): string => latin1(data, s.start + 4, Math.min(length, s.end - s.start - 4));

/** The EXIF structure cannot be followed. */
class Unreadable extends Error {}

/** A TIFF structure (the body of an EXIF segment after `Exif\0\0`), read and written in its byte order. */
class Tiff {
  readonly view: DataView;
  readonly le: boolean;
  constructor(readonly data: Uint8Array) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const order = latin1(data, 0, 2);
    if ((order !== 'II' && order !== 'MM') || data.length < 8) throw new Unreadable('no TIFF header');
    this.le = order === 'II';
    if (this.u16(2) !== 42) throw new Unreadable('no TIFF header');
  }
  u16(at: number): number {
    if (at < 0 || at + 2 > this.data.length) throw new Unreadable(`offset ${at} is outside the EXIF data`);
    return this.view.getUint16(at, this.le);
  }
  u32(at: number): number {
    if (at < 0 || at + 4 > this.data.length) throw new Unreadable(`offset ${at} is outside the EXIF data`);
    return this.view.getUint32(at, this.le);
  }
  setU32(at: number, value: number): void {
    this.view.setUint32(at, value, this.le);
  }
  /** The IFD at `at`: where its entries start, how many, and where its next-IFD offset is. */
  ifd(at: number): { entries: number; count: number; next: number } {
    if (at < 8 || at % 1 !== 0) throw new Unreadable(`IFD offset ${at} is outside the EXIF data`);
    const count = this.u16(at);
    const next = at + 2 + 12 * count;
    this.u32(next);
    return { entries: at + 2, count, next };
  }
  /** The entry of `tag` in the IFD: its type, count and the position of its value field. */
  entry(ifd: { entries: number; count: number }, tag: number): { type: number; count: number; value: number } | undefined {
    for (let i = 0; i < ifd.count; i++) {
      const at = ifd.entries + 12 * i;
      if (this.u16(at) === tag) return { type: this.u16(at + 2), count: this.u32(at + 4), value: at + 8 };
    }
    return undefined;
  }
}

const JPEG_INTERCHANGE_FORMAT = 0x0201;
const JPEG_INTERCHANGE_FORMAT_LENGTH = 0x0202;
const LONG = 4;

/** Is there a well-formed JPEG header starting at `at` (SOI, then marker segments up to an SOS or the end of the data)? */
function jpegAt(data: Uint8Array, at: number): boolean {
  if (data[at] !== 0xff || data[at + 1] !== 0xd8 || data[at + 2] !== 0xff) return false;
  let p = at + 2;
  let segments = 0;
  while (p + 4 <= data.length) {
    if (data[p] !== 0xff) return false;
    const marker = data[p + 1] ?? 0;
    const known = (marker >= 0xc0 && marker <= 0xcf) || marker === 0xdb || marker === 0xdd || (marker >= 0xe0 && marker <= 0xef) || marker === 0xfe || marker === 0xda;
    if (!known) return false;
    const length = ((data[p + 2] ?? 0) << 8) | (data[p + 3] ?? 0);
    if (length < 2) return false;
    segments++;
    if (marker === 0xda) return true;
    p += 2 + length;
  }
  return segments > 0;
}

/**
 * Zeroes every JPEG embedded in `data` outside `[keepStart, keepEnd)`, from its SOI to its EOI
 * (or the end of the data). Returns how many.
 */
function blankEmbeddedJpegs(data: Uint8Array, keepStart = 0, keepEnd = 0): number {
  const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let blanked = 0;
  let at = buffer.indexOf(0xff);
  while (at >= 0 && at + 2 < data.length) {
    if (at >= keepStart && at < keepEnd) {
      at = buffer.indexOf(0xff, keepEnd);
      continue;
    }
    if (jpegAt(data, at)) {
      const eoi = buffer.indexOf(Buffer.from([0xff, 0xd9]), at + 2);
      let end = eoi < 0 ? data.length : eoi + 2;
      if (at < keepStart && end > keepStart) end = keepStart;
      data.fill(0, at, end);
      blanked++;
      at = buffer.indexOf(0xff, end);
    } else {
      at = buffer.indexOf(0xff, at + 1);
    }
  }
  return blanked;
}

/**
 * The bytes of the old thumbnail to zero: from `offset` to its EOI, or to the stated end when
 * that is later (or when the bytes there start like a JPEG without a readable header);
 * undefined when no picture starts at `offset`.
 */
function oldThumbnail(data: Uint8Array, offset: number, bytes: number): { start: number; end: number } | undefined {
  if (offset < 8 || offset >= data.length) return undefined;
  const stated = bytes > 0 && offset + bytes <= data.length ? offset + bytes : undefined;
  const isJpeg = jpegAt(data, offset);
  if (!isJpeg && !(stated !== undefined && data[offset] === 0xff && data[offset + 1] === 0xd8)) return undefined;
  const eoi = isJpeg ? Buffer.from(data.buffer, data.byteOffset, data.byteLength).indexOf(Buffer.from([0xff, 0xd9]), offset + 2) : -1;
  const end = stated ?? (eoi >= 0 ? eoi + 2 : data.length);
  return { start: offset, end: eoi >= 0 ? Math.max(end, eoi + 2) : end };
}

/** The thumbnail's size, its sides swapped to match the labelled picture's orientation. */
async function thumbnailSize(old: Uint8Array | undefined, picture: { width: number; height: number }): Promise<{ width: number; height: number }> {
  let width = 0;
  let height = 0;
  if (old) {
    try {
      const meta = await (await libvips())(old).metadata();
      width = meta.width ?? 0;
      height = meta.height ?? 0;
    } catch {
      // An undecodable thumbnail: made at the customary size instead.
    }
  }
  if (!(width > 0 && height > 0) || width > 1024 || height > 1024) {
    const scale = DEFAULT_THUMBNAIL_SIDE / Math.max(picture.width, picture.height);
    return { width: Math.max(1, Math.round(picture.width * scale)), height: Math.max(1, Math.round(picture.height * scale)) };
  }
  if (width > height !== picture.width > picture.height && width !== height && picture.width !== picture.height) return { width: height, height: width };
  return { width, height };
}

/** A thumbnail of the labelled picture. */
async function makeThumbnail(picture: Uint8Array, size: { width: number; height: number }, quality: number): Promise<Uint8Array> {
  return (await libvips())(picture)
    .resize(size.width, size.height, { fit: 'contain', background: { r: 0, g: 0, b: 0 } })
    .toColourspace('srgb')
    .jpeg({ quality, chromaSubsampling: '4:2:0' })
    .toBuffer();
}

/** The TIFF structure with its thumbnail made again or removed, or null to remove the whole segment. */
async function withNewThumbnail(body: Uint8Array, picture: Uint8Array, changes: PreviewChange[]): Promise<Uint8Array | null> {
  const data = new Uint8Array(body);
  let tiff: Tiff;
  let ifd0;
  try {
    tiff = new Tiff(data);
    ifd0 = tiff.ifd(tiff.u32(4));
  } catch (error) {
    if (!(error instanceof Unreadable)) throw error;
    changes.push({ kind: 'exif', action: 'removed', detail: `the EXIF segment could not be read (${error.message}), so a thumbnail in it could not be made again` });
    return null;
  }
  const ifd1At = tiff.u32(ifd0.next);
  const done = ifd1At !== 0 ? await replaceThumbnail(tiff, ifd0.next, ifd1At, picture, changes) : { data };
  const blanked = blankEmbeddedJpegs(done.data, done.keep?.start, done.keep?.end);
  if (blanked > 0) changes.push({ kind: 'embedded-jpeg', action: 'removed', detail: `${blanked} other picture${blanked > 1 ? 's' : ''} in the EXIF data (a maker-note preview) zeroed` });
  return done.data;
}

/** The TIFF data with IFD1's thumbnail made again (`keep`: where the new one is) or removed. */
async function replaceThumbnail(tiff: Tiff, ifd0Next: number, ifd1At: number, picture: Uint8Array, changes: PreviewChange[], inPlace = false): Promise<{ data: Uint8Array; keep?: { start: number; end: number } }> {
  const data = tiff.data;
  const remove = (why: string, range?: { start: number; end: number }): { data: Uint8Array } => {
    if (range) data.fill(0, range.start, range.end);
    tiff.setU32(ifd0Next, 0);
    changes.push({ kind: 'exif-thumbnail', action: 'removed', detail: why });
    // The thumbnail was the last thing in the segment: its zeroed bytes go too.
    if (!inPlace && range && range.start >= 8 && range.start < data.length && data.subarray(range.start).every((b) => b === 0)) return { data: data.subarray(0, range.start) };
    return { data };
  };
  let ifd1;
  try {
    ifd1 = tiff.ifd(ifd1At);
  } catch (error) {
    if (!(error instanceof Unreadable)) throw error;
    return remove(`IFD1 could not be read (${error.message}); unlinked`);
  }
  let format;
  let length;
  try {
    format = tiff.entry(ifd1, JPEG_INTERCHANGE_FORMAT);
    length = tiff.entry(ifd1, JPEG_INTERCHANGE_FORMAT_LENGTH);
  } catch (error) {
    if (!(error instanceof Unreadable)) throw error;
    return remove(`IFD1 could not be read (${error.message}); unlinked`);
  }
  if (!format) {
    const strips = tiff.entry(ifd1, TAG_STRIP_OFFSETS);
    if (!strips) return { data }; // An IFD1 without a picture.
    return remove('an uncompressed (strip) thumbnail, which hegui does not make again');
  }
  const offset = format.type === LONG && format.count === 1 ? tiff.u32(format.value) : -1;
  const bytes = length && length.type === LONG && length.count === 1 ? tiff.u32(length.value) : -1;
  const range = oldThumbnail(data, offset, bytes);
  if (offset < 8 || bytes <= 0 || offset + bytes > data.length) return remove(`its offset or length points outside the EXIF segment (offset ${offset}, length ${bytes})`, range);
  if (!range || data[offset] !== 0xff || data[offset + 1] !== 0xd8) return remove('the thumbnail is not a JPEG', range);
  const old = data.slice(offset, offset + bytes);
  const end = range.end;
  let stored: sharp.Metadata;
  try {
    stored = await (await libvips())(picture).metadata();
  } catch (error) {
    return remove(`the labelled picture could not be read for a new thumbnail (${(error as Error).message})`, range);
  }
  const wanted = await thumbnailSize(old, { width: stored.width ?? 1, height: stored.height ?? 1 });
  data.fill(0, offset, end);
  const atEnd = !inPlace && data.subarray(end).every((b) => b === 0);
  for (const quality of THUMBNAIL_QUALITIES) {
    let thumb: Uint8Array;
    try {
      thumb = await makeThumbnail(picture, wanted, quality);
    } catch (error) {
      return remove(`a new thumbnail could not be made (${(error as Error).message})`, { start: offset, end });
    }
    let out: Uint8Array;
    let at: number;
    if (atEnd) {
      at = offset;
      out = new Uint8Array(at + thumb.length);
      out.set(data.subarray(0, at));
    } else if (thumb.length <= end - offset) {
      at = offset;
      out = data;
    } else if (inPlace) {
      continue;
    } else {
      at = data.length + (data.length % 2);
      out = new Uint8Array(at + thumb.length);
      out.set(data);
    }
    if (!inPlace && out.length > MAX_TIFF_BYTES) continue;
    out.set(thumb, at);
    const written = new Tiff(out);
    written.setU32(format.value, at);
    written.setU32((length as { value: number }).value, thumb.length);
    changes.push({ kind: 'exif-thumbnail', action: 'regenerated', detail: `${wanted.width}x${wanted.height}, made from the labelled picture` });
    return { data: out, keep: { start: at, end: at + thumb.length } };
  }
  return remove(inPlace ? `a new ${wanted.width}x${wanted.height} thumbnail does not fit in the old one's ${end - offset} bytes` : `a new ${wanted.width}x${wanted.height} thumbnail does not fit in the EXIF segment's 64 KiB`, { start: offset, end });
}

/** Offset just past the primary picture's end-of-image marker (the data's length when there is none). */
export function pictureEnd(data: Uint8Array): number {
  const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let at = 2;
  while (at + 2 <= data.length) {
    if (data[at] !== 0xff) return data.length;
    const marker = data[at + 1] ?? 0;
    if (marker === 0xff) {
      at++;
      continue;
    }
    if (marker === 0xd9) return at + 2;
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      at += 2;
      continue;
    }
    if (at + 4 > data.length) return data.length;
    at += 2 + (((data[at + 2] ?? 0) << 8) | (data[at + 3] ?? 0));
    if (marker !== 0xda) continue;
    // Entropy-coded data: up to the first marker that is not a stuffed zero or a restart marker.
    for (;;) {
      const ff = buffer.indexOf(0xff, at);
      if (ff < 0 || ff + 1 >= data.length) return data.length;
      const next = data[ff + 1] ?? 0;
      if (next === 0 || (next >= 0xd0 && next <= 0xd7)) at = ff + 2;
      else if (next === 0xff) at = ff + 1;
      else {
        at = ff;
        break;
      }
    }
  }
  return data.length;
}

/** The number of pictures an MPF index lists (NumberOfImages, tag 0xB000 region), or undefined when it cannot be read. */
function mpfImages(data: Uint8Array, s: Segment): number | undefined {
  try {
    const tiff = new Tiff(data.slice(s.start + 8, s.end));
    const ifd = tiff.ifd(tiff.u32(4));
    const count = tiff.entry(ifd, 0xb001);
    return count ? tiff.u32(count.value) : undefined;
  } catch (error) {
    if (error instanceof Unreadable) return undefined;
    throw error;
  }
}

/** Is `trailer` (the bytes after a JPEG's end of image) a motion photo's video: an MP4 right there (Google), or Samsung's `MotionPhoto_Data` trailer? */
function motionVideoAfter(trailer: Uint8Array): boolean {
  const bytes = Buffer.from(trailer.buffer, trailer.byteOffset, trailer.byteLength);
  const ftyp = bytes.subarray(0, 64).indexOf('ftyp', 0, 'latin1');
  return ftyp >= 4 || bytes.indexOf('MotionPhoto_Data', 0, 'latin1') >= 0;
}

/** The distinct names of properties, for a detail line. */
const names = (properties: readonly XmpProperty[]): string => [...new Set(properties.map((p) => p.name))].join(', ');

/** Largest chunk of an extended XMP packet an APP1 segment holds: 65535 - 2 (length) - the header. */
const MAX_EXTENDED_CHUNK = 65535 - 2 - EXTENDED_HEADER;

/** The APP1 segments of an extended XMP packet (`guid` its MD5), in chunks as large as a segment holds. */
function extendedSegments(packet: Uint8Array, guid: string): Uint8Array {
  const pieces: Uint8Array[] = [];
  for (let offset = 0; offset < packet.length; offset += MAX_EXTENDED_CHUNK) {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(packet.length, 0);
    head.writeUInt32BE(offset, 4);
    pieces.push(segment(0xe1, [Buffer.from(EXTENDED_ID, 'latin1'), Buffer.from(guid, 'latin1'), head, packet.subarray(offset, offset + MAX_EXTENDED_CHUNK)]));
  }
  return Buffer.concat(pieces);
}

/** Reports the pictures taken out of an XMP packet. */
function reportXmpRemovals(removed: XmpPreviewRemoval, where: string, changes: PreviewChange[]): void {
  if (removed.thumbnails.length > 0) changes.push({ kind: 'xmp-thumbnail', action: 'removed', detail: `${names(removed.thumbnails)} in ${where}` });
  if (removed.pictures.length > 0) changes.push({ kind: 'xmp-picture', action: 'removed', detail: `${names(removed.pictures)} in ${where}` });
}

/**
 * The XMP segments of `output` as they must be written (by the segment's start; null: removed):
 * without pictures (`xmp-previews.ts`) in the main packets and in the extended packets, the
 * motion-photo and container descriptions taken out. An extended packet that changed is
 * written again in new chunks under a new GUID (the MD5 of the packet, XMP Part 3 §1.1.3.1),
 * and the main packets link to it; one that cannot be put together, or is not well-formed XML,
 * is removed whole (it might hold a picture no one can check), with the link to it. A main
 * packet that is not well-formed XML is refused, as labelling refuses it anyway.
 *
 * @throws LabelFormatError when a main XMP packet is not well-formed XML.
 */
function xmpReplacements(output: Uint8Array, segments: readonly Segment[], changes: PreviewChange[]): { replacements: Map<number, Uint8Array | null>; motion: XmpProperty[]; directory: XmpProperty[] } {
  const replacements = new Map<number, Uint8Array | null>();
  const motion: XmpProperty[] = [];
  const directory: XmpProperty[] = [];
  const app1 = segments.filter((s) => s.marker === 0xe1);
  const main = app1.filter((s) => segmentId(output, s, XMP_ID.length) === XMP_ID);
  // The first bytes of the namespace, as the implicit codec recognises a chunk (a short one is broken, and removed).
  const extended = app1.filter((s) => segmentId(output, s, XMP_ID.length) === EXTENDED_ID.slice(0, XMP_ID.length));
  const assembled = assembleExtendedXmp(extended.map((s) => ({ ref: s, data: output.subarray(s.start + 4, s.end) })));
  const removedGuids = new Set<string>();
  const renamed = new Map<string, string>();
  const removeAll = (refs: readonly Segment[]): void => {
    for (const ref of refs) replacements.set(ref.start, null);
  };
  for (const broken of assembled.broken) {
    removeAll(broken.refs);
    if (!assembled.complete.some((c) => c.guid === broken.guid)) removedGuids.add(broken.guid);
    changes.push({ kind: 'xmp-extended', action: 'removed', detail: `${broken.refs.length} extended XMP chunk${broken.refs.length > 1 ? 's' : ''} that cannot be put together (${broken.why}), so a picture in them could not be checked` });
  }
  for (const packet of assembled.complete) {
    const refs = packet.chunks.map((c) => c.ref).sort((a, b) => a.start - b.start);
    let cleaned;
    try {
      cleaned = withoutXmpPreviews(packet.text);
    } catch (error) {
      if (!(error instanceof LabelFormatError)) throw error;
      removeAll(refs);
      removedGuids.add(packet.guid);
      changes.push({ kind: 'xmp-extended', action: 'removed', detail: `the extended XMP packet (${refs.length} chunk${refs.length > 1 ? 's' : ''}) is not well-formed XML (${error.message}), so a picture in it could not be checked` });
      continue;
    }
    const { removed } = cleaned;
    motion.push(...removed.motion);
    directory.push(...removed.directory);
    if (cleaned.packet === packet.text) continue;
    reportXmpRemovals(removed, 'the extended XMP', changes);
    removeAll(refs);
    if (!xmpHasProperties(cleaned.packet)) {
      removedGuids.add(packet.guid);
      continue;
    }
    const bytes = utf8(cleaned.packet);
    const guid = createHash('md5').update(bytes).digest('hex').toUpperCase();
    renamed.set(packet.guid, guid);
    replacements.set((refs[0] as Segment).start, extendedSegments(bytes, guid));
  }
  for (const s of main) {
    const text = fromUtf8(output.subarray(s.start + 4 + XMP_ID.length, s.end));
    const linked = withGuids(text, renamed);
    const cleaned = withoutXmpPreviews(linked, removedGuids);
    motion.push(...cleaned.removed.motion);
    directory.push(...cleaned.removed.directory);
    if (cleaned.packet === text) continue;
    reportXmpRemovals(cleaned.removed, 'the XMP packet', changes);
    replacements.set(s.start, segment(0xe1, [Buffer.from(XMP_ID, 'latin1'), utf8(cleaned.packet)]));
  }
  return { replacements, motion, directory };
}

/**
 * `output` (the labelled JPEG, header segments carried over from `source`) with its EXIF
 * thumbnail made again from the labelled picture or removed, other embedded pictures zeroed and
 * the MPF index removed; `changes` says what was done (empty: the bytes are `output`).
 *
 * @example
 * const { bytes, changes } = await labelledPreviews(spliced, original);
 */
export async function labelledPreviews(output: Uint8Array, source: Uint8Array): Promise<{ bytes: Uint8Array; changes: PreviewChange[] }> {
  const changes: PreviewChange[] = [];
  const segments = headerSegments(output);
  const xmp = xmpReplacements(output, segments, changes);
  const parts: Uint8Array[] = [];
  let at = 0;
  let changed = false;
  for (const s of segments) {
    const app = s.marker >= 0xe0 && s.marker <= 0xef;
    if (!app) continue;
    let replacement: Uint8Array | null | undefined;
    if (xmp.replacements.has(s.start)) {
      replacement = xmp.replacements.get(s.start);
    } else if (s.marker === 0xe0) {
      replacement = withoutJfifThumbnail(output, s, changes);
    } else if (s.marker === 0xe1 && segmentId(output, s, 5) === EXIF_ID.slice(0, 5)) {
      const body = await withNewThumbnail(output.subarray(s.start + 10, s.end), output, changes);
      replacement = body && segment(0xe1, [Buffer.from(EXIF_ID, 'latin1'), body]);
    } else if (s.marker === 0xe2 && segmentId(output, s, 4) === MPF_ID) {
      replacement = null;
    } else if (!(s.marker === 0xe2 && segmentId(output, s, 12) === 'ICC_PROFILE\0') && !(s.marker === 0xe1 && segmentId(output, s, 5) === 'http:')) {
      const copy = output.slice(s.start, s.end);
      const blanked = blankEmbeddedJpegs(copy, 0, 4);
      if (blanked > 0) {
        changes.push({ kind: 'embedded-jpeg', action: 'removed', detail: `${blanked} picture${blanked > 1 ? 's' : ''} in an APP${s.marker - 0xe0} segment (${JSON.stringify(segmentId(output, s, 32).replace(/\0.*$/s, ''))}) zeroed` });
        replacement = copy;
      }
    }
    if (replacement === undefined) continue;
    parts.push(output.subarray(at, s.start));
    if (replacement) parts.push(replacement);
    at = s.end;
    changed = true;
  }
  parts.push(output.subarray(at));
  const mpf = headerSegments(source).find((s) => s.marker === 0xe2 && segmentId(source, s, 4) === MPF_ID);
  const end = pictureEnd(source);
  const trailing = source.subarray(end).some((b) => b !== 0) ? source.length - end : 0;
  const video = trailing > 0 && motionVideoAfter(source.subarray(end));
  const motion = xmp.motion.length > 0 || video;
  const described = names([...xmp.motion, ...(motion ? xmp.directory : [])]);
  if (mpf) {
    const images = mpfImages(source, mpf);
    const listed = images !== undefined ? `${images} pictures, ` : '';
    changes.push({ kind: 'mpf-images', action: 'removed', detail: `the MPF index (${listed}the primary one labelled) and the ${trailing} bytes after the primary picture` });
    if (motion) changes.push({ kind: 'motion-photo', action: 'removed', detail: `the XMP properties that described its video (${described}), not carried over with the MPF pictures` });
  } else if (motion) {
    const what = trailing > 0 ? `the ${video ? 'video' : 'data'} after the picture (${trailing} bytes)` : 'no video after the picture';
    changes.push({ kind: 'motion-photo', action: 'removed', detail: `${what}${described ? `; the XMP properties that described it (${described}) removed` : ''}` });
  } else if (trailing > 0) {
    changes.push({ kind: 'trailing-data', action: 'removed', detail: `${trailing} bytes after the end of the picture` });
  }
  if (!motion && xmp.directory.length > 0) changes.push({ kind: 'xmp-directory', action: 'removed', detail: `${names(xmp.directory)} in the XMP packet, which described pictures after the primary one, not carried over` });
  return { bytes: changed ? Buffer.concat(parts) : output, changes };
}

/**
 * An APP0 segment without a thumbnail: a JFIF segment's own (Xthumbnail x Ythumbnail RGB
 * pixels) cut off with its size set to 0x0, a JFXX extension segment (a JPEG, palette or RGB
 * thumbnail) removed (null); undefined when there is nothing to change.
 */
function withoutJfifThumbnail(data: Uint8Array, s: Segment, changes: PreviewChange[]): Uint8Array | null | undefined {
  const id = segmentId(data, s, 5);
  if (id === 'JFXX\0') {
    changes.push({ kind: 'jfif-thumbnail', action: 'removed', detail: 'the JFXX extension segment (APP0) with its thumbnail' });
    return null;
  }
  if (id !== 'JFIF\0' || s.end - s.start <= 18) return undefined;
  const head = data.slice(s.start, s.start + 18);
  const size = `${head[16] ?? 0}x${head[17] ?? 0}`;
  head[2] = 0;
  head[3] = 16;
  head[16] = 0;
  head[17] = 0;
  changes.push({ kind: 'jfif-thumbnail', action: 'removed', detail: `the ${size} thumbnail of the JFIF segment (APP0)` });
  return head;
}

/** A marker segment: marker, length, body. */
function segment(marker: number, body: Uint8Array[]): Uint8Array {
  const length = 2 + body.reduce((sum, part) => sum + part.length, 0);
  return Buffer.concat([Buffer.from([0xff, marker, length >> 8, length & 0xff]), ...body]);
}

/**
 * The EXIF thumbnail of a PNG (`eXIf`), WebP (`EXIF` chunk), AVIF or HEIC (`Exif` item) made
 * again from `picture` (a file sharp decodes: the labelled picture), or removed, without moving
 * a byte: the container's sizes and offsets stay as they are, so the new thumbnail goes in the
 * old one's place when it fits there (quality 80, 60 or 40), and otherwise IFD0 stops linking
 * to IFD1 and the old bytes are zeroed. The EXIF is found by its TIFF header and followed to a
 * JPEG thumbnail in IFD1 before anything is written; a PNG chunk that changed gets its CRC
 * again.
 *
 * @example
 * const { bytes, changes } = await labelledExifInPlace(labelledPng, labelledPng);
 */
export async function labelledExifInPlace(output: Uint8Array, picture: Uint8Array): Promise<{ bytes: Uint8Array; changes: PreviewChange[] }> {
  const changes: PreviewChange[] = [];
  const found = Buffer.from(output.buffer, output.byteOffset, output.byteLength);
  const starts: number[] = [];
  for (const order of [Buffer.from('II*\0', 'latin1'), Buffer.from('MM\0*', 'latin1')]) {
    for (let at = found.indexOf(order); at >= 0; at = found.indexOf(order, at + 1)) starts.push(at);
  }
  if (starts.length === 0) return { bytes: output, changes };
  const bytes = new Uint8Array(output);
  const edited: number[] = [];
  for (const at of starts.sort((a, b) => a - b)) {
    let tiff: Tiff;
    let ifd0Next: number;
    let ifd1At: number;
    try {
      tiff = new Tiff(bytes.subarray(at));
      const ifd0 = tiff.ifd(tiff.u32(4));
      ifd0Next = ifd0.next;
      ifd1At = tiff.u32(ifd0Next);
      if (ifd1At === 0 || !tiff.entry(tiff.ifd(ifd1At), JPEG_INTERCHANGE_FORMAT)) continue;
    } catch (error) {
      if (error instanceof Unreadable) continue;
      throw error;
    }
    await replaceThumbnail(tiff, ifd0Next, ifd1At, picture, changes, true);
    edited.push(at);
  }
  if (edited.length > 0 && latin1(bytes, 1, 3) === 'PNG') fixPngCrcs(bytes, edited);
  return { bytes: edited.length > 0 ? bytes : output, changes };
}

/**
 * A PNG's or WebP's XMP packets without pictures (`xmp-previews.ts`: `xmp:Thumbnails`,
 * `GImage:Data`, ...) and without motion-photo or container descriptions, through the implicit
 * codec's `mapXmp` (the chunk written again, every other byte kept); other formats, and files
 * whose XMP holds none of them, are returned as they are.
 *
 * @throws LabelFormatError when an XMP packet is not well-formed XML.
 * @example
 * const { bytes, changes } = await labelledXmp(labelledPng);
 */
export async function labelledXmp(output: Uint8Array): Promise<{ bytes: Uint8Array; changes: PreviewChange[] }> {
  const changes: PreviewChange[] = [];
  const source = bufferSource(output);
  const codec = await codecFor(source);
  if (!codec.mapXmp) return { bytes: output, changes };
  const described: XmpProperty[] = [];
  const sink = new BufferSink();
  await codec.mapXmp(
    source,
    (packet) => {
      const cleaned = withoutXmpPreviews(packet);
      reportXmpRemovals(cleaned.removed, 'the XMP packet', changes);
      described.push(...cleaned.removed.motion, ...cleaned.removed.directory);
      return cleaned.packet;
    },
    sink,
  );
  if (described.length > 0) changes.push({ kind: 'xmp-directory', action: 'removed', detail: `${names(described)} in the XMP packet, which described data the file does not hold` });
  return changes.length > 0 ? { bytes: sink.bytes(), changes } : { bytes: output, changes };
}

/**
 * What a PNG or WebP carries besides its picture in its XMP, for the checker (`JpegPreviews`'s
 * fields; nothing after the picture): the packets read through the codec's `mapXmp`.
 *
 * @example
 * const { xmpPictures } = await xmpPreviews(png);
 */
export async function xmpPreviews(data: Uint8Array): Promise<JpegPreviews> {
  const found: JpegPreviews = { trailingBytes: 0, mpf: false, xmpPictures: [], motionPhoto: false, unreadableXmp: 0 };
  const source = bufferSource(data);
  const codec = await codecFor(source);
  if (!codec.mapXmp) return found;
  const discard = { write: (): Promise<void> => Promise.resolve() };
  try {
    await codec.mapXmp(
      source,
      (packet) => {
        const read = xmpPicturesIfReadable(packet);
        if (!read) found.unreadableXmp++;
        else {
          found.xmpPictures.push(...read.pictures);
          found.motionPhoto ||= read.motion;
        }
        return packet;
      },
      discard,
    );
  } catch (error) {
    // The container's chunks could not be followed (the picture decoded all the same).
    if (!(error instanceof LabelFormatError)) throw error;
    found.unreadableXmp++;
  }
  return found;
}

/** Computes again the CRC of each PNG chunk holding one of `positions`. */
function fixPngCrcs(png: Uint8Array, positions: number[]): void {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  for (let at = 8; at + 12 <= png.length; ) {
    const length = view.getUint32(at);
    const end = at + 12 + length;
    if (end > png.length) return;
    if (positions.some((p) => p >= at + 8 && p < at + 8 + length)) view.setUint32(at + 8 + length, crc32(png.subarray(at + 4, at + 8 + length)));
    at = end;
  }
}

/** What a JPEG carries besides its primary picture, for the checker (`jpegPreviews`). */
export interface JpegPreviews {
  /** The EXIF thumbnail, when IFD1 points at a JPEG inside the segment. */
  thumbnail?: Uint8Array;
  /** Bytes after the end of the picture (0 when there are none, or only zeros). */
  trailingBytes: number;
  /** An MPF index describes pictures after the primary one. */
  mpf: boolean;
  /** Pictures in the XMP packets, extended XMP included (`xmp:Thumbnails`, `GImage:Data`, ...). */
  xmpPictures: XmpPicture[];
  /** A motion photo: its video after the picture, or XMP properties describing one. */
  motionPhoto: boolean;
  /** XMP packets (main or extended) that could not be read, so pictures in them could not be looked for. */
  unreadableXmp: number;
}

/**
 * What a JPEG carries besides its primary picture, for the checker: the EXIF thumbnail's bytes
 * (when IFD1 points at a JPEG inside the segment), the pictures in its XMP, how many bytes
 * follow the end of the picture, whether an MPF index describes them and whether they are a
 * motion photo's video.
 *
 * @example
 * const { thumbnail, xmpPictures, trailingBytes, mpf } = jpegPreviews(bytes);
 */
export function jpegPreviews(data: Uint8Array): JpegPreviews {
  const segments = headerSegments(data);
  let thumbnail: Uint8Array | undefined;
  const exif = segments.find((s) => s.marker === 0xe1 && segmentId(data, s, 5) === EXIF_ID.slice(0, 5));
  if (exif) {
    try {
      const tiff = new Tiff(data.subarray(exif.start + 10, exif.end));
      const ifd1At = tiff.u32(tiff.ifd(tiff.u32(4)).next);
      if (ifd1At !== 0) {
        const ifd1 = tiff.ifd(ifd1At);
        const format = tiff.entry(ifd1, JPEG_INTERCHANGE_FORMAT);
        const length = tiff.entry(ifd1, JPEG_INTERCHANGE_FORMAT_LENGTH);
        const offset = format ? tiff.u32(format.value) : 0;
        const bytes = length ? tiff.u32(length.value) : 0;
        if (offset >= 8 && bytes > 0 && offset + bytes <= tiff.data.length && jpegAt(tiff.data, offset)) thumbnail = tiff.data.subarray(offset, offset + bytes);
      }
    } catch (error) {
      if (!(error instanceof Unreadable)) throw error;
    }
  }
  const xmpPictures: XmpPicture[] = [];
  let motion = false;
  let unreadableXmp = 0;
  const look = (packet: string): void => {
    const found = xmpPicturesIfReadable(packet);
    if (!found) {
      unreadableXmp++;
      return;
    }
    xmpPictures.push(...found.pictures);
    motion ||= found.motion;
  };
  const app1 = segments.filter((s) => s.marker === 0xe1);
  for (const s of app1) if (segmentId(data, s, XMP_ID.length) === XMP_ID) look(fromUtf8(data.subarray(s.start + 4 + XMP_ID.length, s.end)));
  const extended = app1.filter((s) => segmentId(data, s, XMP_ID.length) === EXTENDED_ID.slice(0, XMP_ID.length));
  const assembled = assembleExtendedXmp(extended.map((s) => ({ ref: s, data: data.subarray(s.start + 4, s.end) })));
  unreadableXmp += assembled.broken.length;
  for (const packet of assembled.complete) look(packet.text);
  const end = pictureEnd(data);
  const trailingBytes = data.subarray(end).some((b) => b !== 0) ? data.length - end : 0;
  const mpf = segments.some((s) => s.marker === 0xe2 && segmentId(data, s, 4) === MPF_ID);
  return { ...(thumbnail ? { thumbnail } : {}), trailingBytes, mpf, xmpPictures, motionPhoto: motion || (trailingBytes > 0 && motionVideoAfter(data.subarray(end))), unreadableXmp };
}
