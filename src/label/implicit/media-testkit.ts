/**
 * @module label/implicit/media-testkit
 * Test support for the audio and video codecs: makes small media with Debian's ffmpeg at test
 * time, and asks ffmpeg and ffprobe — readers independent of hegui — what a file holds: its tags,
 * the MD5 of every decoded frame of every stream (`-f framemd5`), and any decoding errors.
 * Tests that need these tools skip with a message naming the Debian package to install.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import { LabelFormatError } from '../errors.js';
import { BufferSink, bufferSource } from './bytes.js';
import type { BytePatch, ByteSource, LabelCodec } from './codec.js';
import { seededRandom } from '../../../test/helpers/random.js';
import { systemTool } from '../../../test/helpers/system.js';

const run = promisify(execFile);

/** True when ffmpeg and ffprobe are installed; otherwise warns once (or fails under HEGUI_REQUIRE_ALL), naming the Debian package. */
export const hasFfmpeg: boolean = systemTool('ffmpeg', 'ffmpeg') && systemTool('ffprobe', 'ffmpeg');

const workDir = mkdtempSync(join(tmpdir(), 'hegui-media-'));
process.on('exit', () => rmSync(workDir, { recursive: true, force: true }));
let fileCount = 0;

function tempFile(extension: string, bytes?: Uint8Array): string {
  const path = join(workDir, `f${fileCount++}.${extension}`);
  if (bytes) writeFileSync(path, bytes);
  return path;
}

const made = new Map<string, Promise<Uint8Array>>();

/**
 * Runs ffmpeg with `args` (inputs and options) writing a file with `extension`, and returns its
 * bytes; the same arguments give the same (cached) file.
 *
 * @example
 * const mp4 = await makeMedia(['-f', 'lavfi', '-i', 'sine=duration=1', '-c:a', 'aac'], 'm4a');
 */
export function makeMedia(args: readonly string[], extension: string): Promise<Uint8Array> {
  const key = `${extension} ${args.join(' ')}`;
  let bytes = made.get(key);
  if (!bytes) {
    const out = tempFile(extension);
    bytes = run('ffmpeg', ['-v', 'error', '-y', ...args, out]).then(() => new Uint8Array(readFileSync(out)));
    made.set(key, bytes);
  }
  return bytes;
}

