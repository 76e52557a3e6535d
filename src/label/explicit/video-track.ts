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

const overlaps = (a: TextLine['box'], b: TextLine['box']): boolean =>
  a.left < b.left + b.width && b.left < a.left + a.width && a.top < b.top + b.height && b.top < a.top + a.height;

/** Most luma change over the window for a pixel to count as static. */
const STATIC_RANGE = 24;
/** Contrast with the surrounding stroke background that makes a pixel ink (as the image detector). */
const INK_DELTA = 28;
/** Strokes up to about twice this share of the shortest side wide are found (bold text 10% tall has ~2%). */
const STROKE_REACH = 0.03;

/** Sliding maximum or minimum over a square window, along rows then columns; `empty` marks no value. */
function squareFilter(values: Int16Array, width: number, height: number, radius: number, pick: 'max' | 'min', empty: number): Int16Array {
  const better = pick === 'max' ? (a: number, b: number): boolean => a > b : (a: number, b: number): boolean => a < b;
  const pass = (input: Int16Array, along: 'row' | 'column'): Int16Array => {
    const output = new Int16Array(input.length);
    const [outer, inner] = along === 'row' ? [height, width] : [width, height];
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        let best = empty;
        for (let k = Math.max(0, i - radius); k <= Math.min(inner - 1, i + radius); k++) {
          const value = input[along === 'row' ? o * width + k : k * width + o] ?? empty;
          if (value !== empty && (best === empty || better(value, best))) best = value;
        }
        output[along === 'row' ? o * width + i : i * width + o] = best;
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
      const value = frame[i] ?? 0;
      if (value < (low[i] ?? 0)) low[i] = value;
      if (value > (high[i] ?? 0)) high[i] = value;
    }
  }
  const still = (i: number): boolean => (high[i] ?? 0) - (low[i] ?? 0) <= STATIC_RANGE;
  const radius = Math.max(2, Math.round(Math.min(width, height) * STROKE_REACH));
  const forMax = Int16Array.from(luma, (value, i) => (still(i) ? value : -1));
  const forMin = Int16Array.from(luma, (value, i) => (still(i) ? value : 256));
  const closing = squareFilter(squareFilter(forMax, width, height, radius, 'max', -1).map((v) => (v === -1 ? 256 : v)), width, height, radius, 'min', 256);
  const opening = squareFilter(squareFilter(forMin, width, height, radius, 'min', 256).map((v) => (v === 256 ? -1 : v)), width, height, radius, 'max', -1);
  const ink = new Uint8Array(luma.length).fill(128);
  for (let i = 0; i < luma.length; i++) {
    if (!still(i)) continue;
    const value = luma[i] ?? 0;
    if ((closing[i] ?? 0) - value > INK_DELTA) ink[i] = 0;
    else if (value - (opening[i] ?? 255) > INK_DELTA) ink[i] = 255;
  }
  return { width, height, luma: ink };
}

/**
 * Text lines found in the static ink of `reference` (sampled frame `index`, with `window`
 * around it) that no track in `tracks` covers yet, as new tracks.
 */
export function newTracks(reference: LumaFrame, window: readonly Uint8Array[], index: number, tracks: readonly NoticeTrack[]): NoticeTrack[] {
  const frame = reference;
  const added: NoticeTrack[] = [];
  for (const line of findEdgeTextLines(staticInkFrame(reference, window))) {
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
