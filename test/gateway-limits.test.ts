/**
 * Limits on users, on a clock the tests control: request rates per user and per API key (429
 * with Retry-After); minors' mode (AI Measures Art. 10; Minors Regulations Art. 43) with a
 * daily allowance of requests and minutes (Beijing days) and a reminder after continuous use,
 * in whole answers and in streams; and sanctions for repeated illegal content (AI Measures
 * Art. 14): warned in the answer, limited (429), suspended (403), each recorded in the user's
 * record and as a `user.sanction` audit event, listed and lifted with `hegui users`.
 */
import { connect } from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApiUser, newApiKey } from '../src/gateway/index.js';
import { BLOCK_MESSAGE, chatText, type GatewayHarness, KEYWORDS, readSse, startGateway } from './gateway-harness.js';
import { cli } from './helpers/cli.js';
import { postStream, residentBytes, streamedBody } from './helpers/http.js';
import { describeEachDatabase } from './helpers/stores.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** 2026-11-28 10:00 in Beijing. */
const START = Date.parse('2026-11-28T02:00:00Z');
const NOTICE = '本内容由人工智能生成';

const chat = (content: string, stream = false): Record<string, unknown> => ({ model: 'double-chat', messages: [{ role: 'user', content }], stream });

describeEachDatabase('request rates', (getDatabase) => {
  let h: GatewayHarness;
  let now = START;
  beforeAll(async () => {
    h = await startGateway({ databaseUrl: getDatabase().url, now: () => now, config: { limits: { user: { requests: 4, perSeconds: 60 }, key: { requests: 3, perSeconds: 60 } }, abuse: { steps: [] } } });
  });
  afterAll(async () => h?.close());

  // Each test has its own users, and the clock only moves forward, so the tests run in any order.
  it('answers 429 with Retry-After once a key has used its rate, and lets it go on once the bucket refilled', async () => {
    now += 10 * MINUTE;
    const { key } = await createApiUser(h.server.store, { name: 'rate-one', verified: true });
    const post = () => h.post('/v1/chat/completions', chat('hi'), { authorization: `Bearer ${key}` });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await post()).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const refused = await post();
    expect(refused.headers.get('retry-after')).toBe('20');
    expect(refused.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(refused.headers.get('x-content-type-options')).toBe('nosniff');
    // No page headers on the API: they only cost time there.
    expect(refused.headers.get('content-security-policy')).toBeNull();
    expect(await refused.json()).toMatchObject({ error: { code: 'E_GATEWAY_RATE_LIMITED', type: 'rate_limit_error', message: expect.stringContaining('this API key may send 3 per 60 s') } });
    const [event] = await h.events();
    expect(event).toMatchObject({ outcome: 'error', payload: { status: 429, error: 'E_GATEWAY_RATE_LIMITED' } });
    now += 2 * MINUTE;
    expect((await post()).status).toBe(200);
  });

  it('limits a user across its keys, as the official client sees it', async () => {
    now += 10 * MINUTE;
    const { key: first, user } = await createApiUser(h.server.store, { name: 'rate-two', verified: true });
    const second = newApiKey();
    await h.server.store.gatewayUsers.addKey({ userId: user.id, keyHash: second.hash, prefix: second.prefix });
    const ask = (key: string) => new OpenAI({ apiKey: key, baseURL: `${h.server.url}/v1`, maxRetries: 0 }).chat.completions.create({ model: 'double-chat', messages: [{ role: 'user', content: 'hi' }] });
    // Each key has room for 3, but the two share the user's 4.
    for (const key of [first, first, second.key, second.key]) await ask(key);
    await expect(ask(second.key)).rejects.toMatchObject({ status: 429, code: 'E_GATEWAY_RATE_LIMITED', message: expect.stringContaining('this user may send 4 per 60 s') });
    await expect(ask(second.key)).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    // Another user has its own.
    const { key: other } = await createApiUser(h.server.store, { name: 'other', verified: true });
    for (let i = 0; i < 3; i++) await ask(other);
  });
});

