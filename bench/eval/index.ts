/**
 * @module bench/eval
 * The evaluation runner is never the bottleneck (issue 16): a 2,000-question run through
 * hegui's gateway (`hegui serve` in its own process, keyword guard on input and output, an
 * audit event per request) in front of an upstream that answers every request after 50 ms,
 * must finish within 1.2x of what the concurrency allows: ceil(2000 / concurrency) x 50 ms.
 * The runner stores every request, answer and judgement (refusal rules, the safety engine
 * with the example keyword library and the personal-data detectors) in its own SQLite store
 * as each item completes. Also run straight against the upstream, for comparison.
 *
 *   npx tsx bench/eval/index.ts            # concurrency 20 (BENCH_EVAL_CONCURRENCY to change)
 *   npm run bench -- eval
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Judges } from '../../src/eval/judge.js';
import { createRun, executeRun, type RunSettings } from '../../src/eval/run.js';
import type { BankItem } from '../../src/eval/types.js';
import { nodeTransport } from '../../src/eval/run-transport.js';
import { SafetyGuard } from '../../src/safety/index.js';
import { loadCompiledExample } from '../../src/safety/library-cache.js';
import { openStore } from '../../src/store/index.js';
import { loadavg } from 'node:os';
import { cpuMs, freePort, startProcess, stopProcess } from '../gateway/processes.js';
import { startUpstream } from './upstream.js';
import { usageIfAsked } from '../usage.js';

usageIfAsked(import.meta.url);

const root = fileURLToPath(new URL('../../', import.meta.url));
const ITEMS = 2000;
const LATENCY_MS = 50;
const concurrency = Number(process.env.BENCH_EVAL_CONCURRENCY ?? 20);
const tsx = (script: string): string[] => ['--import', 'tsx', join(root, script)];

function bank(n: number, tag: string): BankItem[] {
  return Array.from({ length: n }, (_, i) => ({ id: `${tag}-${i}`, prompt: `${tag} 第${i}题：请介绍一下春天的特点。`, risk: 'A1.6', kind: 'generated-content', language: 'zh-CN', source: 'bench' }));
}

const settings = (items: number): RunSettings => ({ concurrency, requestsPerSecond: 0, timeoutMs: 30_000, retries: 2, backoffMs: 200, sample: { 'generated-content': items }, judges: { keywords: 'example' }, bank: { source: 'bench', items } });

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hegui-bench-eval-'));
  const upstream = await startUpstream(LATENCY_MS);
  const started = [];
  try {
    const library = join(dir, 'keywords.json');
    writeFileSync(library, JSON.stringify({ format: 'hegui-keywords/1', name: 'bench', entries: [{ keyword: '炸弹制作', risk: 'A1.4' }, { keyword: 'forbiddenword', risk: 'A1.6' }] }));
    const config = join(dir, 'hegui.config.yaml');
    writeFileSync(config, ['upstreams:', `  - { name: bench, url: "${upstream.url}/v1", models: ["*"] }`, 'safety:', `  keywords: [${JSON.stringify(library)}]`, 'labels:', '  producer: "001191350100M000100Y431A001"', ''].join('\n'));
    const serverDb = `file:${join(dir, 'server.db')}`;
    const added = spawnSync(process.execPath, [...tsx('src/cli/main.ts'), 'users', 'add', 'bench', '--verified'], { env: { ...process.env, HEGUI_DATABASE_URL: serverDb }, encoding: 'utf8' });
    const key = added.stdout.trim().split('\n').at(-1) ?? '';
    if (added.status !== 0 || !key.startsWith('hg-')) throw new Error(`hegui users add failed: ${added.stderr}`);
    const port = await freePort();
    const server = await startProcess(process.execPath, [...tsx('src/cli/main.ts'), 'serve', '--config', config, '--port', String(port), '--database', serverDb], /hegui listening on (http:\/\/\S+)/);
    started.push(server);
    const gateway = `${server.match[1]}/v1`;

    const store = await openStore(`file:${join(dir, 'runner.db')}`);
    const judges = new Judges({ guard: new SafetyGuard({ library: await loadCompiledExample() }) });
    const serverPid = server.child.pid as number;
    const measure = async (label: string, endpoint: string, n: number, apiKey?: string) => {
      upstream.reset();
      const { run } = await createRun({ store, bank: bank(n, label), endpoint, model: 'bench-model', seed: 1, settings: settings(n) });
      const cpu0 = process.cpuUsage();
      const server0 = await cpuMs(serverPid);
      const t0 = performance.now();
      const result = await executeRun({ store, runId: run.id, judges, ...(apiKey ? { apiKey } : {}) });
      const seconds = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const serverCpu = (await cpuMs(serverPid)) - server0;
      const counts = await store.evalRuns.counts(run.id);
      const ideal = (Math.ceil(n / concurrency) * LATENCY_MS) / 1000;
      // The bench process runs the runner and the upstream; the upstream's share is small (a timer and a write per request).
      const runnerCpuMs = (cpu.user + cpu.system) / 1000 / n;
      return { label, items: n, done: counts.done, errors: counts.error, finished: result.finished, seconds, ideal, ratio: seconds / ideal, perSecond: n / seconds, maxInFlight: upstream.maxInFlight(), runnerCpuMs, serverCpuMs: endpoint === gateway ? serverCpu / n : 0 };
    };
    // Warm the server (JIT, connection pools, SQLite pages) as a running service would be.
    await measure('warm-up', gateway, 200, key);
    const load = loadavg();
    /**
     * The floor on this machine: the same requests from a bare loop of `concurrency` workers
     * (same transport, no store, no judges, no sample). Its time against the runner's, taken
     * minutes apart on the same machine, cancels most of what the machine's load adds.
     */
    const bare = async (label: string, endpoint: string, n: number, apiKey?: string) => {
      upstream.reset();
      // The runner's prompts, one per request (a gateway may cache the scan of a text it has seen).
      const prompts = bank(n, label).map((item) => JSON.stringify({ model: 'bench-model', messages: [{ role: 'user', content: item.prompt }] }));
      const headers = { 'content-type': 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) };
      let next = 0;
      let ok = 0;
      const cpu0 = process.cpuUsage();
      const server0 = await cpuMs(serverPid);
      const t0 = performance.now();
      await Promise.all(Array.from({ length: concurrency }, async () => {
        for (let i = next++; i < n; i = next++) if ((await nodeTransport(`${endpoint}/chat/completions`, { headers, body: prompts[i]!, signal: AbortSignal.timeout(30_000) })).status === 200) ok += 1;
      }));
      const seconds = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const serverCpu = (await cpuMs(serverPid)) - server0;
      const ideal = (Math.ceil(n / concurrency) * LATENCY_MS) / 1000;
      return { label, items: n, done: ok, errors: n - ok, finished: true, seconds, ideal, ratio: seconds / ideal, perSecond: n / seconds, maxInFlight: upstream.maxInFlight(), runnerCpuMs: (cpu.user + cpu.system) / 1000 / n, serverCpuMs: endpoint === gateway ? serverCpu / n : 0 };
    };
    const rows = [
      await measure('runner through hegui serve', gateway, ITEMS, key),
      await bare('bare loop through hegui serve', gateway, ITEMS, key),
      await measure('runner straight to the upstream', `${upstream.url}/v1`, ITEMS),
      await bare('bare loop straight to the upstream', `${upstream.url}/v1`, ITEMS),
    ];
    await store.close();
    console.log(`eval runner: ${ITEMS} questions, concurrency ${concurrency}, upstream latency ${LATENCY_MS} ms; allowed time ceil(${ITEMS}/${concurrency}) x ${LATENCY_MS} ms = ${rows[0]!.ideal.toFixed(2)} s, target <= 1.2x`);
    console.log(`load average before: ${load.map((l) => l.toFixed(2)).join(' ')}; after: ${loadavg().map((l) => l.toFixed(2)).join(' ')} (2 cores)`);
    console.log('| path | items | done | errors | seconds | allowed s | ratio | items/s | max in flight at upstream | client + upstream CPU ms/item | gateway CPU ms/item |');
    console.log('|---|---|---|---|---|---|---|---|---|---|---|');
    for (const r of rows) console.log(`| ${r.label} | ${r.items} | ${r.done} | ${r.errors} | ${r.seconds.toFixed(2)} | ${r.ideal.toFixed(2)} | ${r.ratio.toFixed(3)} | ${r.perSecond.toFixed(0)} | ${r.maxInFlight} | ${r.runnerCpuMs.toFixed(3)} | ${r.serverCpuMs ? r.serverCpuMs.toFixed(3) : '—'} |`);
    console.log(`runner / bare loop: through hegui ${(rows[0]!.seconds / rows[1]!.seconds).toFixed(3)}, straight ${(rows[2]!.seconds / rows[3]!.seconds).toFixed(3)}`);
    const gatewayRow = rows[0]!;
    if (gatewayRow.done !== ITEMS || gatewayRow.ratio > 1.2) {
      console.error(`target missed: ${gatewayRow.done}/${ITEMS} done, ratio ${gatewayRow.ratio.toFixed(3)} (> 1.2 or errors)`);
      process.exitCode = 1;
    }
  } finally {
    for (const s of started) await stopProcess(s.child);
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
