/**
 * @module server/serve
 * Starts the HTTP server on a Node listener. Listens on 127.0.0.1 unless told otherwise.
 */
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { serve, type ServerType } from '@hono/node-server';
import { AuditLog, auditEnvironment } from '../audit/index.js';
import { DeskService, Outbox, smtpTransport, type SubjectData } from '../desk/index.js';
import { createSubjectData } from '../desk/subject.js';
import { NotFoundError } from '../errors.js';
import { closeGatewayServices, createGatewayServices, defaultGatewayConfig, type GatewayConfig } from '../gateway/index.js';
import { loadInstruments, parseServiceProfile } from '../rules/index.js';
import { openStore, type Store } from '../store/index.js';
import { type LabelVerifyKey, parseVerifyKey } from '../label/index.js';
import { version } from '../version.js';
import { createApp } from './app.js';

/** The package root: two levels above this module, in src/ and in dist/ alike. */
export const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
export const defaultProfile = fileURLToPath(new URL('../../examples/profiles/public-chatbot.yaml', import.meta.url));
export const defaultWebRoot = fileURLToPath(new URL('../../web/dist/', import.meta.url));

export interface ServeOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  databaseUrl?: string;
  profilePath?: string;
  webRoot?: string;
  /** The gateway's settings (default: no upstream, no keywords, default policies). */
  gateway?: GatewayConfig;
  /** Environment for upstream keys and audit keys (default: process.env). */
  env?: Record<string, string | undefined>;
  /** Prints start-up lines (URL, one-time sign-in link). */
  log?: (line: string) => void;
  /** Where the access log's JSON lines go when `server.accessLog` is `json` (default: nowhere; `hegui serve` passes standard output). */
  accessLog?: (line: string) => void;
  /** The compliance desk: mail (default `HEGUI_SMTP_URL`, `HEGUI_DESK_FROM`), the SubjectData port, escalation period. */
  desk?: { smtpUrl?: string; from?: string; subject?: SubjectData; escalateEveryMs?: number; outboxEveryMs?: number };
}

export interface RunningServer {
  url: string;
  store: Store;
  /** The audit log every gateway request is recorded in. */
  audit: AuditLog;
  /** The one-time sign-in link, when no admin existed at start. */
  signinUrl?: string;
  /** The compliance desk (its outbox delivers every few seconds; escalation runs periodically). */
  desk?: DeskService;
  /**
   * Stops gracefully: no new connections or requests; running requests and streams get up to
   * `drainMs` (default 0) to finish, then their upstream calls are ended, each stream with a
   * final error event and `[DONE]`; every running request's audit event is written before the
   * store closes.
   */
  close(drainMs?: number): Promise<void>;
}

/** After the drain deadline, how long ended streams get to write their events and last frames. */
const SHUTDOWN_GRACE_MS = 5000;
/** How long answers sent get to leave before the remaining connections are closed. */
const LINGER_MS = 1000;

/** Public keys (comma-separated PEM files) that `/api/labels/inspect` checks signatures against. */
async function verifyKeysFrom(list: string | undefined): Promise<LabelVerifyKey[]> {
  const files = (list ?? '').split(',').map((f) => f.trim()).filter(Boolean);
  return Promise.all(
    files.map(async (file) => {
      const pem = await readFile(file, 'utf8').catch((cause: NodeJS.ErrnoException) => {
        throw new NotFoundError('E_FILE_NOT_FOUND', `HEGUI_LABEL_VERIFY_KEYS: cannot read ${file}: ${cause.code === 'ENOENT' ? 'no such file' : cause.message}`, { cause });
      });
      return parseVerifyKey(pem);
    }),
  );
}

/**
 * True for addresses only this machine reaches. Beyond them the dashboard is reached through
 * a TLS-terminating proxy, and the session cookie is marked `Secure`.
 */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare) || bare === '::ffff:127.0.0.1';
}

