import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertFontCovers, loadNoticeFont, NoticeFontError, noticeFontPath } from './font.js';
import { COMPACT_NOTICE, DEFAULT_NOTICE } from './wording.js';

describe('notice font', () => {
  it('is the bundled Noto Sans Hans, covering the default wordings, ASCII and common Chinese', () => {
    expect(noticeFontPath()).toMatch(/NotoSansHans-Bold\.otf$/);
    const font = loadNoticeFont();
    for (const text of [...Object.values(DEFAULT_NOTICE), ...Object.values(COMPACT_NOTICE)]) expect(() => assertFontCovers(font, text)).not.toThrow();
    const ascii = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');
    expect(() => assertFontCovers(font, `${ascii}本图片由人工智能合成，请注意甄别。`)).not.toThrow();
    expect(loadNoticeFont()).toBe(font);
  });

  it('names the characters a font lacks, and refuses a file that is not a font', () => {
    expect(() => assertFontCovers(loadNoticeFont(), 'AI生成 🤖')).toThrow(/no glyph for "🤖"/);
    const fake = join(tmpdir(), 'hegui-not-a-font.otf');
    writeFileSync(fake, 'not a font at all');
    expect(() => loadNoticeFont(fake)).toThrow(NoticeFontError);
  });
});
