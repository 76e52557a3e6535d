import { describe, expect, it } from 'vitest';
import { loadNoticeFont } from './font.js';
import { IMAGE_POSITIONS, planNotice, renderNotice } from './image-render.js';
import { chooseStyle } from './image-style.js';

const font = loadNoticeFont();

/** Rows of the drawn overlay with pixels at least half text (nearer the text colour than the outline's, half opaque). */
function inkRows(rgba: Buffer, width: number, text: readonly number[], outline: readonly number[]): number {
  let first = -1;
  let last = -1;
  for (let i = 0; i < rgba.length; i += 4) {
    const near = Math.abs((rgba[i] ?? 0) - (text[0] ?? 0)) < Math.abs((rgba[i] ?? 0) - (outline[0] ?? 0)) && (rgba[i + 3] ?? 0) >= 128;
    if (!near) continue;
    const row = Math.floor(i / 4 / width);
    if (first < 0) first = row;
    last = row;
  }
  return last - first + 1;
}

describe('image notice layout (GB 45438 §5.2)', () => {
  it('sizes the measured glyph box to at least 5% of the shortest side in every size class, inside the frame', () => {
    for (const [width, height] of [[16, 16], [64, 48], [1024, 768], [600, 1600], [8000, 500], [500, 8000], [40, 400]] as const) {
      for (const notice of ['AI生成', 'AI-generated', '本内容由人工智能生成']) {
        const plan = planNotice(notice, { width, height }, font);
        const shortest = Math.min(width, height);
        expect(plan.inkHeight, `${notice} ${width}x${height}`).toBeGreaterThanOrEqual(0.05 * shortest);
        expect(plan.box.left + plan.box.width).toBeLessThanOrEqual(width);
        expect(plan.box.top + plan.box.height).toBeLessThanOrEqual(height);
        const drawn = renderNotice(plan, chooseStyle({ p05: 0.9, p50: 0.95, p95: 1 }), font);
        expect(inkRows(drawn.rgba, plan.box.width, drawn.style.text, drawn.style.outline), `${notice} ${width}x${height}`).toBeGreaterThanOrEqual(Math.ceil(0.05 * shortest));
      }
    }
  });

  it('keeps at least 10 px of text where the image allows, and spans the width of a tiny image', () => {
    expect(planNotice('AI生成', { width: 120, height: 90 }, font).inkHeight).toBeGreaterThanOrEqual(10);
    const tiny = planNotice('AI生成', { width: 16, height: 16 }, font);
    expect(tiny.box.width).toBeGreaterThanOrEqual(14);
  });

  it('places the notice at each corner and edge', () => {
    const frame = { width: 400, height: 300 };
    const boxes = Object.fromEntries(IMAGE_POSITIONS.map((position) => [position, planNotice('AI生成', frame, font, { position }).box]));
    expect(boxes['top-left']).toMatchObject({ left: 6, top: 6 });
    expect((boxes['bottom-right']?.left ?? 0) + (boxes['bottom-right']?.width ?? 0)).toBe(394);
    expect(Math.abs((boxes.top?.left ?? 0) * 2 + (boxes.top?.width ?? 0) - 400)).toBeLessThanOrEqual(1);
    expect(Math.abs((boxes.left?.top ?? 0) * 2 + (boxes.left?.height ?? 0) - 300)).toBeLessThanOrEqual(1);
  });
});

describe('notice colours', () => {
  it('picks dark text on light regions, light text on dark ones, and a plate on busy or mid-tone ones', () => {
    expect(chooseStyle({ p05: 0.8, p50: 0.9, p95: 1 })).toMatchObject({ text: [17, 17, 17], plate: null });
    expect(chooseStyle({ p05: 0, p50: 0.01, p95: 0.05 })).toMatchObject({ text: [255, 255, 255], plate: null });
    expect(chooseStyle({ p05: 0.02, p50: 0.3, p95: 0.9 }).plate).not.toBeNull();
    expect(chooseStyle({ p05: 0.18, p50: 0.2, p95: 0.22 }).plate).not.toBeNull();
    expect(chooseStyle({ p05: 0.02, p50: 0.3, p95: 0.9 }, 'never').plate).toBeNull();
    expect(chooseStyle({ p05: 0.8, p50: 0.9, p95: 1 }, 'always').plate?.opacity).toBeGreaterThan(0.5);
  });
});
