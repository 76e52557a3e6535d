/**
 * @module bench/corpus
 * Full-pass corpus scan (issue 17): a generated JSONL corpus (records of about 1 KB of mixed
 * Chinese/English text, a planted keyword every ~2,000 characters, a phone number in one
 * record in 20) against a 10,000-keyword library with personal-data detection, on a pool of 1
 * and of 2 threads, runs alternating, each its own process (scan-child.ts). Reports per thread
 * count the median run's MB/s (and MB/s after start-up), the process's peak resident memory
 * and the CPU time of each thread (main, pool, V8/libuv helpers), and the scale-up.
 *
 *   npx tsx bench/corpus/index.ts [--size MB] [--shard-mb N] [--runs N] [--keep] [--dist] [--no-ceiling]
 *
 * Last, unless `--no-ceiling`, what the machine gives two threads at all (ceiling.ts, about
 * 70 s): a pure integer loop and a memory-bound loop, each on 1 thread and split over 2. On a
 * 2-vCPU VM the scan's scale-up can be no better than these.
 *
 * `--dist` runs the built package (`npm run build` first), as `hegui corpus scan` does when
 * installed: its pool threads load plain JavaScript. Without it the scan runs from the
 * TypeScript source, and each pool thread first registers tsx (with a thread for its module
 * hooks) and loads the modules through it. Either way a pool thread's start-up (a new isolate,
 * the safety engine's module graph, the compiled library from its cache) costs about 0.45 s of
 * CPU on this machine, which weighs on a 100 MB run (~6 s) and not on 5 GB.
 *
 * The figure is `--size 5000` (5 GB). Generation streams (about 10 MB of records in
 * memory, written again with new ids until the size is reached) into .bench-data/corpus/, after
 * checking the disk has room for it; the file is deleted at the end (also after a failure or
 * Ctrl-C) unless `--keep`, and a kept file of the right size is reused. `--runs` defaults to 3
 * up to 1 GB and to 1 above.
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, rmSync, statSync, statfsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { createLibrary, type KeywordLibrary, riskCodes, writeLibraryFile } from '../../src/safety/index.js';
import { numberOption, syntheticKeywords, syntheticText } from '../safety/data.js';
import { usageIfAsked } from '../usage.js';

usageIfAsked(import.meta.url);

const root = join(import.meta.dirname, '..', '..');
const sizeMb = numberOption('size', 100);
const shardMb = numberOption('shard-mb', 8);
const runs = numberOption('runs', sizeMb > 1000 ? 1 : 3);
const keep = process.argv.includes('--keep');
const dist = process.argv.includes('--dist');
const ceiling = !process.argv.includes('--no-ceiling');
if (dist && !existsSync(join(root, 'dist', 'corpus', 'run.js'))) throw new Error('--dist runs the built package: run "npm run build" first');
const dir = join(root, '.bench-data', 'corpus');
await mkdir(dir, { recursive: true });

const keywords = syntheticKeywords(10_000);
const libraryPath = join(dir, 'library-10000.json');
if (!existsSync(libraryPath)) {
  const base = createLibrary('bench-10000', { updatedAt: new Date('2026-12-01T00:00:00Z') });
  const library: KeywordLibrary = { ...base, entries: keywords.map((keyword, i) => ({ keyword, risk: riskCodes[i % riskCodes.length]!, mode: 'literal', severity: 'medium' }) as KeywordLibrary['entries'][number]) };
  await writeLibraryFile(libraryPath, library);
}

const corpusPath = join(dir, `corpus-${sizeMb}mb.jsonl`);
const removeCorpus = (): void => {
  if (!keep) rmSync(corpusPath, { force: true });
};
process.on('SIGINT', () => {
  removeCorpus();
  process.exit(130);
});

async function generate(): Promise<void> {
  const need = sizeMb * 1e6 - (existsSync(corpusPath) ? statSync(corpusPath).size : 0);
  const disk = statfsSync(dir);
  const free = disk.bavail * disk.bsize;
  if (free < need + 1e9) {
    throw new Error(`not enough disk for a ${sizeMb} MB corpus in ${dir}: ${(free / 1e6).toFixed(0)} MB free, ${(need / 1e6).toFixed(0)} MB needed plus 1 GB to spare`);
  }
  process.stderr.write(`generating ${sizeMb} MB of JSONL into ${corpusPath}${keep ? '' : ' (deleted at the end; --keep keeps it)'}...\n`);
  // 8 MB of text cut into records of 340 characters, written again with other ids until the size is reached.
  const text = syntheticText(8_000_000, keywords, 17);
  const records: string[] = [];
  for (let at = 0, n = 0; at < text.length; n += 1) {
    let end = Math.min(text.length, at + 340);
    // Never cut between the two halves of a surrogate pair.
    if (end < text.length && (text.charCodeAt(end) & 0xfc00) === 0xdc00) end += 1;
    records.push(text.slice(at, end).replace(/\n/g, ' ') + (n % 20 === 0 ? ' 联系 13800138000' : ''));
    at = end;
  }
  const out = createWriteStream(corpusPath);
  let written = 0;
  let id = 0;
  while (written < sizeMb * 1e6) {
    for (const record of records) {
      const line = `${JSON.stringify({ id: id++, text: record })}\n`;
      written += Buffer.byteLength(line);
      if (!out.write(line)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      if (written >= sizeMb * 1e6) break;
    }
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

interface Run {
  workers: number;
  seconds: number;
  startup: number;
  bytes: number;
  items: number;
  flagged: number;
  withPii: number;
  problems: number;
  maxRssMb: number;
  cpu: { main: number; probe: number; pool: number[]; helpers: number; process: number };
}

function scan(workers: number, path = corpusPath): Run {
  const child = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'scan-child.ts'), path, libraryPath, String(workers), String(shardMb), dist ? 'dist' : 'src'], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 20 });
  if (child.status !== 0) throw new Error(`scan with ${workers} workers failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').pop()!) as Run;
}

const median = (list: Run[]): Run => [...list].sort((a, b) => a.seconds - b.seconds)[Math.floor((list.length - 1) / 2)]!;
const mbs = (run: Run): number => run.bytes / 1e6 / run.seconds;
/** The rate once the pool is running: bytes after the first progress message are most of them. */
const steady = (run: Run): number => run.bytes / 1e6 / (run.seconds - run.startup);
const s = (x: number): string => `${x.toFixed(2)} s`;

