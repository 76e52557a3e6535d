/**
 * Acceptance (issue 13): SIGTERM to a real `hegui serve` process while clients stream drains
 * it. No new connection is accepted; the running stream finishes (or, past
 * `server.drainSeconds`, ends with an OpenAI error event and `data: [DONE]`); its audit event
 * is written; the process exits 0; the audit log verifies. A rolling restart (SIGTERM to one of
 * two replicas while 50 clients stream) cuts no stream and loses no event; `kill -9` leaves a
 * started event for a stream that delivered text. On every dialect under test.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AuditLog } from '../src/audit/index.js';
import { createApiUser } from '../src/gateway/index.js';
import { UpstreamDouble } from './gateway-upstream-double.js';
import { describeEachStore } from './helpers/stores.js';

const root = fileURLToPath(new URL('../', import.meta.url));

interface Served {
  child: ChildProcess;
  url: string;
  output: () => string;
}

/** Starts `hegui serve` and resolves once it listens. */
function serve(config: string, database: string): Promise<Served> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'serve', '--config', config, '--port', '0', '--database', database], {
    cwd: root,
    env: { ...process.env, HEGUI_DATABASE_URL: database },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (part: Buffer) => (output += part.toString('utf8')));
  child.stderr?.on('data', (part: Buffer) => (output += part.toString('utf8')));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hegui serve did not start:\n${output}`)), 30_000);
    const look = (): void => {
      const match = /hegui listening on (http:\/\/\S+)/.exec(output);
      if (!match?.[1]) return;
      clearTimeout(timer);
      child.stdout?.off('data', look);
      resolve({ child, url: match[1], output: () => output });
    };
    child.stdout?.on('data', look);
    child.once('exit', (code, signal) => reject(new Error(`hegui serve exited (${code ?? signal}) before listening:\n${output}`)));
  });
}

function exitCode(child: ChildProcess): Promise<number | string | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? child.signalCode);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
}

/** Opens a stream and resolves once its first bytes arrived, with the rest still to read. */
async function startStream(url: string, key: string): Promise<{ id: string; rest: Promise<string>; first: string }> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'double-chat', stream: true, messages: [{ role: 'user', content: 'tell me a long story' }] }),
  });
  expect(response.status).toBe(200);
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let first = '';
  while (!first.includes('第')) {
    const { value, done } = await reader.read();
    if (done) break;
    first += decoder.decode(value, { stream: true });
  }
  const rest = (async (): Promise<string> => {
    let text = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return text + decoder.decode();
      text += decoder.decode(value, { stream: true });
    }
  })();
  return { id: response.headers.get('x-request-id') ?? 'missing', rest, first };
}

/** The `data:` payloads of an SSE text, `[DONE]` as a string. */
function payloads(text: string): unknown[] {
  return text
    .split('\n\n')
    .filter((frame) => frame.startsWith('data: '))
    .map((frame) => frame.slice(6))
    .map((data) => (data === '[DONE]' ? data : JSON.parse(data)));
}

describeEachStore('gateway drained by SIGTERM', (getStore, getDatabase) => {
  let double: UpstreamDouble;
  let dir: string;
  let key: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hegui-drain-'));
    double = await new UpstreamDouble().start();
    key = (await createApiUser(getStore(), { name: 'drain', verified: true })).key;
  });
  afterAll(async () => {
    await double?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const configFile = (name: string, drainSeconds: number): string => {
    const file = join(dir, name);
    writeFileSync(file, [`upstreams: [{ name: double, url: "${double.url}/v1" }]`, 'labels: { producer: "001191350100M000100Y431A001" }', `server: { drainSeconds: ${drainSeconds} }`, ''].join('\n'));
    return file;
  };

  const eventOf = async (id: string): Promise<Record<string, unknown> | undefined> => {
    const page = await new AuditLog(getStore()).list({ type: 'gateway.request', limit: 500 });
    return page.events.find((event) => event.payload.requestId === id) as Record<string, unknown> | undefined;
  };

  // Each test sets the upstream's script itself: the suite runs its tests in a shuffled order.
  it('lets a running stream finish, refuses new connections, writes the event and exits 0', async () => {
    double.behaviour = () => ({ chunks: Array.from({ length: 12 }, (_, i) => `第${i + 1}段。`), chunkDelayMs: 150 });
    const served = await serve(configFile('finish.yaml', 30), getDatabase().url);
    const stream = await startStream(served.url, key);
    served.child.kill('SIGTERM');
    await expect.poll(() => served.output(), { timeout: 10_000, interval: 20 }).toMatch(/stopping: draining/);
    // The listener is closed: a new connection is refused while the stream still runs.
    await expect(fetch(`${served.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
    const text = stream.first + (await stream.rest);
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    for (let i = 1; i <= 12; i++) expect(text).toContain(`第${i}段。`);
    expect(await exitCode(served.child)).toBe(0);
    expect(await eventOf(stream.id)).toMatchObject({ outcome: 'pass', payload: { status: 200, stream: true, error: null } });
    // The start event came first, with the same request id and label.
    const started = (await new AuditLog(getStore()).list({ type: 'gateway.stream', limit: 500 })).events.filter((event) => event.payload.requestId === stream.id);
    expect(started).toHaveLength(1);
    expect((await new AuditLog(getStore()).verify()).ok).toBe(true);
  });

  it('loses no event and cuts no stream when one of two replicas is stopped while 50 clients stream (rolling restart)', async () => {
    double.behaviour = () => ({ chunks: Array.from({ length: 8 }, (_, i) => `第${i + 1}段。`), chunkDelayMs: 100 });
    const config = configFile('rolling.yaml', 30);
    const [a, b] = await Promise.all([serve(config, getDatabase().url), serve(config, getDatabase().url)]);
    try {
      const streams = await Promise.all(Array.from({ length: 50 }, (_, n) => startStream((n % 2 === 0 ? a : b).url, key)));
      a.child.kill('SIGTERM');
      const texts = await Promise.all(streams.map(async (stream) => stream.first + (await stream.rest)));
      expect(texts.filter((text) => !text.endsWith('data: [DONE]\n\n') || !text.includes('第8段。'))).toEqual([]);
      expect(await exitCode(a.child)).toBe(0);
      const recorded = new Set((await new AuditLog(getStore()).list({ type: 'gateway.request', limit: 500 })).events.map((event) => event.payload.requestId));
      expect(streams.map((stream) => stream.id).filter((id) => !recorded.has(id))).toEqual([]);
      expect((await new AuditLog(getStore()).verify()).ok).toBe(true);
    } finally {
      b.child.kill('SIGTERM');
      await exitCode(b.child);
    }
  });

  it('leaves a started event for a stream that delivered text when killed with SIGKILL', async () => {
    double.behaviour = () => ({ chunks: Array.from({ length: 200 }, (_, i) => `第${i + 1}段。`), chunkDelayMs: 100 });
    const served = await serve(configFile('kill.yaml', 30), getDatabase().url);
    const stream = await startStream(served.url, key);
    expect(stream.first).toContain('第1段。');
    served.child.kill('SIGKILL');
    await stream.rest.catch(() => undefined);
    expect(await exitCode(served.child)).toBe('SIGKILL');
    const log = new AuditLog(getStore());
    const started = (await log.list({ type: 'gateway.stream', limit: 500 })).events.find((event) => event.payload.requestId === stream.id);
    expect(started).toMatchObject({ outcome: 'started', actor: expect.stringMatching(/^user:/), payload: { endpoint: 'chat.completions', model: 'double-chat', upstream: 'double', label: expect.any(String) } });
    // The stream never ended: no completing event, and a reader pairing the two by requestId sees it cut.
    expect(await eventOf(stream.id)).toBeUndefined();
    expect((await log.verify()).ok).toBe(true);
  });

  it('ends a stream still running at the drain deadline with an error event and [DONE], its event written', async () => {
    double.behaviour = () => ({ chunks: Array.from({ length: 200 }, (_, i) => `第${i + 1}段。`), chunkDelayMs: 100 });
    const served = await serve(configFile('deadline.yaml', 0.5), getDatabase().url);
    const stream = await startStream(served.url, key);
    served.child.kill('SIGTERM');
    const text = stream.first + (await stream.rest);
    const frames = payloads(text);
    expect(frames.at(-1)).toBe('[DONE]');
    expect(frames.at(-2)).toMatchObject({ error: { code: 'E_GATEWAY_SHUTTING_DOWN', type: 'server_error' } });
    expect(text).not.toContain('第200段。');
    expect(await exitCode(served.child)).toBe(0);
    expect(await eventOf(stream.id)).toMatchObject({ outcome: 'error', payload: { status: 503, stream: true, error: 'E_GATEWAY_SHUTTING_DOWN' } });
    expect((await new AuditLog(getStore()).verify()).ok).toBe(true);
  });
});
