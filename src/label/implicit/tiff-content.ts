/**
 * @module label/implicit/tiff-content
 * The signed content of a TIFF file (docs/labels.md, "TIFF"): what a reader reaches from the
 * header, written as canonical records rather than raw bytes, because hegui relabels a TIFF by
 * appending a new IFD0 and repointing the header (nothing else may move, TIFF 6.0 §2), so the
 * same image sits at other offsets after each relabelling. Each IFD of the main chain and of
 * every sub-IFD is hashed entry by entry with its value resolved: the data a strip, tile or
 * thumbnail offset points to in place of the offset, the nested IFD in place of a sub-IFD
 * pointer. Excluded, and declared so: the XMP packet (tag 0x2BC), where the label lives, and
 * the EXIF UserComment (0x9286), where other tools put labels that hegui blanks. Bytes no IFD
 * reaches (an IFD0 a relabelling left behind) are not content: no reader shows them.
 */
import { LabelFormatError } from '../errors.js';
import type { ByteSink, ByteSource } from './codec.js';
import { copyRange, utf8, viewOf } from './bytes.js';
import {
  TAG_EXIF_IFD,
  TAG_STRIP_BYTE_COUNTS,
  TAG_STRIP_OFFSETS,
  TAG_TILE_BYTE_COUNTS,
  TAG_TILE_OFFSETS,
  TAG_USER_COMMENT,
  TAG_XMP,
  readIfd,
  readTiffHeader,
  readUints,
  readValue,
  type TiffHeader,
} from './tiff-ifd.js';

/** Offset tags and the tag holding the byte count of each block they point to. */
const DATA_POINTERS: ReadonlyMap<number, number> = new Map([
  [TAG_STRIP_OFFSETS, TAG_STRIP_BYTE_COUNTS],
  [TAG_TILE_OFFSETS, TAG_TILE_BYTE_COUNTS],
  [0x0201, 0x0202], // JPEGInterchangeFormat and its length: the EXIF thumbnail.
]);
/** Tags whose values are offsets of further IFDs: EXIF, GPS, Interoperability, SubIFDs. */
const IFD_POINTERS = new Set([TAG_EXIF_IFD, 0x8825, 0xa005, 0x014a]);
/** Declared exclusions: where labels live. */
export const TIFF_EXCLUDED_TAGS: readonly number[] = [TAG_XMP, TAG_USER_COMMENT];
const MAX_IFDS = 1024;

function record(...fields: [bits: 16 | 32, value: number][]): Uint8Array {
  const out = new Uint8Array(fields.reduce((n, [bits]) => n + bits / 8, 0));
  const view = viewOf(out);
  let at = 0;
  for (const [bits, value] of fields) {
    if (bits === 16) view.setUint16(at, value);
    else view.setUint32(at, value);
    at += bits / 8;
  }
  return out;
}

/**
 * Strips may overlap, so a hostile file could make the content many times its own size; real
 * files reference each byte once, so more than this many times the file size is refused.
 */
const MAX_DATA_FACTOR = 4;

class Walker {
  readonly #seen = new Set<number>();
  #data = 0;
  constructor(
    readonly source: ByteSource,
    readonly header: TiffHeader,
    readonly sink: ByteSink,
  ) {}

  /** Writes the IFD at `offset` and, when `chain`, every IFD its next pointers reach. */
  async ifds(offset: number, chain: boolean): Promise<void> {
    for (let at = offset; at !== 0; ) {
      if (this.#seen.has(at) || this.#seen.size >= MAX_IFDS) throw new LabelFormatError('tiff', 'the IFDs loop or are too many', { offset: at });
      this.#seen.add(at);
      const ifd = await readIfd(this.source, this.header, at, 'tiff');
      const kept = ifd.entries.filter((entry) => !TIFF_EXCLUDED_TAGS.includes(entry.tag));
      await this.sink.write(utf8('IFD'));
      await this.sink.write(record([32, kept.length]));
      for (const entry of kept) {
        await this.sink.write(record([16, entry.tag], [16, entry.type], [32, entry.count]));
        const counts = DATA_POINTERS.get(entry.tag);
        if (counts !== undefined) {
          const sizesEntry = ifd.entries.find((e) => e.tag === counts);
          const sizes = sizesEntry ? await readUints(this.source, this.header, sizesEntry, 'tiff') : [];
          const offsets = await readUints(this.source, this.header, entry, 'tiff');
          for (const [i, start] of offsets.entries()) {
            const length = sizes[i] ?? 0;
            const from = this.header.base + start;
            if (from + length > this.source.size) throw new LabelFormatError('tiff', `image data at ${from} runs past the end of the file`, { offset: from });
            this.#data += length;
            if (this.#data > MAX_DATA_FACTOR * this.source.size) throw new LabelFormatError('tiff', `the strips and tiles overlap more than ${MAX_DATA_FACTOR} times the file size`, { offset: from });
            await this.sink.write(record([32, length]));
            await copyRange(this.source, from, from + length, this.sink, 'tiff');
          }
        } else if (IFD_POINTERS.has(entry.tag)) {
          for (const next of await readUints(this.source, this.header, entry, 'tiff')) await this.ifds(this.header.base + next, false);
        } else {
          await this.sink.write(await readValue(this.source, entry, 'tiff'));
        }
      }
      at = chain ? ifd.next : 0;
    }
  }
}

/** Writes the signed content of the TIFF structure whose header is at `base` of `source`. */
export async function tiffSignedContent(source: ByteSource, sink: ByteSink, base = 0): Promise<void> {
  const header = await readTiffHeader(source, base, 'tiff');
  await sink.write(utf8(header.little ? 'II' : 'MM'));
  await new Walker(source, header, sink).ifds(header.ifd0, true);
}
