/**
 * @module label/implicit/flac
 * The FLAC codec (RFC 9639, Free Lossless Audio Codec): the label is the field `AIGC` of the
 * VORBIS_COMMENT metadata block (§8.6). A change in that block's size is absorbed by the
 * PADDING block (§8.3) when there is one large enough, so the audio frames do not move and the
 * label can be written in place; otherwise the file is rewritten with 1 KiB of padding for next
 * time. Seek points count from the first frame (§8.5), so moving the frames changes none.
 */
import { LabelFormatError } from '../errors.js';
import { readExact, utf8 } from './bytes.js';
import type { ByteRange, BytePatch, ByteSink, ByteSource, FoundLabel, LabelCodec } from './codec.js';
import { tagSize } from './mp3-id3.js';
import { hasLabel, labelValues, parseVorbisComment, serializeVorbisComment, withLabel } from './ogg-vorbis-comment.js';
import type { VorbisComment } from './ogg-vorbis-comment.js';
import { SourceReader, SpliceWriter, latin1, patchesFor, pieceLength, writePieces } from './splice.js';
import type { Piece } from './splice.js';

const FORMAT = 'flac';

/** Metadata block types (RFC 9639 §8.1). */
const STREAMINFO = 0;
const PADDING = 1;
const VORBIS_COMMENT = 4;
const INVALID = 127;

/** Padding given when the old padding cannot absorb a larger label. */
export const FLAC_PADDING = 1024;

/** A block's length is 24 bits. */
const MAX_BLOCK = 0xffffff;

interface Block {
  type: number;
  start: number;
  dataStart: number;
  end: number;
}

interface Layout {
  /** Offset just after the `fLaC` marker, where the first metadata block starts. */
  metadataStart: number;
  blocks: Block[];
  /** Where the first audio frame starts. */
  audioStart: number;
}

/** The offset of the `fLaC` marker: 0, or after ID3v2 tags some taggers put first. */
async function markerOffset(source: ByteSource): Promise<number> {
  let at = 0;
  for (let tags = 0; tags < 16; tags++) {
    const size = tagSize(await source.read(at, 10), at, FORMAT);
    if (size === undefined) break;
    at += size;
  }
  if (latin1(await source.read(at, 4)) !== 'fLaC') throw new LabelFormatError(FORMAT, `no 'fLaC' stream marker`, { offset: at });
  return at;
}

async function scan(source: ByteSource): Promise<Layout> {
  const metadataStart = (await markerOffset(source)) + 4;
  const reader = new SourceReader(source, FORMAT);
  const blocks: Block[] = [];
  let at = metadataStart;
  for (let last = false; !last; ) {
    const header = await reader.bytes(at, 4, 'metadata block header');
    last = ((header[0] ?? 0) & 0x80) !== 0;
    const type = (header[0] ?? 0) & 0x7f;
    const length = ((header[1] ?? 0) << 16) | ((header[2] ?? 0) << 8) | (header[3] ?? 0);
    if (type === INVALID) throw new LabelFormatError(FORMAT, `metadata block type 127 is invalid`, { offset: at });
    if ((blocks.length === 0) !== (type === STREAMINFO)) throw new LabelFormatError(FORMAT, `STREAMINFO must be the first metadata block, and only the first`, { offset: at });
    const end = at + 4 + length;
    if (end > source.size) throw new LabelFormatError(FORMAT, `metadata block of ${length} bytes runs past the end of the file`, { offset: at });
    blocks.push({ type, start: at, dataStart: at + 4, end });
    at = end;
  }
  if (at < source.size) {
    const sync = await reader.bytes(at, Math.min(2, source.size - at), 'frame header');
    // RFC 9639 §9.1: every frame starts with the 15-bit sync code 0b111111111111100.
    if (sync[0] !== 0xff || ((sync[1] ?? 0) & 0xfe) !== 0xf8) {
      throw new LabelFormatError(FORMAT, `no audio frame sync after the last metadata block (a metadata size is wrong)`, { offset: at });
    }
  }
  return { metadataStart, blocks, audioStart: at };
}

async function loadComment(source: ByteSource, block: Block): Promise<VorbisComment> {
  return parseVorbisComment(await readExact(source, block.dataStart, block.end - block.dataStart, FORMAT), block.dataStart, FORMAT);
}

function blockHeader(type: number, length: number, last: boolean): Uint8Array {
  if (length > MAX_BLOCK) throw new LabelFormatError(FORMAT, `a metadata block of ${length} bytes exceeds the 24-bit length field`);
  return Uint8Array.of((last ? 0x80 : 0) | type, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff);
}

