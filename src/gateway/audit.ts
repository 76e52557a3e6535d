/**
 * @module gateway/audit
 * One audit event per request (AI Measures Art. 11 usage records; Deep Synthesis Provisions
 * Art. 16 logs; Cybersecurity Law: network logs kept >= 6 months). An `Exchange` collects what
 * happened while the request runs and appends the event to the audit log (`src/audit`) once,
 * before the response completes (for streams: before the final `data: [DONE]`). The log keeps
 * content only as its content policy says (AI Measures Art. 11: keep metadata, minimise
 * content), so the exchange collects content only when that policy may keep it.
 */
import { randomUUID } from 'node:crypto';
import type { AuditContentPolicy, AuditEventInput } from '../audit/index.js';
import type { Caller } from './identity.js';
import { strongest, type GuardFinding } from './guard.js';
import type { Upstream } from './upstream.js';
import type { RateStatus } from './usage-state.js';
import type { Context, Span } from '@opentelemetry/api';

/** The audit log as the gateway uses it (`AuditLog` from `src/audit`). */
export interface AuditSink {
  readonly contentPolicy: AuditContentPolicy;
  /** Resolves once the event is durable. */
  append(event: AuditEventInput): Promise<unknown>;
}

/**
 * The sink with `audit.commitWindowMs` > 0: each event is handed to the log (which commits the
 * events of one window together) and the request goes on at once, without waiting for the
 * commit. An event the log then fails to store cannot fail its answer any more (it has gone);
 * `lost` is told, with the event's request id, so the operator learns of it.
 */
export function committedLater(sink: AuditSink, lost: (error: unknown, event: AuditEventInput) => void): AuditSink {
  return {
    contentPolicy: sink.contentPolicy,
    append: (event) => {
      let appended: Promise<unknown>;
      try {
        appended = sink.append(event);
      } catch (error) {
        appended = Promise.reject(error);
      }
      appended.catch((error: unknown) => lost(error, event));
      return Promise.resolve();
    },
  };
}

/** Most characters of content kept per direction: a record, not a transcript. */
const MAX_CONTENT_CHARS = 16_384;
/** Most keyword hits described per event. */
const MAX_KEYWORD_HITS = 32;

/** Risk, action, confidence and transforms of each keyword finding, without its text. */
function keywordHits(direction: 'input' | 'output', findings: readonly GuardFinding[]): { direction: string; risk: string; action: string; confidence: string; transforms: string[] }[] {
  return findings.filter((f) => f.source === 'keyword').map((f) => ({ direction, risk: f.risk, action: f.action, confidence: f.confidence ?? 'high', transforms: f.transforms ?? [] }));
}

/** Each classifier label (which classifier, its category, the risk and action), without the text. */
function classifierLabels(direction: 'input' | 'output', findings: readonly GuardFinding[]): { direction: string; classifier: string; risk: string; action: string; score?: number }[] {
  return findings.filter((f) => f.source === 'classifier').map((f) => ({ direction, classifier: f.keyword, risk: f.risk, action: f.action, ...(f.score === undefined ? {} : { score: f.score }) }));
}

/** The record of one request while it runs. */
export class Exchange {
  readonly id = randomUUID();
  readonly startedAt = performance.now();
  caller: Caller | undefined;
  model: string | null = null;
  upstream: string | null = null;
  /** The upstreams this request may go to, in order (./upstream `route`). */
  route: Upstream[] = [];
  upstreamStatus: number | null = null;
  stream = false;
  readonly inputFindings: GuardFinding[] = [];
  readonly outputFindings: GuardFinding[] = [];
  readonly actions: string[] = [];
  readonly labels: string[] = [];
  /** Notices for the user from the gateway itself (a minor's reminder), put before the answer. */
  readonly notices: string[] = [];
  /** Set once a block of this request was counted against its user (AI Measures Art. 14). */
  blockNoted = false;
  /** The warning or sanction the block led to, as the user reads it. */
  sanctionNotice: string | undefined;
  error: string | null = null;
  /** Guard models that could not judge this request (failed, over budget, circuit open). */
  readonly classifierFailures: { direction: string; classifier: string; message: string; onFailure: string }[] = [];
  /** Tokens the upstream reported for this request (`usage.total_tokens`), counted against a key's budget. */
  usageTokens: number | undefined;
  /** Input (prompt) and output (completion) tokens the upstream reported, which a key's spend is priced from (./budgets). */
  usageInput: number | undefined;
  usageOutput: number | undefined;
  /** The request rate the caller meets first, for the `x-ratelimit-*-requests` headers (./access). */
  requestRate: RateStatus | undefined;
  /** The gateway asked the upstream for the usage chunk (a budgeted key's stream); the client did not. */
  usageForced = false;
  /** The prompt an answer answers, for guard models that judge the exchange (set when they are configured). */
  prompt: string | undefined;
  /** The HTTP status the request was answered with, once known. */
  status: number | null = null;
  /** The request's OpenTelemetry span and its context (./tracing). */
  trace: { span: Span; context: Context } | undefined;
  /** The client's address as the socket saw it (counted when the request is unauthenticated). */
  address = 'unknown';
  #input = '';
  #output = '';
  #recorded = false;
  #settled = false;
  readonly #onSettled: (() => void)[] = [];
  readonly #keepContent: boolean;

