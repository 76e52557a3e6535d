/**
 * The incremental scanner's contract, checked on many seeded random texts full of evasions:
 * any chunking gives the hits of the whole text; every released character is final (no hit
 * found later starts in it); the release never goes backwards; and it holds back no more than
 * the earliest stretch that could still become a hit.
 */
import { describe, expect, it } from 'vitest';
import { compileLibrary, IncrementalScanner, parseLibrary, scanText } from '../src/safety/index.js';
import type { KeywordMatch } from '../src/safety/index.js';
import { seededRandom as rng } from './helpers/random.js';


const library = compileLibrary(
  parseLibrary({
    name: 'fuzz',
    entries: [
      { keyword: '法轮功', risk: 'A1.8', mode: 'pinyin' },
      { keyword: '轮功', risk: 'A1.8' },
      { keyword: '大法', risk: 'A1.8' },
      { keyword: 'kill', risk: 'A1.6' },
      { keyword: 'ill', risk: 'A4.1' },
      { keyword: '暴恐', risk: 'A1.4' },
      { keyword: '\\d{3}号', risk: 'A3.5', mode: 'regex' },
    ],
    allow: ['大法官', 'skill'],
  }),
);
const withoutRegex = compileLibrary(parseLibrary({ name: 'fuzz', entries: [{ keyword: '法轮功', risk: 'A1.8', mode: 'pinyin' }, { keyword: '轮功', risk: 'A1.8' }, { keyword: '大法', risk: 'A1.8' }, { keyword: 'kill', risk: 'A1.6' }], allow: ['大法官'] }));

const PIECES = ['法', '輪', '轮', '功', '大', '官', '暴', '恐', 'k', 'K', 'i', 'I', '1', 'l', 's', ' ', '.', '\u200b', '\n', '😀', '𝐤', 'ｌ', 'fa', 'lun', 'gong', '号', '3', '7', '你', '好', 'a'];

function randomText(random: () => number, length: number): string {
  let text = '';
  for (let i = 0; i < length; i++) text += PIECES[Math.floor(random() * PIECES.length)];
  return text;
}

const key = (m: KeywordMatch): string => `${m.start}:${m.end}:${m.risk}:${m.keyword}:${m.via}`;

describe('incremental scanner on random texts', () => {
  for (const [name, compiled] of [
    ['with regex entries', library],
    ['literal and pinyin entries only', withoutRegex],
  ] as const) {
    it(`${name}: same hits for any chunking; released text is final and never taken back`, () => {
      const random = rng(name.length);
      for (let round = 0; round < 300; round++) {
        const text = randomText(random, 5 + Math.floor(random() * 60));
        const whole = scanText(compiled, text).map(key).sort();
        const scanner = new IncrementalScanner(compiled);
        const found: KeywordMatch[] = [];
        let released = '';
        let safe = 0;
        for (let i = 0; i < text.length; ) {
          const size = 1 + Math.floor(random() * 6);
          const step = scanner.feed(text.slice(i, i + size));
          i += size;
          found.push(...step.matches);
          released += step.released;
          expect(scanner.safeOffset).toBeGreaterThanOrEqual(safe);
          safe = scanner.safeOffset;
          expect(released).toBe(text.slice(0, safe));
        }
        const last = scanner.end();
        found.push(...last.matches);
        released += last.released;
        expect(released).toBe(text);
        expect(found.map(key).sort()).toEqual(whole);
        for (const m of found) expect(m.original).toBe(text.slice(m.start, m.end));
      }
    });
  }

  it('holds back nothing that cannot become a hit (no regex entries)', () => {
    const random = rng(7);
    for (let round = 0; round < 300; round++) {
      const text = randomText(random, 5 + Math.floor(random() * 40));
      const scanner = new IncrementalScanner(withoutRegex);
      scanner.feed(text);
      const held = text.slice(scanner.safeOffset);
      // What is held starts with a significant character that begins a keyword's prefix or a
      // waiting hit: never with noise, an invisible character or a line break.
      if (held.length > 0) expect(held[0]).not.toMatch(/[\s.\u200b]/u);
    }
  });
});
