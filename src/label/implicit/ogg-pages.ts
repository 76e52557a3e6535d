/**
 * @module label/implicit/ogg-pages
 * Ogg pages (RFC 3533 §6): reading and checking them, splitting header packets into new pages,
 * and renumbering a page. Every page carries a CRC-32 (polynomial 0x04C11DB7, not reflected,
 * zero initial value, computed with the CRC field zeroed), which is checked on read and
 * recomputed whenever a page changes.
 */
import { LabelFormatError } from '../errors.js';
import { concatBytes, viewOf } from './bytes.js';
import type { SourceReader } from './splice.js';
import { latin1 } from './splice.js';

export const FORMAT = 'ogg';

/** Header type flags (RFC 3533 §6). */
export const CONTINUED = 0x01;
export const FIRST_PAGE = 0x02;

/** The largest body one page holds: 255 lacing values of 255 bytes. */
const MAX_SEGMENTS = 255;

export interface OggPage {
  start: number;
  end: number;
  headerType: number;
  serial: number;
  sequence: number;
  /** Lacing values: a value below 255 ends a packet. */
  lacing: Uint8Array;
  bodyStart: number;
}

const crcTable = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** The Ogg page checksum of `bytes` (a whole page whose CRC field is zero). */
export function oggCrc(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) ^ (crcTable[((crc >>> 24) ^ byte) & 0xff] ?? 0)) >>> 0;
  return crc;
}

function pageCrc(page: Uint8Array): number {
  const stored = viewOf(page).getUint32(22, true);
  viewOf(page).setUint32(22, 0, true);
  const crc = oggCrc(page);
  viewOf(page).setUint32(22, stored, true);
  return crc;
}

/** Reads the page at `at` (at most 65,307 bytes), checking its capture pattern, version and CRC. */
export async function readPage(reader: SourceReader, at: number): Promise<{ page: OggPage; bytes: Uint8Array }> {
  const header = await reader.bytes(at, 27, 'page header');
  if (latin1(header.subarray(0, 4)) !== 'OggS') throw new LabelFormatError(FORMAT, `no 'OggS' capture pattern where a page should start`, { offset: at });
  if (header[4] !== 0) throw new LabelFormatError(FORMAT, `page version ${header[4] ?? 0} is not 0`, { offset: at + 4 });
  const view = viewOf(header);
  const headerType = header[5] ?? 0;
  const serial = view.getUint32(14, true);
  const sequence = view.getUint32(18, true);
  const count = header[26] ?? 0;
  const lacing = (await reader.bytes(at + 27, count, 'segment table')).slice();
  const bodyLength = lacing.reduce((n, v) => n + v, 0);
  const bytes = (await reader.bytes(at, 27 + count + bodyLength, 'page')).slice();
  if (pageCrc(bytes) !== viewOf(bytes).getUint32(22, true)) {
    throw new LabelFormatError(FORMAT, `page ${sequence} of stream ${serial} fails its CRC check`, { offset: at });
  }
  const page: OggPage = { start: at, end: at + bytes.length, headerType, serial, sequence, lacing, bodyStart: at + 27 + count };
  return { page, bytes };
}

/** A copy of `bytes` (a whole page) with sequence number `sequence` and a new CRC. */
export function renumberPage(bytes: Uint8Array, sequence: number): Uint8Array {
  const out = bytes.slice();
  viewOf(out).setUint32(18, sequence, true);
  viewOf(out).setUint32(22, 0, true);
  viewOf(out).setUint32(22, oggCrc(out), true);
  return out;
}

/**
 * Pages holding `packets` of stream `serial`, numbered from `sequence`: as many packets per page
 * as 255 lacing values allow, the way libogg flushes header pages. A page on which a packet ends
 * has granule position 0 (header packets carry no samples); a page on which none ends has -1
 * (RFC 3533 §6). The last packet ends its page, so audio starts on a fresh page as Vorbis I
 * §A.2 and RFC 7845 §3 require.
 */
export function paginate(packets: readonly Uint8Array[], serial: number, sequence: number): Uint8Array[] {
  const segments: { packet: number; at: number; length: number }[] = [];
  packets.forEach((packet, index) => {
    for (let at = 0; ; at += 255) {
      const length = Math.min(255, packet.length - at);
      segments.push({ packet: index, at, length });
      if (length < 255) break;
    }
  });
  const pages: Uint8Array[] = [];
  for (let first = 0; first < segments.length; first += MAX_SEGMENTS) {
    const onPage = segments.slice(first, first + MAX_SEGMENTS);
    const continued = (onPage[0]?.at ?? 0) > 0;
    const packetEnds = onPage.some((s) => s.length < 255);
    const header = new Uint8Array(27 + onPage.length);
    const view = viewOf(header);
    header.set([0x4f, 0x67, 0x67, 0x53, 0, continued ? CONTINUED : 0]);
    view.setBigInt64(6, packetEnds ? 0n : -1n, true);
    view.setUint32(14, serial, true);
    view.setUint32(18, sequence + pages.length, true);
    header[26] = onPage.length;
    onPage.forEach((s, i) => (header[27 + i] = s.length));
    const body = onPage.map((s) => (packets[s.packet] ?? new Uint8Array(0)).subarray(s.at, s.at + s.length));
    pages.push(renumberPage(concatBytes([header, ...body]), sequence + pages.length));
  }
  return pages;
}
