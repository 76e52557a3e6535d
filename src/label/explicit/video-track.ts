/**
 * @module label/explicit/video-track
 * How long a notice stays on screen (GB 45438 §5.4: at least 2 s at the start), measured on
 * decoded frames without the original. Overlaid text is static whatever moves beneath it, so
 * the text is looked for among the pixels that stay put over half a second around a reference
 * frame: those clearly darker than their neighbourhood become black, those clearly lighter
 * white, everything else (moving picture, flat areas) mid grey, and the image checker's edge
 * text-line detector reads lines from that picture, undisturbed by textured, moving content.
 * Each line's ink pixels' luma are then compared in every sampled frame. The notice is on screen in a frame while at least 70% of its ink pixels are
 * within 24 levels of the reference (overlaid text is static whatever moves beneath it, and
 * compression noise stays well inside the tolerance). Its span is the unbroken run of such
 * frames around the reference frame, so the duration is exact to one sampled frame.
 */
import { findEdgeTextLines, type LumaFrame, type TextLine } from './check-image-detect.js';

/** Luma difference a notice pixel may show between frames and still be the same pixel. */
const LUMA_TOLERANCE = 24;
/** Share of the ink that must match for the notice to be on screen. */
const MATCH_SHARE = 0.7;
/** At most this many ink pixels are compared per frame (evenly spread). */
const MAX_COMPARED = 4096;

/** A text line followed through the sampled frames. */
export interface NoticeTrack {
  line: TextLine;
  /** Index of the frame the line was found in. */
  reference: number;
  /** Compared pixel indices and their luma in the reference frame. */
  pixels: Uint32Array;
  luma: Uint8Array;
  /** Per sampled frame index: whether it shows the notice (absent: not compared). */
  shows: boolean[];
}

/** True when box `a` lies within box `b` (one pixel of slack). */
const inside = (a: TextLine['box'], b: TextLine['box']): boolean =>
  a.left >= b.left - 1 && a.top >= b.top - 1 && a.left + a.width <= b.left + b.width + 1 && a.top + a.height <= b.top + b.height + 1;

const overlaps = (a: TextLine['box'], b: TextLine['box']): boolean =>
  a.left < b.left + b.width && b.left < a.left + a.width && a.top < b.top + b.height && b.top < a.top + a.height;

/** Most luma change over the window for a pixel to count as static. */
const STATIC_RANGE = 24;
/**
 * Contrast with the surrounding stroke background that makes a pixel ink. Higher than the image
 * detector's 28: a translucent plate over moving picture varies by up to a quarter of the range,
 * while a legible notice's strokes stand far further from what surrounds them.
 */
const INK_DELTA = 60;
/** Strokes up to about twice this share of the shortest side wide are found (bold text 10% tall has ~2%). */
const STROKE_REACH = 0.03;

/**
 * Sliding maximum or minimum over a square window, along rows then columns, in constant time
 * per pixel (van Herk / Gil-Werman blocks). `empty` marks pixels without a value; it must lose
 * every comparison (below 0 for a maximum, above 255 for a minimum), and stands for the outside.
 */
function squareFilter(values: Int16Array, width: number, height: number, radius: number, pick: 'max' | 'min', empty: number): Int16Array {
  const max = pick === 'max';
  const span = 2 * radius + 1;
  const pass = (input: Int16Array, along: 'row' | 'column'): Int16Array => {
    const output = new Int16Array(input.length);
    const [lines, length, step] = along === 'row' ? [height, width, 1] : [width, height, width];
    const padded = length + 2 * radius;
    const line = new Int16Array(padded);
    const forward = new Int16Array(padded);
    const backward = new Int16Array(padded);
    for (let l = 0; l < lines; l++) {
      const base = along === 'row' ? l * width : l;
      line.fill(empty);
      for (let i = 0; i < length; i++) line[i + radius] = input[base + i * step] as number;
      for (let j = 0; j < padded; j++) {
        const v = line[j] as number;
        const previous = forward[j - 1] as number;
        forward[j] = j % span === 0 ? v : max ? (v > previous ? v : previous) : v < previous ? v : previous;
      }
      for (let j = padded - 1; j >= 0; j--) {
        const v = line[j] as number;
        const next = backward[j + 1] as number;
        backward[j] = j % span === span - 1 || j === padded - 1 ? v : max ? (v > next ? v : next) : v < next ? v : next;
      }
      for (let i = 0; i < length; i++) {
        const a = backward[i] as number;
        const b = forward[i + 2 * radius] as number;
        output[base + i * step] = max ? (a > b ? a : b) : a < b ? a : b;
      }
    }
    return output;
  };
  return pass(pass(values, 'row'), 'column');
}

/**
 * The static ink of `reference`: black where a pixel that stayed put over `window` (frames of
 * the same size, the reference among them) belongs to a thin dark stroke, white where it
 * belongs to a thin light one, grey elsewhere. Strokes are found by morphology over the static
 * pixels only (a closing fills thin dark strokes, an opening removes thin light ones), so the
 * straight edge of a plate or of a still background is not ink, and moving picture is ignored.
 */
