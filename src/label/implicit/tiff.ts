/**
 * @module label/implicit/tiff
 * TIFF (classic, either byte order). The label goes in the XMP packet of tag 0x2BC in IFD0
 * (XMP Part 3 §1.1.6; TC260 guide for TIFF). TIFF data is addressed by absolute offsets from
 * everywhere (strips, tiles, EXIF and GPS IFDs, maker notes), so hegui never moves a byte of
 * it: it appends the new XMP packet and a copy of IFD0 that points to it, and repoints the
 * header. When the tail of the file is exactly a packet and IFD0 hegui appended earlier, it is
 * replaced rather than appended again, so repeated labelling does not grow the file.
 */
import { LabelFormatError } from '../errors.js';
import type { BytePatch, ByteRange, ByteSource, FoundLabel, LabelCodec } from './codec.js';
import { applyEdits, concatBytes, fromUtf8, mergeRanges, readExact, startsWith, utf8, viewOf, writePieces, type Edit, type Piece } from './bytes.js';
import { EXIF_LOCATION, blankUserComment, findExifLabel } from './exif.js';
import {
  TAG_EXIF_IFD,
  TAG_STRIP_BYTE_COUNTS,
  TAG_STRIP_OFFSETS,
  TAG_TILE_BYTE_COUNTS,
  TAG_TILE_OFFSETS,
  TAG_XMP,
  readIfd,
  readTiffHeader,
  readUints,
  readValue,
  type Ifd,
  type IfdEntry,
  type TiffHeader,
} from './tiff-ifd.js';
import { nextXmpPacket, readXmpLabels, setXmpLabel } from './xmp.js';
import { tiffSignedContent } from './tiff-content.js';

export const TIFF_XMP_LOCATION = 'xmp:TIFF-tag-0x2BC';
const TYPE_BYTE = 1;
/** Tags whose values are offsets to data or IFDs elsewhere in the file. */
const POINTER_TAGS = new Set([TAG_STRIP_OFFSETS, TAG_TILE_OFFSETS, TAG_EXIF_IFD, 0x8825, 0xa005, 0x014a]);
const MAX_IFDS = 1024;

interface Plan {
  header: TiffHeader;
  ifd0: Ifd;
  xmp: { entry: IfdEntry; text: string } | undefined;
}

async function plan(source: ByteSource): Promise<Plan> {
  const header = await readTiffHeader(source, 0, 'tiff');
  const ifd0 = await readIfd(source, header, header.ifd0, 'tiff');
  const entry = ifd0.entries.find((e) => e.tag === TAG_XMP);
  const xmp = entry ? { entry, text: fromUtf8(await readValue(source, entry, 'tiff')) } : undefined;
  return { header, ifd0, xmp };
}

/**
 * Where the file can be cut before appending: the start of a packet-and-IFD0 tail that nothing
 * else points into, or the end of the file.
 */
async function keepEnd(source: ByteSource, p: Plan): Promise<number> {
  const { ifd0, xmp } = p;
  if (!xmp || xmp.entry.valueBytes <= 4 || ifd0.end !== source.size || xmp.entry.valueOffset > ifd0.offset) return source.size;
  const tail = xmp.entry.valueOffset;
  const slack = source.size - tail - xmp.entry.valueBytes - (ifd0.end - ifd0.offset);
  if (slack < 0 || slack > 2 || (ifd0.next !== 0 && ifd0.next >= tail)) return source.size;
  for (const entry of ifd0.entries) {
    if (entry === xmp.entry) continue;
    if (entry.valueBytes > 4 && entry.valueOffset + entry.valueBytes > tail) return source.size;
    if (POINTER_TAGS.has(entry.tag)) {
      const pointers = await readUints(source, p.header, entry, 'tiff').catch(() => [Number.MAX_SAFE_INTEGER]);
      if (pointers.some((offset) => offset >= tail)) return source.size;
    }
  }
  return tail;
}

function u32(value: number, little: boolean): Uint8Array {
  const bytes = new Uint8Array(4);
  viewOf(bytes).setUint32(0, value, little);
  return bytes;
}

/** IFD0 again, without its XMP entry and with one pointing at `xmpOffset` when given. */
async function rebuiltIfd0(source: ByteSource, p: Plan, xmp: { offset: number; length: number } | undefined): Promise<Uint8Array> {
  const { little } = p.header;
  const entries: { tag: number; bytes: Uint8Array }[] = [];
  for (const entry of p.ifd0.entries) {
    if (entry.tag !== TAG_XMP) entries.push({ tag: entry.tag, bytes: await readExact(source, entry.entryOffset, 12, 'tiff') });
  }
  if (xmp) {
    const bytes = new Uint8Array(12);
    const view = viewOf(bytes);
    view.setUint16(0, TAG_XMP, little);
    view.setUint16(2, TYPE_BYTE, little);
    view.setUint32(4, xmp.length, little);
    view.setUint32(8, xmp.offset, little);
    entries.push({ tag: TAG_XMP, bytes });
  }
  // TIFF 6.0 §2: entries sorted in ascending order of tag.
  entries.sort((a, b) => a.tag - b.tag);
  const count = new Uint8Array(2);
  viewOf(count).setUint16(0, entries.length, little);
  return concatBytes([count, ...entries.map((e) => e.bytes), u32(p.ifd0.next, little)]);
}

