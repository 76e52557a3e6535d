/**
 * What this machine gives two threads at all: the scale-up of work that shares nothing with
 * hegui, run the way the corpus scan runs (worker threads of one Node process, same work
 * split over 1 or 2 threads). Prints one JSON line per kind of work:
 *
 * - `cpu`: a pure integer loop (an LCG and a sum in registers, no memory traffic): the ceiling
 *   set by the scheduler, the hypervisor and the clock when both vCPUs are busy;
 * - `memory`: each thread sums its own 64 MB array a cache line at a time, over and over:
 *   the ceiling for work bound by shared caches and memory bandwidth.
 *
 *   node bench/corpus/ceiling.ts [--seconds N]   (about N seconds of one-thread work per kind, default 10)
 *
 * Each kind runs 1 thread, then 2 threads (each half the work), then 1 and 2 again; the scale-up
 * is the better wall time of one thread over the better of two, timed from a common start once
 * every thread is ready (the memory kind's arrays filled) to the last one done. CPU per thread
 * comes from /proc/thread-self/stat inside each thread; `cpuPerWorkTwoVsOne` is the CPU two
 * threads spend on the same work over what one spends (1.00: no penalty for sharing).
 */
import { Worker } from 'node:worker_threads';
import { usageIfAsked } from '../usage.js';

usageIfAsked(import.meta.url);

const args = process.argv.slice(2);
const secondsAt = args.indexOf('--seconds');
const seconds = secondsAt >= 0 ? Number(args[secondsAt + 1]) : 10;

const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const cpu = () => { try { const s = readFileSync('/proc/thread-self/stat', 'utf8'); const f = s.slice(s.lastIndexOf(')') + 2).split(' '); return (Number(f[11]) + Number(f[12])) / 100; } catch { return 0; } };
const { kind, units, go } = workerData;
let a;
if (kind === 'memory') {
  a = new Int32Array(16 * 1024 * 1024); // 64 MB, far beyond any cache; filled before the clock starts
  for (let i = 0; i < a.length; i += 16) a[i] = i;
}
const flag = new Int32Array(go);
Atomics.add(flag, 1, 1);
Atomics.notify(flag, 1);
Atomics.wait(flag, 0, 0);
const c0 = cpu();
let result = 0;
// One unit of work per call, so the engine optimises the function after a few units (no
// on-stack replacement of one long loop, whose tier can differ from thread to thread).
function cpuUnit(x) {
  let sum = 0;
  for (let i = 0; i < 1e6; i++) { x = (Math.imul(x, 1103515245) + 12345) | 0; sum = (sum + (x >>> 16)) | 0; }
  return (x ^ sum) | 1;
}
function memoryUnit(a, x) {
  let sum = x;
  for (let i = 0; i < a.length; i += 16) sum = (sum + a[i]) | 0;
  return sum;
}
let x = 1;
for (let u = 0; u < units; u++) x = kind === 'cpu' ? cpuUnit(x) : memoryUnit(a, x);
result = x;
parentPort.postMessage({ result, cpu: cpu() - c0, done: performance.timeOrigin + performance.now() });
`;

/** Starts `threads` workers, waits until each is ready (arrays filled), starts them together, and times the work alone. */
async function run(kind: 'cpu' | 'memory', threads: number, units: number): Promise<{ wall: number; cpu: number[] }> {
  const go = new SharedArrayBuffer(8);
  const flag = new Int32Array(go);
  const finished = Array.from({ length: threads }, () => new Promise<{ cpu: number; done: number }>((resolve, reject) => {
    const worker = new Worker(workerSource, { eval: true, workerData: { kind, units: Math.round(units / threads), go } });
    worker.once('message', (m: { cpu: number; done: number }) => {
      resolve(m);
      void worker.terminate();
    });
    worker.once('error', reject);
  }));
  while (Atomics.load(flag, 1) < threads) await new Promise((resolve) => setTimeout(resolve, 5));
  const started = performance.timeOrigin + performance.now();
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
  const done = await Promise.all(finished);
  return { wall: (Math.max(...done.map((d) => d.done)) - started) / 1000, cpu: done.map((d) => Math.round(d.cpu * 100) / 100) };
}

for (const kind of ['cpu', 'memory'] as const) {
  // Calibrate: units of work for about `seconds` on one thread.
  const probeUnits = kind === 'cpu' ? 200 : 20;
  const probe = await run(kind, 1, probeUnits);
  const units = Math.max(2, Math.round((probeUnits * seconds) / Math.max(0.01, probe.cpu[0]!) / 2) * 2);
  const one: { wall: number; cpu: number[] }[] = [];
  const two: { wall: number; cpu: number[] }[] = [];
  for (let r = 0; r < 2; r++) {
    one.push(await run(kind, 1, units));
    two.push(await run(kind, 2, units));
  }
  const best = (list: { wall: number }[]): { wall: number; cpu: number[] } => [...list].sort((a, b) => a.wall - b.wall)[0] as { wall: number; cpu: number[] };
  const [b1, b2] = [best(one), best(two)];
  console.log(JSON.stringify({ kind, units, oneThread: { wall: Math.round(b1.wall * 100) / 100, cpu: b1.cpu }, twoThreads: { wall: Math.round(b2.wall * 100) / 100, cpu: b2.cpu }, scaleUp: Math.round((b1.wall / b2.wall) * 100) / 100, cpuPerWorkTwoVsOne: Math.round((b2.cpu.reduce((a, b) => a + b, 0) / b1.cpu[0]!) * 100) / 100 }));
}