export function staticInkFrame(reference: LumaFrame, window: readonly Uint8Array[]): LumaFrame {
  const { width, height, luma } = reference;
  const low = Uint8Array.from(luma);
  const high = Uint8Array.from(luma);
  for (const frame of window) {
    for (let i = 0; i < luma.length; i++) {
      const value = frame[i] as number;
      if (value < (low[i] as number)) low[i] = value;
      if (value > (high[i] as number)) high[i] = value;
    }
  }
  const still = new Uint8Array(luma.length);
  const forMax = new Int16Array(luma.length);
  const forMin = new Int16Array(luma.length);
  for (let i = 0; i < luma.length; i++) {
    const steady = (high[i] as number) - (low[i] as number) <= STATIC_RANGE;
    still[i] = steady ? 1 : 0;
    forMax[i] = steady ? (luma[i] as number) : -1;
    forMin[i] = steady ? (luma[i] as number) : 256;
  }
  const radius = Math.max(2, Math.round(Math.min(width, height) * STROKE_REACH));
  const closing = squareFilter(squareFilter(forMax, width, height, radius, 'max', -1).map((v) => (v === -1 ? 256 : v)), width, height, radius, 'min', 256);
  const opening = squareFilter(squareFilter(forMin, width, height, radius, 'min', 256).map((v) => (v === 256 ? -1 : v)), width, height, radius, 'max', -1);
  const ink = new Uint8Array(luma.length).fill(128);
  for (let i = 0; i < luma.length; i++) {
    if (!still[i]) continue;
    const value = luma[i] ?? 0;
    if ((closing[i] ?? 0) - value > INK_DELTA) ink[i] = 0;
    else if (value - (opening[i] ?? 255) > INK_DELTA) ink[i] = 255;
  }
  return { width, height, luma: ink };
}

/** The per-pixel mean of frames of one size. */
export function meanFrame(frames: readonly Uint8Array[]): Uint8Array {
  const sums = new Float64Array(frames[0]?.length ?? 0);
  for (const frame of frames) frame.forEach((value, i) => (sums[i] = (sums[i] ?? 0) + value));
  return Uint8Array.from(sums, (sum) => Math.round(sum / Math.max(1, frames.length)));
}

/**
 * Text lines found in the static ink of `reference` (sampled frame `index`, with `window`
 * around it) that no track in `tracks` covers yet, as new tracks.
 */
export function newTracks(reference: LumaFrame, window: readonly Uint8Array[], index: number, tracks: readonly NoticeTrack[]): NoticeTrack[] {
  const frame = reference;
  const added: NoticeTrack[] = [];
  const lines = findEdgeTextLines(staticInkFrame(reference, window));
  // An outline around text makes a second, slightly larger line: the inner one is the text. A
  // much smaller line inside a notice is a fragment of its glyphs: the notice is the outer one.
  const preferred = (line: TextLine): boolean =>
    !lines.some(
      (other) =>
        other !== line &&
        ((inside(other.box, line.box) && other.box.height >= 0.6 * line.box.height && other.glyphs >= line.glyphs / 2) ||
          (inside(line.box, other.box) && line.box.height < 0.6 * other.box.height)),
    );
  for (const line of lines.filter(preferred)) {
    if ([...tracks, ...added].some((track) => overlaps(track.line.box, line.box))) continue;
    const step = Math.max(1, Math.ceil(line.ink.length / MAX_COMPARED));
    const pixels = line.ink.filter((_, i) => i % step === 0);
    const luma = Uint8Array.from(pixels, (at) => frame.luma[at] ?? 0);
    const shows: boolean[] = [];
    shows[index] = true;
    added.push({ line, reference: index, pixels, luma, shows });
  }
  return added;
}

/** Records whether sampled frame `index` (its whole luma plane) shows the track's notice. */
export function compareFrame(track: NoticeTrack, luma: Uint8Array, index: number): boolean {
  let same = 0;
  track.pixels.forEach((at, i) => {
    if (Math.abs((luma[at] ?? 0) - (track.luma[i] ?? 0)) <= LUMA_TOLERANCE) same++;
  });
  const shows = same >= MATCH_SHARE * track.pixels.length;
  track.shows[index] = shows;
  return shows;
}

/** True once a frame after the reference no longer shows the notice: later frames cannot extend the span. */
export function closedAfter(track: NoticeTrack): boolean {
  for (let i = track.reference + 1; i < track.shows.length; i++) if (track.shows[i] === false) return true;
  return false;
}

/** First and last sampled frame of the unbroken run of frames that show the notice around `index`. */
export function spanAround(track: NoticeTrack, index = track.reference): { first: number; last: number } {
  let first = index;
  let last = index;
  while (track.shows[first - 1] === true) first--;
  while (track.shows[last + 1] === true) last++;
  return { first, last };
}

/** Tracks, longest span first (ties: the taller text). */
export function byLength(tracks: readonly NoticeTrack[]): NoticeTrack[] {
  const length = (track: NoticeTrack): number => {
    const { first, last } = spanAround(track);
    return last - first;
  };
  return [...tracks].sort((a, b) => length(b) - length(a) || b.line.box.height - a.line.box.height);
}
