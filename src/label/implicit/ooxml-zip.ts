/**
 * @module label/implicit/ooxml-zip
 * The ZIP container of an OOXML package (ECMA-376 Part 2 §8, which profiles PKWARE's
 * APPNOTE.TXT): reading the central directory (with ZIP64, APPNOTE §4.3.14-4.3.16 and
 * §4.5.3), reading the few small parts hegui edits, and rewriting an archive in which every
 * other entry is copied as raw bytes, local header, compressed data and data descriptor
 * alike, so nothing is recompressed and the copy runs at disk speed.
 *
 * Every offset and size is checked against the file and against the other entries before it
 * is used, so an archive with overlapping or out-of-range entries is refused, not followed.
 */
import { crc32, deflateRawSync, inflateRawSync } from 'node:zlib';
import { LabelFormatError } from '../errors.js';
import type { ByteSink, ByteSource } from './codec.js';
import { concatBytes, copyRange, readExact, viewOf } from './bytes.js';

const LOCAL_SIG = 0x04034b50;
const CENTRAL_SIG = 0x02014b50;
const EOCD_SIG = 0x06054b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EXTRA = 0x0001;
const LOCAL_SIZE = 30;
const CENTRAL_SIZE = 46;
const EOCD_SIZE = 22;
const LOCATOR_SIZE = 20;
const ZIP64_EOCD_SIZE = 56;
const MAX16 = 0xffff;
const MAX32 = 0xffffffff;
/** Metadata parts are small; a larger one is refused rather than inflated into memory. */
export const MAX_PART_BYTES = 16 * 1024 * 1024;

export interface ZipEntry {
  name: string;
  versionMadeBy: number;
  versionNeeded: number;
  flags: number;
  method: number;
  time: number;
  date: number;
  crc: number;
  compressedSize: number;
  uncompressedSize: number;
  diskStart: number;
  internalAttributes: number;
  externalAttributes: number;
  /** The central directory extra field without its ZIP64 block (rebuilt on write). */
  extra: Uint8Array;
  comment: Uint8Array;
  nameBytes: Uint8Array;
  /** True when the original record stored its sizes in a ZIP64 block; kept on rewrite. */
  zip64Sizes: boolean;
  localOffset: number;
  /** Where the entry's compressed data begins. */
  dataStart: number;
  /** End of the entry's record: the next record's start (data descriptor and any gap included). */
  recordEnd: number;
}

export interface ZipArchive {
  /** In central directory order. */
  entries: ZipEntry[];
  /** Bytes before the first local header (a self-extractor stub), copied as they are. */
  prefixEnd: number;
  centralStart: number;
  comment: Uint8Array;
}

function fail(detail: string, offset?: number): never {
  throw new LabelFormatError('ooxml', detail, offset === undefined ? undefined : { offset });
}

const utf8 = new TextDecoder('utf-8');

/** Reads the central directory and checks every entry's local header and extent. */
export async function readZip(source: ByteSource): Promise<ZipArchive> {
  const end = await readEnd(source);
  if (end.centralStart + end.centralSize > end.recordStart) fail('the central directory overlaps the end record', end.centralStart);
  if (end.count * CENTRAL_SIZE > end.centralSize) fail(`the end record declares ${end.count} entries, more than the central directory holds`, end.centralStart);
  const central = await readExact(source, end.centralStart, end.centralSize, 'ooxml');
  const entries: ZipEntry[] = [];
  let at = 0;
  for (let i = 0; i < end.count; i++) {
    const entry = parseCentral(central, at, end.centralStart);
    entries.push(entry.entry);
    at = entry.next;
  }
  await placeRecords(source, entries, end.centralStart);
  const prefixEnd = entries.reduce((min, e) => Math.min(min, e.localOffset), end.centralStart);
  return { entries, prefixEnd, centralStart: end.centralStart, comment: end.comment };
}

interface EndRecord {
  count: number;
  centralStart: number;
  centralSize: number;
  /** Where the end records (ZIP64 or classic) begin: the central directory must end before. */
  recordStart: number;
  comment: Uint8Array;
}

