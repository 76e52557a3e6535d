/**
 * @module label/explicit/check-image-detect
 * Finds text lines near the edges of an image from its pixels alone, so the checker can
 * measure a notice (GB 45438 §5.2: at an edge or corner, text height >= 5% of the shortest
 * side) in files from any source, without knowing the font, the colours or the wording.
 *
 * Each pixel is compared with the mean of its neighbourhood (a window a few stroke widths
 * wide, from an integral image): clearly darker pixels form one ink map, clearly lighter ones
 * another, so dark text, light text and outlined text are all seen. Connected components of
 * glyph-like size are grouped into lines (similar height, overlapping rows, small gaps); a
 * line of two or more glyphs, wider than tall, near an edge, is a candidate. Where an outline,
 * halo or plate border makes a second line around the same text, the inner one is the text. The height
 * reported is the line's ink box, the same measure the renderer uses.
 */
import type { PixelBox } from './image-style.js';

/** A frame as 8-bit luma (Rec. 709 weights on sRGB values), row-major. */
export interface LumaFrame {
  width: number;
  height: number;
  luma: Uint8Array;
}

/** A text line found near an edge. */
export interface TextLine {
  /** Ink box of the line's glyphs. */
  box: PixelBox;
  /** How many glyph components the line holds. */
  glyphs: number;
  /** `dark` when the text is darker than its surroundings. */
  polarity: 'dark' | 'light';
  /** Pixel indices (y * width + x) of the glyphs' ink. */
  ink: Uint32Array;
  /** Distance in pixels from the box to the nearest edge. */
  edgeDistance: number;
}

/** How far into the image (over the shortest side) a notice may sit and still be "at an edge". */
export const EDGE_ZONE = 0.15;

/** Minimum difference from the local mean (0-255) for a pixel to count as ink. */
const INK_DELTA = 28;

function integral(frame: LumaFrame): Float64Array {
  const { width, height, luma } = frame;
  const sums = new Float64Array((width + 1) * (height + 1));
  for (let y = 0; y < height; y++) {
    let row = 0;
    for (let x = 0; x < width; x++) {
      row += luma[y * width + x] ?? 0;
      sums[(y + 1) * (width + 1) + x + 1] = (sums[y * (width + 1) + x + 1] ?? 0) + row;
    }
  }
  return sums;
}

/** Ink maps of pixels clearly darker (1) or lighter (2) than their neighbourhood, within the edge zone. */
function inkMap(frame: LumaFrame, radius: number, zone: number): Uint8Array {
  const { width, height, luma } = frame;
  const sums = integral(frame);
  const map = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const nearRow = y < zone || y >= height - zone;
    const y0 = Math.max(0, y - radius);
    const y1 = Math.min(height, y + radius + 1);
    for (let x = 0; x < width; x++) {
      if (!nearRow && x >= zone && x < width - zone) continue;
      const x0 = Math.max(0, x - radius);
      const x1 = Math.min(width, x + radius + 1);
      const sum = (sums[y1 * (width + 1) + x1] ?? 0) - (sums[y0 * (width + 1) + x1] ?? 0) - (sums[y1 * (width + 1) + x0] ?? 0) + (sums[y0 * (width + 1) + x0] ?? 0);
      const mean = sum / ((y1 - y0) * (x1 - x0));
      const value = luma[y * width + x] ?? 0;
      if (value < mean - INK_DELTA) map[y * width + x] = 1;
      else if (value > mean + INK_DELTA) map[y * width + x] = 2;
    }
  }
  return map;
}

interface Component {
  left: number;
  top: number;
  right: number;
  bottom: number;
  pixels: number[];
  /** Mean luma of the component's pixels: the glyphs of one line share the text colour. */
  luma: number;
}

/** 8-connected components of pixels equal to `value` in `map`. */
function components(map: Uint8Array, frame: LumaFrame, value: number): Component[] {
  const { width, height } = frame;
  const seen = new Uint8Array(map.length);
  const found: Component[] = [];
  const stack: number[] = [];
  for (let start = 0; start < map.length; start++) {
    if (map[start] !== value || seen[start]) continue;
    const component: Component = { left: width, top: height, right: -1, bottom: -1, pixels: [], luma: 0 };
    let sum = 0;
    seen[start] = 1;
    stack.push(start);
    while (stack.length > 0) {
      const at = stack.pop() as number;
      const x = at % width;
      const y = (at - x) / width;
      component.pixels.push(at);
      sum += frame.luma[at] ?? 0;
      if (x < component.left) component.left = x;
      if (x > component.right) component.right = x;
      if (y < component.top) component.top = y;
      if (y > component.bottom) component.bottom = y;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          const ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
          const next = ny * width + nx;
          if (map[next] === value && !seen[next]) {
            seen[next] = 1;
            stack.push(next);
          }
        }
      }
    }
    component.luma = sum / component.pixels.length;
    found.push(component);
  }
  return found;
}

