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
  removeLabel,
  writeLabel,
} from './media-testkit.js';
import { latin1, latin1Bytes } from './splice.js';
import { WAV_XMP_LOCATION, wavCodec } from './wav.js';
import { DEFAULT_XMP_PADDING, buildXmpPacket } from './xmp.js';
import { systemTool } from '../../../test/helpers/system.js';
import { TC260_EXIFTOOL_CONFIG } from '../../../test/label-samples.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface RiffChunk {
  id: string;
  data: Uint8Array;
}

/**
 * A plain RIFF reader, independent of the codec: the form, its declared size (from ds64 for
 * RF64 and BW64) and its chunks, each word-aligned.
 */
function riff(bytes: Uint8Array): { form: string; size: number; chunks: RiffChunk[] } {
  const view = viewOf(bytes);
  const form = latin1(bytes.subarray(0, 4));
  const wide = form !== 'RIFF';
  const size = wide ? Number(view.getBigUint64(20, true)) : view.getUint32(4, true);
  const dataSize = wide ? Number(view.getBigUint64(28, true)) : 0;
  const chunks: RiffChunk[] = [];
  for (let at = 12; at + 8 <= 8 + size; ) {
    const id = latin1(bytes.subarray(at, at + 4));
    let length = view.getUint32(at + 4, true);
    if (wide && id === 'data' && length === 0xffffffff) length = dataSize;
    chunks.push({ id, data: bytes.subarray(at + 8, at + 8 + length) });
    at += 8 + length + (length & 1);
  }
  return { form, size, chunks };
}

/** The TC260 values in every `_PMX` packet, read with a regular expression rather than the codec. */
function labelChunks(bytes: Uint8Array): string[] {
  return riff(bytes)
    .chunks.filter((c) => c.id === '_PMX')
    .flatMap((c) => [...new TextDecoder().decode(c.data).matchAll(/<TC260:AIGC>([^<]*)<\/TC260:AIGC>/g)].map((m) => (m[1] ?? '').replace(/&quot;/g, '"').replace(/&amp;/g, '&')));
}

const wav = (...extra: string[]) => makeMedia([...lavfiAudio(0.5), '-metadata', 'title=kept', ...extra], 'wav');

async function expectLabelled(bytes: Uint8Array, value = SAMPLE_LABEL): Promise<Uint8Array> {
  const labelled = await labelAndCheck(wavCodec, bytes, 'wav', value, { probe: false });
  const parsed = riff(labelled);
  expect(parsed.size + 8).toBe(labelled.length);
  expect(labelChunks(labelled)).toEqual([value]);
  expect(parsed.chunks.map((c) => c.id).at(-1)).toBe('_PMX');
  expect(await wavCodec.read(bufferSource(labelled))).toEqual([{ value, location: WAV_XMP_LOCATION, standard: true }]);
  return labelled;
}

