/**
 * @module label/explicit/audio-ffmpeg
 * MP3, M4A, FLAC and OGG through Debian's ffmpeg. One ffmpeg decodes the first audio stream
 * to raw PCM on a pipe, hegui inserts the notice in the stream (the same code as for WAV), and
 * a second ffmpeg encodes the result with the source's codec, sample rate, channel layout and
 * (for lossy codecs) bit rate, taking every tag, stream tag and cover picture from the source
 * (`-map_metadata`). Lossless sources (FLAC, ALAC) travel as integers and come out sample-exact
 * outside the notice; lossy ones (MP3, AAC, Vorbis, Opus) go through one more generation of
 * their codec at the source's bit rate — inserting audio changes the timeline, so their frames
 * cannot be copied.
 */
import { LabelFormatError } from '../errors.js';
import { MediaToolError, UnsupportedMediaError } from './audio-video-errors.js';
import { ffmpegInput, ffmpegOutput, stderrTail, type MediaProbe, type MediaTools, type ProbedStream } from './audio-video-tools.js';
import type { PcmEncoding, PcmLayout } from './audio-pcm.js';

/** Audio containers labelled through ffmpeg. */
export type FfmpegAudioFormat = 'mp3' | 'm4a' | 'flac' | 'ogg';

/** How one source is decoded and re-encoded. */
export interface AudioTranscode {
  format: FfmpegAudioFormat;
  /** The source's audio codec, as ffmpeg names it (`mp3`, `aac`, `alac`, `flac`, `vorbis`, `opus`). */
  codec: string;
  /** The PCM on the pipes between the two ffmpeg processes. */
  layout: PcmLayout;
  /** Seconds of audio, from the container (0 when it does not say). */
  duration: number;
  /** Encoder and muxer arguments for the output. */
  encodeArgs: string[];
  /** The ffmpeg channel layout name, when the source declares one. */
  channelLayout: string | undefined;
}

interface CodecChoice {
  encoder: string;
  /** Bit rate used when the source does not report one, in bit/s; undefined for lossless codecs. */
  defaultBitRate?: number;
  /** Encoder's accepted bit rate range, in bit/s. */
  range?: [number, number];
}

/** GB 45438 §5.3 labels audio in these codecs; each is re-encoded with the same codec. */
const CODECS: Record<string, CodecChoice> = {
  mp3: { encoder: 'libmp3lame', defaultBitRate: 128_000, range: [8_000, 320_000] },
  aac: { encoder: 'aac', defaultBitRate: 128_000, range: [16_000, 512_000] },
  alac: { encoder: 'alac' },
  flac: { encoder: 'flac' },
  vorbis: { encoder: 'libvorbis', defaultBitRate: 128_000, range: [32_000, 500_000] },
  opus: { encoder: 'libopus', defaultBitRate: 96_000, range: [6_000, 510_000] },
};

/** Which codecs each container may hold here. */
const CONTAINER_CODECS: Record<FfmpegAudioFormat, readonly string[]> = {
  mp3: ['mp3'],
  m4a: ['aac', 'alac'],
  flac: ['flac'],
  ogg: ['vorbis', 'opus', 'flac'],
};

function containerOf(probe: MediaProbe): FfmpegAudioFormat | undefined {
  const names = probe.formatName.split(',');
  if (names.includes('mp3')) return 'mp3';
  if (names.includes('mp4') || names.includes('mov')) return 'm4a';
  if (names.includes('flac')) return 'flac';
  if (names.includes('ogg')) return 'ogg';
  return undefined;
}

function bitRateOf(stream: ProbedStream, probe: MediaProbe, choice: CodecChoice): number {
  const [low, high] = choice.range ?? [0, Infinity];
  const reported = Number(stream.bit_rate) || probe.bitRate || choice.defaultBitRate || 0;
  return Math.round(Math.max(low, Math.min(high, reported)));
}

/** Lossless sources keep integer samples (16-bit, or 32-bit carrying up to 24); lossy ones are decoded to float. */
function pipeEncoding(stream: ProbedStream, lossless: boolean): PcmEncoding {
  if (!lossless) return 'f32le';
  return stream.sample_fmt?.startsWith('s16') ? 's16le' : 's32le';
}

