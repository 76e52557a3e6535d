/**
 * @module bench/safety/precision-data
 * The inputs of the precision benchmark, all deterministic:
 * - a benign corpus of real Chinese text from the `chinese-poetry` package (Song ci, Yuan qu,
 *   the Analects and the Four Books, the Book of Songs, the Chu ci, primers and essays, then
 *   Tang poems), every line of every `paragraphs` field, folded to simplified characters with
 *   OpenCC so literal matchers see the same characters hegui's traditional fold sees;
 * - a keyword library shaped like a real one: words of jieba's dictionary (modern Chinese) of
 *   middling frequency, mostly two characters, with doubled-character words (妈妈, 哈哈哈),
 *   the clause-crossing examples of issue 12, a share marked `pinyin`, and Latin words.
 *   hegui publishes no prohibited-word list, so ordinary words stand in for one: what the
 *   matchers' false-match rate depends on is the shape of the words, not their meaning.
 */
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Converter } from 'opencc-js';
import { seededRandom as rng } from '../../test/helpers/random.js';

const require = createRequire(import.meta.url);

/** Corpus sources under chinese-poetry's `dist/`, in the order they are read. */
const SOURCES = ['songci', 'yuanqu', 'lunyu', 'sishuwujing', 'shijing', 'chuci', 'mengxue', 'youmengying', 'wudaishici/huajianji', 'quantangshi'];

/** Every string of every `paragraphs` array in a parsed JSON document. */
function paragraphs(value: unknown, out: string[]): void {
  if (Array.isArray(value)) for (const item of value) paragraphs(item, out);
  else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'paragraphs' && Array.isArray(inner)) {
        for (const line of inner) if (typeof line === 'string' && line.length > 0) out.push(line);
      } else paragraphs(inner, out);
    }
  }
}

/** Where chinese-poetry is installed. It is 350 MB, so it is not a devDependency (every
 * `npm ci`, CI's included, would pay for it); the precision benchmark alone installs it. */
function poetryPackage(): string {
  try {
    return require.resolve('chinese-poetry/package.json');
  } catch {
    console.error('The precision benchmark reads chinese-poetry (350 MB, not installed by npm ci). Install it once with:\n  npm install --no-save chinese-poetry@2.0.1');
    process.exit(2);
  }
}

/**
 * About `characters` characters of real text, one paragraph per line, in simplified
 * characters. Tang poems are read from the `poet.tang.*` files in numeric order.
 */
export async function poetryCorpus(characters: number): Promise<string> {
  const root = join(dirname(poetryPackage()), 'dist');
  const toSimplified = Converter({ from: 't', to: 'cn' });
  const lines: string[] = [];
  let size = 0;
  for (const source of SOURCES) {
    const dir = join(root, source);
    const numbered = (name: string): number => Number(/(\d+)/.exec(name)?.[1] ?? 0);
    let files = (await readdir(dir)).filter((f) => f.endsWith('.json') && !f.startsWith('author'));
    if (source === 'quantangshi') files = files.filter((f) => f.startsWith('poet.tang.'));
    files.sort((a, b) => numbered(a) - numbered(b) || (a < b ? -1 : 1));
    for (const file of files) {
      const found: string[] = [];
      paragraphs(JSON.parse(await readFile(join(dir, file), 'utf8')), found);
      for (const line of found) {
        const simplified = toSimplified(line);
        lines.push(simplified);
        size += simplified.length + 1;
        if (size >= characters) return lines.join('\n');
      }
    }
  }
  return lines.join('\n');
}

export interface BenchEntry {
  keyword: string;
  mode: 'literal' | 'pinyin';
}

/** The issue-12 examples: doubled characters and words that ordinary clauses run together. */
const FIXED = ['妈妈', '宝宝', '谢谢', '哈哈哈', '法轮', '赌博', '色情', '毒品', '枪支', '台独'];
const HAN_WORD = /^\p{sc=Han}+$/u;
/** AA, AAB, ABB, AABB: words with a doubled character. */
const DOUBLED = /^(?:(.)\1|(.)\2.|.(.)\3|(.)\4(.)\5)$/u;

/**
 * `count` entries (at least 5,000 for the benchmark): 55% two-character words, 25% of three or
 * four characters, 6% doubled-character words, 4% Latin words, the fixed examples; 12% of
 * the Chinese entries marked `pinyin`.
 */
export function realisticLibrary(count: number, seed = 12): BenchEntry[] {
  const dictionary = (require('@node-rs/jieba/dict') as { dict: Uint8Array }).dict;
  // jieba's dictionary also lists traditional forms; a library is written in simplified ones.
  const toSimplified = Converter({ from: 't', to: 'cn' });
  const two: string[] = [];
  const longer: string[] = [];
  const doubled: string[] = [];
  for (const line of new TextDecoder().decode(dictionary).split('\n')) {
    const [word, frequencyText] = line.split(' ');
    const frequency = Number(frequencyText);
    if (word === undefined || !HAN_WORD.test(word) || frequency < 20 || frequency > 5000 || toSimplified(word) !== word) continue;
    if (DOUBLED.test(word)) doubled.push(word);
    else if (word.length === 2) two.push(word);
    else if (word.length >= 3 && word.length <= 4) longer.push(word);
  }
  const random = rng(seed);
  const chosen = new Set<string>(FIXED);
  const draw = (pool: readonly string[], n: number): void => {
    const target = chosen.size + n;
    for (let guard = 0; chosen.size < target && guard < n * 50; guard++) chosen.add(pool[Math.floor(random() * pool.length)] as string);
  };
  draw(doubled, Math.round(count * 0.06));
  draw(two, Math.round(count * 0.55));
  draw(longer, Math.round(count * 0.25));
  const latin = Math.round(count * 0.04);
  while (chosen.size < count - latin) draw(two, 1);
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  while (chosen.size < count) {
    const length = 4 + Math.floor(random() * 7);
    let word = '';
    for (let i = 0; i < length; i++) word += letters[Math.floor(random() * 26)];
    chosen.add(word);
  }
  return [...chosen].map((keyword) => ({ keyword, mode: HAN_WORD.test(keyword) && random() < 0.12 ? 'pinyin' : 'literal' }));
}
