import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { llamaGuardClassifier, openAiModerationClassifier, qwen3GuardClassifier } from './classifier-http.js';

/**
 * A local server that answers like the real endpoints: OpenAI `/v1/moderations`, and
 * OpenAI-compatible `/v1/chat/completions` as vLLM serves Llama Guard or Qwen3Guard-Gen. The
 * reply is chosen by the text under test, so each test states what the model "says".
 */
type Handler = (body: Record<string, unknown>, req: IncomingMessage, res: ServerResponse) => void;
let server: Server;
let baseUrl: string;
const requests: { path: string; auth: string | undefined; body: Record<string, unknown> }[] = [];

function chat(res: ServerResponse, content: string): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', model: 'guard', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }] }));
}

const moderation: Handler = (body, _req, res) => {
  const input = String(body.input);
  const violent = input.includes('attack');
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      id: 'modr-1',
      model: body.model ?? 'omni-moderation-latest',
      results: [
        {
          flagged: violent,
          categories: { violence: violent, hate: false, 'self-harm': false },
          category_scores: { violence: violent ? 0.93 : 0.01, hate: input.includes('borderline') ? 0.4 : 0.001, 'self-harm': 0.0002 },
        },
      ],
    }),
  );
};

const completions: Handler = (body, _req, res) => {
  const messages = body.messages as { role: string; content: string }[];
  const last = messages[messages.length - 1]?.content ?? '';
  if (last.includes('slow')) {
    setTimeout(() => chat(res, 'safe'), 500);
    return;
  }
  if (last.includes('crash')) {
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ object: 'error', message: 'CUDA out of memory', code: 500 }));
    return;
  }
  if (last.includes('garbled')) return chat(res, 'I think this is fine');
  if (body.model === 'llama-guard') return chat(res, last.includes('weapon') ? 'unsafe\nS9,S1' : 'safe');
  if (last.includes('protest')) return chat(res, 'Safety: Controversial\nCategories: Politically Sensitive Topics');
  if (last.includes('weapon')) return chat(res, messages.length > 1 ? 'Safety: Unsafe\nCategories: Violent, Non-violent Illegal Acts\nRefusal: No' : 'Safety: Unsafe\nCategories: Violent');
  return chat(res, 'Safety: Safe\nCategories: None');
};

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
    req.on('end', () => {
      const body = JSON.parse(raw || '{}') as Record<string, unknown>;
      requests.push({ path: req.url ?? '', auth: req.headers.authorization, body });
      if (req.url === '/v1/moderations') moderation(body, req, res);
      else if (req.url === '/v1/chat/completions') completions(body, req, res);
      else {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'Not Found' } }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('OpenAI-compatible moderation', () => {
  it('maps flagged categories onto GB/T 45654 risks and sends the key', async () => {
    const classifier = openAiModerationClassifier({ baseUrl, apiKey: 'sk-test', model: 'omni-moderation-latest' });
    const verdict = await classifier.classify('how to attack a person', { direction: 'input' });
    expect(verdict).toEqual({ classifier: 'openai-moderation', flagged: true, labels: [{ label: 'violence', risk: 'A1.6', severity: 'high', score: 0.93 }] });
    expect(requests.at(-1)).toMatchObject({ path: '/v1/moderations', auth: 'Bearer sk-test', body: { model: 'omni-moderation-latest', input: 'how to attack a person' } });
    expect((await classifier.classify('hello', { direction: 'input' })).flagged).toBe(false);
  });
  it('counts scores at or above a threshold', async () => {
    const classifier = openAiModerationClassifier({ baseUrl, threshold: 0.3 });
    const verdict = await classifier.classify('a borderline remark', { direction: 'output' });
    expect(verdict.labels).toEqual([{ label: 'hate', risk: 'A1.5', severity: 'medium', score: 0.4 }]);
  });
  it('turns an unknown endpoint into a ClassifierError', async () => {
    const classifier = openAiModerationClassifier({ baseUrl: `${baseUrl}/nowhere` });
    await expect(classifier.classify('x', { direction: 'input' })).rejects.toMatchObject({ code: 'E_SAFETY_CLASSIFIER_FAILED', message: expect.stringContaining('HTTP 404') });
  });
});

describe('Llama Guard behind an OpenAI-compatible API', () => {
  const guard = () => llamaGuardClassifier({ baseUrl, model: 'llama-guard' });
  it('reads "unsafe" with its hazard codes', async () => {
    const verdict = await guard().classify('build a weapon', { direction: 'input' });
    expect(verdict.labels.map((l) => [l.label, l.risk])).toEqual([
      ['S9', 'A1.4'],
      ['S1', 'A1.6'],
    ]);
  });
  it('sends prompt and answer for output checks', async () => {
    await guard().classify('the answer', { direction: 'output', prompt: 'the question' });
    expect(requests.at(-1)?.body.messages).toEqual([
      { role: 'user', content: 'the question' },
      { role: 'assistant', content: 'the answer' },
    ]);
  });
  it('rejects a reply that is neither safe nor unsafe', async () => {
    await expect(guard().classify('garbled', { direction: 'input' })).rejects.toMatchObject({ code: 'E_SAFETY_CLASSIFIER_FAILED' });
  });
});

describe('Qwen3Guard-Gen behind vLLM or SGLang', () => {
  const guard = () => qwen3GuardClassifier({ baseUrl, model: 'Qwen/Qwen3Guard-Gen-4B' });
  it('maps Unsafe categories with high severity', async () => {
    const verdict = await guard().classify('weapon please', { direction: 'output', prompt: 'q' });
    expect(verdict.labels).toEqual([
      { label: 'Violent', risk: 'A1.6', severity: 'high' },
      { label: 'Non-violent Illegal Acts', risk: 'A1.8', severity: 'high' },
    ]);
  });
  it('maps Controversial with low severity, or ignores it when asked', async () => {
    expect((await guard().classify('a protest', { direction: 'input' })).labels).toEqual([{ label: 'Politically Sensitive Topics', risk: 'A1.1', severity: 'low' }]);
    const lenient = qwen3GuardClassifier({ baseUrl, controversial: 'ignore' });
    expect((await lenient.classify('a protest', { direction: 'input' })).flagged).toBe(false);
  });
  it('passes Safe', async () => {
    expect(await guard().classify('hello', { direction: 'input' })).toEqual({ classifier: 'qwen3guard', flagged: false, labels: [] });
  });
  it('fails on a server error, a timeout and an unreachable host', async () => {
    await expect(guard().classify('crash', { direction: 'input' })).rejects.toMatchObject({ message: expect.stringContaining('HTTP 500') });
    const impatient = qwen3GuardClassifier({ baseUrl, timeoutMs: 100 });
    await expect(impatient.classify('slow', { direction: 'input' })).rejects.toMatchObject({ message: expect.stringContaining('within 100 ms') });
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const unreachable = qwen3GuardClassifier({ baseUrl: `http://127.0.0.1:${port}/v1` });
    await expect(unreachable.classify('x', { direction: 'input' })).rejects.toMatchObject({ message: expect.stringContaining('cannot reach') });
  });
});
