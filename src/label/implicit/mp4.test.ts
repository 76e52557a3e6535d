import { describe, expect, it } from 'vitest';
import { LabelFormatError } from '../errors.js';
import { BufferSink, bufferSource, concatBytes, viewOf } from './bytes.js';
import type { ByteSource } from './codec.js';
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
import { MP4_PADDING, mp4Codec } from './mp4.js';
import { latin1, latin1Bytes } from './splice.js';

const video = ['-c:v', 'libx264', '-g', '5', '-c:a', 'aac'];

/** The top-level box types of a file, in order. */
function topTypes(bytes: Uint8Array): string[] {
  const view = viewOf(bytes);
  const types: string[] = [];
  for (let at = 0; at + 8 <= bytes.length; ) {
    const size = view.getUint32(at);
    types.push(latin1(bytes.subarray(at + 4, at + 8)));
    at += size === 1 ? Number(view.getBigUint64(at + 8)) : size === 0 ? bytes.length : size;
  }
  return types;
}

/** Labels `bytes`, then checks what an independent reader sees and that no frame changed. */
async function expectLabelled(bytes: Uint8Array, extension: string): Promise<Uint8Array> {
  const labelled = await labelAndCheck(mp4Codec, bytes, extension);
  expect(await mp4Codec.read(bufferSource(labelled))).toEqual([{ value: SAMPLE_LABEL, location: 'mp4:moov/udta/meta/ilst', standard: true }]);
  return labelled;
}

