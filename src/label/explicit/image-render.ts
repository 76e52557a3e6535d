/**
 * @module label/explicit/image-render
 * Sizes, places and draws an image notice (GB 45438 §5.2: text at an edge or corner, its
 * height at least 5% of the image's shortest side). The height that counts is the rendered
 * glyph box, measured on the drawn pixels (rows where a glyph covers at least half a pixel),
 * never the nominal font size: a font size is chosen, the text drawn, its ink measured, and the
 * size raised until every line's ink reaches the target.
 *
 * Sizing: the target is `heightRatio` (default 5.5%, a margin over the 5% rule so that lossy
 * re-encoding cannot push it under) of the shortest side, and at least `minTextPx` (default
 * 10 px) for legibility when that fits. A notice wider than the image shrinks to span the width
 * (tiny images: the notice covers the whole width), but never below 5%; below that it wraps
 * onto more lines at the 5% height. Only when those lines are taller than the image can 5% not
 * be met, and `NoticeDoesNotFitError` says so (use a shorter wording).
 */
import type { SKRSContext2D } from '@napi-rs/canvas';
import { InvalidInputError } from '../../errors.js';
import { canvasLib, canvasVersion } from './canvas-lib.js';
import { assertFontCovers, fontFamily, type NoticeFont } from './font.js';
import { MAX_PIXELS_BYTES, readEntry, sha256, writeEntry } from './notice-cache.js';
import type { NoticeStyle, PixelBox } from './image-style.js';

import type { ImagePosition } from './positions.js';

// A builtin by process.getBuiltinModule, as in notice-cache.ts: this loads in every labelling thread.
const { readFileSync } = process.getBuiltinModule('node:fs');

export { IMAGE_POSITIONS, type ImagePosition } from './positions.js';

/** GB 45438 §5.2: the notice's text height over the image's shortest side. */
export const MIN_HEIGHT_RATIO = 0.05;

export interface SizingOptions {
  /** Target text height over the shortest side, at least 0.05 (default 0.055). */
  heightRatio?: number;
  /** Smallest text height in pixels when the image is large enough (default 10). */
  minTextPx?: number;
  position?: ImagePosition;
}

/** A sized and placed notice, before colours are known. */
export interface NoticePlan {
  lines: string[];
  fontSize: number;
  /** Ink box of each line inside the overlay. */
  lineBoxes: PixelBox[];
  /** The smallest line's measured glyph height in pixels. */
  inkHeight: number;
  /** The overlay (plate included) in frame coordinates. */
  box: PixelBox;
  /** The 5% requirement in pixels for this frame. */
  requiredPx: number;
  outlineWidth: number;
}

/** The notice cannot be drawn at 5% of the shortest side inside the image, even on several lines. */
export class NoticeDoesNotFitError extends InvalidInputError {
  constructor(width: number, height: number, notice: string) {
    super(
      'E_LABEL_NOTICE_DOES_NOT_FIT',
      `the notice ${JSON.stringify(notice)} cannot be drawn with a text height of 5% of the shortest side inside a ${width}x${height} image (GB 45438 §5.2); use a shorter wording such as "AI生成"`,
    );
  }
}

interface Ink {
  /** Ink rows relative to the baseline (negative is above). */
  top: number;
  bottom: number;
  left: number;
  right: number;
}

function setFont(context: SKRSContext2D, font: NoticeFont, size: number): void {
  context.font = `${size}px "${fontFamily(font)}"`;
}

/** Ink measured so far, by font file, size and line: the same notice in a batch is measured once (each measure draws it on a canvas). */
const inks = new Map<string, Ink>();
const INKS_KEPT = 256;

/** A digest of how notices are drawn (`drawingDigest`); null when there is none, and then no cache. */
let drawingCode: string | null | undefined;

/**
 * A digest of this module's source text: how notices are drawn, so a change to it misses every
 * entry drawn before. Running the sources, the file itself; running the build, the digest
 * `scripts/build.mjs` wrote beside the compiled module (`notice-drawing.sha256`), since the
 * build's thread bundle and tsc's copy of this module are different code for the same source,
 * and must share their entries. Without either, the cache is not used.
 */
function drawingDigest(): string | null {
  try {
    const here = import.meta.url;
    if (here.endsWith('.ts')) return sha256(readFileSync(new URL('./image-render.ts', here), 'utf8'));
    const digest = readFileSync(new URL('./notice-drawing.sha256', here), 'utf8').trim();
    return /^[0-9a-f]{64}$/.test(digest) ? digest : null;
  } catch {
    return null;
  }
}

/** The notice cache's key for an entry of `kind` with `parameters`, drawn in `font`; undefined when the cache is not used. */
function cacheKey(font: NoticeFont, kind: string, parameters: unknown): string | undefined {
  if (drawingCode === undefined) drawingCode = drawingDigest();
  if (drawingCode === null) return undefined;
  // The platform too: a home directory shared between machines must not hand one Skia build's pixels to another.
  return JSON.stringify(['hegui-notice-1', drawingCode, canvasVersion(), process.platform, process.arch, font.fingerprint, kind, parameters]);
}

