import { describe, expect, it } from 'vitest';
import { LabelFormatError } from '../errors.js';
import { BufferSink, bufferSource, concatBytes } from './bytes.js';
import { FLAC_PADDING, flacCodec } from './flac.js';
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
import { syncsafe } from './mp3-id3.js';
import { latin1Bytes } from './splice.js';

const flac = (...extra: string[]) => makeMedia([...lavfiAudio(1, 22050), '-c:a', 'flac', ...extra], 'flac');

interface RawBlock {
  type: number;
  data: Uint8Array;
}

/** The metadata blocks of a FLAC file and where its frames start, by a plain reading of RFC 9639 §8. */
function blocksOf(bytes: Uint8Array): { blocks: RawBlock[]; audio: number } {
  const blocks: RawBlock[] = [];
  let at = 4;
  for (let last = false; !last; ) {
    last = ((bytes[at] ?? 0) & 0x80) !== 0;
    const length = ((bytes[at + 1] ?? 0) << 16) | ((bytes[at + 2] ?? 0) << 8) | (bytes[at + 3] ?? 0);
    blocks.push({ type: (bytes[at] ?? 0) & 0x7f, data: bytes.subarray(at + 4, at + 4 + length) });
    at += 4 + length;
  }
  return { blocks, audio: at };
}

/** A FLAC file with the given blocks in place of its own. */
function withBlocks(bytes: Uint8Array, blocks: RawBlock[]): Uint8Array {
  const parts: Uint8Array[] = [latin1Bytes('fLaC')];
  blocks.forEach((block, i) => {
    const n = block.data.length;
    parts.push(Uint8Array.of((i === blocks.length - 1 ? 0x80 : 0) | block.type, n >>> 16, (n >>> 8) & 0xff, n & 0xff), block.data);
  });
  parts.push(bytes.subarray(blocksOf(bytes).audio));
  return concatBytes(parts);
}

async function expectLabelled(bytes: Uint8Array): Promise<Uint8Array> {
  const labelled = await labelAndCheck(flacCodec, bytes, 'flac');
  expect(await flacCodec.read(bufferSource(labelled))).toEqual([{ value: SAMPLE_LABEL, location: 'flac:VORBIS_COMMENT:AIGC', standard: true }]);
  return labelled;
}

describe.skipIf(!hasFfmpeg)('flac codec with ffmpeg media', () => {
  it('adds AIGC to the Vorbis comment, taking the room from PADDING so frames stay put', async () => {
    const original = await flac('-metadata', 'title=kept');
    const labelled = await expectLabelled(original);
    expect(labelled.length).toBe(original.length);
    expect(blocksOf(labelled).audio).toBe(blocksOf(original).audio);
    expect(tagValue(await probeTags(labelled, 'flac'), 'title')).toBe('kept');
  });

  it('relabels in place, and grows the file with fresh padding when the padding is used up', async () => {
    const original = await flac();
    const patches = await flacCodec.planInPlace?.(bufferSource(original), SAMPLE_LABEL);
    const patched = applyPatches(original, patches ?? []);
    expect(tagValue(await probeTags(patched, 'flac'), 'AIGC')).toBe(SAMPLE_LABEL);
    expect((await decodeReport(patched, 'flac')).frames).toBe((await decodeReport(original, 'flac')).frames);
    const huge = 'x'.repeat(10_000);
    expect(await flacCodec.planInPlace?.(bufferSource(original), huge)).toBeUndefined();
    const grown = await writeLabel(flacCodec, original, huge);
    const { blocks } = blocksOf(grown);
    expect(blocks.at(-1)).toMatchObject({ type: 1, data: new Uint8Array(FLAC_PADDING) });
    expect((await decodeReport(grown, 'flac')).frames).toBe((await decodeReport(original, 'flac')).frames);
  });

  it('creates a Vorbis comment and padding when the file has neither', async () => {
    const original = await flac();
    const bare = withBlocks(original, blocksOf(original).blocks.filter((b) => b.type === 0));
    const labelled = await expectLabelled(bare);
    expect(blocksOf(labelled).blocks.map((b) => b.type)).toEqual([0, 4, 1]);
  });

  it('reads what ffmpeg writes with -metadata AIGC=, replaces and removes it', async () => {
    const tagged = await flac('-metadata', `AIGC=${SAMPLE_LABEL}`);
    expect((await flacCodec.read(bufferSource(tagged))).map((l) => l.value)).toEqual([SAMPLE_LABEL]);
    const relabelled = await writeLabel(flacCodec, tagged, LONGER_LABEL);
    expect(tagValue(await probeTags(relabelled, 'flac'), 'AIGC')).toBe(LONGER_LABEL);
    const removed = await removeLabel(flacCodec, relabelled);
    expect(await flacCodec.read(bufferSource(removed))).toEqual([]);
    expect(tagValue(await probeTags(removed, 'flac'), 'AIGC')).toBeUndefined();
    expect(removed.length).toBe(tagged.length);
  });

  it('keeps an ID3v2 tag in front of the stream', async () => {
    const tag = concatBytes([Uint8Array.of(0x49, 0x44, 0x33, 4, 0, 0), syncsafe(30), new Uint8Array(30)]);
    const prefixed = concatBytes([tag, await flac()]);
    expect(flacCodec.detect(prefixed.subarray(0, 4096))).toBe(true);
    const labelled = await expectLabelled(prefixed);
    expect(labelled.subarray(0, tag.length)).toEqual(tag);
  });

  it('survives mutated and truncated files with LabelFormatError only', async () => {
    const labelled = await writeLabel(flacCodec, await flac(), SAMPLE_LABEL);
    for (const mutant of mutants(labelled, 300, 5, blocksOf(labelled).audio + 8)) await expectOnlyFormatErrors(flacCodec, mutant);
  });
});