describe.skipIf(!hasFfmpeg)('mp4 codec with ffmpeg media', () => {
  it('labels a file with moov after mdat, and ffprobe reads the AIGC tag', async () => {
    const mp4 = await makeMedia([...lavfiVideo(), ...video], 'mp4');
    expect(topTypes(mp4).indexOf('moov')).toBeGreaterThan(topTypes(mp4).indexOf('mdat'));
    await expectLabelled(mp4, 'mp4');
  });

  it('labels a file with moov before mdat, shifting every chunk offset', async () => {
    const mp4 = await makeMedia([...lavfiVideo(), ...video, '-movflags', '+faststart'], 'mp4');
    expect(topTypes(mp4).indexOf('moov')).toBeLessThan(topTypes(mp4).indexOf('mdat'));
    const labelled = await expectLabelled(mp4, 'mp4');
    expect(topTypes(labelled)).toEqual(['ftyp', 'moov', 'free', 'mdat']);
  });

  it('labels fragmented files: explicit tfhd base offsets and the mfra index move with the data', async () => {
    for (const flags of ['frag_keyframe+empty_moov', 'frag_keyframe+empty_moov+default_base_moof', 'frag_keyframe+empty_moov+dash']) {
      const mp4 = await makeMedia([...lavfiVideo(2), ...video, '-movflags', flags], 'mp4');
      expect(topTypes(mp4)).toContain('moof');
      await expectLabelled(mp4, 'mp4');
    }
    const ismv = await makeMedia([...lavfiVideo(2), ...video, '-f', 'ismv'], 'ismv');
    expect(topTypes(ismv).at(-1)).toBe('mfra');
    const labelled = await expectLabelled(ismv, 'mp4');
    const mfraAt = labelled.length - viewOf(labelled).getUint32(labelled.length - 4);
    expect(latin1(labelled.subarray(mfraAt + 4, mfraAt + 8))).toBe('mfra');
  });

  it('keeps CENC-encrypted samples decryptable: saio offsets into moov stay true', async () => {
    const key = '00112233445566778899aabbccddeeff';
    const cenc = ['-c:v', 'libx264', '-encryption_scheme', 'cenc-aes-ctr', '-encryption_key', key, '-encryption_kid', key];
    // (ffmpeg 5.1 cannot decrypt its own fragmented CENC output, so only whole movies are compared.)
    for (const layout of [['-movflags', '+faststart'], []]) {
      const mp4 = await makeMedia([...lavfiVideo(1, false), ...cenc, ...layout], 'mp4');
      expect(latin1(mp4).includes('saio')).toBe(true);
      const labelled = await writeLabel(mp4Codec, mp4, SAMPLE_LABEL);
      const [before, after] = [await decodeReport(mp4, 'mp4', ['-decryption_key', key]), await decodeReport(labelled, 'mp4', ['-decryption_key', key])];
      expect(after.errors).toBe('');
      expect(after.frames).toBe(before.frames);
    }
  });

  it('labels M4A audio and QuickTime MOV', async () => {
    await expectLabelled(await makeMedia([...lavfiAudio(), '-c:a', 'aac'], 'm4a'), 'm4a');
    await expectLabelled(await makeMedia([...lavfiVideo(), '-c:v', 'mpeg4', '-c:a', 'pcm_s16le'], 'mov'), 'mov');
  });

  it('reads the label ffmpeg writes with -movflags use_metadata_tags, and replaces it', async () => {
    const mp4 = await makeMedia([...lavfiVideo(), ...video, '-metadata', `AIGC=${SAMPLE_LABEL}`, '-metadata', 'title=kept', '-movflags', 'use_metadata_tags'], 'mp4');
    expect(await mp4Codec.read(bufferSource(mp4))).toEqual([{ value: SAMPLE_LABEL, location: 'mp4:moov/udta/meta/ilst', standard: true }]);
    const relabelled = await writeLabel(mp4Codec, mp4, LONGER_LABEL);
    const tags = await probeTags(relabelled, 'mp4');
    expect(tagValue(tags, 'AIGC')).toBe(LONGER_LABEL);
    expect(tagValue(tags, 'title')).toBe('kept');
    expect((await mp4Codec.read(bufferSource(relabelled))).map((l) => l.value)).toEqual([LONGER_LABEL]);
  });

  it('keeps iTunes-style tags beside its own metadata box', async () => {
    const mp4 = await makeMedia([...lavfiVideo(), ...video, '-metadata', 'title=itunes title'], 'mp4');
    const tags = await probeTags(await writeLabel(mp4Codec, mp4, SAMPLE_LABEL), 'mp4');
    expect(tagValue(tags, 'title')).toBe('itunes title');
    expect(tagValue(tags, 'AIGC')).toBe(SAMPLE_LABEL);
  });

  it('finds a label in the non-standard udta/©cmt and moves it to the standard place', async () => {
    const mov = await makeMedia([...lavfiVideo(), '-c:v', 'mpeg4', '-an', '-metadata', `comment=${SAMPLE_LABEL}`, '-f', 'mov'], 'mov');
    expect(await mp4Codec.read(bufferSource(mov))).toEqual([{ value: SAMPLE_LABEL, location: 'mp4:moov/udta/©cmt', standard: false }]);
    const m4a = await makeMedia([...lavfiAudio(), '-c:a', 'aac', '-metadata', `comment=${SAMPLE_LABEL}`], 'm4a');
    expect(await mp4Codec.read(bufferSource(m4a))).toEqual([{ value: SAMPLE_LABEL, location: 'mp4:moov/udta/meta/ilst/©cmt', standard: false }]);
    for (const [bytes, extension] of [[mov, 'mov'], [m4a, 'm4a']] as const) {
      const labelled = await writeLabel(mp4Codec, bytes, LONGER_LABEL);
      expect(await mp4Codec.read(bufferSource(labelled))).toEqual([{ value: LONGER_LABEL, location: 'mp4:moov/udta/meta/ilst', standard: true }]);
      expect(tagValue(await probeTags(labelled, extension), 'comment')).toBeUndefined();
    }
    const plain = await makeMedia([...lavfiAudio(), '-c:a', 'aac', '-metadata', 'comment=just a comment'], 'm4a');
    expect(await mp4Codec.read(bufferSource(plain))).toEqual([]);
    expect(tagValue(await probeTags(await writeLabel(mp4Codec, plain, SAMPLE_LABEL), 'm4a'), 'comment')).toBe('just a comment');
  });

  it('removes the label and leaves a file ffmpeg decodes identically', async () => {
    const mp4 = await makeMedia([...lavfiVideo(), ...video, '-movflags', '+faststart'], 'mp4');
    const labelled = await writeLabel(mp4Codec, mp4, SAMPLE_LABEL);
    const removed = await removeLabel(mp4Codec, labelled);
    expect(removed.length).toBe(labelled.length);
    expect(await mp4Codec.read(bufferSource(removed))).toEqual([]);
    expect(tagValue(await probeTags(removed, 'mp4'), 'AIGC')).toBeUndefined();
    expect(new TextDecoder().decode(removed).includes('ContentProducer')).toBe(false);
    expect((await decodeReport(removed, 'mp4')).frames).toBe((await decodeReport(mp4, 'mp4')).frames);
    expect(await removeLabel(mp4Codec, mp4)).toEqual(mp4);
  });

  it('relabels in place within the padding it left, and refuses when there is no room', async () => {
    const mp4 = await makeMedia([...lavfiVideo(), ...video, '-movflags', '+faststart'], 'mp4');
    expect(await mp4Codec.planInPlace?.(bufferSource(mp4), SAMPLE_LABEL)).toBeUndefined();
    const labelled = await writeLabel(mp4Codec, mp4, SAMPLE_LABEL);
    const patches = await mp4Codec.planInPlace?.(bufferSource(labelled), LONGER_LABEL);
    expect(patches).toBeDefined();
    const patched = applyPatches(labelled, patches ?? []);
    expect(patched.length).toBe(labelled.length);
    expect((await mp4Codec.read(bufferSource(patched))).map((l) => l.value)).toEqual([LONGER_LABEL]);
    expect(tagValue(await probeTags(patched, 'mp4'), 'AIGC')).toBe(LONGER_LABEL);
    expect((await decodeReport(patched, 'mp4')).frames).toBe((await decodeReport(mp4, 'mp4')).frames);
    expect(patches?.reduce((n, p) => n + p.bytes.length, 0)).toBeLessThan(LONGER_LABEL.length + 200);
    expect(await mp4Codec.planInPlace?.(bufferSource(labelled), 'x'.repeat(MP4_PADDING * 2))).toBeUndefined();
  });

  it('survives mutated and truncated files with LabelFormatError only', async () => {
    for (const mp4 of [
      await makeMedia([...lavfiVideo(), ...video, '-movflags', '+faststart'], 'mp4'),
      await makeMedia([...lavfiVideo(2), ...video, '-movflags', 'frag_keyframe+empty_moov'], 'mp4'),
    ]) {
      for (const mutant of mutants(mp4, 400, 7, 4096)) await expectOnlyFormatErrors(mp4Codec, mutant);
    }
  });
});

