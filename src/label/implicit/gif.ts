/**
 * @module label/implicit/gif
 * GIF87a/GIF89a, animated or not. The label goes in the XMP application extension (XMP Part 3
 * §1.1.2): identifier `XMP Data` + authentication `XMP`, the packet's UTF-8 bytes written raw,
 * then a 258-byte "magic trailer" that lets a plain GIF decoder skip the packet as sub-blocks.
 * The new extension goes after the leading application extensions (e.g. NETSCAPE2.0 looping),
 * before the first image; frames are copied untouched.
 */
import { LabelFormatError } from '../errors.js';
import type { BytePatch, ByteRange, ByteSource, FoundLabel, LabelCodec } from './codec.js';
import { applyEdits, ascii, concatBytes, fromUtf8, mergeRanges, readExact, startsWith, utf8, writePieces, type Edit } from './bytes.js';
import { canonicalXmpPacket, nextXmpPacket, readXmpLabels, setXmpLabel, type PacketRule } from './xmp.js';

const XMP_APP_ID = 'XMP DataXMP';
const EXTENSION = 0x21;
const IMAGE = 0x2c;
const TRAILER = 0x3b;
const APPLICATION = 0xff;
const COMMENT = 0xfe;
const MAX_BLOCKS = 1 << 22;
/** Extension introducer, label, block size 11, identifier and authentication code. */
const XMP_HEADER_BYTES = 14;
export const GIF_XMP_LOCATION = 'xmp:GIF-application-extension';

/** 0x01, 0xFF down to 0x00, then the block terminator (XMP Part 3 §1.1.2). */
const MAGIC_TRAILER = new Uint8Array(258).map((_, i) => (i === 0 ? 1 : i === 257 ? 0 : 256 - i));

interface Block {
  kind: 'extension' | 'image';
  label: number;
  start: number;
  end: number;
  /** For application extensions: the 11-byte identifier and authentication code. */
  appId: string;
}

interface Layout {
  /** End of the header, logical screen descriptor and global colour table. */
  screenEnd: number;
  blocks: Block[];
  trailer: number;
}

async function skipSubBlocks(source: ByteSource, at: number): Promise<number> {
  for (;;) {
    const size = (await readExact(source, at, 1, 'gif'))[0] ?? 0;
    at += 1 + size;
    if (size === 0) return at;
    if (at > source.size) throw new LabelFormatError('gif', 'a data sub-block runs past the end of the file', { offset: at });
  }
}

async function layoutOf(source: ByteSource): Promise<Layout> {
  const head = await readExact(source, 0, 13, 'gif');
  if (!startsWith(head, 'GIF87a') && !startsWith(head, 'GIF89a')) throw new LabelFormatError('gif', 'missing GIF signature', { offset: 0 });
  const packed = head[10] ?? 0;
  const screenEnd = 13 + (packed & 0x80 ? 3 << ((packed & 7) + 1) : 0);
  const blocks: Block[] = [];
  for (let at = screenEnd; ; ) {
    if (blocks.length >= MAX_BLOCKS) throw new LabelFormatError('gif', 'too many blocks', { offset: at });
    const introducer = (await readExact(source, at, 1, 'gif'))[0];
    if (introducer === TRAILER) return { screenEnd, blocks, trailer: at };
    if (introducer === EXTENSION) {
      const label = (await readExact(source, at + 1, 1, 'gif'))[0] ?? 0;
      let appId = '';
      if (label === APPLICATION) {
        const idBlock = await readExact(source, at + 2, 12, 'gif');
        if (idBlock[0] === 11) appId = ascii(idBlock, 1, 12);
      }
      const end = await skipSubBlocks(source, at + 2);
      blocks.push({ kind: 'extension', label, start: at, end, appId });
      at = end;
    } else if (introducer === IMAGE) {
      const descriptor = await readExact(source, at, 10, 'gif');
      const flags = descriptor[9] ?? 0;
      const tableEnd = at + 10 + (flags & 0x80 ? 3 << ((flags & 7) + 1) : 0);
      // LZW minimum code size byte, then the image data sub-blocks (GIF89a §22).
      const end = await skipSubBlocks(source, tableEnd + 1);
      blocks.push({ kind: 'image', label: IMAGE, start: at, end, appId: '' });
      at = end;
    } else {
      throw new LabelFormatError('gif', `unknown block introducer 0x${(introducer ?? 0).toString(16)}`, { offset: at });
    }
  }
}

