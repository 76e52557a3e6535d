/**
 * @module label/explicit/image-style
 * Legibility of an image notice on any background (GB 45438 §5.2 asks for a notice a person
 * can perceive). The region under the notice is sampled, and the text colour (light or dark)
 * that keeps the higher worst-case contrast against it is chosen, with an outline in the
 * opposite colour. A busy or mid-tone region also gets a translucent plate, so the contrast
 * stays at or above WCAG's 4.5:1 whatever lies beneath. Contrast follows WCAG 2 (relative
 * luminance of sRGB), the measure the checker reports too.
 */

export type Rgb = readonly [number, number, number];

/** How the notice is drawn: text and outline colours, and the plate (with its opacity 0-1), if any. */
export interface NoticeStyle {
  text: Rgb;
  outline: Rgb;
  plate: { colour: Rgb; opacity: number } | null;
}

/** When to put a plate behind the text: only when the region needs it (default), always, or never. */
export type PlateMode = 'auto' | 'always' | 'never';

export const LIGHT: Rgb = [255, 255, 255];
export const DARK: Rgb = [17, 17, 17];

/** Contrast the text must keep against the darkest and lightest 5% of the region (WCAG 2 AA). */
export const TARGET_CONTRAST = 4.5;

/** Plate opacity: enough for TARGET_CONTRAST over black or white, while the picture still shows through. */
const PLATE_OPACITY = 0.78;

/** sRGB 8-bit value to linear light. */
export const LINEAR = Float64Array.from({ length: 256 }, (_, v) => {
  const c = v / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
});

/** WCAG 2 relative luminance (0 black to 1 white) of an sRGB colour. */
export function relativeLuminance(r: number, g: number, b: number): number {
  return 0.2126 * (LINEAR[r] ?? 0) + 0.7152 * (LINEAR[g] ?? 0) + 0.0722 * (LINEAR[b] ?? 0);
}

/** WCAG 2 contrast ratio of two relative luminances, 1 to 21. */
export function contrastRatio(a: number, b: number): number {
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}

/** The luminance spread of the region under the notice. */
export interface RegionSample {
  /** 5th percentile, median and 95th percentile of relative luminance. */
  p05: number;
  p50: number;
  p95: number;
}

/** A rectangle of pixels. */
export interface PixelBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * Adds the luminances of `box` in an interleaved 8-bit image (`channels` 1 to 4) to `into`,
 * every `step`-th pixel in each direction.
 */
export function collectLuminance(pixels: Uint8Array, width: number, channels: number, box: PixelBox, into: number[], step = 1): void {
  const grey = channels < 3;
  for (let y = box.top; y < box.top + box.height; y += step) {
    for (let x = box.left; x < box.left + box.width; x += step) {
      const at = (y * width + x) * channels;
      const r = pixels[at] ?? 0;
      into.push(grey ? (LINEAR[r] ?? 0) : relativeLuminance(r, pixels[at + 1] ?? 0, pixels[at + 2] ?? 0));
    }
  }
}

/**
 * Percentiles of a set of luminances: the same order statistics a sort would give, found by
 * selection (linear time; a 200x100 notice box is 20,000 values per image).
 */
export function summarise(luminances: readonly number[]): RegionSample {
  const values = new Float64Array(luminances.length);
  for (let i = 0; i < values.length; i++) values[i] = luminances[i] as number;
  return summariseValues(values);
}

/** Bins of `summariseValues`' histogram over luminance 0-1. */
const BINS = 4096;
/** Under this many values, selection on the whole array (the histogram would cost more). */
const HISTOGRAM_FROM = 512;
const binCounts = new Int32Array(BINS);
let binValues = new Float64Array(0);

/** A luminance's histogram bin: never smaller for a larger value (values outside 0-1 go to the end bins). */
const binOf = (value: number): number => (value > 0 ? (value < 1 ? (value * BINS) | 0 : BINS - 1) : 0);

