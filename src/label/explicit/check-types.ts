/**
 * @module label/explicit/check-types
 * The port of the explicit-label checker (GB 45438 §5; Labeling Measures Art. 4). The checker
 * detects a file's format and hands it to the media checker registered for that format; every
 * media checker (text and image here, audio in `audio-check.ts`, video in `video-check.ts`)
 * has the same shape and reports one result per rule, with the figures it measured, so that an
 * inspector sees why a file passes or fails. Checkers work on files from any source, not only
 * on notices hegui wrote.
 */
import type { ByteSource } from '../implicit/codec.js';

/** The four kinds of content GB 45438 §5 gives explicit-label rules for (5.1 to 5.4), and documents (PDF, DOCX: their pages and paragraphs). */
export type MediaKind = 'text' | 'image' | 'audio' | 'video' | 'document';

/**
 * A format the checker dispatches on, detected from content: text flavours, image codecs, and
 * audio/video containers (an MP4, Matroska or Ogg file may hold audio only or video; the
 * checkers registered for it decide through `accepts`).
 */
export type ExplicitFormat =
  | 'plain'
  | 'markdown'
  | 'html'
  | 'srt'
  | 'vtt'
  | 'jpeg'
  | 'png'
  | 'webp'
  | 'gif'
  | 'tiff'
  | 'heif'
  | 'pdf'
  | 'docx'
  | 'wav'
  | 'mp3'
  | 'flac'
  | 'ogg'
  | 'mp4'
  | 'matroska';

/**
 * - `pass` / `fail`: the rule was measured and holds / does not hold.
 * - `unverified`: the rule could not be measured here (e.g. no OCR engine installed); the file
 *   is then `unverified`, never `passed`, and the message says what to install to measure it.
 * - `not-applicable`: the rule does not apply to this file (e.g. per-frame rules on a still image).
 */
export type RuleStatus = 'pass' | 'fail' | 'unverified' | 'not-applicable';

/** A measured figure: a number (with its unit in the key, e.g. `heightPx`, `ratio`, `seconds`), text or a flag. */
export type Figure = number | string | boolean | null;

/** The outcome of one rule on one file. */
export interface RuleResult {
  /** Stable id, `<kind>.<rule>`, e.g. `text.wording`, `image.height`, `audio.rhythm`, `video.duration`. */
  rule: string;
  /** The clause the rule comes from, e.g. `GB 45438 §5.2`. */
  clause: string;
  status: RuleStatus;
  /** One line a person can act on: what was measured against what was required. */
  message: string;
  /** What was measured, e.g. `{ heightPx: 41, shortestSidePx: 768, ratio: 0.0534 }`. */
  measured: Record<string, Figure>;
  /** What the rule requires, e.g. `{ minRatio: 0.05 }`. */
  required: Record<string, Figure>;
}

/** Where a notice was found, in the media's own coordinates (pixels, seconds or characters). */
export interface NoticeLocation {
  /** e.g. `start`, `end`, `middle`, `top-left`, `bottom`, `00:00:00-00:00:02`. */
  position: string;
  /** Pixel box for images and video frames. */
  box?: { left: number; top: number; width: number; height: number };
  /** Time span in seconds for audio and video. */
  span?: { start: number; end: number };
  /** Character offsets in text. */
  range?: { start: number; end: number };
  /** The notice's text when it was read (text content, OCR or speech). */
  text?: string;
}

/**
 * The verdict on a file: `passed` only when every rule that applies was measured and held;
 * `failed` when a rule was measured and does not hold; `unverified` when nothing failed but a
 * rule could not be measured (no OCR engine, OCR that failed, text too small to read): what
 * was not read is never reported as passed.
 */
export type CheckStatus = 'passed' | 'failed' | 'unverified';

/** What the checker found for one file. */
export interface ExplicitCheckReport {
  kind: MediaKind;
  format: ExplicitFormat;
  status: CheckStatus;
  /** True only when `status` is `passed`. */
  passed: boolean;
  rules: RuleResult[];
  /** Every notice found (for animated images: the one in the first frame, with per-frame results in `rules`). */
  notices: NoticeLocation[];
}

/** A file handed to a media checker. */
export interface CheckSubject {
  format: ExplicitFormat;
  /** Random-access bytes of the file. */
  source: ByteSource;
  /**
   * A path holding the same bytes, when the input was a file. Checkers that run a system tool
   * (ffmpeg, tesseract) read it directly; without it they spool `source` to a temporary file.
   */
  path?: string;
}

/** Options every media checker receives. */
export interface CheckOptions {
  /** Executables to use instead of those on PATH, e.g. `{ tesseract: '/opt/bin/tesseract' }`. */
  tools?: Partial<Record<'tesseract' | 'ffmpeg' | 'ffprobe' | 'pdftoppm', string>>;
  /** Skip rules that need a system tool (they are then reported `unverified`). */
  offline?: boolean;
  /** `false`: do not run OCR (wording rules on images and video are then `unverified`). */
  ocr?: boolean;
  signal?: AbortSignal;
}

/** A media checker: measures one file against the §5 rules of its kind. */
export type MediaCheck = (subject: CheckSubject, options: CheckOptions) => Promise<ExplicitCheckReport>;

/**
 * A media checker and the formats it takes. The checker framework tries the entries whose
 * `formats` include the detected format, in order, and uses the first whose `accepts` resolves
 * true (absent: always). Video entries come before audio ones, so a video checker's `accepts`
 * can claim an MP4 with a video stream and leave an M4A to the audio checker.
 *
 * @example
 * export const audioChecker: MediaChecker = { kind: 'audio', formats: ['wav', 'mp3', 'flac', 'ogg', 'mp4', 'matroska'], check: checkAudio };
 */
export interface MediaChecker {
  kind: MediaKind;
  formats: readonly ExplicitFormat[];
  accepts?(subject: CheckSubject, options: CheckOptions): Promise<boolean>;
  check: MediaCheck;
}

/** The verdict of a set of rules (see `CheckStatus`), and `passed` with it. */
export function verdict(rules: readonly RuleResult[]): { status: CheckStatus; passed: boolean } {
  const status: CheckStatus = rules.some((rule) => rule.status === 'fail')
    ? 'failed'
    : rules.some((rule) => rule.status === 'unverified') || !rules.some((rule) => rule.status === 'pass')
      ? 'unverified'
      : 'passed';
  return { status, passed: status === 'passed' };
}
