/**
 * @module bench/label/lib/magick
 * ImageMagick's side of the visible-notice benchmarks (explicit, visible): the notice hegui
 * plans for a square picture, drawn by `-annotate` with the same font file, glyph size (hegui's
 * planned font size, in pixels: 72 dpi points), outline, bottom-right corner and margin, and
 * written at quality 85. In a folder of its own because bench/label/index.ts runs every .ts file
 * beside it as a case.
 */
import { loadNoticeFont, noticeFontPath } from '../../../src/label/explicit/index.js';
import { planNotice, type NoticePlan } from '../../../src/label/explicit/image-render.js';

/** hegui's plan for `notice` on a `side` x `side` picture, its margin, and the ImageMagick options that draw the same. */
export function magickNotice(notice: string, side: number): { plan: NoticePlan; margin: number; options: string[] } {
  const plan = planNotice(notice, { width: side, height: side }, loadNoticeFont());
  const margin = side - plan.box.left - plan.box.width;
  const options = [
    '-font', noticeFontPath(),
    '-pointsize', String(plan.fontSize),
    '-fill', '#111111',
    '-stroke', '#ffffff',
    '-strokewidth', String(plan.outlineWidth),
    '-gravity', 'southeast',
    '-annotate', `+${margin}+${margin}`, notice,
    '-quality', '85',
  ];
  return { plan, margin, options };
}
