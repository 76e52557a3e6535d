import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticKeywords } from '../../bench/safety/data.js';
import { seededRandom } from '../../test/helpers/random.js';
import { findInFile } from '../cli/scan-parallel.js';
import { loadSharedLibrary } from '../cli/scan-library.js';
import type { CliIo } from '../cli/io.js';
import { compileLibrary } from './compile.js';
import type { CompiledLibrary } from './compile.js';
import { SafetyGuard } from './guard.js';
import type { LocalFindings } from './guard.js';
import type { KeywordLibrary } from './library.js';
import { createLibrary, serialiseLibrary } from './library.js';
import { literalNormaliserOptions } from './options.js';
import { joinFindings, lineFeedCuts, splitsAtLineFeeds } from './split.js';

const keywords = syntheticKeywords(200, 31);
const today = new Date('2026-06-01T00:00:00Z');

/** Every kind of entry: pinyin, noise, repeats, exception phrases, allow words, regex, astral characters. */
function everything(): KeywordLibrary {
  const lib = createLibrary('split-test', { updatedAt: new Date('2026-01-01T00:00:00Z') });
  lib.entries = keywords.map((keyword, i) => ({ keyword, risk: 'A1.8', mode: i % 3 === 0 ? 'pinyin' : 'literal', severity: 'high' }));
  lib.entries.push({ keyword: '台独', risk: 'A1.2', mode: 'literal', severity: 'high', allow: ['平台独家'] });
  lib.entries.push({ keyword: '炸炸弹', risk: 'A1.4', mode: 'literal', severity: 'high', noise: ['space'] });
  lib.entries.push({ keyword: '哈哈', risk: 'A1.8', mode: 'literal', severity: 'low' });
  lib.entries.push({ keyword: '𠀋𠀋字', risk: 'A1.8', mode: 'literal', severity: 'low' });
  lib.entries.push({ keyword: '(代|办)理?\\d*张?发票', risk: 'A1.8', mode: 'regex', severity: 'low' });
  lib.allow = ['打击赌博网站'];
  return lib;
}

const libraries: [string, CompiledLibrary][] = [
  ['every transform', compileLibrary(everything())],
  ['literal', compileLibrary({ ...everything(), transforms: { ...literalNormaliserOptions } })],
];

/** Pieces that stress the seams: keywords, keywords with noise, repeats, full-width and astral characters, CR LF, personal data. */
function randomText(random: () => number, lines: number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const pieces = [
    () => pick(keywords),
    () => [...pick(keywords)].join(pick([' ', '.', '*', '\u200b'])),
    () => '哈'.repeat(1 + Math.floor(random() * 5)),
    () => '𠀋𠀋字😀',
    () => 'ｆｕｌｌ，',
    () => '平台独家台独',
    () => '炸 炸 弹',
    () => '代理3张发票',
    () => '电话13800138000，',
    () => 'zhang@example.com ',
    () => '今天天气很好',
    () => pick(['\n', '\r\n', '\n\n']),
  ];
  let text = '';
  let breaks = 0;
  while (breaks < lines) {
    const piece = pick(pieces)();
    if (piece.includes('\n')) breaks++;
    text += piece;
  }
  return text;
}

/** The findings of `text` searched in the parts `cuts` makes of its UTF-8 bytes. */
function findInParts(guard: SafetyGuard, text: string, cuts: readonly number[]): LocalFindings {
  const bytes = Buffer.from(text, 'utf8');
  const bounds = [0, ...cuts, bytes.length];
  let offset = 0;
  const parts = bounds.slice(1).map((to, i) => {
    const part = bytes.subarray(bounds[i], to).toString('utf8');
    const at = offset;
    offset += part.length;
    return { offset: at, found: guard.findLocal(part) };
  });
  return joinFindings(parts);
}

/** Every cut just after a line feed. */
function everyLineFeed(text: string): number[] {
  const bytes = Buffer.from(text, 'utf8');
  const cuts: number[] = [];
  for (let i = 0; i < bytes.length - 1; i++) if (bytes[i] === 0x0a) cuts.push(i + 1);
  return cuts;
}