/** Builds a box from a type and contents. */
function box(type: string, ...parts: Uint8Array[]): Uint8Array {
  const body = concatBytes(parts);
  const out = new Uint8Array(8 + body.length);
  viewOf(out).setUint32(0, out.length);
  out.set(latin1Bytes(type), 4);
  out.set(body, 8);
  return out;
}

function u32s(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  values.forEach((v, i) => viewOf(out).setUint32(i * 4, v));
  return out;
}

/** A minimal movie: ftyp, moov (one track whose stco lists `offsets`), then an mdat header. */
function syntheticMovie(offsets: number[]): Uint8Array {
  const stbl = box('stbl', box('stco', u32s(0, offsets.length, ...offsets)));
  const moov = box('moov', box('trak', box('mdia', box('minf', stbl))));
  return concatBytes([box('ftyp', latin1Bytes('isom'), u32s(0)), moov]);
}

/**
 * A source that is `head` followed by `mdat` of `mdatSize` bytes whose contents read as zeros:
 * a multi-gigabyte file without the gigabytes.
 */
function virtualMovie(head: Uint8Array, mdatSize: number): ByteSource {
  const mdatHeader = concatBytes([u32s(1), latin1Bytes('mdat'), new Uint8Array(8)]);
  viewOf(mdatHeader).setBigUint64(8, BigInt(mdatSize));
  const real = concatBytes([head, mdatHeader]);
  return {
    size: head.length + mdatSize,
    read: (offset, length) => {
      const end = Math.min(offset + length, head.length + mdatSize);
      const out = new Uint8Array(Math.max(0, end - offset));
      if (offset < real.length) out.set(real.subarray(offset, Math.min(real.length, end)));
      return Promise.resolve(out);
    },
  };
}

/** A sink that keeps only the first `keep` bytes and counts the rest. */
class HeadSink extends BufferSink {
  total = 0;
  constructor(readonly keep: number) {
    super();
  }
  override write(chunk: Uint8Array): Promise<void> {
    const room = this.keep - this.total;
    this.total += chunk.length;
    return room > 0 ? super.write(chunk.subarray(0, room)) : Promise.resolve();
  }
}

