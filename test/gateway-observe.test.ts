/**
 * What operators watch (issue 13): the JSON access log (one line per request, no prompt, answer
 * or key), Prometheus metrics at /metrics (loopback or a token), /healthz reflecting the
 * upstreams, and CORS for the browser origins listed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type GatewayHarness, KEYWORDS, startGateway } from './gateway-harness.js';

describe('gateway observability', () => {
  let gateway: GatewayHarness | undefined;
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
  });

  it('writes one JSON line per request, without the prompt, the answer or the key', async () => {
    const lines: string[] = [];
    gateway = await startGateway({ accessLog: (line) => lines.push(line) });
    const secret = 'my secret prompt text 13800138000';
    const ok = await gateway.post('/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: secret }] });
    await ok.text();
    const blocked = await gateway.post('/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: KEYWORDS.en }] });
    await blocked.text();
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({ msg: 'request', endpoint: 'chat.completions', status: 200, outcome: 'pass', requestId: ok.headers.get('x-request-id'), level: 'info' });
    expect(entries[1]).toMatchObject({ outcome: 'block', risks: ['A1.6'] });
    const all = lines.join('\n');
    expect(all).not.toContain('secret prompt');
    expect(all).not.toContain('13800138000');
    expect(all).not.toContain(gateway.key);
    expect(all).not.toContain('Hello from the double');
  });

  it('serves Prometheus metrics to loopback clients, counting requests and refusals', async () => {
    gateway = await startGateway();
    await (await gateway.post('/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'hi' }] })).text();
    await (await fetch(`${gateway.server.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer hg-wrong' }, body: '{}' })).text();
    const response = await fetch(`${gateway.server.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toMatch(/hegui_gateway_requests_total\{endpoint="chat.completions",status="200",outcome="pass",model="m",upstream="double"\} 1/);
    expect(text).toMatch(/hegui_gateway_unauthenticated_total 1/);
    expect(text).toMatch(/hegui_gateway_request_duration_seconds_bucket/);
    expect(text).toMatch(/hegui_process_resident_memory_bytes/);
  });

  it('asks for the token when one is configured', async () => {
    gateway = await startGateway({ config: { server: { metrics: { tokenEnv: 'METRICS_TOKEN' } } }, env: { METRICS_TOKEN: 'scrape-me' } });
    expect((await fetch(`${gateway.server.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${gateway.server.url}/metrics`, { headers: { authorization: 'Bearer scrape-mf' } })).status).toBe(401);
    expect((await fetch(`${gateway.server.url}/metrics`, { headers: { authorization: 'Bearer scrape-me' } })).status).toBe(200);
    await expect(startGateway({ config: { server: { metrics: { tokenEnv: 'NOT_SET_ANYWHERE' } } } })).rejects.toThrow(/NOT_SET_ANYWHERE, which is not set/);
  });

  it('reports upstreams in /healthz: unknown, failing after three failures in a row (503 when all fail), ok again after an answer', async () => {
    gateway = await startGateway({ upstream: { retries: 0 } });
    const health = async (): Promise<{ status: number; body: { status: string; upstreams: { name: string; status: string; lastError: string | null }[] } }> => {
      const response = await fetch(`${gateway?.server.url}/healthz`);
      return { status: response.status, body: (await response.json()) as never };
    };
    expect((await health()).body.upstreams).toEqual([expect.objectContaining({ name: 'double', status: 'unknown' })]);
    gateway.double.behaviour = () => ({ status: 503 });
    for (let i = 0; i < 3; i++) await (await gateway.post('/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: `x${i}` }] })).text();
    const failing = await health();
    expect(failing.status).toBe(503);
    expect(failing.body.status).toBe('down');
    expect(failing.body.upstreams[0]).toMatchObject({ status: 'failing', lastError: 'HTTP 503' });
    gateway.double.behaviour = () => ({});
    await (await gateway.post('/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'back' }] })).text();
    const back = await health();
    expect([back.status, back.body.status, back.body.upstreams[0]?.status]).toEqual([200, 'ok', 'ok']);
  });

  it('answers CORS preflights for the listed origins only', async () => {
    gateway = await startGateway({ config: { server: { corsOrigins: ['https://chat.example.cn'] } } });
    const preflight = (origin: string): Promise<Response> =>
      fetch(`${gateway?.server.url}/v1/chat/completions`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } });
    const allowed = await preflight('https://chat.example.cn');
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://chat.example.cn');
    expect(allowed.headers.get('access-control-allow-headers')).toContain('authorization');
    const other = await preflight('https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const post = await gateway.post('/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'hi' }] }, { origin: 'https://chat.example.cn' });
    await post.text();
    expect(post.headers.get('access-control-allow-origin')).toBe('https://chat.example.cn');
    expect(post.headers.get('access-control-expose-headers')).toContain('x-request-id');
  });
});
