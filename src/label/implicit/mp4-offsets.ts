/**
 * @module label/implicit/mp4-offsets
 * Absolute file offsets inside MP4 metadata, and how to move them when the `moov` region grows
 * or shrinks in front of the media data. ISO/IEC 14496-12 stores absolute offsets in `stco` and
 * `co64` (§8.7.5 chunk offsets), `saio` in a sample table (§8.7.9), `tfhd` with an explicit
 * base-data-offset (§8.8.7) and `tfra` (§8.8.10); `sidx` (§8.16.3) is relative to its own end.
 * Everything else (`trun` data offsets, `tfhd` default-base-is-moof) is relative and moves with
 * its box.
 */
import { LabelFormatError } from '../errors.js';
import { viewOf } from './bytes.js';
import { FORMAT, child, touch } from './mp4-boxes.js';
import type { Mp4Box } from './mp4-boxes.js';
import { readU64 } from './splice.js';

/** Offsets at or after `from` (the end of the old `moov` region) move by `delta` bytes. */
export interface Shift {
  from: number;
  delta: number;
}

/**
 * The new value of absolute offset `offset`.
 *
 * When the region shrinks (`delta` < 0, as the signed content of docs/labels.md computes it: the
 * `moov` region as if it were the bare `moov`), an offset in `[from + delta, from)` would land on
 * the same value as one past the region, and those bytes (the label, the `free` boxes after
 * `moov`) are left out of the hash: a forger could hide other samples there and point a chunk at
 * them (issue 11). No media data lives in the `moov` region, so such an offset is refused.
 *
 * @throws LabelFormatError for an offset into the part of the region that the shift removes.
 */
export function shiftOffset(offset: number, shift: Shift): number {
  if (shift.delta < 0 && offset >= shift.from + shift.delta && offset < shift.from) {
    throw new LabelFormatError(FORMAT, `an absolute offset (${offset}) points into the 'moov' region or the padding after it, where no media data can be`);
  }
  return offset >= shift.from ? offset + shift.delta : offset;
}

const U32_MAX = 0xffffffff;

function tooShort(box: Mp4Box, what: string): LabelFormatError {
  return new LabelFormatError(FORMAT, `'${box.type}' is too short for its ${what}`, { offset: box.offset });
}

/** The entries of a table whose count sits at `countAt`, checked against the box length. */
function tableBounds(box: Mp4Box, data: Uint8Array, countAt: number, entrySize: number): number {
  if (data.length < countAt + 4) throw tooShort(box, 'entry count');
  const count = viewOf(data).getUint32(countAt);
  if (countAt + 4 + count * entrySize > data.length) {
    throw new LabelFormatError(FORMAT, `'${box.type}' declares ${count} entries but holds only ${Math.floor((data.length - countAt - 4) / entrySize)}`, {
      offset: box.offset,
    });
  }
  return count;
}

/**
 * Shifts the chunk offsets of one `stco` or `co64` box, upgrading `stco` to `co64` when a
 * shifted offset no longer fits 32 bits (the only way to grow an offset table, §8.7.5).
 */
function shiftChunkOffsets(box: Mp4Box, shift: Shift): void {
  const data = box.data;
  if (!data) return;
  const wide = box.type === 'co64';
  const count = tableBounds(box, data, 4, wide ? 8 : 4);
  const view = viewOf(data);
  const offsets: number[] = new Array<number>(count);
  let max = 0;
  for (let i = 0; i < count; i++) {
    const at = 8 + i * (wide ? 8 : 4);
    const offset = shiftOffset(wide ? readU64(view, at, FORMAT, box.offset) : view.getUint32(at), shift);
    if (offset < 0) throw new LabelFormatError(FORMAT, `chunk offset ${offset} would be negative`, { offset: box.offset });
    offsets[i] = offset;
    if (offset > max) max = offset;
  }
  const toWide = wide || max > U32_MAX;
  const out = new Uint8Array(8 + count * (toWide ? 8 : 4));
  out.set(data.subarray(0, 4));
  const outView = viewOf(out);
  outView.setUint32(4, count);
  offsets.forEach((offset, i) => {
    if (toWide) outView.setBigUint64(8 + i * 8, BigInt(offset));
    else outView.setUint32(8 + i * 4, offset);
  });
  box.type = toWide ? 'co64' : 'stco';
  box.data = out;
  touch(box);
}

