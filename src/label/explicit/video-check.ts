/**
 * @module label/explicit/video-check
 * The video checker (GB 45438 §5.4): measures, on decoded frames of a video from any source,
 * how long the notice shows at the start (at least 2 s at normal speed) and its text height
 * against the frame's shortest side (at least 5%), and reads its wording with OCR when
 * tesseract is installed. Frames are sampled at the video's own rate (up to 30 per second) and
 * analysed at most 720 px on the shortest side; the notice is the edge text line that stays
 * longest (`video-track.ts`). Notices in the middle and at the end are looked for too, and
 * reported. Only windows of 12 s are decoded, one frame in memory at a time.
 */
import { join } from 'node:path';
import sharp from 'sharp';
import { MediaToolMissingError } from './audio-video-errors.js';
import { withTempDir, writeInput } from './audio-video-files.js';
import { probeMedia, type MediaTools } from './audio-video-tools.js';
import { positionOf, type LumaFrame, type TextLine } from './check-image-detect.js';
import { OCR_MIN_CONFIDENCE, readCrops } from './check-ocr.js';
import { verdict, type CheckOptions, type CheckSubject, type ExplicitCheckReport, type Figure, type MediaChecker, type NoticeLocation, type RuleResult } from './check-types.js';
import { MIN_HEIGHT_RATIO } from './image-render.js';
import { analysisSize, videoFrames } from './video-frames.js';
import { videoGeometry, type VideoGeometry } from './video-ffmpeg.js';
import { byLength, compareFrame, closedAfter, meanFrame, newTracks, spanAround, type NoticeTrack } from './video-track.js';
import { MIN_VIDEO_NOTICE_SECONDS } from './video.js';
import { noticeStatement } from './wording.js';

const CLAUSE = 'GB 45438 §5.4';
/** Seconds of video decoded around each place a notice may be. */
const WINDOW_SECONDS = 12;
/** A notice found this late is still "at the start" (a fade-in, a first black frame). */
const START_GRACE_SECONDS = 0.5;
/** Below this text height (px) OCR cannot read reliably: the wording stays unverified. */
const OCR_MIN_PX = 6;

/** A notice measured in a video. */
export interface VideoNoticeMeasure {
  position: 'start' | 'middle' | 'end';
  /** The corner or edge it sits at, e.g. `top-left`. */
  corner: string;
  /** Text line box in the video's own pixels. */
  box: { left: number; top: number; width: number; height: number };
  /** Text height over the shortest side. */
  ratio: number;
  /** When it shows, in seconds, and for how long. */
  start: number;
  end: number;
  seconds: number;
  line: TextLine;
  /** The mean of the frames the line was found in: the static text stays sharp, moving picture blurs (for OCR). */
  frame: LumaFrame;
}

export interface VideoMeasurement {
  geometry: VideoGeometry;
  /** Frames per second the video was sampled at. */
  sampledFps: number;
  /** Pixels of the video per analysed pixel. */
  scale: number;
  /** Text lines at the start, longest shown first: the notice is among them (OCR tells which). */
  start: VideoNoticeMeasure[];
  /** Text lines in the middle and at the end, longest shown first. */
  middle: VideoNoticeMeasure[];
  end: VideoNoticeMeasure[];
}

function measure(track: NoticeTrack, position: VideoNoticeMeasure['position'], at: number, from: number, rate: number, frame: LumaFrame, geometry: VideoGeometry, scale: number): VideoNoticeMeasure {
  const { first, last } = spanAround(track, at);
  const box = track.line.box;
  const scaled = { left: Math.round(box.left * scale), top: Math.round(box.top * scale), width: Math.round(box.width * scale), height: Math.round(box.height * scale) };
  return {
    position,
    corner: positionOf(box, frame.width, frame.height),
    box: scaled,
    ratio: (box.height * scale) / Math.min(geometry.width, geometry.height),
    start: from + first / rate,
    end: from + (last + 1) / rate,
    seconds: (last - first + 1) / rate,
    line: track.line,
    frame,
  };
}

