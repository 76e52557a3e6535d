/**
 * @module bench/desk
 * The reviewer's queue over a large desk (issue 15): 100,000 cases in the store (70% open,
 * spread over two years of due dates, five reviewers), then the queue as the dashboard asks for
 * it: filtered, sorted by due date, one page of 50 (with the total count), through
 * `DeskService.queue`, on SQLite and PostgreSQL. Reports p50/p95/max per query shape.
 * Target: p95 < 50 ms on both stores.
 *
 * Run: `npx tsx bench/desk/index.ts [--cases 100000] [--runs 200]`
 * PostgreSQL: HEGUI_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres);
 * a scratch database is created and dropped (VACUUM ANALYZE after loading, as autovacuum
 * would). SQLite: a scratch file under the OS temp folder (ANALYZE after loading).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { addDays } from '../../src/calendar/index.js';
import { CASE_STATES, DeskService, Outbox } from '../../src/desk/index.js';
import { type DeskCaseRow, openStore, type Store } from '../../src/store/index.js';
import { usageIfAsked } from '../usage.js';

usageIfAsked(import.meta.url);

const { values } = parseArgs({ options: { cases: { type: 'string', default: '100000' }, runs: { type: 'string', default: '200' } } });
const CASES = Number(values.cases);
const RUNS = Number(values.runs);
const POSTGRES = process.env.HEGUI_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A small deterministic generator, so both stores get the same cases. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function load(store: Store): Promise<string[]> {
  const reviewers: string[] = [];
  for (let i = 0; i < 5; i += 1) reviewers.push((await store.operators.create({ name: `bench-reviewer-${i}`, role: 'reviewer' })).id);
  const next = random(15);
  const kinds = ['complaint', 'report', 'pi'] as const;
  const open = CASE_STATES.slice(0, 4);
  const closed = CASE_STATES.slice(4);
  let batch: DeskCaseRow[] = [];
  for (let i = 0; i < CASES; i += 1) {
    const kind = kinds[Math.floor(next() * 3)]!;
    const isOpen = next() < 0.7;
    const state = isOpen ? open[Math.floor(next() * open.length)]! : closed[Math.floor(next() * closed.length)]!;
    const received = addDays('2026-01-01', Math.floor(next() * 700));
    const at = `${received}T02:00:00.000Z`;
    batch.push({
      id: randomUUID(),
      reference: `${kind === 'pi' ? 'PI' : kind === 'report' ? 'R' : 'C'}-2026-${String(i + 1).padStart(6, '0')}`,
      kind,
      category: kind === 'pi' ? 'copy' : 'other',
      state,
      open: isOpen ? 1 : 0,
      subject: null,
      text: 'benchmark case text '.repeat(5),
      contact: `person${i}@example.cn`,
      contact_hash: randomUUID().replaceAll('-', ''),
      contact_verified_at: at,
      account: null,
      language: 'zh',
      status_token_hash: randomUUID(),
      assignee_id: next() < 0.8 ? reviewers[Math.floor(next() * 5)]! : null,
      received_at: at,
      limit_days: 15,
      due_date: addDays(received, 21),
      due_estimated: 0,
      paused_at: state === 'waiting-on-requester' ? at : null,
      paused_remaining: state === 'waiting-on-requester' ? 5 : null,
      escalation: 0,
      resolution: null,
      closed_at: isOpen ? null : at,
      feedback_at: null,
      erased_at: null,
      updated_at: at,
    });
    if (batch.length === 5000) {
      await store.desk.insertCases(batch);
      batch = [];
    }
  }
  await store.desk.insertCases(batch);
  return reviewers;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function measure(desk: DeskService, reviewers: string[]): Promise<{ name: string; p50: number; p95: number; max: number; rows: number }[]> {
  // A deep page: the cursor after 20 pages of the open queue.
  let cursor: string | undefined;
  for (let i = 0; i < 20; i += 1) cursor = (await desk.queue({ limit: 50, ...(cursor ? { cursor } : {}) })).nextCursor ?? undefined;
  const shapes: { name: string; filter: Parameters<DeskService['queue']>[0] }[] = [
    { name: 'open, first page', filter: { limit: 50 } },
    { name: 'state in-progress', filter: { state: 'in-progress', limit: 50 } },
    { name: 'kind pi, open', filter: { kind: 'pi', limit: 50 } },
    { name: 'assignee, open', filter: { assignee: reviewers[2]!, limit: 50 } },
    { name: 'unassigned, open', filter: { assignee: 'none', limit: 50 } },
    { name: 'due by 2026-06-30, open', filter: { dueBy: '2026-06-30', limit: 50 } },
    { name: 'open, page 21 (cursor)', filter: { limit: 50, ...(cursor ? { cursor } : {}) } },
    { name: 'closed', filter: { open: false, limit: 50 } },
  ];
  const results = [];
  for (const shape of shapes) {
    const times: number[] = [];
    let rows = 0;
    for (let i = 0; i < RUNS + 10; i += 1) {
      const start = performance.now();
      const page = await desk.queue(shape.filter);
      const ms = performance.now() - start;
      if (i >= 10) times.push(ms);
      rows = page.cases.length;
    }
    times.sort((a, b) => a - b);
    results.push({ name: shape.name, p50: percentile(times, 50), p95: percentile(times, 95), max: times.at(-1)!, rows });
  }
  return results;
}

async function run(dialect: 'sqlite' | 'postgres'): Promise<void> {
  let url: string;
  let cleanup: () => Promise<void>;
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'hegui-bench-desk-'));
    url = `file:${join(dir, 'desk.db')}`;
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const name = `hegui_bench_desk_${process.pid}`;
    const admin = new pg.Client({ connectionString: POSTGRES });
    await admin.connect();
    await admin.query(`drop database if exists ${name}`);
    await admin.query(`create database ${name}`);
    await admin.end();
    const target = new URL(POSTGRES);
    target.pathname = `/${name}`;
    url = target.toString();
    cleanup = async () => {
      const client = new pg.Client({ connectionString: POSTGRES });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    };
  }
  try {
    const store = await openStore(url);
    const started = performance.now();
    const reviewers = await load(store);
    const loadMs = performance.now() - started;
    // Statistics, as a running database has them (autovacuum on PostgreSQL; `ANALYZE` on SQLite).
    if (dialect === 'sqlite') {
      const file = new SQLite(url.slice('file:'.length));
      file.exec('ANALYZE');
      file.close();
    } else {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query('VACUUM ANALYZE desk_cases');
      await client.end();
    }
    await store.close();
    const reopened = await openStore(url);
    try {
      const desk = new DeskService({ store: reopened, outbox: new Outbox(reopened) });
      const results = await measure(desk, reviewers);
      console.log(`\n${dialect}: ${CASES.toLocaleString('en')} cases loaded in ${(loadMs / 1000).toFixed(1)} s; queue pages of 50 with the total count, ${RUNS} runs each`);
      console.log('| query | rows | p50 ms | p95 ms | max ms |');
      console.log('|---|---|---|---|---|');
      for (const r of results) console.log(`| ${r.name} | ${r.rows} | ${r.p50.toFixed(2)} | ${r.p95.toFixed(2)} | ${r.max.toFixed(2)} |`);
      const worst = Math.max(...results.map((r) => r.p95));
      console.log(`worst p95: ${worst.toFixed(2)} ms (target < 50 ms: ${worst < 50 ? 'met' : 'NOT met'})`);
    } finally {
      await reopened.close();
    }
  } finally {
    await cleanup();
  }
}

await run('sqlite');
await run('postgres');
