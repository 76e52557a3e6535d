import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../test/helpers/random.js';
import { compileLibrary } from './compile.js';
import type { CompiledLibrary } from './compile.js';
import type { KeywordEntry } from './library.js';
import { parseLibrary } from './library-schema.js';
import type { NormaliserOptions } from './options.js';
import { literalNormaliserOptions } from './options.js';
import { ScanCore } from './scan-core.js';
import type { CoreHit } from './scan-core.js';

/**
 * The scan loop's short cuts (the pair filter that steps straight to the root's child, skipping
 * reports that can only start inside a word, deciding a waiting right boundary inside the fast
 * loop) against the reference core that takes none of them: the same hits, in the same order,
 * over random mixes of everything the normalisation touches.
 */

function library(entries: Partial<KeywordEntry>[], allow: string[], transforms: Partial<NormaliserOptions> = {}): CompiledLibrary {
  return compileLibrary(parseLibrary({ name: 'test', entries: entries.map((e) => ({ risk: 'A1.8', ...e })), allow, transforms }));
}

const han = [...'法轮功暴恐大官哈呵哒赌博网站习近平台独杀人'];
const traditional = [...'輪門賭網專發'];
const latin = ['kill', 'sex', 'falungong', 'flg', 'dubo', 'du', 'bo', 'wang', 'zhan', 'all', 'ladies', 'kills', 'skill', 'fa', 'lun', 'gong', 'x', 'ab'];
const odd = ['ＫＩＬＬ', 'Ｋ', 'к', 'і', 'κ', '1', '0', '@', '$', 'K', 'L', 'ｆａ'];
const separators = [' ', '  ', '.', '*', '-', '，', '。', '、', '！', '?', ', ', '. ', '\u200b', '\u0301', '\t', '“', '《', '·', '~'];
const astral = ['😀', '🔥', '👍🏻', '𠀀', '𝐤', '\ud800', '\udc00', '\ud83d'];
const breaks = ['\n', '\r\n', '\r', '\u2028'];
const groups = [han, han, han, traditional, latin, latin, odd, separators, separators, astral, breaks];

function randomText(random: () => number, pieces: number): string {
  let text = '';
  for (let k = 0; k < pieces; k++) {
    const group = groups[Math.floor(random() * groups.length)] as string[];
    let piece = group[Math.floor(random() * group.length)] as string;
    if (random() < 0.08) piece = piece.repeat(2 + Math.floor(random() * 3));
    text += piece;
  }
  return text;
}

function hitsOf(core: ScanCore, text: string, cuts: number[]): CoreHit[] {
  let from = 0;
  for (const cut of [...cuts, text.length]) {
    // A high surrogate must not end a chunk: the caller keeps it for the next one.
    let to = cut;
    if (to < text.length && to > from) {
      const unit = text.charCodeAt(to - 1);
      if (unit >= 0xd800 && unit <= 0xdbff) to--;
    }
    if (to <= from) continue;
    core.run(text, from, to, 0);
    from = to;
  }
  if (from < text.length) core.run(text, from, text.length, 0);
  core.finish();
  return core.hits.map((h) => ({ ...h }));
}

const entries: Partial<KeywordEntry>[] = [
  { keyword: '法轮功', mode: 'pinyin' },
  { keyword: '赌博网站', mode: 'pinyin' },
  { keyword: '台独', mode: 'pinyin' },
  { keyword: '习近平', mode: 'pinyin' },
  { keyword: '杀人' },
  { keyword: '哈哈哈' },
  { keyword: '呵呵哒' },
  { keyword: 'kill', risk: 'A1.6' },
  { keyword: 'sex' },
  { keyword: 'all ladies' },
  { keyword: 'x1' },
  { keyword: '暴恐', risk: 'A1.4', noise: ['space'] },
  { keyword: '大官', noise: ['space', 'punctuation', 'symbol', 'emoji', 'invisible', 'clause'] },
];
const libraries: [string, CompiledLibrary][] = [
  ['every transform', library(entries, ['大法官', 'skill', '专发'])],
  ['every transform across line breaks', library(entries, ['大法官'], { crossLineBreaks: true })],
  ['no word boundaries, no repeats', library(entries, ['大法官'], { latinWordBoundary: false, collapseRepeats: false })],
  ['literal', library(entries.map((e) => ({ keyword: e.keyword as string })), [], literalNormaliserOptions)],
];

describe('scan loop short cuts', () => {
  for (const [name, compiled] of libraries) {
    it(`give the reference core's hits: ${name}`, () => {
      const random = seededRandom(name.length * 7919 + 14);
      let seen = 0;
      for (let n = 0; n < 700; n++) {
        const text = randomText(random, 1 + Math.floor(random() * 40));
        const expected = hitsOf(new ScanCore(compiled, true), text, []);
        seen += expected.length;
        expect(hitsOf(new ScanCore(compiled), text, []), JSON.stringify(text)).toEqual(expected);
        // In chunks, as a stream feeds it: the loop's state carries over between runs.
        const cuts = Array.from({ length: Math.floor(random() * 4) }, () => Math.floor(random() * text.length)).sort((a, b) => a - b);
        expect(hitsOf(new ScanCore(compiled), text, cuts), `${JSON.stringify(text)} cut at ${cuts.join(',')}`).toEqual(expected);
      }
      // The texts do hold keywords: the comparison is not of empty lists.
      expect(seen).toBeGreaterThan(300);
    });
  }

  it('one core reused after reset gives the hits of a new one', () => {
    const compiled = libraries[0]?.[1] as CompiledLibrary;
    const random = seededRandom(99);
    const core = new ScanCore(compiled);
    for (let n = 0; n < 500; n++) {
      const text = randomText(random, 1 + Math.floor(random() * 30));
      core.reset();
      expect(hitsOf(core, text, []), JSON.stringify(text)).toEqual(hitsOf(new ScanCore(compiled, true), text, []));
    }
  });
});
