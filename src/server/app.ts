/**
 * @module server/app
 * The HTTP app: `/healthz`, the operator session API, the tracker API and the dashboard.
 * Later capabilities (gateway, desk, labels) mount their routes here.
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { secureHeaders } from 'hono/secure-headers';
import { mountGateway } from '../gateway/index.js';
import { BootstrapLink, mountSessionRoutes } from './auth/sessions.js';
import type { AppDeps, AppEnv } from './context.js';
import { mountAuditRoutes } from './routes/audit.js';
import { mountCorpusRoutes } from './routes/corpus.js';
import { mountLabelRoutes } from './routes/labels.js';
import { errorResponse, mountRulesRoutes } from './routes/rules.js';
import { mountDashboard } from './static.js';

/** Largest body the session and desk routes accept: JSON with a name, a password or a few fields. */
export const SMALL_BODY_BYTES = 16 * 1024;

export interface HeguiApp {
  app: Hono<AppEnv>;
  /** Issues the one-time sign-in link token (meaningful while no admin exists). */
  bootstrap: BootstrapLink;
}

export function createApp(deps: AppDeps): HeguiApp {
  const app = new Hono<AppEnv>();
  const bootstrap = new BootstrapLink();
  const browserHeaders = secureHeaders({
    contentSecurityPolicy: { defaultSrc: ["'self'"], imgSrc: ["'self'", 'data:', 'blob:'], styleSrc: ["'self'", "'unsafe-inline'"], frameAncestors: ["'none'"] },
    referrerPolicy: 'no-referrer',
  });
  // The OpenAI-compatible API answers programs, not browsers: it sets `nosniff` on every answer
  // itself and skips the page headers, the one middleware on its hot path.
  app.use('*', (c, next) => (c.req.path.startsWith('/v1/') ? next() : browserHeaders(c, next)));
  // Every body is bounded before anything reads it. The session and desk routes take a few small
  // fields; the gateway applies its own configurable limit after admission (gateway/pipeline),
  // and label inspection spools uploads to files under its own limits (label/inspect).
  const smallBodies = bodyLimit({
    maxSize: SMALL_BODY_BYTES,
    onError: (c) => c.json({ error: { code: 'E_BODY_TOO_LARGE', message: `the request body is larger than ${SMALL_BODY_BYTES} bytes` } }, 413),
  });
  app.use('*', (c, next) => (c.req.path.startsWith('/v1/') || c.req.path === '/api/labels/inspect' ? next() : smallBodies(c, next)));
  app.onError((error, c) => {
    const { status, body } = errorResponse(error);
    if (status === 500) console.error(error);
    return c.json(body, status);
  });

  app.get('/healthz', async (c) => {
    const database = await deps.store.ping().then(
      () => 'ok',
      () => 'unreachable',
    );
    const healthy = database === 'ok';
    return c.json({ status: healthy ? 'ok' : 'degraded', version: deps.version, database: { dialect: deps.store.dialect, status: database } }, healthy ? 200 : 503);
  });
  if (deps.gateway) mountGateway(app, deps.gateway);
  mountSessionRoutes(app, deps, bootstrap);
  mountRulesRoutes(app, deps);
  mountLabelRoutes(app, deps);
  mountAuditRoutes(app, deps);
  mountCorpusRoutes(app, deps);
  mountDashboard(app, deps);
  return { app, bootstrap };
}
