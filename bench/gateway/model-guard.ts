/**
 * What a guard model adds to a request (issue 13): one client, sequential non-stream chat
 * requests through `hegui serve`'s app against the upstream double, first without guard
 * models, then with a Qwen3Guard played by a second double answering after 0 ms and after
 * `--classifier-ms` ms (default 20), on input and output. Prints p50 / p90 / p99 of the whole
 * request and the added p50 over the run without guard models.
 *
 *   npx tsx bench/gateway/model-guard.ts [--requests 400] [--classifier-ms 20]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiUser } from '../../src/gateway/index.js';
import { parseGatewayConfig } from '../../src/gateway/index.js';
import { startServer } from '../../src/server/index.js';
import { UpstreamDouble } from '../../test/gateway-upstream-double.js';
import { usageIfAsked } from '../usage.js';

usageIfAsked(import.meta.url);

const option = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} needs a number`);
  return value;
};
const requests = option('requests', 400);
const classifierMs = option('classifier-ms', 20);

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;

async function run(label: string, classifierUrl: string | undefined, upstreamUrl: string): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), 'hegui-bench-mg-'));
  const keywords = join(dir, 'k.json');
  writeFileSync(keywords, JSON.stringify({ format: 'hegui-keywords/1', name: 'bench', entries: [{ keyword: '炸弹制作', risk: 'A1.4' }] }));
  const config = parseGatewayConfig({
    upstreams: [{ name: 'double', url: `${upstreamUrl}/v1`, models: ['*'] }],
    safety: { keywords: [keywords], ...(classifierUrl ? { models: { classifiers: [{ kind: 'qwen3guard', baseUrl: `${classifierUrl}/v1` }], budgetMs: 2000 } } : {}) },
    labels: { producer: '001191350100M000100Y431A001' },
  }, 'bench', dir);
  const server = await startServer({ port: 0, databaseUrl: `file:${join(dir, 'hegui.db')}`, webRoot: join(dir, 'web'), gateway: config });
  const { key } = await createApiUser(server.store, { name: 'bench', verified: true });
  const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: '请介绍一下北京的天气。' }] });
  const send = async (): Promise<number> => {
    const started = performance.now();
    const response = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body });
    await response.text();
    if (response.status !== 200) throw new Error(`${label}: HTTP ${response.status}`);
    return performance.now() - started;
  };
  for (let i = 0; i < 50; i++) await send(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < requests; i++) times.push(await send());
  await server.close();
  rmSync(dir, { recursive: true, force: true });
  return times.sort((a, b) => a - b);
}

const upstream = await new UpstreamDouble().start();
upstream.behaviour = () => ({ text: '北京今天晴，气温适中。' });
const guardFast = await new UpstreamDouble().start();
guardFast.behaviour = () => ({ text: 'Safety: Safe\nCategories: None' });
const guardSlow = await new UpstreamDouble().start();
guardSlow.behaviour = () => ({ text: 'Safety: Safe\nCategories: None', headersDelayMs: classifierMs });

const rows: [string, number[]][] = [
  ['no guard models', await run('none', undefined, upstream.url)],
  ['Qwen3Guard double, 0 ms, input + output', await run('fast', guardFast.url, upstream.url)],
  [`Qwen3Guard double, ${classifierMs} ms, input + output`, await run('slow', guardSlow.url, upstream.url)],
];
await Promise.all([upstream.stop(), guardFast.stop(), guardSlow.stop()]);
const base = percentile(rows[0]?.[1] ?? [], 50);
console.log(`\n${requests} sequential chat requests per row, one client\n`);
console.log('| guard models | p50 | p90 | p99 | added p50 |');
console.log('|---|---|---|---|---|');
for (const [label, times] of rows) {
  const p50 = percentile(times, 50);
  console.log(`| ${label} | ${p50.toFixed(2)} ms | ${percentile(times, 90).toFixed(2)} ms | ${percentile(times, 99).toFixed(2)} ms | ${(p50 - base).toFixed(2)} ms |`);
}