export async function startServer(options: ServeOptions = {}): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const profilePath = options.profilePath ?? defaultProfile;
  const profileText = await readFile(profilePath, 'utf8').catch((cause: NodeJS.ErrnoException) => {
    throw new NotFoundError('E_FILE_NOT_FOUND', `cannot read profile ${profilePath}: ${cause.code === 'ENOENT' ? 'no such file' : cause.message}`, { cause });
  });
  const profile = parseServiceProfile(profileText, profilePath);
  const instruments = loadInstruments();
  // A long-running server: SQLite's WAL checkpoints run on a worker thread, not in a request's commit.
  const store = await openStore(options.databaseUrl, { checkpointInBackground: true });
  const log = options.log ?? (() => undefined);
  const env = options.env ?? process.env;
  const gatewayConfig = options.gateway ?? defaultGatewayConfig();
  let audit: AuditLog;
  let gateway: Awaited<ReturnType<typeof createGatewayServices>>;
  try {
    audit = new AuditLog(store, { ...auditEnvironment(env), contentPolicy: gatewayConfig.audit.content, commitWindowMs: gatewayConfig.audit.commitWindowMs });
    const accessLog = gatewayConfig.server.accessLog === 'json' ? options.accessLog : undefined;
    gateway = await createGatewayServices({ config: gatewayConfig, store, audit, env, log, ...(accessLog ? { accessLog } : {}) });
  } catch (error) {
    await store.close();
    throw error;
  }
  const labelVerifyKeys = await verifyKeysFrom(env.HEGUI_LABEL_VERIFY_KEYS).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  const smtpUrl = options.desk?.smtpUrl ?? env.HEGUI_SMTP_URL;
  const transport = smtpUrl ? await smtpTransport(smtpUrl) : undefined;
  const from = options.desk?.from ?? env.HEGUI_DESK_FROM;
  const outbox = new Outbox(store, { ...(transport ? { transport } : {}), ...(from ? { from } : {}), log });
  if (!transport) log('desk: HEGUI_SMTP_URL is not set: one-time codes and feedback wait in the outbox until it is');
  const deskPublicUrl = gatewayConfig.server.publicUrl;
  // Personal-information requests are carried out over what hegui holds (gateway rows, audit log).
  const subject = options.desk?.subject ?? createSubjectData(store, { audit });
  const desk = new DeskService({ store, audit, outbox, subject, ...(deskPublicUrl ? { publicUrl: deskPublicUrl } : {}) });
  const { app, bootstrap } = createApp({
    desk,
    audit,
    gateway,
    labelVerifyKeys,
    store,
    instruments,
    profile,
    profileSource: profilePath,
    webRoot: options.webRoot ?? defaultWebRoot,
    version,
    secureCookies: !isLoopback(host),
  });

  let server: ServerType;
  const port = await new Promise<number>((resolvePort, reject) => {
    server = serve({ fetch: app.fetch, hostname: host, port: options.port ?? 8787 }, (info: AddressInfo) => resolvePort(info.port));
    server.once('error', reject);
  }).catch(async (cause: NodeJS.ErrnoException) => {
    await store.close();
    const why = cause.code === 'EADDRINUSE' ? `port ${options.port ?? 8787} is in use; pass --port` : cause.message;
    throw new NotFoundError('E_SERVER_LISTEN', `cannot listen on ${host}: ${why}`, { cause });
  });
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const url = `http://${shownHost}:${port}`;
  gateway.publicUrl ??= url;
  desk.publicUrl ??= url;
  if (!gatewayConfig.server.publicUrl && !isLoopback(host)) {
    log(`server.publicUrl is not set: links to labeled media start with ${url}, which clients elsewhere may not reach; set it to the URL clients use`);
  }
  log(`hegui listening on ${url} (database ${store.location}; profile ${profilePath})`);

  outbox.start(options.desk?.outboxEveryMs ?? 5000);
  const escalation = setInterval(() => void desk.escalate().catch((e: unknown) => log(`desk escalation: ${(e as Error).message}`)), options.desk?.escalateEveryMs ?? 15 * 60_000);
  escalation.unref();

  let signinUrl: string | undefined;
  if ((await store.operators.countActiveAdmins()) === 0) {
    const issued = await bootstrap.issue();
    if ('token' in issued) {
      signinUrl = `${url}/signin?token=${issued.token}`;
      log('No admin exists yet. Open this one-time link to choose the first admin\'s name and password (it works on every replica, once):');
      log(`    ${signinUrl}`);
    } else {
      log(`No admin exists yet. Another replica printed the one-time sign-in link at ${issued.issuedAt}; open it from that replica's log (it works here too), or run \`hegui operators add NAME --role admin\`.`);
    }
  }

  return {
    url,
    store,
    audit,
    desk,
    ...(signinUrl ? { signinUrl } : {}),
    close: async (drainMs = 0) => {
      clearInterval(escalation);
      const listener = server as unknown as { closeAllConnections(): void; closeIdleConnections(): void };
      gateway.inflight.stop();
      const closed = new Promise<void>((done) => server.close(() => done()));
      // Connections whose answer is complete are closed as they fall idle.
      const sweep = setInterval(() => listener.closeIdleConnections(), 50);
      try {
        if (!(await gateway.inflight.idle(drainMs))) {
          log(`drain deadline: ending ${gateway.inflight.size} running request(s)`);
          gateway.inflight.shutdown();
          await gateway.inflight.idle(SHUTDOWN_GRACE_MS);
        }
        await Promise.race([closed, new Promise((done) => setTimeout(done, gateway.inflight.size === 0 ? LINGER_MS : 0))]);
      } finally {
        clearInterval(sweep);
      }
      listener.closeAllConnections();
      await closed;
      await closeGatewayServices(gateway);
      await outbox.stop();
      transport?.close();
      await audit.flush();
      await store.close();
    },
  };
}