describe('searching a text in parts cut at line feeds', () => {
  it('cuts just after a line feed near each equal share, and not where there is none', () => {
    const bytes = Buffer.from('aaaa\nbbbb\ncccc\ndddd\n', 'utf8');
    expect(lineFeedCuts(bytes, 2)).toEqual([10]);
    expect(lineFeedCuts(bytes, 4)).toEqual([5, 10, 15]);
    for (const cut of lineFeedCuts(bytes, 3)) expect(bytes[cut - 1]).toBe(0x0a);
    expect(lineFeedCuts(Buffer.from('no line feed at all', 'utf8'), 4)).toEqual([]);
    expect(lineFeedCuts(bytes, 1)).toEqual([]);
    // A share without a line feed near it is joined to its neighbour.
    expect(lineFeedCuts(Buffer.from(`${'x'.repeat(100)}\n${'y'.repeat(10)}`, 'utf8'), 2)).toEqual([]);
  });

  for (const [name, library] of libraries) {
    it(`gives exactly the hits of one pass (${name} library): keywords at and across the seams, repeats, surrogate pairs, CR LF, personal data`, () => {
      const guard = new SafetyGuard({ library, pii: { today } });
      const random = seededRandom(name.length);
      let hits = 0;
      for (let round = 0; round < 25; round++) {
        const text = randomText(random, 1 + Math.floor(random() * 12));
        const whole = guard.findLocal(text);
        hits += whole.matches.length + whole.pii.length;
        expect(findInParts(guard, text, everyLineFeed(text))).toEqual(whole);
        for (const parts of [2, 3, 5]) expect(findInParts(guard, text, lineFeedCuts(Buffer.from(text, 'utf8'), parts))).toEqual(whole);
      }
      expect(hits).toBeGreaterThan(100);
    });
  }

  it('keeps a keyword written across a line feed out, as one pass does', () => {
    const library = libraries[0]?.[1] as CompiledLibrary;
    const guard = new SafetyGuard({ library, pii: { today } });
    const keyword = keywords.find((k) => /^\p{sc=Han}+$/u.test(k)) as string;
    const text = `${keyword.slice(0, 1)}\n${keyword.slice(1)}\n${keyword}\r\n${keyword}`;
    const whole = guard.findLocal(text);
    expect(whole.matches.map((m) => m.start)).toEqual([keyword.length + 2, 2 * keyword.length + 4]);
    expect(findInParts(guard, text, everyLineFeed(text))).toEqual(whole);
  });

  it('does not cut when matches may cross line breaks', () => {
    const crossing = compileLibrary({ ...everything(), transforms: { ...everything().transforms, crossLineBreaks: true, skipNoise: true } });
    expect(splitsAtLineFeeds(crossing)).toBe(false);
    expect(splitsAtLineFeeds(libraries[0]?.[1])).toBe(true);
    expect(splitsAtLineFeeds(undefined)).toBe(true);
  });
});

describe('findInFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hegui-split-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const io = (): CliIo => ({ stdout: { write: () => true }, stderr: { write: () => true }, stdin: process.stdin, env: {}, cwd: dir });

  it('searches a file on worker threads with the hits of one pass, and on the main thread when a worker fails', async () => {
    const path = join(dir, 'lib.json');
    await writeFile(path, serialiseLibrary(everything()));
    const library = libraries[0]?.[1] as CompiledLibrary;
    const guard = new SafetyGuard({ library, pii: { today } });
    const text = `\uFEFF${randomText(seededRandom(7), 40)}`;
    await writeFile(join(dir, 'text.txt'), text);
    const whole = guard.findLocal(text);
    const split = await findInFile(io(), guard, { source: path, compiled: library }, 'text.txt', today, 3, 0);
    expect(split.cuts).toBeGreaterThan(0);
    expect(split.found).toEqual(whole);
    expect(split.text()).toBe(text);
    // A worker that cannot load its library: the main thread searches its part.
    const fallback = await findInFile(io(), guard, { source: join(dir, 'missing.json'), compiled: library }, 'text.txt', today, 2, 0);
    expect(fallback.cuts).toBe(1);
    expect(fallback.found).toEqual(whole);
  }, 60_000);

  it('has every worker use the library the main thread read, even when the file changes meanwhile', async () => {
    const path = join(dir, 'changing.json');
    await writeFile(path, serialiseLibrary(everything()));
    const { compiled, bytes } = await loadSharedLibrary(path);
    expect(bytes).toBeDefined();
    // The file is replaced by an empty library before the workers start.
    await writeFile(path, serialiseLibrary({ ...everything(), entries: [] }));
    const guard = new SafetyGuard({ library: compiled!, pii: { today } });
    const text = randomText(seededRandom(11), 40);
    await writeFile(join(dir, 'text2.txt'), text);
    const whole = guard.findLocal(text);
    expect(whole.matches.length).toBeGreaterThan(0);
    const split = await findInFile(io(), guard, { source: path, compiled, bytes: bytes! }, 'text2.txt', today, 3, 0);
    expect(split.cuts).toBeGreaterThan(0);
    expect(split.found).toEqual(whole);
  }, 60_000);

  it('names a file that cannot be read', async () => {
    const guard = new SafetyGuard({ pii: { today } });
    await expect(findInFile(io(), guard, { source: undefined, compiled: undefined }, 'missing.txt', today)).rejects.toMatchObject({ code: 'E_FILE_NOT_FOUND', message: expect.stringMatching(/no such file/) });
    await expect(findInFile(io(), guard, { source: undefined, compiled: undefined }, '.', today)).rejects.toMatchObject({ code: 'E_FILE_NOT_FOUND', message: expect.stringMatching(/it is a folder/) });
  });
});
