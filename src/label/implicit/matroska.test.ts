import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { systemTool } from '../../../test/helpers/system.js';
import { LabelFormatError } from '../errors.js';
import { BufferSink, bufferSource, concatBytes, viewOf } from './bytes.js';
import {
  LONGER_LABEL,
  SAMPLE_LABEL,
  applyPatches,
  decodeReport,
  expectOnlyFormatErrors,
  hasFfmpeg,
  labelAndCheck,
  lavfiVideo,
  makeMedia,
  mutants,
  probeTags,
  removeLabel,
  tagValue,
  writeLabel,
} from './media-testkit.js';
import { MATROSKA_PADDING, matroskaCodec } from './matroska.js';
import { crc32 } from './bytes.js';
import { latin1Bytes } from './splice.js';

interface Element {
  id: number;
  start: number;
  dataStart: number;
  end: number;
}

/** Reads an EBML vint at `at` (RFC 8794 §4), keeping the marker for IDs. */
function vint(bytes: Uint8Array, at: number, keepMarker: boolean): { value: number; length: number; unknown: boolean } {
  const first = bytes[at] ?? 0;
  let length = 1;
  while (length <= 8 && !(first & (0x80 >> (length - 1)))) length++;
  let value = keepMarker ? first : first & (0xff >> length);
  let unknown = value === 0xff >> length;
  for (let i = 1; i < length; i++) {
    value = value * 256 + (bytes[at + i] ?? 0);
    unknown &&= bytes[at + i] === 0xff;
  }
  return { value, length, unknown: !keepMarker && unknown };
}

/** The elements in `[from, to)`; an unknown size runs to `to`. */
function elements(bytes: Uint8Array, from: number, to: number): Element[] {
  const out: Element[] = [];
  for (let at = from; at < to; ) {
    const id = vint(bytes, at, true);
    const size = vint(bytes, at + id.length, false);
    const dataStart = at + id.length + size.length;
    const end = size.unknown ? to : dataStart + size.value;
    out.push({ id: id.value, start: at, dataStart, end });
    at = end;
  }
  return out;
}

/** A plain check of a Matroska file: every SeekHead and Cues position lands on an element of the right ID, every CRC-32 matches. */
function checkPositions(bytes: Uint8Array): void {
  const [, segment] = elements(bytes, 0, bytes.length);
  if (!segment) throw new Error('no Segment');
  const children = elements(bytes, segment.dataStart, segment.end);
  const at = (position: number, id: number) => {
    expect(vint(bytes, segment.dataStart + position, true).value).toBe(id);
  };
  const uint = (el: Element) => bytes.subarray(el.dataStart, el.end).reduce((n, b) => n * 256 + b, 0);
  for (const child of children) {
    const inner = child.id === 0x114d9b74 || child.id === 0x1c53bb6b || child.id === 0x1254c367 ? elements(bytes, child.dataStart, child.end) : [];
    const crc = inner[0]?.id === 0xbf ? inner[0] : undefined;
    if (crc) expect(viewOf(bytes.subarray(crc.dataStart, crc.end)).getUint32(0, true)).toBe(crc32(bytes.subarray(crc.end, child.end)));
    if (child.id === 0x114d9b74) {
      for (const seek of inner.filter((e) => e.id === 0x4dbb)) {
        const fields = elements(bytes, seek.dataStart, seek.end);
        const id = fields.find((f) => f.id === 0x53ab);
        const position = fields.find((f) => f.id === 0x53ac);
        if (id && position) at(uint(position), uint(id));
      }
    }
    if (child.id === 0x1c53bb6b) {
      for (const point of inner.filter((e) => e.id === 0xbb)) {
        for (const track of elements(bytes, point.dataStart, point.end).filter((e) => e.id === 0xb7)) {
          const cluster = elements(bytes, track.dataStart, track.end).find((f) => f.id === 0xf1);
          if (cluster) at(uint(cluster), 0x1f43b675);
        }
      }
    }
  }
}

const exiftool = systemTool('exiftool', 'libimage-exiftool-perl');