/**
 * `summarise` of values already in a typed array (which it may reorder). The same order
 * statistics as a sort: a histogram over 4096 bins finds the bin each percentile's value is
 * in (bins keep the order of the values), then a selection among that bin's values alone.
 */
export function summariseValues(values: Float64Array): RegionSample {
  const n = values.length;
  if (n === 0) return { p05: 0, p50: 0, p95: 0 };
  const rank = (q: number): number => Math.min(n - 1, Math.floor(q * n));
  const [i05, i50, i95] = [rank(0.05), rank(0.5), rank(0.95)];
  if (n < HISTOGRAM_FROM) {
    // Each selection leaves the values before its rank no larger, and those after no smaller.
    select(values, i50, 0, n - 1);
    select(values, i05, 0, i50);
    select(values, i95, i50, n - 1);
    return { p05: values[i05] as number, p50: values[i50] as number, p95: values[i95] as number };
  }
  const counts = binCounts.fill(0);
  for (let i = 0; i < n; i++) {
    const bin = binOf(values[i] as number);
    counts[bin] = (counts[bin] as number) + 1;
  }
  return { p05: rankInBins(values, counts, i05), p50: rankInBins(values, counts, i50), p95: rankInBins(values, counts, i95) };
}

/** The `k`-th smallest of `values` (unchanged), given their bin counts. */
function rankInBins(values: Float64Array, counts: Int32Array, k: number): number {
  let bin = 0;
  let before = 0;
  while (before + (counts[bin] as number) <= k) before += counts[bin++] as number;
  const size = counts[bin] as number;
  if (binValues.length < size) binValues = new Float64Array(Math.max(size, binValues.length * 2));
  const inBin = binValues.subarray(0, size);
  let at = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i] as number;
    if (binOf(value) === bin) inBin[at++] = value;
  }
  select(inBin, k - before, 0, size - 1);
  return inBin[k - before] as number;
}

/** Puts the `k`-th smallest of `a[left..right]` at `k` (Hoare's selection, median-of-three pivot). */
function select(a: Float64Array, k: number, left: number, right: number): void {
  let lo = left;
  let hi = right;
  while (hi > lo) {
    const mid = (lo + hi) >> 1;
    const x = a[lo] as number;
    const y = a[mid] as number;
    const z = a[hi] as number;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while ((a[i] as number) < pivot) i++;
      while ((a[j] as number) > pivot) j--;
      if (i <= j) {
        const t = a[i] as number;
        a[i] = a[j] as number;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

function worstContrast(colour: Rgb, sample: RegionSample): number {
  const l = relativeLuminance(...colour);
  return Math.min(contrastRatio(l, sample.p05), contrastRatio(l, sample.p95));
}

/** Under this text height (px) an outline would fill the glyphs' counters: an opaque plate is used instead. */
export const SMALL_TEXT_PX = 8;

/**
 * Picks the text colour with the better worst-case contrast over the region, the opposite
 * colour for outline and plate, and a plate when `mode` is `always`, or `auto` and the text
 * alone would fall under TARGET_CONTRAST against part of the region. Text under SMALL_TEXT_PX
 * (tiny images) gets an opaque plate unless `mode` is `never`.
 */
export function chooseStyle(sample: RegionSample, mode: PlateMode = 'auto', textPx = Infinity): NoticeStyle {
  const lightWins = worstContrast(LIGHT, sample) >= worstContrast(DARK, sample);
  const text = lightWins ? LIGHT : DARK;
  const outline = lightWins ? DARK : LIGHT;
  if (mode !== 'never' && textPx < SMALL_TEXT_PX) return { text, outline, plate: { colour: outline, opacity: 1 } };
  const needsPlate = mode === 'always' || (mode === 'auto' && worstContrast(text, sample) < TARGET_CONTRAST);
  return { text, outline, plate: needsPlate ? { colour: outline, opacity: PLATE_OPACITY } : null };
}
