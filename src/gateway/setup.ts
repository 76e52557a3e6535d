/**
 * @module gateway/setup
 * Builds the gateway's services from its configuration: upstreams and routing, the content
 * guard over the configured keyword libraries, the labeler (provider code, signing key,
 * notice), API-key callers, media labeling and links. The audit sink is handed in, because
 * `src/audit` owns the event log.
 */
import { readFile } from 'node:fs/promises';
import { labelAudio } from '../label/explicit/index.js';
import { parseSigningKey, type EmbedRequest } from '../label/index.js';
import { compileLibrary, createLibrary, DEFAULT_SAFE_REPLY, defaultPolicy, readLibraryFile, SafetyGuard, type KeywordLibrary, type SafetyPolicy } from '../safety/index.js';
import type { Store } from '../store/index.js';
import type { AuditSink } from './audit.js';
import type { GatewayConfig } from './config.js';
import { GatewayConfigError } from './errors.js';
import { type ContentGuard, PolicyGuard } from './guard.js';
import { ApiKeyResolver } from './identity.js';
import { EXAMPLE_PRODUCER, OutputLabeler } from './labels.js';
import { MediaService } from './media.js';
import type { GatewayServices } from './pipeline.js';
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
}

/**
 * The keyword libraries in `paths` (`hegui-keywords/1` JSON) as one library: entries and
 * allow-lists joined, transforms of the first file.
 */
export async function loadKeywordLibraries(paths: readonly string[]): Promise<KeywordLibrary> {
  const libraries = await Promise.all(paths.map((path) => readLibraryFile(path)));
  const [first, ...rest] = libraries;
  if (!first) return createLibrary('none');
  return {
    ...first,
    name: libraries.map((l) => l.name).join(' + '),
    entries: [first, ...rest].flatMap((l) => l.entries),
    allow: [first, ...rest].flatMap((l) => l.allow),
  };
}

/** Every service the endpoints need, ready to mount. */
export async function createGatewayServices(setup: GatewaySetup): Promise<GatewayServices> {
  const { config, store } = setup;
  const log = setup.log ?? (() => undefined);
  const router = new UpstreamRouter(config.upstreams.map((u) => new Upstream(u, setup.env)));
  const policy: SafetyPolicy = config.safety.policy ? { ...config.safety.policy, safeReply: config.safety.policy.safeReply ?? DEFAULT_SAFE_REPLY } : defaultPolicy;
  const library = config.safety.keywords.length > 0 ? compileLibrary(await loadKeywordLibraries(config.safety.keywords)) : undefined;
  const safety = new SafetyGuard({ ...(library ? { library } : {}), policy, pii: config.safety.pii ? {} : false, language: config.safety.language });
  const guard = setup.guard ?? new PolicyGuard(safety, policy);
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
  const media = await MediaService.create(store, { urlTtlSeconds: config.media.urlTtlSeconds, maxBytes: config.media.maxBytes, notice, ...(audio ? { audio } : {}), ...(key ? { key } : {}) });
  if (config.upstreams.length === 0) log('no upstream configured: the /v1 API answers 404 for every model; pass --upstream URL or list upstreams in the config file');
  return { config, blockMessage, router, guard, labeler, callers: new ApiKeyResolver(store, { cacheMs: config.users.cacheSeconds * 1000 }), audit: setup.audit, media, store };
}

/** Releases what the services hold open (pooled upstream connections), at shutdown. */
export function closeGatewayServices(services: GatewayServices): void {
  for (const upstream of services.router.upstreams) upstream.close();
}
