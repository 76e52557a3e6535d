import { describe, expect, it } from 'vitest';
import { compileLibrary } from './compile.js';
import type { KeywordEntry } from './library.js';
import { serialiseLibrary } from './library.js';
import { parseLibrary } from './library-schema.js';
import { defaultNormaliserOptions } from './options.js';
import { IncrementalScanner, scanText } from './scanner.js';
import { seededRandom } from '../../test/helpers/random.js';
import { SafetyGuard } from './guard.js';
import { DEFAULT_SAFE_REPLY } from './messages.js';
import { validatePolicy } from './policy.js';

/** A library from entries and optional library-level fields; risk A1.8 unless given. */
function library(entries: (Partial<KeywordEntry> & Record<string, unknown>)[], extra: Record<string, unknown> = {}) {
  return compileLibrary(parseLibrary({ name: 'precision', entries: entries.map((e) => ({ risk: 'A1.8', ...e })), ...extra }));
}

const originals = (text: string, compiled: ReturnType<typeof library>): string[] => scanText(compiled, text).map((m) => m.original);

/** Whole-text and one-unit-at-a-time scans agree (the streaming contract). */
function streamed(text: string, compiled: ReturnType<typeof library>): string[] {
  const scanner = new IncrementalScanner(compiled);
  const out: string[] = [];
  for (const unit of text.split('')) out.push(...scanner.feed(unit).matches.map((m) => m.original));
  out.push(...scanner.end().matches.map((m) => m.original));
  return out;
}

describe('repeats: a keyword\'s own doubled characters must each be present', () => {
  const doubled = library([{ keyword: '妈妈' }, { keyword: '宝宝' }, { keyword: '谢谢' }, { keyword: '哈哈哈' }]);

  it('does not match one character of a doubled keyword (the issue\'s sentences)', () => {
    for (const text of ['我妈说', '宝贝', '感谢', '哈密瓜', '哈哈大笑', '谢了']) {
      expect(originals(text, doubled)).toEqual([]);
      expect(streamed(text, doubled)).toEqual([]);
    }
  });

  it('matches the keyword and longer runs of its repeated character', () => {
    expect(originals('我妈妈说', doubled)).toEqual(['妈妈']);
    expect(originals('妈妈妈', doubled)).toEqual(['妈妈']);
    expect(originals('哈哈哈', doubled)).toEqual(['哈哈哈']);
    expect(originals('哈哈哈哈哈', doubled)).toEqual(['哈哈哈']);
    expect(streamed('我妈妈说哈哈哈哈', doubled)).toEqual(['妈妈', '哈哈哈']);
  });

  it('holds a stream back while a repeat could still complete a doubled keyword', () => {
    const scanner = new IncrementalScanner(doubled);
    expect(scanner.feed('我哈哈').released).toBe('我');
    const step = scanner.feed('哈');
    expect(step.matches.map((m) => m.original)).toEqual(['哈哈哈']);
    expect(step.released).toBe('哈哈哈');
    expect(scanner.feed('宝').released).toBe('');
    expect(scanner.feed('贝').released).toBe('宝贝');
  });

  it('never counts a run of repeats across clause punctuation', () => {
    expect(originals('我妈，妈说', doubled)).toEqual([]);
    expect(originals('我妈. 妈说', doubled)).toEqual([]);
    expect(originals('我妈.妈说', doubled)).toEqual(['妈.妈']);
    expect(streamed('高峰，峰上 哈哈。哈', doubled)).toEqual([]);
  });

  it('counts repeats hidden with symbols, and repeats in the middle of a keyword', () => {
    const lib = library([{ keyword: '呵呵哒' }, { keyword: 'kill' }]);
    expect(originals('呵.呵.哒', lib)).toEqual(['呵.呵.哒']);
    expect(originals('呵呵呵哒', lib)).toEqual(['呵呵呵哒']);
    expect(originals('呵哒', lib)).toEqual([]);
    expect(originals('kil it', lib)).toEqual([]);
    expect(originals('kiiilll it', lib)).toEqual(['kiiilll']);
  });

  it('keeps two entries that differ only in a repeat apart', () => {
    const lib = library([{ keyword: '妈' }, { keyword: '妈妈' }]);
    expect(scanText(lib, '我妈').map((m) => m.keyword)).toEqual(['妈']);
    expect(scanText(lib, '我妈妈').map((m) => m.keyword).sort()).toEqual(['妈', '妈妈']);
  });
});