/** Shifts `saio` offsets (version 0: 32-bit, version 1: 64-bit), moving to version 1 on overflow. */
function shiftAuxOffsets(box: Mp4Box, shift: Shift): void {
  const data = box.data;
  if (!data || data.length < 4) throw tooShort(box, 'version and flags');
  const view = viewOf(data);
  const version = data[0] ?? 0;
  const countAt = view.getUint32(0) & 1 ? 12 : 4;
  const count = tableBounds(box, data, countAt, version === 0 ? 4 : 8);
  const offsets: number[] = [];
  for (let i = 0; i < count; i++) {
    const at = countAt + 4 + i * (version === 0 ? 4 : 8);
    offsets.push(shiftOffset(version === 0 ? view.getUint32(at) : readU64(view, at, FORMAT, box.offset), shift));
  }
  const wide = version !== 0 || offsets.some((o) => o > U32_MAX);
  const out = new Uint8Array(countAt + 4 + count * (wide ? 8 : 4));
  out.set(data.subarray(0, countAt + 4));
  out[0] = wide ? 1 : 0;
  const outView = viewOf(out);
  offsets.forEach((offset, i) => {
    if (wide) outView.setBigUint64(countAt + 4 + i * 8, BigInt(offset));
    else outView.setUint32(countAt + 4 + i * 4, offset);
  });
  box.data = out;
  touch(box);
}

/** Shifts every absolute offset in the sample tables of `moov` (moov/trak/mdia/minf/stbl). */
export function shiftMoovOffsets(moov: Mp4Box, shift: Shift): void {
  if (shift.delta === 0) return;
  for (const trak of moov.children ?? []) {
    if (trak.type !== 'trak') continue;
    const mdia = child(trak, 'mdia');
    const minf = child(mdia, 'minf');
    const stbl = child(minf, 'stbl');
    if (!mdia || !minf || !stbl?.children) continue;
    let changed = false;
    for (const table of stbl.children) {
      if (table.type === 'stco' || table.type === 'co64') shiftChunkOffsets(table, shift);
      else if (table.type === 'saio') shiftAuxOffsets(table, shift);
      else continue;
      changed = true;
    }
    if (changed) touch(trak, mdia, minf, stbl, moov);
  }
}

/**
 * Shifts the explicit base-data-offset of every `tfhd` in a `moof` (flag 0x000001, §8.8.7.1).
 * Fragments that use default-base-is-moof or moof-relative offsets need no change.
 */
export function shiftMoofOffsets(moof: Mp4Box, shift: Shift): boolean {
  let changed = false;
  for (const traf of moof.children ?? []) {
    if (traf.type !== 'traf') continue;
    const tfhd = child(traf, 'tfhd');
    const data = tfhd?.data;
    if (!tfhd || !data) continue;
    if (data.length < 8) throw tooShort(tfhd, 'track ID');
    const view = viewOf(data);
    if ((view.getUint32(0) & 1) === 0) continue;
    if (data.length < 16) throw tooShort(tfhd, 'base data offset');
    const base = readU64(view, 8, FORMAT, tfhd.offset);
    const moved = shiftOffset(base, shift);
    if (moved === base) continue;
    const out = data.slice();
    viewOf(out).setBigUint64(8, BigInt(moved));
    tfhd.data = out;
    touch(tfhd, traf, moof);
    changed = true;
  }
  return changed;
}

/**
 * Shifts the `moof_offset` of every `tfra` entry in an `mfra` (§8.8.10), moving a table to
 * version 1 (64-bit) on overflow, and keeps `mfro` (§8.8.11) equal to the new `mfra` size.
 */