interface Sampling {
  path: string;
  geometry: VideoGeometry;
  rate: number;
  size: { width: number; height: number };
  tools: MediaTools;
}

const framesOf = (s: Sampling, from: number, seconds: number): AsyncGenerator<Uint8Array> =>
  videoFrames(s.path, { from, seconds, fps: s.rate, width: s.size.width, height: s.size.height, pixels: 'gray' }, s.tools);

/** Seconds of frames (at least 4, at most 30 frames) over which text must stay put to be found. */
const STATIC_WINDOW_SECONDS = 1;

/** The opening notice: lines that stay put over the first second (or the next: a notice may fade in), followed until they leave. */
async function startNotices(s: Sampling, scale: number): Promise<VideoNoticeMeasure[]> {
  const half = Math.min(30, Math.max(4, Math.round(STATIC_WINDOW_SECONDS * s.rate)));
  const tracks: NoticeTrack[] = [];
  const buffered: Uint8Array[] = [];
  const references = new Map<number, LumaFrame>();
  const look = (first: number, span = half): void => {
    const window = buffered.slice(first, first + span + 1);
    const mean = { ...s.size, luma: meanFrame(window) };
    // Three reference frames across the window: one noisy frame must not hide the notice.
    for (const reference of new Set([first, first + Math.floor((window.length - 1) / 2), first + window.length - 1])) {
      const found = newTracks({ ...s.size, luma: buffered[reference] as Uint8Array }, window, reference, tracks);
      for (const track of found) buffered.forEach((luma, i) => i !== reference && compareFrame(track, luma, i));
      if (found.length > 0) references.set(reference, mean);
      tracks.push(...found);
    }
  };
  let index = 0;
  for await (const luma of framesOf(s, 0, Math.min(s.geometry.duration, WINDOW_SECONDS))) {
    if (index <= 2 * half) buffered.push(luma);
    if (index === half) look(0);
    if (index === 2 * half) look(half);
    for (const track of tracks) if (index > track.reference && track.shows[index] === undefined && !closedAfter(track)) compareFrame(track, luma, index);
    index++;
    if (index > 2 * half && tracks.every(closedAfter)) break;
  }
  // A video shorter than the static window: look at what there is.
  if (index <= half && buffered.length > 0) look(0);
  // A notice shown for less than the static window (1 s, say) is not static over it: look again
  // over a quarter of it, so the notice is found and fails on its measured duration (GB 45438
  // §5.4, at least 2 s) rather than as "no notice".
  if (tracks.length === 0 && buffered.length > 1) look(0, Math.max(2, Math.round(half / 4)));
  return byLength(tracks).map((track) => measure(track, 'start', track.reference, 0, s.rate, references.get(track.reference) as LumaFrame, s.geometry, scale));
}

/** A notice around `at` seconds: lines that stay put over a second there, followed through the window around it. */
async function noticesAround(s: Sampling, position: 'middle' | 'end', at: number, scale: number): Promise<VideoNoticeMeasure[]> {
  const windowStart = Math.max(0, position === 'end' ? at - STATIC_WINDOW_SECONDS : at - STATIC_WINDOW_SECONDS / 2);
  const window: Uint8Array[] = [];
  for await (const luma of framesOf(s, windowStart, Math.max(STATIC_WINDOW_SECONDS, 4 / s.rate))) window.push(luma);
  const tracks: NoticeTrack[] = [];
  for (const reference of new Set([window[0], window[Math.floor(window.length / 2)], window.at(-1)])) {
    if (reference) tracks.push(...newTracks({ ...s.size, luma: reference }, window, 0, tracks));
  }
  if (tracks.length === 0) return [];
  const frame = { ...s.size, luma: meanFrame(window) };
  const from = Math.max(0, position === 'end' ? s.geometry.duration - WINDOW_SECONDS : at - WINDOW_SECONDS / 2);
  let index = 0;
  for await (const luma of framesOf(s, from, Math.min(WINDOW_SECONDS, s.geometry.duration - from))) {
    for (const track of tracks) compareFrame(track, luma, index);
    index++;
  }
  const referenceIndex = position === 'end' ? index - 1 : Math.min(index - 1, Math.round((at - from) * s.rate));
  for (const track of tracks) track.reference = referenceIndex;
  return byLength(tracks.filter((track) => track.shows[referenceIndex])).map((track) => measure(track, position, referenceIndex, from, s.rate, frame, s.geometry, scale));
}

