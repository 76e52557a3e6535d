/**
 * The gateway keeps its connections to an upstream (issue 14, gateway hot path): a stream's
 * connection goes back to the pool once the upstream ends the body, also when that end comes
 * in a later packet than `data: [DONE]` (as over a real network); an upstream that keeps
 * sending after `[DONE]`, or never ends the body, has its connection closed, and the client's
 * answer never waits for either.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { chatText, type GatewayHarness, readSse, startGateway } from './gateway-harness.js';

const streamed = async (gateway: GatewayHarness): Promise<{ text: string; done: boolean; ms: number }> => {
  const started = performance.now();
  const response = await gateway.post('/v1/chat/completions', { model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] });
  expect(response.status).toBe(200);
  const { events, done } = await readSse(response);
  return { text: chatText(events), done, ms: performance.now() - started };
};

describe('gateway: upstream connections after a stream', () => {
  let gateway: GatewayHarness | undefined;
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
  });

  it('reuses one connection for stream after stream when the body ends after [DONE]', async () => {
    gateway = await startGateway();
    gateway.double.behaviour = () => ({ chunks: ['one ', 'two'], afterDone: { endDelayMs: 30 } });
    for (let i = 0; i < 4; i++) {
      const answer = await streamed(gateway);
      expect(answer.done).toBe(true);
      expect(answer.text).toContain('one two');
      // The answer does not wait for the upstream's late end.
      expect(answer.ms).toBeLessThan(1000);
      // The next stream starts once the last one's body has ended.
      await new Promise((done) => setTimeout(done, 60));
    }
    expect(gateway.double.connections.opened).toBe(1);
    expect(gateway.double.connections.closed).toBe(0);
  });

  it('closes the connection of an upstream that keeps sending after [DONE], and serves the next request', async () => {
    gateway = await startGateway();
    gateway.double.behaviour = () => ({ chunks: ['flooded ', 'answer'], afterDone: 'flood' });
    const answer = await streamed(gateway);
    expect(answer).toMatchObject({ done: true, text: expect.stringContaining('flooded answer') });
    // 1 MiB of comments at 16 KiB a millisecond: the connection is closed long before the idle timeout (1 s).
    await vi.waitUntil(() => gateway?.double.connections.closed === 1, { timeout: 900, interval: 10 });
    gateway.double.behaviour = () => ({ chunks: ['next'] });
    expect((await streamed(gateway)).text).toContain('next');
    expect(gateway.double.connections.opened).toBe(2);
  });

  it('closes the connection of an upstream that never ends the body after [DONE], by its idle timeout', async () => {
    gateway = await startGateway();
    gateway.double.behaviour = () => ({ chunks: ['silent ', 'end'], afterDone: 'silent' });
    const answer = await streamed(gateway);
    expect(answer).toMatchObject({ done: true, text: expect.stringContaining('silent end') });
    expect(answer.ms).toBeLessThan(1000);
    expect(gateway.double.connections.closed).toBe(0);
    await vi.waitUntil(() => gateway?.double.connections.closed === 1, { timeout: 3000, interval: 10 });
    const [event] = await gateway.events();
    expect(event?.payload).toMatchObject({ upstreamStatus: 200 });
    expect(event?.outcome).not.toBe('error');
  });
});
