/**
 * Video explicit labels end to end (GB 45438 §5.4): real MP4, WebM and MKV files (2 s, and
 * 10 min kept tiny at 160x90 and 5 fps) labelled, then measured twice — by hegui's checker and
 * independently by ffmpeg's `blend=difference` against the original — for how long the notice
 * shows and how tall it is; every output decodes without error, keeps codec, size, pixel
 * format, frame rate and tags, and carries its audio packets untouched. Bad inputs get typed
 * errors and leave nothing behind.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { LabelFormatError } from '../src/label/errors.js';
import { embedLabelFile, readLabelFile } from '../src/label/files.js';
import { checkExplicitLabelFile } from '../src/label/explicit/check.js';
import { audioChecker } from '../src/label/explicit/audio-check.js';
import { videoChecker } from '../src/label/explicit/video-check.js';
import { labelVideo, labelVideoFile, type VideoLabelOptions, type VideoLabelResult } from '../src/label/explicit/video.js';
import { MediaLabelOptionError, UnsupportedMediaError } from '../src/label/explicit/audio-video-errors.js';
import type { ExplicitCheckReport } from '../src/label/explicit/check-types.js';
import { systemTool } from './helpers/system.js';
import { audioPackets, decodeErrors, differences, ffmpegMake, probe, workDir, type DifferenceFrame } from './label-explicit-av-media.js';

const hasFfmpeg = systemTool('ffmpeg', 'ffmpeg') && systemTool('ffprobe', 'ffmpeg');
const PRODUCER = '001191350100M000100Y431A001';
const checkers = [videoChecker, audioChecker];
const dir = hasFfmpeg ? workDir('av-video') : '';

/** A moving picture everywhere (a zooming fractal) with a tone, `seconds` long, tagged. */
const scene = (size: string, rate: number, seconds: number): string[] => [
  '-f', 'lavfi', '-i', `mandelbrot=size=${size}:rate=${rate}`,
  '-f', 'lavfi', '-i', `sine=frequency=330:sample_rate=16000`,
  '-t', String(seconds), '-metadata', 'title=hegui video',
];

interface Clip {
  name: string;
  args: string[];
  width: number;
  height: number;
  fps: number;
  codec: string;
  options: VideoLabelOptions;
}

