/**
 * @module bench/safety/cache
 * `npx tsx bench/safety/cache.ts [--keywords 100000] [--runs 7]`: how long `hegui scan` takes
 * to get a compiled keyword library from a library file, without and with the compiled-library
 * cache beside it (issue 14: under 50 ms for 100,000 words from the cache). The synthetic
 * library (bench/safety/data.ts, every tenth entry in pinyin mode) is written to a temporary
 * directory; the first load compiles it and writes the cache. The loads from the cache run in
 * a fresh process of their own (this file again, with `--load LIB`), as a command's would:
 * measured in the compiling process they paid for collecting the compile's garbage. That
 * process reports its first load (what a command pays, lazy imports of node:crypto and
 * node:zlib included) and the median of `--runs` more (reading the JSON's bytes to hash them,
 * reading the cache and checking its checksum, restoring the arrays).
 * Prints wall time and CPU time (user + system of the process) in milliseconds.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLibrary, serialiseLibrary } from '../../src/safety/library.js';
import { libraryCachePath, loadCompiledLibraryFile } from '../../src/safety/library-cache.js';
import { numberOption, syntheticKeywords } from './data.js';
import { usageIfAsked } from '../usage.js';

usageIfAsked(import.meta.url);

const count = numberOption('keywords', 100_000);
const runs = numberOption('runs', 7);

interface Timing {
  wall: number;
  cpu: number;
}

const time = async (path: string): Promise<Timing> => {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await loadCompiledLibraryFile(path);
  const wall = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { wall, cpu: (used.user + used.system) / 1000 };
};
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

const loadAt = process.argv.indexOf('--load');
if (loadAt >= 0) {
  // The child: loads from the cache only, in a process that has compiled nothing.
  const path = process.argv[loadAt + 1] as string;
  const first = await time(path);
  const loads: Timing[] = [];
  for (let i = 0; i < runs; i++) loads.push(await time(path));
  process.stdout.write(JSON.stringify({ first, wall: median(loads.map((l) => l.wall)), cpu: median(loads.map((l) => l.cpu)) }));
} else {
  const library = createLibrary('bench-cache', { updatedAt: new Date('2026-01-01T00:00:00Z') });
  library.entries = syntheticKeywords(count).map((keyword, i) => ({ keyword, risk: 'A1.8', mode: i % 10 === 0 ? 'pinyin' : 'literal', severity: 'high' }));
  const dir = await mkdtemp(join(tmpdir(), 'hegui-bench-cache-'));
  const path = join(dir, 'lib.json');
  await writeFile(path, serialiseLibrary(library));
  try {
    const compile = await time(path);
    const child = JSON.parse(execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--load', path, '--runs', String(runs)], { encoding: 'utf8' })) as { first: Timing; wall: number; cpu: number };
    const mb = (n: number): string => (n / 1e6).toFixed(1);
    const ms = (n: number): string => n.toFixed(1);
    console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    console.log(`| library | JSON | cache file | compile and write cache | first load from cache, fresh process (wall / CPU) | load from cache, median of ${runs} (wall / CPU) |`);
    console.log('|---|---|---|---|---|---|');
    console.log(`| ${count.toLocaleString('en-US')} keywords | ${mb((await stat(path)).size)} MB | ${mb((await stat(libraryCachePath(path))).size)} MB | ${Math.round(compile.wall)} ms | ${ms(child.first.wall)} / ${ms(child.first.cpu)} ms | ${ms(child.wall)} / ${ms(child.cpu)} ms |`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
