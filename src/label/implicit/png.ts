/**
 * @module label/implicit/png
 * PNG and APNG. The label goes in the XMP packet of the `iTXt` chunk with keyword
 * `XML:com.adobe.xmp` (XMP Part 3 §1.1.5; TC260 guide for PNG), placed after IHDR (in an APNG,
 * after acTL, or before IEND when ffmpeg would no longer see the animation); APNG's acTL/fcTL/fdAT frames are copied untouched.
 * Some producers also write a `tEXt` chunk keyed `AIGC`, or EXIF UserComment in `eXIf`: hegui
 * reads both, and removes them when it writes the standard place.
 */
import { LabelFormatError } from '../errors.js';
import type { BytePatch, ByteRange, ByteSource, FoundLabel, LabelCodec } from './codec.js';
import { applyEdits, concatBytes, crc32, mergeRanges, readExact, startsWith, utf8, viewOf, writePieces, type Edit } from './bytes.js';
import { EXIF_LOCATION, blankUserComment, findExifLabel, type ExifLabel } from './exif.js';
import { PNG_SIGNATURE, chunkData, decodeText, encodeITXt, iTXtHeaderLength, makeChunk, readChunks, type Chunk, type TextChunk } from './png-chunks.js';
import { canonicalXmpPacket, nextXmpPacket, readXmpLabels, setXmpLabel, withoutPadding, type PacketRule } from './xmp.js';

const XMP_KEYWORD = 'XML:com.adobe.xmp';
const AIGC_KEYWORD = 'AIGC';
const TEXT_TYPES = new Set(['tEXt', 'zTXt', 'iTXt']);
/** Ancillary chunks that describe the file rather than the image (§11.3.3, §11.3.6). */
const METADATA_TYPES = new Set(['tEXt', 'zTXt', 'iTXt', 'eXIf', 'tIME']);
export const PNG_XMP_LOCATION = 'xmp:iTXt';

interface TextEntry {
  chunk: Chunk;
  text: TextChunk;
}

interface Plan {
  chunks: Chunk[];
  xmp: TextEntry[];
  /** tEXt/zTXt/iTXt chunks keyed `AIGC` (non-standard). */
  aigc: TextEntry[];
  exif: { chunk: Chunk; label: ExifLabel }[];
}

async function keywordOf(source: ByteSource, chunk: Chunk): Promise<string> {
  const head = await source.read(chunk.dataStart, Math.min(80, chunk.end - 4 - chunk.dataStart));
  const end = head.indexOf(0);
  return end < 0 ? '' : String.fromCharCode(...head.subarray(0, end));
}

async function plan(source: ByteSource): Promise<Plan> {
  const signature = await readExact(source, 0, 8, 'png');
  if (!startsWith(signature, PNG_SIGNATURE)) throw new LabelFormatError('png', 'missing PNG signature', { offset: 0 });
  const chunks = await readChunks(source);
  if (chunks[0]?.type !== 'IHDR') throw new LabelFormatError('png', 'the first chunk is not IHDR', { offset: 8 });
  const result: Plan = { chunks, xmp: [], aigc: [], exif: [] };
  for (const chunk of chunks) {
    if (TEXT_TYPES.has(chunk.type)) {
      const keyword = await keywordOf(source, chunk);
      if (keyword !== XMP_KEYWORD && keyword !== AIGC_KEYWORD) continue;
      const text = await decodeText(chunk.type, await chunkData(source, chunk));
      if (keyword === XMP_KEYWORD && chunk.type === 'iTXt') result.xmp.push({ chunk, text });
      else if (keyword === AIGC_KEYWORD) result.aigc.push({ chunk, text });
    } else if (chunk.type === 'eXIf') {
      const label = await findExifLabel(source, chunk.dataStart);
      if (label) result.exif.push({ chunk, label });
    }
  }
  return result;
}

/** The eXIf chunk with its UserComment blanked and its CRC recomputed: same size. */
async function blankedExif(source: ByteSource, entry: { chunk: Chunk; label: ExifLabel }): Promise<Uint8Array> {
  const data = (await chunkData(source, entry.chunk)).slice();
  data.set(blankUserComment(entry.label.length), entry.label.offset - entry.chunk.dataStart);
  return makeChunk('eXIf', data);
}

