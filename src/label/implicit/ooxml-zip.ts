/**
 * @module label/implicit/ooxml-zip
 * Reading the ZIP container of an OOXML package (ECMA-376 Part 2 §8, which profiles PKWARE's
 * APPNOTE.TXT): the central directory (with ZIP64, APPNOTE §4.3.14-4.3.16 and §4.5.3), the
 * extent of every entry's record, and the content of the few small parts hegui edits.
 * Rewriting is in `ooxml-zip-write.ts`.
 *
 * Every offset and size is checked against the file and against the other entries before it
 * is used, so an archive with overlapping or out-of-range entries is refused, not followed.
 */
import { crc32, inflateRawSync } from 'node:zlib';
import { LabelFormatError } from '../errors.js';
import type { ByteSource } from './codec.js';
import { concatBytes, readExact, viewOf } from './bytes.js';

export const LOCAL_SIG = 0x04034b50;
export const CENTRAL_SIG = 0x02014b50;
export const EOCD_SIG = 0x06054b50;
export const ZIP64_EOCD_SIG = 0x06064b50;
export const ZIP64_LOCATOR_SIG = 0x07064b50;
export const ZIP64_EXTRA = 0x0001;
export const LOCAL_SIZE = 30;
export const CENTRAL_SIZE = 46;
export const EOCD_SIZE = 22;
export const LOCATOR_SIZE = 20;
export const ZIP64_EOCD_SIZE = 56;
export const MAX16 = 0xffff;
export const MAX32 = 0xffffffff;
/** Metadata parts are small; a larger one is refused rather than inflated into memory. */
const MAX_PART_BYTES = 16 * 1024 * 1024;

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

const DESCRIPTOR_SIG = 0x08074b50;
const LOCAL_SIG_BYTES = new Uint8Array([0x50, 0x4b, 0x03, 0x04]);

/**
 * Reads each local header, and sets where each entry's data begins and its record ends.
 *
 * The signed content (docs/labels.md, OOXML) hashes the local records, not the central
 * directory, which writing rebuilds; readers find parts through the central directory. So the
 * directory must say nothing the records do not (issue 11): each entry's name, method, CRC-32
 * and sizes must be those of its local header (or data descriptor), no name may appear twice,
 * and no local header may hide, unlisted, in the bytes between records. Otherwise swapping two
 * pictures' names, cutting a stored part short, or dropping a part from the directory would
 * change the document without changing its hash.
 */
async function placeRecords(source: ByteSource, entries: ZipEntry[], centralStart: number): Promise<void> {
  const byOffset = [...entries].sort((a, b) => a.localOffset - b.localOffset);
  const names = new Set<string>();
  for (const entry of entries) {
    const key = entry.name.toLowerCase();
    if (names.has(key)) fail(`two entries are named ${entry.name}`, entry.localOffset);
    names.add(key);
  }
  const reader = new WindowReader(source);
  await refuseHiddenHeaders(reader, 0, byOffset[0]?.localOffset ?? centralStart);
  for (let i = 0; i < byOffset.length; i++) {
    const entry = byOffset[i] as ZipEntry;
    const next = byOffset[i + 1]?.localOffset ?? centralStart;
    if (entry.localOffset + LOCAL_SIZE > next) fail(`entry ${entry.name} overlaps the next entry or the central directory`, entry.localOffset);
    const header = viewOf(await reader.read(entry.localOffset, LOCAL_SIZE));
    if (header.getUint32(0, true) !== LOCAL_SIG) fail(`entry ${entry.name} has no local header where the central directory points`, entry.localOffset);
    const nameLength = header.getUint16(26, true);
    entry.dataStart = entry.localOffset + LOCAL_SIZE + nameLength + header.getUint16(28, true);
    entry.recordEnd = next;
    if (entry.dataStart + entry.compressedSize > next) fail(`entry ${entry.name}'s data overlaps the next entry or the central directory`, entry.localOffset);
    const localName = await reader.read(entry.localOffset + LOCAL_SIZE, nameLength);
    if (!Buffer.from(localName).equals(Buffer.from(entry.nameBytes))) {
      fail(`entry ${entry.name}'s local header names ${utf8.decode(localName)}: the central directory does not match the local header`, entry.localOffset);
    }
    const dataEnd = entry.dataStart + entry.compressedSize;
    const recordEnd = await checkSizes(reader, entry, header, dataEnd, next);
    await refuseHiddenHeaders(reader, recordEnd, next);
  }
}

/**
 * Checks the central directory's method, CRC-32 and sizes against the local header or, when
 * general-purpose flag bit 3 defers them (APPNOTE §4.3.9), the data descriptor after the data;
 * returns where the record's own bytes end.
 */
async function checkSizes(reader: WindowReader, entry: ZipEntry, header: DataView, dataEnd: number, next: number): Promise<number> {
  const mismatch = (): never => fail(`entry ${entry.name}'s method, CRC-32 or sizes differ between the central directory and the local header`, entry.localOffset);
  if (header.getUint16(8, true) !== entry.method) mismatch();
  const sized = (local: number, central: number): boolean => local === MAX32 || local === central;
  if (!(entry.flags & 0x0008)) {
    if (header.getUint32(14, true) !== entry.crc || !sized(header.getUint32(18, true), entry.compressedSize) || !sized(header.getUint32(22, true), entry.uncompressedSize)) {
      mismatch();
    }
    return dataEnd;
  }
  const room = Math.min(next - dataEnd, entry.zip64Sizes ? 24 : 16);
  const descriptor = viewOf(await reader.read(dataEnd, room));
  const at = room >= 4 && descriptor.getUint32(0, true) === DESCRIPTOR_SIG ? 4 : 0;
  if (room < at + 12 || descriptor.getUint32(at, true) !== entry.crc) mismatch();
  if (!entry.zip64Sizes && descriptor.getUint32(at + 4, true) !== entry.compressedSize) mismatch();
  return Math.min(next, dataEnd + at + (entry.zip64Sizes ? 20 : 12));
}

/** Fails when `[start, end)`, bytes between records, holds a local header the directory does not list. */
async function refuseHiddenHeaders(reader: WindowReader, start: number, end: number): Promise<void> {
  for (let at = start; at < end; at += WINDOW) {
    // Overlap windows by three bytes so that a signature across their boundary is seen.
    const length = Math.min(end - at, WINDOW + 3);
    const found = Buffer.from(await reader.read(at, length)).indexOf(LOCAL_SIG_BYTES);
    if (found >= 0) fail('a local header is not listed in the central directory', at + found);
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