/**
 * The ink of `line` at `size`: rows and columns where a glyph covers half a pixel or more. From
 * this process's measures, else the notice cache on disk, else drawn (and stored in both).
 */
function measureInk(font: NoticeFont, line: string, size: number): Ink {
  const key = `${font.path}\u0000${size}\u0000${line}`;
  const known = inks.get(key);
  if (known) return known;
  const diskKey = cacheKey(font, 'ink', [line, size]);
  let ink = diskKey === undefined ? undefined : storedInk(readEntry(font.fingerprint, diskKey));
  if (!ink) {
    ink = drawInk(font, line, size);
    if (diskKey !== undefined) writeEntry(font.fingerprint, diskKey, Buffer.from(JSON.stringify(ink), 'utf8'));
  }
  if (inks.size >= INKS_KEPT) inks.delete(inks.keys().next().value as string);
  inks.set(key, ink);
  return ink;
}

/** An ink box read back from the cache, or undefined when it is not four integers. */
function storedInk(value: Buffer | undefined): Ink | undefined {
  if (!value) return undefined;
  try {
    const ink = JSON.parse(value.toString('utf8')) as Record<string, unknown>;
    const { top, bottom, left, right } = ink;
    return [top, bottom, left, right].every(Number.isSafeInteger) ? { top: top as number, bottom: bottom as number, left: left as number, right: right as number } : undefined;
  } catch {
    return undefined;
  }
}

function drawInk(font: NoticeFont, line: string, size: number): Ink {
  const probe = canvasLib().createCanvas(1, 1).getContext('2d');
  setFont(probe, font, size);
  const advance = Math.ceil(probe.measureText(line).width);
  const width = advance + size * 2;
  const height = size * 3;
  const canvas = canvasLib().createCanvas(width, height);
  const context = canvas.getContext('2d');
  setFont(context, font, size);
  context.fillStyle = '#fff';
  context.fillText(line, size, size * 2);
  const alpha = context.getImageData(0, 0, width, height).data;
  let top = height;
  let bottom = -1;
  let left = width;
  let right = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if ((alpha[(y * width + x) * 4 + 3] ?? 0) < 128) continue;
      if (y < top) top = y;
      bottom = y;
      if (x < left) left = x;
      if (x > right) right = x;
    }
  }
  if (bottom < 0) return { top: 0, bottom: 0, left: 0, right: 0 };
  return { top: top - size * 2, bottom: bottom + 1 - size * 2, left: left - size, right: right + 1 - size };
}

const inkHeight = (ink: Ink): number => ink.bottom - ink.top;

/** The smallest integer font size at which every line's ink is at least `target` pixels tall. */
function sizeFor(font: NoticeFont, lines: readonly string[], target: number): number {
  const reference = 100;
  const ratio = Math.min(...lines.map((line) => inkHeight(measureInk(font, line, reference)) / reference).filter((r) => r > 0));
  let size = Math.max(1, Math.floor(target / ratio));
  while (Math.min(...lines.map((line) => inkHeight(measureInk(font, line, size)))) < target) size++;
  return size;
}

