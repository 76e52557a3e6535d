/**
 * @module label/explicit/video
 * The explicit video label (GB 45438 §5.4; Labeling Measures Art. 4): a text notice over the
 * opening frames for `seconds` (default 3, at least 2) at normal speed, optionally again in the
 * middle and at the end, its text height at least 5% of the frame's shortest side measured on
 * the drawn glyphs (the image half's renderer sizes it: 5.5% by default, and at least 10 px
 * where that fits). The notice is drawn once with the bundled font (never a system font), in
 * colours chosen from the frames beneath it, and laid over the video with ffmpeg's `overlay`
 * filter; the video is re-encoded as `video-ffmpeg.ts` documents, audio is copied untouched,
 * and the implicit label is kept or added in the same pass.
 */
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EmbedRequest } from '../api.js';
import type { LabelInput, LabelOutput } from '../api-io.js';
import { NotFoundError } from '../../errors.js';
import { MediaLabelOptionError, MediaToolError } from './audio-video-errors.js';
import { deliverFile, mp4IndexFirst, replaceAtomically, targetPath, withTempDir, writeInput } from './audio-video-files.js';
import { applyImplicitLabel, type ImplicitOutcome } from './audio-video-implicit.js';
import { stderrTail, probeMedia, runTool, type MediaTools } from './audio-video-tools.js';
import { encoderPixelFormats, planVideo, type VideoContainer, type VideoPlan, type VideoQuality } from './video-ffmpeg.js';
import { videoFrames } from './video-frames.js';
import { loadNoticeFont } from './font.js';
import { planNotice, renderNotice, type ImagePosition, type NoticePlan, type SizingOptions } from './image-render.js';
import { chooseStyle, collectLuminance, summarise, type NoticeStyle, type PixelBox, type PlateMode } from './image-style.js';
import { COMPACT_NOTICE, resolveNotice, type NoticeChoice } from './wording.js';

/** GB 45438 §5.4: the opening notice shows for at least this long at normal speed. */
export const MIN_VIDEO_NOTICE_SECONDS = 2;

/** Where a video notice shows besides the start. */
export type VideoExtraPosition = 'middle' | 'end';

export interface VideoLabelOptions extends NoticeChoice, Omit<SizingOptions, 'position'> {
  /** Seconds each notice shows (default 3; at least 2). */
  seconds?: number;
  /** Also show the notice in the middle and/or at the end. */
  also?: readonly VideoExtraPosition[];
  /** Corner or edge of the frame (default `top-left`, clear of subtitles). */
  position?: ImagePosition;
  /** Plate behind the text: when the picture needs it (default), always, or never. */
  plate?: PlateMode;
  /** An OpenType/TrueType font file instead of the bundled Noto Sans Hans Bold. */
  fontPath?: string;
  quality?: VideoQuality;
  /** Embed this implicit label in the output; without it, the source's label is carried over. */
  implicit?: EmbedRequest;
  tools?: MediaTools;
}

/** When a notice shows, in seconds from the start of the video. */
export interface VideoNoticeWindow {
  position: 'start' | VideoExtraPosition;
  start: number;
  end: number;
}

export interface VideoLabelResult {
  container: VideoContainer;
  /** The source's video codec and the encoder used for the output. */
  codec: string;
  encoder: string;
  width: number;
  height: number;
  durationSeconds: number;
  notice: string;
  /** The notice box (plate included) in the frame. */
  box: PixelBox;
  /** The smallest line's measured glyph height, and the 5% figure it meets. */
  textHeightPx: number;
  requiredPx: number;
  lines: string[];
  style: NoticeStyle;
  windows: VideoNoticeWindow[];
  /** What could not be met, e.g. a video shorter than 2 s. */
  warnings: string[];
  implicit: ImplicitOutcome;
}

