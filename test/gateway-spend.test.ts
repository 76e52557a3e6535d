/**
 * Spend budgets of virtual keys (issue 13, as LiteLLM and Portkey keep them) and OpenAI's
 * `x-ratelimit-*-requests` headers. A key's requests are priced from the upstream's usage by
 * the configured price table (whole answers, streams, Responses), in integer micro-units; a key
 * whose spend reached its budget is refused with 429 `E_GATEWAY_SPEND_EXHAUSTED`; a model
 * without a price (or priced in another currency) is refused, never counted free; two
 * replicas on one PostgreSQL share one budget. The request-rate headers count down and reset
 * on a clock the test controls. On SQLite and PostgreSQL, through the real server and the CLI.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addApiKey, createApiUser, parseGatewayConfig } from '../src/gateway/index.js';
import { type RunningServer, startServer } from '../src/server/index.js';
import { type GatewayHarness, readSse, startGateway } from './gateway-harness.js';
import { UpstreamDouble } from './gateway-upstream-double.js';
import { cli } from './helpers/cli.js';
import { createTestDatabase, describeEachDatabase, dialectsUnderTest, type TestDatabase } from './helpers/stores.js';

/** Prices per 1M tokens: 2 and 8 CNY for `priced-*`, fractions for `cheap`, USD for `usd-model`. */
const PRICING = {
  currency: 'CNY',
  models: {
    'priced-*': { input: 2, output: 8 },
    cheap: { input: 0.5, output: 1.5 },
    'usd-model': { input: 1, output: 2, currency: 'USD' },
  },
};

/** 1 CNY in micro-units. */
const CNY = 1_000_000;

type ErrorBody = { error: { code: string; type: string; message: string; param: string | null } };

