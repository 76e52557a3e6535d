/**
 * Test support for the audio and video explicit labels: makes real media with Debian's ffmpeg,
 * and measures labelled files with ffmpeg's own filters — readers independent of hegui's
 * labeller and checker: `astats` for the rhythm's envelope, `blend=difference` against the
 * original for the overlay's frames and box, `framemd5` for copied streams, and a plain
 * decode for errors.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A private directory for one suite, removed when the process exits. */
export function workDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `hegui-${name}-`));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs ffmpeg to write `path` from `args` (inputs and options). */
export async function ffmpegMake(args: readonly string[], path: string): Promise<string> {
  await run('ffmpeg', ['-v', 'error', '-nostdin', '-y', ...args, path], { maxBuffer: 16 << 20 });
  return path;
}

/** What ffmpeg reports while decoding every stream of `path` (empty when it decodes cleanly). */
export async function decodeErrors(path: string): Promise<string> {
  const { stderr } = await run('ffmpeg', ['-v', 'error', '-nostdin', '-i', path, '-map', '0', '-f', 'null', '-'], { maxBuffer: 16 << 20 });
  return stderr.trim();
}

export interface ProbeStream {
  codec_type: string;
  codec_name: string;
  sample_rate?: string;
  channels?: number;
  channel_layout?: string;
  sample_fmt?: string;
  bits_per_raw_sample?: string;
  width?: number;
  height?: number;
  pix_fmt?: string;
  r_frame_rate?: string;
  nb_frames?: string;
  tags?: Record<string, string>;
}

/** ffprobe's view of a file: streams, duration and tags (format and stream tags merged). */
export async function probe(path: string): Promise<{ streams: ProbeStream[]; duration: number; tags: Record<string, string> }> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_format', '-show_streams', '-of', 'json', path]);
  const parsed = JSON.parse(stdout) as { streams: ProbeStream[]; format: { duration?: string; tags?: Record<string, string> } };
  const tags = { ...parsed.format.tags };
  for (const stream of parsed.streams) Object.assign(tags, stream.tags);
  return { streams: parsed.streams, duration: Number(parsed.format.duration), tags };
}

/** The RMS level (dBFS, first channel) of every `blockSeconds` of audio (or of a window of it), measured by ffmpeg's astats. */
export async function envelope(path: string, dir: string, sampleRate: number, window?: { from: number; seconds: number }, blockSeconds = 0.005): Promise<{ time: number; db: number }[]> {
  const out = join(dir, `envelope-${Math.random().toString(36).slice(2)}.txt`);
  const samples = Math.round(sampleRate * blockSeconds);
  const filter = `pan=mono|c0=c0,aformat=sample_fmts=flt,asetnsamples=n=${samples}:p=0,astats=metadata=1:reset=1,ametadata=mode=print:key=lavfi.astats.Overall.RMS_level:file=${out}`;
  const seek = window ? ['-ss', String(window.from), '-t', String(window.seconds)] : [];
  await run('ffmpeg', ['-v', 'error', '-nostdin', ...seek, '-i', path, '-map', '0:a:0', '-af', filter, '-f', 'null', '-']);
  const blocks: { time: number; db: number }[] = [];
  let time = 0;
  for (const line of readFileSync(out, 'utf8').split('\n')) {
    const stamp = /pts_time:([\d.]+)/.exec(line);
    if (stamp) time = Number(stamp[1]) + (window?.from ?? 0);
    const level = /RMS_level=(.+)$/.exec(line);
    if (level) blocks.push({ time, db: level[1] === '-inf' ? -Infinity : Number(level[1]) });
  }
  rmSync(out, { force: true });
  return blocks;
}

/** The RMS level (dBFS) of the first channel of the whole audio, measured by ffmpeg's astats. */
export async function overallLevel(path: string): Promise<number> {
  const { stderr } = await run('ffmpeg', ['-v', 'info', '-nostdin', '-i', path, '-map', '0:a:0', '-af', 'pan=mono|c0=c0,astats=measure_perchannel=none', '-f', 'null', '-']);
  const level = /RMS level dB: (-?[\d.]+)/.exec(stderr);
  return Number(level?.[1]);
}

