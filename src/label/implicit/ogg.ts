/**
 * @module label/implicit/ogg
 * The Ogg codec for Vorbis (Vorbis I specification §4.2, §5) and Opus (RFC 7845 §5.2) streams:
 * the label is the field `AIGC` of the comment header packet. The comment packet (and, for
 * Vorbis, the setup packet that shares its pages) is re-paginated with fresh CRCs; when the
 * number of header pages changes, every later page of the stream is renumbered (RFC 3533 §6:
 * sequence numbers must run without gaps) and its CRC recomputed. Other logical streams
 * (a Theora video beside the audio) and later links of a chained file pass through unchanged.
 */
import { LabelFormatError } from '../errors.js';
import { concatBytes } from './bytes.js';
import type { ByteRange, BytePatch, ByteSink, ByteSource, FoundLabel, LabelCodec } from './codec.js';
import { CONTINUED, FIRST_PAGE, FORMAT, paginate, readPage, renumberPage } from './ogg-pages.js';
import type { OggPage } from './ogg-pages.js';
import { labelValues, parseVorbisComment, serializeVorbisComment, withLabel } from './ogg-vorbis-comment.js';
import { SourceReader, SpliceWriter, latin1, patchesFor } from './splice.js';

/** Header packets before the audio: identification, comment and (Vorbis) setup. */
const CODECS = {
  vorbis: { idMagic: '\x01vorbis', commentMagic: '\x03vorbis', headers: 3, location: 'ogg:vorbis-comment:AIGC' },
  opus: { idMagic: 'OpusHead', commentMagic: 'OpusTags', headers: 2, location: 'ogg:OpusTags:AIGC' },
} as const;

type Kind = keyof typeof CODECS;

/** Header packets larger than this (cover art in a comment is the usual reason for size) are refused. */
const MAX_HEADERS = 16 * 1024 * 1024;

const READ_WINDOW = 256 * 1024;

/** Pages read while looking for the header packets before giving up (they take a few at most). */
const MAX_HEADER_PAGES = 10_000;

/** Where the labelled stream's comment (and setup) header lives. */
interface HeaderLayout {
  kind: Kind;
  serial: number;
  /** The stream's pages after its first, up to the one that completes its last header packet. */
  headerPages: OggPage[];
  /** Other streams' pages between them, which keep their place after the new header pages. */
  otherPages: OggPage[];
  /** The comment packet, and the setup packet for Vorbis. */
  packets: Uint8Array[];
}

/** Which codec a stream's first packet announces. */
function kindOf(firstPacket: Uint8Array): Kind | undefined {
  return (Object.keys(CODECS) as Kind[]).find((kind) => latin1(firstPacket.subarray(0, 8)).startsWith(CODECS[kind].idMagic));
}

/**
 * Finds the first Vorbis or Opus stream among the first pages' streams (their first pages come
 * first, RFC 3533 §4) and collects its header packets.
 */
async function scanHeaders(reader: SourceReader): Promise<HeaderLayout | undefined> {
  let at = 0;
  let target: { kind: Kind; serial: number } | undefined;
  for (let pages = 0; ; pages++) {
    if (pages === MAX_HEADER_PAGES) throw new LabelFormatError(FORMAT, `more than ${MAX_HEADER_PAGES} streams begin the file`, { offset: at });
    const { page, bytes } = await readPage(reader, at);
    if (!(page.headerType & FIRST_PAGE)) break;
    const kind = kindOf(bytes.subarray(page.bodyStart - page.start));
    if (kind && !target) {
      if (page.lacing.length !== 1 || (page.lacing[0] ?? 255) === 255) {
        throw new LabelFormatError(FORMAT, `the ${kind} identification header must fill the stream's first page alone`, { offset: page.start });
      }
      target = { kind, serial: page.serial };
    }
    at = page.end;
    if (at >= reader.size) break;
  }
  if (!target) return undefined;
  const layout: HeaderLayout = { ...target, headerPages: [], otherPages: [], packets: [] };
  let needed = CODECS[target.kind].headers - 1;
  let partial: Uint8Array[] = [];
  let size = 0;
  for (let pages = 0; needed > 0; pages++) {
    if (at >= reader.size) throw new LabelFormatError(FORMAT, `the file ends inside the ${target.kind} header packets`, { offset: at });
    if (pages === MAX_HEADER_PAGES) throw new LabelFormatError(FORMAT, `no end to the ${target.kind} header packets after ${MAX_HEADER_PAGES} pages`, { offset: at });
    const { page, bytes } = await readPage(reader, at);
    at = page.end;
    if (page.serial !== target.serial) {
      // Other streams' pages before the first comment page stay in the copied prefix.
      if (layout.headerPages.length > 0) layout.otherPages.push(page);
      continue;
    }
    if (Boolean(page.headerType & CONTINUED) !== partial.length > 0) {
      throw new LabelFormatError(FORMAT, `page ${page.sequence}'s continuation flag does not match its packets`, { offset: page.start });
    }
    layout.headerPages.push(page);
    let offset = page.bodyStart - page.start;
    for (const [i, value] of page.lacing.entries()) {
      if (needed === 0) {
        throw new LabelFormatError(FORMAT, `audio shares a page with the last header packet (segment ${i} of page ${page.sequence})`, { offset: page.start });
      }
      partial.push(bytes.subarray(offset, offset + value));
      offset += value;
      size += value;
      if (size > MAX_HEADERS) throw new LabelFormatError(FORMAT, `header packets exceed ${MAX_HEADERS} bytes`, { offset: page.start });
      if (value < 255) {
        layout.packets.push(concatBytes(partial));
        partial = [];
        needed--;
      }
    }
  }
  return layout;
}

