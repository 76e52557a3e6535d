/**
 * @module gateway/setup
 * Builds the gateway's services from its configuration: upstreams and routing, the content
 * guard over the configured keyword libraries (files and live ones from the store), the
 * labeler (provider code, signing key, notice), callers by API key or JWT, access control
 * (identity, limits, minors' mode, sanctions), media labeling and links. The audit sink is
 * handed in, because `src/audit` owns the event log.
 */
import { readFile } from 'node:fs/promises';
import { labelAudio } from '../label/explicit/index.js';
import { parseSigningKey, type EmbedRequest } from '../label/index.js';
import { compileLibrary, createLibrary, DEFAULT_SAFE_REPLY, defaultPolicy, SafetyGuard, type SafetyPolicy } from '../safety/index.js';
import type { Store } from '../store/index.js';
import { AccessControl } from './access.js';
import { type AuditSink, committedLater } from './audit.js';
import type { GatewayConfig } from './config.js';
import { GatewayConfigError } from './errors.js';
import { type ContentGuard, PolicyGuard } from './guard.js';
import { StoreCallerResolver } from './identity.js';
import { JwtVerifier } from './jwt.js';
import { EXAMPLE_PRODUCER, OutputLabeler } from './labels.js';
import { LiveKeywords } from './live-keywords.js';
import { MediaService } from './media.js';
import { createModelGuard } from './model-guard.js';
import { GatewayObserver } from './observe.js';
import type { GatewayServices } from './pipeline.js';
import { InFlight } from './drain.js';
import { UnauthenticatedSampler } from './unauthenticated.js';
import { Upstream, UpstreamRouter } from './upstream.js';

export interface GatewaySetup {
  config: GatewayConfig;
  store: Store;
  audit: AuditSink;
  env?: Record<string, string | undefined>;
  /** Start-up notes (e.g. the example provider code in use). */
  log?: (line: string) => void;
  /** A guard to use instead of the keyword guard built from `safety.keywords`. */
  guard?: ContentGuard;
  /** Time source (ms since the epoch) for limits, minors' mode, sanctions and token checks; tests pass their own. */
  now?: () => number;
  /** Where the access log's JSON lines go (`server.accessLog: json`); none when absent. */
  accessLog?: (line: string) => void;
}

