/**
 * @module gateway/config
 * The gateway's settings: what `hegui serve` reads from `hegui.config.yaml` (validated with
 * zod; every problem names its field) or builds from its flags alone. `docs/gateway.md`
 * documents every field. Relative paths in a file are relative to the file's folder.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { DEFAULT_SAFE_REPLY, isRiskCode, riskCategoryCodes, validatePolicy } from '../safety/index.js';
import { describeIssues } from '../validation.js';
import { GatewayConfigError } from './errors.js';

const seconds = z.number().positive().max(86_400);
const minutes = z.number().positive().max(525_600);
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name');

const upstreamSchema = z.strictObject({
  /** A name for logs and audit events. */
  name: z.string().min(1).max(64),
  /** Base URL of an OpenAI-compatible API, e.g. `https://api.deepseek.com/v1`. */
  url: z.url({ protocol: /^https?$/ }),
  /** The provider's key for the upstream, literally (prefer `apiKeyEnv`). */
  apiKey: z.string().min(1).optional(),
  /** Name of the environment variable holding the provider's key for the upstream. */
  apiKeyEnv: envName.optional(),
  /** Models served here: exact names, `prefix*`, or `*` for any model no other upstream names. */
  models: z.array(z.string().min(1)).min(1).default(['*']),
  /** Time allowed for the response headers (and, without streaming, the whole body). */
  timeoutSeconds: seconds.default(120),
  /** Longest silence allowed between two events of a stream. */
  idleTimeoutSeconds: seconds.default(60),
  /** Retries of idempotent failures: connect errors, 429 and 502/503/504 before any byte was sent. */
  retries: z.number().int().min(0).max(5).default(2),
  /** Longest `Retry-After` a retry waits for; a longer one is not retried here (the next upstream or the client decides). */
  maxRetryWaitSeconds: z.number().min(0).max(300).default(5),
  /** Share of the requests for a model that several upstreams serve (load balancing, smooth weighted round robin). */
  weight: z.number().int().min(0).max(1000).default(1),
  /** Upstreams tried in this order when this one cannot answer (unreachable, timed out, 401/403, 429 or 5xx after its retries). */
  fallbacks: z.array(z.string().min(1)).default([]),
});

const noticeSchema = z.strictObject({
  /** `start` or `end` of every text answer (GB 45438 §5.1), or `none` where the interface shows its own notice. */
  position: z.enum(['start', 'end', 'none']).default('start'),
  /** Own wording; must carry an AI element and a generation element (GB 45438 §5). */
  text: z.string().min(1).optional(),
  language: z.enum(['zh', 'en']).default('zh'),
});

const ruleSchema = z.strictObject({
  /** A risk (`A1.6`), a category (`A1`), `pii`, `pii:<type>`, or `*` for every risk. */
  target: z.string().min(1),
  direction: z.enum(['input', 'output']).optional(),
  action: z.enum(['allow', 'review', 'redact', 'block']),
  minSeverity: z.enum(['low', 'medium', 'high']).optional(),
  /** Only keyword hits of at least this confidence (`high`: found as written; `low`: through two or more transforms). */
  minConfidence: z.enum(['low', 'medium', 'high']).optional(),
  safeReply: z.strictObject({ zh: z.string().min(1), en: z.string().min(1) }).optional(),
});

const policySchema = z.strictObject({
  rules: z.array(ruleSchema).min(1),
  /** Extra rules per user class; `minor` applies to minors: added `--minor`, set with `hegui users minor`, or by the token claim (AI Measures Art. 10). */
  userClasses: z.record(z.string(), z.array(ruleSchema)).default({}),
  safeReply: z.strictObject({ zh: z.string().min(1), en: z.string().min(1) }).optional(),
});

/** JWT algorithms accepted from the provider's login: a shared secret (HS256) or a public key. */
export const JWT_ALGORITHMS = ['HS256', 'RS256', 'ES256', 'EdDSA'] as const;

