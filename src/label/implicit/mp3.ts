/**
 * @module label/implicit/mp3
 * The MP3 codec: the label is an ID3v2 `TXXX` frame with description `AIGC` (see mp3-id3) in
 * the tag at the start of the file, which is created (ID3v2.4) when the file has none. The
 * MPEG audio frames after the tags, and an ID3v1 or APEv2 tag at the end, are copied as they
 * are. A tag that must grow gets 1 KiB of padding, so the next label change fits in place.
 */
import { LabelFormatError } from '../errors.js';
import { copyRange, readExact, viewOf } from './bytes.js';
import type { ByteRange, BytePatch, ByteSink, ByteSource, FoundLabel, LabelCodec } from './codec.js';
import { FORMAT, UNSYNCHRONISATION, isLabelFrame, labelFrame, parseTag, serializeTag, tagSize, userText } from './mp3-id3.js';
import type { Id3Tag } from './mp3-id3.js';
import { SpliceWriter, diffPatches, latin1 } from './splice.js';

/** Padding given to a tag that has to grow. */
export const MP3_PADDING = 1024;

/** Tags larger than this (cover art is usually well under 1 MB) are refused rather than loaded. */
const MAX_TAG = 64 * 1024 * 1024;

/** Consecutive ID3v2 tags at the start that are parsed before giving up. */
const MAX_TAGS = 16;

interface TagPlace {
  start: number;
  size: number;
}

interface Layout {
  tags: TagPlace[];
  /** Where the audio frames begin (after the ID3v2 tags) and end (before ID3v1 and APEv2 tags). */
  audio: ByteRange;
}

/** The size of an APEv2 tag whose footer ends at `end` (APEv2 specification: 32-byte footer, optional 32-byte header). */
async function apeTagSize(source: ByteSource, end: number): Promise<number> {
  if (end < 32) return 0;
  const footer = await source.read(end - 32, 32);
  if (latin1(footer.subarray(0, 8)) !== 'APETAGEX') return 0;
  const view = viewOf(footer);
  const size = view.getUint32(12, true) + (view.getUint32(20, true) & 0x80000000 ? 32 : 0);
  if (size < 32 || size > end) throw new LabelFormatError(FORMAT, `APEv2 tag of ${size} bytes does not fit the file`, { offset: end - 32 });
  return size;
}

async function scan(source: ByteSource): Promise<Layout> {
  const tags: TagPlace[] = [];
  let at = 0;
  for (;;) {
    const size = tagSize(await source.read(at, 10), at);
    if (size === undefined) break;
    if (tags.length === MAX_TAGS) throw new LabelFormatError(FORMAT, `more than ${MAX_TAGS} ID3v2 tags in a row`, { offset: at });
    if (at + size > source.size) throw new LabelFormatError(FORMAT, `ID3v2 tag of ${size} bytes runs past the end of the file`, { offset: at });
    if (size > MAX_TAG) throw new LabelFormatError(FORMAT, `ID3v2 tag of ${size} bytes is larger than the ${MAX_TAG}-byte limit`, { offset: at });
    tags.push({ start: at, size });
    at += size;
  }
  let end = source.size;
  if (end - at >= 128 && latin1(await source.read(end - 128, 3)) === 'TAG') end -= 128;
  end -= await apeTagSize(source, end);
  return { tags, audio: { start: at, end: Math.max(at, end) } };
}

async function loadTags(source: ByteSource, layout: Layout): Promise<Id3Tag[]> {
  const tags: Id3Tag[] = [];
  for (const place of layout.tags) tags.push(parseTag(await readExact(source, place.start, place.size, FORMAT), place.start));
  return tags;
}

/** Removes label frames from every tag and, when `value` is given, adds one to the first (creating an ID3v2.4 tag if there is none). */
function relabel(tags: Id3Tag[], value: string | undefined): Id3Tag[] {
  for (const tag of tags) tag.frames = tag.frames.filter((frame) => !isLabelFrame(frame, tag.version));
  if (value === undefined) return tags;
  const first = tags[0] ?? { version: 4, revision: 0, flags: 0, frames: [], size: 0 };
  const bytes = labelFrame(value, first.version, first.flags);
  first.frames.push({ id: first.version === 2 ? 'TXX' : 'TXXX', flags: 0, bytes, body: bytes });
  return tags.length === 0 ? [first] : tags;
}

/** A tag in its old size when it fits, or grown to hold its frames plus padding (none with a footer). */
function tagBytes(tag: Id3Tag): Uint8Array {
  const fitting = tag.size > 0 ? serializeTag(tag, tag.size) : undefined;
  if (fitting) return fitting;
  const content = 10 + (tag.extendedHeader?.length ?? 0) + tag.frames.reduce((n, f) => n + f.bytes.length, 0);
  const grown = tag.version === 4 && tag.flags & 0x10 ? serializeTag(tag, content + 10) : serializeTag(tag, content + MP3_PADDING);
  if (!grown) throw new LabelFormatError(FORMAT, 'the rebuilt ID3v2 tag does not fit its own size');
  return grown;
}

async function rewrite(source: ByteSource, value: string | undefined, sink: ByteSink): Promise<void> {
  const layout = await scan(source);
  const tags = relabel(await loadTags(source, layout), value);
  const writer = new SpliceWriter(source, sink, FORMAT);
  for (const tag of tags) await writer.bytes(tagBytes(tag));
  await writer.copy(layout.audio.start, source.size);
  await writer.finish();
}

