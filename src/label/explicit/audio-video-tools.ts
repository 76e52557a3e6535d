/**
 * @module label/explicit/audio-video-tools
 * Debian's ffmpeg and ffprobe as child processes, for the audio formats hegui does not decode
 * itself and for all video. Samples move through pipes with back-pressure, so memory stays
 * bounded whatever the length of the media; a failed or absent tool becomes a typed error.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { LabelFormatError } from '../errors.js';
import { onInterrupt } from '../file-io.js';
import { MediaToolError, MediaToolMissingError } from './audio-video-errors.js';

/** Where the tools are; defaults to `ffmpeg` and `ffprobe` on PATH. */
export interface MediaTools {
  ffmpeg?: string;
  ffprobe?: string;
}

const STDERR_KEEP = 4096;

/** A running tool: its process and a promise that settles when it exits (rejecting on failure). */
export interface ToolRun {
  child: ChildProcess;
  exited: Promise<void>;
}

/** How a non-zero exit becomes an error: given the tail of stderr. */
export type FailureMapper = (stderr: string) => Error;

/** The last lines of ffmpeg's stderr, which name the problem (the very last is often only "Error initializing ..."). */
export function stderrTail(stderr: string): string {
  const lines = stderr.split('\n').map((line) => line.trim()).filter(Boolean);
  return lines.slice(-3).join(' / ') || 'no message';
}

/**
 * Starts `command`; `exited` rejects with `MediaToolMissingError` when it is not installed and
 * with `onFailure(stderr)` when it exits non-zero.
 */
export function startTool(command: string, args: readonly string[], stdio: { stdin: boolean; stdout: boolean }, onFailure: FailureMapper): ToolRun {
  const child = spawn(command, args, { stdio: [stdio.stdin ? 'pipe' : 'ignore', stdio.stdout ? 'pipe' : 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    stderr = (stderr + text).slice(-STDERR_KEEP);
  });
  // A write to stdin after the tool has exited raises EPIPE there; the exit status tells why.
  child.stdin?.on('error', () => undefined);
  // Interrupted, hegui removes the tool's temporary output: stop the tool writing it first.
  const forget = onInterrupt(() => child.kill('SIGKILL'));
  const exited = new Promise<void>((resolve, reject) => {
    child.once('close', forget);
    child.once('error', (error: NodeJS.ErrnoException) => {
      forget();
      reject(error.code === 'ENOENT' ? new MediaToolMissingError(command) : new MediaToolError(command, error.message, { cause: error }));
    });
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(signal && code === null && stderr === '' ? new MediaToolError(command, `stopped by ${signal}`) : onFailure(stderr));
    });
  });
  return { child, exited };
}

/** Runs `command` to completion and returns its stdout as text. */
export async function runTool(command: string, args: readonly string[], onFailure: FailureMapper): Promise<string> {
  const run = startTool(command, args, { stdin: false, stdout: true }, onFailure);
  let stdout = '';
  run.child.stdout?.setEncoding('utf8');
  run.child.stdout?.on('data', (text: string) => {
    stdout += text;
  });
  await run.exited;
  return stdout;
}

/** What ffprobe reports of one stream (the fields the labels use). */
export interface ProbedStream {
  index: number;
  codec_type?: string;
  codec_name?: string;
  profile?: string;
  sample_rate?: string;
  channels?: number;
  channel_layout?: string;
  sample_fmt?: string;
  bits_per_raw_sample?: string;
  bit_rate?: string;
  width?: number;
  height?: number;
  pix_fmt?: string;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  color_range?: string;
  color_space?: string;
  color_transfer?: string;
  color_primaries?: string;
  duration?: string;
  start_time?: string;
  time_base?: string;
  codec_tag_string?: string;
  disposition?: Record<string, number>;
  tags?: Record<string, string>;
  /** Display matrix and other side data; `rotation` in degrees when the picture is turned. */
  side_data_list?: { rotation?: number }[];
}

export interface MediaProbe {
  /** ffmpeg's demuxer names, e.g. `mov,mp4,m4a,3gp,3g2,mj2`. */
  formatName: string;
  /** Seconds, 0 when unknown. */
  duration: number;
  bitRate: number;
  tags: Record<string, string>;
  streams: ProbedStream[];
}

