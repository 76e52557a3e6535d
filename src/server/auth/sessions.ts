/**
 * @module server/auth/sessions
 * Operator sign-in for the dashboard and the desk API. A session is a random token in an
 * HttpOnly, SameSite=Strict cookie; the store keeps only its hash. Until an admin exists, the
 * server offers a one-time sign-in link (printed on start, as Jupyter does) so that
 * `npm start` just works on a fresh machine.
 */
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { OperatorRole } from '../../store/index.js';
import type { AppDeps, AppEnv } from '../context.js';
import { hashPassword, hashToken, MIN_PASSWORD_LENGTH, newToken, verifyPassword } from './secrets.js';

export const SESSION_COOKIE = 'hegui_session';
const SESSION_HOURS = 12;
const BOOTSTRAP_ADMIN = 'admin';

/** The one-time sign-in link's token, valid while no admin exists and until used. */
export class BootstrapLink {
  #tokenHash: string | undefined;

  /** A fresh token; the previous one stops working. */
  issue(): string {
    const token = newToken();
    this.#tokenHash = hashToken(token);
    return token;
  }

  /** True once, for the current token. */
  consume(token: string): boolean {
    if (this.#tokenHash === undefined || hashToken(token) !== this.#tokenHash) return false;
    this.#tokenHash = undefined;
    return true;
  }
}

function problem(c: Context, status: 400 | 401 | 403 | 404 | 409, code: string, message: string): Response {
  return c.json({ error: { code, message } }, status);
}

/** Lets the request through only for a signed-in operator with one of `roles` (any role when empty). */
export function requireOperator(deps: AppDeps, roles: readonly OperatorRole[] = []): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const token = getCookie(c, SESSION_COOKIE);
    const session = token ? await deps.store.operators.findSession(hashToken(token), deps.now?.() ?? new Date()) : undefined;
    if (!session) return problem(c, 401, 'E_AUTH_REQUIRED', 'sign in first');
    if (roles.length > 0 && !roles.includes(session.operator.role)) {
      return problem(c, 403, 'E_AUTH_FORBIDDEN', `this needs the ${roles.join(' or ')} role; you are ${session.operator.role}`);
    }
    c.set('operator', session.operator);
    c.set('sessionTokenHash', session.tokenHash);
    await next();
    return undefined;
  };
}

async function startSession(c: Context, deps: AppDeps, operatorId: string): Promise<void> {
  const token = newToken();
  const now = deps.now?.() ?? new Date();
  await deps.store.operators.createSession({
    tokenHash: hashToken(token),
    operatorId,
    now,
    expiresAt: new Date(now.getTime() + SESSION_HOURS * 3_600_000),
  });
  setCookie(c, SESSION_COOKIE, token, { httpOnly: true, sameSite: 'Strict', path: '/', maxAge: SESSION_HOURS * 3600 });
}

function publicOperator(o: { id: string; name: string; role: OperatorRole; password_hash: string | null }) {
  return { id: o.id, name: o.name, role: o.role, hasPassword: o.password_hash !== null };
}

export function mountSessionRoutes(app: Hono<AppEnv>, deps: AppDeps, bootstrap: BootstrapLink): void {
  app.post('/api/session', async (c) => {
    const body = (await c.req.json().catch(() => null)) as { name?: unknown; password?: unknown } | null;
    if (!body || typeof body.name !== 'string' || typeof body.password !== 'string') {
      return problem(c, 400, 'E_AUTH_BAD_REQUEST', 'send {"name": ..., "password": ...} as JSON');
    }
    const operator = await deps.store.operators.findByName(body.name);
    const ok = operator !== undefined && operator.disabled_at === null && (await verifyPassword(body.password, operator.password_hash));
    if (!ok || !operator) return problem(c, 401, 'E_AUTH_FAILED', 'wrong name or password');
    await startSession(c, deps, operator.id);
    return c.json({ operator: publicOperator(operator) });
  });

  app.get('/api/session', requireOperator(deps), (c) => c.json({ operator: publicOperator(c.get('operator')) }));

  app.delete('/api/session', requireOperator(deps), async (c) => {
    await deps.store.operators.deleteSession(c.get('sessionTokenHash'));
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.body(null, 204);
  });

  app.put('/api/session/password', requireOperator(deps), async (c) => {
    const body = (await c.req.json().catch(() => null)) as { password?: unknown } | null;
    if (!body || typeof body.password !== 'string' || body.password.length < MIN_PASSWORD_LENGTH) {
      return problem(c, 400, 'E_AUTH_WEAK_PASSWORD', `a password has at least ${MIN_PASSWORD_LENGTH} characters`);
    }
    await deps.store.operators.setPassword(c.get('operator').id, await hashPassword(body.password));
    return c.body(null, 204);
  });

  /** The one-time link: creates the first admin (no password yet) and signs it in. */
  app.get('/signin', async (c) => {
    const token = c.req.query('token') ?? '';
    if ((await deps.store.operators.countActiveAdmins()) > 0 || !bootstrap.consume(token)) {
      return c.text('This sign-in link is used up or was never valid. Sign in with your name and password, or run `hegui operators add NAME --role admin`.', 403);
    }
    const existing = await deps.store.operators.findByName(BOOTSTRAP_ADMIN);
    const admin =
      existing && existing.role === 'admin' && existing.disabled_at === null
        ? existing
        : await deps.store.operators.create({ name: existing ? `${BOOTSTRAP_ADMIN}-${newToken(3)}` : BOOTSTRAP_ADMIN, role: 'admin' });
    await startSession(c, deps, admin.id);
    return c.redirect('/?welcome=1', 303);
  });
}
