/**
 * Acceptance: a real `hegui serve` process under concurrent load is killed with SIGKILL and
 * started again on the same database. `hegui audit verify` passes, and every request the
 * clients saw answered (a whole JSON answer, or a stream up to `data: [DONE]`) has its audit
 * event, found by the `x-request-id` it was answered with. On every dialect under test. With
 * `audit.commitWindowMs` (answers do not wait for their event's commit) a kill loses the events
 * of the last window at most, and a SIGTERM none.
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
import { cli } from './helpers/cli.js';
import { describeEachStore } from './helpers/stores.js';

const root = fileURLToPath(new URL('../', import.meta.url));

interface Served {
  child: ChildProcess;
  url: string;
}

/** Starts `hegui serve` and resolves once it listens. */
function serve(config: string, database: string): Promise<Served> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'serve', '--config', config, '--port', '0', '--database', database], {
    cwd: root,
    env: { ...process.env, HEGUI_DATABASE_URL: database },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`hegui serve did not start:\n${output}`)), 30_000);
    const look = (part: Buffer): void => {
      output += part.toString('utf8');
      const match = /hegui listening on (http:\/\/\S+)/.exec(output);
      if (!match?.[1]) return;
      clearTimeout(timer);
      child.stdout?.off('data', look);
      child.stdout?.resume();
      resolve({ child, url: match[1] });
    };
    child.stdout?.on('data', look);
    child.stderr?.on('data', (part: Buffer) => (output += part.toString('utf8')));
    child.once('exit', (code, signal) => reject(new Error(`hegui serve exited (${code ?? signal}) before listening:\n${output}`)));
  });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

