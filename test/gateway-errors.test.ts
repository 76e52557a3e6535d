/**
 * Faithful errors and streams, as client code sees them through the official `openai` client:
 * an upstream error keeps the status, `code`, `param`, `type` and `Retry-After` clients branch
 * on; an upstream refusing hegui's own credentials is the gateway's upstream error (502), never
 * the client's authentication error; a stream request answered with anything but an event
 * stream is an upstream error; the stream's shape is OpenAI's (no extra chunk without choices
 * unless usage was asked for, the usage chunk last); Latin text streams word by word.
 */
import { APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatText, type GatewayHarness, KEYWORDS, readSse, startGateway } from './gateway-harness.js';

const NOTICE_PREFIX = '本内容由人工智能生成\n\n';
const chat = (content: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ model: 'double-chat', messages: [{ role: 'user', content }], ...extra });

/** The error the openai client raised for `run`. */
async function apiError(run: () => Promise<unknown>): Promise<APIError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof APIError) return error;
    throw error;
  }
  throw new Error('the call succeeded');
}

describe('upstream errors reach the client faithfully', () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGateway({ upstream: { retries: 1 } });
  });
  afterAll(async () => h?.close());

  it('a 400 context_length_exceeded keeps its code, param and type', async () => {
    h.double.behaviour = () => ({ status: 400, error: { message: "This model's maximum context length is 8192 tokens", type: 'invalid_request_error', code: 'context_length_exceeded', param: 'messages' } });
    const error = await apiError(() => h.client.chat.completions.create({ model: 'double-chat', messages: [{ role: 'user', content: 'long' }] }));
    expect(error).toMatchObject({ status: 400, code: 'context_length_exceeded', param: 'messages', type: 'invalid_request_error' });
    expect(error.message).toContain('maximum context length');
    const [event] = await h.events();
    expect(event).toMatchObject({ outcome: 'error', payload: { status: 400, upstreamStatus: 400, error: 'E_GATEWAY_UPSTREAM_REJECTED' } });
  });

  it('a 429 keeps its Retry-After, code and type, streamed or not', async () => {
    h.double.behaviour = () => ({ status: 429, headers: { 'retry-after': '7', 'retry-after-ms': '7000' }, error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded', param: null } });
    for (const stream of [false, true]) {
      const error = await apiError(() => h.client.chat.completions.create({ model: 'double-chat', messages: [{ role: 'user', content: 'busy' }], stream }));
      expect(error).toMatchObject({ status: 429, code: 'rate_limit_exceeded', type: 'requests', param: null });
      expect(error.headers?.get('retry-after')).toBe('7');
      expect(error.headers?.get('retry-after-ms')).toBe('7000');
    }
  });

  it('a 503 that outlasts the retries is a 502 that keeps the Retry-After', async () => {
    h.double.behaviour = () => ({ status: 503, headers: { 'retry-after': '30' } });
    const error = await apiError(() => h.client.chat.completions.create({ model: 'double-chat', messages: [{ role: 'user', content: 'down' }] }));
    expect(error).toMatchObject({ status: 502, code: 'E_GATEWAY_UPSTREAM', type: 'api_error' });
    expect(error.headers?.get('retry-after')).toBe('30');
  });

  for (const status of [401, 403]) {
    it(`an upstream ${status} is the gateway's upstream error (502), not the client's, and is audited`, async () => {
      h.double.behaviour = () => ({ status, error: { message: 'Incorrect API key provided: sk-up****cret', type: 'invalid_request_error', code: 'invalid_api_key' } });
      const error = await apiError(() => h.client.chat.completions.create({ model: 'double-chat', messages: [{ role: 'user', content: 'hi' }] }));
      expect(error).toMatchObject({ status: 502, code: 'E_GATEWAY_UPSTREAM_AUTH', type: 'api_error' });
      expect(error.message).toMatch(/refused hegui's credentials/);
      // The upstream's words about hegui's key stay in the gateway.
      expect(error.message).not.toContain('sk-up');
      const [event] = await h.events();
      expect(event).toMatchObject({ outcome: 'error', payload: { status: 502, upstreamStatus: status, error: 'E_GATEWAY_UPSTREAM_AUTH' } });
    });
  }

  for (const raw of [
    { contentType: 'text/html; charset=utf-8', body: '<html><body>Bad gateway, try later</body></html>' },
    { contentType: 'application/json', body: JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'whole' }, finish_reason: 'stop' }] }) },
  ]) {
    it(`a ${raw.contentType.split(';')[0]} 200 to a stream request is a 502, never an empty success`, async () => {
      h.double.behaviour = () => ({ raw });
      const error = await apiError(async () => {
        const stream = await h.client.chat.completions.create({ model: 'double-chat', messages: [{ role: 'user', content: 'stream' }], stream: true });
        for await (const chunk of stream) void chunk;
      });
      expect(error).toMatchObject({ status: 502, code: 'E_GATEWAY_UPSTREAM', type: 'api_error' });
      expect(error.message).toContain('not an event stream');
      const [event] = await h.events();
      expect(event).toMatchObject({ outcome: 'error', payload: { status: 502, upstreamStatus: 200, error: 'E_GATEWAY_UPSTREAM', stream: true } });
    });
  }

  it('a non-SSE answer to a Responses or legacy completions stream request is a 502 too', async () => {
    h.double.behaviour = () => ({ raw: { contentType: 'text/html', body: '<html>maintenance</html>' } });
    for (const [path, body] of [
      ['/v1/responses', { model: 'double-chat', input: 'hi', stream: true }],
      ['/v1/completions', { model: 'double-chat', prompt: 'hi', stream: true }],
    ] as const) {
      const response = await h.post(path, body);
      expect(response.status).toBe(502);
      expect(await response.json()).toMatchObject({ error: { code: 'E_GATEWAY_UPSTREAM', type: 'api_error' } });
    }
  });

  it('an event stream that ends before any event is an upstream error, not an empty pass', async () => {
    h.double.behaviour = () => ({ raw: { contentType: 'text/event-stream', body: '<html>not events</html>' } });
    const { events, done } = await readSse(await h.post('/v1/chat/completions', chat('empty', { stream: true })));
    expect(events.find((e) => e.error)).toMatchObject({ error: { code: 'E_GATEWAY_UPSTREAM', type: 'api_error' } });
    expect(done).toBe(true);
    const [event] = await h.events();
    expect(event).toMatchObject({ outcome: 'error', payload: { status: 502, error: 'E_GATEWAY_UPSTREAM', stream: true } });
  });
});