function windowsFor(duration: number, seconds: number, also: readonly VideoExtraPosition[]): VideoNoticeWindow[] {
  const length = Math.min(seconds, duration);
  const windows: VideoNoticeWindow[] = [{ position: 'start', start: 0, end: length }];
  if (also.includes('middle')) {
    const start = Math.max(0, duration / 2 - length / 2);
    windows.push({ position: 'middle', start, end: Math.min(duration, start + length) });
  }
  if (also.includes('end')) windows.push({ position: 'end', start: Math.max(0, duration - length), end: duration });
  return windows;
}

/**
 * The overlay's `enable` expression. Its clock is the frames' presentation time, which ffmpeg
 * may shift by a few milliseconds from the stream's start time (it aligns every stream of the
 * file), so the opening window is open-ended before and the closing one after.
 */
function enableExpression(windows: readonly VideoNoticeWindow[], plan: VideoPlan): string {
  const at = (seconds: number): string => (plan.startTime + seconds).toFixed(6);
  return windows
    .map((w) => (w.position === 'start' ? `lte(t,${at(w.end)})` : w.position === 'end' ? `gte(t,${at(w.start)})` : `between(t,${at(w.start)},${at(w.end)})`))
    .join('+');
}

/** Samples the picture under the notice box across its windows (two frames a second), for its colours. */
async function sampleUnderNotice(path: string, box: PixelBox, windows: readonly VideoNoticeWindow[], tools: MediaTools): Promise<ReturnType<typeof summarise>> {
  const luminances: number[] = [];
  const step = Math.max(1, Math.round(Math.sqrt((box.width * box.height) / 4096)));
  for (const window of windows) {
    const frames = videoFrames(path, { from: window.start, seconds: Math.max(0.5, window.end - window.start), fps: 2, width: box.width, height: box.height, crop: box, pixels: 'rgb24' }, tools);
    for await (const frame of frames) collectLuminance(frame, box.width, 3, { left: 0, top: 0, width: box.width, height: box.height }, luminances, step);
  }
  return summarise(luminances);
}

