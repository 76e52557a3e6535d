/**
 * The runner's client against the upstream double's failures: 429 with Retry-After (seconds and
 * HTTP date), 5xx, timeouts, broken connections, errors that must not be retried, and guard
 * blocks that are answers. The sleeps are recorded rather than waited, so the test checks what
 * the client would wait without spending it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatClient, RateLimiter, readAnswer, retryAfterMs } from '../src/eval/run-client.js';
import { UpstreamDouble } from './gateway-upstream-double.js';

let double: UpstreamDouble;
beforeAll(async () => {
  double = await new UpstreamDouble().start();
});
afterAll(async () => double.stop());

function client(options: Partial<ConstructorParameters<typeof ChatClient>[0]> = {}): { client: ChatClient; waits: number[] } {
  const waits: number[] = [];
  const c = new ChatClient({ baseUrl: `${double.url}/v1`, model: 'double-chat', apiKey: 'sk-test', retries: 3, backoffMs: 100, random: () => 1, sleep: async (ms) => void waits.push(ms), ...options });
  return { client: c, waits };
}

describe('the eval client against failures', () => {
  it('waits what Retry-After says after a 429, then answers', async () => {
    double.behaviour = () => ({ status: 429, failTimes: 1, headers: { 'retry-after': '7' }, text: 'fine' });
    const { client: c, waits } = client();
    const result = await c.send(c.requestFor('retry-after seconds'));
    expect(result.answer?.text).toBe('fine');
    expect(result.attempts).toBe(2);
    expect(waits).toEqual([7000]);
    expect(double.last('/v1/chat/completions')?.authorization).toBe('Bearer sk-test');
  });

  it('reads Retry-After as an HTTP date too', async () => {
    const now = Date.parse('2026-12-04T10:00:00Z');
    expect(retryAfterMs('Fri, 04 Dec 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('1.5', now)).toBe(1500);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
    double.behaviour = () => ({ status: 503, failTimes: 1, headers: { 'retry-after': new Date(Date.now() + 20_000).toUTCString() }, text: 'later' });
    const { client: c, waits } = client();
    expect((await c.send(c.requestFor('retry-after date'))).answer?.text).toBe('later');
    expect(waits[0]).toBeGreaterThan(15_000);
    expect(waits[0]).toBeLessThanOrEqual(20_000);
  });

  it('backs off exponentially on 5xx without Retry-After', async () => {
    double.behaviour = () => ({ status: 502, failTimes: 3, text: 'third time lucky' });
    const { client: c, waits } = client();
    const result = await c.send(c.requestFor('backoff'));
    expect(result.answer?.text).toBe('third time lucky');
    expect(result.attempts).toBe(4);
    expect(waits).toEqual([100, 200, 400]);
  });

  it('gives up after the retries with the last failure, never an answer', async () => {
    double.behaviour = () => ({ status: 500 });
    const { client: c, waits } = client({ retries: 2 });
    const result = await c.send(c.requestFor('always failing'));
    expect(result.answer).toBeUndefined();
    expect(result.attempts).toBe(3);
    expect(result.error).toMatch(/^HTTP 500: double says 500/);
    expect(waits).toHaveLength(2);
  });

  it('times out a silent endpoint and retries it', async () => {
    double.behaviour = () => ({ headersDelayMs: 400, text: 'too late' });
    const { client: c } = client({ timeoutMs: 100, retries: 1 });
    const result = await c.send(c.requestFor('silent'));
    expect(result.error).toBe('timed out after 100 ms');
    expect(result.attempts).toBe(2);
  });

  it('retries a broken connection', async () => {
    let calls = 0;
    const flaky: typeof fetch = async (input, init) => {
      calls += 1;
      if (calls === 1) throw new TypeError('fetch failed: socket hang up');
      return fetch(input, init);
    };
    double.behaviour = () => ({ text: 'after reset' });
    const { client: c } = client({ fetch: flaky });
    const result = await c.send(c.requestFor('reset'));
    expect(result.answer?.text).toBe('after reset');
    expect(result.attempts).toBe(2);
  });

  it('does not retry a request the endpoint rejects', async () => {
    double.behaviour = () => ({ status: 401, error: { message: 'bad key', type: 'invalid_request_error' } });
    const { client: c, waits } = client();
    const result = await c.send(c.requestFor('unauthorised'));
    expect(result).toMatchObject({ attempts: 1, error: 'HTTP 401: bad key' });
    expect(waits).toEqual([]);
  });

  it('takes a guard block or a refusal field as an answer, not an error', async () => {
    expect(readAnswer(400, { error: { code: 'E_GATEWAY_CONTENT_BLOCKED', message: '[blocked]' } }, 5)).toMatchObject({ blocked: 'gateway', text: '[blocked]' });
    expect(readAnswer(400, { error: { code: 'content_filter', message: 'filtered' } }, 5)).toMatchObject({ blocked: 'provider' });
    expect(readAnswer(200, { choices: [{ message: { content: 'x' }, finish_reason: 'content_filter' }], hegui: { guard: { action: 'output-blocked', risks: ['A1.4'] } } }, 5)).toMatchObject({ blocked: 'gateway' });
    expect(readAnswer(400, { error: { code: 'invalid_model', message: 'no' } }, 5)).toBeUndefined();
    double.behaviour = () => ({ refusal: ['I will ', 'not.'] });
    const { client: c } = client();
    const result = await c.send(c.requestFor('refusal field'));
    expect(result.answer).toMatchObject({ refusal: 'I will not.', text: 'I will not.', blocked: null, status: 200 });
  });

  it('spaces requests by the rate limit across callers', async () => {
    let now = 0;
    const waits: number[] = [];
    const limiter = new RateLimiter(10, () => now, async (ms) => {
      waits.push(ms);
    });
    await Promise.all([limiter.take(), limiter.take(), limiter.take(), limiter.take()]);
    expect(waits).toEqual([100, 200, 300]);
    now = 1000;
    await limiter.take();
    expect(waits).toHaveLength(3);
  });
});
