/**
 * @module label/explicit/video-ffmpeg
 * How a video is re-encoded around its notice (GB 45438 §5.4), chosen from what ffprobe says
 * of the source, so the output looks like the input except for the notice:
 *
 * | source codec | encoder and settings |
 * |---|---|
 * | H.264 | libx264 `-crf 18 -preset medium` (visually lossless) |
 * | H.265 | libx265 `-crf 20 -preset medium` (tagged `hvc1` when the source is) |
 * | VP9 | libvpx-vp9 `-crf 24 -b:v 0 -deadline good -cpu-used 2 -row-mt 1` (constant quality) |
 * | VP8 | libvpx `-crf 6 -b:v` 1.5x the source's bit rate (its quality ceiling) |
 * | AV1 | libaom-av1 `-crf 28 -b:v 0 -cpu-used 6 -row-mt 1` |
 * | MPEG-4 Part 2 | mpeg4 `-q:v 2` |
 *
 * Always: the source's pixel format (when the encoder has it), colour tags and timestamps
 * (`-fps_mode passthrough`, and the MP4 track timescale), so frame rate and variable frame
 * timing are kept; every audio and subtitle stream copied (`-c:a copy`, `-c:s copy`), never
 * re-encoded; container and stream tags from the source (`-map_metadata`, MP4 custom keys
 * with `use_metadata_tags`); a faststart MP4 (index before the media data) stays faststart. A rotated source is drawn upright: ffmpeg applies the rotation
 * before the overlay and the output carries none. Data streams (e.g. MP4 timecode tracks) are
 * not carried.
 */
import { LabelFormatError } from '../errors.js';
import { UnsupportedMediaError } from './audio-video-errors.js';
import { runTool, type MediaProbe, type MediaTools, type ProbedStream } from './audio-video-tools.js';

/** Video containers the label writes. */
export type VideoContainer = 'mp4' | 'mov' | 'webm' | 'matroska';

/** Re-encoding quality; the defaults are in the module documentation. */
export interface VideoQuality {
  /** Constant rate factor for x264/x265/VP8/VP9/AV1 (lower is better). */
  crf?: number;
  /** x264/x265 preset (`ultrafast` … `veryslow`). */
  preset?: string;
}

/** What the labeller needs to know of a source video. */
export interface VideoPlan extends VideoGeometry {
  container: VideoContainer;
  codec: string;
  pixelFormat: string | undefined;
  /** Encoder, muxer and mapping arguments, after the inputs and the filter graph. */
  outputArgs(quality: VideoQuality, encoderFormats: readonly string[]): string[];
  /** The encoder ffmpeg is given. */
  encoder: string;
}

interface Encoder {
  name: string;
  args(stream: ProbedStream, quality: VideoQuality): string[];
}

const bitRate = (stream: ProbedStream, fallback: number): number => Number(stream.bit_rate) || fallback;

const ENCODERS: Record<string, Encoder> = {
  h264: { name: 'libx264', args: (_, q) => ['-crf', String(q.crf ?? 18), '-preset', q.preset ?? 'medium'] },
  hevc: {
    name: 'libx265',
    args: (s, q) => ['-crf', String(q.crf ?? 20), '-preset', q.preset ?? 'medium', '-x265-params', 'log-level=error', ...(s.codec_tag_string === 'hvc1' ? ['-tag:v', 'hvc1'] : [])],
  },
  vp9: { name: 'libvpx-vp9', args: (_, q) => ['-crf', String(q.crf ?? 24), '-b:v', '0', '-deadline', 'good', '-cpu-used', '2', '-row-mt', '1'] },
  vp8: { name: 'libvpx', args: (s, q) => ['-crf', String(q.crf ?? 6), '-b:v', String(Math.round(bitRate(s, 2_000_000) * 1.5)), '-deadline', 'good', '-cpu-used', '2'] },
  av1: { name: 'libaom-av1', args: (_, q) => ['-crf', String(q.crf ?? 28), '-b:v', '0', '-cpu-used', '6', '-row-mt', '1'] },
  mpeg4: { name: 'mpeg4', args: () => ['-q:v', '2'] },
};

function containerOf(probe: MediaProbe, head: Uint8Array): VideoContainer | undefined {
  const names = probe.formatName.split(',');
  if (names.includes('matroska')) return new TextDecoder('latin1').decode(head.subarray(0, 64)).includes('webm') ? 'webm' : 'matroska';
  if (names.includes('mov') || names.includes('mp4')) return probe.tags.major_brand?.trim() === 'qt' ? 'mov' : 'mp4';
  return undefined;
}

function fraction(text: string | undefined): number {
  const [num, den] = (text ?? '').split('/').map(Number);
  return num && den ? num / den : 0;
}

/** Degrees a player turns the picture: from the display matrix side data. */
function rotationOf(stream: ProbedStream): number {
  const side = stream.side_data_list ?? [];
  const rotation = side.find((entry) => typeof entry.rotation === 'number')?.rotation ?? Number(stream.tags?.rotate ?? 0);
  return ((Math.round(rotation / 90) % 4) + 4) % 4;
}