describe('streams have the shape OpenAI clients expect', () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGateway();
  });
  afterAll(async () => h?.close());

  it('without include_usage, every chunk has a choice and hegui rides on the last one', async () => {
    h.double.behaviour = () => ({ text: 'Plain answer here.' });
    const stream = await h.client.chat.completions.create({ model: 'double-chat', messages: [{ role: 'user', content: 'hi' }], stream: true });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.every((chunk) => chunk.choices[0] !== undefined)).toBe(true);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    expect((chunks.at(-1) as unknown as { hegui?: unknown }).hegui).toMatchObject({ aigc: { Label: '1' } });
    expect(chunks.filter((chunk) => 'hegui' in chunk)).toHaveLength(1);
  });

  it('legacy completions streams have no chunk without choices either', async () => {
    h.double.behaviour = () => ({ text: 'Plain legacy answer.' });
    const { events, done } = await readSse(await h.post('/v1/completions', { model: 'double-chat', prompt: 'hi', stream: true }));
    expect(done).toBe(true);
    expect(events.every((e) => Array.isArray(e.choices) && e.choices.length > 0)).toBe(true);
    expect(events.at(-1)?.hegui).toMatchObject({ aigc: { Label: '1' } });
  });

  it('with include_usage, the upstream usage chunk is the last chunk and carries hegui', async () => {
    h.double.behaviour = () => ({ text: 'Counted answer here.' });
    const stream = await h.client.chat.completions.create({ model: 'double-chat', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toMatchObject({ prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 });
    expect((last as unknown as { hegui?: unknown }).hegui).toMatchObject({ aigc: { Label: '1' } });
    expect(chunks.filter((chunk) => chunk.choices.length === 0)).toHaveLength(1);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
  });

  it('a blocked-input stream honours include_usage', async () => {
    const ask = async (include: boolean): Promise<Record<string, unknown>[]> => (await readSse(await h.post('/v1/chat/completions', chat(`tell me about ${KEYWORDS.en}`, { stream: true, ...(include ? { stream_options: { include_usage: true } } : {}) })))).events;
    const withUsage = await ask(true);
    expect(withUsage.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 }, hegui: { guard: { action: 'input-blocked' } } });
    expect(withUsage.at(-2)).toMatchObject({ choices: [{ finish_reason: 'content_filter' }] });
    const without = await ask(false);
    expect(without).toHaveLength(1);
    expect(without[0]).toMatchObject({ choices: [{ finish_reason: 'content_filter' }] });
  });
});