async function requireHeaders(reader: SourceReader): Promise<HeaderLayout> {
  const layout = await scanHeaders(reader);
  if (!layout) throw new LabelFormatError(FORMAT, `no Vorbis or Opus stream: only their comment headers can carry a label`, { offset: 0 });
  return layout;
}

/** The comment packet with its label replaced (or removed when `value` is undefined). */
function relabelComment(layout: HeaderLayout, value: string | undefined): Uint8Array {
  const magic = CODECS[layout.kind].commentMagic;
  const packet = layout.packets[0] ?? new Uint8Array(0);
  const offset = layout.headerPages[0]?.bodyStart ?? 0;
  if (latin1(packet.subarray(0, magic.length)) !== magic) {
    throw new LabelFormatError(FORMAT, `the second ${layout.kind} header is not a comment header`, { offset });
  }
  const comment = parseVorbisComment(packet.subarray(magic.length), offset + magic.length, FORMAT);
  return concatBytes([packet.subarray(0, magic.length), serializeVorbisComment(withLabel(comment, value))]);
}

function newHeaderPages(layout: HeaderLayout, value: string | undefined): Uint8Array[] {
  const first = layout.headerPages[0];
  return paginate([relabelComment(layout, value), ...layout.packets.slice(1)], layout.serial, first?.sequence ?? 0);
}

async function rewrite(source: ByteSource, value: string | undefined, sink: ByteSink): Promise<void> {
  const reader = new SourceReader(source, FORMAT, READ_WINDOW);
  const layout = await requireHeaders(reader);
  const pages = newHeaderPages(layout, value);
  const first = layout.headerPages[0];
  const last = layout.headerPages.at(-1);
  if (!first || !last) throw new LabelFormatError(FORMAT, `the stream has no comment header page`, { offset: 0 });
  const writer = new SpliceWriter(source, sink, FORMAT);
  await writer.copy(0, first.start);
  for (const page of pages) await writer.bytes(page);
  for (const page of layout.otherPages) await writer.copy(page.start, page.end);
  const shift = pages.length - layout.headerPages.length;
  if (shift === 0) {
    await writer.copy(last.end, source.size);
  } else {
    for (let at = last.end; at < source.size; ) {
      const { page, bytes } = await readPage(reader, at);
      if (page.serial === layout.serial) await writer.bytes(renumberPage(bytes, (page.sequence + shift) >>> 0));
      else await writer.copy(page.start, page.end);
      at = page.end;
    }
  }
  await writer.finish();
}

async function read(source: ByteSource): Promise<FoundLabel[]> {
  const layout = await scanHeaders(new SourceReader(source, FORMAT, READ_WINDOW));
  if (!layout) return [];
  const magic = CODECS[layout.kind].commentMagic;
  const packet = layout.packets[0] ?? new Uint8Array(0);
  if (latin1(packet.subarray(0, magic.length)) !== magic) return [];
  const comment = parseVorbisComment(packet.subarray(magic.length), (layout.headerPages[0]?.bodyStart ?? 0) + magic.length, FORMAT);
  return labelValues(comment).map((value) => ({ value, location: CODECS[layout.kind].location, standard: true }));
}

/** In place only when the new header pages have exactly the old ones' sizes and no other stream's page sits between them. */
async function planInPlace(source: ByteSource, value: string): Promise<BytePatch[] | undefined> {
  const layout = await requireHeaders(new SourceReader(source, FORMAT, READ_WINDOW));
  const pages = newHeaderPages(layout, value);
  const sameShape = pages.length === layout.headerPages.length && pages.every((page, i) => page.length === (layout.headerPages[i]?.end ?? 0) - (layout.headerPages[i]?.start ?? 0));
  if (!sameShape || layout.otherPages.length > 0) return undefined;
  return patchesFor(source, layout.headerPages[0]?.start ?? 0, pages, FORMAT);
}

/** The bodies of every page except the labelled stream's comment and setup pages: its audio, and any other stream. */
async function payloadRanges(source: ByteSource): Promise<ByteRange[]> {
  const reader = new SourceReader(source, FORMAT, READ_WINDOW);
  const layout = await scanHeaders(reader);
  const skipped = new Set(layout?.headerPages.map((page) => page.start));
  const ranges: ByteRange[] = [];
  for (let at = 0; at < source.size; ) {
    const { page } = await readPage(reader, at);
    if (!skipped.has(page.start) && page.end > page.bodyStart) ranges.push({ start: page.bodyStart, end: page.end });
    at = page.end;
  }
  return ranges;
}

export const oggCodec: LabelCodec = {
  format: 'ogg',
  mediaTypes: ['audio/ogg', 'audio/opus', 'video/ogg', 'application/ogg'],
  extensions: ['ogg', 'oga', 'opus', 'ogv', 'spx'],
  detect: (head) => latin1(head.subarray(0, 4)) === 'OggS',
  read,
  write: (source, value, sink) => rewrite(source, value, sink),
  remove: (source, sink) => rewrite(source, undefined, sink),
  /** Signed content (docs/labels.md): the file as `remove` leaves it, which relabelling never changes. */
  signedContent: (source, sink) => oggCodec.remove(source, sink),
  payloadRanges,
  planInPlace,
};