async function readEnd(source: ByteSource): Promise<EndRecord> {
  const from = Math.max(0, source.size - EOCD_SIZE - MAX16);
  const tail = await source.read(from, source.size - from);
  const view = viewOf(tail);
  let pos = -1;
  for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
    if (view.getUint32(i, true) === EOCD_SIG && i + EOCD_SIZE + view.getUint16(i + 20, true) <= tail.length) {
      pos = i;
      break;
    }
  }
  if (pos < 0) fail('no end of central directory record: not a ZIP archive, or truncated');
  const eocd = from + pos;
  if (view.getUint16(pos + 4, true) !== 0 || view.getUint16(pos + 6, true) !== 0) fail('split (multi-disk) archives are not supported', eocd);
  const comment = tail.slice(pos + EOCD_SIZE, pos + EOCD_SIZE + view.getUint16(pos + 20, true));
  const record: EndRecord = {
    count: view.getUint16(pos + 10, true),
    centralSize: view.getUint32(pos + 12, true),
    centralStart: view.getUint32(pos + 16, true),
    recordStart: eocd,
    comment,
  };
  const locator = eocd - LOCATOR_SIZE;
  const hasLocator = locator >= 0 && (await readExact(source, locator, 4, 'ooxml')).every((b, i) => b === [0x50, 0x4b, 0x06, 0x07][i]);
  if (!hasLocator) {
    if (record.count === MAX16 || record.centralSize === MAX32 || record.centralStart === MAX32) fail('ZIP64 values without a ZIP64 end record locator', eocd);
    return record;
  }
  const loc = viewOf(await readExact(source, locator, LOCATOR_SIZE, 'ooxml'));
  const zip64At = Number(loc.getBigUint64(8, true));
  if (zip64At + ZIP64_EOCD_SIZE > locator) fail('the ZIP64 end record locator points outside the archive', locator);
  const z = viewOf(await readExact(source, zip64At, ZIP64_EOCD_SIZE, 'ooxml'));
  if (z.getUint32(0, true) !== ZIP64_EOCD_SIG) fail('no ZIP64 end of central directory record where the locator points', zip64At);
  return {
    count: safe(z.getBigUint64(32, true), 'entry count', zip64At),
    centralSize: safe(z.getBigUint64(40, true), 'central directory size', zip64At),
    centralStart: safe(z.getBigUint64(48, true), 'central directory offset', zip64At),
    recordStart: zip64At,
    comment,
  };
}

function safe(value: bigint, what: string, offset: number): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) fail(`ZIP64 ${what} is too large`, offset);
  return Number(value);
}

function parseCentral(cd: Uint8Array, at: number, base: number): { entry: ZipEntry; next: number } {
  if (at + CENTRAL_SIZE > cd.length) fail('the central directory ends inside an entry', base + at);
  const v = viewOf(cd);
  if (v.getUint32(at, true) !== CENTRAL_SIG) fail('a central directory entry has a bad signature', base + at);
  const nameLength = v.getUint16(at + 28, true);
  const extraLength = v.getUint16(at + 30, true);
  const commentLength = v.getUint16(at + 32, true);
  const next = at + CENTRAL_SIZE + nameLength + extraLength + commentLength;
  if (next > cd.length) fail('a central directory entry runs past the directory', base + at);
  const nameBytes = cd.slice(at + CENTRAL_SIZE, at + CENTRAL_SIZE + nameLength);
  const extraAll = cd.subarray(at + CENTRAL_SIZE + nameLength, at + CENTRAL_SIZE + nameLength + extraLength);
  let uncompressedSize = v.getUint32(at + 24, true);
  let compressedSize = v.getUint32(at + 20, true);
  let localOffset = v.getUint32(at + 42, true);
  let diskStart = v.getUint16(at + 34, true);
  const zip64Sizes = uncompressedSize === MAX32 || compressedSize === MAX32;
  const { zip64, rest } = splitExtra(extraAll, base + at);
  if (zip64Sizes || localOffset === MAX32 || diskStart === MAX16) {
    // APPNOTE §4.5.3: only the fields whose header value is all ones appear, in this order.
    const z = zip64 ? viewOf(zip64) : undefined;
    let pos = 0;
    const take = (): number => {
      if (!z || pos + 8 > z.byteLength) fail('a ZIP64 field is missing from its extra block', base + at);
      const value = safe(z.getBigUint64(pos, true), 'field', base + at);
      pos += 8;
      return value;
    };
    if (uncompressedSize === MAX32) uncompressedSize = take();
    if (compressedSize === MAX32) compressedSize = take();
    if (localOffset === MAX32) localOffset = take();
    if (diskStart === MAX16) diskStart = z && pos + 4 <= z.byteLength ? z.getUint32(pos, true) : fail('a ZIP64 disk number is missing', base + at);
  }
  if (diskStart !== 0) fail('an entry starts on another disk of a split archive', base + at);
  const entry: ZipEntry = {
    name: utf8.decode(nameBytes),
    versionMadeBy: v.getUint16(at + 4, true),
    versionNeeded: v.getUint16(at + 6, true),
    flags: v.getUint16(at + 8, true),
    method: v.getUint16(at + 10, true),
    time: v.getUint16(at + 12, true),
    date: v.getUint16(at + 14, true),
    crc: v.getUint32(at + 16, true),
    compressedSize,
    uncompressedSize,
    diskStart,
    internalAttributes: v.getUint16(at + 36, true),
    externalAttributes: v.getUint32(at + 38, true),
    extra: rest,
    comment: cd.slice(next - commentLength, next),
    nameBytes,
    zip64Sizes,
    localOffset,
    dataStart: 0,
    recordEnd: 0,
  };
  return { entry, next };
}

