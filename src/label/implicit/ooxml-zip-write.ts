/**
 * @module label/implicit/ooxml-zip-write
 * Rewriting a ZIP archive (APPNOTE.TXT §4.3): every entry hegui does not change is copied as
 * raw bytes, local header, compressed data and data descriptor alike, so nothing is
 * recompressed and the copy runs at disk speed; changed parts are written Deflated with their
 * sizes in the local header. The central directory is rebuilt with the new offsets, in ZIP64
 * form wherever a size, an offset or the entry count needs it.
 */
import { crc32, deflateRawSync } from 'node:zlib';
import { LabelFormatError } from '../errors.js';
import type { ByteSink, ByteSource } from './codec.js';
import { concatBytes, copyRange, viewOf } from './bytes.js';
import {
  CENTRAL_SIG,
  CENTRAL_SIZE,
  EOCD_SIG,
  EOCD_SIZE,
  LOCAL_SIG,
  LOCAL_SIZE,
  LOCATOR_SIZE,
  MAX16,
  MAX32,
  ZIP64_EOCD_SIG,
  ZIP64_EOCD_SIZE,
  ZIP64_EXTRA,
  ZIP64_LOCATOR_SIG,
  type ZipArchive,
  type ZipEntry,
} from './ooxml-zip.js';

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
  if (extra.length > MAX16) throw new LabelFormatError('ooxml', `entry ${entry.name}'s extra field would exceed 65535 bytes`);
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
