/**
 * @module label/implicit/matroska
 * The Matroska / WebM codec (RFC 9559, WebM's subset of it). The label is a segment-wide
 * `SimpleTag` `AIGC` in `Tags` (see matroska-tags). Readers such as exiftool stop at the first
 * Cluster, so `Tags` goes before the Clusters whenever the file allows (see `choose`), by these
 * strategies:
 *  1. where the old `Tags` is, using the Voids after it (nothing else moves);
 *  2. in a Void elsewhere (before the Clusters first), or appended at the end of the Segment with
 *     spare room after it, the old `Tags` becoming a Void — only the SeekHead's Tags entry
 *     changes, its growth absorbed by the Void that muxers leave after it (this keeps
 *     unknown-size Segments valid: the end of an unknown-size Segment is the end of the file);
 *  3. where the old `Tags` was or before the first Cluster, with spare room after it, moving the
 *     Clusters and rewriting every SeekHead and Cues position that points past it.
 * Clusters are copied, never read.
 */
import { LabelFormatError } from '../errors.js';
import type { ByteRange, BytePatch, ByteSink, ByteSource, FoundLabel, LabelCodec } from './codec.js';
import { FORMAT, ID, idBytes, readHeader, serializeElement, serializeWidened, sizeBytes, voidElement } from './matroska-ebml.js';
import type { EbmlElement } from './matroska-ebml.js';
import { layOut, loadChild } from './matroska-layout.js';
import type { Item, Layout } from './matroska-layout.js';
import { scanSegment } from './matroska-segment.js';
import type { SegmentChild, SegmentLayout } from './matroska-segment.js';
import { hasTag, newTags, parseTags, readTagLabels, relabelTags } from './matroska-tags.js';
import { SpliceWriter, latin1, patchesFor } from './splice.js';
import { concatBytes, copyRange } from './bytes.js';
import type { Piece } from './splice.js';

/** Spare room (a Void) left after a `Tags` element that had to move or grow, so the next change fits in place. */
export const MATROSKA_PADDING = 1024;

interface Context {
  segment: SegmentLayout;
  /** The first Tags element (which gets the label) and its relabelled contents; null when no Tag is left. */
  tags: SegmentChild | undefined;
  newTags: EbmlElement | null;
  /** Further Tags elements, relabelled (labels removed), each rewritten where it is. */
  others: { child: SegmentChild; tree: EbmlElement | null }[];
  indexes: Map<number, Uint8Array>;
  firstCluster: number;
  hasSeekHead: boolean;
}

async function context(source: ByteSource, value: string | undefined): Promise<Context> {
  const segment = await scanSegment(source);
  const all = segment.children.filter((c) => c.id === ID.Tags);
  const trees: EbmlElement[] = [];
  for (const child of all) trees.push(parseTags(await loadChild(source, child), child.start));
  const indexes = new Map<number, Uint8Array>();
  for (const child of segment.children) if (child.id === ID.SeekHead) indexes.set(child.start, await loadChild(source, child));
  const firstCluster = segment.children.find((c) => c.id === ID.Cluster)?.start ?? segment.end;
  const relabelled = trees.map((tree, i) => {
    relabelTags(tree, i === 0 ? value : undefined);
    return hasTag(tree) ? tree : null;
  });
  let newTree = relabelled[0] ?? null;
  if (all.length === 0 && value !== undefined) {
    newTree = newTags();
    relabelTags(newTree, value);
  }
  return {
    segment,
    tags: all[0],
    newTags: newTree,
    others: all.slice(1).map((child, i) => ({ child, tree: relabelled[i + 1] ?? null })),
    indexes,
    firstCluster,
    hasSeekHead: segment.children.some((c) => c.id === ID.SeekHead && c.start < firstCluster),
  };
}

/** `tree`'s bytes fitted to `room`: widened by a byte when exactly one would be left over (a Void needs two). */
function fitted(tree: EbmlElement, room: number): Uint8Array | undefined {
  const bytes = serializeElement(tree);
  if (bytes.length === room || bytes.length + 2 <= room) return bytes;
  if (bytes.length + 1 === room && tree.sizeWidth < 8) {
    const wider = serializeWidened(tree, Math.max(tree.sizeWidth, sizeBytes(bytes.length).length) + 1);
    if (wider.length === room) return wider;
  }
  return undefined;
}