/** Runs of consecutive blocks at or above `thresholdDb`, as [start, end) seconds. */
export function loudRuns(blocks: readonly { time: number; db: number }[], thresholdDb: number, blockSeconds = 0.005): { start: number; end: number; db: number }[] {
  const runs: { start: number; end: number; db: number }[] = [];
  let current: { start: number; end: number; power: number; count: number } | undefined;
  for (const block of blocks) {
    if (block.db >= thresholdDb) {
      if (current) {
        current.end = block.time + blockSeconds;
        current.power += 10 ** (block.db / 10);
        current.count++;
      } else current = { start: block.time, end: block.time + blockSeconds, power: 10 ** (block.db / 10), count: 1 };
    } else if (current) {
      runs.push({ start: current.start, end: current.end, db: 10 * Math.log10(current.power / current.count) });
      current = undefined;
    }
  }
  if (current) runs.push({ start: current.start, end: current.end, db: 10 * Math.log10(current.power / current.count) });
  return runs;
}

/**
 * Four runs shaped like the 100 ms-unit Morse "AI" (0.1, 0.3, 0.1, 0.1 s tones; 0.1, 0.3,
 * 0.1 s gaps), each within `tolerance` seconds: the independent reading of GB 45438 §5.3.
 */
export function morseAiRuns(runs: readonly { start: number; end: number; db: number }[], tolerance = 0.02): { start: number; end: number; db: number }[] {
  const tones = [0.1, 0.3, 0.1, 0.1];
  const gaps = [0.1, 0.3, 0.1];
  const found: { start: number; end: number; db: number }[] = [];
  for (let i = 0; i + 4 <= runs.length; i++) {
    const four = runs.slice(i, i + 4);
    const shaped = four.every((r, k) => Math.abs(r.end - r.start - (tones[k] ?? 0)) <= tolerance) && gaps.every((g, k) => Math.abs((four[k + 1]?.start ?? 0) - (four[k]?.end ?? 0) - g) <= tolerance);
    if (shaped) found.push({ start: four[0]?.start ?? 0, end: four[3]?.end ?? 0, db: Math.max(...four.map((r) => r.db)) });
  }
  return found;
}

/** Hashes of every packet of the audio streams, copied (not decoded): equal when audio was copied untouched. */
export async function audioPackets(path: string): Promise<string[]> {
  const { stdout } = await run('ffmpeg', ['-v', 'error', '-nostdin', '-i', path, '-map', '0:a', '-c', 'copy', '-f', 'framemd5', '-'], { maxBuffer: 64 << 20 });
  return stdout
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => line.split(',').slice(-1)[0]?.trim() ?? '');
}

/** One frame of the difference between a labelled video and its original. */
export interface DifferenceFrame {
  time: number;
  /** Pixels that differ by more than the threshold. */
  pixels: number;
  /** Their bounding box. */
  box: { left: number; top: number; width: number; height: number } | null;
}

/**
 * Where and when a labelled video differs from its original, by ffmpeg's `blend=difference`
 * on luma at the video's size, sampled at `fps`: pixels whose difference exceeds `threshold`
 * (re-encoding alone stays well below it).
 */
export async function differences(original: string, labelled: string, size: { width: number; height: number }, fps: number, threshold = 40): Promise<DifferenceFrame[]> {
  const graph = `[0:v]fps=${fps},format=gray[a];[1:v]fps=${fps},format=gray[b];[b][a]blend=all_mode=difference,format=gray`;
  const { stdout } = await run('ffmpeg', ['-v', 'error', '-nostdin', '-i', original, '-i', labelled, '-filter_complex', graph, '-f', 'rawvideo', '-pix_fmt', 'gray', '-'], {
    encoding: 'buffer',
    maxBuffer: 1 << 30,
  });
  const frameSize = size.width * size.height;
  const frames: DifferenceFrame[] = [];
  for (let f = 0; (f + 1) * frameSize <= stdout.length; f++) {
    let pixels = 0;
    let left = size.width;
    let top = size.height;
    let right = -1;
    let bottom = -1;
    for (let i = 0; i < frameSize; i++) {
      if ((stdout[f * frameSize + i] ?? 0) <= threshold) continue;
      pixels++;
      const x = i % size.width;
      const y = (i - x) / size.width;
      left = Math.min(left, x);
      right = Math.max(right, x);
      top = Math.min(top, y);
      bottom = Math.max(bottom, y);
    }
    frames.push({ time: f / fps, pixels, box: pixels ? { left, top, width: right - left + 1, height: bottom - top + 1 } : null });
  }
  return frames;
}
