/**
 * Acceptance (issue 13): a flood of requests with bad keys against a real server grows the
 * database by less than 1 MB. Refused unauthenticated requests are counted per client address
 * and window (one `gateway.unauthenticated` event carrying the count), never one row each.
 * On every dialect under test.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AuditLog } from '../src/audit/index.js';
import { parseGatewayConfig } from '../src/gateway/index.js';
import { startServer } from '../src/server/index.js';
import { openStore } from '../src/store/index.js';
import { UpstreamDouble } from './gateway-upstream-double.js';
import { describeEachDatabase, type TestDatabase } from './helpers/stores.js';

/** Bytes the database takes: the SQLite file with its WAL, or PostgreSQL's own count. */
async function databaseBytes(database: TestDatabase): Promise<number> {
  if (database.dialect === 'sqlite') {
    const file = fileURLToPath(new URL(database.url.replace(/^file:/, 'file://')));
    const size = (path: string): number => {
      try {
        return statSync(path).size;
      } catch {
        return 0;
      }
    };
    return size(file) + size(`${file}-wal`);
  }
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    const result = await client.query<{ size: string }>('select pg_database_size(current_database()) as size');
    return Number(result.rows[0]?.size);
  } finally {
    await client.end();
  }
}

const FLOOD = 3000;

describeEachDatabase('gateway under a flood of unauthenticated requests', (getDatabase) => {
  let double: UpstreamDouble;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hegui-flood-'));
    double = await new UpstreamDouble().start();
  });
  afterAll(async () => {
    await double?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts a flood of bad keys in sampled events, growing the database by less than 1 MB', async () => {
    const gateway = parseGatewayConfig({ upstreams: [{ name: 'double', url: `${double.url}/v1` }], labels: { producer: '001191350100M000100Y431A001' } }, 'flood config', dir);
    const server = await startServer({ port: 0, databaseUrl: getDatabase().url, webRoot: join(dir, 'web'), gateway, env: {} });
    const before = await databaseBytes(getDatabase());
    let sent = 0;
    const statuses = new Map<number, number>();
    const worker = async (): Promise<void> => {
      while (sent < FLOOD) {
        const n = sent++;
        const response = await fetch(`${server.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer hg-forged-${n}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'double-chat', messages: [{ role: 'user', content: `flood ${n}` }] }),
        });
        await response.arrayBuffer();
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: 16 }, () => worker()));
    expect(Object.fromEntries(statuses)).toEqual({ 401: FLOOD });
    await server.close();

    expect((await databaseBytes(getDatabase())) - before).toBeLessThan(1024 * 1024);
    const store = await openStore(getDatabase().url);
    try {
      const log = new AuditLog(store);
      expect((await log.list({ type: 'gateway.request', limit: 10 })).events).toEqual([]);
      const sampled = (await log.list({ type: 'gateway.unauthenticated', limit: 100 })).events;
      // One event per address per window: the flood spans one or two windows of one address.
      expect(sampled.length).toBeGreaterThan(0);
      expect(sampled.length).toBeLessThanOrEqual(2);
      expect(sampled.reduce((sum, event) => sum + Number(event.payload.count), 0)).toBe(FLOOD);
      for (const event of sampled) {
        expect(event).toMatchObject({ actor: 'anonymous:unauthenticated', outcome: 'refused', payload: { address: expect.stringMatching(/127\.0\.0\.1|::1/), status: 401, endpoints: { 'chat.completions': expect.any(Number) } } });
      }
      expect((await log.verify()).ok).toBe(true);
    } finally {
      await store.close();
    }
  });
});
