/**
 * @module bench/audit
 * Audit log appends under load (issue 6): 50 concurrent clients, each appending a gateway-like
 * event and waiting for it to be durable before the next, as the gateway does per request.
 * Reports appends/s, p50/p99/max latency of one append, and the mean events per transaction
 * (group commit), on SQLite and PostgreSQL; then the speed of `verify` over what was written.
 *
 * Scenarios per dialect: group commit (the default); the same with content kept (AES-256-GCM,
 * ~2 KB per event); one event per transaction (`maxBatch: 1`, what group commit saves); one
 * client alone (latency without contention); on SQLite also one client with the WAL checkpointed
 * on a worker thread, as the server opens it (p99 against max: what moving the checkpoint out of
 * the commit buys and costs); on PostgreSQL also two replicas (two stores on one database, 25
 * clients each) sharing the chain.
 *
 * Run: `npx tsx bench/audit/index.ts [--seconds 5] [--clients 50]`
 * PostgreSQL: HEGUI_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres);
 * a scratch database is created and dropped. SQLite: a scratch file under the OS temp folder.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { AuditContentKeyring, AuditLog, type AuditLogOptions } from '../../src/audit/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { usageIfAsked } from '../usage.js';

usageIfAsked(import.meta.url);

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '5' }, clients: { type: 'string', default: '50' } } });
const SECONDS = Number(values.seconds);
const CLIENTS = Number(values.clients);
const WARMUP_MS = 1000;
const keys = AuditContentKeyring.parse(AuditContentKeyring.generateKey());
const CONTENT = { input: '请介绍一下'.repeat(60), output: 'This is a generated answer. '.repeat(50) };

interface Scenario {
  name: string;
  clients: number;
  replicas: number;
  options: AuditLogOptions;
  content: boolean;
  /** SQLite: WAL checkpoints on a worker thread, as `hegui serve` opens the store. */
  checkpointInBackground?: boolean;
}

interface Outcome {
  appends: number;
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
  perTransaction: number;
}

function event(client: number, i: number, content: boolean) {
  const flagged = i % 10 === 0;
  return {
    type: 'gateway.request',
    actor: `user:u${client.toString(36)}x${(i % 97).toString(36)}`,
    outcome: flagged ? 'block' : 'pass',
    risks: flagged ? ['A.1.1'] : [],
    payload: {
      id: randomBytes(8).toString('hex'),
      endpoint: '/v1/chat/completions',
      model: 'deepseek-chat',
      upstream: 'deepseek',
      upstreamStatus: 200,
      status: 200,
      stream: i % 2 === 0,
      latencyMs: 12.345,
      verdicts: { input: flagged ? 'block' : 'allow', output: 'allow' },
      actions: flagged ? ['input-blocked'] : ['labeled'],
      labels: [randomBytes(12).toString('base64url')],
      error: null,
    },
    ...(content ? { content: CONTENT } : {}),
  };
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** Runs `scenario` against fresh stores on `url`: warm-up, then SECONDS of measured appends. */
async function run(url: string, scenario: Scenario): Promise<Outcome> {
  const stores: Store[] = [];
  for (let r = 0; r < scenario.replicas; r++) stores.push(await openStore(url, { poolSize: 10, checkpointInBackground: scenario.checkpointInBackground ?? false }));
  let transactions = 0;
  for (const store of stores) {
    const append = store.audit.append.bind(store.audit);
    store.audit.append = (build) => {
      transactions += 1;
      return append(build);
    };
  }
  const logs = stores.map((store) => new AuditLog(store, scenario.options));
  const latencies: number[] = [];
  let measuring = false;
  let stop = false;
  const client = async (c: number): Promise<void> => {
    const log = logs[c % logs.length] as AuditLog;
    for (let i = 0; !stop; i++) {
      const started = performance.now();
      await log.append(event(c, i, scenario.content));
      if (measuring) latencies.push(performance.now() - started);
    }
  };
  const clients = Array.from({ length: scenario.clients }, (_, c) => client(c));
  await new Promise((resolve) => setTimeout(resolve, WARMUP_MS));
  const before = transactions;
  measuring = true;
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
  measuring = false;
  const elapsed = (performance.now() - started) / 1000;
  const measuredTransactions = transactions - before;
  stop = true;
  await Promise.all(clients);
  for (const store of stores) await store.close();
  const sorted = Float64Array.from(latencies).sort();
  return {
    appends: sorted.length,
    perSecond: sorted.length / elapsed,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
    perTransaction: sorted.length / Math.max(1, measuredTransactions),
  };
}

async function verifySpeed(url: string): Promise<{ events: number; perSecond: number; ok: boolean }> {
  const store = await openStore(url);
  try {
    const started = performance.now();
    const report = await new AuditLog(store).verify();
    return { events: report.events, perSecond: report.events / ((performance.now() - started) / 1000), ok: report.ok };
  } finally {
    await store.close();
  }
}

function scenarios(dialect: 'sqlite' | 'postgres'): Scenario[] {
  const list: Scenario[] = [
    { name: `${CLIENTS} clients, group commit`, clients: CLIENTS, replicas: 1, options: {}, content: false },
    { name: `${CLIENTS} clients, group commit, content kept (~2 KB, AES-256-GCM)`, clients: CLIENTS, replicas: 1, options: { contentPolicy: 'all', contentKeys: keys }, content: true },
    { name: `${CLIENTS} clients, one event per transaction`, clients: CLIENTS, replicas: 1, options: { maxBatch: 1 }, content: false },
    { name: '1 client', clients: 1, replicas: 1, options: {}, content: false },
  ];
  if (dialect === 'sqlite') list.push({ name: '1 client, WAL checkpoints on a worker thread (as `hegui serve`)', clients: 1, replicas: 1, options: {}, content: false, checkpointInBackground: true });
  if (dialect === 'postgres') list.push({ name: `2 replicas x ${CLIENTS / 2} clients, group commit`, clients: CLIENTS, replicas: 2, options: {}, content: false });
  return list;
}

async function withPostgres(work: (url: string) => Promise<void>): Promise<void> {
  const adminUrl = process.env.HEGUI_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `hegui_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  try {
    await admin.connect();
  } catch (error) {
    console.log(`\nPostgreSQL not reachable at ${adminUrl} (${(error as Error).message}); skipped`);
    return;
  }
  await admin.query(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  try {
    await work(url.toString());
  } finally {
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

async function bench(dialect: 'sqlite' | 'postgres', url: string): Promise<void> {
  console.log(`\n### ${dialect}\n`);
  console.log('| scenario | appends/s | p50 ms | p99 ms | max ms | events/transaction |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const scenario of scenarios(dialect)) {
    const r = await run(url, scenario);
    console.log(`| ${scenario.name} | ${Math.round(r.perSecond)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.max.toFixed(1)} | ${r.perTransaction.toFixed(1)} |`);
  }
  const v = await verifySpeed(url);
  console.log(`\nverify: ${v.events} events in the chain, ${Math.round(v.perSecond)} events/s, ${v.ok ? 'OK' : 'FAILED'}`);
  if (!v.ok) process.exitCode = 1;
}

console.log(`audit append benchmark: ${SECONDS} s measured after ${WARMUP_MS / 1000} s warm-up per scenario; Node ${process.version}`);
const dir = mkdtempSync(join(tmpdir(), 'hegui-bench-audit-'));
try {
  await bench('sqlite', `file:${join(dir, 'audit.db')}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
await withPostgres((url) => bench('postgres', url));