/** Splits an extra field into its ZIP64 block's data and every other block, as written. */
function splitExtra(extra: Uint8Array, offset: number): { zip64: Uint8Array | undefined; rest: Uint8Array } {
  const v = viewOf(extra);
  const kept: Uint8Array[] = [];
  let zip64: Uint8Array | undefined;
  for (let at = 0; at < extra.length; ) {
    if (at + 4 > extra.length) fail('an extra field block is cut short', offset);
    const id = v.getUint16(at, true);
    const size = v.getUint16(at + 2, true);
    if (at + 4 + size > extra.length) fail('an extra field block runs past its field', offset);
    if (id === ZIP64_EXTRA) zip64 = extra.subarray(at + 4, at + 4 + size);
    else kept.push(extra.subarray(at, at + 4 + size));
    at += 4 + size;
  }
  return { zip64, rest: concatBytes(kept) };
}

/**
 * Reads ahead in windows, so that walking the local headers of a package with many small
 * entries costs a few large reads rather than one read per entry.
 */
class WindowReader {
  #start = 0;
  #bytes: Uint8Array = new Uint8Array(0);

  constructor(readonly source: ByteSource) {}

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset < this.#start || offset + length > this.#start + this.#bytes.length) {
      this.#start = offset;
      this.#bytes = await readExact(this.source, offset, Math.max(length, Math.min(WINDOW, this.source.size - offset)), 'ooxml');
    }
    return this.#bytes.subarray(offset - this.#start, offset - this.#start + length);
  }
}

const WINDOW = 64 * 1024;

/** Reads each local header, and sets where each entry's data begins and its record ends. */
async function placeRecords(source: ByteSource, entries: ZipEntry[], centralStart: number): Promise<void> {
  const byOffset = [...entries].sort((a, b) => a.localOffset - b.localOffset);
  const reader = new WindowReader(source);
  for (let i = 0; i < byOffset.length; i++) {
    const entry = byOffset[i] as ZipEntry;
    const next = byOffset[i + 1]?.localOffset ?? centralStart;
    if (entry.localOffset + LOCAL_SIZE > next) fail(`entry ${entry.name} overlaps the next entry or the central directory`, entry.localOffset);
    const header = viewOf(await reader.read(entry.localOffset, LOCAL_SIZE));
    if (header.getUint32(0, true) !== LOCAL_SIG) fail(`entry ${entry.name} has no local header where the central directory points`, entry.localOffset);
    entry.dataStart = entry.localOffset + LOCAL_SIZE + header.getUint16(26, true) + header.getUint16(28, true);
    entry.recordEnd = next;
    if (entry.dataStart + entry.compressedSize > next) fail(`entry ${entry.name}'s data overlaps the next entry or the central directory`, entry.localOffset);
  }
}

