/**
 * Virtual keys (issue 13): an API key may expire, may be limited to some models, and may carry
 * a token budget counted from the upstream's usage (streams included, without showing the
 * client a usage chunk it did not ask for), with OpenAI's x-ratelimit-*-tokens headers; a key
 * is revoked by its prefix. On SQLite and PostgreSQL, through the real server and the CLI.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { addApiKey } from '../src/gateway/index.js';
import { type GatewayHarness, readSse, startGateway } from './gateway-harness.js';
import { cli } from './helpers/cli.js';
import { describeEachDatabase } from './helpers/stores.js';

describeEachDatabase('gateway virtual keys', (getDatabase) => {
  let h: GatewayHarness;
  let userId: string;
  beforeAll(async () => {
    h = await startGateway({ databaseUrl: getDatabase().url, config: { users: { cacheSeconds: 0 } } });
    userId = (await h.server.store.gatewayUsers.findByName('tester'))?.id as string;
  });
  afterAll(async () => h?.close());

  const chat = (key: string, model: string, stream = false): Promise<Response> =>
    fetch(`${h.server.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'hi' }] }) });

  it('refuses an expired key with 401, and a model outside the allow-list with 403', async () => {
    const expired = await addApiKey(h.server.store, userId, { expiresAt: new Date(Date.now() - 1000).toISOString() });
    const response = await chat(expired.key, 'm');
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/expired at/);

    const limited = await addApiKey(h.server.store, userId, { models: ['qwen-*', 'deepseek-chat'] });
    expect((await chat(limited.key, 'qwen-max')).status).toBe(200);
    expect((await chat(limited.key, 'deepseek-chat')).status).toBe(200);
    const refused = await chat(limited.key, 'gpt-4o');
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string; type: string; param: string } }).error).toMatchObject({ code: 'E_GATEWAY_MODEL_NOT_ALLOWED', type: 'permission_error', param: 'model' });
  });

  it('counts tokens against a budget, streams included, and refuses once it is spent', async () => {
    // The double reports usage: 2 tokens for a whole answer; for a stream, 3 + one per chunk.
    h.double.behaviour = () => ({ chunks: ['one ', 'two ', 'three'] });
    const budgeted = await addApiKey(h.server.store, userId, { tokenBudget: 11 });
    const first = await chat(budgeted.key, 'm');
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-limit-tokens')).toBe('11');
    expect(first.headers.get('x-ratelimit-remaining-tokens')).toBe('9'); // after this answer's 2 tokens
    await first.text();
    const used = async (): Promise<number> => (await h.server.store.gatewayUsers.listKeys(userId)).find((k) => k.prefix === budgeted.prefix)?.tokensUsed ?? -1;
    await expect.poll(used).toBe(2);

    const stream = await chat(budgeted.key, 'm', true);
    const { events, done } = await readSse(stream);
    expect(done).toBe(true);
    // The client did not ask for usage, so no usage-only chunk reached it...
    expect(events.every((e) => Array.isArray(e.choices) && (e.choices as unknown[]).length > 0)).toBe(true);
    // ...but the upstream was asked for it, and the tokens were counted.
    expect(h.double.last('/v1/chat/completions')?.body.stream_options).toEqual({ include_usage: true });
    await expect.poll(used).toBe(8);

    await (await chat(budgeted.key, 'm')).text();
    await expect.poll(used).toBe(10);
    await (await chat(budgeted.key, 'm')).text(); // 10 < 11: still admitted, now 12
    await expect.poll(used).toBe(12);
    const spent = await chat(budgeted.key, 'm');
    expect(spent.status).toBe(429);
    expect(((await spent.json()) as { error: { code: string; type: string } }).error).toMatchObject({ code: 'E_GATEWAY_BUDGET_EXHAUSTED', type: 'insufficient_quota' });
  });

  it('adds, lists and revokes keys from the CLI', async () => {
    const env = { HEGUI_DATABASE_URL: getDatabase().url };
    const added = await cli(['users', 'key-add', 'tester', '--label', 'batch job', '--expires', '30d', '--models', 'qwen-*', '--token-budget', '1000'], { env });
    expect(added.code).toBe(0);
    const key = added.stdout.trimEnd().split('\n').at(-1) as string;
    expect(key).toMatch(/^hg-/);
    const listed = JSON.parse((await cli(['users', 'keys', 'tester', '--json'], { env })).stdout) as { prefix: string; name: string; state: string; models: string[]; tokenBudget: number }[];
    const mine = listed.find((k) => k.name === 'batch job');
    expect(mine).toMatchObject({ state: 'active', models: ['qwen-*'], tokenBudget: 1000 });
    expect((await chat(key, 'qwen-plus')).status).toBe(200);
    expect((await cli(['users', 'key-revoke', 'tester', mine?.prefix as string], { env })).code).toBe(0);
    expect((await chat(key, 'qwen-plus')).status).toBe(401);
    const again = await cli(['users', 'key-revoke', 'tester', mine?.prefix as string], { env });
    expect([again.code, again.stderr]).toEqual([2, expect.stringMatching(/no active key with the prefix/)]);
    const bad = await cli(['users', 'key-add', 'tester', '--expires', '2001-01-01'], { env });
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringMatching(/has already passed/)]);
  });
});
