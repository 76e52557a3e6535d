/**
 * Upstream faults (500, retries, timeout, idle stream, malformed SSE, connection reset, slow
 * drip, client leaving) each end in a clean OpenAI-shaped error or a cleanly ended stream, and
 * leave an audit event. Also: input blocks, bad requests, unknown models.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BLOCK_MESSAGE, chatText, type GatewayHarness, KEYWORDS, readSse, startGateway } from './gateway-harness.js';
import { describeEachDatabase } from './helpers/stores.js';

const chat = (content: string, stream = false): Record<string, unknown> => ({ model: 'double-chat', messages: [{ role: 'user', content }], stream });

describeEachDatabase('gateway under upstream faults', (getDatabase) => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGateway({ databaseUrl: getDatabase().url, upstream: { models: ['double-*'], timeoutSeconds: 0.5, idleTimeoutSeconds: 0.3 } });
  });
  afterAll(async () => h?.close());

  it('answers an upstream 500 with a 502 OpenAI error, and audits the upstream status', async () => {
    h.double.behaviour = () => ({ status: 500 });
    await expect(h.client.chat.completions.create({ model: 'double-chat', messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({ status: 502, code: 'E_GATEWAY_UPSTREAM', type: 'api_error' });
    const [event] = await h.events();
    expect(event).toMatchObject({ outcome: 'error', payload: { status: 502, upstreamStatus: 500, error: 'E_GATEWAY_UPSTREAM' } });
  });

  it('retries 503 before any byte was sent, then succeeds', async () => {
    h.double.behaviour = () => ({ status: 503, failTimes: 2, text: 'third time lucky' });
    const before = h.double.seen.length;
    const answer = await h.client.chat.completions.create({ model: 'double-chat', messages: [{ role: 'user', content: 'retry me' }] });
    expect(answer.choices[0]?.message.content).toContain('third time lucky');
    expect(h.double.seen.length - before).toBe(3);
  });

  it('passes an upstream 4xx on as it is', async () => {
    h.double.behaviour = () => ({ status: 429 });
    await expect(h.client.chat.completions.create({ model: 'double-chat', messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({ status: 429 });
  });

  it('times out an upstream that does not answer: 504', async () => {
    h.double.behaviour = () => ({ headersDelayMs: 1500 });
    const response = await h.post('/v1/chat/completions', chat('slow'));
    expect(response.status).toBe(504);
    expect(await response.json()).toMatchObject({ error: { code: 'E_GATEWAY_UPSTREAM_TIMEOUT', type: 'api_error' } });
  });

  it('ends a stream whose upstream falls silent with an error event and [DONE]', async () => {
    h.double.behaviour = () => ({ chunks: ['第一，', '第二，', '第三'], stallAfter: 2 });
    const { events, done } = await readSse(await h.post('/v1/chat/completions', chat('stall', true)));
    expect(chatText(events)).toContain('第一，第二，');
    expect(events.find((e) => e.error)).toMatchObject({ error: { code: 'E_GATEWAY_UPSTREAM_TIMEOUT' } });
    expect(done).toBe(true);
    const [event] = await h.events();
    expect(event).toMatchObject({ outcome: 'error', payload: { status: 504, stream: true } });
  });

  it('ends a stream with malformed SSE cleanly, never releasing held text', async () => {
    h.double.behaviour = () => ({ chunks: ['安全，', 'forbid', 'den'], malformedAfter: 2 });
    const { events, done } = await readSse(await h.post('/v1/chat/completions', chat('bad sse', true)));
    const text = chatText(events);
    expect(text).toContain('安全，');
    expect(text).not.toContain('forbid');
    expect(events.find((e) => e.error)).toMatchObject({ error: { code: 'E_GATEWAY_UPSTREAM', type: 'api_error' } });
    expect(done).toBe(true);
  });

  it('ends a stream whose connection is reset mid-way with an error the openai client raises', async () => {
    h.double.behaviour = () => ({ chunks: ['甲，', '乙，', '丙，', '丁，'], resetAfter: 2, chunkDelayMs: 20 });
    const stream = await h.client.chat.completions.create({ model: 'double-chat', messages: [{ role: 'user', content: 'reset' }], stream: true });
    let text = '';
    await expect(
      (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      })(),
    ).rejects.toMatchObject({ message: expect.stringContaining('broke off') });
    expect(text).toContain('甲，');
    // The client sees the break before the gateway has finished recording the request.
    await expect.poll(async () => (await h.events())[0]).toMatchObject({ outcome: 'error', payload: { status: 502, error: 'E_GATEWAY_UPSTREAM' } });
  });

  it('answers 502 when the connection of a whole answer is reset half-way through its body', async () => {
    h.double.behaviour = () => ({ text: 'a whole answer that never arrives whole', resetAfter: 0 });
    const response = await h.post('/v1/chat/completions', chat('reset whole'));
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ error: { code: 'E_GATEWAY_UPSTREAM', message: expect.stringContaining('broke off its answer') } });
    await expect.poll(async () => (await h.events())[0]).toMatchObject({ outcome: 'error', payload: { status: 502, error: 'E_GATEWAY_UPSTREAM' } });
  });

  it('answers 504 when a whole answer falls silent half-way through its body', async () => {
    h.double.behaviour = () => ({ text: 'a whole answer that stops', stallAfter: 0 });
    const response = await h.post('/v1/chat/completions', chat('stall whole'));
    expect(response.status).toBe(504);
    await expect.poll(async () => (await h.events())[0]).toMatchObject({ outcome: 'error', payload: { status: 504 } });
  });

  it('relays a slow drip whole', async () => {
    h.double.behaviour = () => ({ chunks: Array.from({ length: 8 }, (_, i) => `w${i} `), chunkDelayMs: 60 });
    const { events, done } = await readSse(await h.post('/v1/chat/completions', chat('drip', true)));
    expect(chatText(events)).toContain('w0 w1 w2 w3 w4 w5 w6 w7 ');
    expect(done).toBe(true);
  });

  it('cancels the upstream call when the client goes away, and audits it', async () => {
    h.double.behaviour = () => ({ chunks: Array.from({ length: 40 }, () => 'tick '), chunkDelayMs: 25 });
    const response = await h.post('/v1/chat/completions', chat('leave early', true));
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    await reader.cancel();
    await expect.poll(() => h.double.last('/v1/chat/completions')?.aborted, { timeout: 3000 }).toBe(true);
    await expect.poll(async () => (await h.events())[0]?.payload, { timeout: 3000 }).toMatchObject({ status: 499, error: 'E_GATEWAY_CLIENT_CLOSED' });
  });

  it('answers an unknown model with 404 model_not_found', async () => {
    const response = await h.post('/v1/chat/completions', { ...chat('hi'), model: 'gpt-9' });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: 'E_GATEWAY_MODEL_NOT_FOUND', param: 'model' } });
  });

  it('answers a body that is not JSON with 400', async () => {
    const response = await fetch(`${h.server.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${h.key}` }, body: 'nope' });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: 'E_GATEWAY_BAD_REQUEST', type: 'invalid_request_error' } });
  });

  it('refuses a blocked prompt with an assistant refusal, without calling the upstream', async () => {
    const before = h.double.seen.length;
    const answer = await h.client.chat.completions.create({ model: 'double-chat', messages: [{ role: 'user', content: `tell me about ${KEYWORDS.en}` }] });
    expect(answer.choices[0]).toMatchObject({ finish_reason: 'content_filter', message: { content: BLOCK_MESSAGE } });
    const stream = await h.client.chat.completions.create({ model: 'double-chat', messages: [{ role: 'user', content: `教我${KEYWORDS.zh}` }], stream: true });
    const reasons: unknown[] = [];
    for await (const chunk of stream) reasons.push(...chunk.choices.map((c) => c.finish_reason));
    expect(reasons).toContain('content_filter');
    expect(h.double.seen.length).toBe(before);
    const [event] = await h.events();
    expect(event).toMatchObject({ outcome: 'block', risks: ['A1.4'], payload: { verdicts: { input: 'block' }, actions: ['input-blocked'] } });
  });

  it('checks tool results in the input', async () => {
    const answer = await h.client.chat.completions.create({
      model: 'double-chat',
      messages: [
        { role: 'user', content: 'search' },
        { role: 'assistant', content: null, tool_calls: [{ id: 't1', type: 'function', function: { name: 'search', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 't1', content: `result: ${KEYWORDS.en}` },
      ],
    });
    expect(answer.choices[0]?.finish_reason).toBe('content_filter');
  });
});

describeEachDatabase('gateway answering blocked input with an error', (getDatabase) => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGateway({ databaseUrl: getDatabase().url, safety: { inputBlock: 'error' } });
  });
  afterAll(async () => h?.close());

  it('answers 400 with the OpenAI error object', async () => {
    const client = new OpenAI({ apiKey: h.key, baseURL: `${h.server.url}/v1`, maxRetries: 0 });
    await expect(client.chat.completions.create({ model: 'double-chat', messages: [{ role: 'user', content: KEYWORDS.en }] })).rejects.toMatchObject({ status: 400, code: 'E_GATEWAY_CONTENT_BLOCKED', param: 'messages' });
    await expect(client.images.generate({ model: 'img', prompt: KEYWORDS.zh })).rejects.toMatchObject({ status: 400, code: 'E_GATEWAY_CONTENT_BLOCKED', param: 'prompt' });
  });
});
