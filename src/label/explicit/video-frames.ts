/**
 * @module label/explicit/video-frames
 * Decoded video frames from Debian's ffmpeg, one at a time over a pipe (so memory holds one
 * frame, whatever the length of the video): luma for the checker's analysis, RGB crops for
 * choosing the notice's colours. Frames are resampled to a constant rate and, for analysis,
 * scaled so the shortest side is at most 720 px (ratios to the shortest side do not change).
 */
import { LabelFormatError } from '../errors.js';
import { ffmpegOutput, stderrTail, type MediaTools } from './audio-video-tools.js';

/** Largest shortest side the checker analyses; larger videos are scaled down first. */
export const ANALYSIS_SHORTEST_SIDE = 720;

/** A frame size that keeps the aspect ratio with the shortest side at most `limit` (even sizes). */
export function analysisSize(width: number, height: number, limit = ANALYSIS_SHORTEST_SIDE): { width: number; height: number } {
  const scale = Math.min(1, limit / Math.min(width, height));
  if (scale === 1) return { width, height };
  return { width: Math.max(2, Math.round((width * scale) / 2) * 2), height: Math.max(2, Math.round((height * scale) / 2) * 2) };
}

export interface FrameRequest {
  /** Seconds from the start of the video. */
  from: number;
  /** Seconds to read; frames past the end are simply not there. */
  seconds: number;
  /** Frames per second to resample to. */
  fps: number;
  /** Size to scale to (the crop, when given, is taken before scaling). */
  width: number;
  height: number;
  crop?: { left: number; top: number; width: number; height: number };
  pixels: 'gray' | 'rgb24';
}

/**
 * Yields each decoded frame of the first video stream as raw bytes (`width × height` for gray,
 * three times that for RGB).
 *
 * @example
 * for await (const luma of videoFrames('clip.mp4', { from: 0, seconds: 5, fps: 10, width: 320, height: 180, pixels: 'gray' })) analyse(luma);
 */
export async function* videoFrames(path: string, request: FrameRequest, tools: MediaTools = {}): AsyncGenerator<Uint8Array> {
  const filters = [`fps=${request.fps}`];
  if (request.crop) filters.push(`crop=${request.crop.width}:${request.crop.height}:${request.crop.left}:${request.crop.top}`);
  filters.push(`scale=${request.width}:${request.height}:flags=area`, `format=${request.pixels}`);
  const size = request.width * request.height * (request.pixels === 'gray' ? 1 : 3);
  const output = ffmpegOutput(
    ['-v', 'error', '-ss', request.from.toFixed(6), '-t', request.seconds.toFixed(6), '-i', path, '-map', '0:v:0', '-vf', filters.join(','), '-f', 'rawvideo', '-pix_fmt', request.pixels, 'pipe:1'],
    (stderr) => new LabelFormatError('video', `ffmpeg cannot decode its frames: ${stderrTail(stderr)}`),
    tools,
  );
  let frame = new Uint8Array(size);
  let filled = 0;
  for await (const chunk of output) {
    for (let at = 0; at < chunk.length; ) {
      const take = Math.min(size - filled, chunk.length - at);
      frame.set(chunk.subarray(at, at + take), filled);
      filled += take;
      at += take;
      if (filled === size) {
        yield frame;
        frame = new Uint8Array(size);
        filled = 0;
      }
    }
  }
}