async function readHead(path: string): Promise<Uint8Array> {
  const handle = await open(path, 'r').catch((error: NodeJS.ErrnoException) => {
    throw new NotFoundError('E_LABEL_FILE', `cannot open ${path}: ${error.code ?? error.message}`, { cause: error });
  });
  try {
    const head = new Uint8Array(64);
    const { bytesRead } = await handle.read(head, 0, 64, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

interface Drawn {
  layout: NoticePlan;
  style: NoticeStyle;
  rgba: Uint8Array;
}

async function drawNotice(path: string, notice: string, plan: VideoPlan, windows: readonly VideoNoticeWindow[], options: VideoLabelOptions): Promise<Drawn> {
  const font = loadNoticeFont(options.fontPath);
  const sizing: SizingOptions = { position: options.position ?? 'top-left', ...(options.heightRatio !== undefined ? { heightRatio: options.heightRatio } : {}), ...(options.minTextPx !== undefined ? { minTextPx: options.minTextPx } : {}) };
  const layout = planNotice(notice, { width: plan.width, height: plan.height }, font, sizing);
  const style = chooseStyle(await sampleUnderNotice(path, layout.box, windows, options.tools ?? {}), options.plate, layout.inkHeight);
  return { layout, style, rgba: renderNotice(layout, style, font).rgba };
}

/**
 * Labels a video file: writes the labelled video to `out`, or replaces the file with
 * `inPlace`, atomically.
 *
 * @throws LabelFormatError for a damaged file, UnsupportedMediaError for a container or codec
 * the label does not handle, MediaToolMissingError without ffmpeg, MediaLabelOptionError,
 * NoticeWordingError, NoticeFontError or NoticeDoesNotFitError for options that cannot be honoured.
 * @example
 * await labelVideoFile('clip.mp4', { out: 'clip.labelled.mp4' });
 * await labelVideoFile('clip.webm', { inPlace: true, also: ['end'], language: 'en', implicit: { producer, produceId: 'v-9' } });
 */
export async function labelVideoFile(path: string, options: VideoLabelOptions & { out?: string; inPlace?: boolean }): Promise<VideoLabelResult & { path: string }> {
  const target = targetPath(path, options);
  const seconds = options.seconds ?? 3;
  if (!(seconds >= MIN_VIDEO_NOTICE_SECONDS)) throw new MediaLabelOptionError(`a video notice must show for at least ${MIN_VIDEO_NOTICE_SECONDS} s (GB 45438 §5.4), not ${seconds} s`);
  const notice = resolveNotice(options, COMPACT_NOTICE);
  const head = await readHead(path);
  const tools = options.tools ?? {};
  const probe = await probeMedia(path, 'video', tools);
  const mp4 = probe.formatName.split(',').includes('mov');
  const plan = planVideo(probe, head, { indexFirst: mp4 && (await mp4IndexFirst(path)) });
  const windows = windowsFor(plan.duration, seconds, options.also ?? []);
  const warnings = plan.duration < MIN_VIDEO_NOTICE_SECONDS ? [`the video lasts ${plan.duration.toFixed(2)} s, less than the ${MIN_VIDEO_NOTICE_SECONDS} s GB 45438 §5.4 asks the opening notice to show; it shows throughout`] : [];
  const drawn = await drawNotice(path, notice, plan, windows, options);
  const formats = await encoderPixelFormats(plan.encoder, tools);
  return withTempDir(async (dir) => {
    const overlay = join(dir, 'notice.rgba');
    await writeFile(overlay, drawn.rgba);
    const { box } = drawn.layout;
    const graph = `[0:v:0][1:v]overlay=x=${box.left}:y=${box.top}:eof_action=repeat:enable='${enableExpression(windows, plan)}'[labelled]`;
    const inputs = ['-i', path, '-f', 'rawvideo', '-pixel_format', 'rgba', '-video_size', `${box.width}x${box.height}`, '-framerate', '1', '-i', overlay];
    return replaceAtomically(target, async (temp) => {
      await runTool(
        tools.ffmpeg ?? 'ffmpeg',
        ['-hide_banner', '-v', 'error', '-nostdin', '-y', ...inputs, '-filter_complex', graph, ...plan.outputArgs(options.quality ?? {}, formats), temp],
        (stderr) => new MediaToolError('ffmpeg', `cannot encode ${plan.codec} video with ${plan.encoder}: ${stderrTail(stderr)}`),
      );
      const implicit = await applyImplicitLabel(path, temp, options.implicit);
      return {
        container: plan.container,
        codec: plan.codec,
        encoder: plan.encoder,
        width: plan.width,
        height: plan.height,
        durationSeconds: plan.duration,
        notice,
        box,
        textHeightPx: drawn.layout.inkHeight,
        requiredPx: drawn.layout.requiredPx,
        lines: drawn.layout.lines,
        style: drawn.style,
        windows,
        warnings,
        implicit,
        path: target,
      };
    }, target === path);
  });
}

/**
 * Labels video held in memory or arriving as a stream; returns the labelled bytes, or streams
 * them to `output`. Work happens in a private temporary directory, so memory stays bounded.
 *
 * @example
 * const { bytes } = await labelVideo(mp4Bytes, { language: 'en' });
 */
export async function labelVideo(input: LabelInput, options: VideoLabelOptions = {}, output?: LabelOutput): Promise<VideoLabelResult & { bytes?: Uint8Array }> {
  return withTempDir(async (dir) => {
    const inPath = join(dir, 'input');
    const outPath = join(dir, 'output');
    await writeInput(input, inPath);
    const { path: _path, ...result } = await labelVideoFile(inPath, { ...options, out: outPath });
    const bytes = await deliverFile(outPath, output);
    return bytes ? { ...result, bytes } : result;
  });
}