const jwtSchema = z.strictObject({
  /** Signature algorithms accepted; a token signed otherwise is refused. */
  algorithms: z.array(z.enum(JWT_ALGORITHMS)).min(1),
  /** HS256: environment variable holding the shared secret (at least 32 bytes). */
  secretEnv: envName.optional(),
  /** HS256: the shared secret itself (prefer `secretEnv`). */
  secret: z.string().min(32).optional(),
  /** RS256/ES256/EdDSA: PEM file with the login's public key (SubjectPublicKeyInfo). */
  publicKey: z.string().min(1).optional(),
  /** RS256/ES256/EdDSA: a JWKS file (`{"keys": [...]}`); the token's `kid` picks the key. */
  jwks: z.string().min(1).optional(),
  /** The `iss` every token must carry. */
  issuer: z.string().min(1),
  /** The `aud` every token must carry (one of these). */
  audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  /** Clock skew allowed on `exp` and `nbf`. */
  clockToleranceSeconds: z.number().min(0).max(300).default(30),
  /** Claims read into the user: true marks verified real identity (Deep Synthesis Art. 9) or a minor (AI Measures Art. 10). */
  claims: z.strictObject({ verified: z.string().min(1).default('real_name_verified'), minor: z.string().min(1).default('minor') }).prefault({}),
});

const rateSchema = z.strictObject({
  /** Requests allowed per `perSeconds` (a sliding window shared by every replica). */
  requests: z.number().int().positive(),
  perSeconds: seconds,
});

const abuseStepSchema = z.strictObject({
  /** Blocked requests within `withinMinutes` that take this step. */
  blocks: z.number().int().min(1).max(1000),
  withinMinutes: minutes,
  /** `warn` (a notice in the answer), `limit` (429 beyond `requestsPerMinute`) or `suspend` (403). */
  action: z.enum(['warn', 'limit', 'suspend']),
  /** How long a limit (required) or a suspension (omitted: until an operator lifts it) lasts. */
  minutes: minutes.optional(),
  /** Requests per minute a limited user may still send. */
  requestsPerMinute: z.number().int().min(1).max(10_000).default(1),
});

/** An ISO 4217 currency code, e.g. `CNY`. */
export const currencyCode = z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 currency code in capitals, e.g. CNY');

/** A price per 1M tokens, in units of the currency; at most 6 decimals (kept as integer micro-units). */
const pricePerMillion = z
  .number()
  .min(0)
  .max(1_000_000)
  .refine((n) => Math.abs(n * 1e6 - Math.round(n * 1e6)) < 1e-3, 'at most 6 decimals (prices are kept in micro-units)');

const modelPriceSchema = z.strictObject({
  /** Price of 1M input (prompt) tokens. */
  input: pricePerMillion,
  /** Price of 1M output (completion) tokens, reasoning tokens included. */
  output: pricePerMillion,
  /** Currency of this price (default `pricing.currency`). */
  currency: currencyCode.optional(),
});