/** The uncompressed content of a (small) entry, checked against its CRC-32. */
export async function readEntry(source: ByteSource, entry: ZipEntry): Promise<Uint8Array> {
  if (entry.flags & 0x0001) fail(`entry ${entry.name} is encrypted`, entry.localOffset);
  if (entry.uncompressedSize > MAX_PART_BYTES || entry.compressedSize > MAX_PART_BYTES) fail(`part ${entry.name} is larger than ${MAX_PART_BYTES} bytes`, entry.localOffset);
  const raw = await readExact(source, entry.dataStart, entry.compressedSize, 'ooxml');
  let data: Uint8Array;
  if (entry.method === 0) {
    data = raw;
  } else if (entry.method === 8) {
    try {
      data = inflateRawSync(raw, { maxOutputLength: MAX_PART_BYTES });
    } catch (error) {
      throw new LabelFormatError('ooxml', `part ${entry.name} is not valid Deflate data`, { offset: entry.dataStart, cause: error });
    }
  } else {
    return fail(`part ${entry.name} uses compression method ${entry.method}, not Stored or Deflate`, entry.localOffset);
  }
  if (data.length !== entry.uncompressedSize || crc32(data) !== entry.crc) fail(`part ${entry.name} fails its size or CRC-32 check`, entry.localOffset);
  return data;
}

/**
 * An entry of the rewritten archive: one copied as raw bytes, or one with new content (taking
 * its timestamp and attributes from `like`). `order` places it in the central directory.
 */
export type OutputEntry = { order: number } & (
  | { kind: 'copy'; entry: ZipEntry }
  | { kind: 'new'; name: string; content: Uint8Array; like: ZipEntry | undefined }
);

/** Writes `archive` with `records`, in file order, as its entries. */
export async function writeZip(source: ByteSource, archive: ZipArchive, records: readonly OutputEntry[], sink: ByteSink): Promise<void> {
  let written = 0;
  const emit = async (bytes: Uint8Array): Promise<void> => {
    await sink.write(bytes);
    written += bytes.length;
  };
  await copyRange(source, 0, archive.prefixEnd, sink);
  written = archive.prefixEnd;
  const placed: { order: number; entry: ZipEntry }[] = [];
  for (const record of records) {
    const offset = written;
    if (record.kind === 'copy') {
      await copyRange(source, record.entry.localOffset, record.entry.recordEnd, sink);
      written += record.entry.recordEnd - record.entry.localOffset;
      placed.push({ order: record.order, entry: { ...record.entry, localOffset: offset } });
    } else {
      const entry = newEntry(record);
      await emit(localHeader(entry));
      await emit(entry.data);
      placed.push({ order: record.order, entry: { ...entry, localOffset: offset } });
    }
  }
  const centralStart = written;
  for (const { entry } of placed.sort((a, b) => a.order - b.order)) await emit(centralRecord(entry));
  await emit(endRecords(placed.length, centralStart, written - centralStart, archive.comment));
}

function newEntry(record: Extract<OutputEntry, { kind: 'new' }>): ZipEntry & { data: Uint8Array } {
  const data = deflateRawSync(record.content);
  const nameBytes = new TextEncoder().encode(record.name);
  return {
    name: record.name,
    versionMadeBy: record.like?.versionMadeBy ?? 20,
    versionNeeded: 20,
    // Bit 11: the name is UTF-8 (APPNOTE Appendix D); part names are ASCII, so it rarely matters.
    flags: /^[\x20-\x7e]*$/.test(record.name) ? 0 : 0x0800,
    method: 8,
    time: record.like?.time ?? 0,
    date: record.like?.date ?? 0x21,
    crc: crc32(record.content),
    compressedSize: data.length,
    uncompressedSize: record.content.length,
    diskStart: 0,
    internalAttributes: 0,
    externalAttributes: record.like?.externalAttributes ?? 0,
    extra: new Uint8Array(0),
    comment: new Uint8Array(0),
    nameBytes,
    zip64Sizes: false,
    localOffset: 0,
    dataStart: 0,
    recordEnd: 0,
    data,
  };
}

function localHeader(entry: ZipEntry): Uint8Array {
  const out = new Uint8Array(LOCAL_SIZE + entry.nameBytes.length);
  const v = viewOf(out);
  v.setUint32(0, LOCAL_SIG, true);
  v.setUint16(4, entry.versionNeeded, true);
  v.setUint16(6, entry.flags, true);
  v.setUint16(8, entry.method, true);
  v.setUint16(10, entry.time, true);
  v.setUint16(12, entry.date, true);
  v.setUint32(14, entry.crc, true);
  v.setUint32(18, entry.compressedSize, true);
  v.setUint32(22, entry.uncompressedSize, true);
  v.setUint16(26, entry.nameBytes.length, true);
  out.set(entry.nameBytes, LOCAL_SIZE);
  return out;
}

