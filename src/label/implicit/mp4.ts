/**
 * @module label/implicit/mp4
 * The MP4 / MOV / M4A codec (ISO/IEC 14496-12 and 14496-14, QuickTime File Format). The label
 * lives in `moov/udta/meta` as an `mdta` key `AIGC` with its value in `ilst` (see mp4-meta).
 *
 * Only `moov` (and, when offsets move, each `moof` and the `mfra`) is read into memory; `mdat`
 * streams through. The `moov` and any `free`/`skip` boxes right after it form a region the new
 * `moov` may fill without moving anything else; when it does not fit and media data follows,
 * every absolute offset after the region (`stco`/`co64`, `saio`, `tfhd` base offsets, `tfra`)
 * is shifted by the growth, and a `free` box of spare room is left after `moov` so the next
 * label change can be made in place.
 */
import { LabelFormatError } from '../errors.js';
import { concatBytes, copyRange, fromUtf8, readExact, utf8, viewOf } from './bytes.js';
import { nextXmpPacket, readXmpLabels, setXmpLabel } from './xmp.js';
import type { ByteRange, BytePatch, ByteSink, ByteSource, FoundLabel, LabelCodec } from './codec.js';
import { FORMAT, MAX_METADATA_BOX, boxParts, freeHeader, parseBoxes, serializeBox, topLevelBoxes } from './mp4-boxes.js';
import type { ContainerRule, TopBox } from './mp4-boxes.js';
import { parseMoov, readMoovLabels, setMoovLabel } from './mp4-meta.js';
import { shiftMfraOffsets, shiftMoofOffsets, shiftMoovOffsets, shiftSidx, updateMfro } from './mp4-offsets.js';
import type { Shift } from './mp4-offsets.js';
import { SpliceWriter, diffPatches, latin1, latin1Bytes } from './splice.js';

/** Spare room left after a `moov` that had to grow, so later label changes fit in place. */
export const MP4_PADDING = 1024;