/** A colour tag worth passing on: set, and not "unknown". */
const known = (value: string | undefined): value is string => value !== undefined && value !== '' && value !== 'unknown' && value !== 'unspecified';

/** What any video's first picture stream looks like, for the checker and the labeller. */
export interface VideoGeometry {
  /** Frame size as displayed (rotation applied). */
  width: number;
  height: number;
  /** Seconds of video. */
  duration: number;
  /** Presentation time of the first frame, in seconds. */
  startTime: number;
  /** Frames per second (average), 0 when unknown. */
  fps: number;
}

function pictureStream(probe: MediaProbe): ProbedStream | undefined {
  return probe.streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
}

function geometryOf(stream: ProbedStream, probe: MediaProbe): VideoGeometry {
  const turned = rotationOf(stream) % 2 === 1;
  return {
    width: (turned ? stream.height : stream.width) ?? 0,
    height: (turned ? stream.width : stream.height) ?? 0,
    duration: Number(stream.duration) || probe.duration,
    startTime: Number(stream.start_time) || 0,
    fps: fraction(stream.avg_frame_rate) || fraction(stream.r_frame_rate),
  };
}

/**
 * The displayed size, duration and frame rate of a probed video, whatever its codec.
 *
 * @throws LabelFormatError when it has no picture stream or no frame size.
 */
export function videoGeometry(probe: MediaProbe): VideoGeometry {
  const stream = pictureStream(probe);
  if (!stream) throw new LabelFormatError('video', 'it holds no video stream');
  const geometry = geometryOf(stream, probe);
  if (!(geometry.width > 0 && geometry.height > 0)) throw new LabelFormatError('video', `ffprobe reports a ${geometry.width}x${geometry.height} frame`);
  return geometry;
}

/**
 * Chooses how to re-encode the first video stream of a probed file; `indexFirst` when the
 * source is a faststart MP4/MOV.
 *
 * @throws UnsupportedMediaError for containers or codecs the video label does not handle.
 */
export function planVideo(probe: MediaProbe, head: Uint8Array, layout: { indexFirst?: boolean } = {}): VideoPlan {
  const container = containerOf(probe, head);
  if (!container) throw new UnsupportedMediaError(`${probe.formatName} video`);
  const stream = pictureStream(probe);
  if (!stream) throw new UnsupportedMediaError(`a ${container} file without a video stream (label it as audio)`);
  const codec = stream.codec_name ?? 'unknown';
  const encoder = ENCODERS[codec];
  if (!encoder) throw new UnsupportedMediaError(`${codec} video`);
  const geometry = videoGeometry(probe);
  const timeBase = stream.time_base?.split('/')[1];
  return {
    ...geometry,
    container,
    codec,
    pixelFormat: stream.pix_fmt,
    encoder: encoder.name,
    outputArgs(quality, encoderFormats) {
      const args = ['-map', '[labelled]', '-map', '0:a?', '-map', '0:s?', '-map', '0:t?', '-c:a', 'copy', '-c:s', 'copy', '-c:t', 'copy'];
      args.push('-c:v', encoder.name, ...encoder.args(stream, quality));
      if (stream.pix_fmt && encoderFormats.includes(stream.pix_fmt)) args.push('-pix_fmt', stream.pix_fmt);
      if (known(stream.color_primaries)) args.push('-color_primaries', stream.color_primaries);
      if (known(stream.color_transfer)) args.push('-color_trc', stream.color_transfer);
      // ffprobe names RGB matrices `gbr`; the encoder option calls them `rgb`.
      if (known(stream.color_space)) args.push('-colorspace', stream.color_space === 'gbr' ? 'rgb' : stream.color_space);
      if (known(stream.color_range)) args.push('-color_range', stream.color_range);
      args.push('-fps_mode', 'passthrough', '-map_metadata', '0', '-map_metadata:s:v:0', `0:s:${stream.index}`);
      if (container === 'mp4' || container === 'mov') {
        // A faststart source (index before the media data) stays faststart.
        args.push('-movflags', layout.indexFirst ? '+use_metadata_tags+faststart' : '+use_metadata_tags');
        if (timeBase) args.push('-video_track_timescale', timeBase);
      }
      args.push('-f', container);
      return args;
    },
  };
}

const formatCache = new Map<string, Promise<string[]>>();

/** The pixel formats an ffmpeg encoder accepts (asked once per encoder). */
export function encoderPixelFormats(encoder: string, tools: MediaTools = {}): Promise<string[]> {
  let formats = formatCache.get(encoder);
  if (!formats) {
    formats = runTool(tools.ffmpeg ?? 'ffmpeg', ['-hide_banner', '-h', `encoder=${encoder}`], () => new UnsupportedMediaError(`video for the ${encoder} encoder`)).then(
      (help) => help.match(/Supported pixel formats:([^\n]*)/)?.[1]?.trim().split(/\s+/) ?? [],
    );
    formatCache.set(encoder, formats);
  }
  return formats;
}
