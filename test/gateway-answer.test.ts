/**
 * The gateway's answers written straight to the Node response (src/gateway/answer.ts): a
 * stream's headers leave with its first frame (or alone, when the upstream keeps the first
 * event waiting), its last frame with the end of the chunked body. Attacked with an upstream
 * whose bytes arrive split mid-UTF-8 and mid-line, one that breaks off mid-character, and
 * multi-byte whole answers.
 */
import { createServer, request, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatText, type GatewayHarness, startGateway } from './gateway-harness.js';

const ANSWER = '你好，世界！Grüße 🌍 — naïve café, 第二句话。';

function frame(delta: object, finish: string | null = null): string {
  return `data: ${JSON.stringify({ id: 'chatcmpl-raw', object: 'chat.completion.chunk', created: 1, model: 'raw', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
}

/** The whole upstream stream, as bytes, in 3-character deltas. */
const STREAM = Buffer.from([frame({ role: 'assistant', content: '' }), ...(ANSWER.match(/[\s\S]{1,3}/gu) ?? []).map((p) => frame({ content: p })), frame({}, 'stop'), 'data: [DONE]\n\n'].join(''));

/** How the raw upstream answers the next stream request. */
let mode: 'split' | 'break' | 'hold' = 'split';
/** Releases a held stream (mode `hold`). */
let release: () => void = () => undefined;

/** An upstream that writes the stream's bytes in pieces of 1 to 7 bytes, cutting characters and lines. */
async function sendSplit(res: ServerResponse, bytes: Buffer, stopAt = bytes.length): Promise<void> {
  let at = 0;
  let size = 1;
  while (at < stopAt) {
    const end = Math.min(stopAt, at + size);
    res.write(bytes.subarray(at, end));
    at = end;
    size = (size % 7) + 1;
    // Every few pieces, let them leave as separate reads.
    if (size === 4) await new Promise((done) => setTimeout(done, 1));
  }
}

function rawUpstream(): Server {
  return createServer((req, res) => {
    let body = '';
    req.on('data', (part: Buffer) => (body += part.toString('utf8')));
    req.on('end', () => {
      const stream = (JSON.parse(body) as { stream?: boolean }).stream === true;
      if (!stream) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({ id: 'chatcmpl-raw', object: 'chat.completion', created: 1, model: 'raw', choices: [{ index: 0, message: { role: 'assistant', content: ANSWER }, logprobs: null, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 9, total_tokens: 12 } }),
        );
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
      void (async () => {
        if (mode === 'hold') await new Promise<void>((done) => (release = done));
        if (mode === 'break') {
          // Cut inside the first multi-byte character of the fourth delta.
          const cut = STREAM.indexOf(Buffer.from('世')) + 1;
          await sendSplit(res, STREAM, cut);
          res.destroy();
          return;
        }
        await sendSplit(res, STREAM);
        res.end();
      })();
    });
  });
}

/** A raw HTTP exchange: the response head as soon as it arrives, then the body's bytes. */
function post(url: string, key: string, body: object): Promise<{ status: number; headers: IncomingHttpHeaders; body: Promise<Buffer> }> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = request(url, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
      const parts: Buffer[] = [];
      const body = new Promise<Buffer>((done, fail) => {
        res.on('data', (part: Buffer) => parts.push(part));
        res.on('end', () => done(Buffer.concat(parts)));
        res.on('error', fail);
      });
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** The `data:` payloads of an SSE body, checking its framing: every frame is `data: ...` and ends with a blank line. */
function frames(body: Buffer): { events: Record<string, unknown>[]; done: number } {
  const text = body.toString('utf8');
  expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
  const events: Record<string, unknown>[] = [];
  let done = 0;
  for (const part of text.slice(0, -2).split('\n\n')) {
    expect(part.startsWith('data: ')).toBe(true);
    const data = part.slice(6);
    if (data === '[DONE]') done++;
    else events.push(JSON.parse(data) as Record<string, unknown>);
  }
  return { events, done };
}

describe('answers written to the Node response', () => {
  let h: GatewayHarness;
  let upstream: Server;
  let url: string;

  beforeAll(async () => {
    upstream = rawUpstream();
    await new Promise<void>((done) => upstream.listen(0, '127.0.0.1', () => done()));
    h = await startGateway({ upstream: { url: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`, retries: 0 } });
    url = `${h.server.url}/v1/chat/completions`;
  });
  afterAll(async () => {
    await h.close();
    await new Promise<void>((done) => upstream.close(() => done()));
  });

  it('relays a stream whose bytes arrive split mid-character and mid-line, whole and well framed', async () => {
    mode = 'split';
    const answer = await post(url, h.key, { model: 'raw', stream: true, messages: [{ role: 'user', content: 'split' }] });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toContain('text/event-stream');
    expect(answer.headers['transfer-encoding']).toBe('chunked');
    expect(answer.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
    expect(answer.headers['x-aigc-label']).toBe('1');
    const { events, done } = frames(await answer.body);
    expect(done).toBe(1);
    expect(chatText(events)).toContain(ANSWER);
    const last = events[events.length - 1] as { hegui?: { aigc?: { ProduceID?: string } } };
    expect(last.hegui?.aigc?.ProduceID).toBe(answer.headers['x-aigc-produceid']);
    const [event] = await h.events();
    expect(event).toMatchObject({ outcome: 'pass', payload: { requestId: answer.headers['x-request-id'], status: 200, stream: true } });
  });

  it('ends a stream whose upstream breaks off mid-character with an error event and [DONE], recorded', async () => {
    mode = 'break';
    const answer = await post(url, h.key, { model: 'raw', stream: true, messages: [{ role: 'user', content: 'break' }] });
    expect(answer.status).toBe(200);
    const { events, done } = frames(await answer.body);
    expect(done).toBe(1);
    expect(chatText(events)).not.toContain('\uFFFD');
    expect(events.find((e) => e.error)).toMatchObject({ error: { code: 'E_GATEWAY_UPSTREAM' } });
    const [event] = await h.events();
    expect(event).toMatchObject({ outcome: 'error', payload: { requestId: answer.headers['x-request-id'], status: 502, stream: true } });
  });

  it('sends a stream\'s headers while the upstream keeps its first event waiting', async () => {
    mode = 'hold';
    // The upstream sends nothing until the client has the gateway's headers.
    const answer = await post(url, h.key, { model: 'raw', stream: true, messages: [{ role: 'user', content: 'hold' }] });
    expect(answer.status).toBe(200);
    expect(answer.headers['x-request-id']).toBeDefined();
    release();
    const { events, done } = frames(await answer.body);
    expect(done).toBe(1);
    expect(chatText(events)).toContain(ANSWER);
  });

  it('answers a whole multi-byte answer with its exact length', async () => {
    const answer = await post(url, h.key, { model: 'raw', messages: [{ role: 'user', content: 'whole' }] });
    expect(answer.status).toBe(200);
    const body = await answer.body;
    expect(Number(answer.headers['content-length'])).toBe(body.byteLength);
    const parsed = JSON.parse(body.toString('utf8')) as { choices: { message: { content: string } }[]; hegui: { aigc: { ProduceID: string } } };
    expect(parsed.choices[0]?.message.content).toContain(ANSWER);
    expect(parsed.hegui.aigc.ProduceID).toBe(answer.headers['x-aigc-produceid']);
    expect(answer.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers errors with their status, headers and exact length', async () => {
    const answer = await post(url, h.key, { model: 'raw', messages: 'not a list' });
    expect(answer.status).toBe(400);
    const body = await answer.body;
    expect(Number(answer.headers['content-length'])).toBe(body.byteLength);
    expect(JSON.parse(body.toString('utf8'))).toMatchObject({ error: { type: 'invalid_request_error' } });
    expect(answer.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
