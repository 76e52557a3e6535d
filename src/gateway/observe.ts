/**
 * @module gateway/observe
 * What operators watch (issue 13): Prometheus metrics and a structured access log, both fed by
 * the one record every request already ends in, its `gateway.request` audit event. The sink
 * the gateway writes to is wrapped: each event is observed, then appended. Neither carries a
 * prompt, an answer or a key: the event's content is never read here, and its actor is the
 * user's pseudonym.
 *
 * Metrics live in a registry of their own per gateway (two servers in one process do not mix
 * their counts). Model names come from clients when an upstream serves `*`, so at most
 * MAX_MODELS distinct names are labelled; the rest count as `other`.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AuditEventInput } from '../audit/index.js';
import type { Classifier } from '../safety/index.js';
import { ReliableClassifier } from '../safety/index.js';
import type { AuditSink } from './audit.js';
import type { Upstream } from './upstream.js';

const MAX_MODELS = 100;
const CIRCUIT_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const;

export interface ObserverOptions {
  /** One JSON line per request; none when absent. */
  accessLog?: (line: string) => void;
  upstreams: readonly Upstream[];
  classifiers: () => readonly Classifier[];
  inflight: () => number;
  /** Bearer token `GET /metrics` requires; without one only loopback clients may read it. */
  token?: string;
}

export class GatewayObserver {
  readonly registry = new Registry();
  readonly token: string | undefined;
  readonly #accessLog: ((line: string) => void) | undefined;
  readonly #models = new Set<string>();
  readonly #requests: Counter<'endpoint' | 'status' | 'outcome' | 'model' | 'upstream'>;
  readonly #duration: Histogram<'endpoint' | 'stream'>;
  readonly #risks: Counter<'risk' | 'outcome'>;
  readonly #streamsStarted: Counter;
  readonly #unauthenticated: Counter;
  readonly #auditLost: Counter;