describe('boundaries: clause punctuation ends a candidate match', () => {
  const lib = library([{ keyword: '法轮' }, { keyword: '赌博' }, { keyword: '色情' }, { keyword: '毒品' }, { keyword: '枪支' }]);

  it('does not join the end of one clause to the start of the next (the issue\'s sentences)', () => {
    for (const text of ['方法，轮流', '打赌。博物馆', '红色、情人节', '消毒：品质', '开枪！支援', '方法；轮流', '方法？轮流', '方法, 轮流', '打赌. 博物馆', '开枪! 支援', '方法\n\n轮流', '方法》轮流', '开枪“支援', '消毒（品质']) {
      expect(originals(text, lib)).toEqual([]);
      expect(streamed(text, lib)).toEqual([]);
    }
  });

  it('still sees through the noise evasions use: spaces, symbols, emoji, invisible characters, ASCII punctuation inside a word', () => {
    expect(originals('法 轮', lib)).toEqual(['法 轮']);
    expect(originals('法*轮', lib)).toEqual(['法*轮']);
    expect(originals('法😀轮', lib)).toEqual(['法😀轮']);
    expect(originals('法\u200b轮', lib)).toEqual(['法\u200b轮']);
    expect(originals('法.轮', lib)).toEqual(['法.轮']);
    expect(originals('法·轮', lib)).toEqual(['法·轮']);
  });

  it('lets a library count clause punctuation as noise again', () => {
    const loose = library([{ keyword: '法轮' }], { noise: ['space', 'punctuation', 'symbol', 'emoji', 'invisible', 'clause'] });
    expect(originals('方法，轮流', loose)).toEqual(['法，轮']);
  });

  it('lets a keyword narrow the noise it tolerates', () => {
    const strict = library([{ keyword: '台独', noise: ['invisible'] }, { keyword: '法轮' }]);
    expect(originals('台 独', strict)).toEqual([]);
    expect(originals('台\u200b独', strict)).toEqual(['台\u200b独']);
    expect(originals('法 轮', strict)).toEqual(['法 轮']);
  });

  it('rejects an unknown noise kind with the field named', () => {
    expect(() => library([{ keyword: '台独', noise: ['commas'] as never }])).toThrow(expect.objectContaining({ code: 'E_SAFETY_LIBRARY_INVALID', message: expect.stringMatching(/entries\.0\.noise/) }));
  });
});

describe('exception phrases per keyword and per library', () => {
  it('protects a keyword inside its own exception phrase, there and only there', () => {
    const lib = library([{ keyword: '台独', allow: ['平台独家'] }, { keyword: '独家' }]);
    expect(scanText(lib, '平台独家发布').map((m) => m.keyword)).toEqual(['独家']);
    expect(scanText(lib, '反对台独，平台独家').map((m) => [m.keyword, m.start])).toEqual([
      ['台独', 2],
      ['独家', 7],
    ]);
    expect(streamed('平台独家发布', lib)).toEqual(['独家']);
  });

  it('a library-wide exception phrase protects every keyword inside it', () => {
    const lib = library([{ keyword: '台独' }, { keyword: '独家' }], { allow: ['平台独家'] });
    expect(originals('平台独家发布', lib)).toEqual([]);
    expect(originals('台独', lib)).toEqual(['台独']);
  });

  it('does not protect a hit that runs past the end of the phrase', () => {
    const lib = library([{ keyword: '家发', allow: ['平台独家'] }]);
    expect(originals('平台独家发布', lib)).toEqual(['家发']);
  });
});

describe('word-boundary mode', () => {
  const lib = library([{ keyword: '台独', words: true }, { keyword: '法轮', words: true }, { keyword: '轮流' }]);

  it('matches only where the keyword is a word or a run of words', () => {
    expect(originals('平台独家发布新闻', lib)).toEqual([]);
    expect(originals('他们主张台独', lib)).toEqual(['台独']);
    expect(originals('我们在方法轮流上', lib).filter((o) => o !== '轮流')).toEqual([]);
  });

  it('loads a segmenter only for a library that has word-boundary entries, and takes one of your own', () => {
    const refusing = { cut: (): string[] => expect.unreachable('segmenter used without word-boundary entries') as never };
    const plain = compileLibrary(parseLibrary({ name: 'plain', entries: [{ keyword: '台独', risk: 'A1.3' }] }), { segmenter: refusing });
    expect(plain.segmenter).toBeUndefined();
    expect(scanText(plain, '平台独家').map((m) => m.keyword)).toEqual(['台独']);
    const cuts: string[] = [];
    const own = { cut: (text: string): string[] => (cuts.push(text), text === '平台独家' ? ['平台', '独家'] : [...text]) };
    const worded = compileLibrary(parseLibrary({ name: 'worded', entries: [{ keyword: '台独', risk: 'A1.3', words: true }] }), { segmenter: own });
    expect(scanText(worded, '平台独家').map((m) => m.keyword)).toEqual([]);
    expect(cuts).toEqual(['平台独家']);
  });

  it('gives the same verdict in a stream as on the whole text', () => {
    for (const text of ['平台独家发布新闻', '他们主张台独，然后', '台.独分子']) expect(streamed(text, lib)).toEqual(originals(text, lib));
  });
});