describeEachDatabase("minors' mode", (getDatabase) => {
  let h: GatewayHarness;
  let now = START;
  /** Each test plays one Beijing day of its own minor, later than any before (the clock never goes back). */
  let day = 0;
  const newDay = async (name: string): Promise<{ start: number; ask: (content: string, stream?: boolean) => Promise<Response> }> => {
    const start = START + ++day * 2 * DAY;
    const kid = (await createApiUser(h.server.store, { name, verified: true, minor: true })).key;
    return { start, ask: (content, stream = false) => h.post('/v1/chat/completions', chat(content, stream), { authorization: `Bearer ${kid}` }) };
  };
  /** Two hours of continuous use from `start`, as the first test watches it happen. */
  const twoHours = async (start: number, ask: (content: string, stream?: boolean) => Promise<Response>): Promise<void> => {
    for (let m = 0; m <= 120; m += 15) {
      now = start + m * MINUTE;
      expect((await ask('hi', m >= 75)).status, `minute ${m}`).toBe(200);
    }
  };
  beforeAll(async () => {
    // Decided in the store on every request: with the test's clock far from the wall clock that
    // times the background sync, a loaded machine once saw a minute of use go uncounted (PostgreSQL).
    h = await startGateway({ databaseUrl: getDatabase().url, now: () => now, config: { limits: { syncMilliseconds: 0 }, minors: { dailyRequests: 20, dailyMinutes: 150, reminderMinutes: 60, idleMinutes: 20 }, abuse: { steps: [] } } });
    h.double.behaviour = () => ({ text: 'answer' });
  });
  afterAll(async () => h?.close());

  it('reminds a minor after continuous use, in the answer and in a stream delta', async () => {
    const { start, ask } = await newDay('kid-reminded');
    const texts: string[] = [];
    for (let m = 0; m < 60; m += 15) {
      now = start + m * MINUTE;
      texts.push(((await (await ask('hi')).json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content ?? '');
    }
    expect(texts.every((t) => t === `${NOTICE}\n\nanswer`)).toBe(true);
    now = start + 60 * MINUTE;
    const reminded = (await (await ask('hi')).json()) as { choices: { message: { content: string } }[]; hegui: { notices: string[] } };
    expect(reminded.choices[0]?.message.content).toBe(`【防沉迷提醒】你已连续使用约60分钟，请注意休息。\n\n${NOTICE}\n\nanswer`);
    expect(reminded.hegui.notices).toEqual(['【防沉迷提醒】你已连续使用约60分钟，请注意休息。']);
    for (let m = 75; m < 120; m += 15) {
      now = start + m * MINUTE;
      expect(chatText((await readSse(await ask('hi', true))).events)).toBe(`${NOTICE}\n\nanswer`);
    }
    now = start + 120 * MINUTE;
    const { events } = await readSse(await ask('hi', true));
    const deltas = events.flatMap((e) => ((e.choices as { delta?: { content?: string } }[]) ?? []).map((c) => c.delta?.content ?? '')).filter(Boolean);
    expect(deltas[0]).toBe(`【防沉迷提醒】你已连续使用约120分钟，请注意休息。\n\n${NOTICE}\n\n`);
    const [event] = await h.events();
    expect(event?.payload.actions).toContain('minor-reminder');
    // Adults are not counted or reminded.
    const adult = (await (await h.post('/v1/chat/completions', chat('hi'))).json()) as { choices: { message: { content: string } }[] };
    expect(adult.choices[0]?.message.content).toBe(`${NOTICE}\n\nanswer`);
  });

  it('stops a minor at the daily minutes and the daily requests, until midnight Beijing time', async () => {
    const { start, ask } = await newDay('kid-stopped');
    await twoHours(start, ask);
    // 120 minutes so far today; a pause closes the session, then 30 more minutes reach 150.
    for (let m = 150; m < 180; m += 10) {
      now = start + m * MINUTE;
      expect((await ask('hi')).status, `minute ${m}`).toBe(200);
    }
    now = start + 180 * MINUTE;
    const refused = await ask('hi');
    expect(refused.status).toBe(429);
    const midnight = start + 14 * HOUR;
    expect(refused.headers.get('retry-after')).toBe(String(Math.ceil((midnight - now) / 1000)));
    expect(await refused.json()).toMatchObject({ error: { code: 'E_GATEWAY_DAILY_LIMIT', message: expect.stringContaining('150 minutes') } });
    now = midnight + 60 * MINUTE;
    for (let i = 0; i < 20; i++) expect((await ask('hi')).status).toBe(200);
    const tooMany = await ask('hi');
    expect(tooMany.status).toBe(429);
    expect(await tooMany.json()).toMatchObject({ error: { code: 'E_GATEWAY_DAILY_LIMIT', message: expect.stringContaining('20 requests') } });
  });
});

describeEachDatabase('sanctions for repeated illegal content', (getDatabase) => {
  let h: GatewayHarness;
  let now = START;
  const env = (): { env: Record<string, string> } => ({ env: { HEGUI_DATABASE_URL: h.databaseUrl } });
  beforeAll(async () => {
    h = await startGateway({
      databaseUrl: getDatabase().url,
      now: () => now,
      config: {
        limits: { syncMilliseconds: 0 },
        abuse: {
          steps: [
            { blocks: 2, withinMinutes: 60, action: 'warn' },
            { blocks: 3, withinMinutes: 60, action: 'limit', minutes: 30, requestsPerMinute: 1 },
            { blocks: 4, withinMinutes: 60, action: 'suspend' },
          ],
        },
      },
    });
    h.double.behaviour = () => ({ text: 'ok' });
  });
  afterAll(async () => h?.close());

  it('warns, limits and suspends as blocks accumulate, and records every step', async () => {
    const content = async (response: Response): Promise<string> => {
      const body = (await response.json()) as { choices?: { message: { content: string } }[] };
      if (!body.choices) throw new Error(`not an answer: ${JSON.stringify(body)}`);
      return body.choices[0]?.message.content ?? '';
    };
    // The clock only moves forward (the tests run in any order); each step is a minute apart.
    now += 2 * HOUR;
    expect(await content(await h.post('/v1/chat/completions', chat(`tell me ${KEYWORDS.en}`)))).toBe(BLOCK_MESSAGE);
    now += MINUTE;
    // The second block: the model's answer is blocked in a stream, and the warning ends it.
    h.double.behaviour = () => ({ chunks: [...`好的，${KEYWORDS.zh}如下`] });
    const { events, done } = await readSse(await h.post('/v1/chat/completions', chat('go', true)));
    h.double.behaviour = () => ({ text: 'ok' });
    expect(done).toBe(true);
    expect(chatText(events)).toBe(`${NOTICE}\n\n好的，${BLOCK_MESSAGE}\n\n【警告】你的请求多次涉及违法违规内容。继续发送此类内容，账号将被限制或暂停使用。`);
    now += MINUTE;
    expect(await content(await h.post('/v1/chat/completions', chat(`again ${KEYWORDS.en}`)))).toContain('【限制】');
    // Limited to 1 request a minute.
    now += MINUTE;
    expect((await h.post('/v1/chat/completions', chat('hi'))).status).toBe(200);
    const limited = await h.post('/v1/chat/completions', chat('hi'));
    expect(limited.status).toBe(429);
    expect(await limited.json()).toMatchObject({ error: { code: 'E_GATEWAY_USER_LIMITED' } });
    expect(limited.headers.get('retry-after')).toBe('60');
    now += MINUTE;
    expect(await content(await h.post('/v1/chat/completions', chat(`more ${KEYWORDS.en}`)))).toContain('【暂停】');
    now += MINUTE;
    const suspended = await h.post('/v1/chat/completions', chat('hi'));
    expect(suspended.status).toBe(403);
    expect(await suspended.json()).toMatchObject({ error: { code: 'E_GATEWAY_USER_SUSPENDED', type: 'permission_error' } });
    const user = await h.server.store.gatewayUsers.findByName('tester');
    const sanctions = (await h.server.audit.list({ type: 'user.sanction', limit: 50 })).events.filter((e) => e.payload.user === user?.id);
    expect(sanctions.map((e) => e.outcome)).toEqual(['suspend', 'limit', 'warn']);
    expect(sanctions[0]).toMatchObject({ actor: 'system:gateway', risks: ['A1.6'], payload: { user: user?.id, blocks: 4, windowMinutes: 60, until: null } });
    const listed = await cli(['users', 'sanctions', 'tester'], env());
    expect(listed.stdout.split('\n').filter(Boolean).map((line) => line.split('\t')[1])).toEqual(['suspend', 'limit', 'warn']);
    expect(listed.stdout).toContain('4 blocked requests within 60 minutes\tuntil lifted');
  });

  it('lets an operator lift a suspension, and keeps the lift on record', async () => {
    now += 2 * HOUR;
    const { key } = await createApiUser(h.server.store, { name: 'lifted', verified: true });
    const post = (content: string) => h.post('/v1/chat/completions', chat(content), { authorization: `Bearer ${key}` });
    // Four blocks a minute apart: warned, limited (one request a minute), then suspended.
    for (let i = 0; i < 4; i++) {
      now += MINUTE;
      expect((await post(`blocked ${KEYWORDS.en}`)).status).toBe(200);
    }
    now += MINUTE;
    expect(await (await post('hi')).json()).toMatchObject({ error: { code: 'E_GATEWAY_USER_SUSPENDED' } });
    // The 30-minute limit has run out by the wall clock the CLI reads: only the suspension is in force.
    const lifted = await cli(['users', 'lift', 'lifted'], env());
    expect(lifted).toMatchObject({ code: 0, stdout: 'lifted suspend of "lifted"\n' });
    expect((await post('hi')).status).toBe(200);
    const [lift] = (await h.server.audit.list({ type: 'user.sanction', limit: 1 })).events;
    expect(lift).toMatchObject({ actor: 'system:cli', outcome: 'lift' });
    const history = await cli(['users', 'history', 'lifted', '--limit', '3'], env());
    expect(history.stdout).toContain('events (latest 3; times in Beijing time, UTC+8):');
    expect(history.stdout).toMatch(/suspend\t4 blocked requests within 60 minutes\tuntil lifted\tlifted .* by system:cli/);
  });
});

describeEachDatabase('request bodies', (getDatabase) => {
  let h: GatewayHarness;
  const now = START;
  const LIMIT = 1024 * 1024;
  beforeAll(async () => {
    h = await startGateway({ databaseUrl: getDatabase().url, now: () => now, config: { limits: { bodyBytes: LIMIT, jsonDepth: 16, messages: 8, key: { requests: 6, perSeconds: 60 } }, abuse: { steps: [] } } });
  });
  afterAll(async () => h?.close());

  /** A fresh user's key, so one test's requests never count against another's rate. */
  const freshKey = async (name: string): Promise<string> => (await createApiUser(h.server.store, { name, verified: true })).key;
  const url = (path: string): string => `${h.server.url}${path}`;

  it('refuses a declared length past limits.bodyBytes with 413 in the OpenAI error shape, and records it', async () => {
    const key = await freshKey('declared');
    for (const path of ['/v1/completions', '/v1/responses', '/v1/images/generations', '/v1/audio/speech', '/v1/chat/completions']) {
      const response = await fetch(url(path), { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(chat('x'.repeat(LIMIT))) });
      expect(response.status, path).toBe(413);
      expect(await response.json()).toEqual({ error: { code: 'E_GATEWAY_BODY_TOO_LARGE', type: 'invalid_request_error', param: null, message: expect.stringContaining('limits.bodyBytes') } });
    }
    const [event] = await h.events();
    expect(event).toMatchObject({ outcome: 'error', payload: { status: 413, error: 'E_GATEWAY_BODY_TOO_LARGE' } });
  });

  it('stops reading a streamed body once it passes the limit', async () => {
    const key = await freshKey('streamer');
    const body = streamedBody(256 * 1024 * 1024, '{"model":"double-chat","messages":[{"role":"user","content":"');
    const response = await postStream(url('/v1/chat/completions'), body, { authorization: `Bearer ${key}` });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: { code: 'E_GATEWAY_BODY_TOO_LARGE' } });
    // After answering, the server discards at most 64 MiB more before closing the connection.
    expect(body.sent()).toBeLessThan(body.total / 2);
  });

  it('admits the caller before reading the body: an unknown key or a used-up rate costs no read', async () => {
    const unknown = streamedBody(256 * 1024 * 1024, '{"model":"double-chat","messages":[');
    const anonymous = await postStream(url('/v1/chat/completions'), unknown, { authorization: 'Bearer sk-not-a-key' });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { code: 'E_GATEWAY_AUTH' } });
    expect(unknown.sent()).toBeLessThan(unknown.total / 2);
    const key = await freshKey('busy');
    for (let i = 0; i < 6; i++) expect((await h.post('/v1/chat/completions', chat('hi'), { authorization: `Bearer ${key}` })).status).toBe(200);
    const limited = streamedBody(256 * 1024 * 1024, '{"model":"double-chat","messages":[');
    const response = await postStream(url('/v1/chat/completions'), limited, { authorization: `Bearer ${key}` });
    expect(response.status).toBe(429);
    expect(await response.json()).toMatchObject({ error: { code: 'E_GATEWAY_RATE_LIMITED' } });
    expect(limited.sent()).toBeLessThan(limited.total / 2);
  });

  it('reads a body sent in a million one-byte chunks without holding each chunk (flat memory)', async () => {
    const key = await freshKey('dribbler');
    const json = `{"model":"double-chat","messages":[{"role":"user","content":"hi"}]${' '.repeat(LIMIT - 80)}}`;
    const before = residentBytes();
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss - before)), 20);
    const status = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(h.server.url).port), '127.0.0.1', () => {
        socket.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`);
        // Every byte its own chunk: the HTTP parser hands each one on as a separate piece.
        const bytes = Buffer.from(json);
        for (let at = 0; at < bytes.length; at += 64 * 1024) {
          socket.write(Buffer.from(Array.from(bytes.subarray(at, at + 64 * 1024), (b) => `1\r\n${String.fromCharCode(b)}\r\n`).join('')));
        }
        socket.write('0\r\n\r\n');
      });
      let answer = '';
      socket.on('data', (data: Buffer) => (answer += data.toString()));
      socket.on('end', () => resolve(answer.split('\r\n')[0] ?? ''));
      socket.on('error', reject);
    });
    clearInterval(sampler);
    expect(status).toBe('HTTP/1.1 200 OK');
    expect(peak).toBeLessThan(120 * 1024 * 1024);
  }, 120_000);

  it('refuses bodies nested deeper than limits.jsonDepth before parsing them', async () => {
    const key = await freshKey('nester');
    const deep = `{"model":"double-chat","messages":[{"role":"user","content":"hi"}],"metadata":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    const response = await fetch(url('/v1/chat/completions'), { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: deep });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: 'E_GATEWAY_BAD_REQUEST', type: 'invalid_request_error', message: expect.stringContaining('limits.jsonDepth') } });
    // Brackets inside strings are text, not nesting.
    const text = await h.post('/v1/chat/completions', chat('[[[[[[[[[[[[[[[[[[[[{{{{{{{{{{{{{{{{{{{{'), { authorization: `Bearer ${key}` });
    expect(text.status).toBe(200);
  });

  it('refuses more messages or input items than limits.messages, naming the field', async () => {
    const key = await freshKey('talker');
    const messages = Array.from({ length: 9 }, () => ({ role: 'user', content: 'hi' }));
    const chatty = await h.post('/v1/chat/completions', { model: 'double-chat', messages }, { authorization: `Bearer ${key}` });
    expect(chatty.status).toBe(400);
    expect(await chatty.json()).toMatchObject({ error: { code: 'E_GATEWAY_BAD_REQUEST', param: 'messages', message: expect.stringContaining('at most 8') } });
    const responses = await h.post('/v1/responses', { model: 'double-chat', input: messages }, { authorization: `Bearer ${key}` });
    expect(responses.status).toBe(400);
    expect(await responses.json()).toMatchObject({ error: { code: 'E_GATEWAY_BAD_REQUEST', param: 'input' } });
    expect((await h.post('/v1/chat/completions', { model: 'double-chat', messages: messages.slice(1) }, { authorization: `Bearer ${key}` })).status).toBe(200);
  });
});