const CLIPS: Clip[] = [
  { name: 'clip.mp4', args: [...scene('320x180', 25, 2), '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '48k'], width: 320, height: 180, fps: 25, codec: 'h264', options: {} },
  { name: 'clip.webm', args: [...scene('320x180', 25, 2), '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-c:a', 'libopus'], width: 320, height: 180, fps: 25, codec: 'vp9', options: { language: 'en' } },
  { name: 'clip.mkv', args: [...scene('180x320', 24, 2), '-c:v', 'libx264', '-preset', 'veryfast', '-c:a', 'flac'], width: 180, height: 320, fps: 24, codec: 'h264', options: { position: 'bottom-right' } },
];

const made = new Map<string, string>();
let ten = '';
let short = '';
beforeAll(async () => {
  if (!hasFfmpeg) return;
  await Promise.all(CLIPS.map(async (c) => made.set(c.name, await ffmpegMake(c.args, join(dir, c.name)))));
  ten = await ffmpegMake([...scene('160x90', 5, 600), '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '24k'], join(dir, 'ten-minutes.mp4'));
  short = await ffmpegMake([...scene('160x90', 10, 1), '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-an'], join(dir, 'one-second.mp4'));
}, 120_000);

/** Runs of frames where the labelled video differs from the original: when the notice shows, by ffmpeg. */
function shownSpans(frames: readonly DifferenceFrame[], fps: number): { start: number; end: number; height: number }[] {
  const spans: { start: number; end: number; height: number }[] = [];
  for (const frame of frames) {
    const last = spans.at(-1);
    if (frame.pixels === 0 || !frame.box) continue;
    if (last && Math.abs(last.end - frame.time) < 1e-6) {
      last.end = frame.time + 1 / fps;
      last.height = Math.max(last.height, frame.box.height);
    } else spans.push({ start: frame.time, end: frame.time + 1 / fps, height: frame.box.height });
  }
  return spans;
}

function figures(report: ExplicitCheckReport, rule: string): Record<string, unknown> {
  return report.rules.find((r) => r.rule === rule)?.measured ?? {};
}

function leftovers(folder: string): string[] {
  return readdirSync(folder).filter((name) => name.includes('hegui-tmp'));
}

describe.skipIf(!hasFfmpeg)('video notices (2 s clips)', () => {
  it.concurrent.for(CLIPS)('$name: labelled, measured by the checker and by frame differences, decodes cleanly, keeps its streams', { timeout: 120_000 }, async (clip, { expect }) => {
    const source = made.get(clip.name) as string;
    const folder = join(dir, `${clip.name}.d`);
    mkdirSync(folder);
    const out = join(folder, clip.name);
    const result: VideoLabelResult = await labelVideoFile(source, { out, ...clip.options });
    const shortest = Math.min(clip.width, clip.height);
    expect(result).toMatchObject({ codec: clip.codec, width: clip.width, height: clip.height, warnings: [] });
    expect(result.textHeightPx).toBeGreaterThanOrEqual(Math.ceil(0.05 * shortest));

    expect(await decodeErrors(out)).toBe('');
    const [before, after] = [await probe(source), await probe(out)];
    const video = (p: typeof before): (typeof before.streams)[number] | undefined => p.streams.find((s) => s.codec_type === 'video');
    expect(video(after)).toMatchObject({ codec_name: clip.codec, width: clip.width, height: clip.height, pix_fmt: video(before)?.pix_fmt, r_frame_rate: video(before)?.r_frame_rate });
    expect(after.tags.title ?? after.tags.TITLE).toBe('hegui video');
    expect(await audioPackets(out)).toEqual(await audioPackets(source));

    const report = await checkExplicitLabelFile(out, { checkers });
    expect(report.kind).toBe('video');
    expect(report.passed).toBe(true);
    expect(['pass', 'unverified']).toContain(report.rules.find((r) => r.rule === 'video.wording')?.status);
    const seconds = figures(report, 'video.duration').seconds as number;
    const heightPx = figures(report, 'video.height').heightPx as number;
    expect(seconds).toBeGreaterThanOrEqual(2);
    expect(heightPx / shortest).toBeGreaterThanOrEqual(0.05);

    // Independent: where the labelled frames differ from the original.
    const spans = shownSpans(await differences(source, out, clip, clip.fps), clip.fps);
    expect(spans).toHaveLength(1);
    expect(spans[0]?.start).toBe(0);
    expect(Math.abs((spans[0]?.end ?? 0) - seconds)).toBeLessThanOrEqual(1 / clip.fps + 1e-6);
    // The checker's glyph height lies inside the changed box (glyphs plus outline or plate).
    expect(heightPx).toBeLessThanOrEqual(spans[0]?.height ?? 0);
    expect(Math.abs(heightPx - result.textHeightPx)).toBeLessThanOrEqual(1);
    expect(leftovers(folder)).toEqual([]);
  });
});

describe.skipIf(!hasFfmpeg)('a 10-minute video', () => {
  it('shows the notice at the start, middle and end; the checker and the frame differences agree', async () => {
    const out = join(dir, 'ten-labelled.mp4');
    const result = await labelVideoFile(ten, { out, also: ['middle', 'end'], quality: { preset: 'veryfast' } });
    expect(result.windows.map((w) => [w.position, w.start, w.end])).toEqual([
      ['start', 0, 3],
      ['middle', 298.5, 301.5],
      ['end', 597, 600],
    ]);
    expect(await decodeErrors(out)).toBe('');
    expect(await audioPackets(out)).toEqual(await audioPackets(ten));
    expect((await probe(out)).streams.find((s) => s.codec_type === 'video')?.nb_frames).toBe('3000');

    const report = await checkExplicitLabelFile(out, { checkers });
    expect(report.passed).toBe(true);
    expect(figures(report, 'video.height').ratio).toBeGreaterThanOrEqual(0.05);
    const spans = shownSpans(await differences(ten, out, { width: 160, height: 90 }, 5), 5);
    expect(spans.map((s) => [Number(s.start.toFixed(1)), Number(s.end.toFixed(1))])).toEqual([
      [0, 3.2],
      [298.6, 301.6],
      [597, 600],
    ]);
    expect(report.notices.map((n) => [n.position.split(' ')[0], n.span?.start, n.span?.end])).toEqual(spans.map((s, i) => [['start', 'middle', 'end'][i], Number(s.start.toFixed(3)), Number(s.end.toFixed(3))]));
  }, 120_000);
});

describe.skipIf(!hasFfmpeg)('the implicit label in the same pass', () => {
  it('writes a requested label into MP4 and WebM, and carries an MKV source label', async () => {
    for (const name of ['clip.mp4', 'clip.webm']) {
      const out = join(dir, `implicit-${name}`);
      const result = await labelVideoFile(made.get(name) as string, { out, implicit: { producer: PRODUCER, produceId: `video-${name}` } });
      expect(result.implicit.action).toBe('embedded');
      expect((await readLabelFile(out)).label?.ProduceID).toBe(`video-${name}`);
      expect(await decodeErrors(out)).toBe('');
    }
    const labelled = join(dir, 'carry-source.mkv');
    await embedLabelFile(made.get('clip.mkv') as string, { producer: PRODUCER, produceId: 'carry-mkv' }, { out: labelled });
    const out = join(dir, 'carried.mkv');
    expect((await labelVideoFile(labelled, { out })).implicit).toMatchObject({ action: 'carried', signatureStale: false });
    expect((await readLabelFile(out)).label?.ProduceID).toBe('carry-mkv');
  }, 60_000);
});

describe.skipIf(!hasFfmpeg)('what the checker fails', () => {
  it('fails an unlabelled video and a video too short for 2 s, saying why', async () => {
    const plain = await checkExplicitLabelFile(made.get('clip.mp4') as string, { checkers });
    expect(plain.passed).toBe(false);
    const out = join(dir, 'short-labelled.mp4');
    const result = await labelVideoFile(short, { out });
    expect(result.warnings[0]).toMatch(/lasts 1.00 s, less than the 2 s/);
    const report = await checkExplicitLabelFile(out, { checkers });
    expect(report.passed).toBe(false);
    expect(report.rules.find((r) => r.rule === 'video.duration')).toMatchObject({ status: 'fail', measured: { seconds: 1 } });
    expect(report.rules.find((r) => r.rule === 'video.duration')?.message).toMatch(/lasts only 1.00 s/);
  });
});

describe.skipIf(!hasFfmpeg)('the library API and bad input', () => {
  it('labels bytes and returns bytes', async () => {
    const result = await labelVideo(readFileSync(made.get('clip.mp4') as string));
    const path = join(dir, 'from-bytes.mp4');
    writeFileSync(path, result.bytes as Uint8Array);
    expect((await checkExplicitLabelFile(path, { checkers })).passed).toBe(true);
  });

  it('names the problem with a typed error and leaves nothing behind', async () => {
    const folder = workDir('av-video-bad');
    const mp4 = readFileSync(made.get('clip.mp4') as string);
    const cases: [string, Uint8Array | string, new (...args: never[]) => Error, RegExp][] = [
      ['truncated.mp4', mp4.subarray(0, 3000), LabelFormatError, /ffprobe cannot read it/],
      ['garbage.mp4', new Uint8Array(4096).map((_, i) => (i * 7919) & 0xff), LabelFormatError, /ffprobe cannot read it/],
      ['motion.avi', await ffmpegMake(['-f', 'lavfi', '-i', 'testsrc=size=64x64:duration=1', '-c:v', 'mjpeg'], join(folder, 'motion-src.avi')), UnsupportedMediaError, /avi video/],
      ['sound.m4a', await ffmpegMake(['-f', 'lavfi', '-i', 'sine=duration=1', '-c:a', 'aac'], join(folder, 'sound-src.m4a')), UnsupportedMediaError, /without a video stream/],
    ];
    for (const [name, content, type, message] of cases) {
      const path = join(folder, name);
      writeFileSync(path, typeof content === 'string' ? readFileSync(content) : content);
      const original = readFileSync(path);
      const out = join(folder, `out-${name}`);
      const error = await labelVideoFile(path, { out }).catch((e: unknown) => e);
      expect(error, name).toBeInstanceOf(type);
      expect((error as Error).message, name).toMatch(message);
      await expect(labelVideoFile(path, { inPlace: true }), name).rejects.toThrow(type);
      expect(Buffer.compare(readFileSync(path), original), name).toBe(0);
      expect(existsSync(out), name).toBe(false);
    }
    await expect(labelVideoFile(made.get('clip.mp4') as string, { out: join(folder, 'x.mp4'), seconds: 1 })).rejects.toThrow(MediaLabelOptionError);
    expect(leftovers(folder)).toEqual([]);
  });
});
