/**
 * @module label/explicit/audio
 * The explicit audio label (GB 45438 §5.3; Labeling Measures Art. 4): the rhythm
 * short-long-short-short (Morse "AI"), a spoken notice, or both, inserted at the start, the end
 * or the middle of the audio, at a level matched to the content there. WAV is handled natively
 * and streamed; MP3, M4A, FLAC and OGG go through Debian's ffmpeg (`audio-ffmpeg.ts`). The
 * implicit label is kept or added in the same pass. Voice assistants label each round with
 * `audio-voice.ts`.
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { EmbedRequest } from '../api.js';
import type { LabelInput, LabelOutput } from '../api-io.js';
import { handleSource } from '../files.js';
import { NotFoundError } from '../../errors.js';
import { MediaLabelOptionError } from './audio-video-errors.js';
import { applyImplicitLabel, type ImplicitOutcome } from './audio-video-implicit.js';
import { deliverFile, fileSink, mp4IndexFirst, replaceAtomically, targetPath, withTempDir, writeInput } from './audio-video-files.js';
import { probeMedia, type MediaTools } from './audio-video-tools.js';
import { decodeAudio, encodeAudio, planTranscode, type FfmpegAudioFormat } from './audio-ffmpeg.js';
import { DEFAULT_LEVEL_POLICY, type LevelPolicy } from './audio-level.js';
import { loadSpeechNotice, noticeBuilder, type NoticeBuilder, type NoticeKind, type NoticeSpec } from './audio-notice.js';
import { frameBytes, type PcmLayout } from './audio-pcm.js';
import { DEFAULT_RHYTHM, type RhythmTiming } from './audio-rhythm.js';
import { spliceNotices, type NoticePlacement, type SplicePoint } from './audio-splice.js';
import { isWav, readWavInfo, wavData, writeWav } from './audio-wav.js';

/** Where a notice goes: GB 45438 §5.3 allows the start, the end or the middle; or a time in seconds. */
export type AudioPosition = 'start' | 'middle' | 'end' | { seconds: number };

export type AudioFormat = 'wav' | FfmpegAudioFormat;

export interface AudioLabelOptions {
  /** The rhythm (default), the provider's spoken notice, or the rhythm then the spoken notice. */
  notice?: NoticeKind;
  /** The spoken notice as WAV bytes, for `speech` and `rhythm+speech`. */
  speech?: Uint8Array;
  /** Where the notice goes; default `['start']`. A `middle` notice moves up to 0.5 s to the quietest 20 ms. */
  positions?: readonly AudioPosition[];
  /** Overrides of the level rule (`audio-level.ts`). */
  level?: Partial<LevelPolicy>;
  /** Overrides of the rhythm's timing and tone (`audio-rhythm.ts`). */
  rhythm?: Partial<RhythmTiming>;
  /** Embed this implicit label in the output; without it, the source's label is carried over. */
  implicit?: EmbedRequest;
  /** Paths of ffmpeg and ffprobe, when not on PATH. */
  tools?: MediaTools;
}

export interface AudioLabelResult {
  format: AudioFormat;
  /** The audio codec: `pcm_s16le` and the like for WAV, ffmpeg's name otherwise. */
  codec: string;
  sampleRate: number;
  channels: number;
  inputSeconds: number;
  outputSeconds: number;
  placements: NoticePlacement[];
  implicit: ImplicitOutcome;
}

/** A middle notice may move this far to find a quiet moment. */
const MIDDLE_SNAP_SECONDS = 0.5;

function pointOf(position: AudioPosition, totalFrames: number, rate: number, window: number): SplicePoint {
  if (position === 'start') return { frame: 0, snapFrames: 0, before: 0, after: window, position: 'start' };
  if (position === 'end') return { frame: 'end', snapFrames: 0, before: window, after: 0, position: 'end' };
  const half = Math.round(window / 2);
  if (position === 'middle') {
    return { frame: Math.floor(totalFrames / 2), snapFrames: Math.round(MIDDLE_SNAP_SECONDS * rate), before: half, after: half, position: 'middle' };
  }
  const frame = Math.round(position.seconds * rate);
  if (!Number.isFinite(position.seconds) || frame < 0 || frame > totalFrames) {
    throw new MediaLabelOptionError(`a notice at ${position.seconds} s is outside the audio (0 to ${(totalFrames / rate).toFixed(3)} s)`);
  }
  return { frame, snapFrames: 0, before: half, after: half, position: `${position.seconds}s` };
}

/** The insertion points for `positions`, in order, checked. */
export function planPoints(positions: readonly AudioPosition[], totalFrames: number, rate: number, policy: LevelPolicy): SplicePoint[] {
  if (positions.length === 0) throw new MediaLabelOptionError('say where the notice goes: start, middle, end or a time');
  const window = Math.round(policy.windowSeconds * rate);
  const points = positions.map((p) => pointOf(p, totalFrames, rate, window));
  const names = points.map((p) => p.position);
  const repeated = names.find((name, i) => names.indexOf(name) !== i);
  if (repeated) throw new MediaLabelOptionError(`the notice position ${repeated} is given twice`);
  const order = (p: SplicePoint): number => (p.frame === 'end' ? Infinity : p.frame);
  return points.sort((a, b) => order(a) - order(b));
}

interface Prepared {
  spec: NoticeSpec;
  policy: LevelPolicy;
}