/**
 * The items of the new Segment: every child copied, except `overrides` (by child offset) and
 * the SeekHeads (rebuilt, each followed by a Void that absorbs its change of size), with
 * `append` at the end. With `moveClusters`, Cues are rebuilt too.
 */
function items(ctx: Context, overrides: Map<number, Item[]>, append: Item[], moveClusters: boolean): Item[] {
  const out: Item[] = [];
  const children = ctx.segment.children;
  for (let i = 0; i < children.length; i++) {
    const child = children[i] as SegmentChild;
    const override = overrides.get(child.start);
    if (override) out.push(...override);
    else if (child.id === ID.SeekHead || (moveClusters && child.id === ID.Cues)) out.push({ kind: 'index', child });
    else out.push({ kind: 'copy', child });
    const next = children[i + 1];
    if (child.id === ID.SeekHead && next?.id === ID.Void && !overrides.has(next.start)) {
      out.push({ kind: 'flexVoid', anchor: next.end, original: next });
      i++;
    }
  }
  out.push(...append);
  return out;
}

/** Other Tags elements keep their place, shrunk by the labels removed from them. */
function otherOverrides(ctx: Context, overrides: Map<number, Item[]>): void {
  for (const { child, tree } of ctx.others) {
    const room = child.end - child.start;
    const bytes = tree ? fitted(tree, room) : undefined;
    overrides.set(child.start, bytes ? [{ kind: 'bytes', bytes, replaces: child }, { kind: 'flexVoid', anchor: child.end }] : [{ kind: 'bytes', bytes: voidElement(room), replaces: child }]);
  }
}

/** The Voids right after `child`, and where they end. */
function voidsAfter(ctx: Context, child: SegmentChild): SegmentChild[] {
  const children = ctx.segment.children;
  const out: SegmentChild[] = [];
  for (let i = children.indexOf(child) + 1; children[i]?.id === ID.Void; i++) out.push(children[i] as SegmentChild);
  return out;
}

function layoutOf(ctx: Context, itemList: Item[]): Layout {
  return layOut(itemList, ctx.segment.dataStart, ctx.indexes, ctx.tags !== undefined && ctx.newTags === null);
}

/** True when every copied child is where it was. */
function nothingMoved(ctx: Context, itemList: Item[], layout: Layout): boolean {
  return itemList.every((item, i) => item.kind !== 'copy' || item.child.start === ctx.segment.dataStart + (layout.starts[i] ?? 0));
}

/** Strategy 1: the new Tags where the old one is, with the Voids after it as room. */
function inPlace(ctx: Context): { items: Item[]; layout: Layout } | undefined {
  const old = ctx.tags;
  if (!old) return undefined;
  const voids = voidsAfter(ctx, old);
  const anchor = voids.at(-1)?.end ?? old.end;
  const overrides = new Map<number, Item[]>();
  otherOverrides(ctx, overrides);
  for (const v of voids) overrides.set(v.start, []);
  if (ctx.newTags) {
    const bytes = fitted(ctx.newTags, anchor - old.start);
    if (!bytes) return undefined;
    overrides.set(old.start, [{ kind: 'bytes', bytes, replaces: old, isTags: true }, { kind: 'flexVoid', anchor }]);
  } else {
    overrides.set(old.start, [{ kind: 'bytes', bytes: voidElement(anchor - old.start), replaces: old }]);
  }
  const list = items(ctx, overrides, [], false);
  const layout = layoutOf(ctx, list);
  return nothingMoved(ctx, list, layout) ? { items: list, layout } : undefined;
}

/**
 * Strategy 2: the new Tags in a Void big enough (with `beforeClusters`, only one before the
 * first Cluster), or (unless `sameSize` or `beforeClusters`) appended at the end.
 */