export function shiftMfraOffsets(mfra: Mp4Box, shift: Shift): boolean {
  let changed = false;
  for (const tfra of mfra.children ?? []) {
    if (tfra.type !== 'tfra' || !tfra.data) continue;
    changed = shiftRandomAccessTable(tfra, tfra.data, shift) || changed;
  }
  return changed;
}

function shiftRandomAccessTable(tfra: Mp4Box, data: Uint8Array, shift: Shift): boolean {
  if (data.length < 16) throw tooShort(tfra, 'header');
  const view = viewOf(data);
  const version = data[0] ?? 0;
  const lengths = view.getUint32(8);
  const trailing = ((lengths >> 4) & 3) + 1 + (((lengths >> 2) & 3) + 1) + ((lengths & 3) + 1);
  const wideIn = version === 1;
  const entrySize = (wideIn ? 16 : 8) + trailing;
  const count = tableBounds(tfra, data, 12, entrySize);
  const entries: { time: number; offset: number; rest: Uint8Array }[] = [];
  let changed = false;
  for (let i = 0; i < count; i++) {
    const at = 16 + i * entrySize;
    const time = wideIn ? readU64(view, at, FORMAT, tfra.offset) : view.getUint32(at);
    const offset = wideIn ? readU64(view, at + 8, FORMAT, tfra.offset) : view.getUint32(at + 4);
    const moved = shiftOffset(offset, shift);
    if (moved !== offset) changed = true;
    const restAt = at + (wideIn ? 16 : 8);
    entries.push({ time, offset: moved, rest: data.subarray(restAt, restAt + trailing) });
  }
  if (!changed) return false;
  const wide = wideIn || entries.some((e) => e.offset > U32_MAX);
  const outEntry = (wide ? 16 : 8) + trailing;
  const out = new Uint8Array(16 + count * outEntry);
  out.set(data.subarray(0, 16));
  out[0] = wide ? 1 : 0;
  const outView = viewOf(out);
  entries.forEach((entry, i) => {
    const at = 16 + i * outEntry;
    if (wide) {
      outView.setBigUint64(at, BigInt(entry.time));
      outView.setBigUint64(at + 8, BigInt(entry.offset));
    } else {
      outView.setUint32(at, entry.time);
      outView.setUint32(at + 4, entry.offset);
    }
    out.set(entry.rest, at + (wide ? 16 : 8));
  });
  tfra.data = out;
  touch(tfra);
  return true;
}

/** Sets `mfro` to the size of its `mfra` (it lets readers find `mfra` from the end of the file). */
export function updateMfro(mfra: Mp4Box, mfraSize: number): void {
  const mfro = child(mfra, 'mfro');
  if (!mfro?.data) return;
  if (mfro.data.length < 8) throw tooShort(mfro, 'size');
  const out = mfro.data.slice();
  viewOf(out).setUint32(4, mfraSize);
  mfro.data = out;
  touch(mfro, mfra);
}

/**
 * The new contents of a `sidx` at `[start, end)` that lies before the moved region: its
 * `first_offset` counts from the box's end, so it grows when the region between the box and
 * the first referenced segment does. A `sidx` after the region moves with what it indexes.
 */
export function shiftSidx(data: Uint8Array, end: number, offset: number, shift: Shift): Uint8Array | undefined {
  const version = data[0] ?? 0;
  const at = version === 0 ? 16 : 20;
  if (data.length < at + (version === 0 ? 4 : 8)) throw new LabelFormatError(FORMAT, `'sidx' is too short for its first offset`, { offset });
  const view = viewOf(data);
  const first = version === 0 ? view.getUint32(at) : readU64(view, at, FORMAT, offset);
  const target = end + first;
  const moved = shiftOffset(target, shift) - shiftOffset(end, shift);
  if (moved === first) return undefined;
  const out = data.slice();
  if (version === 0) {
    if (moved > U32_MAX) throw new LabelFormatError(FORMAT, `'sidx' version 0 cannot hold first offset ${moved}`, { offset });
    viewOf(out).setUint32(at, moved);
  } else {
    viewOf(out).setBigUint64(at, BigInt(moved));
  }
  return out;
}