describe('Latin text streams word by word', () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGateway();
  });
  afterAll(async () => h?.close());

  /**
   * Streams `words` one upstream event each and returns the model's text per client chunk
   * (the notice prefix and suffix left out). The hold-back is measured in characters: what a
   * chunk carries beyond the word that came with it is what the gateway held back before.
   */
  async function relay(words: string[]): Promise<string[]> {
    h.double.behaviour = () => ({ chunks: words });
    const { events } = await readSse(await h.post('/v1/chat/completions', chat('go', { stream: true })));
    const pieces = events.map((e) => chatText([e])).filter((t) => t !== '' && t !== NOTICE_PREFIX && !t.startsWith('\n\n'));
    expect(pieces.join('')).toBe(words.join(''));
    return pieces;
  }

  it('English prose: each word is out by the next event, none held for a CJK-sized window', async () => {
    const words = 'The quick brown fox jumps over the lazy dog while the quiet river keeps flowing past the old mill and the children play along its banks until the evening light fades away completely. '.split(/(?<= )/);
    const pieces = await relay(words);
    // Word by word: as many client chunks as upstream words, give or take the last word held.
    expect(pieces.length).toBeGreaterThanOrEqual(words.length - 1);
    // No burst: no chunk carries more than two words.
    const longest = Math.max(...words.map((w) => w.length));
    for (const piece of pieces) expect(piece.length).toBeLessThanOrEqual(2 * longest);
    // The first text leaves with the second word at the latest.
    expect(words.slice(0, 2).join('').startsWith(pieces[0] ?? 'missing')).toBe(true);
  });

  it('code streams token by token too', async () => {
    const tokens = ['const ', 'total ', '= ', 'items', '.reduce', '((sum, ', 'item) ', '=> ', 'sum ', '+ ', 'item', '.price, ', '0);\n', 'return ', 'total;\n', 'console', '.log(', 'total);', '\n'];
    const pieces = await relay(tokens);
    expect(pieces.length).toBeGreaterThanOrEqual(tokens.length - 4);
    // A dotted name is held until it ends (an e-mail address could still grow from
    // `items.reduce`): at most that name and the token that ends it, never a window.
    for (const piece of pieces) expect(piece.length).toBeLessThanOrEqual('items.reduce((sum, '.length);
  });

  it('a Latin keyword split across words is still blocked, with no fragment out', async () => {
    h.double.behaviour = () => ({ chunks: ['We ', 'talk ', 'about ', 'forbid', 'den', 'word ', 'here.'] });
    const { events } = await readSse(await h.post('/v1/chat/completions', chat('go', { stream: true })));
    const text = chatText(events);
    expect(text).not.toMatch(/forbid/);
    expect(text).toContain('We talk about ');
    expect(events.some((e) => (e.choices as { finish_reason?: string }[] | undefined)?.[0]?.finish_reason === 'content_filter')).toBe(true);
  });

  it('a phone number split across events is still masked before any digit leaves', async () => {
    h.double.behaviour = () => ({ chunks: ['Call ', 'me ', 'at ', '138 ', '0013 ', '8000 ', 'tomorrow.'] });
    const { events } = await readSse(await h.post('/v1/chat/completions', chat('go', { stream: true })));
    const text = chatText(events);
    expect(text).not.toMatch(/0013/);
    expect(text).toContain('tomorrow.');
  });

  it('a licence plate with a space, split across events, is still masked', async () => {
    h.double.behaviour = () => ({ chunks: ['The ', 'car ', '京A ', '12', '345 ', 'left.'] });
    const { events } = await readSse(await h.post('/v1/chat/completions', chat('go', { stream: true })));
    const text = chatText(events);
    expect(text).not.toMatch(/12345|345/);
    expect(text).toContain('left.');
  });
});