  constructor(
    readonly endpoint: string,
    contentPolicy: AuditContentPolicy,
  ) {
    this.#keepContent = contentPolicy !== 'none';
  }

  /** Keeps input text for the record, when the policy may keep it. */
  noteInput(text: string): void {
    if (this.#keepContent && this.#input.length < MAX_CONTENT_CHARS) this.#input += text.slice(0, MAX_CONTENT_CHARS - this.#input.length);
  }

  /** Keeps output text for the record, when the policy may keep it. */
  noteOutput(text: string): void {
    if (this.#keepContent && this.#output.length < MAX_CONTENT_CHARS) this.#output += text.slice(0, MAX_CONTENT_CHARS - this.#output.length);
  }

  /** Builds the event and appends it once; later calls do nothing. */
  async record(sink: AuditSink, status: number): Promise<void> {
    if (this.#recorded) return;
    this.#recorded = true;
    this.status = status;
    try {
      await sink.append(this.event(status));
    } finally {
      this.settle();
    }
  }

  /**
   * Appends the `gateway.stream` event (outcome `started`) before a stream's first text leaves,
   * so a crash (`kill -9`) leaves a record of every stream that delivered text; the request's
   * `gateway.request` event, with the same `requestId`, completes it at the end.
   */
  async recordStart(sink: AuditSink, label: string): Promise<void> {
    await sink.append({
      type: 'gateway.stream',
      actor: this.caller ? `user:${this.caller.pseudonym}` : 'anonymous:unauthenticated',
      outcome: 'started',
      payload: { requestId: this.id, endpoint: this.endpoint, auth: this.caller?.auth ?? null, model: this.model, upstream: this.upstream, label },
    });
  }

  /** Runs `callback` once the request is settled: its event recorded (or counted, for a 401). */
  onSettled(callback: () => void): void {
    if (this.#settled) callback();
    else this.#onSettled.push(callback);
  }

  /** Marks the request done with, without an event of its own (a counted 401). */
  settle(): void {
    if (this.#settled) return;
    this.#settled = true;
    for (const callback of this.#onSettled.splice(0)) callback();
  }

  /** The `gateway.request` event for the audit log. */
  event(status: number): AuditEventInput {
    const input = strongest(this.inputFindings);
    const output = strongest(this.outputFindings);
    const worst = strongest([...this.inputFindings, ...this.outputFindings]);
    const risks = [...new Set([...this.inputFindings, ...this.outputFindings].map((f) => f.risk))].sort();
    const content = { ...(this.#input ? { input: this.#input } : {}), ...(this.#output ? { output: this.#output } : {}) };
    return {
      type: 'gateway.request',
      actor: this.caller ? `user:${this.caller.pseudonym}` : 'anonymous:unauthenticated',
      outcome: this.error !== null ? 'error' : worst === 'allow' ? 'pass' : worst,
      risks,
      payload: {
        requestId: this.id,
        endpoint: this.endpoint,
        auth: this.caller?.auth ?? null,
        model: this.model,
        upstream: this.upstream,
        upstreamStatus: this.upstreamStatus,
        status,
        stream: this.stream,
        latencyMs: Math.round((performance.now() - this.startedAt) * 1000) / 1000,
        verdicts: { input, output },
        // How each keyword hit was found, so a reviewer can tell a literal hit from one found
        // through several transforms; no text of the hit (AI Measures Art. 11: minimise content).
        keywordHits: [...keywordHits('input', this.inputFindings), ...keywordHits('output', this.outputFindings)].slice(0, MAX_KEYWORD_HITS),
        ...(this.classifierFailures.length > 0 || this.inputFindings.some((f) => f.source === 'classifier') || this.outputFindings.some((f) => f.source === 'classifier')
          ? { classifierLabels: [...classifierLabels('input', this.inputFindings), ...classifierLabels('output', this.outputFindings)].slice(0, MAX_KEYWORD_HITS), classifierFailures: this.classifierFailures.slice(0, MAX_KEYWORD_HITS) }
          : {}),
        actions: this.actions,
        labels: this.labels,
        error: this.error,
      },
      ...(Object.keys(content).length > 0 ? { content } : {}),
      flagged: worst !== 'allow',
    };
  }
}