/** A short test video: `testsrc` pictures, with a sine tone unless `audio` is false. */
export const lavfiVideo = (seconds = 1, audio = true): string[] => [
  '-f',
  'lavfi',
  '-i',
  `testsrc=size=96x64:rate=10:duration=${seconds}`,
  ...(audio ? ['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=16000:duration=${seconds}`] : []),
];

/** A short sine tone. */
export const lavfiAudio = (seconds = 1, rate = 16000): string[] => ['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=${rate}:duration=${seconds}`];

/** Format and stream tags as ffprobe reports them, stream tags prefixed `stream<N>:`. */
export async function probeTags(bytes: Uint8Array, extension: string): Promise<Record<string, string>> {
  const path = tempFile(extension, bytes);
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format_tags:stream_tags', '-of', 'json', path]);
  const parsed = JSON.parse(stdout) as { format?: { tags?: Record<string, string> }; streams?: { tags?: Record<string, string> }[] };
  const tags: Record<string, string> = { ...parsed.format?.tags };
  parsed.streams?.forEach((stream, i) => {
    for (const [key, value] of Object.entries(stream.tags ?? {})) tags[`stream${i}:${key}`] = value;
  });
  return tags;
}

/** The value of tag `key` at format level or in any stream, ignoring case as ffmpeg's dictionaries do. */
export function tagValue(tags: Record<string, string>, key: string): string | undefined {
  const wanted = key.toLowerCase();
  return Object.entries(tags).find(([k]) => k.toLowerCase() === wanted || k.toLowerCase().endsWith(`:${wanted}`))?.[1];
}

/**
 * MD5 of every decoded frame of every stream (`ffmpeg -f framemd5`), plus anything ffmpeg printed
 * as an error. `inputOptions` go before `-i` (e.g. `-err_detect crccheck` to verify Ogg CRCs).
 */
export async function decodeReport(bytes: Uint8Array, extension: string, inputOptions: readonly string[] = []): Promise<{ frames: string; errors: string }> {
  const path = tempFile(extension, bytes);
  const { stdout, stderr } = await run('ffmpeg', ['-v', 'error', ...inputOptions, '-i', path, '-map', '0', '-f', 'framemd5', '-'], { maxBuffer: 64 << 20 });
  return { frames: stdout.split('\n').filter((line) => !line.startsWith('#')).join('\n'), errors: stderr.trim() };
}

/** Runs a codec's write into memory. */
export async function writeLabel(codec: LabelCodec, bytes: Uint8Array, value: string): Promise<Uint8Array> {
  const sink = new BufferSink();
  await codec.write(bufferSource(bytes), value, sink);
  return sink.bytes();
}

/** Runs a codec's remove into memory. */
export async function removeLabel(codec: LabelCodec, bytes: Uint8Array): Promise<Uint8Array> {
  const sink = new BufferSink();
  await codec.remove(bufferSource(bytes), sink);
  return sink.bytes();
}

/** A copy of `bytes` with `patches` applied, as an in-place write would leave the file. */
export function applyPatches(bytes: Uint8Array, patches: readonly BytePatch[]): Uint8Array {
  const out = bytes.slice();
  for (const patch of patches) out.set(patch.bytes, patch.offset);
  return out;
}

/** The concatenated payload bytes of a file, as a signature would hash them. */
export async function payloadBytes(codec: LabelCodec, bytes: Uint8Array): Promise<Uint8Array> {
  const ranges = await codec.payloadRanges(bufferSource(bytes));
  const out = new Uint8Array(ranges.reduce((n, r) => n + r.end - r.start, 0));
  let at = 0;
  for (const range of ranges) {
    out.set(bytes.subarray(range.start, range.end), at);
    at += range.end - range.start;
  }
  return out;
}

/** A realistic label value with non-ASCII text, so every text encoding path is exercised. */
export const SAMPLE_LABEL =
  '{"Label":"1","ContentProducer":"001191350100M000100Y431A001","ProduceID":"gen-20250901-0001","ReservedCode1":"","ContentPropagator":"001191350100M000100Y431A001","PropagateID":"传播-0001","ReservedCode2":""}';

/**
 * Writes `value` with `codec` and checks what every media codec must keep: ffprobe reads the
 * AIGC tag (unless `probe` is false: WAV's chunk is hegui's own), ffmpeg decodes the same
 * frames without an error (with `decodeOptions` on the labelled file, e.g. CRC checks), and the
 * payload bytes are unchanged. Returns the labelled bytes for the codec's own checks.
 */
export async function labelAndCheck(
  codec: LabelCodec,
  bytes: Uint8Array,
  extension: string,
  value: string = SAMPLE_LABEL,
  options: { probe?: boolean; decodeOptions?: readonly string[] } = {},
): Promise<Uint8Array> {
  const labelled = await writeLabel(codec, bytes, value);
  if (options.probe ?? true) expect(tagValue(await probeTags(labelled, extension), 'AIGC')).toBe(value);
  const [before, after] = [await decodeReport(bytes, extension), await decodeReport(labelled, extension, options.decodeOptions)];
  expect(after.errors).toBe('');
  expect(after.frames).toBe(before.frames);
  expect(await payloadBytes(codec, labelled)).toEqual(await payloadBytes(codec, bytes));
  return labelled;
}

/** A second, longer label value. */
export const LONGER_LABEL = SAMPLE_LABEL.replace('"ReservedCode2":""', `"ReservedCode2":"${'ed25519:'.padEnd(160, 'x')}"`);

/**
 * Runs every codec entry point on `bytes`, which must either work or throw `LabelFormatError`;
 * anything else (a TypeError, a RangeError, a hang caught by the test timeout) fails the test.
 */
export async function expectOnlyFormatErrors(codec: LabelCodec, bytes: Uint8Array): Promise<void> {
  const source: ByteSource = bufferSource(bytes);
  const attempts: (() => Promise<unknown>)[] = [
    () => codec.read(source),
    () => codec.write(source, SAMPLE_LABEL, new BufferSink()),
    () => codec.remove(source, new BufferSink()),
    () => codec.payloadRanges(source),
    async () => codec.signedContent?.(source, new BufferSink()),
    async () => codec.planInPlace?.(source, SAMPLE_LABEL),
  ];
  for (const attempt of attempts) {
    try {
      await attempt();
    } catch (error) {
      if (!(error instanceof LabelFormatError)) throw error;
    }
  }
}


/** `count` mutants of `bytes`: flipped bits, overwritten 32-bit fields, and truncations. */
export function mutants(bytes: Uint8Array, count: number, seed = 1, within = bytes.length): Uint8Array[] {
  const random = seededRandom(seed);
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const at = Math.floor(random() * within);
    const kind = i % 4;
    if (kind === 3) {
      out.push(bytes.slice(0, at));
      continue;
    }
    const copy = bytes.slice();
    if (kind === 0) copy[at] = (copy[at] ?? 0) ^ (1 << Math.floor(random() * 8));
    else if (kind === 1) copy.set([0xff, 0xff, 0xff, 0xff].slice(0, copy.length - at), at);
    else copy.set([0, 0, 0, 0].slice(0, copy.length - at), at);
    out.push(copy);
  }
  return out;
}