/** What exiftool prints for a file, with its default options. */
async function exiftoolTags(bytes: Uint8Array, extension: string): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'hegui-mkv-'));
  try {
    const path = join(dir, `a.${extension}`);
    writeFileSync(path, bytes);
    return (JSON.parse(execFileSync('exiftool', ['-j', path]).toString()) as Record<string, unknown>[])[0] ?? {};
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const mkv = (...extra: string[]) => makeMedia([...lavfiVideo(2), '-c:v', 'libx264', '-g', '5', '-c:a', 'aac', ...extra], 'mkv');
const webm = (...extra: string[]) => makeMedia([...lavfiVideo(2), '-c:v', 'libvpx', '-c:a', 'libopus', ...extra], 'webm');

async function expectLabelled(bytes: Uint8Array, extension: string, value = SAMPLE_LABEL): Promise<Uint8Array> {
  const labelled = await labelAndCheck(matroskaCodec, bytes, extension, value);
  checkPositions(labelled);
  expect(await matroskaCodec.read(bufferSource(labelled))).toEqual([{ value, location: 'matroska:Segment/Tags/Tag/SimpleTag:AIGC', standard: true }]);
  return labelled;
}

/** `bytes` with the element at `at` turned into a Void of the same length (ID and size rewritten). */
function voided(bytes: Uint8Array, at: number): Uint8Array {
  const out = bytes.slice();
  const id = vint(bytes, at, true);
  const size = vint(bytes, at + id.length, false);
  const total = id.length + size.length + size.value;
  const width = id.length + size.length - 1;
  const data = total - 1 - width;
  out[at] = 0xec;
  for (let i = width - 1, rest = data; i >= 0; i--, rest = Math.floor(rest / 256)) out[at + 1 + i] = rest & 0xff;
  out[at + 1] = (out[at + 1] ?? 0) | (0x80 >> (width - 1));
  return out;
}

describe.skipIf(!hasFfmpeg)('matroska codec with ffmpeg media', () => {
  it('labels MKV (with CRC-32 elements) and WebM, and ffprobe reads the AIGC tag', async () => {
    await expectLabelled(await mkv('-metadata', 'title=kept'), 'mkv');
    expect(tagValue(await probeTags(await writeLabel(matroskaCodec, await mkv('-metadata', 'title=kept'), SAMPLE_LABEL), 'mkv'), 'title')).toBe('kept');
    await expectLabelled(await webm(), 'webm');
  });

  it('keeps Tags, the title with it, before the Clusters, where exiftool reads without options', async () => {
    for (const original of [await mkv('-metadata', 'title=kept'), await webm('-metadata', 'title=kept')]) {
      const labelled = await expectLabelled(original, 'mkv');
      const [, segment] = elements(labelled, 0, labelled.length);
      const ids = elements(labelled, segment?.dataStart ?? 0, segment?.end ?? labelled.length).map((c) => c.id);
      expect(ids.indexOf(0x1254c367)).toBeGreaterThanOrEqual(0);
      expect(ids.indexOf(0x1254c367)).toBeLessThan(ids.indexOf(0x1f43b675));
      if (exiftool) {
        const tags = await exiftoolTags(labelled, 'mkv');
        expect(tags).toMatchObject({ Title: 'kept', Aigc: SAMPLE_LABEL });
      }
    }
  });

  it('labels a live WebM whose Segment has an unknown size', async () => {
    const live = await makeMedia([...lavfiVideo(2), '-c:v', 'libvpx', '-c:a', 'libopus', '-live', '1'], 'webm');
    expect(live.subarray(0, 200).some((_, i) => live[i] === 0x18 && live[i + 4] === 0x01 && live[i + 5] === 0xff)).toBe(true);
    await expectLabelled(live, 'webm');
  });

  it('labels a recording without SeekHead and with unknown-size Clusters, inserting Tags before the first Cluster', async () => {
    const live = await makeMedia([...lavfiVideo(2), '-c:v', 'libvpx', '-c:a', 'libopus', '-live', '1'], 'webm');
    const [, segment] = elements(live, 0, live.length);
    let recording = live;
    let unsized = 0;
    for (const child of elements(live, segment?.dataStart ?? 0, live.length)) {
      if (child.id === 0x114d9b74) recording = voided(recording, child.start);
      if (child.id === 0x1f43b675 && vint(live, child.start + 4, false).length === 2) {
        recording.set([0x7f, 0xff], child.start + 4);
        unsized++;
      }
    }
    expect(unsized).toBeGreaterThan(1);
    expect(elements(recording, segment?.dataStart ?? 0, recording.length).some((c) => c.id === 0x114d9b74)).toBe(false);
    const labelled = await expectLabelled(recording, 'webm');
    const ids = elements(labelled, segment?.dataStart ?? 0, labelled.length).map((c) => c.id);
    expect(ids.indexOf(0x1254c367)).toBeLessThan(ids.indexOf(0x1f43b675));
  });

  it('moves the clusters and rewrites SeekHead and Cues positions when nothing else fits', async () => {
    // Over 64 KiB, so a SeekPosition past the end needs a third byte.
    const big = await makeMedia(['-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25:duration=4', '-c:v', 'mpeg4', '-q:v', '2', '-g', '25'], 'mkv');
    expect(big.length).toBeGreaterThan(80_000);
    const [, segment] = elements(big, 0, big.length);
    const children = elements(big, segment?.dataStart ?? 0, segment?.end ?? 0);
    const absorber = children[children.findIndex((c) => c.id === 0x114d9b74) + 1];
    expect(absorber?.id).toBe(0xec);
    // An unknown level-1 element in place of the Void after the SeekHead: no room to grow into.
    const cramped = big.slice();
    cramped[absorber?.start ?? 0] = 0xeb;
    const labelled = await expectLabelled(cramped, 'mkv');
    const firstCluster = (bytes: Uint8Array) => elements(bytes, segment?.dataStart ?? 0, bytes.length).find((c) => c.id === 0x1f43b675)?.start;
    expect(firstCluster(labelled)).toBeGreaterThan(firstCluster(cramped) ?? 0);
    const seekFrom = async (bytes: Uint8Array) => decodeReport(bytes, 'mkv', ['-ss', '3']);
    expect((await seekFrom(labelled)).frames).toBe((await seekFrom(cramped)).frames);
  });

  it('reads what ffmpeg writes, clears track-level labels, relabels in place and removes', async () => {
    const tagged = await mkv('-metadata', `AIGC=${SAMPLE_LABEL}`, '-metadata:s:a:0', 'AIGC={"Label":"3"}');
    expect(await matroskaCodec.read(bufferSource(tagged))).toEqual([
      { value: SAMPLE_LABEL, location: 'matroska:Segment/Tags/Tag/SimpleTag:AIGC', standard: true },
      { value: '{"Label":"3"}', location: 'matroska:Segment/Tags/Tag[track]/SimpleTag:AIGC', standard: false },
    ]);
    const relabelled = await expectLabelled(tagged, 'mkv', LONGER_LABEL);
    const patches = await matroskaCodec.planInPlace?.(bufferSource(relabelled), SAMPLE_LABEL);
    expect(patches).toBeDefined();
    const patched = applyPatches(relabelled, patches ?? []);
    expect(tagValue(await probeTags(patched, 'mkv'), 'AIGC')).toBe(SAMPLE_LABEL);
    checkPositions(patched);
    expect(await matroskaCodec.planInPlace?.(bufferSource(relabelled), 'x'.repeat(MATROSKA_PADDING * 2))).toBeUndefined();
    const removed = await removeLabel(matroskaCodec, patched);
    expect(removed.length).toBe(patched.length);
    expect(await matroskaCodec.read(bufferSource(removed))).toEqual([]);
    expect(tagValue(await probeTags(removed, 'mkv'), 'AIGC')).toBeUndefined();
    expect((await decodeReport(removed, 'mkv')).frames).toBe((await decodeReport(tagged, 'mkv')).frames);
    checkPositions(removed);
    const plain = await webm();
    expect(await removeLabel(matroskaCodec, plain)).toEqual(plain);
  });

  it('survives mutated and truncated files with LabelFormatError only', async () => {
    const labelled = await writeLabel(matroskaCodec, await mkv(), SAMPLE_LABEL);
    for (const mutant of mutants(labelled, 300, 13, 800)) await expectOnlyFormatErrors(matroskaCodec, mutant);
    for (const mutant of mutants(labelled, 100, 14).map((m) => m.subarray(0, Math.max(0, m.length - 2000)))) await expectOnlyFormatErrors(matroskaCodec, mutant);
  });
});

describe('matroska codec on synthetic files', () => {
  const header = concatBytes([Uint8Array.of(0x1a, 0x45, 0xdf, 0xa3, 0x8b, 0x42, 0x82, 0x88), latin1Bytes('matroska')]);

  it('names the problem and the offset for malformed EBML', async () => {
    const cases: [Uint8Array, RegExp][] = [
      [concatBytes([header, Uint8Array.of(0x18, 0x53, 0x80, 0x67, 0x00)]), /bad EBML vint/],
      [concatBytes([header, Uint8Array.of(0x18, 0x53, 0x80, 0x67, 0x85, 0x15, 0x49, 0xa9, 0x66, 0x90)]), /runs past the end of the Segment/],
      [concatBytes([header, Uint8Array.of(0x18, 0x53, 0x80, 0x67, 0x88, 0x15, 0x49, 0xa9, 0x66, 0xff, 0, 0, 0)]), /unknown size, which only Segment and Cluster may have/],
      [concatBytes([header.subarray(0, 8), latin1Bytes('notmkv!!'), Uint8Array.of(0x18, 0x53, 0x80, 0x67, 0x80)]), /DocType "notmkv!!"/],
      [concatBytes([header, Uint8Array.of(0x18, 0x53, 0x80, 0x67, 0x9f)]), /the Segment of 31 bytes runs past the end/],
    ];
    for (const [bytes, message] of cases) {
      const error = await matroskaCodec.write(bufferSource(bytes), SAMPLE_LABEL, new BufferSink()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LabelFormatError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toMatch(/at byte \d+/);
    }
  });

  it('detects Matroska and WebM by the EBML DocType only', () => {
    expect(matroskaCodec.detect(header)).toBe(true);
    expect(matroskaCodec.detect(concatBytes([header.subarray(0, 4), Uint8Array.of(0x87, 0x42, 0x82, 0x84), latin1Bytes('webm')]))).toBe(true);
    expect(matroskaCodec.detect(latin1Bytes('RIFF....WAVE'))).toBe(false);
  });
});
