/**
 * Generated corpora with a known share of harmful items, for the corpus scan tests and the
 * benchmark. Harmful items carry one of a few invented keywords (literal entries of a test
 * library, never a real word list); the others are innocuous sentences that match nothing.
 * Exactly `round(share * items)` items are harmful, at seeded positions.
 */
import { writeFileSync } from 'node:fs';
import { createLibrary, type KeywordLibrary } from '../../src/safety/index.js';
import { seededRandom } from './random.js';

/** Invented keywords and the risks the test library files them under. */
export const TEST_KEYWORDS: readonly (readonly [keyword: string, risk: string])[] = [
  ['霍乱谣言甲', 'A1.8'],
  ['博彩乙站', 'A1.7'],
  ['zzforbiddenqq', 'A1.6'],
];

export function testLibrary(): KeywordLibrary {
  const library = createLibrary('corpus-test', { updatedAt: new Date('2026-12-01T00:00:00Z') });
  return { ...library, entries: TEST_KEYWORDS.map(([keyword, risk]) => ({ keyword, risk, mode: 'literal', severity: 'high' }) as KeywordLibrary['entries'][number]) };
}

const CLEAN = ['今天的天气很好，我们去公园散步。', '这本书讲的是城市规划的历史。', 'The committee reviewed the annual budget on Tuesday.', '他在图书馆里读了一下午的小说。', 'A quiet river runs past the old mill.', '新的地铁线路下个月开通。'];

export interface GeneratedCorpus {
  items: number;
  harmful: number;
  /** 0-based indices of the harmful items. */
  harmfulIndices: Set<number>;
}

/** Writes a JSONL corpus of `items` records `{"id", "text"}` to `path`; every `piiEvery`-th clean item holds a mobile number. */
export function writeCorpus(path: string, options: { items: number; share: number; seed: number; piiEvery?: number }): GeneratedCorpus {
  const random = seededRandom(options.seed);
  const harmful = Math.round(options.share * options.items);
  const order = Array.from({ length: options.items }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const harmfulIndices = new Set(order.slice(0, harmful));
  const lines: string[] = [];
  for (let i = 0; i < options.items; i += 1) {
    let text = `${CLEAN[i % CLEAN.length]} ${CLEAN[(i * 7 + 3) % CLEAN.length]} #${i}`;
    if (harmfulIndices.has(i)) text += ` ${TEST_KEYWORDS[i % TEST_KEYWORDS.length]![0]}`;
    else if (options.piiEvery !== undefined && i % options.piiEvery === 0) text += ' 联系电话 13800138000';
    lines.push(JSON.stringify({ id: i, text }));
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
  return { items: options.items, harmful, harmfulIndices };
}
