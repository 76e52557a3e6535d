/**
 * Starts the real hegui server with the gateway in front of the upstream double, a keyword
 * library, a SQLite store and a user with an API key; and an official `openai` client for it.
 * With `now`, the gateway runs in-process on a Hono app instead, every clock (limits, minors'
 * mode, sanctions, tokens, audit times) reading that function, so time-dependent tests are exact.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import OpenAI from 'openai';
import { AuditLog } from '../src/audit/index.js';
import { closeGatewayServices, createApiUser, createGatewayServices, type GatewayConfig, type GatewayServices, mountGateway, parseGatewayConfig } from '../src/gateway/index.js';
import { type RunningServer, startServer } from '../src/server/index.js';
import { openStore } from '../src/store/index.js';
import { UpstreamDouble } from './gateway-upstream-double.js';

/** Keywords the tests try to smuggle through. */
export const KEYWORDS = { zh: '炸弹制作', en: 'forbiddenword', discrimination: 'tabooword' } as const;

export const BLOCK_MESSAGE = '[blocked by hegui]';

export interface GatewayHarness {
  double: UpstreamDouble;
  server: RunningServer;
  key: string;
  dir: string;
  /** The store's URL, for the CLI (`HEGUI_DATABASE_URL`). */
  databaseUrl: string;
  client: OpenAI;
  /** The gateway's services, when it runs in-process (with `now`). */
  services?: GatewayServices;
  /** POST a JSON body to the gateway with the user's key. */
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  /** The gateway.request audit events, newest first. */
  events(): Promise<Awaited<ReturnType<RunningServer['audit']['list']>>['events']>;
  close(): Promise<void>;
}

export interface GatewayOptions {
  config?: Record<string, unknown>;
  upstream?: Record<string, unknown>;
  safety?: Record<string, unknown>;
  edit?: (config: GatewayConfig) => void;
  /** Run in-process with this clock (ms since the epoch). */
  now?: () => number;
  /** Environment for upstream keys and JWT secrets. */
  env?: Record<string, string | undefined>;
  /** Database URL (default: a SQLite file in the suite's folder). */
  databaseUrl?: string;
  /** Receives the access log's lines. */
  accessLog?: (line: string) => void;
  /** The built dashboard to serve (default: none). */
  webRoot?: string;
}

/** The gateway alone on a Hono app, every clock reading `now`: what `startServer` runs, minus the dashboard. */
async function startInProcess(config: GatewayConfig, databaseUrl: string, now: () => number, env: Record<string, string | undefined>): Promise<{ server: RunningServer; services: GatewayServices }> {
  const store = await openStore(databaseUrl);
  const audit = new AuditLog(store, { clock: () => new Date(now()) });
  const services = await createGatewayServices({ config, store, audit, env, now });
  const app = new Hono();
  mountGateway(app, services);
  const listener = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const started = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(started));
  });
  const url = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
  services.publicUrl ??= url;
  const close = async (): Promise<void> => {
    await new Promise<void>((done) => {
      listener.close(() => done());
      (listener as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
    });
    await closeGatewayServices(services);
    await audit.flush();
    await store.close();
  };
  return { server: { url, store, audit, close }, services };
}

export async function startGateway(options: GatewayOptions = {}): Promise<GatewayHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'hegui-gateway-'));
  const double = await new UpstreamDouble().start();
  const keywords = join(dir, 'keywords.json');
  writeFileSync(
    keywords,
    JSON.stringify({
      format: 'hegui-keywords/1',
      name: 'gateway-test',
      entries: [
        { keyword: KEYWORDS.zh, risk: 'A1.4' },
        { keyword: KEYWORDS.en, risk: 'A1.6' },
        { keyword: KEYWORDS.discrimination, risk: 'A2.3' },
      ],
    }),
  );
  const config = parseGatewayConfig(
    {
      upstreams: [{ name: 'double', url: `${double.url}/v1`, models: ['*'], timeoutSeconds: 2, idleTimeoutSeconds: 1, retries: 2, ...options.upstream }],
      safety: { keywords: [keywords], blockMessage: BLOCK_MESSAGE, ...options.safety },
      labels: { producer: '001191350100M000100Y431A001' },
      // The leak and fault suites block on purpose, many times: no sanctions unless a suite asks.
      abuse: { steps: [] },
      // The upstream double serves its generated files over plain http on loopback.
      media: { allowLoopback: true },
      ...options.config,
    },
    'test config',
    dir,
  );
  options.edit?.(config);
  const databaseUrl = options.databaseUrl ?? `file:${join(dir, 'hegui.db')}`;
  const env = options.env ?? {};
  const inProcess = options.now ? await startInProcess(config, databaseUrl, options.now, env) : undefined;
  const server = inProcess?.server ?? (await startServer({ port: 0, databaseUrl, webRoot: options.webRoot ?? join(dir, 'web'), gateway: config, env, ...(options.accessLog ? { accessLog: options.accessLog } : {}) }));
  const { key } = await createApiUser(server.store, { name: 'tester', verified: true });
  const client = new OpenAI({ apiKey: key, baseURL: `${server.url}/v1`, maxRetries: 0, timeout: 10_000 });
  return {
    double,
    server,
    key,
    dir,
    databaseUrl,
    client,
    ...(inProcess ? { services: inProcess.services } : {}),
    post: (path, body, headers = {}) =>
      fetch(`${server.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }),
    events: async () => (await server.audit.list({ type: 'gateway.request', limit: 500 })).events,
    close: async () => {
      await server.close();
      await double.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Reads an SSE response into its `data:` payloads (without `[DONE]`) and whether `[DONE]` came. */
export async function readSse(response: Response): Promise<{ events: Record<string, unknown>[]; done: boolean; names: string[] }> {
  const text = await response.text();
  const events: Record<string, unknown>[] = [];
  const names: string[] = [];
  let done = false;
  for (const frame of text.split('\n\n')) {
    const data = frame.split('\n').find((line) => line.startsWith('data: '))?.slice(6);
    const name = frame.split('\n').find((line) => line.startsWith('event: '))?.slice(7);
    if (data === undefined) continue;
    if (data === '[DONE]') done = true;
    else {
      events.push(JSON.parse(data) as Record<string, unknown>);
      if (name) names.push(name);
    }
  }
  return { events, done, names };
}

/** The text of chat chunks' `delta.content`, joined. */
export function chatText(events: Record<string, unknown>[]): string {
  let text = '';
  for (const event of events) {
    for (const choice of (event.choices as { delta?: { content?: string } }[] | undefined) ?? []) text += choice.delta?.content ?? '';
  }
  return text;
}
