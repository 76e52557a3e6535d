/**
 * @module bench/safety/compare
 * `npx tsx bench/safety/compare.ts --baseline DIR [--mb 5] [--rounds 7]`: this tree's keyword
 * matcher against the one in DIR (an earlier commit, e.g. `git archive COMMIT | tar -x -C DIR`
 * with node_modules linked), in one process, rounds interleaved, so both see the same load: the
 * build of 100,000 keywords and a line-by-line scan of the benchmark text with the 20,000-keyword
 * library of `index.ts` (every transform on, Chinese entries marked pinyin). Prints the median
 * CPU time of each.
 */
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as current from '../../src/safety/index.js';
import { cached, syntheticKeywords, syntheticText } from './data.js';
import { benchLibrary } from './peers.js';
import { usageIfAsked } from '../usage.js';

usageIfAsked(import.meta.url);

type Engine = Pick<typeof current, 'compileLibrary' | 'scanText'>;

const args = process.argv.slice(2);
const value = (name: string): string | undefined => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : undefined;
};
const baselineDir = value('baseline');
if (baselineDir === undefined) throw new Error('--baseline DIR is required (a checkout of the commit to compare with)');
const megabytes = Number(value('mb') ?? 5);
const rounds = Number(value('rounds') ?? 7);
const root = join(import.meta.dirname, '..', '..');
const baseline = (await import(pathToFileURL(resolve(baselineDir, 'src/safety/index.ts')).href)) as Engine;

const keywords = (await cached(root, 'safety-keywords-20000.txt', () => syntheticKeywords(20_000).join('\n'))).split('\n');
const lines = (await cached(root, `safety-text-${megabytes}mb.txt`, () => syntheticText(megabytes * 1_000_000, keywords))).split('\n');
const hundredThousand = syntheticKeywords(100_000, 100_000);

function cpu(work: () => void): number {
  const start = process.cpuUsage();
  work();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

const engines: [string, Engine][] = [
  ['baseline', baseline],
  ['this tree', current],
];
const times = new Map<string, { build: number[]; scan: number[]; hits: number }>();
for (const [name] of engines) times.set(name, { build: [], scan: [], hits: 0 });
const compiled = new Map(engines.map(([name, engine]) => [name, engine.compileLibrary(benchLibrary(keywords, true))]));
for (let round = 0; round < rounds; round++) {
  for (const [name, engine] of round % 2 === 0 ? engines : [...engines].reverse()) {
    const t = times.get(name) as { build: number[]; scan: number[]; hits: number };
    t.build.push(cpu(() => engine.compileLibrary(benchLibrary(hundredThousand, false))));
    const library = compiled.get(name) as ReturnType<Engine['compileLibrary']>;
    let hits = 0;
    t.scan.push(
      cpu(() => {
        for (const line of lines) hits += engine.scanText(library as never, line).length;
      }),
    );
    t.hits = hits;
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
console.log(`| engine | build 100,000 keywords (CPU, median of ${rounds}) | scan ${megabytes} MB line by line (CPU, median of ${rounds}) | hits |`);
console.log('|---|---|---|---|');
for (const [name, t] of times) console.log(`| ${name} | ${median(t.build).toFixed(0)} ms | ${median(t.scan).toFixed(0)} ms | ${t.hits.toLocaleString('en-US')} |`);
