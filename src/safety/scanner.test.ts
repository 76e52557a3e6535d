import { describe, expect, it } from 'vitest';
import { compileLibrary } from './compile.js';
import type { KeywordEntry } from './library.js';
import { parseLibrary } from './library-schema.js';
import type { NormaliserOptions } from './options.js';
import { MAX_NOISE_RUN } from './scan-core.js';
import { IncrementalScanner, KeywordScanner, scanRisks, scanText } from './scanner.js';
import { exampleLibrary } from './example-library.js';
import { seededRandom } from '../../test/helpers/random.js';

function library(entries: Partial<KeywordEntry>[], allow: string[] = [], transforms: Partial<NormaliserOptions> = {}) {
  return compileLibrary(parseLibrary({ name: 'test', entries: entries.map((e) => ({ risk: 'A1.8', ...e })), allow, transforms }));
}

const kw = library([{ keyword: '法轮功', mode: 'pinyin' }, { keyword: 'kill', risk: 'A1.6' }, { keyword: '暴恐', risk: 'A1.4' }], ['大法官']);

/** The spans found, as `[keyword, start, end, original]`. */
function found(text: string, compiled = kw): [string, number, number, string][] {
  return scanText(compiled, text).map((m) => [m.keyword, m.start, m.end, m.original]);
}

describe('evasions, one transform at a time, with offsets into the original', () => {
  it('full-width letters (width, NFKC)', () => {
    expect(found('he said ＫＩＬＬ now')).toEqual([['kill', 8, 12, 'ＫＩＬＬ']]);
  });
  it('case', () => {
    expect(found('KiLL')).toEqual([['kill', 0, 4, 'KiLL']]);
  });
  it('traditional characters', () => {
    expect(found('練習法輪功')).toEqual([['法轮功', 2, 5, '法輪功']]);
  });
  it('zero-width and invisible characters', () => {
    expect(found('法\u200b轮\u2060功')).toEqual([['法轮功', 0, 5, '法\u200b轮\u2060功']]);
  });
  it('noise between characters: spaces, punctuation, symbols, emoji', () => {
    expect(found('看 法.轮*功 吧')).toEqual([['法轮功', 2, 7, '法.轮*功']]);
    expect(found('法😀轮🔥功')).toEqual([['法轮功', 0, 7, '法😀轮🔥功']]);
    expect(found('k-i-l-l')).toEqual([['kill', 0, 7, 'k-i-l-l']]);
    expect(found('k i l l me')).toEqual([['kill', 0, 7, 'k i l l']]);
  });
  it('a spaced-out word right after a word ending in the same letter is still seen', () => {
    const lib = library([{ keyword: 'sex' }, { keyword: 'all ladies' }]);
    expect(found('this s.e.x thing', lib)).toEqual([['sex', 5, 10, 's.e.x']]);
    expect(found('to all ladies', lib)).toEqual([['all ladies', 3, 13, 'all ladies']]);
    expect(found('it is ex', lib)).toEqual([]);
  });
  it('a keyword with a doubled character is found through symbols, never with one of them missing', () => {
    const lib = library([{ keyword: '呵呵哒' }]);
    expect(found('呵.呵.哒', lib)).toEqual([['呵呵哒', 0, 5, '呵.呵.哒']]);
    expect(found('呵哒', lib)).toEqual([]);
  });
  it('repeated characters', () => {
    expect(found('法法法轮轮功')).toEqual([['法轮功', 0, 6, '法法法轮轮功']]);
    expect(found('kiiilll it')).toEqual([['kill', 0, 7, 'kiiilll']]);
  });
  it('look-alike glyphs: Cyrillic, Greek, digits', () => {
    expect(found('кіll')).toEqual([['kill', 0, 4, 'кіll']]);
    expect(found('k1ll')).toEqual([['kill', 0, 4, 'k1ll']]);
    expect(found('κιll')).toEqual([['kill', 0, 4, 'κιll']]);
  });
  it('pinyin spelling, initials and mixes for keywords marked pinyin', () => {
    expect(found('学 falungong')).toEqual([['法轮功', 2, 11, 'falungong']]);
    expect(found('Fa Lun Gong')).toEqual([['法轮功', 0, 11, 'Fa Lun Gong']]);
    expect(found('flg 好')).toEqual([['法轮功', 0, 3, 'flg']]);
    expect(found('法lun功')).toEqual([['法轮功', 0, 5, '法lun功']]);
    expect(scanText(kw, 'falungong')[0]?.via).toBe('pinyin');
  });
  it('math-styled and circled letters (NFKC)', () => {
    expect(found('𝐤𝐢𝐥𝐥')).toEqual([['kill', 0, 8, '𝐤𝐢𝐥𝐥']]);
    expect(found('ⓚⓘⓛⓛ')).toEqual([['kill', 0, 4, 'ⓚⓘⓛⓛ']]);
  });
  it('several evasions at once', () => {
    expect(found('法 輪 \u200b功功')).toEqual([['法轮功', 0, 6, '法 輪 \u200b功']]);
  });
});