describe('confidence: each match says which transforms it needed', () => {
  const lib = library([{ keyword: '法轮功', mode: 'pinyin' }, { keyword: 'kill' }]);
  const first = (text: string) => scanText(lib, text)[0];

  it('a literal hit needs nothing and is high confidence', () => {
    expect(first('法轮功')).toMatchObject({ transforms: [], confidence: 'high' });
  });

  it('names each transform a hit needed', () => {
    expect(first('法輪功')).toMatchObject({ transforms: ['traditional'], confidence: 'medium' });
    expect(first('法 轮 功')).toMatchObject({ transforms: ['noise'], confidence: 'medium' });
    expect(first('法\u200b轮功')).toMatchObject({ transforms: ['invisible'], confidence: 'medium' });
    expect(first('法法轮功')).toMatchObject({ transforms: ['repeats'], confidence: 'medium' });
    expect(first('falungong')).toMatchObject({ transforms: ['pinyin'], confidence: 'medium' });
    expect(first('KILL')).toMatchObject({ transforms: ['case'], confidence: 'medium' });
    expect(first('ｋｉｌｌ')).toMatchObject({ transforms: ['width'], confidence: 'medium' });
    expect(first('кіll')).toMatchObject({ transforms: ['homoglyphs'], confidence: 'medium' });
    expect(first('法 輪 \u200b功功')).toMatchObject({ transforms: ['traditional', 'invisible', 'noise'], confidence: 'low' });
  });
});

describe('streams and whole texts agree with the new rules', () => {
  it('on random texts, for every chunk size', () => {
    const lib = library([{ keyword: '妈妈' }, { keyword: '哈哈哈' }, { keyword: '台独', allow: ['平台独家'] }, { keyword: '家台', words: true }, { keyword: '妈台', noise: ['invisible'] }, { keyword: 'aa b' }], { allow: ['哈哈妈'] });
    const alphabet = ['妈', '哈', '台', '独', '平', '家', '，', ' ', '.', '. ', '\u200b', 'a', 'b', '\n', '😀'];
    const random = seededRandom(12);
    for (let round = 0; round < 200; round++) {
      let text = '';
      const length = 1 + Math.floor(random() * 30);
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(random() * alphabet.length)];
      const whole = scanText(lib, text).map((m) => [m.keyword, m.start, m.end]);
      for (const size of [1, 2, 5]) {
        const scanner = new IncrementalScanner(lib);
        const hits = [];
        let released = '';
        for (let i = 0; i < text.length; i += size) {
          const step = scanner.feed(text.slice(i, i + size));
          for (const m of step.matches) expect(m.start).toBeGreaterThanOrEqual(step.releasedFrom);
          hits.push(...step.matches);
          released += step.released;
        }
        const last = scanner.end();
        hits.push(...last.matches);
        released += last.released;
        expect(released).toBe(text);
        expect(hits.sort((a, b) => a.start - b.start || a.end - b.end).map((m) => [m.keyword, m.start, m.end])).toEqual(whole);
      }
    }
  });
});

describe('policies route low-confidence hits', () => {
  const policy = validatePolicy({
    rules: [
      { target: 'A1', action: 'block', minConfidence: 'medium' },
      { target: 'A1', action: 'review' },
    ],
    userClasses: {},
    safeReply: DEFAULT_SAFE_REPLY,
  });
  const guard = new SafetyGuard({ library: library([{ keyword: '法轮功' }]), policy, pii: false });

  it('blocks a literal or once-transformed hit and sends one found through several transforms to review', () => {
    expect(guard.checkLocal('法轮功', { direction: 'input' }).verdict).toBe('block');
    expect(guard.checkLocal('法 轮 功', { direction: 'input' }).verdict).toBe('block');
    const low = guard.checkLocal('法 輪 \u200b功', { direction: 'input' });
    expect(low.verdict).toBe('review');
    expect(low.matches[0]).toMatchObject({ confidence: 'low', action: 'review' });
  });

  it('does the same on a stream', () => {
    const stream = guard.stream({ direction: 'output' });
    const step = stream.feed('看 法 輪 \u200b功 吧');
    expect(step.blocked).toBe(false);
    expect([...step.matches, ...stream.end().matches].map((m) => m.action)).toEqual(['review']);
  });

  it('rejects an unknown confidence', () => {
    expect(() => validatePolicy({ rules: [{ target: 'A1', action: 'block', minConfidence: 'certain' as never }], userClasses: {}, safeReply: DEFAULT_SAFE_REPLY })).toThrow(expect.objectContaining({ code: 'E_SAFETY_POLICY_INVALID' }));
  });
});

