/**
 * Scale-out: two gateway replicas (two `startServer` instances) on one PostgreSQL database,
 * behind the same upstream double, behave as one. A user's rate and its sanctions hold across
 * both; a keyword library saved through one reaches the other without a restart; the audit
 * log stays one verifiable chain with both writing at once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiUser, parseGatewayConfig } from '../src/gateway/index.js';
import { type RunningServer, startServer } from '../src/server/index.js';
import { openStore } from '../src/store/index.js';
import { BLOCK_MESSAGE, KEYWORDS } from './gateway-harness.js';
import { UpstreamDouble } from './gateway-upstream-double.js';
import { createTestDatabase, dialectsUnderTest, type TestDatabase } from './helpers/stores.js';

const library = (extra: string[] = []) => ({
  name: 'live',
  version: String(extra.length + 1),
  updatedAt: '2026-11-28T00:00:00.000Z',
  transforms: {},
  entries: [KEYWORDS.en, ...extra].map((keyword) => ({ keyword, risk: 'A1.6', mode: 'literal', severity: 'high' })),
  allow: [],
});

const onPostgres = dialectsUnderTest().includes('postgres');

describe.runIf(onPostgres)('two gateway replicas on one PostgreSQL', () => {
  let database: TestDatabase;
  let double: UpstreamDouble;
  let dir: string;
  const replicas: RunningServer[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    dir = mkdtempSync(join(tmpdir(), 'hegui-replicas-'));
    double = await new UpstreamDouble().start();
    double.behaviour = () => ({ text: 'ok' });
    const seed = await openStore(database.url);
    await seed.keywordLibraries.save(library());
    await seed.close();
    const config = parseGatewayConfig(
      {
        upstreams: [{ name: 'double', url: `${double.url}/v1` }],
        safety: { libraries: ['live'], reloadSeconds: 0.1, blockMessage: BLOCK_MESSAGE },
        labels: { producer: '001191350100M000100Y431A001' },
        users: { cacheSeconds: 0 },
        limits: { syncMilliseconds: 0, user: { requests: 6, perSeconds: 3600 } },
        abuse: { steps: [{ blocks: 2, withinMinutes: 60, action: 'warn' }, { blocks: 3, withinMinutes: 60, action: 'suspend' }] },
      },
      'replica config',
      dir,
    );
    for (let i = 0; i < 2; i++) replicas.push(await startServer({ port: 0, databaseUrl: database.url, webRoot: join(dir, 'web'), gateway: config, env: {} }));
  });
  afterAll(async () => {
    for (const replica of replicas) await replica.close();
    await double?.stop();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (replica: number, key: string, content: string): Promise<Response> =>
    fetch(`${replicas[replica]?.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'double-chat', messages: [{ role: 'user', content }] }),
    });
  const content = async (response: Response): Promise<string> => ((await response.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content ?? '';
  const store = () => (replicas[0] as RunningServer).store;

  it("holds a user's rate across both replicas", async () => {
    const { key } = await createApiUser(store(), { name: 'rate-user', verified: true });
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await post(i % 2, key, 'hi')).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 429, 429]);
    // Concurrently too: a fresh user, 10 requests at once across both, exactly 6 admitted.
    const { key: burst } = await createApiUser(store(), { name: 'burst-user', verified: true });
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => post(i % 2, burst, 'hi')));
    expect(answers.filter((r) => r.status === 200)).toHaveLength(6);
    expect(answers.filter((r) => r.status === 429)).toHaveLength(4);
  });

  it('suspends on one replica for blocks counted on both', async () => {
    const { key } = await createApiUser(store(), { name: 'abuser', verified: true });
    expect(await content(await post(0, key, `say ${KEYWORDS.en}`))).toBe(BLOCK_MESSAGE);
    expect(await content(await post(1, key, `say ${KEYWORDS.en}`))).toContain('【警告】');
    expect(await content(await post(0, key, `say ${KEYWORDS.en}`))).toContain('【暂停】');
    for (const replica of [0, 1]) expect((await post(replica, key, 'hi')).status, `replica ${replica}`).toBe(403);
    const user = await store().gatewayUsers.findByName('abuser');
    expect((await store().gatewaySanctions.list(user?.id ?? '')).map((s) => s.action)).toEqual(['suspend', 'warn']);
  });

  it('swaps in a keyword library saved through one replica on the other, without a restart', async () => {
    const { key } = await createApiUser(store(), { name: 'reader', verified: true });
    expect((await content(await post(1, key, 'what is newforbidden?'))).includes(BLOCK_MESSAGE)).toBe(false);
    await store().keywordLibraries.save(library(['newforbidden']));
    await expect.poll(async () => content(await post(1, key, 'what is newforbidden?')), { timeout: 5000, interval: 100 }).toBe(BLOCK_MESSAGE);
    expect(await content(await post(0, key, 'what is newforbidden?'))).toContain(BLOCK_MESSAGE);
  });

  it('keeps one verifiable audit chain with both replicas writing at once', async () => {
    const keys = await Promise.all(Array.from({ length: 8 }, async (_, i) => (await createApiUser(store(), { name: `busy-${i}`, verified: true })).key));
    const responses = await Promise.all(Array.from({ length: 40 }, (_, i) => post(i % 2, keys[i % 8] as string, `question ${i}`)));
    expect(responses.map((r) => r.status)).toEqual(Array.from({ length: 40 }, () => 200));
    const report = await (replicas[1] as RunningServer).audit.verify();
    expect(report).toMatchObject({ ok: true, findings: [] });
    const recorded = new Set<unknown>();
    for (let cursor: string | null = null; ; ) {
      const page = await (replicas[0] as RunningServer).audit.list({ type: 'gateway.request', limit: 500, cursor });
      for (const event of page.events) recorded.add(event.payload.requestId);
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    for (const response of responses) expect(recorded.has(response.headers.get('x-request-id'))).toBe(true);
  });
});

if (!onPostgres) {
  describe.skip('two gateway replicas on one PostgreSQL [postgres: not reachable, see the warning above]', () => {
    it('runs on PostgreSQL', () => undefined);
  });
}
