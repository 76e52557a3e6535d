/**
 * @module audit/event
 * What an audit event is, and the checks an event passes before it is chained. Payloads are
 * stored as canonical JSON (keys sorted, no spaces) so the hash of a row can be recomputed
 * by anyone, in any language, from what an export contains.
 *
 * Events carry metadata, not conversations: AI Measures Art. 11 forbids keeping input that
 * identifies a user beyond what the law requires, so the actor is a pseudonym and prompts or
 * completions go only into the optional, encrypted `content` (kept per policy).
 */
import { AuditEventError } from './errors.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** The event types hegui's own parts write. Others may be added in the same `area.action` form. */
export const AUDIT_EVENT_TYPES = [
  'gateway.request',
  'gateway.stream',
  'gateway.unauthenticated',
  'desk.action',
  'label.batch',
  'eval.bank',
  'operator.login',
  'operator.password',
  'user.sanction',
  'duty.status',
  'evidence.controls',
  'audit.export',
  'audit.purge',
  'audit.redact',
  'eval.review',
] as const;

/**
 * An event to append.
 *
 * @example
 * await log.append({
 *   type: 'gateway.request',
 *   actor: 'user:u_5Yb2kQ',
 *   outcome: 'block',
 *   risks: ['A.1.1'],
 *   payload: { model: 'deepseek-chat', verdicts: { input: 'block' }, latencyMs: 12, upstreamStatus: null },
 *   content: { prompt: '...' },
 * });
 */
export interface AuditEventInput {
  /** `area.action`, lower case, e.g. `gateway.request` (see `AUDIT_EVENT_TYPES`). */
  type: string;
  /**
   * Who acted, as `kind:id`: `user:<pseudonym>`, `operator:<operator id>`, `system:<part>`.
   * Never a raw API key, and never a name where a pseudonym will do (AI Measures Art. 11).
   */
  actor: string;
  /** What the dashboard counts by, e.g. `pass`, `block`, `redact`, `warn`, `error`. */
  outcome?: string;
  /** Risk codes raised (GB/T 45654 taxonomy, e.g. `A.1.1`); indexed for filters and counts. */
  risks?: readonly string[];
  /** Metadata: for `gateway.request` the model, verdicts, actions, label ids, latency, upstream status. */
  payload?: JsonObject;
  /** Prompt, completion or other content; kept, encrypted, only as the content policy says. */
  content?: JsonValue;
  /** Whether the content counts as flagged for the `flagged` policy; defaults to "has risks". */
  flagged?: boolean;
}

/** An event checked and serialised, ready for encryption and chaining. */
export interface CheckedEvent {
  type: string;
  actor: string;
  outcome: string | null;
  riskCodes: string[];
  /** JSON text of `riskCodes`, as hashed. */
  risks: string;
  /** Canonical JSON of the payload, as hashed. */
  payload: string;
  /** Canonical JSON of the content, or undefined when there is none. */
  content: string | undefined;
  flagged: boolean;
}

const TYPE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
const ACTOR = /^[a-z][a-z0-9_]*:[^\s]{1,200}$/;
const RISK = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;
const OUTCOME = /^[a-z][a-z0-9_]{0,31}$/;
/** Upper bounds that keep one event from swamping a batch; metadata is small by nature. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;
export const MAX_CONTENT_BYTES = 1024 * 1024;
const MAX_RISKS = 64;
const MAX_DEPTH = 32;

/** Checks `event` and serialises its payload and content canonically. @throws AuditEventError */
export function checkEvent(event: AuditEventInput): CheckedEvent {
  if (typeof event !== 'object' || event === null) throw new AuditEventError('an audit event must be an object');
  if (typeof event.type !== 'string' || event.type.length > 64 || !TYPE.test(event.type)) {
    throw new AuditEventError(`event type ${JSON.stringify(event.type)} is not of the form area.action (lower case, e.g. gateway.request)`);
  }
  checkActor(event.actor);
  const outcome = event.outcome ?? null;
  if (outcome !== null && (typeof outcome !== 'string' || !OUTCOME.test(outcome))) {
    throw new AuditEventError(`outcome ${JSON.stringify(outcome)} must be a lower-case word of at most 32 characters, e.g. block`);
  }
  const riskCodes = checkRisks(event.risks ?? []);
  const payloadValue = event.payload ?? {};
  if (typeof payloadValue !== 'object' || payloadValue === null || Array.isArray(payloadValue)) {
    throw new AuditEventError('the payload of an audit event must be a JSON object');
  }
  const payload = canonicalJson(payloadValue, 'payload');
  if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) {
    throw new AuditEventError(`the payload is over ${MAX_PAYLOAD_BYTES / 1024} KiB; keep metadata in it and put content in \`content\``);
  }
  const content = event.content === undefined ? undefined : canonicalJson(event.content, 'content');
  if (content !== undefined && Buffer.byteLength(content) > MAX_CONTENT_BYTES) {
    throw new AuditEventError(`the content is over ${MAX_CONTENT_BYTES / 1024 / 1024} MiB`);
  }
  return {
    type: event.type,
    actor: event.actor,
    outcome,
    riskCodes,
    risks: JSON.stringify(riskCodes),
    payload,
    content,
    flagged: event.flagged ?? riskCodes.length > 0,
  };
}