function centralRecord(entry: ZipEntry): Uint8Array {
  const sizes64 = entry.zip64Sizes || entry.uncompressedSize >= MAX32 || entry.compressedSize >= MAX32;
  const offset64 = entry.localOffset >= MAX32;
  const zip64Values = [...(sizes64 ? [entry.uncompressedSize, entry.compressedSize] : []), ...(offset64 ? [entry.localOffset] : [])];
  const zip64 = new Uint8Array(zip64Values.length === 0 ? 0 : 4 + 8 * zip64Values.length);
  if (zip64Values.length > 0) {
    const z = viewOf(zip64);
    z.setUint16(0, ZIP64_EXTRA, true);
    z.setUint16(2, 8 * zip64Values.length, true);
    zip64Values.forEach((value, i) => z.setBigUint64(4 + 8 * i, BigInt(value), true));
  }
  const extra = concatBytes([zip64, entry.extra]);
  if (extra.length > MAX16) fail(`entry ${entry.name}'s extra field would exceed 65535 bytes`);
  const out = new Uint8Array(CENTRAL_SIZE + entry.nameBytes.length + extra.length + entry.comment.length);
  const v = viewOf(out);
  v.setUint32(0, CENTRAL_SIG, true);
  v.setUint16(4, entry.versionMadeBy, true);
  // APPNOTE §4.4.3.2: version 4.5 is needed to extract ZIP64 entries.
  v.setUint16(6, zip64Values.length > 0 ? Math.max(entry.versionNeeded, 45) : entry.versionNeeded, true);
  v.setUint16(8, entry.flags, true);
  v.setUint16(10, entry.method, true);
  v.setUint16(12, entry.time, true);
  v.setUint16(14, entry.date, true);
  v.setUint32(16, entry.crc, true);
  v.setUint32(20, sizes64 ? MAX32 : entry.compressedSize, true);
  v.setUint32(24, sizes64 ? MAX32 : entry.uncompressedSize, true);
  v.setUint16(28, entry.nameBytes.length, true);
  v.setUint16(30, extra.length, true);
  v.setUint16(32, entry.comment.length, true);
  v.setUint16(36, entry.internalAttributes, true);
  v.setUint32(38, entry.externalAttributes, true);
  v.setUint32(42, offset64 ? MAX32 : entry.localOffset, true);
  out.set(entry.nameBytes, CENTRAL_SIZE);
  out.set(extra, CENTRAL_SIZE + entry.nameBytes.length);
  out.set(entry.comment, CENTRAL_SIZE + entry.nameBytes.length + extra.length);
  return out;
}

/** The end of central directory record, preceded by the ZIP64 record and locator when needed. */
function endRecords(count: number, centralStart: number, centralSize: number, comment: Uint8Array): Uint8Array {
  const zip64 = count >= MAX16 || centralStart >= MAX32 || centralSize >= MAX32;
  const parts: Uint8Array[] = [];
  if (zip64) {
    const record = new Uint8Array(ZIP64_EOCD_SIZE);
    const r = viewOf(record);
    r.setUint32(0, ZIP64_EOCD_SIG, true);
    r.setBigUint64(4, BigInt(ZIP64_EOCD_SIZE - 12), true);
    r.setUint16(12, 45, true);
    r.setUint16(14, 45, true);
    r.setBigUint64(24, BigInt(count), true);
    r.setBigUint64(32, BigInt(count), true);
    r.setBigUint64(40, BigInt(centralSize), true);
    r.setBigUint64(48, BigInt(centralStart), true);
    const locator = new Uint8Array(LOCATOR_SIZE);
    const l = viewOf(locator);
    l.setUint32(0, ZIP64_LOCATOR_SIG, true);
    l.setBigUint64(8, BigInt(centralStart + centralSize), true);
    l.setUint32(16, 1, true);
    parts.push(record, locator);
  }
  const eocd = new Uint8Array(EOCD_SIZE + comment.length);
  const e = viewOf(eocd);
  e.setUint32(0, EOCD_SIG, true);
  e.setUint16(8, Math.min(count, MAX16), true);
  e.setUint16(10, Math.min(count, MAX16), true);
  e.setUint32(12, Math.min(centralSize, MAX32), true);
  e.setUint32(16, Math.min(centralStart, MAX32), true);
  e.setUint16(20, comment.length, true);
  eocd.set(comment, EOCD_SIZE);
  parts.push(eocd);
  return concatBytes(parts);
}
