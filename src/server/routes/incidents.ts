/**
 * @module server/routes/incidents
 * Illegal-content incidents for operators (issue 15): every operator reads (auditors too),
 * admins and reviewers open and act. State changes take JSON only and refuse another origin
 * (the session cookie is SameSite=Strict as well), so a page elsewhere cannot act for a
 * signed-in operator. Errors: 400 bad input, 401 no session, 403 wrong role or origin, 404 no
 * such incident, 409 closed or changed meanwhile, 415 not JSON.
 */
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { IncidentDesk, IncidentNotFoundError } from '../../desk/incident.js';
import { InvalidInputError } from '../../errors.js';
import { StoreConflictError } from '../../store/index.js';
import { requireOperator } from '../auth/sessions.js';
import type { AppDeps, AppEnv } from '../context.js';

function problem(c: Context, status: 403 | 404 | 409 | 415, code: string, message: string): Response {
  return c.json({ error: { code, message } }, status);
}

/** State changes: JSON bodies only, and from this origin when the browser says where it comes from. */
export const sameOriginJson: MiddlewareHandler<AppEnv> = async (c, next) => {
  // The host, not the scheme: behind a proxy that ends TLS the server sees http, the browser https.
  const origin = c.req.header('origin');
  if (origin !== undefined && hostOf(origin) !== (c.req.header('host') ?? new URL(c.req.url).host)) return problem(c, 403, 'E_CSRF', 'this request comes from another origin; act from the dashboard');
  const site = c.req.header('sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return problem(c, 403, 'E_CSRF', 'this request comes from another site; act from the dashboard');
  if (!/^application\/json\b/i.test(c.req.header('content-type') ?? '')) return problem(c, 415, 'E_CONTENT_TYPE', 'send the body as application/json');
  await next();
  return undefined;
};

function hostOf(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
}

async function body(c: Context): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    throw new InvalidInputError('E_DESK_INCIDENT_INVALID', 'the body is not JSON');
  }
}

/** Maps the desk's own errors to their statuses; everything else goes to the app's handler. */
async function answer(c: Context, work: () => Promise<unknown>): Promise<Response> {
  try {
    return c.json((await work()) as object);
  } catch (error) {
    if (error instanceof IncidentNotFoundError) return problem(c, 404, error.code, error.message);
    if (error instanceof StoreConflictError) return problem(c, 409, error.code, error.message);
    throw error;
  }
}

export function mountIncidentRoutes(app: Hono<AppEnv>, deps: AppDeps, options: { keywordLibrary?: string } = {}): void {
  const audit = deps.audit;
  if (!audit) return;
  const desk = new IncidentDesk(deps.store, { audit, ...(deps.now ? { clock: deps.now } : {}), ...(options.keywordLibrary ? { keywordLibrary: options.keywordLibrary } : {}) });
  const readers = requireOperator(deps);
  const actors = requireOperator(deps, ['admin', 'reviewer']);
  const actor = (c: Context<AppEnv>): string => `operator:${c.get('operator').id}`;
  const reachesGateway = (): boolean | null => (deps.gateway ? deps.gateway.config.safety.libraries.includes(desk.keywordLibrary) : null);

  app.get('/api/incidents', readers, (c) =>
    answer(c, () =>
      desk.list({
        ...(c.req.query('state') ? { state: c.req.query('state') } : {}),
        ...(c.req.query('limit') ? { limit: Number(c.req.query('limit')) } : {}),
        ...(c.req.query('offset') ? { offset: Number(c.req.query('offset')) } : {}),
      }),
    ),
  );

  app.get('/api/incidents/patterns', readers, (c) =>
    answer(c, async () => {
      const hours = Number(c.req.query('hours') ?? 24);
      const threshold = Number(c.req.query('threshold') ?? 10);
      if (!Number.isInteger(hours) || hours < 1 || hours > 24 * 31) throw new InvalidInputError('E_DESK_INCIDENT_INVALID', 'hours: 1 to 744');
      const to = deps.now?.() ?? new Date();
      return { patterns: await desk.blockPatterns({ from: new Date(to.getTime() - hours * 3_600_000), to, threshold }) };
    }),
  );

  app.get('/api/incidents/:ref', readers, (c) => answer(c, async () => ({ ...(await desk.get(c.req.param('ref'))), stopGenerationReachesGateway: reachesGateway(), keywordLibrary: desk.keywordLibrary })));

  app.get('/api/incidents/:ref/export', readers, async (c) => {
    const format = c.req.query('format') ?? 'json';
    if (format === 'md') {
      try {
        const text = await desk.exportMarkdown(c.req.param('ref'));
        return c.body(text, 200, { 'content-type': 'text/markdown; charset=utf-8', 'content-disposition': `attachment; filename="${c.req.param('ref')}.md"` });
      } catch (error) {
        if (error instanceof IncidentNotFoundError) return problem(c, 404, error.code, error.message);
        throw error;
      }
    }
    if (format !== 'json') throw new InvalidInputError('E_DESK_INCIDENT_INVALID', 'format: json or md');
    return answer(c, () => desk.exportJson(c.req.param('ref')));
  });

  app.post('/api/incidents', actors, sameOriginJson, async (c) => {
    const input = await body(c);
    return answer(c, () => desk.open(input as Parameters<IncidentDesk['open']>[0], actor(c)));
  });

  const actions = {
    'stop-generation': (ref: string, input: unknown, who: string) => desk.stopGeneration(ref, input, who),
    'remove-outputs': (ref: string, input: unknown, who: string) => desk.removeOutputs(ref, input, who),
    optimisation: (ref: string, input: unknown, who: string) => desk.optimisation(ref, input, who),
    'user-measure': (ref: string, input: unknown, who: string) => desk.userMeasure(ref, input, who),
    report: (ref: string, input: unknown, who: string) => desk.report(ref, input, who),
    close: (ref: string, input: unknown, who: string) => desk.close(ref, input, who),
  } as const;
  for (const [name, run] of Object.entries(actions)) {
    app.post(`/api/incidents/:ref/${name}`, actors, sameOriginJson, async (c) => {
      const input = await body(c);
      return answer(c, async () => {
        const view = await run(c.req.param('ref'), input, actor(c));
        return name === 'stop-generation' ? { ...view, stopGenerationReachesGateway: reachesGateway(), keywordLibrary: desk.keywordLibrary } : view;
      });
    });
  }
}