function relocated(ctx: Context, sameSize: boolean, beforeClusters = false): { items: Item[]; layout: Layout } | undefined {
  const tree = ctx.newTags;
  if (!tree) return undefined;
  const base = new Map<number, Item[]>();
  otherOverrides(ctx, base);
  if (ctx.tags) base.set(ctx.tags.start, [{ kind: 'bytes', bytes: voidElement(ctx.tags.end - ctx.tags.start), replaces: ctx.tags }]);
  const children = ctx.segment.children;
  const candidates: { overrides: Map<number, Item[]>; append: Item[] }[] = [];
  children.forEach((child, i) => {
    if (child.id !== ID.Void || children[i - 1]?.id === ID.SeekHead || base.has(child.start)) return;
    if (child.start > ctx.firstCluster && (!ctx.hasSeekHead || beforeClusters)) return;
    const bytes = fitted(tree, child.end - child.start);
    if (!bytes) return;
    const overrides = new Map(base);
    overrides.set(child.start, [{ kind: 'bytes', bytes, replaces: child, isTags: true }, { kind: 'flexVoid', anchor: child.end }]);
    candidates.push({ overrides, append: [] });
  });
  if (!sameSize && !beforeClusters && ctx.hasSeekHead) {
    candidates.push({ overrides: base, append: [{ kind: 'bytes', bytes: serializeElement(tree), isTags: true }, { kind: 'bytes', bytes: voidElement(MATROSKA_PADDING) }] });
  }
  for (const candidate of candidates) {
    const list = items(ctx, candidate.overrides, candidate.append, false);
    const layout = layoutOf(ctx, list);
    if (nothingMoved(ctx, list, layout)) return { items: list, layout };
  }
  return undefined;
}

/** Strategy 3: the new Tags (with spare room) where the old one was or before the first Cluster; positions after it are rewritten. */
async function shifted(source: ByteSource, ctx: Context): Promise<{ items: Item[]; layout: Layout }> {
  for (const child of ctx.segment.children) if (child.id === ID.Cues) ctx.indexes.set(child.start, await loadChild(source, child));
  const overrides = new Map<number, Item[]>();
  otherOverrides(ctx, overrides);
  const append: Item[] = [];
  const labelled: Item[] = ctx.newTags ? [{ kind: 'bytes', bytes: serializeElement(ctx.newTags), isTags: true }, { kind: 'bytes', bytes: voidElement(MATROSKA_PADDING) }] : [];
  const firstCluster = ctx.segment.children.find((c) => c.id === ID.Cluster);
  if (ctx.tags) overrides.set(ctx.tags.start, labelled.map((item) => (item.kind === 'bytes' && item.isTags ? { ...item, replaces: ctx.tags } : item)));
  else if (firstCluster) overrides.set(firstCluster.start, [...labelled, { kind: 'copy', child: firstCluster }]);
  else append.push(...labelled);
  const list = items(ctx, overrides, append, true);
  return { items: list, layout: layoutOf(ctx, list) };
}

function segmentHeader(segment: SegmentLayout, size: number): Uint8Array | undefined {
  return segment.unknownSize ? undefined : new Uint8Array([...idBytes(ID.Segment), ...sizeBytes(size, segment.sizeWidth)]);
}

function pieces(layout: Layout): Piece[] {
  return layout.output.map((piece) => (piece instanceof Uint8Array ? piece : { start: piece.start, end: piece.end }));
}

/**
 * The layout to write. Tags before the Clusters are where exiftool and other readers that stop
 * at the first Cluster look, so they stay or go there whenever there is room, or when the old
 * Tags was there (moving the Clusters rather than the title out of those readers' sight);
 * otherwise the fewest positions change.
 */
async function choose(source: ByteSource, ctx: Context): Promise<{ items: Item[]; layout: Layout }> {
  if (ctx.tags === undefined || ctx.tags.start < ctx.firstCluster) {
    return (ctx.tags ? inPlace(ctx) : undefined) ?? relocated(ctx, false, true) ?? (await shifted(source, ctx));
  }
  return relocated(ctx, false, true) ?? inPlace(ctx) ?? relocated(ctx, false) ?? (await shifted(source, ctx));
}

async function rewrite(source: ByteSource, value: string | undefined, sink: ByteSink): Promise<void> {
  const ctx = await context(source, value);
  const writer = new SpliceWriter(source, sink, FORMAT);
  if (!ctx.tags && !ctx.newTags) {
    await writer.copy(0, source.size);
    await writer.finish();
    return;
  }
  const chosen = await choose(source, ctx);
  const header = segmentHeader(ctx.segment, chosen.layout.size);
  if (header) {
    await writer.copy(0, ctx.segment.start);
    await writer.bytes(header);
  } else {
    await writer.copy(0, ctx.segment.dataStart);
  }
  for (const piece of pieces(chosen.layout)) {
    if (piece instanceof Uint8Array) await writer.bytes(piece);
    else await writer.copy(piece.start, piece.end);
  }
  await writer.copy(ctx.segment.end, source.size);
  await writer.finish();
}

