/**
 * @module safety/example-library
 * A tiny keyword library for documentation and tests. hegui does not ship a list of
 * prohibited words: a provider builds its own (GB/T 45654 asks for >= 10,000 entries) and
 * imports it with `hegui keywords import`. These entries only show the format: risk codes,
 * match modes, severities, a regex, and allow-list words that stop false positives.
 */
import type { KeywordLibrary } from './library.js';
import { defaultNormaliserOptions } from './options.js';

export const exampleLibrary: Readonly<KeywordLibrary> = Object.freeze({
  name: 'hegui-example',
  version: '1',
  updatedAt: '2025-11-01T00:00:00.000Z',
  transforms: { ...defaultNormaliserOptions },
  entries: [
    { keyword: '赌博网站', risk: 'A1.8', mode: 'pinyin', severity: 'high' },
    { keyword: '代开发票', risk: 'A1.8', mode: 'pinyin', severity: 'medium' },
    { keyword: '制作炸弹', risk: 'A1.4', mode: 'pinyin', severity: 'high' },
    { keyword: '血腥暴力', risk: 'A1.6', mode: 'literal', severity: 'medium' },
    { keyword: 'bomb making', risk: 'A1.4', mode: 'literal', severity: 'high' },
    { keyword: '破解版下载', risk: 'A3.1', mode: 'literal', severity: 'low' },
    { keyword: '人肉搜索', risk: 'A4.5', mode: 'literal', severity: 'medium' },
    { keyword: '(代|办)理?\\d*张?发票', risk: 'A1.8', mode: 'regex', severity: 'low' },
  ],
  allow: ['打击赌博网站', '拒绝代开发票'],
}) as KeywordLibrary;