/**
 * Asks ffprobe what `path` holds.
 *
 * @throws LabelFormatError (format `what`) when ffprobe cannot read the file.
 */
export async function probeMedia(path: string, what: string, tools: MediaTools = {}): Promise<MediaProbe> {
  const stdout = await runTool(
    tools.ffprobe ?? 'ffprobe',
    ['-v', 'error', '-show_format', '-show_streams', '-of', 'json', path],
    (stderr) => new LabelFormatError(what, `ffprobe cannot read it: ${stderrTail(stderr)}`),
  );
  const parsed = JSON.parse(stdout) as { format?: { format_name?: string; duration?: string; bit_rate?: string; tags?: Record<string, string> }; streams?: ProbedStream[] };
  if (!parsed.format?.format_name) throw new LabelFormatError(what, 'ffprobe found no container');
  return {
    formatName: parsed.format.format_name,
    duration: Number(parsed.format.duration ?? 0) || 0,
    bitRate: Number(parsed.format.bit_rate ?? 0) || 0,
    tags: parsed.format.tags ?? {},
    streams: parsed.streams ?? [],
  };
}

/** Bytes gathered before a pipe write or a hand-over: ffmpeg writes and reads raw audio a packet (~1 KB) at a time. */
const PIPE_CHUNK = 1 << 18;

/** Joins small chunks into pieces of at least `size` bytes (the last may be smaller). */
export async function* coalesce(chunks: AsyncIterable<Uint8Array>, size = PIPE_CHUNK): AsyncGenerator<Uint8Array> {
  let parts: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of chunks) {
    parts.push(chunk);
    length += chunk.length;
    if (length >= size) {
      yield parts.length === 1 ? chunk : Buffer.concat(parts, length);
      parts = [];
      length = 0;
    }
  }
  if (length > 0) yield parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts, length);
}

/**
 * Runs ffmpeg and yields what it writes to stdout, in bounded chunks; stopping early kills it.
 *
 * @example
 * for await (const pcm of ffmpegOutput(['-i', 'in.flac', '-f', 's16le', '-'], fail)) meter(pcm);
 */
export async function* ffmpegOutput(args: readonly string[], onFailure: FailureMapper, tools: MediaTools = {}): AsyncGenerator<Uint8Array> {
  const run = startTool(tools.ffmpeg ?? 'ffmpeg', ['-hide_banner', '-nostdin', ...args], { stdin: false, stdout: true }, onFailure);
  let finished = false;
  try {
    const stdout = run.child.stdout;
    if (stdout) yield* coalesce(stdout as AsyncIterable<Uint8Array>);
    await run.exited;
    finished = true;
  } finally {
    if (!finished) {
      run.child.kill('SIGKILL');
      await run.exited.catch(() => undefined);
    }
  }
}

/**
 * Runs ffmpeg with `input` fed to its stdin (back-pressure respected) and waits for it to exit.
 * When `input` fails, ffmpeg is killed and the input's error is thrown.
 */
export async function ffmpegInput(args: readonly string[], input: AsyncIterable<Uint8Array>, onFailure: FailureMapper, tools: MediaTools = {}): Promise<void> {
  const run = startTool(tools.ffmpeg ?? 'ffmpeg', ['-hide_banner', ...args], { stdin: true, stdout: false }, onFailure);
  const stdin = run.child.stdin;
  if (!stdin) throw new MediaToolError('ffmpeg', 'no stdin');
  let exitError: unknown;
  const exited = run.exited.catch((error: unknown) => {
    exitError = error;
  });
  try {
    for await (const chunk of coalesce(input)) {
      if (exitError !== undefined || stdin.destroyed) break;
      if (!stdin.write(chunk)) await Promise.race([new Promise((resolve) => stdin.once('drain', resolve)), exited]);
    }
    stdin.end();
  } catch (error) {
    run.child.kill('SIGKILL');
    await exited;
    throw error;
  }
  await exited;
  if (exitError !== undefined) throw exitError;
}
