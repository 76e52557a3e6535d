/**
 * @module label/implicit/matroska-layout
 * Positions in a Matroska Segment, and how a rewritten Segment keeps them true. SeekHead entries
 * (RFC 9559 §5.1.1) and Cues (§5.1.5: CueClusterPosition, CueCodecState) hold positions relative
 * to the Segment's data; when an element before them moves, they must follow. A layout is a
 * list of items — children copied, new bytes, rebuilt SeekHeads and Cues, and Voids that absorb
 * a change of size so that what follows stays put. Positions and rebuilt sizes depend on each
 * other, so the layout is repeated until the sizes settle; integer fields only ever widen, so
 * that ends.
 */
import { LabelFormatError } from '../errors.js';
import { readExact } from './bytes.js';
import type { ByteSource } from './codec.js';
import { FORMAT, ID, childOf, newElement, parseElements, readUint, serializeElement, touch, uintBytes, voidElement } from './matroska-ebml.js';
import type { EbmlElement } from './matroska-ebml.js';
import type { SegmentChild } from './matroska-segment.js';

/** A SeekHead, Cues or Tags element larger than this is refused rather than loaded. */
const MAX_INDEX_ELEMENT = 64 * 1024 * 1024;

/** One piece of the new Segment's data. */
export type Item =
  | { kind: 'copy'; child: SegmentChild }
  /** New bytes; `replaces` is the old child they stand in for, so positions into it still map. */
  | { kind: 'bytes'; bytes: Uint8Array; replaces?: SegmentChild; isTags?: boolean }
  /**
   * A Void sized so that the next item starts at file offset `anchor`; when that is impossible
   * (less than 2 bytes of room) it keeps `original`'s size, or vanishes when there is none.
   */
  | { kind: 'flexVoid'; anchor: number; original?: SegmentChild }
  /** A SeekHead or Cues element, rebuilt with new positions. */
  | { kind: 'index'; child: SegmentChild };

/** A laid-out Segment: each item's start (relative to the Segment's data) and what to write for it. */
export interface Layout {
  starts: number[];
  /** Bytes to write, or an old child to copy unchanged. */
  output: (Uint8Array | SegmentChild)[];
  size: number;
}

export async function loadChild(source: ByteSource, child: SegmentChild): Promise<Uint8Array> {
  const size = child.end - child.start;
  if (size > MAX_INDEX_ELEMENT) {
    throw new LabelFormatError(FORMAT, `element 0x${child.id.toString(16)} of ${size} bytes is larger than the ${MAX_INDEX_ELEMENT}-byte limit`, {
      offset: child.start,
    });
  }
  return readExact(source, child.start, size, FORMAT);
}

/** Maps old Segment positions to new ones. */
type PositionMap = (old: number) => number;

/** Sets an unsigned integer element to `value`, never narrower than before, so repeated layouts converge. */
function setUint(el: EbmlElement, value: number, widths: Map<number, number>): void {
  const width = Math.max(widths.get(el.offset) ?? el.data?.length ?? 1, uintBytes(value).length);
  widths.set(el.offset, width);
  const data = uintBytes(value, width);
  if (el.data?.length === data.length && data.every((b, i) => b === el.data?.[i])) return;
  el.data = data;
  touch(el);
}

/**
 * Rebuilds every SeekPosition (undefined when none changed). `tags` overrides the Tags entry: a
 * position, or null when the Tags are gone (that Seek becomes a Void of its size). An entry is
 * added with `addTags`: readers find Tags after the first Cluster only through the SeekHead.
 */
function rebuildSeekHead(
  bytes: Uint8Array,
  offset: number,
  map: PositionMap,
  tags: number | null | undefined,
  addTags: boolean,
  widths: Map<number, number>,
): Uint8Array | undefined {
  const [seekHead] = parseElements(bytes, offset, new Set([ID.SeekHead, ID.Seek]));
  if (!seekHead?.children) return undefined;
  let hasTags = false;
  seekHead.children = seekHead.children.map((seek) => {
    const idData = childOf(seek, ID.SeekID)?.data;
    const position = childOf(seek, ID.SeekPosition);
    if (seek.id !== ID.Seek || !idData || !position?.data) return seek;
    const target = readUint(idData, seek.offset);
    const isTags = target === ID.Tags && tags !== undefined;
    hasTags ||= isTags;
    if (isTags && tags === null) {
      touch(seekHead);
      return { id: ID.Void, raw: voidElement(serializeElement(seek).length), sizeWidth: 1, offset: -1 };
    }
    setUint(position, isTags && tags !== null ? tags : map(readUint(position.data, position.offset)), widths);
    if (!position.raw) touch(seek, seekHead);
    return seek;
  });
  if (typeof tags === 'number' && !hasTags && addTags) {
    const position = newElement(ID.SeekPosition, new Uint8Array(0));
    position.offset = -2;
    setUint(position, tags, widths);
    seekHead.children.push(newElement(ID.Seek, [newElement(ID.SeekID, uintBytes(ID.Tags, 4)), position]));
    touch(seekHead);
  }
  return seekHead.raw ? undefined : serializeElement(seekHead);
}