function xmpChunk(packet: string): Uint8Array {
  return makeChunk('iTXt', encodeITXt(XMP_KEYWORD, packet));
}

async function rewrite(source: ByteSource, value: string | null, rule: PacketRule = nextXmpPacket): Promise<Edit[]> {
  const p = await plan(source);
  const edits: Edit[] = [];
  const [target, ...others] = p.xmp;
  for (const entry of others) {
    if (readXmpLabels(entry.text.text).length === 0) continue;
    const next = rule(entry.text.text, null);
    edits.push({ start: entry.chunk.start, end: entry.chunk.end, bytes: next === null ? new Uint8Array(0) : xmpChunk(next) });
  }
  for (const entry of p.aigc) edits.push({ start: entry.chunk.start, end: entry.chunk.end, bytes: new Uint8Array(0) });
  for (const entry of p.exif) edits.push({ start: entry.chunk.start, end: entry.chunk.end, bytes: await blankedExif(source, entry) });
  const next = rule(target?.text.text, value);
  // A packet holding other properties stays where it is (its place is signed content); a
  // packet holding nothing but the label is not content, so it goes where a new one would.
  if (target && (next === null || (value === null ? next : rule(target.text.text, null)) !== null)) {
    edits.push({ start: target.chunk.start, end: target.chunk.end, bytes: next === null ? new Uint8Array(0) : xmpChunk(next) });
  } else if (next !== null) {
    if (target) edits.push({ start: target.chunk.start, end: target.chunk.end, bytes: new Uint8Array(0) });
    edits.push(placed(p.chunks, edits, next));
  }
  return edits;
}

/**
 * ffmpeg 5.1 takes a PNG for an APNG only when its probe, which first reads 2048 bytes, meets
 * IHDR, acTL and the type of the first IDAT in them (apng_probe); with more before the first
 * IDAT, the still-PNG demuxer wins and one frame is decoded. Measured in test/label-apng.test.ts.
 */
const APNG_PROBE_WINDOW = 2048;

/**
 * The new XMP chunk and where it goes: after IHDR, so that readers meet the label before the
 * image data. In an APNG, right after acTL (before the first frame's fcTL and IDAT: PNG 3rd
 * edition §5.6 lets iTXt go anywhere after IHDR) when the first IDAT's type then still ends
 * within ffmpeg's probe window, without the packet's padding if that is what it takes; before
 * IEND, padded, otherwise: a label must not make ffmpeg show one frame of an animation.
 *
 * @param edits the other edits to the file, which shift the first IDAT.
 */
function placed(chunks: readonly Chunk[], edits: readonly Edit[], packet: string): Edit {
  const padded = xmpChunk(packet);
  const actl = chunks.find((c) => c.type === 'acTL');
  if (!actl) {
    const at = chunks[0]?.end ?? PNG_SIGNATURE.length;
    return { start: at, end: at, bytes: padded };
  }
  const idat = chunks.find((c) => c.type === 'IDAT');
  const iend = chunks[chunks.length - 1]?.start ?? PNG_SIGNATURE.length;
  if (idat && idat.start >= actl.end) {
    const shift = edits.filter((e) => e.end <= idat.start).reduce((sum, e) => sum + e.bytes.length - (e.end - e.start), 0);
    for (const bytes of [padded, xmpChunk(withoutPadding(packet))]) {
      if (idat.start + 8 + shift + bytes.length <= APNG_PROBE_WINDOW) return { start: actl.end, end: actl.end, bytes };
    }
  }
  return { start: iend, end: iend, bytes: padded };
}

/** Patches rewriting an uncompressed iTXt's text and CRC, when `packet` keeps its size. */
async function textPatches(source: ByteSource, entry: TextEntry, packet: string): Promise<BytePatch[]> {
  const textStart = entry.chunk.dataStart + iTXtHeaderLength(XMP_KEYWORD);
  const data = (await chunkData(source, entry.chunk)).slice();
  data.set(utf8(packet), textStart - entry.chunk.dataStart);
  const crc = new Uint8Array(4);
  viewOf(crc).setUint32(0, crc32(data, crc32(utf8('iTXt'))));
  return [
    { offset: textStart, bytes: utf8(packet) },
    { offset: entry.chunk.end - 4, bytes: crc },
  ];
}

