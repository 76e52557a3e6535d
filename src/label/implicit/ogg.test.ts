import { describe, expect, it } from 'vitest';
import { LabelFormatError } from '../errors.js';
import { BufferSink, bufferSource, viewOf } from './bytes.js';
import {
  LONGER_LABEL,
  SAMPLE_LABEL,
  applyPatches,
  decodeReport,
  expectOnlyFormatErrors,
  hasFfmpeg,
  labelAndCheck,
  lavfiAudio,
  lavfiVideo,
  makeMedia,
  mutants,
  probeTags,
  removeLabel,
  tagValue,
  writeLabel,
} from './media-testkit.js';
import { oggCodec } from './ogg.js';
import { paginate } from './ogg-pages.js';
import { latin1, latin1Bytes } from './splice.js';

interface PageInfo {
  serial: number;
  sequence: number;
  granule: bigint;
  segments: number;
}

/** Every page's serial, sequence number and granule position, read plainly (RFC 3533 §6). */
function pages(bytes: Uint8Array): PageInfo[] {
  const view = viewOf(bytes);
  const out: PageInfo[] = [];
  for (let at = 0; at < bytes.length; ) {
    expect(latin1(bytes.subarray(at, at + 4))).toBe('OggS');
    const segments = bytes[at + 26] ?? 0;
    const body = bytes.subarray(at + 27, at + 27 + segments).reduce((n, v) => n + v, 0);
    out.push({ serial: view.getUint32(at + 14, true), sequence: view.getUint32(at + 18, true), granule: view.getBigInt64(at + 6, true), segments });
    at += 27 + segments + body;
  }
  return out;
}

/** Sequence numbers run 0, 1, 2, ... within each stream. */
function expectGaplessSequences(bytes: Uint8Array): void {
  const bySerial = new Map<number, number[]>();
  for (const page of pages(bytes)) bySerial.set(page.serial, [...(bySerial.get(page.serial) ?? []), page.sequence]);
  for (const sequences of bySerial.values()) expect(sequences).toEqual(sequences.map((_, i) => i));
}

const vorbis = (...extra: string[]) => makeMedia([...lavfiAudio(2), '-c:a', 'libvorbis', ...extra], 'ogg');
const opus = (...extra: string[]) => makeMedia([...lavfiAudio(2, 48000), '-c:a', 'libopus', ...extra], 'opus');
const crcChecked = ['-err_detect', 'crccheck'];

async function expectLabelled(bytes: Uint8Array, extension: string, value = SAMPLE_LABEL): Promise<Uint8Array> {
  const labelled = await labelAndCheck(oggCodec, bytes, extension, value, { decodeOptions: crcChecked });
  expectGaplessSequences(labelled);
  expect((await oggCodec.read(bufferSource(labelled))).map((l) => l.value)).toEqual([value]);
  return labelled;
}