/** Most difference in mean luma between glyphs of one line (they are drawn in one colour). */
const SAME_COLOUR = 48;

const heightOf = (c: { top: number; bottom: number }): number => c.bottom - c.top + 1;

/** Groups glyph components into lines: overlapping rows, similar heights and colour, gaps under a glyph height. */
function lines(glyphs: Component[]): Component[][] {
  const sorted = [...glyphs].sort((a, b) => a.left - b.left);
  const groups: { members: Component[]; top: number; bottom: number; right: number; tallest: number; luma: number }[] = [];
  for (const glyph of sorted) {
    const h = heightOf(glyph);
    const group = groups.find((g) => {
      const overlap = Math.min(g.bottom, glyph.bottom) - Math.max(g.top, glyph.top) + 1;
      // The next glyph starts about where the line ends: not far after it, nor inside it (a frame around text).
      const close = glyph.left - g.right <= Math.max(g.tallest, h) && glyph.left >= g.right - 0.5 * h;
      return overlap >= 0.5 * Math.min(h, g.bottom - g.top + 1) && close && h <= 2.5 * g.tallest && g.tallest <= 2.5 * h && Math.abs(glyph.luma - g.luma) <= SAME_COLOUR;
    });
    if (group) {
      group.members.push(glyph);
      group.top = Math.min(group.top, glyph.top);
      group.bottom = Math.max(group.bottom, glyph.bottom);
      group.right = Math.max(group.right, glyph.right);
      group.tallest = Math.max(group.tallest, h);
    } else groups.push({ members: [glyph], top: glyph.top, bottom: glyph.bottom, right: glyph.right, tallest: h, luma: glyph.luma });
  }
  return groups.map((g) => g.members);
}

function lineOf(members: Component[], polarity: TextLine['polarity'], frame: LumaFrame): TextLine {
  const left = Math.min(...members.map((m) => m.left));
  const top = Math.min(...members.map((m) => m.top));
  const right = Math.max(...members.map((m) => m.right));
  const bottom = Math.max(...members.map((m) => m.bottom));
  const box = { left, top, width: right - left + 1, height: bottom - top + 1 };
  const edgeDistance = Math.min(left, top, frame.width - 1 - right, frame.height - 1 - bottom);
  return { box, glyphs: members.length, polarity, ink: Uint32Array.from(members.flatMap((m) => m.pixels)), edgeDistance };
}

const contains = (outer: PixelBox, inner: PixelBox): boolean =>
  inner.left >= outer.left && inner.top >= outer.top && inner.left + inner.width <= outer.left + outer.width && inner.top + inner.height <= outer.top + outer.height;

/**
 * Text lines near the frame's edges, most glyphs first. A line that encloses a shorter one
 * (an outline or a plate's border around text) is dropped in favour of the text inside it.
 */
export function findEdgeTextLines(frame: LumaFrame): TextLine[] {
  const shortest = Math.min(frame.width, frame.height);
  const zone = Math.max(1, Math.ceil(shortest * EDGE_ZONE * 1.5));
  const radius = Math.max(2, Math.round(shortest * 0.02));
  const map = inkMap(frame, radius, zone);
  const minHeight = Math.max(2, Math.floor(shortest * 0.02));
  const maxHeight = Math.max(minHeight + 1, Math.ceil(shortest * 0.4));
  const found: TextLine[] = [];
  for (const [value, polarity] of [[1, 'dark'], [2, 'light']] as const) {
    const glyphs = components(map, frame, value).filter((c) => {
      const h = heightOf(c);
      const w = c.right - c.left + 1;
      return h <= maxHeight && w <= 3 * Math.max(h, minHeight) && (h >= minHeight || w >= minHeight) && c.pixels.length >= 3;
    });
    for (const members of lines(glyphs)) {
      // A tiny image's notice may blur into a single blob spanning the width.
      if (members.length < (shortest < 48 ? 1 : 2)) continue;
      const line = lineOf(members, polarity, frame);
      if (line.box.width >= 1.2 * line.box.height && line.box.height >= minHeight && line.edgeDistance <= shortest * EDGE_ZONE) found.push(line);
    }
  }
  const inner = found.filter((line) => !found.some((other) => other !== line && contains(line.box, other.box) && other.box.height < line.box.height));
  return inner.sort((a, b) => b.glyphs - a.glyphs || a.edgeDistance - b.edgeDistance);
}

/** Edges (and so the corner) a box lies near, e.g. `bottom-right`, `top`, or `inside` when none. */
export function positionOf(box: PixelBox, width: number, height: number): string {
  const near = Math.max(1, Math.min(width, height) * EDGE_ZONE);
  const vertical = box.top <= near ? 'top' : height - (box.top + box.height) <= near ? 'bottom' : '';
  const horizontal = box.left <= near ? 'left' : width - (box.left + box.width) <= near ? 'right' : '';
  return [vertical, horizontal].filter(Boolean).join('-') || 'inside';
}
