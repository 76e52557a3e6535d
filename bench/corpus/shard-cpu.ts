/**
 * One thread's cost per byte of a full-pass scan, by part, with no pool: the thread that runs
 * this reads the whole file as one shard through the same code a pool thread runs
 * (readShard, addText, the inspector, the counts), and reports its own CPU time (user +
 * system from /proc/thread-self/stat), the CPU time of the rest of the process (V8's helper
 * threads: concurrent GC and compilation), and the garbage collections of the run
 * (perf_hooks 'gc' entries: count and pause time by kind).
 *
 *   node --import tsx bench/corpus/shard-cpu.ts FILE LIBRARY [PART] [--young MB]
 *
 * PART: `read` (reader only), `stats` (reader + text statistics), `keywords` (+ keyword
 * risks), `pii` (reader + personal data), `full` (default: what scanShard does). Prints one
 * JSON line. Under valgrind (`valgrind --tool=callgrind node --import tsx ...`) instruction
 * counts are repeatable where CPU time on a shared machine is not.
 */
import { readFileSync } from 'node:fs';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { inspectorFor } from '../../src/corpus/pool-worker.js';
import { addText, emptyStats } from '../../src/corpus/inspect.js';
import { defaultReadOptions, emptyTally, type Shard, visitShard } from '../../src/corpus/read.js';
import { scanShard } from '../../src/corpus/scan.js';
import { detectPii, scanRisks } from '../../src/safety/index.js';
import type { CompiledLibrary } from '../../src/safety/index.js';

const [file, library, part = 'full'] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const threadCpu = (): number => {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
};

const inspector = await inspectorFor(library, true);
const cache = await import('../../src/safety/library-cache.js');
const compiled: CompiledLibrary = await cache.loadCompiledLibraryFile(library!);
const size = readFileSync(file!).length;
const shard: Shard = { file: file!, format: 'jsonl', compression: 'none', kind: 'whole', start: 0, end: size };

const gc = { count: 0, ms: 0, byKind: {} as Record<string, { count: number; ms: number }> };
const kinds: Record<number, string> = { [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor', [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major', [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental', [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb' };
const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = kinds[((entry as unknown as { detail?: { kind: number } }).detail?.kind ?? -1)] ?? 'other';
    gc.count += 1;
    gc.ms += entry.duration;
    const k = (gc.byKind[kind] ??= { count: 0, ms: 0 });
    k.count += 1;
    k.ms += entry.duration;
  }
});
observer.observe({ entryTypes: ['gc'] });

const cpu0 = threadCpu();
const proc0 = process.cpuUsage();
const t0 = performance.now();
let items = 0;
let flagged = 0;
let withPii = 0;
if (part === 'full') {
  const result = await scanShard(shard, { mode: 'full', sampleSize: 4000, seed: 1, stratify: false, read: defaultReadOptions, keepFlagged: 100 }, inspector);
  items = result.counts!.items;
  flagged = result.counts!.flagged;
  withPii = result.counts!.withPii;
} else {
  const tally = emptyTally(file!);
  const stats = emptyStats();
  await visitShard(shard, defaultReadOptions, tally, (item) => {
    items += 1;
    if (part === 'read') return;
    addText(stats, item.text);
    if (part === 'keywords' && scanRisks(compiled, item.text).length > 0) flagged += 1;
    if (part === 'pii' && detectPii(item.text).length > 0) withPii += 1;
  });
}
const seconds = (performance.now() - t0) / 1000;
const cpu = threadCpu() - cpu0;
const used = process.cpuUsage(proc0);
await new Promise((resolve) => setTimeout(resolve, 50));
observer.disconnect();
const round = (x: number): number => Math.round(x * 1000) / 1000;
const processCpu = (used.user + used.system) / 1e6;
console.log(JSON.stringify({ part, mb: round(size / 1e6), items, flagged, withPii, seconds: round(seconds), thread: round(cpu), others: round(processCpu - cpu), gc: { count: gc.count, ms: round(gc.ms), byKind: gc.byKind } }));
