/**
 * Several writers on one database (gateway replicas on one PostgreSQL; processes on one SQLite
 * file), and a writer killed with SIGKILL mid-append: the chain stays linear and gap-free, and
 * every append that resolved is in it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { Kysely } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { rawDatabase, resetAuditLog } from '../../test/helpers/raw-database.js';
import { createTestDatabase, describeEachStore, dialectsUnderTest, type TestDatabase } from '../../test/helpers/stores.js';
import { openStore, type Database, type Store } from '../store/index.js';
import { AuditLog } from './index.js';

const fixture = new URL('../../test/fixtures/audit-appender.ts', import.meta.url).pathname;

/** An appender child process and the `done TAG I SEQ` lines it printed so far. */
interface Appender {
  child: ChildProcess;
  done: { tag: string; i: number; seq: number }[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

function appender(url: string, count: number, concurrency: number, tag: string): Appender {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, url, String(count), String(concurrency), tag], { stdio: ['ignore', 'pipe', 'pipe'] });
  const done: Appender['done'] = [];
  let partial = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const [word, lineTag, i, seq] = line.split(' ');
      if (word === 'done' && lineTag !== undefined) done.push({ tag: lineTag, i: Number(i), seq: Number(seq) });
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stderr })),
  );
  return { child, done, exited };
}

async function until(condition: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Every event's (tag, i) by sequence number, read through the repository. */
async function eventsBySeq(store: Store): Promise<Map<number, { tag: string; i: number }>> {
  const events = new Map<number, { tag: string; i: number }>();
  for (let after = 0; ; ) {
    const page = await store.audit.scan(after, 1000);
    for (const row of page) events.set(row.seq, JSON.parse(row.payload) as { tag: string; i: number });
    const last = page.at(-1);
    if (!last) return events;
    after = last.seq;
  }
}

describeEachStore('audit with concurrent writers', (getStore, getDatabase) => {
  let db: Kysely<Database>;
  beforeEach(async () => {
    db = rawDatabase(getDatabase());
    await resetAuditLog(db);
  });
  afterEach(async () => db.destroy());

  it('keeps one gap-free chain with two replica processes appending at once', async () => {
    const replicas = [appender(getDatabase().url, 300, 25, 'a'), appender(getDatabase().url, 300, 25, 'b')];
    for (const replica of replicas) expect(await replica.exited).toMatchObject({ code: 0, stderr: '' });
    const report = await new AuditLog(getStore()).verify();
    expect(report).toMatchObject({ ok: true, events: 600, firstSeq: 1, lastSeq: 600 });
    const events = await eventsBySeq(getStore());
    expect([...events.keys()]).toEqual(Array.from({ length: 600 }, (_, i) => i + 1));
    for (const { tag, i, seq } of replicas.flatMap((r) => r.done)) expect(events.get(seq)).toEqual(expect.objectContaining({ tag, i }));
  });

  it('loses no resolved append when the writer is killed with SIGKILL under load', async () => {
    const victim = appender(getDatabase().url, 0, 20, 'k');
    await until(() => victim.done.length >= 400, '400 appends');
    victim.child.kill('SIGKILL');
    expect(await victim.exited).toMatchObject({ signal: 'SIGKILL' });
    const reported = [...victim.done];
    expect(reported.length).toBeGreaterThanOrEqual(400);

    const log = new AuditLog(getStore());
    expect(await log.verify()).toMatchObject({ ok: true, findings: [] });
    const events = await eventsBySeq(getStore());
    for (const { i, seq } of reported) expect(events.get(seq), `append ${i} reported as event ${seq}`).toEqual(expect.objectContaining({ tag: 'k', i }));
    expect([...events.keys()]).toEqual(Array.from({ length: events.size }, (_, i) => i + 1));

    // Restarted, the log continues the chain the killed writer left.
    const after = await log.append({ type: 'gateway.request', actor: 'user:restart' });
    expect(after.seq).toBe(events.size + 1);
    expect((await log.verify()).ok).toBe(true);
  });
});

// better-sqlite3 is synchronous: a second connection in the same process waiting on the file
// lock would block the event loop the first needs to finish its transaction. SQLite replicas
// are processes (the suite above); in-process replicas exist on PostgreSQL only.
describe.runIf(dialectsUnderTest().includes('postgres'))('audit with two Store instances in one process [postgres]', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('postgres');
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('keeps one gap-free chain with two Store instances in one process', async () => {
    const replicas = [await openStore(database.url), await openStore(database.url)];
    try {
      const logs = replicas.map((store) => new AuditLog(store));
      const appended = await Promise.all(
        Array.from({ length: 50 }, async (_, client) => {
          const seqs: number[] = [];
          for (let i = 0; i < 16; i++) seqs.push((await logs[client % 2]?.append({ type: 'gateway.request', actor: `user:c${client}`, payload: { client, i } }))?.seq ?? 0);
          return seqs;
        }),
      );
      expect(appended.flat().sort((x, y) => x - y)).toEqual(Array.from({ length: 800 }, (_, i) => i + 1));
      expect(await logs[0]?.verify()).toMatchObject({ ok: true, events: 800 });
    } finally {
      for (const store of replicas) await store.close();
    }
  });
});
