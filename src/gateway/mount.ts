/**
 * @module gateway/mount
 * Puts the OpenAI-compatible API on an app: `/v1/chat/completions`, `/v1/completions`,
 * `/v1/responses`, `/v1/images/generations`, `/v1/audio/speech`, `/v1/embeddings`,
 * `/v1/moderations`, `/v1/models` and `/v1/models/{id}`, and
 * `/v1/media/:id` for labeled images handed out as URLs.
 */
import { getConnInfo } from '@hono/node-server/conninfo';
import { timingSafeEqual } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import type { Context, Env, Hono } from 'hono';
import { cors as corsMiddleware } from 'hono/cors';
import { mountChat } from './chat.js';
import { mountCompletions } from './completions.js';
import { mountMedia } from './media-routes.js';
import { mountModels } from './models.js';
import { mountPassthrough } from './passthrough.js';
import { bindRequest, type GatewayServices, type RequestBindings, watchClient } from './pipeline.js';
import { mountResponses } from './responses.js';

/**
 * Mounts the gateway's routes on `app`.
 *
 * @example
 * const services = await createGatewayServices({ config, store, audit });
 * mountGateway(app, services);
 */
export function mountGateway<E extends Env>(app: Hono<E>, services: GatewayServices): void {
  const origins = services.config.server.corsOrigins;
  const cors = origins.length > 0;
  if (cors) {
    // Browsers on the listed origins may call the API; the preflight is answered before authentication.
    app.use('/v1/*', corsMiddleware({
      origin: origins.includes('*') ? '*' : origins,
      allowMethods: ['GET', 'POST', 'OPTIONS'],
      allowHeaders: ['authorization', 'content-type', 'openai-organization', 'openai-project', 'x-stainless-arch', 'x-stainless-lang', 'x-stainless-os', 'x-stainless-package-version', 'x-stainless-retry-count', 'x-stainless-runtime', 'x-stainless-runtime-version', 'x-stainless-timeout'],
      exposeHeaders: ['x-request-id', 'retry-after', 'retry-after-ms', 'x-hegui-label', 'x-hegui-notice'],
      maxAge: 600,
    }));
  }
  if (services.config.server.metrics.enabled && services.observer) mountMetrics(app, services.observer);
  app.use('/v1/*', async (c, next) => {
    const bound: RequestBindings = { address: clientAddress(c) };
    // Behind @hono/node-server the Node message is at hand: bodies are read from it (./pipeline).
    const bindings = c.env as { incoming?: unknown; outgoing?: unknown } | undefined;
    if (bindings?.incoming instanceof IncomingMessage) {
      bound.incoming = bindings.incoming;
      if (bindings.outgoing instanceof ServerResponse) {
        bound.connection = watchClient(bindings.incoming, bindings.outgoing);
        // Answers are written to the Node response directly (./answer), unless the CORS middleware
        // must add its headers to them afterwards.
        if (!cors) bound.outgoing = bindings.outgoing;
      }
    }
    bindRequest(c.req.raw, bound);
    await next();
  });
  mountChat(app, services);
  mountCompletions(app, services);
  mountResponses(app, services);
  mountMedia(app, services);
  mountModels(app, services);
  mountPassthrough(app, services);
}

/** The client's address as the socket saw it (a proxy's forwarding headers are not trusted). */
function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * `GET /metrics` in Prometheus's text format. With `server.metrics.tokenEnv` the scraper sends
 * that token as a bearer token; without one only clients on the loopback interface may read
 * (model names and counts are the provider's business).
 */
function mountMetrics<E extends Env>(app: Hono<E>, observer: NonNullable<GatewayServices['observer']>): void {
  app.get('/metrics', async (c) => {
    const token = observer.token;
    if (token !== undefined) {
      const given = Buffer.from(c.req.header('authorization') ?? '');
      const expected = Buffer.from(`Bearer ${token}`);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return c.json({ error: { code: 'E_METRICS_TOKEN', message: 'send the metrics token as "Authorization: Bearer <token>" (server.metrics.tokenEnv)' } }, 401);
    } else if (!isLoopback(clientAddress(c))) {
      return c.json({ error: { code: 'E_METRICS_LOOPBACK', message: '/metrics answers loopback clients only; set server.metrics.tokenEnv to let a scraper elsewhere read it with a token' } }, 403);
    }
    return c.body(await observer.metrics(), 200, { 'content-type': observer.registry.contentType });
  });
}

function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

/**
 * What `/healthz` says about the gateway: each upstream (failing after 3 failures in a row,
 * unknown before its first call) and each guard model's circuit. `down` when every upstream is
 * failing: nothing can be served.
 */
export function gatewayHealth(services: GatewayServices): { degraded: boolean; down: boolean; upstreams: object[]; classifiers: object[] } {
  const upstreams = services.router.upstreams.map((u) => ({
    name: u.name,
    status: u.health.consecutiveFailures >= 3 ? 'failing' : u.health.lastOkAt === null && u.health.lastFailureAt === null ? 'unknown' : 'ok',
    consecutiveFailures: u.health.consecutiveFailures,
    lastOkAt: u.health.lastOkAt,
    lastFailureAt: u.health.lastFailureAt,
    lastError: u.health.lastError,
  }));
  const classifiers = (services.models?.classifiers ?? []).map((c) => ({ name: c.name, circuit: 'state' in c ? (c as { state: string }).state : 'unknown', onFailure: c.onFailure }));
  const failing = upstreams.filter((u) => u.status === 'failing').length;
  return {
    degraded: failing > 0 || classifiers.some((c) => c.circuit !== 'closed'),
    down: upstreams.length > 0 && failing === upstreams.length,
    upstreams,
    classifiers,
  };
}