async function read(source: ByteSource): Promise<FoundLabel[]> {
  const tags = await loadTags(source, await scan(source));
  const found: FoundLabel[] = [];
  for (const tag of tags) {
    for (const frame of tag.frames) {
      if (!isLabelFrame(frame, tag.version)) continue;
      found.push({ value: userText(frame, tag.version)?.value ?? '', location: `mp3:ID3v2.${tag.version}/${frame.id}:AIGC`, standard: true });
    }
  }
  return found;
}

async function planInPlace(source: ByteSource, value: string): Promise<BytePatch[] | undefined> {
  const layout = await scan(source);
  if (layout.tags.length === 0) return undefined;
  const tags = relabel(await loadTags(source, layout), value);
  const patches: BytePatch[] = [];
  for (const [i, tag] of tags.entries()) {
    const place = layout.tags[i];
    const bytes = place ? serializeTag(tag, place.size) : undefined;
    if (!place || !bytes) return undefined;
    patches.push(...diffPatches(place.start, await readExact(source, place.start, place.size, FORMAT), bytes));
  }
  return patches;
}

/**
 * The signed content (docs/labels.md, "MP3"): each ID3v2 tag that keeps a frame besides the
 * label as its version and those frames (length, then the frame as stored), then every byte
 * from the audio frames to the end (ID3v1 and APEv2 included). Tag sizes and padding, which
 * change when a label is written, are not content; an empty tag is none.
 */
async function signedContent(source: ByteSource, sink: ByteSink): Promise<void> {
  const layout = await scan(source);
  for (const tag of relabel(await loadTags(source, layout), undefined)) {
    if (tag.frames.length === 0) continue;
    // ID3v2.4 frames are hashed as stored, and the tag's unsynchronisation flag changes how every
    // one of them reads (FF 00 becomes FF, ID3v2.4 §6.1): it counts (docs/labels.md, MP3; issue 11).
    // Earlier versions' frames are hashed with unsynchronisation already undone.
    const unsynchronised = tag.version === 4 ? tag.flags & UNSYNCHRONISATION : 0;
    await sink.write(Uint8Array.of(0x49, 0x44, 0x33, tag.version, tag.revision, unsynchronised));
    for (const frame of tag.frames) {
      const length = new Uint8Array(4);
      viewOf(length).setUint32(0, frame.bytes.length);
      await sink.write(length);
      await sink.write(frame.bytes);
    }
  }
  await copyRange(source, layout.audio.start, source.size, sink, FORMAT);
}

const BITRATES_KBPS: Record<string, readonly number[]> = {
  '1-1': [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  '1-2': [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  '1-3': [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  '2-1': [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  '2-2': [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};
const SAMPLE_RATES: Record<number, readonly number[]> = { 3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000] };

/**
 * The length of the MPEG audio frame whose header is at `at` (ISO/IEC 11172-3 §2.4.2.3,
 * 13818-3), or undefined when the four bytes are not a valid header. ADTS (AAC) has layer
 * bits 00 and is refused.
 */
function mpegFrameLength(bytes: Uint8Array, at: number): number | undefined {
  const [b0, b1, b2] = [bytes[at] ?? 0, bytes[at + 1] ?? 0, bytes[at + 2] ?? 0];
  if (b0 !== 0xff || (b1 & 0xe0) !== 0xe0) return undefined;
  const version = (b1 >> 3) & 3;
  const layer = 4 - ((b1 >> 1) & 3);
  const bitrateIndex = b2 >> 4;
  const rate = SAMPLE_RATES[version]?.[(b2 >> 2) & 3];
  if (version === 1 || layer === 4 || bitrateIndex === 0 || bitrateIndex === 15 || !rate) return undefined;
  const table = version === 3 ? `1-${layer}` : layer === 1 ? '2-1' : '2-2';
  const bitrate = (BITRATES_KBPS[table]?.[bitrateIndex] ?? 0) * 1000;
  const padding = (b2 >> 1) & 1;
  if (layer === 1) return (Math.floor((12 * bitrate) / rate) + padding) * 4;
  const perSample = layer === 3 && version !== 3 ? 72 : 144;
  return Math.floor((perSample * bitrate) / rate) + padding;
}

/** An MPEG audio frame at `at`, confirmed by the next frame's header when it is within `head`. */
function framesAt(head: Uint8Array, at: number): boolean {
  const length = mpegFrameLength(head, at);
  if (length === undefined) return false;
  return at + length + 4 > head.length || mpegFrameLength(head, at + length) !== undefined;
}

function detect(head: Uint8Array): boolean {
  if (latin1(head.subarray(0, 3)) === 'ID3') {
    let size: number | undefined;
    try {
      size = tagSize(head, 0);
    } catch {
      return false;
    }
    if (size === undefined) return false;
    // FLAC files sometimes start with an ID3v2 tag: leave them to the FLAC codec.
    return size + 4 > head.length || latin1(head.subarray(size, size + 4)) !== 'fLaC';
  }
  return framesAt(head, 0);
}

export const mp3Codec: LabelCodec = {
  format: 'mp3',
  mediaTypes: ['audio/mpeg'],
  extensions: ['mp3', 'mp2'],
  detect,
  read,
  write: (source, value, sink) => rewrite(source, value, sink),
  remove: (source, sink) => rewrite(source, undefined, sink),
  payloadRanges: async (source) => {
    const { audio } = await scan(source);
    return audio.end > audio.start ? [audio] : [];
  },
  signedContent,
  planInPlace,
};