describeEachDatabase('gateway spend budgets', (getDatabase) => {
  let h: GatewayHarness;
  let userId: string;
  beforeAll(async () => {
    h = await startGateway({ databaseUrl: getDatabase().url, config: { users: { cacheSeconds: 0 }, pricing: PRICING } });
    userId = (await h.server.store.gatewayUsers.findByName('tester'))?.id as string;
  });
  afterAll(async () => h?.close());

  const post = (key: string, path: string, body: Record<string, unknown>): Promise<Response> =>
    fetch(`${h.server.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const chat = (key: string, model: string, stream = false): Promise<Response> => post(key, '/v1/chat/completions', { model, stream, messages: [{ role: 'user', content: 'hi' }] });
  const spent = (prefix: string) => async (): Promise<number> => (await h.server.store.gatewayUsers.listKeys(userId)).find((k) => k.prefix === prefix)?.spendUsed ?? -1;

  it('prices a whole answer exactly from its usage, rounding a fraction of a micro-unit up', async () => {
    const key = await addApiKey(h.server.store, userId, { spend: { budgetMicros: 10 * CNY, currency: 'CNY' } });
    // 1000 input tokens at 2 CNY/1M and 250 output tokens at 8 CNY/1M: 0.002 + 0.002 = 0.004 CNY.
    h.double.behaviour = () => ({ usage: { prompt_tokens: 1000, completion_tokens: 250, total_tokens: 1250 } });
    expect((await (await chat(key.key, 'priced-chat')).json()) as object).toHaveProperty('choices');
    await expect.poll(spent(key.prefix)).toBe(4000);
    // One input token at 0.5 CNY/1M is half a micro-unit: counted as one, never as nothing.
    h.double.behaviour = () => ({ usage: { prompt_tokens: 1, completion_tokens: 0, total_tokens: 1 } });
    await (await chat(key.key, 'cheap')).text();
    await expect.poll(spent(key.prefix)).toBe(4001);
    // Tokens are counted too, for `hegui users keys`.
    expect((await h.server.store.gatewayUsers.listKeys(userId)).find((k) => k.prefix === key.prefix)?.tokensUsed).toBe(1251);
  });

  it('prices a stream from the usage the gateway asks for, without showing it to a client that did not', async () => {
    const key = await addApiKey(h.server.store, userId, { spend: { budgetMicros: 10 * CNY, currency: 'CNY' } });
    h.double.behaviour = () => ({ chunks: ['one ', 'two'], usage: { prompt_tokens: 100, completion_tokens: 30, total_tokens: 130 } });
    const { events, done } = await readSse(await chat(key.key, 'priced-chat', true));
    expect(done).toBe(true);
    expect(h.double.last('/v1/chat/completions')?.body.stream_options).toEqual({ include_usage: true });
    expect(events.every((e) => Array.isArray(e.choices) && (e.choices as unknown[]).length > 0)).toBe(true);
    await expect.poll(spent(key.prefix)).toBe(100 * 2 + 30 * 8);

    // The Responses API names them input and output tokens, whole and streamed.
    h.double.behaviour = () => ({ usage: { input_tokens: 10, output_tokens: 5, total_tokens: 15 } });
    expect((await post(key.key, '/v1/responses', { model: 'priced-r', input: 'hi' })).status).toBe(200);
    await expect.poll(spent(key.prefix)).toBe(440 + 60);
    await readSse(await post(key.key, '/v1/responses', { model: 'priced-r', input: 'hi', stream: true }));
    await expect.poll(spent(key.prefix)).toBe(500 + 60);
  });

  it('refuses a key once its spend reached the budget, with 429 E_GATEWAY_SPEND_EXHAUSTED', async () => {
    // 0.01 CNY; each answer costs 1000 × 2 + 500 × 8 = 6000 micro-units.
    const key = await addApiKey(h.server.store, userId, { spend: { budgetMicros: 10_000, currency: 'CNY' } });
    h.double.behaviour = () => ({ usage: { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500 } });
    expect((await chat(key.key, 'priced-chat')).status).toBe(200);
    await expect.poll(spent(key.prefix)).toBe(6000);
    // 6000 < 10000: still admitted (the last request may pass the budget), now 12000.
    expect((await chat(key.key, 'priced-chat')).status).toBe(200);
    await expect.poll(spent(key.prefix)).toBe(12_000);
    const seen = h.double.seen.length;
    for (const stream of [false, true]) {
      const refused = await chat(key.key, 'priced-chat', stream);
      expect(refused.status).toBe(429);
      const body = (await refused.json()) as ErrorBody;
      expect(body.error).toMatchObject({ code: 'E_GATEWAY_SPEND_EXHAUSTED', type: 'insufficient_quota' });
      expect(body.error.message).toContain('spent 0.012 of its 0.01 CNY');
    }
    expect(h.double.seen.length).toBe(seen);
    const [event] = await h.events();
    expect(event).toMatchObject({ outcome: 'error', payload: { status: 429, error: 'E_GATEWAY_SPEND_EXHAUSTED' } });
  });

  it('refuses what it cannot price for a key with a spend budget: an unknown model, another currency, an endpoint without usage', async () => {
    const key = await addApiKey(h.server.store, userId, { spend: { budgetMicros: CNY, currency: 'CNY' } });
    h.double.behaviour = () => ({});
    const seen = h.double.seen.length;
    const unknown = await chat(key.key, 'unpriced-model');
    expect(unknown.status).toBe(403);
    const body = (await unknown.json()) as ErrorBody;
    expect(body.error).toMatchObject({ code: 'E_GATEWAY_PRICE_UNKNOWN', type: 'permission_error', param: 'model' });
    expect(body.error.message).toMatch(/"unpriced-model" has no price .*pricing\.models/);
    const usd = await chat(key.key, 'usd-model');
    expect(usd.status).toBe(403);
    expect(((await usd.json()) as ErrorBody).error.message).toContain('priced in USD');
    const images = await post(key.key, '/v1/images/generations', { model: 'priced-image', prompt: 'a cat' });
    expect([images.status, ((await images.json()) as ErrorBody).error.code]).toEqual([403, 'E_GATEWAY_PRICE_UNKNOWN']);
    expect(h.double.seen.length).toBe(seen);
    // A key without a spend budget needs no price.
    expect((await chat(h.key, 'unpriced-model')).status).toBe(200);
    // A key with a budget in USD may call the model priced in USD.
    const dollars = await addApiKey(h.server.store, userId, { spend: { budgetMicros: CNY, currency: 'USD' } });
    expect((await chat(dollars.key, 'usd-model')).status).toBe(200);
  });

  it('sets and lists a spend budget from the CLI, and refuses amounts that are not money', async () => {
    const env = { HEGUI_DATABASE_URL: getDatabase().url };
    const added = await cli(['users', 'key-add', 'tester', '--label', 'spender', '--max-spend', '100'], { env });
    expect(added.code).toBe(0);
    const listed = JSON.parse((await cli(['users', 'keys', 'tester', '--json'], { env })).stdout) as { name: string; spend: unknown }[];
    expect(listed.find((k) => k.name === 'spender')?.spend).toEqual({ currency: 'CNY', maxSpend: '100', spent: '0', maxSpendMicros: 100 * CNY, spentMicros: 0 });
    const text = (await cli(['users', 'keys', 'tester'], { env })).stdout;
    expect(text.split('\n').find((line) => line.includes('spender'))).toContain('0/100 CNY spent');
    const dollars = await cli(['users', 'key-add', 'tester', '--label', 'usd', '--max-spend', '0.5', '--currency', 'usd'], { env });
    expect(dollars.code).toBe(0);
    const usd = (JSON.parse((await cli(['users', 'keys', 'tester', '--json'], { env })).stdout) as { name: string; spend: { currency: string; maxSpendMicros: number } }[]).find((k) => k.name === 'usd');
    expect(usd?.spend).toMatchObject({ currency: 'USD', maxSpendMicros: 500_000 });

    const keys = (await h.server.store.gatewayUsers.listKeys(userId)).length;
    for (const amount of ['-5', '--max-spend=-5', 'NaN', 'Infinity', '1e3', '0', '0.0000001', '10000000000', '1,000', ' ', '0x10']) {
      const args = amount.startsWith('--') ? [amount] : ['--max-spend', amount];
      const bad = await cli(['users', 'key-add', 'tester', ...args], { env });
      expect([amount, bad.code, bad.stderr]).toEqual([amount, 2, expect.stringMatching(/--max-spend is an amount of money/)]);
    }
    const badCurrency = await cli(['users', 'key-add', 'tester', '--max-spend', '1', '--currency', 'yuan'], { env });
    expect([badCurrency.code, badCurrency.stderr]).toEqual([2, expect.stringMatching(/--currency is an ISO 4217 code/)]);
    // None of the refused commands added a key.
    expect((await h.server.store.gatewayUsers.listKeys(userId)).length).toBe(keys);
  });

  it('refuses a budget given in code that is not a positive whole number of micro-units', async () => {
    for (const budgetMicros of [-1, 0, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) {
      await expect(addApiKey(h.server.store, userId, { spend: { budgetMicros, currency: 'CNY' } })).rejects.toMatchObject({ code: 'E_GATEWAY_KEY_LIMITS' });
    }
    await expect(addApiKey(h.server.store, userId, { spend: { budgetMicros: 1, currency: 'cny' } })).rejects.toMatchObject({ code: 'E_GATEWAY_KEY_LIMITS' });
  });
});

describe('the price table in the configuration', () => {
  it('refuses negative, non-finite and over-precise prices, bad currencies and bad patterns, naming the field', () => {
    const bad = (pricing: unknown): string => {
      try {
        parseGatewayConfig({ pricing }, 'test config', '.');
        return 'accepted';
      } catch (error) {
        return (error as Error).message;
      }
    };
    expect(bad({ models: { m: { input: -1, output: 1 } } })).toContain('pricing.models.m.input');
    expect(bad({ models: { m: { input: 1, output: 0.0000001 } } })).toContain('at most 6 decimals');
    expect(bad({ models: { m: { input: 1 } } })).toContain('pricing.models.m.output');
    expect(bad({ models: { m: { input: 1, output: 1, currency: 'yuan' } } })).toContain('ISO 4217');
    expect(bad({ currency: 'rmb' })).toContain('pricing.currency');
    expect(bad({ models: { 'a*b': { input: 1, output: 1 } } })).toContain('pricing.models["a*b"]: a model name, prefix* or *');
    expect(bad({ models: { '*': { input: 0, output: 0 }, 'qwen-*': { input: 0.8, output: 2 } } })).toBe('accepted');
  });
});

describeEachDatabase('x-ratelimit request headers', (getDatabase) => {
  let h: GatewayHarness;
  let now = Date.parse('2026-11-28T02:00:00Z');
  beforeAll(async () => {
    h = await startGateway({ databaseUrl: getDatabase().url, now: () => now, config: { limits: { user: { requests: 4, perSeconds: 60 }, key: { requests: 3, perSeconds: 60 } } } });
  });
  afterAll(async () => h?.close());

  const rate = (response: Response): [number, string | null, string | null, string | null] => [
    response.status,
    response.headers.get('x-ratelimit-limit-requests'),
    response.headers.get('x-ratelimit-remaining-requests'),
    response.headers.get('x-ratelimit-reset-requests'),
  ];

  it('count down with each request, stay on a 429, and reset as the bucket refills', async () => {
    now += 10 * 60_000;
    const { key } = await createApiUser(h.server.store, { name: 'headers-one', verified: true });
    const ask = async (stream = false): Promise<Response> => {
      const response = await h.post('/v1/chat/completions', { model: 'm', stream, messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${key}` });
      await response.arrayBuffer();
      return response;
    };
    // The key's 3 per minute is tighter than the user's 4: one request every 20 s refills it.
    expect(rate(await ask())).toEqual([200, '3', '2', '20s']);
    expect(rate(await ask(true))).toEqual([200, '3', '1', '40s']);
    expect(rate(await ask())).toEqual([200, '3', '0', '1m0s']);
    const refused = await ask();
    expect(rate(refused)).toEqual([429, '3', '0', '1m0s']);
    expect(refused.headers.get('retry-after')).toBe('20');
    now += 1500;
    expect(rate(await ask())).toEqual([429, '3', '0', '58.5s']);
    now += 18_500;
    expect(rate(await ask())).toEqual([200, '3', '0', '1m0s']);
    now += 60_000;
    expect(rate(await ask())).toEqual([200, '3', '2', '20s']);
  });

  it("tell the user's rate when it is the tighter one, beside a key's token budget", async () => {
    now += 10 * 60_000;
    const { key, user } = await createApiUser(h.server.store, { name: 'headers-two', verified: true });
    const second = await addApiKey(h.server.store, user.id, { tokenBudget: 100 });
    const ask = (k: string): Promise<Response> => h.post('/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${k}` });
    for (let i = 0; i < 3; i++) await (await ask(key)).text();
    // The user has 1 of 4 left, the new key 3 of 3: the user's rate is what the client meets.
    const response = await ask(second.key);
    expect(rate(response)).toEqual([200, '4', '0', '1m0s']);
    expect([response.headers.get('x-ratelimit-limit-tokens'), response.headers.get('x-ratelimit-remaining-tokens')]).toEqual(['100', '98']);
  });
});

