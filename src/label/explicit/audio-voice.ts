/**
 * @module label/explicit/audio-voice
 * Voice assistants label every round (GB 45438 §5.3: for voice assistants and similar
 * high-frequency interaction, the notice is given per round). The gateway creates one labeller
 * per session or configuration and passes each response's raw PCM chunks (as a TTS engine
 * streams them) through `round()`, which yields the same chunks with the notice before the
 * first (or after the last). Only `lookaheadSeconds` of the response is held back to set the
 * notice's level; with 0 nothing is held back and the level is `level.fixedDb` (or the silent
 * default, -24 dBFS).
 */
import { MediaLabelOptionError } from './audio-video-errors.js';
import { DEFAULT_LEVEL_POLICY, type LevelPolicy } from './audio-level.js';
import { loadSpeechNotice, noticeBuilder, type NoticeKind } from './audio-notice.js';
import { bytesPerSample, type PcmLayout } from './audio-pcm.js';
import { DEFAULT_RHYTHM, type RhythmTiming } from './audio-rhythm.js';
import { spliceNotices, type NoticePlacement, type SplicePoint } from './audio-splice.js';

export interface VoiceLabelOptions {
  /** The raw PCM the TTS engine produces, e.g. `{ encoding: 's16le', sampleRate: 24000, channels: 1 }`. */
  layout: PcmLayout;
  /** Before the response (default) or after it. */
  position?: 'start' | 'end';
  notice?: NoticeKind;
  /** The spoken notice as WAV bytes, for `speech` and `rhythm+speech`. */
  speech?: Uint8Array;
  rhythm?: Partial<RhythmTiming>;
  level?: Partial<LevelPolicy>;
  /** Seconds of the response measured before a start notice is released (default 0.5). */
  lookaheadSeconds?: number;
}

/** Labels the rounds of a voice conversation. */
export interface VoiceLabeler {
  /** The frames one notice adds to a round. */
  readonly noticeFrames: number;
  /**
   * The round's PCM with the notice inserted, streamed; `placement`, when given, receives
   * where the notice went and its level.
   */
  round(chunks: AsyncIterable<Uint8Array>, placement?: (placement: NoticePlacement) => void): AsyncGenerator<Uint8Array>;
}

/**
 * Prepares a per-round labeller (the spoken notice is decoded and resampled once).
 *
 * @example
 * const voice = await createVoiceLabeler({ layout: { encoding: 's16le', sampleRate: 24000, channels: 1 } });
 * for await (const pcm of voice.round(ttsChunks)) socket.send(pcm);
 */
export async function createVoiceLabeler(options: VoiceLabelOptions): Promise<VoiceLabeler> {
  const { layout } = options;
  if (!(layout.sampleRate > 0) || !(layout.channels > 0) || !bytesPerSample(layout.encoding)) {
    throw new MediaLabelOptionError(`the voice PCM layout ${JSON.stringify(layout)} is not usable`);
  }
  const kind = options.notice ?? 'rhythm';
  if (kind !== 'rhythm' && !options.speech) throw new MediaLabelOptionError(`a ${kind} notice needs the spoken notice (speech: WAV bytes)`);
  const speech = kind !== 'rhythm' && options.speech ? await loadSpeechNotice(options.speech) : undefined;
  const builder = noticeBuilder(layout, { kind, rhythm: { ...DEFAULT_RHYTHM, ...options.rhythm }, ...(speech ? { speech } : {}) });
  const lookahead = options.lookaheadSeconds ?? 0.5;
  if (!(lookahead >= 0)) throw new MediaLabelOptionError(`lookaheadSeconds must be 0 or more, not ${lookahead}`);
  const policy: LevelPolicy = {
    ...DEFAULT_LEVEL_POLICY,
    ...(lookahead === 0 ? { fixedDb: DEFAULT_LEVEL_POLICY.silentDb } : {}),
    ...options.level,
  };
  const window = Math.round(lookahead * layout.sampleRate);
  const point: SplicePoint =
    options.position === 'end'
      ? { frame: 'end', snapFrames: 0, before: Math.round(policy.windowSeconds * layout.sampleRate), after: 0, position: 'end' }
      : { frame: 0, snapFrames: 0, before: 0, after: window, position: 'start' };
  return {
    noticeFrames: builder.frames,
    async *round(chunks, placement) {
      const placements: NoticePlacement[] = [];
      yield* spliceNotices(chunks, { layout, points: [point], notice: (db) => builder.build(db), policy, placements });
      const placed = placements[0];
      if (placed && placement) placement(placed);
    },
  };
}
