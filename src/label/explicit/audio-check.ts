/**
 * @module label/explicit/audio-check
 * The audio checker (GB 45438 §5.3): finds the short-long-short-short rhythm by envelope
 * analysis (`audio-detect.ts`) in audio from any source and reports where it is, its timing
 * and its level against the content around it. WAV is decoded natively; every other container
 * through ffmpeg (its first audio stream, mixed to mono). Streaming throughout: memory stays
 * bounded whatever the length. A spoken notice cannot be verified without speech recognition,
 * which hegui does not ship: audio labelled only by voice is reported with that rule
 * `unverified` and the rhythm rule failed.
 */
import { join } from 'node:path';
import { LEVEL_BLOCK_SECONDS, powerToDb } from './audio-level.js';
import { decodeMono, frameBytes, type PcmLayout } from './audio-pcm.js';
import { RhythmDetector, type RhythmDetection } from './audio-detect.js';
import { MediaToolMissingError } from './audio-video-errors.js';
import { withTempDir, writeInput } from './audio-video-files.js';
import { ffmpegOutput, stderrTail, probeMedia, type MediaTools } from './audio-video-tools.js';
import { readWavInfo, wavData } from './audio-wav.js';
import { LabelFormatError } from '../errors.js';
import { verdict, type CheckOptions, type CheckSubject, type ExplicitCheckReport, type Figure, type MediaChecker, type RuleResult } from './check-types.js';

/** A rhythm found, and where in the audio it sits. */
export interface PlacedRhythm extends RhythmDetection {
  position: 'start' | 'middle' | 'end';
  /** Gated RMS of the content within 3 s either side of the rhythm (the rhythm itself excluded), or null when silent. */
  contentDb: number | null;
}

export interface RhythmScan {
  durationSeconds: number;
  sampleRate: number;
  rhythms: PlacedRhythm[];
}

/** The quietest a notice may be and still count as perceivable, in dBFS RMS. */
export const MIN_NOTICE_DB = -45;
/** How far below the content around it a notice may be, in dB. */
export const MIN_NOTICE_RELATIVE_DB = -15;

const GATE = 10 ** (-60 / 10);
/** Seconds of content either side of a rhythm that its level is compared with. */
const CONTEXT_SECONDS = 3;

/** Gated power per 100 ms segment: a few bytes per second of audio, enough to compare levels anywhere. */
class SegmentLevels {
  readonly #blockFrames: number;
  readonly #blocksPerSegment = Math.round(0.1 / LEVEL_BLOCK_SECONDS);
  #sum = 0;
  #count = 0;
  #segment: [number, number] = [0, 0];
  #inSegment = 0;
  readonly segments: [number, number][] = [];

  constructor(sampleRate: number) {
    this.#blockFrames = Math.max(1, Math.round(sampleRate * LEVEL_BLOCK_SECONDS));
  }