describe('mp4 codec on synthetic movies', () => {
  it('widens stco to co64 when a shifted chunk offset passes 4 GiB', async () => {
    const mdatSize = 0x1_0000_0000 + 64;
    const probe = syntheticMovie([0, 0]);
    const dataStart = probe.length + 16;
    const head = syntheticMovie([dataStart, 0xffffffff - 10]);
    const source = virtualMovie(head, mdatSize);
    const sink = new HeadSink(4096);
    await mp4Codec.write(source, SAMPLE_LABEL, sink);
    const out = sink.bytes();
    const text = latin1(out);
    const co64 = text.indexOf('co64');
    expect(co64).toBeGreaterThan(0);
    expect(text.includes('stco')).toBe(false);
    const view = viewOf(out);
    const mdatAt = text.indexOf('mdat') - 4;
    const delta = mdatAt - (head.length);
    expect(Number(view.getBigUint64(co64 + 12))).toBe(dataStart + delta);
    expect(Number(view.getBigUint64(co64 + 20))).toBe(0xffffffff - 10 + delta);
    expect(sink.total).toBe(source.size + delta);
    const labels = await mp4Codec.read(bufferSource(out.subarray(0, mdatAt)));
    expect(labels.map((l) => l.value)).toEqual([SAMPLE_LABEL]);
  });

  it('names the problem and the offset for malformed boxes', async () => {
    const movie = syntheticMovie([100]);
    const cases: [Uint8Array, RegExp][] = [
      [movie.subarray(0, movie.length - 3), /runs past the end of the file/],
      [(() => { const m = movie.slice(); viewOf(m).setUint32(16 + 8, 0); return m; })(), /size 0/],
      [(() => { const m = movie.slice(); viewOf(m).setUint32(16 + 8, 4); return m; })(), /smaller than its own header/],
      [(() => { const m = movie.slice(); viewOf(m).setUint32(16 + 8, 0x7fffffff); return m; })(), /overruns 'moov'/],
      [(() => { const m = movie.slice(); viewOf(m).setUint32(m.length - 8, 1000); return m; })(), /declares 1000 entries/],
      [concatBytes([movie, movie.subarray(16)]), /a second 'moov'/],
      [movie.subarray(0, 16), /no 'moov' box/],
    ];
    for (const [bytes, message] of cases) {
      const error = await mp4Codec.write(bufferSource(bytes), SAMPLE_LABEL, new BufferSink()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LabelFormatError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toMatch(/at byte \d+|no 'moov'/);
    }
  });

  it('refuses a moov larger than the metadata limit without reading it', async () => {
    const head = concatBytes([box('ftyp', latin1Bytes('isom'), u32s(0)), u32s(0x7fff_fff0), latin1Bytes('moov')]);
    const source: ByteSource = {
      size: head.length - 8 + 0x7fff_fff0,
      read: (offset, length) => {
        if (length > 1 << 20) throw new Error(`unbounded read of ${length} bytes`);
        const out = new Uint8Array(Math.max(0, Math.min(length, head.length - offset)));
        out.set(head.subarray(offset, offset + out.length));
        return Promise.resolve(out);
      },
    };
    await expect(mp4Codec.read(source)).rejects.toThrow(/larger than the \d+-byte limit/);
  });

  it('detects MP4, MOV and M4A but not HEIF or AVIF', () => {
    const ftyp = (brand: string) => box('ftyp', latin1Bytes(brand), u32s(0), latin1Bytes('isom'));
    expect(mp4Codec.detect(ftyp('isom'))).toBe(true);
    expect(mp4Codec.detect(ftyp('qt  '))).toBe(true);
    expect(mp4Codec.detect(ftyp('M4A '))).toBe(true);
    expect(mp4Codec.detect(ftyp('heic'))).toBe(false);
    expect(mp4Codec.detect(ftyp('avif'))).toBe(false);
    expect(mp4Codec.detect(concatBytes([u32s(16), latin1Bytes('moov'), u32s(8), latin1Bytes('udta')]))).toBe(true);
    expect(mp4Codec.detect(latin1Bytes('RIFF\0\0\0\0WAVE'))).toBe(false);
  });
});