describe('flac codec on synthetic streams', () => {
  const streaminfo = { type: 0, data: new Uint8Array(34) };
  const frames = Uint8Array.of(0xff, 0xf8, 0x69, 0x08, 0, 0, 0);
  const file = (blocks: RawBlock[]) => withBlocks(concatBytes([latin1Bytes('fLaC'), Uint8Array.of(0x80, 0, 0, 34), new Uint8Array(34), frames]), blocks);

  it('names the problem and the offset for malformed metadata', async () => {
    const comment = (count: number) => ({ type: 4, data: concatBytes([Uint8Array.of(5, 0, 0, 0), latin1Bytes('hegui'), Uint8Array.of(count, 0, 0, 0)]) });
    const cases: [Uint8Array, RegExp][] = [
      [file([{ type: 4, data: new Uint8Array(4) }, streaminfo]), /STREAMINFO must be the first/],
      [file([streaminfo, { type: 127, data: new Uint8Array(0) }]), /type 127 is invalid/],
      [file([streaminfo, comment(200)]), /list of 200 fields/],
      [file([streaminfo]).subarray(0, 30), /runs past the end of the file/],
      [concatBytes([file([streaminfo]).subarray(0, 42), Uint8Array.of(0x12, 0x34)]), /no audio frame sync/],
      [latin1Bytes('fLaX\0\0\0\0'), /no 'fLaC' stream marker/],
    ];
    for (const [bytes, message] of cases) {
      const error = await flacCodec.write(bufferSource(bytes), SAMPLE_LABEL, new BufferSink()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LabelFormatError);
      expect((error as Error).message).toMatch(message);
    }
  });

  it('removes a label from every comment block, and leaves an unlabelled file as it was', async () => {
    const comment = (text: string) => {
      const field = latin1Bytes(text);
      return { type: 4, data: concatBytes([Uint8Array.of(0, 0, 0, 0, 1, 0, 0, 0, field.length, 0, 0, 0), field]) };
    };
    const twice = file([streaminfo, comment('aigc={"Label":"1"}'), comment('AIGC={"Label":"2"}')]);
    expect((await flacCodec.read(bufferSource(twice))).map((l) => l.value)).toEqual(['{"Label":"1"}', '{"Label":"2"}']);
    const removed = await removeLabel(flacCodec, twice);
    expect(await flacCodec.read(bufferSource(removed))).toEqual([]);
    expect(removed.length).toBe(twice.length);
    const plain = file([streaminfo, comment('TITLE=x')]);
    expect(await removeLabel(flacCodec, plain)).toEqual(plain);
  });
});
