/**
 * Several upstreams (issue 13, "what production users expect"): a model served by two
 * upstreams is shared by weight; an upstream that cannot answer hands the request to the next
 * one (its fallbacks), never one that refused the client's request; retries wait for the
 * upstream's Retry-After within `maxRetryWaitSeconds`, and a longer one goes back to the client.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type GatewayHarness, startGateway } from './gateway-harness.js';
import { UpstreamDouble } from './gateway-upstream-double.js';

const chats = (double: UpstreamDouble): number => double.seen.filter((r) => r.path === '/v1/chat/completions').length;

describe('gateway upstreams: balancing, fallbacks, Retry-After', () => {
  let gateway: GatewayHarness | undefined;
  let second: UpstreamDouble | undefined;
  afterEach(async () => {
    await gateway?.close();
    await second?.stop();
    gateway = second = undefined;
  });

  async function twoUpstreams(first: Record<string, unknown>, other: Record<string, unknown>): Promise<GatewayHarness> {
    second = await new UpstreamDouble().start();
    const url = second.url;
    const { fallbacks, ...rest } = first;
    return startGateway({
      upstream: rest,
      edit: (config) => {
        // Fallbacks name the second upstream, added here once its address is known.
        if (fallbacks) (config.upstreams[0] as { fallbacks: string[] }).fallbacks = fallbacks as string[];
        config.upstreams.push({ name: 'second', url: `${url}/v1`, models: ['m'], timeoutSeconds: 2, idleTimeoutSeconds: 1, retries: 0, maxRetryWaitSeconds: 5, weight: 1, fallbacks: [], ...other });
      },
    });
  }

  it('shares a model between two upstreams by weight', async () => {
    gateway = await twoUpstreams({ models: ['m'], weight: 3 }, { weight: 1 });
    for (let i = 0; i < 8; i++) await gateway.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: `hi ${i}` }] });
    expect(chats(gateway.double)).toBe(6);
    expect(chats(second as UpstreamDouble)).toBe(2);
  });

  it('falls back when the first upstream keeps failing, and records which one answered', async () => {
    gateway = await twoUpstreams({ models: ['m'], retries: 1, fallbacks: ['second'], weight: 1 }, { models: ['other'] });
    gateway.double.behaviour = () => ({ status: 503 });
    (second as UpstreamDouble).behaviour = () => ({ text: 'from the second upstream' });
    const answer = await gateway.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    expect(answer.choices[0]?.message.content).toContain('from the second upstream');
    expect(chats(gateway.double)).toBe(2); // the try and its one retry
    const [event] = await gateway.events();
    expect(event?.payload).toMatchObject({ upstream: 'second', upstreamStatus: 200, actions: expect.arrayContaining(['upstream-fallback']) });
  });

  it('falls back from an unreachable upstream, also for streams', async () => {
    gateway = await twoUpstreams({ url: 'http://127.0.0.1:9/v1', models: ['m'], retries: 0, fallbacks: ['second'] }, { models: ['other'] });
    (second as UpstreamDouble).behaviour = () => ({ chunks: ['streamed ', 'by the second'] });
    const stream = await gateway.client.chat.completions.create({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toContain('streamed by the second');
  });

  it('does not fall back when the request itself was refused', async () => {
    gateway = await twoUpstreams({ models: ['m'], fallbacks: ['second'] }, { models: ['other'] });
    gateway.double.behaviour = () => ({ status: 400, error: { message: 'context too long', type: 'invalid_request_error', code: 'context_length_exceeded', param: 'messages' } });
    const response = await gateway.post('/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('context_length_exceeded');
    expect(chats(second as UpstreamDouble)).toBe(0);
  });

  it('waits for a short Retry-After and passes a long one on to the client', async () => {
    gateway = await startGateway({ upstream: { retries: 2, maxRetryWaitSeconds: 2 } });
    gateway.double.behaviour = (_path, body) =>
      JSON.stringify(body).includes('short') ? { status: 429, failTimes: 1, headers: { 'retry-after': '1' } } : { status: 429, headers: { 'retry-after': '60' } };
    const answer = await gateway.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'short wait' }] });
    expect(answer.choices[0]?.finish_reason).toBe('stop');
    expect(chats(gateway.double)).toBe(2);

    const long = await gateway.post('/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'long wait' }] });
    expect(long.status).toBe(429);
    expect(long.headers.get('retry-after')).toBe('60');
    expect(chats(gateway.double)).toBe(3); // not retried
  });

  it('refuses a fallback that names no upstream', async () => {
    await expect(startGateway({ upstream: { fallbacks: ['nowhere'] } })).rejects.toThrow(/fallbacks\[0\]: no upstream is named "nowhere"/);
  });
});