function fitsInPlace(entry: TextEntry): boolean {
  // Only an uncompressed iTXt with empty language fields has its text at a known offset.
  return !entry.text.compressed && entry.chunk.end - 4 - entry.chunk.dataStart - iTXtHeaderLength(XMP_KEYWORD) === utf8(entry.text.text).length;
}

/**
 * Each XMP chunk whose packet `map` changes, written again with its CRC: an iTXt uncompressed,
 * a tEXt or zTXt (libvips writes XMP in a tEXt) as a tEXt, its Latin-1 bytes as they were.
 */
async function mappedXmp(source: ByteSource, map: (packet: string) => string): Promise<Edit[]> {
  const edits: Edit[] = [];
  for (const chunk of (await plan(source)).chunks) {
    if (!TEXT_TYPES.has(chunk.type) || (await keywordOf(source, chunk)) !== XMP_KEYWORD) continue;
    const { text } = await decodeText(chunk.type, await chunkData(source, chunk));
    const next = map(text);
    if (next === text) continue;
    const bytes = chunk.type === 'iTXt' ? xmpChunk(next) : makeChunk('tEXt', concatBytes([Buffer.from(`${XMP_KEYWORD}\0`, 'latin1'), Buffer.from(next, 'latin1')]));
    edits.push({ start: chunk.start, end: chunk.end, bytes });
  }
  return edits;
}

export const pngCodec: LabelCodec = {
  format: 'png',
  mediaTypes: ['image/png', 'image/apng'],
  extensions: ['png', 'apng'],

  async mapXmp(source, map, sink) {
    await writePieces(source, applyEdits(source.size, await mappedXmp(source, map)), sink);
  },

  detect: (head) => startsWith(head, PNG_SIGNATURE),

  async read(source) {
    const p = await plan(source);
    const found: FoundLabel[] = [];
    for (const entry of p.xmp) for (const value of readXmpLabels(entry.text.text)) found.push({ value, location: PNG_XMP_LOCATION, standard: true });
    for (const entry of p.aigc) found.push({ value: entry.text.text.trim(), location: `png:${entry.chunk.type}:AIGC`, standard: false });
    for (const entry of p.exif) found.push({ value: entry.label.value, location: EXIF_LOCATION, standard: false });
    return found;
  },

  async write(source, value, sink) {
    await writePieces(source, applyEdits(source.size, await rewrite(source, value)), sink);
  },

  async remove(source, sink) {
    await writePieces(source, applyEdits(source.size, await rewrite(source, null)), sink);
  },

  /** Signed content (docs/labels.md): the file as `remove` leaves it, its XMP packet in canonical form. */
  async signedContent(source, sink) {
    await writePieces(source, applyEdits(source.size, await rewrite(source, null, canonicalXmpPacket)), sink);
  },

  async payloadRanges(source) {
    const { chunks } = await plan(source);
    const ranges: ByteRange[] = [{ start: 0, end: 8 }];
    for (const chunk of chunks) if (!METADATA_TYPES.has(chunk.type)) ranges.push({ start: chunk.start, end: chunk.end });
    return mergeRanges(ranges);
  },

  async planInPlace(source, value) {
    const p = await plan(source);
    const [target, ...others] = p.xmp;
    if (!target || !fitsInPlace(target) || p.aigc.length > 0) return undefined;
    const textBytes = target.chunk.end - 4 - target.chunk.dataStart - iTXtHeaderLength(XMP_KEYWORD);
    const merged = setXmpLabel(target.text.text, value, { targetBytes: textBytes });
    if (merged === undefined) return undefined;
    const patches = await textPatches(source, target, merged);
    for (const entry of others) {
      if (readXmpLabels(entry.text.text).length === 0) continue;
      const emptied = fitsInPlace(entry) ? setXmpLabel(entry.text.text, null, { targetBytes: utf8(entry.text.text).length }) : undefined;
      if (emptied === undefined) return undefined;
      patches.push(...(await textPatches(source, entry, emptied)));
    }
    for (const entry of p.exif) {
      const chunk = await blankedExif(source, entry);
      patches.push({ offset: entry.chunk.start, bytes: chunk });
    }
    return patches;
  },
};