describeEachStore('gateway killed with SIGKILL under load', (getStore, getDatabase) => {
  let double: UpstreamDouble;
  let dir: string;
  let config: string;
  let key: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hegui-kill-'));
    double = await new UpstreamDouble().start();
    double.behaviour = (_path, body) => (body.stream === true ? { chunks: ['第一段，', '第二段，', '第三段。'], chunkDelayMs: 3 } : { text: '好的。', headersDelayMs: 2 });
    config = join(dir, 'hegui.config.yaml');
    writeFileSync(config, [`upstreams: [{ name: double, url: "${double.url}/v1" }]`, 'labels: { producer: "001191350100M000100Y431A001" }', ''].join('\n'));
    key = (await createApiUser(getStore(), { name: 'load', verified: true })).key;
  });
  afterAll(async () => {
    await double?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps a verifiable log with an event for every answered request', async () => {
    const database = getDatabase().url;
    const first = await serve(config, database);
    const answered: string[] = [];
    let interrupted = 0;
    let running = true;
    const worker = async (n: number): Promise<void> => {
      for (let i = 0; running; i++) {
        const stream = (n + i) % 2 === 0;
        try {
          const response = await fetch(`${first.url}/v1/chat/completions`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body: JSON.stringify({ model: 'double-chat', stream, messages: [{ role: 'user', content: `request ${n}.${i}` }] }),
          });
          const text = await response.text();
          const complete = response.status === 200 && (stream ? text.endsWith('data: [DONE]\n\n') : JSON.parse(text).choices !== undefined);
          if (complete) answered.push(response.headers.get('x-request-id') ?? 'missing');
        } catch {
          interrupted++;
        }
      }
    };
    const workers = Array.from({ length: 12 }, (_, n) => worker(n));
    await expect.poll(() => answered.length, { timeout: 20_000, interval: 20 }).toBeGreaterThan(60);
    first.child.kill('SIGKILL');
    await exited(first.child);
    running = false;
    await Promise.all(workers);
    expect(interrupted).toBeGreaterThan(0);

    const second = await serve(config, database);
    try {
      const after = await fetch(`${second.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'double-chat', messages: [{ role: 'user', content: 'still there?' }] }),
      });
      expect(after.status).toBe(200);
      const verify = await cli(['audit', 'verify'], { env: { HEGUI_DATABASE_URL: database } });
      expect(verify.stdout).toMatch(/^audit log OK: \d+ events/);
      expect(verify.code).toBe(0);
      const log = new AuditLog(getStore());
      const recorded = new Set<unknown>();
      for (let cursor: string | null = null; ; ) {
        const page = await log.list({ type: 'gateway.request', limit: 500, cursor });
        for (const event of page.events) recorded.add(event.payload.requestId);
        cursor = page.nextCursor;
        if (!cursor) break;
      }
      expect(answered.filter((id) => !recorded.has(id))).toEqual([]);
      expect(recorded.has(after.headers.get('x-request-id'))).toBe(true);
    } finally {
      second.child.kill('SIGTERM');
      await exited(second.child);
    }
  });

  it('with audit.commitWindowMs, a kill loses at most the events of the last window, and SIGTERM none', async () => {
    const windowMs = 300;
    const windowed = join(dir, 'hegui-window.config.yaml');
    writeFileSync(windowed, [`upstreams: [{ name: double, url: "${double.url}/v1" }]`, 'labels: { producer: "001191350100M000100Y431A001" }', `audit: { commitWindowMs: ${windowMs} }`, ''].join('\n'));
    const database = getDatabase().url;
    const recordedIds = async (): Promise<Set<unknown>> => {
      const recorded = new Set<unknown>();
      const log = new AuditLog(getStore());
      for (let cursor: string | null = null; ; ) {
        const page = await log.list({ type: 'gateway.request', limit: 500, cursor });
        for (const event of page.events) recorded.add(event.payload.requestId);
        cursor = page.nextCursor;
        if (!cursor) break;
      }
      return recorded;
    };
    /** Clients asking one request after another; each answered request with the moment its answer was complete. */
    const load = (url: string, clients: number): { answered: { id: string; at: number }[]; stop: () => Promise<void> } => {
      const answered: { id: string; at: number }[] = [];
      let running = true;
      const worker = async (n: number): Promise<void> => {
        for (let i = 0; running; i++) {
          const stream = (n + i) % 2 === 0;
          try {
            const response = await fetch(`${url}/v1/chat/completions`, {
              method: 'POST',
              headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
              body: JSON.stringify({ model: 'double-chat', stream, messages: [{ role: 'user', content: `window ${n}.${i}` }] }),
            });
            const text = await response.text();
            const complete = response.status === 200 && (stream ? text.endsWith('data: [DONE]\n\n') : JSON.parse(text).choices !== undefined);
            if (complete) answered.push({ id: response.headers.get('x-request-id') ?? 'missing', at: performance.now() });
          } catch {
            // the kill
          }
        }
      };
      const workers = Array.from({ length: clients }, (_, n) => worker(n));
      return { answered, stop: async () => void ((running = false), await Promise.all(workers)) };
    };

    const first = await serve(windowed, database);
    const killedLoad = load(first.url, 4);
    // Long enough that many answers are older than the window when the kill comes.
    await expect.poll(() => killedLoad.answered.length, { timeout: 20_000, interval: 20 }).toBeGreaterThan(60);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const killedAt = performance.now();
    first.child.kill('SIGKILL');
    await exited(first.child);
    await killedLoad.stop();
    const verify = await cli(['audit', 'verify'], { env: { HEGUI_DATABASE_URL: database } });
    expect(verify.stdout).toMatch(/^audit log OK: \d+ events/);
    expect(verify.code).toBe(0);
    const afterKill = await recordedIds();
    const lost = killedLoad.answered.filter((a) => !afterKill.has(a.id));
    // What the window allows: answers of the last window (and the batch being written when the
    // kill came, whose timer a busy test machine may fire late: 1 s of slack). Nothing older.
    const slackMs = 1000;
    expect(lost.filter((a) => a.at < killedAt - windowMs - slackMs)).toEqual([]);
    expect(killedLoad.answered.filter((a) => a.at < killedAt - windowMs - slackMs).length).toBeGreaterThan(0);

    // A clean stop writes every event still waiting for its window.
    const second = await serve(windowed, database);
    const stoppedLoad = load(second.url, 4);
    await expect.poll(() => stoppedLoad.answered.length, { timeout: 20_000, interval: 20 }).toBeGreaterThan(30);
    second.child.kill('SIGTERM');
    await exited(second.child);
    await stoppedLoad.stop();
    expect(second.child.exitCode).toBe(0);
    const afterStop = await recordedIds();
    expect(stoppedLoad.answered.filter((a) => !afterStop.has(a.id))).toEqual([]);
    const verifyAgain = await cli(['audit', 'verify'], { env: { HEGUI_DATABASE_URL: database } });
    expect(verifyAgain.code).toBe(0);
  }, 90_000);
});