/** Major brands of still-image files (HEIF, AVIF): ISO boxes too, but the image codecs' business. */
const IMAGE_BRANDS = new Set(['mif1', 'msf1', 'mif2', 'heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'avif', 'avis', 'avci']);

/** Box types a QuickTime movie without `ftyp` starts with. */
const MOVIE_FIRST_BOXES = new Set(['moov', 'mdat', 'wide', 'free', 'skip', 'pnot']);

function detect(head: Uint8Array): boolean {
  if (head.length < 12) return false;
  const size = new DataView(head.buffer, head.byteOffset, head.byteLength).getUint32(0);
  const type = latin1(head.subarray(4, 8));
  if (type === 'ftyp') return size >= 16 && !IMAGE_BRANDS.has(latin1(head.subarray(8, 12)));
  return (size >= 8 || size === 1) && MOVIE_FIRST_BOXES.has(type);
}

/** Where `moov` is, how far the padding after it reaches, and the top-level XMP `uuid` boxes. */
interface Layout {
  moov: TopBox;
  regionEnd: number;
  xmp: TopBox[];
}

async function scanLayout(source: ByteSource): Promise<Layout> {
  let moov: TopBox | undefined;
  let regionEnd = -1;
  const xmp: TopBox[] = [];
  for await (const box of topLevelBoxes(source)) {
    if (box.type === 'uuid' && Buffer.from(await readExact(source, box.dataStart - 16, 16, FORMAT)).toString('hex') === XMP_UUID) xmp.push(box);
    if (box.type === 'moov') {
      if (moov) throw new LabelFormatError(FORMAT, `a second 'moov' box (the first is at byte ${moov.start})`, { offset: box.start });
      moov = box;
      regionEnd = box.end;
    } else if (moov && regionEnd === box.start && (box.type === 'free' || box.type === 'skip')) {
      regionEnd = box.end;
    }
  }
  if (!moov) throw new LabelFormatError(FORMAT, `no 'moov' box: the movie header is missing (an unfinished recording?)`);
  return { moov, regionEnd, xmp };
}

async function loadBox(source: ByteSource, box: TopBox): Promise<Uint8Array> {
  const size = box.end - box.start;
  if (size > MAX_METADATA_BOX) {
    throw new LabelFormatError(FORMAT, `'${box.type}' of ${size} bytes is larger than the ${MAX_METADATA_BOX}-byte limit for metadata`, {
      offset: box.start,
    });
  }
  return readExact(source, box.start, size, FORMAT);
}

/** The new `moov`: labelled (or cleared when `value` is undefined) and with offsets shifted. */
function buildMoov(bytes: Uint8Array, offset: number, value: string | undefined, shift: Shift): Uint8Array {
  const moov = parseMoov(bytes, offset);
  setMoovLabel(moov, value);
  shiftMoovOffsets(moov, shift);
  return serializeBox(moov);
}

/** Whether `size` bytes fill `room` exactly or leave room for a `free` box (8 bytes at least). */
function fits(size: number, room: number): boolean {
  return size === room || size + 8 <= room;
}

interface MoovPlan {
  moov: Uint8Array;
  padding: number;
  shift: Shift;
}

/**
 * Fits the new `moov` into the region, or grows the region by `MP4_PADDING` spare bytes more
 * than it needs. Growing may push a 32-bit chunk offset past 4 GiB and turn an `stco` into a
 * larger `co64`, which grows `moov` again; repeat until the size settles (each round only
 * widens tables, so it ends).
 */
function planMoov(bytes: Uint8Array, layout: Layout, value: string | undefined): MoovPlan {
  const room = layout.regionEnd - layout.moov.start;
  const shift: Shift = { from: layout.regionEnd, delta: 0 };
  let moov = buildMoov(bytes, layout.moov.start, value, shift);
  if (fits(moov.length, room)) return { moov, padding: room - moov.length, shift };
  for (let round = 0; round < 16; round++) {
    const delta = moov.length + MP4_PADDING - room;
    if (delta === shift.delta) return { moov, padding: MP4_PADDING, shift };
    shift.delta = delta;
    moov = buildMoov(bytes, layout.moov.start, value, shift);
  }
  throw new LabelFormatError(FORMAT, `the chunk offset tables did not settle after widening`, { offset: layout.moov.start });
}

const moofRule: ContainerRule = (type, path) => ((type === 'moof' && path.length === 0) || (type === 'traf' && path.at(-1) === 'moof') ? 0 : undefined);
const mfraRule: ContainerRule = (type, path) => (type === 'mfra' && path.length === 0 ? 0 : undefined);

/** The bytes to write for a top-level box after the region when offsets move, or undefined to copy it. */
async function shiftedTopBox(source: ByteSource, box: TopBox, layout: Layout, shift: Shift): Promise<Uint8Array | undefined> {
  if (box.type === 'moof' && box.start >= layout.regionEnd) {
    const [moof] = parseBoxes(await loadBox(source, box), box.start, moofRule).boxes;
    return moof && shiftMoofOffsets(moof, shift) ? serializeBox(moof) : undefined;
  }
  if (box.type === 'mfra') {
    const [mfra] = parseBoxes(await loadBox(source, box), box.start, mfraRule).boxes;
    if (!mfra || !shiftMfraOffsets(mfra, shift)) return undefined;
    updateMfro(mfra, serializeBox(mfra).length);
    return serializeBox(mfra);
  }
  if (box.type === 'sidx' && box.end <= layout.moov.start) {
    const bytes = await loadBox(source, box);
    const data = shiftSidx(bytes.subarray(box.dataStart - box.start), box.end, box.start, shift);
    return data ? concatBytes([bytes.subarray(0, box.dataStart - box.start), data]) : undefined;
  }
  return undefined;
}

/**
 * Writes the new `moov` and its padding. In a region that kept its size, the padding covers the
 * tail of the old `moov` (zeroed, so an old label does not linger) and the old `free` contents.
 */
async function writeRegion(writer: SpliceWriter, layout: Layout, plan: MoovPlan): Promise<void> {
  await writer.bytes(plan.moov);
  if (plan.padding === 0) return;
  const header = freeHeader(plan.padding);
  await writer.bytes(header);
  if (plan.shift.delta !== 0) {
    await writeZeros(writer, plan.padding - header.length);
    return;
  }
  const paddingStart = layout.moov.start + plan.moov.length + header.length;
  await writeZeros(writer, layout.moov.end - paddingStart);
  await writer.copy(Math.max(layout.moov.end, paddingStart), layout.regionEnd);
}

async function writeZeros(writer: SpliceWriter, count: number): Promise<void> {
  const zeros = new Uint8Array(Math.min(Math.max(count, 0), 1 << 20));
  for (let left = count; left > 0; left -= zeros.length) await writer.bytes(left >= zeros.length ? zeros : zeros.subarray(0, left));
}

async function rewrite(source: ByteSource, value: string | undefined, sink: ByteSink): Promise<void> {
  const layout = await scanLayout(source);
  const plan = planMoov(await loadBox(source, layout.moov), layout, value);
  const writer = new SpliceWriter(source, sink, FORMAT);
  const xmp = new Map((await xmpBoxes(source, layout)).map((entry) => [entry.box.start, entry]));
  for await (const box of topLevelBoxes(source)) {
    if (box.start === layout.moov.start) {
      await writeRegion(writer, layout, plan);
      continue;
    }
    if (box.start > layout.moov.start && box.end <= layout.regionEnd) continue;
    const entry = xmp.get(box.start);
    const cleared = entry && xmpBoxWithoutLabel(entry);
    if (cleared) {
      await writer.bytes(cleared);
      continue;
    }
    const replaced = plan.shift.delta === 0 ? undefined : await shiftedTopBox(source, box, layout, plan.shift);
    if (replaced) await writer.bytes(replaced);
    else await writer.copy(box.start, box.end);
  }
  await writer.finish();
}

async function read(source: ByteSource): Promise<FoundLabel[]> {
  const layout = await scanLayout(source);
  const labels = readMoovLabels(parseMoov(await loadBox(source, layout.moov), layout.moov.start));
  for (const { text } of await xmpBoxes(source, layout)) for (const value of readXmpLabels(text)) labels.push({ value, location: MP4_XMP_LOCATION, standard: false });
  return labels.sort((a, b) => Number(b.standard) - Number(a.standard));
}

/** Where exiftool and Adobe tools write an MP4's XMP: a top-level `uuid` box (XMP Part 3 §1.1.4). */
export const MP4_XMP_LOCATION = 'xmp:mp4-uuid';

/** Top-level XMP `uuid` boxes and their packets. */
async function xmpBoxes(source: ByteSource, layout: Layout): Promise<XmpBox[]> {
  const found: XmpBox[] = [];
  for (const box of layout.xmp) {
    const bytes = await loadBox(source, box);
    found.push({ box, header: bytes.subarray(0, box.dataStart - box.start), text: fromUtf8(bytes.subarray(box.dataStart - box.start)) });
  }
  return found;
}

interface XmpBox {
  box: TopBox;
  /** The box header as stored, uuid included. */
  header: Uint8Array;
  text: string;
}

/**
 * A labelled XMP `uuid` box rewritten without the label at the same size, so nothing after it
 * moves (exiftool puts it before `mdat`); a packet left with nothing becomes a `free` box.
 */
function xmpBoxWithoutLabel({ box, header, text }: XmpBox): Uint8Array | undefined {
  if (readXmpLabels(text).length === 0) return undefined;
  const size = box.end - box.start;
  const packet = nextXmpPacket(text, null) === null ? undefined : setXmpLabel(text, null, { targetBytes: box.end - box.dataStart });
  if (packet === undefined) return concatBytes([freeHeader(size), new Uint8Array(size - freeHeader(size).length)]);
  return concatBytes([header, utf8(packet)]);
}

async function payloadRanges(source: ByteSource): Promise<ByteRange[]> {
  const ranges: ByteRange[] = [];
  for await (const box of topLevelBoxes(source)) {
    if (box.type === 'mdat' && box.end > box.dataStart) ranges.push({ start: box.dataStart, end: box.end });
  }
  return ranges;
}

/** The `uuid` box type exiftool and Adobe write XMP in (XMP Part 3 §1.1.4). */
export const XMP_UUID = 'be7acfcb97a942e89c71999491e3afac';

/** A canonical box record of the signed content: type, 64-bit length, then the contents. */
function boxRecord(type: string, length: number): Uint8Array {
  const record = new Uint8Array(12);
  record.set(latin1Bytes(type), 0);
  viewOf(record).setBigUint64(4, BigInt(length));
  return record;
}

/**
 * The signed content (docs/labels.md): every top-level box but \`free\`, \`skip\` and the XMP
 * \`uuid\` box, each as type, length and contents, with \`moov\` stripped of its label and every
 * absolute offset past the \`moov\` region taken as if the region were \`moov\` alone. Labelling
 * only rewrites that region, so the content stays the same; a changed track matrix, sample
 * description or edit list changes it.
 */
async function signedContent(source: ByteSource, sink: ByteSink): Promise<void> {
  const layout = await scanLayout(source);
  const moovBytes = await loadBox(source, layout.moov);
  const bare = parseMoov(moovBytes, layout.moov.start);
  setMoovLabel(bare, undefined);
  const moovEnd = layout.moov.start + serializeBox(bare).length;
  const shift: Shift = { from: layout.regionEnd, delta: moovEnd - layout.regionEnd };
  const moov = buildMoov(moovBytes, layout.moov.start, undefined, shift);
  const xmpStarts = new Set(layout.xmp.map((box) => box.start));
  for await (const box of topLevelBoxes(source)) {
    if (box.type === 'free' || box.type === 'skip') continue;
    if (xmpStarts.has(box.start)) continue;
    if (box.start === layout.moov.start) {
      const header = viewOf(moov).getUint32(0) === 1 ? 16 : 8;
      await sink.write(boxRecord('moov', moov.length - header));
      await sink.write(moov.subarray(header));
      continue;
    }
    const replaced = shift.delta === 0 ? undefined : await shiftedTopBox(source, box, layout, shift);
    if (replaced) {
      await sink.write(boxRecord(box.type, replaced.length - (box.dataStart - box.start)));
      await sink.write(replaced.subarray(box.dataStart - box.start));
    } else {
      await sink.write(boxRecord(box.type, box.end - box.dataStart));
      await copyRange(source, box.dataStart, box.end, sink, FORMAT);
    }
  }
}

/**
 * Patches that relabel the file without changing its size: possible when the new `moov` fits
 * the region of `moov` plus the `free` boxes after it. Pieces of the new `moov` that are the
 * old bytes at their old place (the sample tables, usually all but `udta`) are skipped without
 * comparing, so the cost does not grow with the movie's length; the rest is diffed, and the
 * part of the old `moov` that becomes padding is zeroed so no trace of an old label remains.
 */
async function planInPlace(source: ByteSource, value: string): Promise<BytePatch[] | undefined> {
  const layout = await scanLayout(source);
  if ((await xmpBoxes(source, layout)).some(({ text }) => readXmpLabels(text).length > 0)) return undefined;
  const old = await loadBox(source, layout.moov);
  const moov = parseMoov(old, layout.moov.start);
  setMoovLabel(moov, value);
  const parts = boxParts(moov);
  const size = parts.reduce((n, part) => n + part.length, 0);
  const room = layout.regionEnd - layout.moov.start;
  if (!fits(size, room)) return undefined;
  if (size < room) {
    const header = freeHeader(room - size);
    parts.push(header, new Uint8Array(Math.max(0, old.length - size - header.length)));
  }
  const span = parts.reduce((n, part) => n + part.length, 0);
  const before = span <= old.length ? old : concatBytes([old, await readExact(source, layout.moov.end, span - old.length, FORMAT)]);
  const patches: BytePatch[] = [];
  let at = 0;
  for (const part of parts) {
    const unmoved = part.buffer === old.buffer && part.byteOffset - old.byteOffset === at;
    if (!unmoved) patches.push(...diffPatches(layout.moov.start + at, before.subarray(at, at + part.length), part));
    at += part.length;
  }
  return patches;
}

export const mp4Codec: LabelCodec = {
  format: 'mp4',
  mediaTypes: ['video/mp4', 'audio/mp4', 'video/quicktime', 'audio/x-m4a', 'video/3gpp'],
  extensions: ['mp4', 'm4v', 'm4a', 'm4b', 'mov', '3gp'],
  detect,
  read,
  write: (source, value, sink) => rewrite(source, value, sink),
  remove: (source, sink) => rewrite(source, undefined, sink),
  payloadRanges,
  signedContent,
  planInPlace,
};
