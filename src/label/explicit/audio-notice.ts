/**
 * @module label/explicit/audio-notice
 * The notice inserted into audio (GB 45438 §5.3): the rhythm, a spoken notice the provider
 * supplies, or the rhythm followed by the spoken notice. 0.2 s of silence (two rhythm units)
 * sits before and after each part, so the notice stands apart from the content and a checker
 * sees the rhythm's edges. The notice is mono, the same in every channel, at the content's
 * sample rate and encoding; the spoken notice is resampled and levelled to match.
 */
import { bufferSource } from '../implicit/bytes.js';
import { MediaLabelOptionError } from './audio-video-errors.js';
import { LEVEL_BLOCK_SECONDS, blockPowers, gatedLevelDb } from './audio-level.js';
import { decodeMono, encodeMono, type PcmLayout } from './audio-pcm.js';
import { DEFAULT_RHYTHM, synthesizeRhythm, type RhythmTiming } from './audio-rhythm.js';
import { isWav, readWavInfo, wavData } from './audio-wav.js';

/** Which notice: the rhythm, the provider's spoken notice, or the rhythm then the spoken notice. */
export type NoticeKind = 'rhythm' | 'speech' | 'rhythm+speech';

/** Silence before and after each part of the notice, in seconds. */
export const NOTICE_GUARD_SECONDS = 0.2;

/** Spoken-notice samples never peak above this after levelling (no clipping). */
const SPEECH_PEAK_LIMIT = 0.97;

/** A spoken notice decoded to mono floats. */
export interface SpeechNotice {
  samples: Float32Array;
  sampleRate: number;
}

/**
 * Decodes a spoken notice supplied as WAV PCM (any encoding the audio label reads).
 *
 * @throws MediaLabelOptionError when the bytes are not a usable WAV or hold no sound.
 */
export async function loadSpeechNotice(wav: Uint8Array): Promise<SpeechNotice> {
  if (!isWav(wav)) throw new MediaLabelOptionError('the spoken notice must be a WAV file (convert it with `ffmpeg -i notice.mp3 notice.wav`)');
  const source = bufferSource(wav);
  let info;
  try {
    info = await readWavInfo(source);
  } catch (error) {
    throw new MediaLabelOptionError(`the spoken notice is not a usable WAV file: ${(error as Error).message}`, { cause: error });
  }
  const parts: Uint8Array[] = [];
  for await (const chunk of wavData(source, info)) parts.push(chunk);
  const samples = decodeMono(Buffer.concat(parts), info.layout);
  if (gatedLevelDb(blockPowers(samples, Math.max(1, Math.round(info.layout.sampleRate * LEVEL_BLOCK_SECONDS))), -60) === null) {
    throw new MediaLabelOptionError('the spoken notice is silent');
  }
  return { samples, sampleRate: info.layout.sampleRate };
}

function blackman(x: number): number {
  return 0.42 + 0.5 * Math.cos(Math.PI * x) + 0.08 * Math.cos(2 * Math.PI * x);
}

/**
 * Resamples mono floats with a Blackman-windowed sinc (16 zero crossings each side, cut off at
 * 95% of the lower Nyquist frequency): clean enough for a spoken notice.
 */
export function resample(samples: Float32Array, fromRate: number, toRate: number): Float32Array {
  if (fromRate === toRate) return samples;
  const ratio = toRate / fromRate;
  const cutoff = 0.95 * Math.min(1, ratio);
  const halfWidth = 16 / cutoff;
  const out = new Float32Array(Math.round(samples.length * ratio));
  for (let i = 0; i < out.length; i++) {
    const t = i / ratio;
    let sum = 0;
    for (let k = Math.ceil(t - halfWidth); k <= Math.floor(t + halfWidth); k++) {
      const sample = samples[k];
      if (sample === undefined) continue;
      const x = t - k;
      const sinc = x === 0 ? 1 : Math.sin(Math.PI * cutoff * x) / (Math.PI * cutoff * x);
      sum += sample * cutoff * sinc * blackman(x / halfWidth);
    }
    out[i] = sum;
  }
  return out;
}

export interface NoticeSpec {
  kind: NoticeKind;
  /** Required for `speech` and `rhythm+speech`. */
  speech?: SpeechNotice;
  rhythm?: RhythmTiming;
}

/** Builds the notice for one content layout: a fixed length, any level. */
export interface NoticeBuilder {
  /** Frames every notice takes. */
  frames: number;
  /** The notice as bytes of the layout, its RMS while sounding at `levelDb` dBFS. */
  build(levelDb: number): Uint8Array;
}

/**
 * Prepares the notice for content of `layout`.
 *
 * @example
 * const notice = noticeBuilder(layout, { kind: 'rhythm' });
 * const bytes = notice.build(-20); // 1.5 s: 0.2 s silence, the 1.1 s rhythm, 0.2 s silence
 */
export function noticeBuilder(layout: PcmLayout, spec: NoticeSpec): NoticeBuilder {
  const rate = layout.sampleRate;
  const guard = Math.round(NOTICE_GUARD_SECONDS * rate);
  const wantsSpeech = spec.kind !== 'rhythm';
  if (wantsSpeech && !spec.speech) throw new MediaLabelOptionError(`a ${spec.kind} notice needs the spoken notice audio (a WAV file)`);
  const speech = wantsSpeech && spec.speech ? resample(spec.speech.samples, spec.speech.sampleRate, rate) : undefined;
  const speechDb = speech ? (gatedLevelDb(blockPowers(speech, Math.max(1, Math.round(rate * LEVEL_BLOCK_SECONDS))), -60) ?? 0) : 0;
  const speechPeak = speech ? speech.reduce((peak, s) => Math.max(peak, Math.abs(s)), 0) : 0;
  const rhythmFrames = spec.kind === 'speech' ? 0 : synthesizeRhythm(rate, -20, spec.rhythm ?? DEFAULT_RHYTHM).length;
  const parts = [rhythmFrames, speech?.length ?? 0].filter((n) => n > 0);
  const frames = guard + parts.reduce((n, part) => n + part + guard, 0);
  return {
    frames,
    build(levelDb) {
      const mono = new Float32Array(frames);
      let at = guard;
      if (rhythmFrames > 0) {
        mono.set(synthesizeRhythm(rate, levelDb, spec.rhythm ?? DEFAULT_RHYTHM), at);
        at += rhythmFrames + guard;
      }
      if (speech) {
        const gain = Math.min(10 ** ((levelDb - speechDb) / 20), SPEECH_PEAK_LIMIT / Math.max(speechPeak, 1e-9));
        for (let i = 0; i < speech.length; i++) mono[at + i] = (speech[i] ?? 0) * gain;
      }
      return encodeMono(mono, layout);
    },
  };
}