describe('each transform can be switched off', () => {
  const cases: [keyof NormaliserOptions, string][] = [
    ['nfkc', 'ⓚⓘⓛⓛ'],
    ['traditional', '法輪功'],
    ['invisible', '法\u200b轮功'],
    ['skipNoise', '法.轮.功'],
    ['collapseRepeats', '法轮轮功'],
    ['homoglyphs', 'кіll'],
    ['pinyin', 'falungong'],
  ];
  for (const [transform, text] of cases) {
    it(`${transform} off: "${text}" is not found`, () => {
      const off = library([{ keyword: '法轮功', mode: 'pinyin' }, { keyword: 'kill' }], [], { [transform]: false });
      expect(found(text, off)).toEqual([]);
      expect(found(text)).not.toEqual([]);
    });
  }
  it('width off with nfkc off: full-width letters are not folded', () => {
    const off = library([{ keyword: 'kill' }], [], { nfkc: false, width: false });
    expect(found('ｋｉｌｌ', off)).toEqual([]);
    expect(found('ｋｉｌｌ', library([{ keyword: 'kill' }], [], { nfkc: false }))).toHaveLength(1);
  });
  it('case folding off', () => {
    expect(found('KILL', library([{ keyword: 'kill' }], [], { caseFold: false }))).toEqual([]);
  });
});

describe('false positives', () => {
  it('an allow-listed benign word that contains a keyword is not flagged', () => {
    const lib = library([{ keyword: '大法' }], ['大法官']);
    expect(found('大法官判决', lib)).toEqual([]);
    expect(found('大法好', lib)).toEqual([['大法', 0, 2, '大法']]);
    expect(found('大 法 官', lib)).toEqual([]);
  });
  it('Latin keywords match whole words only', () => {
    expect(found('skills and killer')).toEqual([]);
    expect(found('kill.')).toEqual([['kill', 0, 4, 'kill']]);
  });
  it('never joins words across a line break', () => {
    expect(found('法轮\n功')).toEqual([]);
    expect(found('ki\r\nll')).toEqual([]);
    expect(found('法轮\u2028功')).toEqual([]);
  });
  it('joins across a line break when configured', () => {
    const lib = library([{ keyword: '法轮功' }], [], { crossLineBreaks: true });
    expect(found('法轮\n功', lib)).toEqual([['法轮功', 0, 4, '法轮\n功']]);
  });
});

describe('entries', () => {
  it('reports risk, severity and mode; one keyword in two risks gives two hits', () => {
    const lib = library([
      { keyword: '暴恐', risk: 'A1.4', severity: 'high' },
      { keyword: '暴恐', risk: 'A1.6' },
    ]);
    const hits = scanText(lib, '暴恐');
    expect(hits.map((h) => [h.risk, h.severity, h.mode])).toEqual([
      ['A1.4', 'high', 'literal'],
      ['A1.6', 'medium', 'literal'],
    ]);
  });
  it('finds overlapping keywords', () => {
    const lib = library([{ keyword: '中国' }, { keyword: '国人' }, { keyword: '中国人民' }]);
    expect(found('中国人民', lib).map((h) => h[0])).toEqual(['中国', '中国人民', '国人']);
  });
  it('regex entries see normalised text with digits kept', () => {
    const lib = library([{ keyword: '\\d{4,}元', mode: 'regex', risk: 'A3.5' }]);
    expect(found('价格 1 0 0 0 0 元!', lib)).toEqual([['\\d{4,}元', 3, 14, '1 0 0 0 0 元']]);
    expect(found('价格 100 元', lib)).toEqual([]);
  });
  it('lists entries that fold to nothing', () => {
    const lib = library([{ keyword: '!!!' }, { keyword: 'ok' }]);
    expect(lib.ignored).toEqual([{ keyword: '!!!', reason: expect.any(String) }]);
  });
});

