/**
 * @module server/app
 * The HTTP app: `/healthz`, the operator session API, the tracker API and the dashboard.
 * Later capabilities (gateway, desk, labels) mount their routes here.
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { secureHeaders } from 'hono/secure-headers';
import { DeskService, Outbox } from '../desk/index.js';
import { gatewayHealth, mountGateway } from '../gateway/index.js';
import { sameOriginOnly } from './auth/csrf.js';
import { BootstrapLink, mountSessionRoutes } from './auth/sessions.js';
import type { AppDeps, AppEnv } from './context.js';
import { mountActivityRoutes } from './routes/activity.js';
import { mountAuditRoutes } from './routes/audit.js';
import { DESK_UPLOAD_PATHS, mountDeskRoutes } from './routes/desk.js';
import { mountIncidentRoutes } from './routes/incidents.js';
import { mountEvalBankRoutes } from './routes/eval-banks.js';
import { mountEvalRoutes } from './routes/eval.js';
import { mountEvidenceRoutes } from './routes/evidence.js';
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
  /** The compliance desk the routes use (given in `deps.desk`, or one without mail delivery). */
  desk: DeskService;
}

export function createApp(deps: AppDeps): HeguiApp {
  const app = new Hono<AppEnv>();
  const bootstrap = new BootstrapLink(deps.store);
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
  // Evidence uploads to the desk are bounded by the desk's own published limit (routes/desk).
  app.use('*', (c, next) => (c.req.path.startsWith('/v1/') || c.req.path === '/api/labels/inspect' || DESK_UPLOAD_PATHS.includes(c.req.path) ? next() : smallBodies(c, next)));
  // State changes come from the dashboard's own origin (on top of the SameSite=Strict cookie).
  app.use('*', sameOriginOnly());
  app.onError((error, c) => {
    const { status, body } = errorResponse(error);
    if (status === 500) console.error(error);
    const retry = (error as { retryAfterSeconds?: unknown }).retryAfterSeconds;
    return c.json(body, status, typeof retry === 'number' ? { 'retry-after': String(retry) } : {});
  });

  app.get('/healthz', async (c) => {
    const database = await deps.store.ping().then(
      () => 'ok',
      () => 'unreachable',
    );
    const gateway = deps.gateway ? gatewayHealth(deps.gateway) : undefined;
    // 503 when nothing can be served (no database, or every upstream failing); 200 "degraded" when some part is.
    const down = database !== 'ok' || gateway?.down === true;
    const status = down ? 'down' : gateway?.degraded ? 'degraded' : 'ok';
    return c.json({ status, version: deps.version, database: { dialect: deps.store.dialect, status: database }, ...(gateway ? { upstreams: gateway.upstreams, classifiers: gateway.classifiers } : {}) }, down ? 503 : 200);
  });
  if (deps.gateway) mountGateway(app, deps.gateway);
  mountSessionRoutes(app, deps, bootstrap);
  mountRulesRoutes(app, deps);
  mountLabelRoutes(app, deps);
  mountAuditRoutes(app, deps);
  const desk = deps.desk ?? new DeskService({ store: deps.store, outbox: new Outbox(deps.store), ...(deps.audit ? { audit: deps.audit } : {}), ...(deps.now ? { now: deps.now } : {}) });
  mountDeskRoutes(app, deps, desk);
  mountIncidentRoutes(app, deps);
  mountEvalRoutes(app, deps);
  mountEvalBankRoutes(app, deps);
  mountActivityRoutes(app, deps);
  mountEvidenceRoutes(app, deps);
  mountCorpusRoutes(app, deps);
  mountDashboard(app, deps);
  return { app, bootstrap, desk };
}