describe.skipIf(!hasFfmpeg)('ogg codec with ffmpeg media', () => {
  it('labels Vorbis and Opus comment headers, and ffprobe reads them', async () => {
    const v = await expectLabelled(await vorbis(), 'ogg');
    expect((await oggCodec.read(bufferSource(v)))[0]?.location).toBe('ogg:vorbis-comment:AIGC');
    const o = await expectLabelled(await opus(), 'opus');
    expect((await oggCodec.read(bufferSource(o)))[0]?.location).toBe('ogg:OpusTags:AIGC');
  });

  it('re-paginates when the header needs more pages, renumbering every later page', async () => {
    const big = SAMPLE_LABEL.replace('"ReservedCode1":""', `"ReservedCode1":"${'r'.repeat(70_000)}"`);
    for (const [bytes, extension] of [[await vorbis(), 'ogg'], [await opus(), 'opus']] as const) {
      const before = pages(bytes).length;
      const labelled = await expectLabelled(bytes, extension, big);
      expect(pages(labelled).length).toBe(before + 1);
      const shrunk = await expectLabelled(labelled, extension, SAMPLE_LABEL);
      expect(pages(shrunk).length).toBe(before);
    }
  });

  it('labels the Vorbis stream of a Theora video and leaves the video stream as it was', async () => {
    const ogv = await makeMedia([...lavfiVideo(1), '-c:v', 'libtheora', '-c:a', 'libvorbis'], 'ogv');
    const labelled = await expectLabelled(ogv, 'ogv');
    const theora = pages(ogv)[0]?.serial;
    expect(pages(labelled).filter((p) => p.serial === theora)).toEqual(pages(ogv).filter((p) => p.serial === theora));
  });

  it('reads what ffmpeg writes with -metadata AIGC=, replaces and removes it', async () => {
    for (const [bytes, extension] of [[await vorbis('-metadata', `AIGC=${SAMPLE_LABEL}`), 'ogg'], [await opus('-metadata', `AIGC=${SAMPLE_LABEL}`), 'opus']] as const) {
      expect((await oggCodec.read(bufferSource(bytes))).map((l) => l.value)).toEqual([SAMPLE_LABEL]);
      await expectLabelled(bytes, extension, LONGER_LABEL);
      const removed = await removeLabel(oggCodec, bytes);
      expect(await oggCodec.read(bufferSource(removed))).toEqual([]);
      expect(tagValue(await probeTags(removed, extension), 'AIGC')).toBeUndefined();
      expect((await decodeReport(removed, extension, crcChecked)).errors).toBe('');
    }
  });

  it('relabels in place when the new header pages keep their sizes', async () => {
    const labelled = await writeLabel(oggCodec, await opus(), SAMPLE_LABEL);
    const same = SAMPLE_LABEL.replace('gen-20250901-0001', 'gen-20250901-0002');
    const patches = await oggCodec.planInPlace?.(bufferSource(labelled), same);
    expect(patches?.length).toBeGreaterThan(0);
    const patched = applyPatches(labelled, patches ?? []);
    expect(tagValue(await probeTags(patched, 'opus'), 'AIGC')).toBe(same);
    expect((await decodeReport(patched, 'opus', crcChecked)).errors).toBe('');
    expect(await oggCodec.planInPlace?.(bufferSource(labelled), LONGER_LABEL)).toBeUndefined();
  });

  it('reports a CRC mismatch with the page and offset, and survives mutations with LabelFormatError only', async () => {
    const labelled = await writeLabel(oggCodec, await vorbis(), SAMPLE_LABEL);
    const flipped = labelled.slice();
    flipped[200] = (flipped[200] ?? 0) ^ 0x10;
    const error = await oggCodec.read(bufferSource(flipped)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LabelFormatError);
    expect((error as Error).message).toMatch(/at byte \d+: page 1 of stream \d+ fails its CRC check/);
    for (const mutant of mutants(labelled, 200, 9, 4000)) await expectOnlyFormatErrors(oggCodec, mutant);
  });
});

describe('ogg pages', () => {
  it('paginates packets with correct lacing, continuation flags and granule positions', () => {
    const packets = [new Uint8Array(255 * 300).fill(1), new Uint8Array(510).fill(2)];
    const out = paginate(packets, 7, 1);
    const info = out.map((page) => ({ continued: (page[5] ?? 0) & 1, granule: viewOf(page).getBigInt64(6, true), segments: page[26] }));
    expect(info).toEqual([
      { continued: 0, granule: -1n, segments: 255 },
      { continued: 1, granule: 0n, segments: 49 },
    ]);
    expect(out.map((page) => viewOf(page).getUint32(18, true))).toEqual([1, 2]);
  });

  it('names the problem for a file that is not Ogg Vorbis or Opus', async () => {
    const notOgg = latin1Bytes('OggX\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0');
    const error = await oggCodec.write(bufferSource(notOgg), SAMPLE_LABEL, new BufferSink()).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/no 'OggS' capture pattern/);
  });
});