/** Every service the endpoints need, ready to mount. */
export async function createGatewayServices(setup: GatewaySetup): Promise<GatewayServices> {
  const { config, store } = setup;
  const log = setup.log ?? (() => undefined);
  const router = new UpstreamRouter(config.upstreams.map((u) => new Upstream(u, setup.env)));
  const now = setup.now ?? Date.now;
  const policy: SafetyPolicy = config.safety.policy ? { ...config.safety.policy, safeReply: config.safety.policy.safeReply ?? DEFAULT_SAFE_REPLY } : defaultPolicy;
  const { live, library } = await LiveKeywords.load({ store, files: config.safety.keywords, names: config.safety.libraries, reloadMs: config.safety.reloadSeconds * 1000, log });
  // With stored libraries there is always a library in force, so a later one can be swapped in.
  const inForce = library ?? (config.safety.libraries.length > 0 ? compileLibrary(createLibrary('none')) : undefined);
  const safety = new SafetyGuard({ ...(inForce ? { library: inForce } : {}), policy, pii: config.safety.pii ? {} : false, language: config.safety.language });
  if (safety.keywords) live.watch(safety.keywords);
  const guard = setup.guard ?? new PolicyGuard(safety);
  const models = createModelGuard(config, policy, setup.env ?? process.env, now);
  const blockMessage = config.safety.blockMessage ?? policy.safeReply[config.safety.language];
  const keyPath = config.labels.signingKey;
  const key = keyPath ? parseSigningKey(await readFile(keyPath, 'utf8').catch((cause: Error) => {
    throw new GatewayConfigError(`cannot read labels.signingKey ${keyPath}: ${cause.message}`, { cause });
  })) : undefined;
  if (!config.labels.producer) log(`labels.producer is not set: labels carry the example provider code ${EXAMPLE_PRODUCER}; set your own 27-character code (GB 45438 Annex E)`);
  const labeler = new OutputLabeler({ producer: config.labels.producer ?? EXAMPLE_PRODUCER, ...(key ? { key } : {}), notice: config.labels.notice });
  const notice = { language: config.labels.notice.language, ...(config.labels.notice.text ? { text: config.labels.notice.text } : {}) };
  const audioNotice = config.labels.audioNotice;
  const audio = audioNotice === 'none' ? undefined : async (bytes: Uint8Array, implicit: EmbedRequest): Promise<Uint8Array> => (await labelAudio(bytes, { positions: [audioNotice], implicit })).bytes ?? bytes;
  // Generated files are fetched only from the upstreams' own hosts and those listed (./outbound).
  const outbound = { hosts: [...config.upstreams.map((u) => new URL(u.url).hostname.replace(/^\[|\]$/g, '')), ...config.media.hosts], allowLoopback: config.media.allowLoopback };
  const media = await MediaService.create(store, { urlTtlSeconds: config.media.urlTtlSeconds, maxBytes: config.media.maxBytes, notice, outbound, ...(audio ? { audio } : {}), ...(key ? { key } : {}) });
  if (config.upstreams.length === 0) log('no upstream configured: the /v1 API answers 404 for every model; pass --upstream URL or list upstreams in the config file');
  const jwt = config.users.jwt ? await JwtVerifier.create(config.users.jwt, setup.env ?? process.env) : undefined;
  const callers = new StoreCallerResolver(store, { cacheMs: config.users.cacheSeconds * 1000, now, ...(jwt ? { jwt } : {}) });
  const access = new AccessControl({ config, store, audit: setup.audit, now });
  const unauthenticated = new UnauthenticatedSampler(setup.audit, config.limits.unauthenticated, now);
  const inflight = new InFlight();
  const tokenEnv = config.server.metrics.tokenEnv;
  const metricsToken = tokenEnv === undefined ? undefined : (setup.env ?? process.env)[tokenEnv];
  if (tokenEnv !== undefined && !metricsToken) throw new GatewayConfigError(`server.metrics.tokenEnv names ${tokenEnv}, which is not set: set it to the token Prometheus sends, or remove tokenEnv to serve /metrics to loopback clients only`);
  const observer = new GatewayObserver({ ...(setup.accessLog ? { accessLog: setup.accessLog } : {}), ...(metricsToken ? { token: metricsToken } : {}), upstreams: router.upstreams, classifiers: () => models?.classifiers ?? [], inflight: () => inflight.size });
  const observed = observer.wrap(setup.audit);
  // With a commit window the answers do not wait for their events' commit (config.ts: what a crash may lose).
  const audit = config.audit.commitWindowMs > 0
    ? committedLater(observed, (error, event) => {
        observer.auditLost();
        const requestId = (event.payload as { requestId?: unknown } | undefined)?.requestId;
        log(`audit: the ${event.type} event of request ${String(requestId)} was not stored after its answer had gone: ${(error as Error).message ?? String(error)}`);
      })
    : observed;
  return { config, blockMessage, router, guard, ...(models ? { models } : {}), labeler, callers, access, keywords: live, audit, observer, media, unauthenticated, inflight, store, ...(config.server.publicUrl ? { publicUrl: config.server.publicUrl.replace(/\/+$/, '') } : {}) };
}

/**
 * Releases what the services hold (pooled upstream connections, the library and usage
 * timers) and writes the counts of unauthenticated requests, at shutdown, before the audit
 * log is flushed. Usage counted since the last sync (at most `limits.syncMilliseconds`) is
 * not written, as when the process is killed.
 */
export async function closeGatewayServices(services: GatewayServices): Promise<void> {
  for (const upstream of services.router.upstreams) upstream.close();
  services.keywords.close();
  services.access.stop();
  await services.unauthenticated.close();
}
