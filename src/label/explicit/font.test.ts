import { once } from 'node:events';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { assertFontCovers, fontFamily, loadNoticeFont, NoticeFontError, noticeFontPath } from './font.js';
import { planNotice } from './image-render.js';
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

  it('reads only the character map, and refuses a font whose table directory points past its end', () => {
    const real = readFileSync(noticeFontPath());
    const tables = real.readUInt16BE(4);
    let cmap = -1;
    for (let i = 0; i < tables; i++) if (real.toString('latin1', 12 + i * 16, 16 + i * 16) === 'cmap') cmap = 12 + i * 16;
    expect(cmap).toBeGreaterThan(0);
    const end = real.readUInt32BE(cmap + 8) + real.readUInt32BE(cmap + 12);
    // Cut inside the cmap table: the directory says more than the file has.
    const cut = join(tmpdir(), 'hegui-cut-font.otf');
    writeFileSync(cut, real.subarray(0, end - 100));
    expect(() => loadNoticeFont(cut)).toThrow(/cmap table runs past the end/);
    // A directory claiming more tables than the file holds.
    const header = Buffer.from(real.subarray(0, 12));
    header.writeUInt16BE(0xffff, 4);
    const many = join(tmpdir(), 'hegui-many-tables.otf');
    writeFileSync(many, header);
    expect(() => loadNoticeFont(many)).toThrow(NoticeFontError);
    // Everything after the character map zeroed: the map still reads; the renderer refuses it when a notice is first measured.
    const zeroed = Buffer.from(real);
    zeroed.fill(0, end);
    const sparse = join(tmpdir(), 'hegui-cmap-only.otf');
    writeFileSync(sparse, zeroed);
    const font = loadNoticeFont(sparse);
    expect(() => planNotice('AI生成', { width: 800, height: 600 }, font)).toThrow(NoticeFontError);
    expect(() => planNotice('AI生成', { width: 800, height: 600 }, font)).toThrow(/the renderer rejected it/);
  });

  it('registers each font under a name of its own file, in every thread: two threads, each with its first font, never share a name', async () => {
    // The canvas's fonts are one table for the whole process: names counted per thread collided,
    // and one thread's notice was drawn in the other's font (then kept in the notice cache).
    const copy = join(tmpdir(), `hegui-font-copy-${process.pid}.otf`);
    copyFileSync(noticeFontPath(), copy);
    try {
      const mine = fontFamily(loadNoticeFont(noticeFontPath()));
      expect(fontFamily(loadNoticeFont(noticeFontPath()))).toBe(mine);
      const worker = new Worker(
        // Node 20 passes no --import on to a thread: it registers tsx itself (as cli/label-worker-source.mjs does).
        `const { parentPort, workerData } = require('node:worker_threads');
         import('tsx/esm/api').then(({ register }) => { register(); return import(workerData.module); })
           .then(({ fontFamily, loadNoticeFont }) => parentPort.postMessage([fontFamily(loadNoticeFont(workerData.copy)), fontFamily(loadNoticeFont(workerData.original))]));`,
        { eval: true, workerData: { module: pathToFileURL(join(import.meta.dirname, 'font.ts')).href, copy, original: noticeFontPath() } },
      );
      const [[theirs, theirOriginal]] = (await once(worker, 'message')) as [[string, string]];
      await worker.terminate();
      expect(theirs).not.toBe(mine);
      expect(theirOriginal).toBe(mine);
    } finally {
      rmSync(copy, { force: true });
    }
  });
});