function encoderArgs(format: FfmpegAudioFormat, stream: ProbedStream, probe: MediaProbe, choice: CodecChoice, encoding: PcmEncoding, indexFirst: boolean): string[] {
  const args = ['-c:a', choice.encoder];
  if (choice.defaultBitRate !== undefined) args.push('-b:a', String(bitRateOf(stream, probe, choice)));
  if (choice.encoder === 'flac' || choice.encoder === 'alac') {
    args.push('-sample_fmt', encoding === 's16le' ? (choice.encoder === 'alac' ? 's16p' : 's16') : choice.encoder === 'alac' ? 's32p' : 's32');
    const bits = Number(stream.bits_per_raw_sample);
    if (encoding === 's32le' && bits > 0) args.push('-bits_per_raw_sample', String(bits));
  }
  // Tags: the container's and the audio stream's (Vorbis comments live on the stream in OGG).
  args.push('-map_metadata', '1', '-map_metadata:s:a', '1:s:a');
  if (format === 'm4a') {
    // Keep custom keys (the `AIGC` mdta key among them), the M4A brand for .m4a files, and a faststart layout.
    args.push('-movflags', indexFirst ? '+use_metadata_tags+faststart' : '+use_metadata_tags', '-f', probe.tags.major_brand?.trim() === 'M4A' ? 'ipod' : 'mp4');
  } else {
    args.push('-f', format);
  }
  return args;
}

/**
 * Chooses how to decode and re-encode the audio of a probed file.
 *
 * @throws UnsupportedMediaError for containers or codecs the audio label does not handle.
 */
export function planTranscode(probe: MediaProbe, layout: { indexFirst?: boolean } = {}): AudioTranscode {
  const format = containerOf(probe);
  if (!format) throw new UnsupportedMediaError(`${probe.formatName} audio`);
  const pictures = probe.streams.filter((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  if (pictures.length > 0) throw new UnsupportedMediaError(`a ${format} file with video (label it as video)`);
  const stream = probe.streams.find((s) => s.codec_type === 'audio');
  if (!stream) throw new LabelFormatError(format, 'it holds no audio stream');
  const codec = stream.codec_name ?? 'unknown';
  const choice = CODECS[codec];
  if (!choice || !CONTAINER_CODECS[format].includes(codec)) throw new UnsupportedMediaError(`${codec} audio in ${format}`);
  const sampleRate = Number(stream.sample_rate);
  const channels = stream.channels ?? 0;
  if (!(sampleRate > 0) || channels <= 0) throw new LabelFormatError(format, `ffprobe reports ${channels} channels at ${stream.sample_rate} Hz`);
  const encoding = pipeEncoding(stream, choice.defaultBitRate === undefined);
  return {
    format,
    codec,
    layout: { encoding, sampleRate, channels },
    duration: Number(stream.duration) || probe.duration,
    encodeArgs: encoderArgs(format, stream, probe, choice, encoding, layout.indexFirst === true),
    channelLayout: stream.channel_layout,
  };
}

/** The first audio stream of `path` as raw PCM of the plan's layout; a damaged stream raises `LabelFormatError`. */
export function decodeAudio(path: string, plan: AudioTranscode, tools: MediaTools = {}): AsyncGenerator<Uint8Array> {
  const raw = plan.layout.encoding;
  return ffmpegOutput(
    ['-v', 'error', '-xerror', '-i', path, '-map', '0:a:0', '-f', raw, '-c:a', `pcm_${raw}`, 'pipe:1'],
    (stderr) => new LabelFormatError(plan.format, `ffmpeg cannot decode its audio: ${stderrTail(stderr)}`),
    tools,
  );
}

/**
 * Encodes raw PCM of the plan's layout to `outPath` like the source at `sourcePath`: same codec,
 * rate, channels, tags and cover pictures.
 */
export async function encodeAudio(pcm: AsyncIterable<Uint8Array>, sourcePath: string, outPath: string, plan: AudioTranscode, tools: MediaTools = {}): Promise<void> {
  const { encoding, sampleRate, channels } = plan.layout;
  // ffmpeg reads several inputs through small queues; a pipe beside a file input stalls without a deep one.
  const input = ['-thread_queue_size', '4096', '-f', encoding, '-ar', String(sampleRate), '-ac', String(channels), ...(plan.channelLayout ? ['-ch_layout', plan.channelLayout] : []), '-i', 'pipe:0'];
  // Cover pictures (attached_pic streams) are copied for the containers that hold them as streams.
  const pictures = plan.format === 'ogg' ? [] : ['-map', '1:v?', '-c:v', 'copy'];
  await ffmpegInput(
    ['-v', 'error', '-y', ...input, '-i', sourcePath, '-map', '0:a', ...pictures, ...plan.encodeArgs, outPath],
    pcm,
    (stderr) => new MediaToolError('ffmpeg', `cannot encode ${plan.codec} for ${plan.format}: ${stderrTail(stderr)}`),
    tools,
  );
}
