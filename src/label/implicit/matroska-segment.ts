/**
 * @module label/implicit/matroska-segment
 * The top level of a Matroska/WebM file: the EBML header, the Segment and its children (RFC 9559
 * §5.1), walked by their headers only so clusters are never read. A Segment or a Cluster may
 * have an unknown size (live recordings, RFC 9559 §6.2); such a Segment runs to the end of the
 * file, and such a Cluster ends at the first element that cannot be one of its children.
 */
import { LabelFormatError } from '../errors.js';
import { fromUtf8 } from './bytes.js';
import type { ByteSource } from './codec.js';
import { FORMAT, ID, readHeader } from './matroska-ebml.js';
import { SourceReader } from './splice.js';

/** A child of the Segment as found in the file. */
export interface SegmentChild {
  id: number;
  start: number;
  dataStart: number;
  end: number;
}

export interface SegmentLayout {
  /** File offset of the Segment element and of its data; child positions count from `dataStart`. */
  start: number;
  dataStart: number;
  /** End of the Segment: its declared end, or the end of the file for an unknown size. */
  end: number;
  unknownSize: boolean;
  /** The width of the Segment's size field. */
  sizeWidth: number;
  children: SegmentChild[];
}

/** Elements a Cluster may contain (RFC 9559 §5.1.3); anything else ends an unknown-size Cluster. */
const CLUSTER_CHILDREN: ReadonlySet<number> = new Set([0xe7, 0x5854, 0xa7, 0xab, 0xa3, 0xa0, 0xaf, ID.Void, ID.CRC32]);

/** Segment children walked before giving up (a long recording has tens of thousands of clusters). */
const MAX_CHILDREN = 4_000_000;

async function headerAt(reader: SourceReader, at: number, limit: number): Promise<ReturnType<typeof readHeader>> {
  const bytes = await reader.upTo(at, Math.min(12, limit - at));
  return readHeader(bytes, 0, at);
}

/** The end of an unknown-size Cluster whose data starts at `at`. */
async function clusterEnd(reader: SourceReader, at: number, limit: number): Promise<number> {
  while (at < limit) {
    const header = await headerAt(reader, at, limit);
    if (!CLUSTER_CHILDREN.has(header.id)) return at;
    if (header.size === undefined) throw new LabelFormatError(FORMAT, `a block in an unknown-size Cluster has an unknown size`, { offset: at });
    const end = at + header.headerLength + header.size;
    if (end > limit) throw new LabelFormatError(FORMAT, `element 0x${header.id.toString(16)} of ${header.size} bytes runs past the end of the Segment`, { offset: at });
    at = end;
  }
  return limit;
}

/** Reads the EBML header (checking the DocType is Matroska or WebM) and the Segment's children. */
export async function scanSegment(source: ByteSource): Promise<SegmentLayout> {
  const reader = new SourceReader(source, FORMAT);
  const ebml = await headerAt(reader, 0, source.size);
  if (ebml.id !== ID.EBML || ebml.size === undefined) throw new LabelFormatError(FORMAT, `no EBML header`, { offset: 0 });
  const ebmlEnd = ebml.headerLength + ebml.size;
  if (ebmlEnd > source.size) throw new LabelFormatError(FORMAT, `the EBML header runs past the end of the file`, { offset: 0 });
  let docType: string | undefined;
  for (let at = ebml.headerLength; at < ebmlEnd; ) {
    const header = await headerAt(reader, at, ebmlEnd);
    const end = at + header.headerLength + (header.size ?? Infinity);
    if (end > ebmlEnd) throw new LabelFormatError(FORMAT, `an EBML header field overruns the header`, { offset: at });
    if (header.id === ID.DocType) docType = fromUtf8(await reader.bytes(at + header.headerLength, header.size ?? 0)).replace(/\0+$/, '');
    at = end;
  }
  if (docType !== 'matroska' && docType !== 'webm') throw new LabelFormatError(FORMAT, `DocType ${JSON.stringify(docType ?? '')} is not matroska or webm`, { offset: 0 });

  let start = ebmlEnd;
  let segment = await headerAt(reader, start, source.size);
  while (segment.id === ID.Void && segment.size !== undefined) {
    start += segment.headerLength + segment.size;
    segment = await headerAt(reader, start, source.size);
  }
  if (segment.id !== ID.Segment) throw new LabelFormatError(FORMAT, `no Segment after the EBML header`, { offset: start });
  const dataStart = start + segment.headerLength;
  const end = segment.size === undefined ? source.size : dataStart + segment.size;
  if (end > source.size) throw new LabelFormatError(FORMAT, `the Segment of ${segment.size ?? 0} bytes runs past the end of the file`, { offset: start });
  const layout: SegmentLayout = {
    start,
    dataStart,
    end,
    unknownSize: segment.size === undefined,
    sizeWidth: segment.headerLength - 4,
    children: [],
  };
  for (let at = dataStart; at < end; ) {
    if (layout.children.length >= MAX_CHILDREN) throw new LabelFormatError(FORMAT, `more than ${MAX_CHILDREN} Segment children`, { offset: at });
    const header = await headerAt(reader, at, end);
    const childData = at + header.headerLength;
    let childEnd: number;
    if (header.size !== undefined) childEnd = childData + header.size;
    else if (header.id === ID.Cluster) childEnd = await clusterEnd(reader, childData, end);
    else throw new LabelFormatError(FORMAT, `element 0x${header.id.toString(16)} has an unknown size, which only Segment and Cluster may have`, { offset: at });
    if (childEnd > end) {
      throw new LabelFormatError(FORMAT, `element 0x${header.id.toString(16)} of ${header.size ?? 0} bytes runs past the end of the Segment`, { offset: at });
    }
    layout.children.push({ id: header.id, start: at, dataStart: childData, end: childEnd });
    at = childEnd;
  }
  return layout;
}
