/**
 * @module bench/eval/cpu
 * The runner's own CPU per item (issue 16): the evaluation runner (judging with the refusal
 * rules, the safety engine with the example library and the personal-data detectors; storing
 * each item in SQLite) against a bare request loop with the same transport, both straight to
 * an in-process upstream double, alternating, in one process. CPU time (user + sys of this
 * process, which also serves the upstream's side in both) is robust to a loaded machine where
 * wall-clock ratios are not: runner minus bare loop is what the runner's work costs per item.
 *
 *   npx tsx bench/eval/cpu.ts                       # 2,000 items, 3 runs of each, concurrency 20
 *   npx tsx bench/eval/cpu.ts --items 2000 --runs 5 --concurrency 20 --latency 50
 *   node --cpu-prof --cpu-prof-dir /tmp/prof --import tsx bench/eval/cpu.ts --only runner --runs 1
 *
 * Also the runner against an endpoint in memory (no HTTP: a `fetch` that answers after the
 * same latency), whose CPU per item is the runner's own work alone (reading the answer,
 * judging, storing), without the sockets that the bare loop pays for too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Judges } from '../../src/eval/judge.js';
import { createRun, executeRun, type RunSettings } from '../../src/eval/run.js';
import { nodeTransport } from '../../src/eval/run-transport.js';
import type { BankItem } from '../../src/eval/types.js';
import { SafetyGuard } from '../../src/safety/index.js';
import { loadCompiledExample } from '../../src/safety/library-cache.js';
import { openStore } from '../../src/store/index.js';
import { benchAnswer, startUpstream } from './upstream.js';
import { usageIfAsked } from '../usage.js';

usageIfAsked(import.meta.url);

const { values: flags } = parseArgs({ options: { items: { type: 'string', default: '2000' }, warmup: { type: 'string', default: '500' }, runs: { type: 'string', default: '3' }, concurrency: { type: 'string', default: '20' }, latency: { type: 'string', default: '50' }, only: { type: 'string' } }, strict: true });
const ITEMS = Number(flags.items);
const RUNS = Number(flags.runs);
const concurrency = Number(flags.concurrency);
const latency = Number(flags.latency);

function bank(n: number, tag: string): BankItem[] {
  return Array.from({ length: n }, (_, i) => ({ id: `${tag}-${i}`, prompt: `${tag} 第${i}题：请介绍一下春天的特点。`, risk: 'A1.6', kind: 'generated-content', language: 'zh-CN', source: 'bench' }));
}

const settings = (items: number): RunSettings => ({ concurrency, requestsPerSecond: 0, timeoutMs: 30_000, retries: 2, backoffMs: 200, sample: { 'generated-content': items }, judges: { keywords: 'example' }, bank: { source: 'bench', items } });
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const dir = mkdtempSync(join(tmpdir(), 'hegui-bench-eval-cpu-'));
const upstream = await startUpstream(latency);
const endpoint = `${upstream.url}/v1`;
const store = await openStore(`file:${join(dir, 'runner.db')}`);
try {
  const judges = new Judges({ guard: new SafetyGuard({ library: await loadCompiledExample() }) });
  let tag = 0;
  /** A `fetch` that answers every request after `latency` ms, in memory. */
  const inMemory = ((): typeof fetch => {
    const headers = new Headers({ 'content-type': 'application/json' });
    return (async () => {
      await new Promise((done) => setTimeout(done, latency));
      return { status: 200, headers, text: async () => benchAnswer } as unknown as Response;
    }) as typeof fetch;
  })();
  const runner = async (n: number, memory = false): Promise<{ cpu: number; seconds: number }> => {
    const { run } = await createRun({ store, bank: bank(n, `r${tag++}`), endpoint, model: 'bench-model', seed: 1, settings: settings(n) });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await executeRun({ store, runId: run.id, judges, ...(memory ? { client: { fetch: inMemory } } : {}) });
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const counts = await store.evalRuns.counts(run.id);
    if (counts.done !== n) throw new Error(`runner: ${counts.done} of ${n} done`);
    return { cpu: (cpu.user + cpu.system) / 1000 / n, seconds };
  };
  const bare = async (n: number): Promise<{ cpu: number; seconds: number }> => {
    const prompts = bank(n, `b${tag++}`).map((item) => JSON.stringify({ model: 'bench-model', messages: [{ role: 'user', content: item.prompt }] }));
    const headers = { 'content-type': 'application/json' };
    let next = 0;
    let ok = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < n; i = next++) if ((await nodeTransport(`${endpoint}/chat/completions`, { headers, body: prompts[i]!, signal: AbortSignal.timeout(30_000) })).status === 200) ok += 1;
    }));
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    if (ok !== n) throw new Error(`bare loop: ${ok} of ${n} answered`);
    return { cpu: (cpu.user + cpu.system) / 1000 / n, seconds };
  };
  // Warm-up: JIT, the keep-alive sockets, SQLite pages.
  const warmup = Number(flags.warmup);
  const want = (what: string): boolean => flags.only === undefined || flags.only.split(',').includes(what);
  if (want('runner')) await runner(warmup);
  if (want('bare')) await bare(warmup);
  if (want('memory')) await runner(warmup, true);
  const load = loadavg();
  const r: { cpu: number; seconds: number }[] = [];
  const b: { cpu: number; seconds: number }[] = [];
  const m: { cpu: number; seconds: number }[] = [];
  for (let i = 0; i < RUNS; i++) {
    if (want('runner')) r.push(await runner(ITEMS));
    if (want('bare')) b.push(await bare(ITEMS));
    if (want('memory')) m.push(await runner(ITEMS, true));
  }
  console.log(`eval runner CPU: ${ITEMS} items x ${RUNS} runs, concurrency ${concurrency}, upstream latency ${latency} ms (in process)`);
  console.log(`load average before: ${load.map((l) => l.toFixed(2)).join(' ')}; after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const line = (label: string, xs: { cpu: number; seconds: number }[]): void => {
    if (xs.length) console.log(`${label}: CPU ms/item ${xs.map((x) => x.cpu.toFixed(3)).join(', ')} (median ${median(xs.map((x) => x.cpu)).toFixed(3)}); seconds ${xs.map((x) => x.seconds.toFixed(2)).join(', ')}`);
  };
  line('runner, HTTP to the upstream   ', r);
  line('bare loop, HTTP to the upstream', b);
  line('runner, endpoint in memory     ', m);
  if (r.length && b.length) console.log(`runner - bare loop: ${(median(r.map((x) => x.cpu)) - median(b.map((x) => x.cpu))).toFixed(3)} ms/item`);
} finally {
  await store.close();
  await upstream.close();
  rmSync(dir, { recursive: true, force: true });
}