interface NewBlock {
  type: number;
  data: Piece;
}

/**
 * The metadata blocks after relabelling: comment blocks rebuilt, the first PADDING block
 * resized by the opposite of the comment blocks' growth (or, when it is too small or absent,
 * set to `FLAC_PADDING` at the end), everything else copied.
 */
async function relabelBlocks(source: ByteSource, layout: Layout, value: string | undefined): Promise<NewBlock[]> {
  const blocks: NewBlock[] = [];
  let growth = 0;
  let labelled = value === undefined;
  for (const block of layout.blocks) {
    const copied: Piece = { start: block.dataStart, end: block.end };
    if (block.type !== VORBIS_COMMENT) {
      blocks.push({ type: block.type, data: copied });
      continue;
    }
    const comment = await loadComment(source, block);
    if (labelled && !hasLabel(comment)) {
      blocks.push({ type: block.type, data: copied });
      continue;
    }
    const data = serializeVorbisComment(withLabel(comment, labelled ? undefined : value));
    labelled = true;
    growth += data.length - (block.end - block.dataStart);
    blocks.push({ type: VORBIS_COMMENT, data });
  }
  if (!labelled) {
    const data = serializeVorbisComment(withLabel({ vendor: utf8('hegui'), fields: [], rest: new Uint8Array(0) }, value));
    const at = blocks.findIndex((b) => b.type === PADDING);
    blocks.splice(at === -1 ? blocks.length : at, 0, { type: VORBIS_COMMENT, data });
    growth += 4 + data.length;
  }
  const padding = blocks.find((b) => b.type === PADDING);
  const paddingLength = padding ? pieceLength(padding.data) - growth : growth < 0 ? -growth - 4 : -1;
  if (padding) padding.data = new Uint8Array(paddingLength >= 0 ? paddingLength : FLAC_PADDING);
  else if (paddingLength >= 0 || growth > 0) blocks.push({ type: PADDING, data: new Uint8Array(paddingLength >= 0 ? paddingLength : FLAC_PADDING) });
  return blocks;
}

function blockPieces(blocks: readonly NewBlock[]): Piece[] {
  return blocks.flatMap((block, i) => [blockHeader(block.type, pieceLength(block.data), i === blocks.length - 1), block.data]);
}

async function rewrite(source: ByteSource, value: string | undefined, sink: ByteSink): Promise<void> {
  const layout = await scan(source);
  const pieces = blockPieces(await relabelBlocks(source, layout, value));
  const writer = new SpliceWriter(source, sink, FORMAT);
  await writer.copy(0, layout.metadataStart);
  await writePieces(writer, pieces);
  await writer.copy(layout.audioStart, source.size);
  await writer.finish();
}

async function read(source: ByteSource): Promise<FoundLabel[]> {
  const layout = await scan(source);
  const found: FoundLabel[] = [];
  for (const block of layout.blocks) {
    if (block.type !== VORBIS_COMMENT) continue;
    for (const value of labelValues(await loadComment(source, block))) found.push({ value, location: 'flac:VORBIS_COMMENT:AIGC', standard: true });
  }
  return found;
}

async function planInPlace(source: ByteSource, value: string): Promise<BytePatch[] | undefined> {
  const layout = await scan(source);
  const pieces = blockPieces(await relabelBlocks(source, layout, value));
  const size = pieces.reduce((n, piece) => n + pieceLength(piece), 0);
  if (size !== layout.audioStart - layout.metadataStart) return undefined;
  return patchesFor(source, layout.metadataStart, pieces, FORMAT);
}

async function payloadRanges(source: ByteSource): Promise<ByteRange[]> {
  const { audioStart } = await scan(source);
  return audioStart < source.size ? [{ start: audioStart, end: source.size }] : [];
}

function detect(head: Uint8Array): boolean {
  let at = 0;
  try {
    for (let size = tagSize(head, 0, FORMAT); size !== undefined; size = tagSize(head.subarray(at), at, FORMAT)) at += size;
  } catch {
    return false;
  }
  return latin1(head.subarray(at, at + 4)) === 'fLaC';
}

export const flacCodec: LabelCodec = {
  format: 'flac',
  mediaTypes: ['audio/flac'],
  extensions: ['flac'],
  detect,
  read,
  write: (source, value, sink) => rewrite(source, value, sink),
  remove: (source, sink) => rewrite(source, undefined, sink),
  /** Signed content (docs/labels.md): the file as `remove` leaves it, which relabelling never changes. */
  signedContent: (source, sink) => flacCodec.remove(source, sink),
  payloadRanges,
  planInPlace,
};
