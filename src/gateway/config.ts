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
import { DEFAULT_SAFE_REPLY, validatePolicy } from '../safety/index.js';
import { describeIssues } from '../validation.js';
import { GatewayConfigError } from './errors.js';

const seconds = z.number().positive().max(86_400);

const upstreamSchema = z.strictObject({
  /** A name for logs and audit events. */
  name: z.string().min(1).max(64),
  /** Base URL of an OpenAI-compatible API, e.g. `https://api.deepseek.com/v1`. */
  url: z.url({ protocol: /^https?$/ }),
  /** The provider's key for the upstream, literally (prefer `apiKeyEnv`). */
  apiKey: z.string().min(1).optional(),
  /** Name of the environment variable holding the provider's key for the upstream. */
  apiKeyEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name').optional(),
  /** Models served here: exact names, `prefix*`, or `*` for any model no other upstream names. */
  models: z.array(z.string().min(1)).min(1).default(['*']),
  /** Time allowed for the response headers (and, without streaming, the whole body). */
  timeoutSeconds: seconds.default(120),
  /** Longest silence allowed between two events of a stream. */
  idleTimeoutSeconds: seconds.default(60),
  /** Retries of idempotent failures: connect errors, 502/503/504 before any byte was sent. */
  retries: z.number().int().min(0).max(5).default(2),
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
  safeReply: z.strictObject({ zh: z.string().min(1), en: z.string().min(1) }).optional(),
});

const policySchema = z.strictObject({
  rules: z.array(ruleSchema).min(1),
  /** Extra rules per user class; `minor` applies to users created with `--minor` (AI Measures Art. 10). */
  userClasses: z.record(z.string(), z.array(ruleSchema)).default({}),
  safeReply: z.strictObject({ zh: z.string().min(1), en: z.string().min(1) }).optional(),
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
      /** The URL clients reach this gateway at, for media links (default: the listening address). */
      publicUrl: z.url({ protocol: /^https?$/ }).optional(),
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
    })
    .prefault({}),
  users: z
    .strictObject({
      /** Seconds an API key lookup is cached in a replica (a revoked key stops working within this time). */
      cacheSeconds: z.number().min(0).max(300).default(5),
    })
    .prefault({}),
  media: z
    .strictObject({
      /** How long a link to a labeled image stays valid. */
      urlTtlSeconds: seconds.default(3600),
      /** Largest generated file fetched from an upstream URL. */
      maxBytes: z.number().int().positive().default(32 * 1024 * 1024),
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