async function planInPlace(source: ByteSource, value: string): Promise<BytePatch[] | undefined> {
  const ctx = await context(source, value);
  const chosen = inPlace(ctx) ?? relocated(ctx, true);
  if (!chosen || chosen.layout.size !== ctx.segment.end - ctx.segment.dataStart) return undefined;
  return patchesFor(source, ctx.segment.dataStart, pieces(chosen.layout), FORMAT);
}

async function read(source: ByteSource): Promise<FoundLabel[]> {
  const segment = await scanSegment(source);
  const found: FoundLabel[] = [];
  for (const child of segment.children) {
    if (child.id === ID.Tags) found.push(...readTagLabels(parseTags(await loadChild(source, child), child.start)));
  }
  return found.sort((a, b) => Number(b.standard) - Number(a.standard));
}

/** The Clusters, where every frame is; adjacent ones merged. */
async function payloadRanges(source: ByteSource): Promise<ByteRange[]> {
  const ranges: ByteRange[] = [];
  for (const child of (await scanSegment(source)).children) {
    if (child.id !== ID.Cluster) continue;
    const last = ranges.at(-1);
    if (last?.end === child.start) last.end = child.end;
    else ranges.push({ start: child.start, end: child.end });
  }
  return ranges;
}

/** Segment children that are indexes or filler, which labelling rewrites: declared exclusions. */
export const MATROSKA_EXCLUDED: ReadonlySet<number> = new Set([ID.SeekHead, ID.Cues, ID.Void, ID.CRC32]);

/** A canonical element record: 4-byte ID, 8-byte length, contents. */
function elementRecord(id: number, length: number): Uint8Array {
  const out = new Uint8Array(12);
  const view = new DataView(out.buffer);
  view.setUint32(0, id);
  view.setBigUint64(4, BigInt(length));
  return out;
}

/** A parsed tree as canonical records, Voids and CRC-32s left out: sizes as written do not count. */
function canonical(el: EbmlElement): Uint8Array {
  if (!el.children) return concatBytes([elementRecord(el.id, el.data?.length ?? 0), el.data ?? new Uint8Array(0)]);
  const body = concatBytes(el.children.filter((c) => c.id !== ID.Void && c.id !== ID.CRC32).map(canonical));
  return concatBytes([elementRecord(el.id, body.length), body]);
}

/**
 * The signed content (docs/labels.md, "Matroska"): the bytes before the Segment, then each
 * Segment child as a record (ID, length, contents) but SeekHead, Cues, Void and CRC-32, whose
 * positions labelling may change; Tags with the label removed, as canonical records, after
 * the others wherever they are; then the bytes after the Segment. A changed track parameter (sampling frequency, pixel size, codec
 * private data) or frame changes it; moving the Clusters does not.
 */
async function signedContent(source: ByteSource, sink: ByteSink): Promise<void> {
  const segment = await scanSegment(source);
  await copyRange(source, 0, segment.start, sink, FORMAT);
  const tags: Uint8Array[] = [];
  for (const child of segment.children) {
    if (MATROSKA_EXCLUDED.has(child.id)) continue;
    if (child.id === ID.Tags) {
      const tree = parseTags(await loadChild(source, child), child.start);
      relabelTags(tree, undefined);
      if (hasTag(tree)) tags.push(canonical(tree));
      continue;
    }
    await sink.write(elementRecord(child.id, child.end - child.dataStart));
    await copyRange(source, child.dataStart, child.end, sink, FORMAT);
  }
  // Labelling may move Tags before or after the Clusters: where they are is not content.
  for (const tree of tags) await sink.write(tree);
  await copyRange(source, segment.end, source.size, sink, FORMAT);
}

function detect(head: Uint8Array): boolean {
  try {
    const header = readHeader(head, 0, 0);
    if (header.id !== ID.EBML || header.size === undefined) return false;
    const docType = latin1(head.subarray(header.headerLength, Math.min(head.length, header.headerLength + header.size)));
    return docType.includes('\x42\x82') && /matroska|webm/.test(docType);
  } catch (error) {
    if (error instanceof LabelFormatError) return false;
    throw error;
  }
}

export const matroskaCodec: LabelCodec = {
  format: 'matroska',
  mediaTypes: ['video/x-matroska', 'audio/x-matroska', 'video/webm', 'audio/webm'],
  extensions: ['mkv', 'mka', 'mk3d', 'webm'],
  detect,
  read,
  write: (source, value, sink) => rewrite(source, value, sink),
  remove: (source, sink) => rewrite(source, undefined, sink),
  payloadRanges,
  signedContent,
  planInPlace,
};