  constructor(options: ObserverOptions) {
    this.#accessLog = options.accessLog;
    this.token = options.token;
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'hegui_' });
    this.#requests = new Counter({ name: 'hegui_gateway_requests_total', help: 'Requests the gateway answered, by endpoint, HTTP status, outcome (pass, review, redact, block, error), model and upstream.', labelNames: ['endpoint', 'status', 'outcome', 'model', 'upstream'], registers });
    this.#duration = new Histogram({ name: 'hegui_gateway_request_duration_seconds', help: 'Time from a request\'s arrival to its audit event (for streams: to the end of the stream).', labelNames: ['endpoint', 'stream'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120], registers });
    this.#risks = new Counter({ name: 'hegui_gateway_risk_findings_total', help: 'Requests with findings of a GB/T 45654 risk, by the request\'s outcome.', labelNames: ['risk', 'outcome'], registers });
    this.#unauthenticated = new Counter({ name: 'hegui_gateway_unauthenticated_total', help: 'Requests refused for want of credentials (counted, not audited one by one).', registers });
    this.#streamsStarted = new Counter({ name: 'hegui_gateway_streams_started_total', help: 'Streams that began delivering text.', registers });
    this.#auditLost = new Counter({ name: 'hegui_gateway_audit_events_lost_total', help: 'Request audit events the log failed to store after their answer had gone (only with audit.commitWindowMs above 0).', registers });
    new Gauge({ name: 'hegui_gateway_inflight_requests', help: 'Requests running now.', registers, collect() {
      this.set(options.inflight());
    } });
    new Gauge({ name: 'hegui_gateway_upstream_consecutive_failures', help: 'Failures in a row of each upstream (unreachable, timed out, 5xx); 0 after any answer.', labelNames: ['upstream'], registers, collect() {
      for (const upstream of options.upstreams) this.set({ upstream: upstream.name }, upstream.health.consecutiveFailures);
    } });
    new Gauge({ name: 'hegui_gateway_classifier_circuit', help: 'Circuit of each guard model: 0 closed, 1 half-open, 2 open.', labelNames: ['classifier'], registers, collect() {
      for (const classifier of options.classifiers()) if (classifier instanceof ReliableClassifier) this.set({ classifier: classifier.name }, CIRCUIT_VALUE[classifier.state]);
    } });
    new Gauge({ name: 'hegui_gateway_classifier_calls', help: 'Guard-model calls by result since start: called, short_circuited, timed_out, failed.', labelNames: ['classifier', 'result'], registers, collect() {
      for (const classifier of options.classifiers()) {
        if (!(classifier instanceof ReliableClassifier)) continue;
        const { calls, shortCircuited, timeouts, failures } = classifier.stats;
        this.set({ classifier: classifier.name, result: 'called' }, calls);
        this.set({ classifier: classifier.name, result: 'short_circuited' }, shortCircuited);
        this.set({ classifier: classifier.name, result: 'timed_out' }, timeouts);
        this.set({ classifier: classifier.name, result: 'failed' }, failures);
      }
    } });
  }

  /** The audit sink, with every `gateway.request` event observed before it is appended. */
  wrap(sink: AuditSink): AuditSink {
    return {
      contentPolicy: sink.contentPolicy,
      append: (event) => {
        this.observe(event);
        return sink.append(event);
      },
    };
  }

  /** A request's audit event that could not be stored after its answer had gone (`audit.commitWindowMs`). */
  auditLost(): void {
    this.#auditLost.inc();
  }

  observe(event: AuditEventInput): void {
    if (event.type === 'gateway.stream') {
      this.#streamsStarted.inc();
      return;
    }
    if (event.type !== 'gateway.request') return;
    const p = (event.payload ?? {}) as Record<string, unknown>;
    const text = (value: unknown): string => (typeof value === 'string' ? value : '');
    const endpoint = text(p.endpoint);
    const outcome = event.outcome ?? 'pass';
    const status = typeof p.status === 'number' ? p.status : 0;
    this.#requests.inc({ endpoint, status: String(status), outcome, model: this.#model(text(p.model)), upstream: text(p.upstream) });
    const latencyMs = typeof p.latencyMs === 'number' ? p.latencyMs : 0;
    this.#duration.observe({ endpoint, stream: p.stream === true ? 'true' : 'false' }, latencyMs / 1000);
    for (const risk of event.risks ?? []) this.#risks.inc({ risk, outcome });
    if (this.#accessLog) {
      this.#accessLog(JSON.stringify({
        time: new Date().toISOString(),
        level: status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info',
        msg: 'request',
        requestId: p.requestId,
        endpoint,
        status,
        outcome,
        latencyMs,
        stream: p.stream === true,
        user: event.actor,
        auth: p.auth ?? null,
        model: p.model ?? null,
        upstream: p.upstream ?? null,
        upstreamStatus: p.upstreamStatus ?? null,
        risks: event.risks ?? [],
        actions: p.actions ?? [],
        error: p.error ?? null,
      }));
    }
  }

  /** A request refused for want of credentials (401): counted, it has no audit event of its own. */
  unauthenticated(): void {
    this.#unauthenticated.inc();
  }

  #model(model: string): string {
    if (model === '' || this.#models.has(model)) return model;
    if (this.#models.size >= MAX_MODELS) return 'other';
    this.#models.add(model);
    return model;
  }

  /** The metrics in Prometheus's text format. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}

/** A line writer that gathers lines and writes them together (`batchLines`). */
export interface LineBatch {
  /** Queues one line (without its newline). */
  line(text: string): void;
  /** Writes whatever is queued now. */
  flush(): void;
}

/**
 * Gathers log lines and hands them to `write` together: once `maxBytes` are queued, or
 * `maxDelayMs` after the first queued line, or on `flush()`. One write per request to standard
 * output is a system call on the request's path (about 3 % of a request's CPU with every guard
 * on); a batch costs one for many. The timer does not keep the process alive: the caller
 * flushes at shutdown and at exit.
 */
export function batchLines(write: (text: string) => void, maxBytes = 64 * 1024, maxDelayMs = 50): LineBatch {
  let queued: string[] = [];
  let bytes = 0;
  let timer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (queued.length === 0) return;
    const text = queued.join('');
    queued = [];
    bytes = 0;
    write(text);
  };
  return {
    line(text: string): void {
      queued.push(`${text}\n`);
      bytes += text.length + 1;
      if (bytes >= maxBytes) flush();
      else if (!timer) {
        timer = setTimeout(flush, maxDelayMs);
        timer.unref();
      }
    },
    flush,
  };
}