describe('incremental scanning', () => {
  const samples = [
    '前言 法 輪\u200b功 后记 kill! and skill\n法轮\n功 falungong 大法官 k1ll',
    '😀法😀轮😀功😀 ＫＩＬＬ𝐤𝐢𝐥𝐥 end',
  ];
  it('gives the same hits for every way of cutting the text', () => {
    for (const text of samples) {
      const whole = scanText(kw, text);
      for (let size = 1; size <= 7; size++) {
        const scanner = new IncrementalScanner(kw);
        const hits = [];
        let released = '';
        for (let i = 0; i < text.length; i += size) {
          const step = scanner.feed(text.slice(i, i + size));
          hits.push(...step.matches);
          expect(step.releasedFrom).toBe(released.length);
          released += step.released;
          for (const m of step.matches) expect(m.start).toBeGreaterThanOrEqual(step.releasedFrom);
        }
        const last = scanner.end();
        hits.push(...last.matches);
        released += last.released;
        expect(released).toBe(text);
        hits.sort((a, b) => a.start - b.start || a.end - b.end);
        expect(hits).toEqual(whole);
      }
    }
  });

  it('reports a hit as soon as it is complete', () => {
    const scanner = new IncrementalScanner(kw);
    expect(scanner.feed('hello 法轮').matches).toEqual([]);
    expect(scanner.feed('功').matches.map((m) => m.keyword)).toEqual(['法轮功']);
  });

  it('holds back only what could still become a hit', () => {
    const scanner = new IncrementalScanner(kw);
    let step = scanner.feed('你好法轮');
    expect(step.released).toBe('你好');
    expect(scanner.safeOffset).toBe(2);
    // Noise after a partial keyword is held with it.
    step = scanner.feed(' .. ');
    expect(step.released).toBe('');
    // A character that ends the partial releases it.
    step = scanner.feed('好');
    expect(step.released).toBe('法轮 .. 好');
    // A Latin keyword waits for the next character to know its right boundary.
    step = scanner.feed(' kill');
    expect(step.released).toBe(' ');
    expect(step.matches).toEqual([]);
    step = scanner.feed('s');
    expect(step.matches).toEqual([]);
    expect(step.released).toBe('kills');
    // A line break ends any partial keyword.
    scanner.feed('法轮');
    step = scanner.feed('\n');
    expect(step.released).toBe('法轮\n');
  });

  it('holds a keyword back while an allow-listed word containing it may still complete', () => {
    const lib = library([{ keyword: '大法' }], ['大法官']);
    const scanner = new IncrementalScanner(lib);
    let step = scanner.feed('大法');
    expect(step.matches).toEqual([]);
    expect(step.released).toBe('');
    step = scanner.feed('官');
    expect(step.matches).toEqual([]);
    expect(step.released).toBe('大法官');
    scanner.feed('大法');
    step = scanner.feed('好');
    expect(step.matches.map((m) => m.original)).toEqual(['大法']);
  });

  it('lets a long run of noise end a partial keyword, so noise is never held without bound', () => {
    expect(found(`法${' '.repeat(MAX_NOISE_RUN)}轮功`)).toHaveLength(1);
    expect(found(`法${' '.repeat(MAX_NOISE_RUN + 1)}轮功`)).toEqual([]);
    expect(found(`法${'\u200b'.repeat(MAX_NOISE_RUN + 1)}轮功`)).toEqual([]);
    const scanner = new IncrementalScanner(kw);
    scanner.feed('法轮');
    const step = scanner.feed(' '.repeat(MAX_NOISE_RUN + 1));
    expect(step.released).toBe(`法轮${' '.repeat(MAX_NOISE_RUN + 1)}`);
  });

  it('keeps a surrogate pair split across chunks together', () => {
    const scanner = new IncrementalScanner(kw);
    const text = '𝐤𝐢𝐥𝐥 ';
    const hits = [];
    for (const unit of text.split('')) hits.push(...scanner.feed(unit).matches);
    hits.push(...scanner.end().matches);
    expect(hits.map((m) => m.original)).toEqual(['𝐤𝐢𝐥𝐥']);
  });

  it('refuses to be fed after end()', () => {
    const scanner = new IncrementalScanner(kw);
    scanner.end();
    expect(() => scanner.feed('x')).toThrow(expect.objectContaining({ code: 'E_SAFETY_SCANNER_STATE' }));
  });
});

describe('swapping libraries', () => {
  it('puts a new library in force for new scans while a running stream keeps its own', () => {
    const first = library([{ keyword: '甲乙' }]);
    const second = library([{ keyword: '丙丁' }]);
    const scanner = new KeywordScanner(first);
    const stream = scanner.stream();
    stream.feed('甲');
    expect(scanner.swap(second)).toBe(first);
    expect(stream.feed('乙').matches).toHaveLength(1);
    expect(scanner.scan('甲乙丙丁').map((m) => m.keyword)).toEqual(['丙丁']);
  });
});

describe('scanRisks', () => {
  it('gives the risks of scanText, sorted and each once, text after text on one reused core', () => {
    const compiled = compileLibrary(exampleLibrary);
    const risky = library([{ keyword: '法轮功', mode: 'pinyin' }, { keyword: 'kill', risk: 'A1.6' }, { keyword: '暴恐', risk: 'A1.4' }, { keyword: '哈哈哈', risk: 'A2.1' }, { keyword: 'sex', risk: 'A3.1' }], ['大法官']);
    const pieces = ['法轮功', '法 輪 功', 'falungong', 'kill', 'kills', 'KiLL', '暴恐', '大法官', '哈哈', '哈哈哈', 's.e.x', 'sex', '，', ' ', '\n', '电话13800138000', 'http://example.com', '习近平', '台独', '杀', '人'];
    const random = seededRandom(17);
    for (let n = 0; n < 2000; n++) {
      let text = '';
      for (let k = Math.floor(random() * 10); k >= 0; k--) text += pieces[Math.floor(random() * pieces.length)];
      for (const lib of [compiled, risky]) {
        const expected = [...new Set(scanText(lib, text).map((m) => m.risk))].sort();
        expect(scanRisks(lib, text), text).toEqual(expected);
      }
    }
  });
});