const CUE_MASTERS: ReadonlySet<number> = new Set([ID.Cues, ID.CuePoint, ID.CueTrackPositions]);
/** CueCodecState: where the codec state for a cue is; 0 means the track's CodecPrivate. */
const CUE_CODEC_STATE = 0xea;

/** Rebuilds every cluster and codec-state position in a Cues element; undefined when none moved. */
function rebuildCues(bytes: Uint8Array, offset: number, map: PositionMap, widths: Map<number, number>): Uint8Array | undefined {
  const [cues] = parseElements(bytes, offset, CUE_MASTERS);
  if (!cues) return undefined;
  for (const point of cues.children ?? []) {
    for (const positions of point.children ?? []) {
      for (const field of positions.children ?? []) {
        if (field.id !== ID.CueClusterPosition && field.id !== CUE_CODEC_STATE) continue;
        const old = readUint(field.data ?? new Uint8Array(0), field.offset);
        if (field.id === CUE_CODEC_STATE && old === 0) continue;
        setUint(field, map(old), widths);
        if (!field.raw) touch(positions, point, cues);
      }
    }
  }
  return cues.raw ? undefined : serializeElement(cues);
}

/** Old positions map through the item that now holds them. */
function positionMap(items: readonly Item[], starts: readonly number[], dataStart: number): PositionMap {
  const spans: { from: number; at: number }[] = [];
  items.forEach((item, i) => {
    const old = item.kind === 'copy' || item.kind === 'index' ? item.child : item.kind === 'bytes' ? item.replaces : item.original;
    if (old) spans.push({ from: old.start - dataStart, at: starts[i] ?? 0 });
  });
  spans.sort((a, b) => a.from - b.from);
  return (old) => {
    let best = spans[0];
    for (const span of spans) {
      if (span.from > old) break;
      best = span;
    }
    return best ? best.at + (old - best.from) : old;
  };
}

/**
 * Lays out `items`. `indexes` holds the bytes of every SeekHead and Cues item (by offset);
 * `removedTags` voids the SeekHead's Tags entry when no Tags element is left.
 */
export function layOut(items: readonly Item[], dataStart: number, indexes: ReadonlyMap<number, Uint8Array>, removedTags: boolean): Layout {
  const widths = new Map<number, number>();
  const rebuilt = new Map<number, Uint8Array | SegmentChild>();
  for (let round = 0; round < 12; round++) {
    const starts: number[] = [];
    const output: (Uint8Array | SegmentChild)[] = [];
    let position = 0;
    for (const [i, item] of items.entries()) {
      starts.push(position);
      let piece: Uint8Array | SegmentChild;
      if (item.kind === 'copy') piece = item.child;
      else if (item.kind === 'bytes') piece = item.bytes;
      else if (item.kind === 'index') piece = rebuilt.get(i) ?? item.child;
      else piece = flexVoid(item, item.anchor - dataStart - position);
      output.push(piece);
      position += pieceSize(piece);
    }
    const map = positionMap(items, starts, dataStart);
    const tagsAt = items.findIndex((item) => item.kind === 'bytes' && item.isTags === true);
    const tags = tagsAt !== -1 ? (starts[tagsAt] ?? 0) : removedTags ? null : undefined;
    const firstCluster = items.findIndex((item) => item.kind === 'copy' && item.child.id === ID.Cluster);
    const addTags = typeof tags === 'number' && firstCluster !== -1 && tags > (starts[firstCluster] ?? 0);
    let settled = true;
    for (const [i, item] of items.entries()) {
      if (item.kind !== 'index') continue;
      const original = indexes.get(item.child.start);
      if (!original) throw new RangeError('layOut needs the bytes of every index item');
      const next =
        item.child.id === ID.SeekHead ? rebuildSeekHead(original, item.child.start, map, tags, addTags, widths) : rebuildCues(original, item.child.start, map, widths);
      if (pieceSize(next ?? item.child) !== pieceSize(output[i] ?? item.child)) settled = false;
      rebuilt.set(i, next ?? item.child);
    }
    if (settled) {
      for (const [i, piece] of rebuilt) output[i] = piece;
      return { starts, output, size: position };
    }
  }
  throw new LabelFormatError(FORMAT, `Segment positions did not settle after widening`, { offset: dataStart });
}

function flexVoid(item: Extract<Item, { kind: 'flexVoid' }>, wanted: number): Uint8Array | SegmentChild {
  const originalSize = item.original ? item.original.end - item.original.start : 0;
  if (item.original && wanted === originalSize) return item.original;
  if (wanted === 0) return new Uint8Array(0);
  if (wanted >= 2) return voidElement(wanted);
  return item.original ?? new Uint8Array(0);
}

function pieceSize(piece: Uint8Array | SegmentChild): number {
  return piece instanceof Uint8Array ? piece.length : piece.end - piece.start;
}