const isXmp = (b: Block): boolean => b.kind === 'extension' && b.label === APPLICATION && b.appId === XMP_APP_ID;

async function xmpText(source: ByteSource, block: Block): Promise<string> {
  const dataStart = block.start + XMP_HEADER_BYTES;
  const dataEnd = block.end - MAGIC_TRAILER.length;
  if (dataEnd < dataStart) throw new LabelFormatError('gif', 'XMP extension shorter than its magic trailer', { offset: block.start });
  const bytes = await readExact(source, dataStart, dataEnd - dataStart, 'gif');
  return fromUtf8(bytes);
}

function xmpExtension(packet: string): Uint8Array {
  const body = utf8(packet);
  if (body.includes(0)) throw new LabelFormatError('gif', 'an XMP packet in GIF cannot contain NUL bytes');
  return concatBytes([new Uint8Array([EXTENSION, APPLICATION, 11]), utf8(XMP_APP_ID), body, MAGIC_TRAILER]);
}

/** After the application extensions that directly follow the screen descriptor (e.g. looping). */
function insertionPoint(layout: Layout): number {
  let at = layout.screenEnd;
  for (const block of layout.blocks) {
    if (block.kind === 'extension' && block.label === APPLICATION && !isXmp(block)) at = block.end;
    else break;
  }
  return at;
}

async function rewrite(source: ByteSource, value: string | null, rule: PacketRule = nextXmpPacket): Promise<Edit[]> {
  const layout = await layoutOf(source);
  const [target, ...others] = layout.blocks.filter(isXmp);
  const edits: Edit[] = [];
  for (const block of others) {
    const text = await xmpText(source, block);
    if (readXmpLabels(text).length === 0) continue;
    const next = rule(text, null);
    edits.push({ start: block.start, end: block.end, bytes: next === null ? new Uint8Array(0) : xmpExtension(next) });
  }
  const next = rule(target ? await xmpText(source, target) : undefined, value);
  if (target) edits.push({ start: target.start, end: target.end, bytes: next === null ? new Uint8Array(0) : xmpExtension(next) });
  else if (next !== null) {
    const at = insertionPoint(layout);
    edits.push({ start: at, end: at, bytes: xmpExtension(next) });
  }
  return edits;
}

export const gifCodec: LabelCodec = {
  format: 'gif',
  mediaTypes: ['image/gif'],
  extensions: ['gif'],

  detect: (head) => startsWith(head, 'GIF87a') || startsWith(head, 'GIF89a'),

  async read(source) {
    const layout = await layoutOf(source);
    const found: FoundLabel[] = [];
    for (const block of layout.blocks.filter(isXmp)) {
      for (const value of readXmpLabels(await xmpText(source, block))) found.push({ value, location: GIF_XMP_LOCATION, standard: true });
    }
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
    const layout = await layoutOf(source);
    // Everything but XMP and comment extensions: the screen, colour tables, frames, their
    // graphic control and looping extensions all shape what is displayed.
    const ranges: ByteRange[] = [{ start: 0, end: layout.screenEnd }, { start: layout.trailer, end: layout.trailer + 1 }];
    for (const block of layout.blocks) if (!isXmp(block) && block.label !== COMMENT) ranges.push({ start: block.start, end: block.end });
    return mergeRanges(ranges);
  },

  async planInPlace(source, value) {
    const layout = await layoutOf(source);
    const [target, ...others] = layout.blocks.filter(isXmp);
    if (!target) return undefined;
    const room = target.end - MAGIC_TRAILER.length - target.start - XMP_HEADER_BYTES;
    const merged = setXmpLabel(await xmpText(source, target), value, { targetBytes: room });
    if (merged === undefined) return undefined;
    const patches: BytePatch[] = [{ offset: target.start + XMP_HEADER_BYTES, bytes: utf8(merged) }];
    for (const block of others) {
      const text = await xmpText(source, block);
      if (readXmpLabels(text).length === 0) continue;
      const emptied = setXmpLabel(text, null, { targetBytes: block.end - MAGIC_TRAILER.length - block.start - XMP_HEADER_BYTES });
      if (emptied === undefined) return undefined;
      patches.push({ offset: block.start + XMP_HEADER_BYTES, bytes: utf8(emptied) });
    }
    return patches;
  },
};