/**
 * Finds and measures the notices of a video file at its start, middle and end.
 *
 * @example
 * const { start } = await measureVideoNotices('clip.mp4');
 * start[0]?.seconds; // e.g. 3.04
 */
export async function measureVideoNotices(path: string, tools: MediaTools = {}): Promise<VideoMeasurement> {
  const geometry = videoGeometry(await probeMedia(path, 'video', tools));
  const rate = geometry.fps > 0 ? Math.min(geometry.fps, 30) : 25;
  const size = analysisSize(geometry.width, geometry.height);
  const scale = geometry.width / size.width;
  const sampling = { path, geometry, rate, size, tools };
  const start = await startNotices(sampling, scale);
  const middle = await noticesAround(sampling, 'middle', geometry.duration / 2, scale);
  const end = await noticesAround(sampling, 'end', geometry.duration, scale);
  return { geometry, sampledFps: rate, scale, start, middle, end };
}

function rule(name: string, status: RuleResult['status'], message: string, measured: Record<string, Figure>, required: Record<string, Figure>): RuleResult {
  return { rule: `video.${name}`, clause: CLAUSE, status, message, measured, required };
}

const round = (value: number, digits = 3): number => Number(value.toFixed(digits));

/** Text heights OCR is tried at: tesseract reads small notices at one size and misses them at another. */
const OCR_HEIGHTS = [48, 64] as const;

/** A crop of the line, enlarged so its text is `textHeight` px tall, dark on light, for OCR. */
async function ocrCrop(notice: VideoNoticeMeasure, textHeight: number): Promise<Buffer> {
  const { frame, line } = notice;
  const pad = Math.ceil(line.box.height * 0.4);
  const left = Math.max(0, line.box.left - pad);
  const top = Math.max(0, line.box.top - pad);
  const width = Math.min(frame.width - left, line.box.width + pad * 2);
  const height = Math.min(frame.height - top, line.box.height + pad * 2);
  let crop = sharp(frame.luma, { raw: { width: frame.width, height: frame.height, channels: 1 } })
    .extract({ left, top, width, height })
    .resize({ height: Math.max(height, Math.round((textHeight * height) / line.box.height)), kernel: 'lanczos3' });
  if (line.polarity === 'light') crop = crop.negate();
  return crop.png().toBuffer();
}

const WORDING = { aiElement: true, generationElement: true };

/**
 * The notice among the candidate lines: the first whose OCR text has the AI and generation
 * elements, else the longest shown; and the wording rule for it.
 */