describe('library files stay compatible', () => {
  it('reads a library written before the precision fields and writes it back unchanged', () => {
    const old = `${JSON.stringify(
      {
        format: 'hegui-keywords/1',
        name: 'old',
        version: '3',
        updatedAt: '2025-11-01T00:00:00.000Z',
        transforms: { ...defaultNormaliserOptions },
        entries: [{ keyword: '法轮功', risk: 'A1.8', mode: 'pinyin', severity: 'high' }],
        allow: ['大法官'],
      },
      null,
      2,
    )}\n`;
    expect(serialiseLibrary(parseLibrary(JSON.parse(old)))).toBe(old);
  });

  it('round-trips the new fields', () => {
    const library = parseLibrary({ name: 'new', noise: ['space'], entries: [{ keyword: '台独', risk: 'A1.3', allow: ['平台独家'], noise: ['invisible'], words: true }] });
    expect(parseLibrary(JSON.parse(serialiseLibrary(library)))).toEqual(library);
  });
});

describe('repeats and clause breaks against a reference matcher', () => {
  /**
   * The rules written the slow way: the text as runs of one character (a run never crosses a
   * clause break), a keyword as runs with the counts it needs; a hit is a sequence of runs with
   * the keyword's characters, enough of each, and no clause break between them. It starts at
   * its first run and ends where its last run has as many characters as the keyword needs.
   */
  function reference(text: string, keywords: readonly string[]): string[] {
    const runs: { char: string; positions: number[]; clauseBefore: boolean }[] = [];
    let gap = '';
    for (let i = 0; i < text.length; i++) {
      const char = text[i] as string;
      if (char === ' ' || char === '.' || char === '，') {
        gap += char;
        continue;
      }
      const clause = gap.includes('，') || (gap.includes('.') && gap.includes(' '));
      const last = runs[runs.length - 1];
      if (last !== undefined && last.char === char && !clause) last.positions.push(i);
      else runs.push({ char, positions: [i], clauseBefore: clause });
      gap = '';
    }
    const hits: string[] = [];
    for (const keyword of keywords) {
      const need: { char: string; count: number }[] = [];
      for (const char of keyword) {
        const last = need[need.length - 1];
        if (last?.char === char) last.count++;
        else need.push({ char, count: 1 });
      }
      for (let j = 0; j + need.length <= runs.length; j++) {
        const ok = need.every((n, k) => {
          const run = runs[j + k] as (typeof runs)[number];
          return run.char === n.char && run.positions.length >= n.count && (k === 0 || !run.clauseBefore);
        });
        if (!ok) continue;
        const lastNeed = need[need.length - 1] as { count: number };
        const lastRun = runs[j + need.length - 1] as (typeof runs)[number];
        hits.push(`${keyword}@${(runs[j] as (typeof runs)[number]).positions[0]}-${(lastRun.positions[lastNeed.count - 1] as number) + 1}`);
      }
    }
    return hits.sort();
  }

  it('agrees on random texts', () => {
    const keywords = ['妈妈', '哈哈哈', '台独', '妈台', '台台独', '独妈妈台', '哈'];
    const lib = library(keywords.map((keyword) => ({ keyword })));
    const alphabet = ['妈', '哈', '台', '独', ' ', '.', '，'];
    const random = seededRandom(45654);
    let total = 0;
    for (let round = 0; round < 500; round++) {
      let text = '';
      for (let i = 0, length = 1 + Math.floor(random() * 24); i < length; i++) text += alphabet[Math.floor(random() * alphabet.length)];
      const found = scanText(lib, text)
        .map((m) => `${m.keyword}@${m.start}-${m.end}`)
        .sort();
      expect(found, JSON.stringify(text)).toEqual(reference(text, keywords));
      total += found.length;
    }
    expect(total).toBeGreaterThan(300);
  });
});