  push(mono: Float32Array): void {
    let sum = this.#sum;
    let count = this.#count;
    for (let i = 0; i < mono.length; i++) {
      const sample = mono[i] as number;
      sum += sample * sample;
      if (++count < this.#blockFrames) continue;
      this.#block(sum / this.#blockFrames);
      sum = 0;
      count = 0;
    }
    this.#sum = sum;
    this.#count = count;
  }

  #block(power: number): void {
    if (power >= GATE) {
      this.#segment[0] += power;
      this.#segment[1]++;
    }
    if (++this.#inSegment === this.#blocksPerSegment) {
      this.segments.push(this.#segment);
      this.#segment = [0, 0];
      this.#inSegment = 0;
    }
  }

  /** Gated level of [from, to) seconds minus [skipFrom, skipTo), or null when silent. */
  levelDb(from: number, to: number, skipFrom: number, skipTo: number): number | null {
    let sum = 0;
    let count = 0;
    this.segments.forEach(([power, blocks], i) => {
      const start = i * 0.1;
      if (start + 0.1 <= from || start >= to || (start + 0.1 > skipFrom && start < skipTo)) return;
      sum += power;
      count += blocks;
    });
    return count === 0 ? null : powerToDb(sum / count);
  }
}

function positionOf(rhythm: RhythmDetection, duration: number): PlacedRhythm['position'] {
  const reach = Math.min(5, duration / 3);
  if (rhythm.start <= reach) return 'start';
  if (duration - rhythm.end <= reach) return 'end';
  return 'middle';
}

async function scanMono(chunks: AsyncIterable<Float32Array>, sampleRate: number): Promise<RhythmScan> {
  const detector = new RhythmDetector(sampleRate);
  const levels = new SegmentLevels(sampleRate);
  let frames = 0;
  for await (const mono of chunks) {
    detector.push(mono);
    levels.push(mono);
    frames += mono.length;
  }
  const durationSeconds = frames / sampleRate;
  const rhythms = detector.finish().map((rhythm) => ({
    ...rhythm,
    position: positionOf(rhythm, durationSeconds),
    contentDb: levels.levelDb(rhythm.start - CONTEXT_SECONDS, rhythm.end + CONTEXT_SECONDS, rhythm.start - 0.3, rhythm.end + 0.3),
  }));
  return { durationSeconds, sampleRate, rhythms };
}

async function* monoOf(chunks: AsyncIterable<Uint8Array>, layout: PcmLayout): AsyncGenerator<Float32Array> {
  const frameSize = frameBytes(layout);
  let carry = new Uint8Array(0);
  for await (const chunk of chunks) {
    const bytes = carry.length === 0 ? chunk : Buffer.concat([carry, chunk]);
    const whole = bytes.length - (bytes.length % frameSize);
    carry = bytes.slice(whole);
    yield decodeMono(bytes.subarray(0, whole), layout);
  }
}

/** Scans a file through ffmpeg: its first audio stream, mixed to mono, as 32-bit floats. */
async function scanWithFfmpeg(path: string, format: string, tools: MediaTools): Promise<RhythmScan> {
  const probe = await probeMedia(path, format, tools);
  const stream = probe.streams.find((s) => s.codec_type === 'audio');
  if (!stream) throw new LabelFormatError(format, 'it holds no audio stream');
  const sampleRate = Number(stream.sample_rate);
  const pcm = ffmpegOutput(
    ['-v', 'error', '-i', path, '-map', '0:a:0', '-ac', '1', '-f', 'f32le', '-c:a', 'pcm_f32le', 'pipe:1'],
    (stderr) => new LabelFormatError(format, `ffmpeg cannot decode its audio: ${stderrTail(stderr)}`),
    tools,
  );
  return scanMono(monoOf(pcm, { encoding: 'f32le', sampleRate, channels: 1 }), sampleRate);
}

/**
 * Finds every rhythm in an audio file, with its times, unit, tone and level.
 *
 * @example
 * const scan = await scanAudioRhythm({ format: 'wav', source: bufferSource(bytes) });
 * scan.rhythms[0]?.start; // e.g. 0.2 (seconds)
 */
export async function scanAudioRhythm(subject: CheckSubject, tools: MediaTools = {}): Promise<RhythmScan> {
  if (subject.format === 'wav') {
    const info = await readWavInfo(subject.source);
    return scanMono(monoOf(wavData(subject.source, info), info.layout), info.layout.sampleRate);
  }
  if (subject.path) return scanWithFfmpeg(subject.path, subject.format, tools);
  return withTempDir(async (dir) => {
    const path = join(dir, 'audio');
    await writeInput(subject.source, path);
    return scanWithFfmpeg(path, subject.format, tools);
  });
}

const CLAUSE = 'GB 45438 §5.3';

function rule(name: string, status: RuleResult['status'], message: string, measured: Record<string, Figure>, required: Record<string, Figure>): RuleResult {
  return { rule: `audio.${name}`, clause: CLAUSE, status, message, measured, required };
}

const round = (value: number, digits = 3): number => Number(value.toFixed(digits));
const time = (seconds: number): string => `${seconds.toFixed(2)} s`;

function rhythmRules(scan: RhythmScan): RuleResult[] {
  const required = { pattern: 'short-long-short-short', positions: 'start|middle|end' };
  const first = scan.rhythms[0];
  if (!first) {
    return [
      rule('rhythm', 'fail', `no short-long-short-short rhythm found in ${time(scan.durationSeconds)} of audio`, { count: 0, durationSeconds: round(scan.durationSeconds) }, required),
      rule('speech', 'unverified', 'a spoken notice cannot be verified without speech recognition; listen to the start, end and middle', {}, { aiElement: true, generationElement: true }),
    ];
  }
  const where = scan.rhythms.map((r) => `${r.position} ${time(r.start)}-${time(r.end)}`).join(', ');
  const relative = first.contentDb === null ? null : first.levelDb - first.contentDb;
  const audible = first.levelDb >= MIN_NOTICE_DB && (relative === null || relative >= MIN_NOTICE_RELATIVE_DB);
  return [
    rule('rhythm', 'pass', `rhythm found: ${where}; unit ${(first.unitSeconds * 1000).toFixed(0)} ms, long/short ${first.dashRatio.toFixed(2)}, tone ${first.toneHz.toFixed(0)} Hz`, {
      count: scan.rhythms.length,
      position: first.position,
      startSeconds: round(first.start),
      endSeconds: round(first.end),
      unitMs: round(first.unitSeconds * 1000, 1),
      dashRatio: round(first.dashRatio, 2),
      toneHz: round(first.toneHz, 0),
      durationSeconds: round(scan.durationSeconds),
    }, required),
    rule('level', audible ? 'pass' : 'fail', `rhythm at ${first.levelDb.toFixed(1)} dBFS, ${relative === null ? 'the content around it is silent' : `${relative.toFixed(1)} dB against the content around it`} (at least ${MIN_NOTICE_DB} dBFS and ${MIN_NOTICE_RELATIVE_DB} dB)`, {
      noticeDb: round(first.levelDb, 1),
      contentDb: first.contentDb === null ? null : round(first.contentDb, 1),
      relativeDb: relative === null ? null : round(relative, 1),
    }, { minNoticeDb: MIN_NOTICE_DB, minRelativeDb: MIN_NOTICE_RELATIVE_DB }),
  ];
}

/**
 * Measures an audio file's explicit notice against GB 45438 §5.3.
 *
 * @example
 * const report = await checkAudio({ format: 'mp3', source, path: 'reply.mp3' }, {});
 * report.notices[0]?.span; // { start: 0.2, end: 1.3 }
 */
export async function checkAudio(subject: CheckSubject, options: CheckOptions): Promise<ExplicitCheckReport> {
  const tools = { ...(options.tools?.ffmpeg ? { ffmpeg: options.tools.ffmpeg } : {}), ...(options.tools?.ffprobe ? { ffprobe: options.tools.ffprobe } : {}) };
  let scan: RhythmScan;
  try {
    if (options.offline && subject.format !== 'wav') throw new MediaToolMissingError('ffmpeg');
    scan = await scanAudioRhythm(subject, tools);
  } catch (error) {
    if (!(error instanceof MediaToolMissingError)) throw error;
    const rules = [rule('rhythm', 'unverified', options.offline ? 'decoding this format needs ffmpeg, and system tools were switched off' : error.message, {}, { pattern: 'short-long-short-short' })];
    return { kind: 'audio', format: subject.format, ...verdict(rules), rules, notices: [] };
  }
  const rules = rhythmRules(scan);
  return {
    kind: 'audio',
    format: subject.format,
    ...verdict(rules),
    rules,
    notices: scan.rhythms.map((r) => ({ position: r.position, span: { start: round(r.start), end: round(r.end) } })),
  };
}

/** The audio checker, for the checker framework (video checkers claim MP4/Matroska files with a picture first). */
export const audioChecker: MediaChecker = { kind: 'audio', formats: ['wav', 'mp3', 'flac', 'ogg', 'mp4', 'matroska'], check: checkAudio };