async function chooseNotice(candidates: readonly VideoNoticeMeasure[], options: CheckOptions): Promise<{ notice: VideoNoticeMeasure; wording: RuleResult } | undefined> {
  const longest = candidates[0];
  if (!longest) return undefined;
  const readable = candidates.filter((c) => c.line.box.height >= OCR_MIN_PX).slice(0, 8);
  if (readable.length === 0) return { notice: longest, wording: rule('wording', 'unverified', `the text is ${longest.line.box.height} px tall as analysed, too small for OCR to read reliably`, { ocr: false }, WORDING) };
  const crops = await Promise.all(readable.flatMap((candidate) => OCR_HEIGHTS.map((height) => ocrCrop(candidate, height))));
  const ocr = await readCrops(crops, options);
  if (!ocr.available) return { notice: longest, wording: rule('wording', 'unverified', `the wording was not read: ${ocr.reason}`, { ocr: false }, WORDING) };
  const match = ocr.texts.findIndex((text) => noticeStatement(text).kind === 'statement');
  const notice = readable[Math.floor(match / OCR_HEIGHTS.length)];
  if (notice) {
    const text = ocr.texts[match] ?? '';
    return { notice, wording: rule('wording', 'pass', `OCR read ${JSON.stringify(text)}: it states that the content is AI-generated`, { ocr: true, text }, WORDING) };
  }
  const read = ocr.texts.filter(Boolean).join(' | ');
  const sure = Math.max(0, ...ocr.confidences);
  if (sure < OCR_MIN_CONFIDENCE) {
    return { notice: longest, wording: rule('wording', 'unverified', `OCR could not read the text with confidence (best word ${sure.toFixed(0)}%, at least ${OCR_MIN_CONFIDENCE}% to count${read ? `; read ${JSON.stringify(read)}` : ''})`, { ocr: true, text: read, confidence: Math.round(sure) }, WORDING) };
  }
  return { notice: longest, wording: rule('wording', 'fail', read ? `OCR read ${JSON.stringify(read)}, with no notice wording ("AI生成", "人工智能生成", "AI-generated")` : 'OCR read no text at the edges', { ocr: true, text: read }, WORDING) };
}

function startRules(measurement: VideoMeasurement, start: VideoNoticeMeasure): RuleResult[] {
  const { geometry, sampledFps } = measurement;
  const shortest = Math.min(geometry.width, geometry.height);
  const long = start.seconds >= MIN_VIDEO_NOTICE_SECONDS - 1e-6;
  const early = start.start <= START_GRACE_SECONDS;
  const short = geometry.duration < MIN_VIDEO_NOTICE_SECONDS ? ` (the video lasts only ${geometry.duration.toFixed(2)} s)` : '';
  const late = early ? '' : `, appearing after the first ${START_GRACE_SECONDS} s`;
  return [
    rule('duration', long && early ? 'pass' : 'fail', `notice at ${start.corner} shows from ${start.start.toFixed(2)} s to ${start.end.toFixed(2)} s: ${start.seconds.toFixed(2)} s at normal speed (at least ${MIN_VIDEO_NOTICE_SECONDS} s from the start)${long ? '' : short}${late}`, {
      seconds: round(start.seconds),
      startSeconds: round(start.start),
      endSeconds: round(start.end),
      sampledFps: round(sampledFps, 2),
      videoSeconds: round(geometry.duration),
    }, { minSeconds: MIN_VIDEO_NOTICE_SECONDS, atStart: true }),
    rule('height', start.ratio >= MIN_HEIGHT_RATIO ? 'pass' : 'fail', `text height ${start.box.height} px is ${(start.ratio * 100).toFixed(2)}% of the shortest side ${shortest} px (at least 5%)`, {
      heightPx: start.box.height,
      shortestSidePx: shortest,
      ratio: round(start.ratio, 4),
    }, { minRatio: MIN_HEIGHT_RATIO, minHeightPx: Math.ceil(shortest * MIN_HEIGHT_RATIO) }),
  ];
}

/** Intersection over union of two boxes. */
function overlapShare(a: TextLine['box'], b: TextLine['box']): number {
  const width = Math.min(a.left + a.width, b.left + b.width) - Math.max(a.left, b.left);
  const height = Math.min(a.top + a.height, b.top + b.height) - Math.max(a.top, b.top);
  const shared = Math.max(0, width) * Math.max(0, height);
  return shared / (a.width * a.height + b.width * b.height - shared);
}

function unverified(subject: CheckSubject, reason: string): ExplicitCheckReport {
  return { kind: 'video', format: subject.format, ...verdict([rule('duration', 'unverified', reason, {}, { minSeconds: MIN_VIDEO_NOTICE_SECONDS })]), rules: [rule('duration', 'unverified', reason, {}, { minSeconds: MIN_VIDEO_NOTICE_SECONDS })], notices: [] };
}