export const gatewayConfigSchema = z.strictObject({
  server: z
    .strictObject({
      host: z.string().min(1).optional(),
      port: z.number().int().min(0).max(65535).optional(),
      /** `file:PATH` or `postgres://...`. */
      database: z.string().min(1).optional(),
      /** Service profile for the dashboard's obligations page. */
      profile: z.string().min(1).optional(),
      /** The URL clients reach this gateway at, for media links (default: the listening address; never a request's Host header). */
      publicUrl: z.url({ protocol: /^https?$/ }).optional(),
      /**
       * On SIGTERM, how long running requests and streams may take to finish; streams still
       * running then end with an error event and `[DONE]`, their audit events written.
       */
      drainSeconds: z.number().min(0).max(3600).default(30),
      /** One JSON line per request on standard output (`hegui serve`): no prompt, answer or key. */
      accessLog: z.enum(['json', 'off']).default('json'),
      /** Prometheus metrics at `GET /metrics`. */
      metrics: z
        .strictObject({
          enabled: z.boolean().default(true),
          /** Environment variable with a bearer token the scraper must send; without one only loopback clients may read. */
          tokenEnv: envName.optional(),
        })
        .prefault({}),
      /** Browser origins allowed to call `/v1/*` (CORS), e.g. `https://chat.example.cn`; none by default. */
      corsOrigins: z.array(z.url({ protocol: /^https?$/ }).or(z.literal('*'))).default([]),
    })
    .prefault({}),
  upstreams: z.array(upstreamSchema).default([]),
  safety: z
    .strictObject({
      /** Keyword library files (`hegui-keywords/1` JSON), merged. */
      keywords: z.array(z.string().min(1)).default([]),
      /** How a blocked input is answered: an assistant refusal (200) or an OpenAI error object (400). */
      inputBlock: z.enum(['refusal', 'error']).default('refusal'),
      /**
       * The safety policy: an action (allow, review, redact, block) per risk, category or
       * personal-data type and direction, with stricter rules per user class (`minor`).
       * Default: the safety engine's default policy.
       */
      policy: policySchema.optional(),
      /** Detect personal data (ID and phone numbers, e-mail, bank cards, ...) and apply the policy to it. */
      pii: z.boolean().default(true),
      /** Language of the default block message. */
      language: z.enum(['zh', 'en']).default('zh'),
      /** What the user reads when input or output is blocked (default: the policy's safe reply). */
      blockMessage: z.string().min(1).optional(),
      /** Also check tool results (role `tool`/`function`) in the input (AI Measures Art. 14). */
      checkToolResults: z.boolean().default(true),
      /** Fields of an answer the gateway does not know: `drop` (default; nothing unguarded leaves) or `pass` (unguarded). */
      unknownFields: z.enum(['drop', 'pass']).default('drop'),
      /** Keyword libraries kept in the store (`hegui keywords save`), merged with the files and reloaded live. */
      libraries: z.array(z.string().min(1)).default([]),
      /** How often each replica checks the stored libraries' revisions and swaps in a changed one. */
      reloadSeconds: seconds.default(10),
      /** Guard models beside the keywords (./model-guard): classifiers, their time budget, circuit breaker and stream mode. */
      models: z
        .strictObject({
          classifiers: z
            .array(
              z.strictObject({
                /** The adapter: Qwen3Guard or Llama Guard served OpenAI-compatibly (vLLM, Ollama ...), or an OpenAI-style /moderations endpoint. */
                kind: z.enum(['qwen3guard', 'llamaguard', 'openai-moderation']),
                baseUrl: z.url({ protocol: /^https?$/ }),
                model: z.string().min(1).optional(),
                /** Environment variable holding the classifier's API key. */
                apiKeyEnv: z.string().min(1).optional(),
                name: z.string().min(1).optional(),
                /** When it fails (error, budget passed, circuit open): `open` passes the text (recorded as degraded), `closed` blocks it. */
                onFailure: z.enum(['open', 'closed']).default('open'),
                directions: z.array(z.enum(['input', 'output'])).min(1).default(['input', 'output']),
              }),
            )
            .default([]),
          /** Longest wait for a classifier's answer, per call. */
          budgetMs: z.number().int().min(10).max(60_000).default(800),
          breaker: z
            .strictObject({
              /** Failures in a row that open the circuit (calls then fail at once, no model call). */
              failures: z.number().int().min(1).max(1000).default(5),
              /** How long the circuit stays open before one trial call. */
              cooldownSeconds: z.number().min(0).max(3600).default(30),
            })
            .prefault({}),
          /** Streams: `after` checks in the background and ends the stream when flagged; `sentence` holds text until it is checked. */
          stream: z.enum(['after', 'sentence']).default('after'),
          /** Streams: released characters between two checks (`sentence` also checks at each sentence end). */
          checkChars: z.number().int().min(16).max(100_000).default(400),
          /** Streams: the tail of the answer so far that a check sends. */
          windowChars: z.number().int().min(64).max(1_000_000).default(4000),
        })
        .prefault({}),
    })
    .prefault({}),
  labels: z
    .strictObject({
      /** 27-character provider code of the service (GB 45438 Annex E), written as ContentProducer. */
      producer: z.string().length(27).optional(),
      /** PEM private key (Ed25519 or SM2) that signs ReservedCode1; see `hegui label keygen`. */
      signingKey: z.string().min(1).optional(),
      notice: noticeSchema.prefault({}),
      /**
       * Where generated speech gets the audible notice (GB 45438 §5.3: the rhythm
       * short-long-short-short, Morse "AI"), or `none`. Formats other than WAV need ffmpeg.
       */
      audioNotice: z.enum(['start', 'end', 'none']).default('start'),
    })
    .prefault({}),
  audit: z
    .strictObject({
      /**
       * Content kept (encrypted) with each event: `none`, `flagged` (events with risks) or `all`
       * (AI Measures Art. 11: minimise content). Any but `none` needs HEGUI_AUDIT_CONTENT_KEY.
       */
      content: z.enum(['none', 'flagged', 'all']).default('none'),
      /**
       * 0 (the default): each request's audit event is committed before its answer completes
       * (a stream's `gateway.stream` event before its first text), so a crash loses no event of
       * an answered request. N > 0: answers go on without waiting, and the events of N
       * milliseconds are committed together (one transaction): less CPU per request, but a
       * crash (`kill -9`, power loss) loses the events of at most the last N ms (and the batch
       * being written). A clean stop (SIGTERM) loses none. At most 1000.
       */
      commitWindowMs: z.number().int().min(0).max(1000).default(0),
    })
    .prefault({}),
  users: z
    .strictObject({
      /** Seconds an API key lookup is cached in a replica (a revoked key stops working within this time). */
      cacheSeconds: z.number().min(0).max(300).default(5),
      /** Refuse (403) users whose real identity is not verified (Deep Synthesis Provisions Art. 9; Cybersecurity Law Art. 24). */
      requireVerified: z.boolean().default(false),
      /** Accept signed JWTs from the provider's own login besides API keys. */
      jwt: jwtSchema.optional(),
    })
    .prefault({}),
  limits: z
    .strictObject({
      /**
       * How often a replica writes its counts to the store and reads the others' (0: every
       * request is decided in the store, exact across replicas, one transaction per request).
       */
      syncMilliseconds: z.number().int().min(0).max(10_000).default(250),
      /** Requests per user. */
      user: rateSchema.optional(),
      /** Requests per API key. */
      key: rateSchema.optional(),
      /** Largest request body read (413 beyond it, in the OpenAI error shape; refused by its declared length before any byte is read). */
      bodyBytes: z.number().int().min(1024).max(1024 ** 3).default(16 * 1024 * 1024),
      /** Deepest nesting of arrays and objects in a request body (400 beyond it). */
      jsonDepth: z.number().int().min(4).max(1000).default(64),
      /** Most items in `messages` (chat) or `input` (responses) of one request (400 beyond it). */
      messages: z.number().int().min(1).max(100_000).default(2048),
      /**
       * Requests refused for want of valid credentials: counted per client address, one
       * `gateway.unauthenticated` audit event per address per window, never one per request.
       */
      unauthenticated: z
        .strictObject({
          windowSeconds: z.number().int().min(1).max(3600).default(60),
          /** Addresses counted one by one per window; the rest share one count (address `*`). */
          addresses: z.number().int().min(1).max(100_000).default(1024),
        })
        .prefault({}),
    })
    .prefault({}),
  pricing: z
    .strictObject({
      /** Currency of the prices below that name none. */
      currency: currencyCode.default('CNY'),
      /**
       * Price per model, by name, `prefix*`, or `*` for any other model (the exact name wins,
       * then the longest prefix, then `*`). A key with a spend budget may call only models
       * priced here in its budget's currency: an unknown price is refused, never counted free.
       */
      models: z.record(z.string().min(1), modelPriceSchema).default({}),
    })
    .prefault({}),
  minors: z
    .strictObject({
      /** Requests a minor may send per day (Beijing time; Minors Regulations Art. 43). */
      dailyRequests: z.number().int().positive().optional(),
      /** Minutes of use a minor may have per day (Beijing time). */
      dailyMinutes: z.number().positive().max(1440).optional(),
      /** A reminder after this much continuous use, and again after each further period (0: none). */
      reminderMinutes: z.number().min(0).max(1440).default(120),
      /** A pause this long ends a session of continuous use. */
      idleMinutes: z.number().positive().max(1440).default(30),
      /** Own wording of the reminder; `{minutes}` is replaced by the minutes of continuous use. */
      reminder: z.string().min(1).optional(),
    })
    .prefault({}),
  abuse: z
    .strictObject({
      /** Blocked risks that count: risk codes (`A1.6`), categories (`A1`) or `*`. */
      risks: z.array(z.string().min(1)).min(1).default(['A1']),
      /** The steps taken as blocks accumulate (AI Measures Art. 14: warn, limit, suspend); [] turns them off. */
      steps: z
        .array(abuseStepSchema)
        .default([
          { blocks: 3, withinMinutes: 60, action: 'warn', requestsPerMinute: 1 },
          { blocks: 5, withinMinutes: 60, action: 'limit', minutes: 60, requestsPerMinute: 2 },
          { blocks: 10, withinMinutes: 1440, action: 'suspend', minutes: 1440, requestsPerMinute: 1 },
        ]),
    })
    .prefault({}),
  media: z
    .strictObject({
      /** How long a link to a labeled image stays valid. */
      urlTtlSeconds: seconds.default(3600),
      /** Largest generated file fetched from an upstream URL. */
      maxBytes: z.number().int().positive().default(32 * 1024 * 1024),
      /** Hosts besides the upstreams' own that generated files may be fetched from (exact, or `*.cdn.example` for its subdomains). */
      hosts: z.array(z.string().regex(/^(\*\.)?[A-Za-z0-9.-]+$|^[0-9a-fA-F:]+$/, 'a host name, *.domain, or an IP address')).default([]),
      /** Fetch over plain http from loopback addresses (a model server on this machine); off: https only, never loopback. */
      allowLoopback: z.boolean().default(false),
    })
    .prefault({}),
});

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;
export type UpstreamConfig = GatewayConfig['upstreams'][number];
export type NoticePosition = GatewayConfig['labels']['notice']['position'];

