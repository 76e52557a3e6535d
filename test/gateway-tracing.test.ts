/**
 * OpenTelemetry traces (issue 13): with an SDK registered, each request is a `gateway.request`
 * span continuing the caller's `traceparent`, with a `gateway.upstream` child whose context
 * reaches the upstream in its own `traceparent`; attributes carry no prompt, answer or key.
 */
import { propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayHarness, KEYWORDS, startGateway } from './gateway-harness.js';

describe('gateway tracing', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  let h: GatewayHarness;

  beforeAll(async () => {
    trace.setGlobalTracerProvider(provider);
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    h = await startGateway();
  });
  afterAll(async () => {
    await h?.close();
    await provider.shutdown();
    trace.disable();
    propagation.disable();
  });

  it('continues the caller\'s trace, times the upstream call and passes the trace on', async () => {
    exporter.reset();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const secret = 'a private question 13800138000';
    const response = await h.post('/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: secret }] }, { traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
    expect(response.status).toBe(200);
    await response.text();
    await expect.poll(() => exporter.getFinishedSpans().map((s) => s.name).sort()).toEqual(['gateway.request', 'gateway.upstream']);
    const spans = exporter.getFinishedSpans();
    const request = spans.find((s) => s.name === 'gateway.request')!;
    const upstream = spans.find((s) => s.name === 'gateway.upstream')!;
    expect(request.spanContext().traceId).toBe(traceId);
    expect(upstream.spanContext().traceId).toBe(traceId);
    expect(upstream.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(request.attributes).toMatchObject({ 'hegui.endpoint': 'chat.completions', 'hegui.model': 'm', 'hegui.upstream': 'double', 'http.response.status_code': 200, 'hegui.request_id': response.headers.get('x-request-id') });
    // The upstream saw the gateway's span as its parent.
    const seen = h.double.seen.at(-1);
    expect(seen?.path).toBe('/v1/chat/completions');
    expect(seen?.traceparent).toBe(`00-${traceId}-${upstream.spanContext().spanId}-01`);
    expect(JSON.stringify(spans.map((s) => s.attributes))).not.toContain('13800138000');
    expect(JSON.stringify(spans.map((s) => s.attributes))).not.toContain(h.key);
  });

  it('records blocks and refusals, and a request without credentials', async () => {
    exporter.reset();
    await (await h.post('/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: KEYWORDS.en }] })).text();
    await (await fetch(`${h.server.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer hg-wrong' }, body: '{}' })).text();
    await expect.poll(() => exporter.getFinishedSpans().length).toBe(2);
    const [blocked, refused] = exporter.getFinishedSpans();
    expect(blocked?.attributes).toMatchObject({ 'hegui.actions': expect.arrayContaining(['input-blocked']), 'hegui.risks': ['A1.6'] });
    expect(refused?.attributes).toMatchObject({ 'http.response.status_code': 401 });
  });
});