try {
  if (!existsSync(corpusPath) || statSync(corpusPath).size < sizeMb * 1e6) await generate();
  // Warm the compiled-library cache on a tiny file, so neither run pays for compiling the library.
  const tiny = join(dir, 'tiny.jsonl');
  await writeFile(tiny, '{"text":"warm up"}\n');
  scan(1, tiny);
  const loadBefore = loadavg()[0]!;
  const results: Record<number, Run[]> = { 1: [], 2: [] };
  for (let r = 0; r < runs; r += 1) {
    for (const workers of [1, 2]) {
      const run = scan(workers);
      results[workers]!.push(run);
      process.stderr.write(`run ${r + 1}/${runs}, ${workers} thread(s): ${run.seconds.toFixed(1)} s, ${mbs(run).toFixed(1)} MB/s, CPU ${JSON.stringify(run.cpu)}\n`);
    }
  }
  const one = median(results[1]!);
  const two = median(results[2]!);
  console.log(`corpus: ${(one.bytes / 1e6).toFixed(0)} MB, ${one.items} records, 10,000 keywords + personal data; shards of ${shardMb} MB; ${availableParallelism()} cores; load average ${loadBefore.toFixed(1)} before the runs, ${loadavg()[0]!.toFixed(1)} after; median of ${runs} alternating run(s); ${dist ? 'built package (dist/)' : 'TypeScript source'}`);
  console.log('| threads | time | MB/s | start-up | MB/s after start-up | flagged | with personal data | peak RSS of the process |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const run of [one, two]) console.log(`| ${run.workers} | ${run.seconds.toFixed(1)} s | ${mbs(run).toFixed(1)} | ${run.startup.toFixed(1)} s | ${steady(run).toFixed(1)} | ${run.flagged} | ${run.withPii} | ${run.maxRssMb.toFixed(0)} MB |`);
  console.log('');
  console.log('CPU time (user + system) per thread, same runs:');
  console.log('| threads | main thread | pool threads | V8/libuv helper threads | process | main thread share |');
  console.log('|---|---|---|---|---|---|');
  for (const run of [one, two]) console.log(`| ${run.workers} | ${s(run.cpu.main)} | ${run.cpu.pool.map(s).join(' + ')} | ${s(run.cpu.helpers)} | ${s(run.cpu.process)} | ${((100 * run.cpu.main) / run.cpu.process).toFixed(1)} % |`);
  console.log('');
  // Threads share one address space, so resident memory is the process's: with one pool thread
  // it bounds what one worker uses (main thread included); the second thread adds the difference.
  console.log(`memory: peak RSS of the process ${one.maxRssMb.toFixed(0)} MB with 1 pool thread (an upper bound per worker, main thread included), ${two.maxRssMb.toFixed(0)} MB with 2 (${(two.maxRssMb - one.maxRssMb).toFixed(0)} MB more for the second thread); target < 300 MB per worker: ${one.maxRssMb < 300 && two.maxRssMb - one.maxRssMb < 300 ? 'met' : 'NOT met'}`);
  console.log(`scale-up 2 vs 1: ${(mbs(two) / mbs(one)).toFixed(2)}x (target >= 1.8x), after start-up ${(steady(two) / steady(one)).toFixed(2)}x; counts equal: ${one.flagged === two.flagged && one.items === two.items && one.withPii === two.withPii}`);
  if (ceiling) {
    const child = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'ceiling.ts'), '--seconds', '10'], { cwd: root, encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`ceiling.ts failed: ${child.stderr}`);
    console.log('');
    console.log(`What the machine gives two threads at all (bench/corpus/ceiling.ts, same work on 1 thread and split over 2; load average ${loadavg()[0]!.toFixed(1)}):`);
    console.log('| work | 1 thread | 2 threads | scale-up | CPU for the same work, 2 threads vs 1 |');
    console.log('|---|---|---|---|---|');
    for (const line of child.stdout.trim().split('\n')) {
      const r = JSON.parse(line) as { kind: string; oneThread: { wall: number; cpu: number[] }; twoThreads: { wall: number; cpu: number[] }; scaleUp: number; cpuPerWorkTwoVsOne: number };
      const name = r.kind === 'cpu' ? 'pure integer loop' : 'memory-bound loop (64 MB per thread)';
      console.log(`| ${name} | ${r.oneThread.wall.toFixed(2)} s | ${r.twoThreads.wall.toFixed(2)} s | ${r.scaleUp.toFixed(2)}x | ${r.cpuPerWorkTwoVsOne.toFixed(2)} |`);
    }
  }
} finally {
  removeCorpus();
}
