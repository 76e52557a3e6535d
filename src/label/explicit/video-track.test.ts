import { describe, expect, it } from 'vitest';
import { loadNoticeFont } from './font.js';
import { planNotice, renderNotice } from './image-render.js';
import { chooseStyle } from './image-style.js';
import { byLength, compareFrame, newTracks, spanAround, staticInkFrame } from './video-track.js';

const width = 320;
const height = 180;

/** A moving, textured picture: every frame different noise over a drifting gradient. */
function picture(index: number): Uint8Array {
  const luma = new Uint8Array(width * height);
  let seed = index * 7919 + 1;
  for (let i = 0; i < luma.length; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    luma[i] = Math.min(255, ((i % width) + index * 9) % 200 + (seed % 56));
  }
  return luma;
}

const font = loadNoticeFont();
const plan = planNotice('AI生成', { width, height }, font, { position: 'top-left' });

/** Lays the notice (alpha-blended luma of its RGBA) over a frame. */
function withNotice(luma: Uint8Array, plated: boolean): Uint8Array {
  const style = chooseStyle({ p05: 0.02, p50: 0.3, p95: 0.9 }, plated ? 'always' : 'never', plan.inkHeight);
  const { rgba } = renderNotice(plan, style, font);
  const out = luma.slice();
  const { left, top, width: w, height: h } = plan.box;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const at = (y * w + x) * 4;
      const alpha = (rgba[at + 3] ?? 0) / 255;
      const grey = 0.2126 * (rgba[at] ?? 0) + 0.7152 * (rgba[at + 1] ?? 0) + 0.0722 * (rgba[at + 2] ?? 0);
      const target = (top + y) * width + left + x;
      out[target] = Math.round(alpha * grey + (1 - alpha) * (out[target] ?? 0));
    }
  }
  return out;
}

describe('video notice tracking', () => {
  it.each([false, true])('finds the overlaid text (plate: %s) among moving picture and measures its glyph height', (plated) => {
    const frames = Array.from({ length: 13 }, (_, i) => withNotice(picture(i), plated));
    const reference = { width, height, luma: frames[0] as Uint8Array };
    const ink = staticInkFrame(reference, frames);
    // Moving picture is grey; only the static text strokes are ink.
    const inked = ink.luma.reduce((n, v) => n + (v === 128 ? 0 : 1), 0);
    expect(inked).toBeLessThan(plan.box.width * plan.box.height);
    const [track] = newTracks(reference, frames, 0, []);
    expect(track).toBeDefined();
    if (!track) return;
    expect(Math.abs(track.line.box.height - plan.inkHeight)).toBeLessThanOrEqual(1);
    expect(track.line.box.top).toBeGreaterThanOrEqual(plan.box.top);
  });

  it('follows the notice frame by frame and ends its span when it leaves', () => {
    const frames = Array.from({ length: 40 }, (_, i) => (i < 25 ? withNotice(picture(i), false) : picture(i)));
    const reference = { width, height, luma: frames[0] as Uint8Array };
    const tracks = newTracks(reference, frames.slice(0, 13), 0, []);
    frames.forEach((luma, i) => tracks.forEach((track) => i > 0 && compareFrame(track, luma, i)));
    const [best] = byLength(tracks);
    expect(best && spanAround(best)).toEqual({ first: 0, last: 24 });
  });

  it('finds nothing in moving picture alone', () => {
    const frames = Array.from({ length: 13 }, (_, i) => picture(i));
    expect(newTracks({ width, height, luma: frames[0] as Uint8Array }, frames, 0, [])).toEqual([]);
  });
});