/** Splits a wording into pieces a line may break between: Latin words whole, CJK per character. */
function breakables(text: string): string[] {
  return text.match(/[A-Za-z0-9][A-Za-z0-9'’.-]*\s*|\s+|./gu) ?? [text];
}

function wrap(font: NoticeFont, text: string, size: number, maxWidth: number): string[] {
  const lines: string[] = [];
  let current = '';
  for (const piece of breakables(text)) {
    const candidate = current + piece;
    const ink = measureInk(font, candidate.trimEnd(), size);
    if (current !== '' && ink.right - ink.left > maxWidth) {
      lines.push(current.trimEnd());
      current = piece.trimStart();
    } else current = candidate;
  }
  if (current.trim() !== '') lines.push(current.trimEnd());
  return lines;
}

function place(position: ImagePosition, frame: { width: number; height: number }, size: { width: number; height: number }, margin: number): { left: number; top: number } {
  const centreX = Math.round((frame.width - size.width) / 2);
  const centreY = Math.round((frame.height - size.height) / 2);
  const right = frame.width - size.width - margin;
  const bottom = frame.height - size.height - margin;
  const horizontal = position.endsWith('left') ? margin : position.endsWith('right') ? right : centreX;
  const vertical = position.startsWith('top') ? margin : position.startsWith('bottom') ? bottom : centreY;
  return { left: Math.max(0, horizontal), top: Math.max(0, vertical) };
}

function layout(font: NoticeFont, lines: string[], size: number, frame: { width: number; height: number }, position: ImagePosition, requiredPx: number): NoticePlan {
  const inks = lines.map((line) => measureInk(font, line, size));
  const lineInk = Math.max(...inks.map(inkHeight));
  const outlineWidth = Math.max(1, Math.round(size * 0.08));
  const shortest = Math.min(frame.width, frame.height);
  const pad = Math.min(Math.max(outlineWidth + 1, Math.round(lineInk * 0.35)), Math.max(0, Math.floor((shortest - lineInk) / 4)));
  const gap = Math.round(lineInk * 0.3);
  const width = Math.max(...inks.map((ink) => ink.right - ink.left)) + pad * 2;
  const height = lineInk * lines.length + gap * (lines.length - 1) + pad * 2;
  const margin = Math.round(shortest * 0.02);
  const origin = place(position, frame, { width, height }, margin);
  const lineBoxes = inks.map((ink, i) => ({ left: pad, top: pad + i * (lineInk + gap) + (lineInk - inkHeight(ink)), width: ink.right - ink.left, height: inkHeight(ink) }));
  return { lines, fontSize: size, lineBoxes, inkHeight: Math.min(...inks.map(inkHeight)), box: { ...origin, width, height }, requiredPx, outlineWidth };
}

function fits(plan: NoticePlan, frame: { width: number; height: number }): boolean {
  return plan.box.width <= frame.width && plan.box.height <= frame.height;
}

/**
 * Sizes and places `notice` in a frame of the given size.
 *
 * @throws NoticeFontError when the font lacks a character; NoticeDoesNotFitError (see module doc).
 */
export function planNotice(notice: string, frame: { width: number; height: number }, font: NoticeFont, options: SizingOptions = {}): NoticePlan {
  assertFontCovers(font, notice);
  const shortest = Math.min(frame.width, frame.height);
  const ratio = Math.max(MIN_HEIGHT_RATIO, options.heightRatio ?? 0.055);
  const requiredPx = Math.max(1, Math.ceil(shortest * MIN_HEIGHT_RATIO));
  const wanted = Math.min(Math.max(Math.ceil(shortest * ratio), options.minTextPx ?? 10), Math.floor(shortest * 0.5));
  const position = options.position ?? 'bottom-right';
  let target = Math.max(requiredPx, wanted);
  for (;;) {
    const plan = layout(font, [notice], sizeFor(font, [notice], target), frame, position, requiredPx);
    if (fits(plan, frame)) return plan;
    const smaller = Math.floor((target * frame.width) / plan.box.width);
    if (smaller >= target || smaller < requiredPx) break;
    target = smaller;
  }
  const size = sizeFor(font, [notice], requiredPx);
  const lines = wrap(font, notice, size, frame.width - 2);
  const plan = layout(font, lines, sizeFor(font, lines, requiredPx), frame, position, requiredPx);
  if (!fits(plan, frame)) throw new NoticeDoesNotFitError(frame.width, frame.height, notice);
  return plan;
}

/** A drawn notice: straight (not premultiplied) RGBA pixels of the overlay box. */
export interface RenderedNotice {
  plan: NoticePlan;
  style: NoticeStyle;
  rgba: Buffer;
}

const css = (rgb: readonly number[], opacity = 1): string => `rgba(${rgb[0]},${rgb[1]},${rgb[2]},${opacity})`;

/**
 * Draws the planned notice: plate (if any), outline, then the glyphs. A notice drawn before
 * with the same plan, colours and font comes from the notice cache, the same pixels.
 */
export function renderNotice(plan: NoticePlan, style: NoticeStyle, font: NoticeFont): RenderedNotice {
  const { width, height } = plan.box;
  const length = width * height * 4;
  const key = length <= MAX_PIXELS_BYTES ? cacheKey(font, 'drawing', [plan.lines, plan.fontSize, plan.lineBoxes, width, height, plan.outlineWidth, style]) : undefined;
  const stored = key === undefined ? undefined : readEntry(font.fingerprint, key);
  if (stored && stored.length === length) return { plan, style, rgba: stored };
  const rgba = paint(plan, style, font);
  if (key !== undefined) writeEntry(font.fingerprint, key, rgba);
  return { plan, style, rgba };
}

function paint(plan: NoticePlan, style: NoticeStyle, font: NoticeFont): Buffer {
  const { width, height } = plan.box;
  const canvas = canvasLib().createCanvas(width, height);
  const context = canvas.getContext('2d');
  if (style.plate) {
    context.fillStyle = css(style.plate.colour, style.plate.opacity);
    context.fillRect(0, 0, width, height);
  }
  setFont(context, font, plan.fontSize);
  context.lineJoin = 'round';
  context.lineWidth = plan.outlineWidth * 2;
  context.strokeStyle = css(style.outline);
  context.fillStyle = css(style.text);
  plan.lines.forEach((line, i) => {
    const ink = measureInk(font, line, plan.fontSize);
    const box = plan.lineBoxes[i] as PixelBox;
    const x = box.left - ink.left;
    const y = box.top - ink.top;
    context.strokeText(line, x, y);
    context.fillText(line, x, y);
  });
  const data = context.getImageData(0, 0, width, height).data;
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