function checkActor(actor: unknown): void {
  if (typeof actor !== 'string' || !ACTOR.test(actor)) {
    throw new AuditEventError(`actor ${JSON.stringify(actor)} must be kind:id without spaces, e.g. user:<pseudonym>, operator:<id> or system:gateway`);
  }
  const id = actor.slice(actor.indexOf(':') + 1);
  // A key in the log would let anyone who reads it act as the user; the pseudonym suffices.
  if (/^(sk|hg)-/i.test(id) || /^bearer/i.test(id)) {
    throw new AuditEventError(`actor ${actor.slice(0, actor.indexOf(':') + 4)}... looks like an API key; log the user's pseudonym instead`);
  }
}

function checkRisks(risks: readonly string[]): string[] {
  if (!Array.isArray(risks)) throw new AuditEventError('risks must be an array of risk codes, e.g. ["A.1.1"]');
  if (risks.length > MAX_RISKS) throw new AuditEventError(`at most ${MAX_RISKS} risk codes per event`);
  for (const risk of risks) {
    if (typeof risk !== 'string' || !RISK.test(risk)) throw new AuditEventError(`risk code ${JSON.stringify(risk)} must be letters, digits, dots or dashes (e.g. A.1.1)`);
  }
  return [...new Set(risks)].sort();
}

/**
 * JSON with object keys sorted (by UTF-16 code units, as `Array.prototype.sort` does) and no
 * whitespace: the same value always gives the same text. Only plain JSON values are accepted.
 *
 * @example
 * canonicalJson({ b: 1, a: [true, null] }); // '{"a":[true,null],"b":1}'
 */
export function canonicalJson(value: unknown, path = 'value'): string {
  return serialise(value, path, []);
}

/** Where a value sits (`payload.verdicts.input`, `content[2]`), spelt out only for an error message. */
function pathOf(root: string, trail: readonly (string | number)[]): string {
  let path = root;
  for (const step of trail) path += typeof step === 'number' ? `[${step}]` : `.${step}`;
  return path;
}

/**
 * `trail` holds the keys and indexes from the root to `value` (its length is the depth): kept
 * as a stack rather than a path string per value, as every gateway request serialises a payload.
 */
function serialise(value: unknown, root: string, trail: (string | number)[]): string {
  if (trail.length > MAX_DEPTH) throw new AuditEventError(`${pathOf(root, trail)} nests deeper than ${MAX_DEPTH} levels`);
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new AuditEventError(`${pathOf(root, trail)} is ${value}; JSON has no such number`);
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ',';
          trail.push(i);
          out += serialise(value[i], root, trail);
          trail.pop();
        }
        return `${out}]`;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) {
        throw new AuditEventError(`${pathOf(root, trail)} is a ${(value as object).constructor?.name ?? 'non-plain object'}; use plain JSON (dates as ISO strings)`);
      }
      const record = value as Record<string, unknown>;
      let out = '{';
      for (const key of Object.keys(record).sort()) {
        const item = record[key];
        if (item === undefined) continue;
        if (out.length > 1) out += ',';
        trail.push(key);
        out += `${JSON.stringify(key)}:${serialise(item, root, trail)}`;
        trail.pop();
      }
      return `${out}}`;
    }
    default:
      throw new AuditEventError(`${pathOf(root, trail)} is a ${typeof value}; only JSON values can be logged`);
  }
}