/** Defaults for every field; what `hegui serve` runs with when given no file. */
export function defaultGatewayConfig(): GatewayConfig {
  return gatewayConfigSchema.parse({});
}

/**
 * Validates a parsed document; relative paths are resolved against `baseDir`.
 *
 * @throws GatewayConfigError listing every problem with its field, e.g.
 * `hegui.config.yaml: upstreams[0].url: Invalid URL`.
 */
export function parseGatewayConfig(document: unknown, source: string, baseDir: string): GatewayConfig {
  const parsed = gatewayConfigSchema.safeParse(document ?? {}, { reportInput: true });
  if (!parsed.success) throw new GatewayConfigError(`${source}:\n  ${describeIssues(parsed.error).join('\n  ')}`, { cause: parsed.error });
  const config = parsed.data;
  const names = new Set<string>();
  for (const [i, upstream] of config.upstreams.entries()) {
    if (names.has(upstream.name)) throw new GatewayConfigError(`${source}: upstreams[${i}].name: "${upstream.name}" is used twice`);
    names.add(upstream.name);
  }
  for (const [i, upstream] of config.upstreams.entries()) {
    upstream.fallbacks.forEach((name, j) => {
      if (!names.has(name)) throw new GatewayConfigError(`${source}: upstreams[${i}].fallbacks[${j}]: no upstream is named "${name}"`);
      if (name === upstream.name) throw new GatewayConfigError(`${source}: upstreams[${i}].fallbacks[${j}]: an upstream cannot be its own fallback`);
    });
  }
  config.abuse.risks.forEach((risk, i) => {
    if (risk !== '*' && !isRiskCode(risk) && !(riskCategoryCodes as readonly string[]).includes(risk)) throw new GatewayConfigError(`${source}: abuse.risks[${i}]: "${risk}" is not a risk (A1.6), a category (A1) or *`);
  });
  config.abuse.steps.forEach((step, i) => {
    if (step.action === 'limit' && step.minutes === undefined) throw new GatewayConfigError(`${source}: abuse.steps[${i}].minutes: a limit needs its duration in minutes`);
  });
  for (const pattern of Object.keys(config.pricing.models)) {
    if (!/^[^*]+\*?$|^\*$/.test(pattern)) throw new GatewayConfigError(`${source}: pricing.models[${JSON.stringify(pattern)}]: a model name, prefix* or *; a * stands only at the end`);
  }
  const jwt = config.users.jwt;
  if (jwt) {
    if (jwt.algorithms.includes('HS256') && !jwt.secret && !jwt.secretEnv) throw new GatewayConfigError(`${source}: users.jwt: HS256 needs secretEnv (or secret)`);
    if (jwt.algorithms.some((a) => a !== 'HS256') && !jwt.publicKey && !jwt.jwks) throw new GatewayConfigError(`${source}: users.jwt: ${jwt.algorithms.filter((a) => a !== 'HS256').join(', ')} need publicKey or jwks`);
    if (jwt.publicKey) jwt.publicKey = resolve(baseDir, jwt.publicKey);
    if (jwt.jwks) jwt.jwks = resolve(baseDir, jwt.jwks);
  }
  if (config.safety.policy) {
    try {
      validatePolicy({ ...config.safety.policy, safeReply: config.safety.policy.safeReply ?? DEFAULT_SAFE_REPLY });
    } catch (cause) {
      throw new GatewayConfigError(`${source}: safety.policy: ${(cause as Error).message}`, { cause });
    }
  }
  config.safety.keywords = config.safety.keywords.map((file) => resolve(baseDir, file));
  if (config.labels.signingKey) config.labels.signingKey = resolve(baseDir, config.labels.signingKey);
  if (config.server.profile) config.server.profile = resolve(baseDir, config.server.profile);
  return config;
}

/** Reads and validates a YAML config file. */
export async function loadGatewayConfig(path: string): Promise<GatewayConfig> {
  const text = await readFile(path, 'utf8').catch((cause: NodeJS.ErrnoException) => {
    throw new GatewayConfigError(`cannot read the config file ${path}: ${cause.code === 'ENOENT' ? 'no such file' : cause.message}`, { cause });
  });
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (cause) {
    throw new GatewayConfigError(`${path}: not valid YAML: ${(cause as Error).message}`, { cause });
  }
  return parseGatewayConfig(document, path, dirname(resolve(path)));
}
