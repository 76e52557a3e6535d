/**
 * One full-pass scan with a pool of N threads, as its own process, so its peak resident memory
 * is its own, from the TypeScript source or (5th argument `dist`) the built package. Prints one JSON line: {"workers", "seconds", "startup", "bytes", "items",
 * "flagged", "withPii", "problems", "maxRssMb", "cpu"}.
 *
 * - `startup`: seconds until the first progress message of a pool thread (planning, the pool's
 *   threads loading their modules and the keyword library, the first 256 items).
 * - `cpu`: CPU time (user + system, seconds) per thread, read from /proc/self/task/<tid>/stat
 *   by a probe thread every 250 ms and once more when the last shard is done, before the pool
 *   is torn down (Linux only; zeros elsewhere). `main` is the main thread (tid = pid); `probe`
 *   the probe's own thread (left out of the rest); `pool` the threads that appeared after the scan started,
 *   largest first (the pool's threads; run from the TypeScript source, each also has a thread of
 *   tsx's module hooks); `helpers` the threads that existed before (V8's platform threads for
 *   GC and compilation, libuv's); `process` the whole process by process.cpuUsage().
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type * as Read from '../../src/corpus/read.js';
import type * as Run from '../../src/corpus/run.js';

const [corpus, library, workersText, shardMbText, from = 'src'] = process.argv.slice(2);
// `dist`: the built package (npm run build), whose pool threads load plain JavaScript; `src`: the
// TypeScript source, whose pool threads each register tsx first (see corpus/pool-worker-source.mjs).
const modules = join(import.meta.dirname, '..', '..', from === 'dist' ? 'dist' : 'src', 'corpus');
const { runLocalScan } = (await import(join(modules, from === 'dist' ? 'run.js' : 'run.ts'))) as typeof Run;
const { defaultReadOptions } = (await import(join(modules, from === 'dist' ? 'read.js' : 'read.ts'))) as typeof Read;
const workers = Number(workersText);

// The probe: a thread of its own that reads every thread's CPU time from /proc every 250 ms, and
// at once when told (flag 1; flag 2: for the last time, then it reports and ends). Polling in the
// main thread would add to the very figure this measures.
const probeSource = `
const { parentPort, workerData } = require('node:worker_threads');
const { readdirSync, readFileSync } = require('node:fs');
const flag = new Int32Array(workerData);
const tick = 100; // clock ticks per second on Linux (getconf CLK_TCK)
const seen = new Map();
function sample() {
  let tids = [];
  try { tids = readdirSync('/proc/self/task'); } catch { return; }
  for (const tid of tids) {
    try {
      const stat = readFileSync('/proc/self/task/' + tid + '/stat', 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime and stime (fields 14 and 15 of stat) are the 12th and 13th after the command name.
      const cpu = (Number(fields[11]) + Number(fields[12])) / tick;
      seen.set(Number(tid), Math.max(cpu, seen.get(Number(tid)) ?? 0));
    } catch {}
  }
}
let self = -1;
try { self = Number(readFileSync('/proc/thread-self/stat', 'utf8').split(' ')[0]); } catch {}
sample();
parentPort.postMessage({ self, before: [...seen] });
for (;;) {
  Atomics.wait(flag, 0, 0, 250);
  sample();
  const asked = Atomics.exchange(flag, 0, 0);
  if (asked === 0) continue;
  Atomics.add(flag, 1, 1);
  Atomics.notify(flag, 1);
  if (asked === 2) break;
}
parentPort.postMessage({ self, seen: [...seen] });
`;
const flag = new Int32Array(new SharedArrayBuffer(8));
const probe = new Worker(probeSource, { eval: true, workerData: flag.buffer });
interface ProbeReport {
  self: number;
  before?: [number, number][];
  seen?: [number, number][];
}
const next = (): Promise<ProbeReport> => new Promise((resolve) => probe.once('message', resolve));
const ready = await next();
/** Makes the probe sample now, and waits until it has. */
const sampleNow = (last: boolean): void => {
  const done = Atomics.load(flag, 1);
  Atomics.store(flag, 0, last ? 2 : 1);
  Atomics.notify(flag, 0);
  Atomics.wait(flag, 1, done, 5000);
};
const cpuStart = process.cpuUsage();
const started = performance.now();
let startup: number | undefined;
const finalReport = next();
const { report } = await runLocalScan({
  paths: [corpus!],
  settings: { mode: 'full', sampleSize: 4000, seed: 1, stratify: false, read: defaultReadOptions, keepFlagged: 100 },
  library,
  pii: true,
  workers,
  shardBytes: Number(shardMbText) * 1024 * 1024,
  onProgress: (p) => {
    startup ??= (performance.now() - started) / 1000;
    // The pool's threads end when the scan returns: read them once more while they are there.
    if (p.shardsDone === p.shards) sampleNow(false);
  },
});
const seconds = (performance.now() - started) / 1000;
sampleNow(true);
const cpuUsed = process.cpuUsage(cpuStart);
const { seen: seenList = [] } = await finalReport;
await probe.terminate();
const before = new Map(ready.before ?? []);
const seen = new Map(seenList);
const bytes = report.files.reduce((a, f) => a + f.bytes, 0);
// maxRSS is the peak of the whole process: the main thread plus the pool's threads.
const maxRssMb = process.resourceUsage().maxRSS / 1024;
const since = (tid: number): number => (seen.get(tid) ?? 0) - (before.get(tid) ?? 0);
const round = (x: number): number => Math.round(x * 100) / 100;
const probeCpu = since(ready.self);
const pool = [...seen.keys()].filter((tid) => !before.has(tid)).map(since).sort((a, b) => b - a);
const helpers = [...before.keys()].filter((tid) => tid !== process.pid && tid !== ready.self).reduce((a, tid) => a + since(tid), 0);
const cpu = { main: round(since(process.pid)), probe: round(probeCpu), pool: pool.filter((x) => x >= 0.01).map(round), helpers: round(helpers), process: round((cpuUsed.user + cpuUsed.system) / 1e6 - probeCpu) };
console.log(JSON.stringify({ workers, seconds, startup: startup ?? seconds, bytes, items: report.sampled, flagged: report.flagged, withPii: report.pii.successes, problems: report.problems, maxRssMb, cpu }));
