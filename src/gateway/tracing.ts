/**
 * @module gateway/tracing
 * OpenTelemetry traces of gateway requests (issue 13), through the OpenTelemetry API only: with
 * no SDK registered every call is a no-op, and an operator who registers one (for example
 * `node --import ./otel-setup.mjs`, with the SDK and exporter of their choice) gets a
 * `gateway.request` span per request and a `gateway.upstream` child span per upstream call.
 * The incoming `traceparent` is continued and passed on to the upstream, with whatever
 * propagator the SDK registered. Attributes name the endpoint, model, upstream, status and
 * outcome, never a prompt, an answer or a key.
 */
import { type Context, context, type Span, SpanKind, SpanStatusCode, propagation, type TextMapGetter, trace } from '@opentelemetry/api';
import { version } from '../version.js';

const tracer = trace.getTracer('hegui-gateway', version);

/** Reads the propagator's headers straight from the request's (no copy of every header per request). */
const headerGetter: TextMapGetter<Headers> = {
  get: (headers, key) => headers.get(key) ?? undefined,
  keys: (headers) => [...headers.keys()],
};

/** The request's span, continuing the caller's trace when its headers carry one. */
export function startRequestSpan(endpoint: string, headers: Headers): { span: Span; context: Context } {
  const parent = propagation.extract(context.active(), headers, headerGetter);
  const span = tracer.startSpan('gateway.request', { kind: SpanKind.SERVER, attributes: { 'hegui.endpoint': endpoint } }, parent);
  return { span, context: trace.setSpan(parent, span) };
}

/** A child span for one upstream call, and the headers that carry the trace to the upstream. */
export function startUpstreamSpan(parent: Context | undefined, upstream: string, path: string): { span: Span; headers: Record<string, string> } {
  const span = tracer.startSpan('gateway.upstream', { kind: SpanKind.CLIENT, attributes: { 'hegui.upstream': upstream, 'url.path': path } }, parent ?? context.active());
  const headers: Record<string, string> = {};
  propagation.inject(trace.setSpan(parent ?? context.active(), span), headers);
  return { span, headers };
}

/** Ends a span with the HTTP status it answered; 5xx marks it an error. */
export function endSpan(span: Span, status: number | null, attributes: Record<string, string | number | boolean | string[]> | (() => Record<string, string | number | boolean | string[]>) = {}): void {
  // Without an SDK the span records nothing: its attributes are not even built.
  if (!span.isRecording()) {
    span.end();
    return;
  }
  if (typeof attributes === 'function') attributes = attributes();
  span.setAttributes(attributes);
  if (status !== null) span.setAttribute('http.response.status_code', status);
  if (status !== null && status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}
