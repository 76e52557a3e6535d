import { describe, expect, it } from 'vitest';
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
  lavfiAudio,
  makeMedia,
  mutants,
  probeTags,
  removeLabel,
  tagValue,
  writeLabel,
} from './media-testkit.js';
import { mp3Codec } from './mp3.js';
import { parseTag, resynchronise, syncsafe } from './mp3-id3.js';
import { crc32 } from './bytes.js';
import { latin1, latin1Bytes } from './splice.js';

const mp3 = (...extra: string[]) => makeMedia([...lavfiAudio(1, 44100), '-c:a', 'libmp3lame', '-b:a', '64k', ...extra], 'mp3');

async function expectLabelled(bytes: Uint8Array, value = SAMPLE_LABEL): Promise<Uint8Array> {
  const labelled = await labelAndCheck(mp3Codec, bytes, 'mp3', value);
  expect((await mp3Codec.read(bufferSource(labelled))).map((l) => [l.value, l.standard])).toEqual([[value, true]]);
  return labelled;
}

describe.skipIf(!hasFfmpeg)('mp3 codec with ffmpeg media', () => {
  it('adds a TXXX frame to the ID3v2.4 tag ffmpeg writes, and ffprobe reads it', async () => {
    const labelled = await expectLabelled(await mp3());
    expect((await mp3Codec.read(bufferSource(labelled)))[0]?.location).toBe('mp3:ID3v2.4/TXXX:AIGC');
  });

  it('writes ID3v2.3 tags in ISO-8859-1 or UTF-16 as the value needs', async () => {
    const v23 = await mp3('-id3v2_version', '3');
    expect(v23[3]).toBe(3);
    await expectLabelled(v23, SAMPLE_LABEL);
    await expectLabelled(v23, SAMPLE_LABEL.replace('传播', 'prop'));
  });

  it('creates a tag in a file without one, and keeps the ID3v1 tag at the end', async () => {
    const bare = await mp3('-id3v2_version', '0');
    expect(latin1(bare.subarray(0, 3))).not.toBe('ID3');
    expect(mp3Codec.detect(bare.subarray(0, 4096))).toBe(true);
    await expectLabelled(bare);
    const withV1 = await mp3('-write_id3v1', '1', '-metadata', 'title=v1 title');
    const labelled = await expectLabelled(withV1);
    expect(labelled.subarray(-128)).toEqual(withV1.subarray(-128));
    expect(tagValue(await probeTags(labelled, 'mp3'), 'title')).toBe('v1 title');
  });

  it('reads the TXXX frame ffmpeg writes for -metadata AIGC=, replaces it and removes it', async () => {
    const tagged = await mp3('-metadata', `AIGC=${SAMPLE_LABEL}`, '-metadata', 'artist=kept');
    expect(await mp3Codec.read(bufferSource(tagged))).toEqual([{ value: SAMPLE_LABEL, location: 'mp3:ID3v2.4/TXXX:AIGC', standard: true }]);
    const relabelled = await writeLabel(mp3Codec, tagged, LONGER_LABEL);
    const tags = await probeTags(relabelled, 'mp3');
    expect(tagValue(tags, 'AIGC')).toBe(LONGER_LABEL);
    expect(tagValue(tags, 'artist')).toBe('kept');
    const removed = await removeLabel(mp3Codec, relabelled);
    expect(await mp3Codec.read(bufferSource(removed))).toEqual([]);
    expect(tagValue(await probeTags(removed, 'mp3'), 'AIGC')).toBeUndefined();
    expect(tagValue(await probeTags(removed, 'mp3'), 'artist')).toBe('kept');
    expect((await decodeReport(removed, 'mp3')).frames).toBe((await decodeReport(tagged, 'mp3')).frames);
  });

  it('relabels in place within the tag padding', async () => {
    const labelled = await writeLabel(mp3Codec, await mp3(), SAMPLE_LABEL);
    const patches = await mp3Codec.planInPlace?.(bufferSource(labelled), LONGER_LABEL);
    expect(patches).toBeDefined();
    const patched = applyPatches(labelled, patches ?? []);
    expect(tagValue(await probeTags(patched, 'mp3'), 'AIGC')).toBe(LONGER_LABEL);
    expect(await mp3Codec.planInPlace?.(bufferSource(labelled), 'x'.repeat(5000))).toBeUndefined();
    expect(await mp3Codec.planInPlace?.(bufferSource(await mp3('-id3v2_version', '0')), SAMPLE_LABEL)).toBeUndefined();
  });

  it('survives mutated and truncated files with LabelFormatError only', async () => {
    const labelled = await writeLabel(mp3Codec, await mp3('-write_id3v1', '1'), SAMPLE_LABEL);
    for (const mutant of mutants(labelled, 300, 11, 1400)) await expectOnlyFormatErrors(mp3Codec, mutant);
  });
});