async function exifEdits(source: ByteSource): Promise<Edit[]> {
  const label = await findExifLabel(source, 0);
  return label ? [{ start: label.offset, end: label.offset + label.length, bytes: blankUserComment(label.length) }] : [];
}

async function rewrite(source: ByteSource, value: string | null): Promise<Piece[]> {
  const p = await plan(source);
  const edits = await exifEdits(source);
  const next = nextXmpPacket(p.xmp?.text, value);
  if (next === (p.xmp?.text ?? null)) return applyEdits(source.size, edits);
  const end = await keepEnd(source, p);
  const appended: Uint8Array[] = [];
  let at = end;
  const align = (): void => {
    if (at % 2 === 1) {
      appended.push(new Uint8Array(1));
      at++;
    }
  };
  align();
  let xmp: { offset: number; length: number } | undefined;
  if (next !== null) {
    const packet = utf8(next);
    xmp = { offset: at, length: packet.length };
    appended.push(packet);
    at += packet.length;
    align();
  }
  const ifdOffset = at;
  const ifd = await rebuiltIfd0(source, p, xmp);
  if (ifdOffset + ifd.length > 0xffffffff) throw new LabelFormatError('tiff', 'the labelled file would exceed the 4 GiB limit of classic TIFF');
  appended.push(ifd);
  const header = concatBytes([await readExact(source, 0, 4, 'tiff'), u32(ifdOffset, p.header.little)]);
  edits.push({ start: 0, end: 8, bytes: header });
  return [...applyEdits(end, edits.filter((e) => e.end <= end)), ...appended];
}

/** Every IFD in the main chain (IFD0, IFD1, ... for multi-page files). */
async function ifdChain(source: ByteSource, header: TiffHeader): Promise<Ifd[]> {
  const ifds: Ifd[] = [];
  const seen = new Set<number>();
  for (let offset = header.ifd0; offset !== 0; ) {
    if (seen.has(offset) || ifds.length >= MAX_IFDS) throw new LabelFormatError('tiff', 'the IFD chain loops', { offset });
    seen.add(offset);
    const ifd = await readIfd(source, header, offset, 'tiff');
    ifds.push(ifd);
    offset = ifd.next;
  }
  return ifds;
}

export const tiffCodec: LabelCodec = {
  format: 'tiff',
  mediaTypes: ['image/tiff'],
  extensions: ['tif', 'tiff'],

  detect: (head) => startsWith(head, [0x49, 0x49, 0x2a, 0x00]) || startsWith(head, [0x4d, 0x4d, 0x00, 0x2a]),

  async read(source) {
    const p = await plan(source);
    const found: FoundLabel[] = [];
    if (p.xmp) for (const value of readXmpLabels(p.xmp.text)) found.push({ value, location: TIFF_XMP_LOCATION, standard: true });
    const exif = await findExifLabel(source, 0);
    if (exif) found.push({ value: exif.value, location: EXIF_LOCATION, standard: false });
    return found;
  },

  async write(source, value, sink) {
    await writePieces(source, await rewrite(source, value), sink);
  },

  async remove(source, sink) {
    await writePieces(source, await rewrite(source, null), sink);
  },

  async payloadRanges(source) {
    const header = await readTiffHeader(source, 0, 'tiff');
    const ranges: ByteRange[] = [];
    for (const ifd of await ifdChain(source, header)) {
      for (const [offsetsTag, countsTag] of [
        [TAG_STRIP_OFFSETS, TAG_STRIP_BYTE_COUNTS],
        [TAG_TILE_OFFSETS, TAG_TILE_BYTE_COUNTS],
      ] as const) {
        const offsetsEntry = ifd.entries.find((e) => e.tag === offsetsTag);
        const countsEntry = ifd.entries.find((e) => e.tag === countsTag);
        if (!offsetsEntry || !countsEntry) continue;
        const offsets = await readUints(source, header, offsetsEntry, 'tiff');
        const counts = await readUints(source, header, countsEntry, 'tiff');
        offsets.forEach((offset, i) => {
          const end = offset + (counts[i] ?? 0);
          if (end > source.size) throw new LabelFormatError('tiff', `image data at ${offset} runs past the end of the file`, { offset });
          ranges.push({ start: offset, end });
        });
      }
    }
    return mergeRanges(ranges);
  },

  /** Signed content (docs/labels.md): every IFD a reader reaches, values resolved, label tags excluded. */
  signedContent: (source, sink) => tiffSignedContent(source, sink),

  async planInPlace(source, value) {
    const p = await plan(source);
    if (!p.xmp || p.xmp.entry.valueBytes <= 4) return undefined;
    const merged = setXmpLabel(p.xmp.text, value, { targetBytes: p.xmp.entry.valueBytes });
    if (merged === undefined) return undefined;
    const patches: BytePatch[] = [{ offset: p.xmp.entry.valueOffset, bytes: utf8(merged) }];
    for (const edit of await exifEdits(source)) patches.push({ offset: edit.start, bytes: edit.bytes });
    return patches;
  },
};