const onPostgres = dialectsUnderTest().includes('postgres');

describe.runIf(onPostgres)('two gateway replicas on one PostgreSQL share a spend budget', () => {
  let database: TestDatabase;
  let double: UpstreamDouble;
  let dir: string;
  const replicas: RunningServer[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    dir = mkdtempSync(join(tmpdir(), 'hegui-spend-replicas-'));
    double = await new UpstreamDouble().start();
    // Each answer costs 1000 × 2 + 500 × 8 = 6000 micro-units.
    double.behaviour = () => ({ text: 'ok', usage: { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500 } });
    const config = parseGatewayConfig(
      { upstreams: [{ name: 'double', url: `${double.url}/v1` }], labels: { producer: '001191350100M000100Y431A001' }, users: { cacheSeconds: 0 }, pricing: PRICING, abuse: { steps: [] } },
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

  it('counts both replicas into one spend and refuses on either once it reached the budget', async () => {
    const store = (replicas[0] as RunningServer).store;
    const { user } = await createApiUser(store, { name: 'spend-user', verified: true });
    const key = await addApiKey(store, user.id, { spend: { budgetMicros: 20_000, currency: 'CNY' } });
    const post = (replica: number, stream = false): Promise<Response> =>
      fetch(`${replicas[replica]?.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'priced-chat', stream, messages: [{ role: 'user', content: 'hi' }] }) });
    const spent = async (): Promise<number> => (await store.gatewayUsers.listKeys(user.id)).find((k) => k.prefix === key.prefix)?.spendUsed ?? -1;
    // Four answers at once, two on each replica: every cost is counted, none lost.
    const answers = await Promise.all([post(0), post(1), post(0, true), post(1, true)]);
    for (const answer of answers) await answer.text();
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    await expect.poll(spent).toBe(24_000);
    // Either replica now refuses: the spend is read from the store the other wrote to.
    for (const replica of [0, 1]) {
      const refused = await post(replica);
      expect([refused.status, ((await refused.json()) as ErrorBody).error.code]).toEqual([429, 'E_GATEWAY_SPEND_EXHAUSTED']);
    }
  });
});
