/**
 * @module bench/safety/cache
 * `npx tsx bench/safety/cache.ts [--keywords 100000] [--runs 7]`: how long `hegui scan` takes
 * to get a compiled keyword library from a library file, without and with the compiled-library
 * cache beside it (issue 14: under 50 ms for 100,000 words from the cache). The synthetic
 * library (bench/safety/data.ts, every tenth entry in pinyin mode) is written to a temporary
 * directory; the first load compiles it and writes the cache, the next ones read the cache
 * (reading the JSON's bytes to hash them, checking the cache's checksum, restoring the arrays).
 * Prints the median wall time and CPU time (user + system of the process) in milliseconds.
 */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLibrary, serialiseLibrary } from '../../src/safety/library.js';
import { libraryCachePath, loadCompiledLibraryFile } from '../../src/safety/library-cache.js';
import { numberOption, syntheticKeywords } from './data.js';

const count = numberOption('keywords', 100_000);
const runs = numberOption('runs', 7);

const library = createLibrary('bench-cache', { updatedAt: new Date('2026-01-01T00:00:00Z') });
library.entries = syntheticKeywords(count).map((keyword, i) => ({ keyword, risk: 'A1.8', mode: i % 10 === 0 ? 'pinyin' : 'literal', severity: 'high' }));
const dir = await mkdtemp(join(tmpdir(), 'hegui-bench-cache-'));
const path = join(dir, 'lib.json');
await writeFile(path, serialiseLibrary(library));

const cpuTimes: number[] = [];
const time = async (): Promise<number> => {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await loadCompiledLibraryFile(path);
  const wall = performance.now() - start;
  const used = process.cpuUsage(cpu);
  cpuTimes.push((used.user + used.system) / 1000);
  return wall;
};
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

try {
  const compile = await time();
  const loads: number[] = [];
  cpuTimes.length = 0;
  for (let i = 0; i < runs; i++) loads.push(await time());
  const mb = (n: number): string => (n / 1e6).toFixed(1);
  console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`| library | JSON | cache file | compile and write cache | load from cache (median of ${runs}, wall) | load from cache (CPU, main thread and pool) |`);
  console.log('|---|---|---|---|---|---|');
  console.log(`| ${count.toLocaleString('en-US')} keywords | ${mb((await stat(path)).size)} MB | ${mb((await stat(libraryCachePath(path))).size)} MB | ${Math.round(compile)} ms | ${median(loads).toFixed(1)} ms | ${median(cpuTimes).toFixed(1)} ms |`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