/** An ID3v2 tag from its version, flags and body (everything after the 10-byte header). */
function id3(version: number, flags: number, body: Uint8Array): Uint8Array {
  return concatBytes([Uint8Array.of(0x49, 0x44, 0x33, version, 0, flags), syncsafe(body.length), body]);
}

function frame23(id: string, body: Uint8Array): Uint8Array {
  const header = new Uint8Array(10);
  header.set(latin1Bytes(id));
  viewOf(header).setUint32(4, body.length);
  return concatBytes([header, body]);
}

/** Unsynchronises `bytes` (ID3v2.4 §6.1), as an old tagger would have. */
function unsynchronise(bytes: Uint8Array): Uint8Array {
  const out: number[] = [];
  bytes.forEach((byte, i) => {
    out.push(byte);
    const next = bytes[i + 1];
    if (byte === 0xff && (next === undefined || next === 0 || next >= 0xe0)) out.push(0);
  });
  return Uint8Array.from(out);
}

/** Two fake MPEG-1 Layer III frames (128 kbit/s, 44.1 kHz: 417 bytes each). */
const AUDIO = concatBytes([Uint8Array.of(0xff, 0xfb, 0x90, 0x00), new Uint8Array(413).fill(0x55), Uint8Array.of(0xff, 0xfb, 0x90, 0x00), new Uint8Array(413)]);