async function prepare(options: AudioLabelOptions): Promise<Prepared> {
  const kind = options.notice ?? 'rhythm';
  if (kind !== 'rhythm' && !options.speech) throw new MediaLabelOptionError(`a ${kind} notice needs the spoken notice (speech: WAV bytes)`);
  const speech = kind !== 'rhythm' && options.speech ? await loadSpeechNotice(options.speech) : undefined;
  const rhythm = { ...DEFAULT_RHYTHM, ...options.rhythm };
  return { spec: { kind, rhythm, ...(speech ? { speech } : {}) }, policy: { ...DEFAULT_LEVEL_POLICY, ...options.level } };
}

type CoreResult = Omit<AudioLabelResult, 'implicit'>;

function summary(format: AudioFormat, codec: string, layout: PcmLayout, totalFrames: number, builder: NoticeBuilder, placements: NoticePlacement[]): CoreResult {
  const inputSeconds = totalFrames / layout.sampleRate;
  return {
    format,
    codec,
    sampleRate: layout.sampleRate,
    channels: layout.channels,
    inputSeconds,
    outputSeconds: inputSeconds + (placements.length * builder.frames) / layout.sampleRate,
    placements,
  };
}

async function labelWavFile(path: string, outPath: string, options: AudioLabelOptions, prepared: Prepared): Promise<CoreResult> {
  const handle = await open(path, 'r');
  try {
    const source = handleSource(handle, (await handle.stat()).size);
    const info = await readWavInfo(source);
    const frameSize = frameBytes(info.layout);
    const totalFrames = Math.floor(info.data.size / frameSize);
    const builder = noticeBuilder(info.layout, prepared.spec);
    const points = planPoints(options.positions ?? ['start'], totalFrames, info.layout.sampleRate, prepared.policy);
    const placements: NoticePlacement[] = [];
    const pcm = spliceNotices(wavData(source, info), { layout: info.layout, points, notice: (db) => builder.build(db), policy: prepared.policy, placements, expectedFrames: totalFrames });
    const out = fileSink(outPath);
    try {
      await writeWav(source, info, info.data.size + points.length * builder.frames * frameSize, pcm, out.sink);
      await out.close();
    } catch (error) {
      await out.abort(error);
      throw error;
    }
    return summary('wav', `pcm_${info.layout.encoding}`, info.layout, totalFrames, builder, placements);
  } finally {
    await handle.close();
  }
}

async function labelWithFfmpeg(path: string, outPath: string, options: AudioLabelOptions, prepared: Prepared): Promise<CoreResult> {
  const probe = await probeMedia(path, 'audio', options.tools);
  const plan = planTranscode(probe, { indexFirst: probe.formatName.split(',').includes('mov') && (await mp4IndexFirst(path)) });
  const { layout } = plan;
  const totalFrames = Math.round(plan.duration * layout.sampleRate);
  const builder = noticeBuilder(layout, prepared.spec);
  const points = planPoints(options.positions ?? ['start'], totalFrames, layout.sampleRate, prepared.policy);
  const placements: NoticePlacement[] = [];
  const pcm = spliceNotices(decodeAudio(path, plan, options.tools), { layout, points, notice: (db) => builder.build(db), policy: prepared.policy, placements, expectedFrames: totalFrames });
  await encodeAudio(pcm, path, outPath, plan, options.tools);
  return summary(plan.format, plan.codec, layout, totalFrames, builder, placements);
}

async function isWavFile(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = new Uint8Array(12);
    await handle.read(head, 0, 12, 0);
    return isWav(head);
  } finally {
    await handle.close();
  }
}

/**
 * Labels an audio file: writes the labelled audio to `out`, or replaces the file with
 * `inPlace`, atomically.
 *
 * @throws LabelFormatError for a damaged file, UnsupportedMediaError for an encoding the label
 * does not handle, MediaToolMissingError when a non-WAV file needs ffmpeg and it is absent,
 * MediaLabelOptionError for options that cannot be honoured.
 * @example
 * await labelAudioFile('reply.mp3', { out: 'reply.labelled.mp3', positions: ['start', 'end'] });
 * await labelAudioFile('story.wav', { inPlace: true, notice: 'rhythm+speech', speech: noticeWav, implicit: { producer, produceId: 'a-1' } });
 */
export async function labelAudioFile(path: string, options: AudioLabelOptions & { out?: string; inPlace?: boolean }): Promise<AudioLabelResult & { path: string }> {
  const target = targetPath(path, options);
  const prepared = await prepare(options);
  const wav = await isWavFile(path).catch((error: NodeJS.ErrnoException) => {
    throw new NotFoundError('E_LABEL_FILE', `cannot open ${path}: ${error.code ?? error.message}`, { cause: error });
  });
  return replaceAtomically(target, async (temp) => {
    const core = wav ? await labelWavFile(path, temp, options, prepared) : await labelWithFfmpeg(path, temp, options, prepared);
    const implicit = await applyImplicitLabel(path, temp, options.implicit);
    return { ...core, implicit, path: target };
  }, target === path);
}

/**
 * Labels audio held in memory or arriving as a stream; returns the labelled bytes, or streams
 * them to `output`. Work happens in a private temporary directory, so memory stays bounded.
 *
 * @example
 * const { bytes } = await labelAudio(ttsWav, { positions: ['start'] });
 * await labelAudio(request.body, { implicit: { producer, produceId } }, res);
 */
export async function labelAudio(input: LabelInput, options: AudioLabelOptions = {}, output?: LabelOutput): Promise<AudioLabelResult & { bytes?: Uint8Array }> {
  return withTempDir(async (dir) => {
    const inPath = join(dir, 'input');
    const outPath = join(dir, 'output');
    await writeInput(input, inPath);
    const { path: _path, ...result } = await labelAudioFile(inPath, { ...options, out: outPath });
    const bytes = await deliverFile(outPath, output);
    return bytes ? { ...result, bytes } : result;
  });
}