describe.skipIf(!hasFfmpeg)('wav codec with ffmpeg media', () => {
  it('appends a _PMX XMP chunk a plain RIFF parser finds, keeping every other chunk', async () => {
    const original = await wav();
    const labelled = await expectLabelled(original);
    expect(riff(labelled).chunks.slice(0, -1)).toEqual(riff(original).chunks);
    await expectLabelled(original, '{"Label":"2"}');
  });

  it.runIf(systemTool('exiftool', 'libimage-exiftool-perl'))('writes where exiftool reads without options', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hegui-wav-'));
    try {
      const path = join(dir, 'a.wav');
      writeFileSync(path, await writeLabel(wavCodec, await wav(), SAMPLE_LABEL));
      const config = join(dir, 'tc260.config');
      writeFileSync(config, TC260_EXIFTOOL_CONFIG);
      const tags = JSON.parse(execFileSync('exiftool', ['-config', config, '-j', '-XMP:all', path]).toString()) as Record<string, unknown>[];
      expect(tags[0]?.AIGC).toBe(SAMPLE_LABEL);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('labels RF64 and BW64, updating the RIFF size in ds64', async () => {
    const rf64 = await wav('-rf64', 'always');
    expect(latin1(rf64.subarray(0, 4))).toBe('RF64');
    await expectLabelled(rf64);
    const bw64 = rf64.slice();
    bw64.set(latin1Bytes('BW64'));
    const labelled = await expectLabelled(bw64);
    expect(latin1(labelled.subarray(0, 4))).toBe('BW64');
  });

  it('fixes the sizes of a streamed WAV whose data chunk runs to the end', async () => {
    const original = await wav();
    const streamed = original.slice();
    viewOf(streamed).setUint32(4, 0xffffffff, true);
    const data = riff(original).chunks.find((c) => c.id === 'data');
    const dataAt = (data?.data.byteOffset ?? 0) - original.byteOffset - 4;
    viewOf(streamed).setUint32(dataAt, 0xffffffff, true);
    const labelled = await writeLabel(wavCodec, streamed, SAMPLE_LABEL);
    expect(riff(labelled).chunks.find((c) => c.id === 'data')?.data).toEqual(data?.data);
    expect(labelChunks(labelled)).toEqual([SAMPLE_LABEL]);
    expect((await decodeReport(labelled, 'wav')).frames).toBe((await decodeReport(original, 'wav')).frames);
  });

  it('replaces in place, removes, and leaves an unlabelled file byte-identical on removal', async () => {
    const original = await wav();
    expect(await removeLabel(wavCodec, original)).toEqual(original);
    expect(await wavCodec.planInPlace?.(bufferSource(original), SAMPLE_LABEL)).toBeUndefined();
    const labelled = await writeLabel(wavCodec, original, SAMPLE_LABEL);
    for (const value of [LONGER_LABEL, '{"Label":"2"}', SAMPLE_LABEL.slice(0, -2) + '"}']) {
      const patched = applyPatches(labelled, (await wavCodec.planInPlace?.(bufferSource(labelled), value)) ?? []);
      expect(patched.length).toBe(labelled.length);
      expect(labelChunks(patched)).toEqual([value]);
      expect((await decodeReport(patched, 'wav')).errors).toBe('');
    }
    expect(await wavCodec.planInPlace?.(bufferSource(labelled), 'x'.repeat(DEFAULT_XMP_PADDING * 2))).toBeUndefined();
    const removed = await removeLabel(wavCodec, labelled);
    expect(removed).toEqual(original);
  });

  it('survives mutated and truncated files with LabelFormatError only', async () => {
    const labelled = await writeLabel(wavCodec, await wav('-rf64', 'always'), SAMPLE_LABEL);
    for (const mutant of mutants(labelled, 300, 3, 120)) await expectOnlyFormatErrors(wavCodec, mutant);
    for (const mutant of mutants(labelled, 100, 4).map((m) => m.subarray(0, Math.max(0, m.length - 1200)))) await expectOnlyFormatErrors(wavCodec, mutant);
  });
});

describe('wav codec on synthetic files', () => {
  const chunk = (id: string, data: Uint8Array) => {
    const header = concatBytes([latin1Bytes(id), new Uint8Array(4)]);
    viewOf(header).setUint32(4, data.length, true);
    return concatBytes([header, data, new Uint8Array(data.length & 1)]);
  };
  const form = (...chunks: Uint8Array[]) => {
    const body = concatBytes([latin1Bytes('WAVE'), ...chunks]);
    const header = concatBytes([latin1Bytes('RIFF'), new Uint8Array(4)]);
    viewOf(header).setUint32(4, body.length, true);
    return concatBytes([header, body]);
  };

  it('names the problem and the offset for malformed files', async () => {
    const good = form(chunk('fmt ', new Uint8Array(16)), chunk('data', new Uint8Array(8)));
    const cases: [Uint8Array, RegExp][] = [
      [good.subarray(0, good.length - 4), /RIFF size \d+ runs past the end of the file/],
      [(() => { const b = good.slice(); viewOf(b).setUint32(16, 1000, true); return b; })(), /chunk 'fmt ' of 1000 bytes runs past the end of the RIFF form/],
      [concatBytes([latin1Bytes('RF64'), Uint8Array.of(255, 255, 255, 255), latin1Bytes('WAVE'), chunk('fmt ', new Uint8Array(16))]), /without a ds64 chunk/],
      [latin1Bytes('RIFF\0\0\0\0AVI LIST'), /not a RIFF WAVE file/],
    ];
    for (const [bytes, message] of cases) {
      const error = await wavCodec.write(bufferSource(bytes), SAMPLE_LABEL, new BufferSink()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LabelFormatError);
      expect((error as Error).message).toMatch(message);
    }
  });

  it('keeps bytes after the RIFF form and moves labels from legacy AIGC chunks to _PMX', async () => {
    const trailer = latin1Bytes('TAG trailing tag');
    const file = concatBytes([
      form(chunk('fmt ', new Uint8Array(16)), chunk('AIGC', latin1Bytes('{"Label":"1"}')), chunk('JUNK', new Uint8Array(20)), chunk('data', new Uint8Array(8)), chunk('AIGC', latin1Bytes('{"Label":"2"}'))),
      trailer,
    ]);
    expect(await wavCodec.read(bufferSource(file))).toMatchObject([
      { value: '{"Label":"1"}', location: 'wav:RIFF/AIGC', standard: false },
      { value: '{"Label":"2"}', location: 'wav:RIFF/AIGC', standard: false },
    ]);
    expect(await wavCodec.planInPlace?.(bufferSource(file), '{"Label":"3"}')).toBeUndefined();
    const relabelled = await writeLabel(wavCodec, file, SAMPLE_LABEL);
    expect(relabelled.subarray(-trailer.length)).toEqual(trailer);
    expect((await wavCodec.read(bufferSource(relabelled))).map((l) => l.value)).toEqual([SAMPLE_LABEL]);
    expect(riff(relabelled).chunks.map((c) => c.id)).toEqual(['fmt ', 'data', '_PMX']);
    const inPlace = applyPatches(relabelled, (await wavCodec.planInPlace?.(bufferSource(relabelled), '{"Label":"3"}')) ?? []);
    expect(inPlace.length).toBe(relabelled.length);
    expect((await wavCodec.read(bufferSource(inPlace))).map((l) => l.value)).toEqual(['{"Label":"3"}']);
    expect(riff(await removeLabel(wavCodec, relabelled)).chunks.map((c) => c.id)).toEqual(['fmt ', 'data']);
  });

  it('merges into another tool\'s _PMX packet and reads and clears an iXML label', async () => {
    const foreign = buildXmpPacket('x').replace(/<rdf:Description[^]*<\/rdf:Description>/, '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" dc:format="audio/wav"/>');
    const ixml = '<?xml version="1.0"?><BWFXML><PROJECT>p1</PROJECT><USER><AIGC>{"Label":"2","ProduceID":"ixml-1"}</AIGC></USER></BWFXML>';
    const file = form(chunk('fmt ', new Uint8Array(16)), chunk('iXML', latin1Bytes(ixml)), chunk('data', new Uint8Array(8)), chunk('_PMX', latin1Bytes(foreign)));
    expect(await wavCodec.read(bufferSource(file))).toEqual([{ value: '{"Label":"2","ProduceID":"ixml-1"}', location: 'wav:iXML/AIGC', standard: false }]);
    const labelled = await writeLabel(wavCodec, file, SAMPLE_LABEL);
    expect(await wavCodec.read(bufferSource(labelled))).toEqual([{ value: SAMPLE_LABEL, location: WAV_XMP_LOCATION, standard: true }]);
    const chunks = riff(labelled).chunks;
    expect(chunks.map((c) => c.id)).toEqual(['fmt ', 'iXML', 'data', '_PMX']);
    expect(new TextDecoder().decode(chunks[1]?.data)).toBe(ixml.replace(/<AIGC>.*<\/AIGC>/, ''));
    expect(new TextDecoder().decode(chunks[3]?.data)).toContain('dc:format="audio/wav"');
    const stripped = await removeLabel(wavCodec, labelled);
    expect(await wavCodec.read(bufferSource(stripped))).toEqual([]);
    expect(new TextDecoder().decode(riff(stripped).chunks[3]?.data)).toContain('dc:format="audio/wav"');
  });
});