describe('mp3 codec on synthetic tags', () => {
  it('computes CRC-32 as ISO 3309 defines it', () => {
    expect(crc32(latin1Bytes('123456789'))).toBe(0xcbf43926);
  });

  it('reads and rewrites an unsynchronised ID3v2.3 tag with an extended header and CRC', async () => {
    const picture = frame23('APIC', Uint8Array.of(0, 0x69, 0x6d, 0x61, 0x67, 0x65, 0x2f, 0, 3, 0, 0xff, 0xe3, 0xff, 0x00, 0xff));
    const old = frame23('TXXX', latin1Bytes('\0AIGC\0{"Label":"2"}'));
    const frames = concatBytes([picture, old]);
    const extended = new Uint8Array(14);
    viewOf(extended).setUint32(0, 10);
    viewOf(extended).setUint16(4, 0x8000);
    viewOf(extended).setUint32(6, 20);
    viewOf(extended).setUint32(10, crc32(frames));
    const file = concatBytes([id3(3, 0xc0, unsynchronise(concatBytes([extended, frames, new Uint8Array(20)]))), AUDIO]);
    expect(await mp3Codec.read(bufferSource(file))).toEqual([{ value: '{"Label":"2"}', location: 'mp3:ID3v2.3/TXXX:AIGC', standard: true }]);
    const out = await writeLabel(mp3Codec, file, SAMPLE_LABEL);
    const tag = parseTag(out, 0);
    expect(tag.flags & 0x80).toBe(0);
    expect(tag.frames.map((f) => f.id)).toEqual(['APIC', 'TXXX']);
    expect(tag.frames[0]?.bytes).toEqual(picture);
    const newFrames = concatBytes(tag.frames.map((f) => f.bytes));
    const ext = viewOf(tag.extendedHeader ?? new Uint8Array(14));
    expect(ext.getUint32(10)).toBe(crc32(newFrames));
    expect(ext.getUint32(6)).toBe(tag.size - 10 - 14 - newFrames.length);
    expect(out.subarray(tag.size)).toEqual(AUDIO);
    expect((await mp3Codec.read(bufferSource(out))).map((l) => l.value)).toEqual([SAMPLE_LABEL]);
    expect(resynchronise(Uint8Array.of(0xff, 0, 0xe0, 0xff, 0, 0))).toEqual(Uint8Array.of(0xff, 0xe0, 0xff, 0));
  });

  it('handles ID3v2.2 (TXX) and ID3v2.4 footers', async () => {
    const txx = concatBytes([latin1Bytes('TXX'), Uint8Array.of(0, 0, 14), latin1Bytes('\0AIGC\0{"Label":"3"}').subarray(0, 14)]);
    const v22 = concatBytes([id3(2, 0, concatBytes([txx, new Uint8Array(10)])), AUDIO]);
    expect((await mp3Codec.read(bufferSource(v22))).map((l) => l.location)).toEqual(['mp3:ID3v2.2/TXX:AIGC']);
    const relabelled = await writeLabel(mp3Codec, v22, SAMPLE_LABEL);
    expect((await mp3Codec.read(bufferSource(relabelled))).map((l) => [l.value, l.location])).toEqual([[SAMPLE_LABEL, 'mp3:ID3v2.2/TXX:AIGC']]);

    const body = frame23('TIT2', latin1Bytes('\0title'));
    body.set(syncsafe(6), 4);
    const v24 = concatBytes([id3(4, 0x10, body), latin1Bytes('3DI'), Uint8Array.of(4, 0, 0x10), syncsafe(body.length), AUDIO]);
    const out = await writeLabel(mp3Codec, v24, SAMPLE_LABEL);
    const tag = parseTag(out, 0);
    expect(latin1(out.subarray(tag.size - 10, tag.size - 7))).toBe('3DI');
    expect(out.subarray(tag.size - 4, tag.size)).toEqual(out.subarray(6, 10));
    expect(out.subarray(tag.size)).toEqual(AUDIO);
    expect(await mp3Codec.planInPlace?.(bufferSource(out), SAMPLE_LABEL.replace('1', '2'))).toBeDefined();
  });

  it('names the problem and the offset for malformed tags', async () => {
    const tag = id3(4, 0, new Uint8Array(20));
    const cases: [Uint8Array, RegExp][] = [
      [(() => { const t = tag.slice(); t[7] = 0x80; return t; })(), /bad syncsafe size.*top bit/],
      [concatBytes([tag.subarray(0, 20)]), /runs past the end of the file/],
      [concatBytes([id3(3, 0, frame23('TIT2', new Uint8Array(4)).subarray(0, 12)), AUDIO]), /frame TIT2 of 4 bytes overruns the tag/],
      [concatBytes([Uint8Array.of(0x49, 0x44, 0x33, 5, 0, 0, 0, 0, 0, 0), AUDIO]), /unsupported ID3v2 version 2.5/],
    ];
    for (const [bytes, message] of cases) {
      const error = await mp3Codec.write(bufferSource(bytes), SAMPLE_LABEL, new BufferSink()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LabelFormatError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toMatch(/at byte \d+/);
    }
  });

  it('detects MP3 by its tag or its frames, not ADTS or FLAC with an ID3 tag', () => {
    expect(mp3Codec.detect(AUDIO)).toBe(true);
    expect(mp3Codec.detect(id3(4, 0, new Uint8Array(10)))).toBe(true);
    expect(mp3Codec.detect(concatBytes([id3(4, 0, new Uint8Array(10)), latin1Bytes('fLaC')]))).toBe(false);
    expect(mp3Codec.detect(Uint8Array.of(0xff, 0xf1, 0x50, 0x80, 0, 0))).toBe(false);
    expect(mp3Codec.detect(latin1Bytes('RIFF....WAVE'))).toBe(false);
  });
});