async function withPath<T>(subject: CheckSubject, use: (path: string) => Promise<T>): Promise<T> {
  if (subject.path) return use(subject.path);
  return withTempDir(async (dir) => {
    const path = join(dir, 'video');
    await writeInput(subject.source, path);
    return use(path);
  });
}

/**
 * Measures a video's explicit notice against GB 45438 §5.4.
 *
 * @example
 * const report = await checkVideo({ format: 'mp4', source, path: 'clip.mp4' }, {});
 * report.rules.find((r) => r.rule === 'video.duration')?.measured.seconds; // e.g. 3.04
 */
export async function checkVideo(subject: CheckSubject, options: CheckOptions): Promise<ExplicitCheckReport> {
  if (options.offline) return unverified(subject, 'measuring video needs ffmpeg, and system tools were switched off');
  const tools: MediaTools = { ...(options.tools?.ffmpeg ? { ffmpeg: options.tools.ffmpeg } : {}), ...(options.tools?.ffprobe ? { ffprobe: options.tools.ffprobe } : {}) };
  let measurement: VideoMeasurement;
  try {
    measurement = await withPath(subject, (path) => measureVideoNotices(path, tools));
  } catch (error) {
    if (error instanceof MediaToolMissingError) return unverified(subject, error.message);
    throw error;
  }
  const chosen = await chooseNotice(measurement.start, options);
  if (!chosen) {
    const none = rule('duration', 'fail', 'no text notice found at an edge or corner of the opening frames', { seconds: 0, sampledFps: round(measurement.sampledFps, 2) }, { minSeconds: MIN_VIDEO_NOTICE_SECONDS, atStart: true });
    return { kind: 'video', format: subject.format, ...verdict([none]), rules: [none], notices: [] };
  }
  const rules = [...startRules(measurement, chosen.notice), chosen.wording];
  const overlapsStart = (notice: VideoNoticeMeasure): boolean => notice.start < chosen.notice.end && chosen.notice.start < notice.end;
  const found = [chosen.notice];
  const sameBox = (notice: VideoNoticeMeasure): boolean => overlapShare(notice.line.box, chosen.notice.line.box) >= 0.5;
  for (const candidates of [measurement.middle, measurement.end]) {
    // Later notices are optional: the opening notice's line again, or a line OCR reads as a notice.
    const again = candidates.find(sameBox);
    const later = again ? { notice: again, wording: chosen.wording } : await chooseNotice(candidates, options);
    if (later && later.wording.status !== 'fail' && !overlapsStart(later.notice) && !found.some((f) => f.start === later.notice.start)) found.push(later.notice);
  }
  const notices: NoticeLocation[] = found.map((notice) => ({ position: `${notice.position} ${notice.corner}`, box: notice.box, span: { start: round(notice.start), end: round(notice.end) } }));
  const wording = chosen.wording.measured.text;
  if (notices[0] && typeof wording === 'string' && wording !== '') notices[0].text = wording;
  return { kind: 'video', format: subject.format, ...verdict(rules), rules, notices };
}

/** True for a file with a picture stream (not only cover art): the video checker takes it, the audio checker the rest. */
async function hasPicture(subject: CheckSubject, options: CheckOptions): Promise<boolean> {
  if (options.offline) return true;
  try {
    const probe = await withPath(subject, (path) => probeMedia(path, subject.format, { ...(options.tools?.ffprobe ? { ffprobe: options.tools.ffprobe } : {}) }));
    return probe.streams.some((stream) => stream.codec_type === 'video' && !stream.disposition?.attached_pic);
  } catch (error) {
    if (error instanceof MediaToolMissingError) return true;
    throw error;
  }
}

/** The video checker, for the checker framework. */
export const videoChecker: MediaChecker = { kind: 'video', formats: ['mp4', 'matroska', 'ogg'], accepts: hasPicture, check: checkVideo };
