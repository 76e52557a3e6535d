/**
 * @module server/auth/sessions
 * Operator sign-in for the dashboard and the desk API. A session is a random token in an
 * HttpOnly, SameSite=Strict cookie (and `Secure` when the server listens beyond loopback); the
 * store keeps only its hash. Until an admin exists, the server offers a one-time sign-in link
 * (printed on start, as Jupyter does) where the first admin chooses a name and a password, so
 * that `npm start` just works on a fresh machine and no operator name is known in advance.
 *
 * Sign-ins are throttled per address and per name (./throttle), every password hash runs on
 * the dedicated hasher (./secrets) with the same work for unknown names, and sign-ins, failures,
 * lockouts and password changes are audit events (`operator.login`, `operator.password`).
 */
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { JsonObject } from '../../audit/index.js';
import { type Operator, type OperatorRole, type Store, StoreConflictError } from '../../store/index.js';
import type { AppDeps, AppEnv } from '../context.js';
import { hashPassword, hashToken, MIN_PASSWORD_LENGTH, newToken, PasswordQueueFullError, verifyPassword } from './secrets.js';
import { SignInThrottle, type ThrottleRefusal } from './throttle.js';

export const SESSION_COOKIE = 'hegui_session';
const SESSION_HOURS = 12;
/** Names the first admin may choose: letters and digits first, short enough for a log line. */
const OPERATOR_NAME = /^[\p{L}\p{N}][\p{L}\p{N}._@-]{0,63}$/u;

/** The one-time sign-in link's token, valid while no admin exists and until used. */
/** Where the cluster's one first-admin link is kept: the SHA-256 of its token and when it was issued. */
const BOOTSTRAP_SETTING = 'server.bootstrapLink';
/** A link older than this is replaced by the next replica that starts (its log may be gone). */
const BOOTSTRAP_TTL_MS = 24 * 3600_000;

interface StoredBootstrap {
  tokenHash: string | null;
  issuedAt: string;
}

/**
 * The one-time link that lets the first admin choose a name and password, one for the whole
 * cluster: its token's hash lives in the store, so the replica that starts first prints the
 * link, the others say where it is, and the link works on whichever replica a load balancer
 * sends it to, once.
 */
export class BootstrapLink {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  /**
   * Issues the cluster's link: a fresh token when none stands (or the standing one is older
   * than a day); otherwise when the standing one was issued, for the log.
   */
  async issue(now: Date = new Date()): Promise<{ token: string } | { issuedAt: string }> {
    const current = await this.#store.settings.get<StoredBootstrap>(BOOTSTRAP_SETTING);
    if (current?.value.tokenHash && now.getTime() - Date.parse(current.value.issuedAt) < BOOTSTRAP_TTL_MS) return { issuedAt: current.value.issuedAt };
    const token = newToken();
    try {
      await this.#store.settings.set<StoredBootstrap>(BOOTSTRAP_SETTING, { tokenHash: hashToken(token), issuedAt: now.toISOString() }, { expectedVersion: current?.version ?? 0, now });
      return { token };
    } catch (error) {
      // Another replica issued one at the same moment: its link is the cluster's.
      if (!(error instanceof StoreConflictError)) throw error;
      const winner = await this.#store.settings.get<StoredBootstrap>(BOOTSTRAP_SETTING);
      return { issuedAt: winner?.value.issuedAt ?? now.toISOString() };
    }
  }

  /** True while `token` is the standing one (the form is shown; nothing is used up). */
  async valid(token: string): Promise<boolean> {
    const current = await this.#store.settings.get<StoredBootstrap>(BOOTSTRAP_SETTING);
    return token !== '' && current?.value.tokenHash === hashToken(token);
  }

  /** True once, for the standing token, whichever replica asks (a versioned write decides). */
  async consume(token: string, now: Date = new Date()): Promise<boolean> {
    const current = await this.#store.settings.get<StoredBootstrap>(BOOTSTRAP_SETTING);
    if (token === '' || current?.value.tokenHash !== hashToken(token)) return false;
    try {
      await this.#store.settings.set<StoredBootstrap>(BOOTSTRAP_SETTING, { tokenHash: null, issuedAt: current.value.issuedAt }, { expectedVersion: current.version, now });
      return true;
    } catch (error) {
      if (error instanceof StoreConflictError) return false;
      throw error;
    }
  }
}

type Status = 400 | 401 | 403 | 404 | 409 | 429 | 503;

function problem(c: Context, status: Status, code: string, message: string, headers: Record<string, string> = {}): Response {
  return c.json({ error: { code, message } }, status, headers);
}

function throttled(c: Context, refusal: ThrottleRefusal): Response {
  const seconds = Math.max(1, Math.ceil(refusal.retryAfterMs / 1000));
  return refusal.reason === 'locked'
    ? problem(c, 429, 'E_AUTH_LOCKED', `too many failed sign-ins for this name; it is locked for ${Math.ceil(seconds / 60)} more minutes`, { 'retry-after': String(seconds) })
    : problem(c, 429, 'E_AUTH_THROTTLED', `too many failed sign-ins; wait ${seconds} s before the next attempt`, { 'retry-after': String(seconds) });
}

/** The client's address as the socket saw it (a proxy's forwarding headers are not trusted). */
export function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
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

/** Starts a session; returns its token hash. */
async function startSession(c: Context, deps: AppDeps, operatorId: string): Promise<string> {
  const token = newToken();
  const tokenHash = hashToken(token);
  const now = deps.now?.() ?? new Date();
  await deps.store.operators.createSession({ tokenHash, operatorId, now, expiresAt: new Date(now.getTime() + SESSION_HOURS * 3_600_000) });
  setCookie(c, SESSION_COOKIE, token, { httpOnly: true, sameSite: 'Strict', path: '/', maxAge: SESSION_HOURS * 3600, secure: deps.secureCookies === true });
  return tokenHash;
}

function publicOperator(o: { id: string; name: string; role: OperatorRole; password_hash: string | null }) {
  return { id: o.id, name: o.name, role: o.role, hasPassword: o.password_hash !== null };
}

/** Appends an operator event to the audit log, when the app has one. */
async function record(deps: AppDeps, type: 'operator.login' | 'operator.password', actor: string, outcome: string, payload: JsonObject): Promise<void> {
  await deps.audit?.append({ type, actor, outcome, payload });
}

export function mountSessionRoutes(app: Hono<AppEnv>, deps: AppDeps, bootstrap: BootstrapLink): void {
  const throttle = new SignInThrottle(() => (deps.now?.() ?? new Date()).getTime());

  /**
   * Checks `password` for the operator named `name` through the throttle; the answer for a
   * refused, failed or throttled attempt is returned, or the operator on success.
   */
  async function checkPassword(c: Context, name: string, password: string, method: string): Promise<Operator | Response> {
    const address = clientAddress(c);
    const refusal = throttle.begin(address, name);
    if (refusal) return throttled(c, refusal);
    let operator: Operator | undefined;
    let ok: boolean;
    try {
      operator = await deps.store.operators.findByName(name);
      // The same hash for a missing, disabled or password-less operator as for a real one.
      const active = operator !== undefined && operator.disabled_at === null;
      ok = (await verifyPassword(password, active ? (operator?.password_hash ?? null) : null)) && active;
    } catch (error) {
      throttle.abandoned(address, name);
      if (error instanceof PasswordQueueFullError) return problem(c, 503, error.code, error.message, { 'retry-after': '5' });
      throw error;
    }
    const actor = operator ? `operator:${operator.id}` : 'system:server';
    if (ok && operator) {
      throttle.succeeded(address, name);
      return operator;
    }
    const locked = throttle.failed(address, name);
    // A name nobody has is kept (cut short) so that guessing shows in the log; a password never is.
    const payload: JsonObject = { method, address, ...(operator ? {} : { name: name.slice(0, 64) }) };
    await record(deps, 'operator.login', actor, 'fail', payload);
    if (locked) await record(deps, 'operator.login', actor, 'locked', { ...payload, minutes: 15 });
    return problem(c, 401, 'E_AUTH_FAILED', 'wrong name or password');
  }

  app.post('/api/session', async (c) => {
    const body = (await c.req.json().catch(() => null)) as { name?: unknown; password?: unknown } | null;
    if (!body || typeof body.name !== 'string' || typeof body.password !== 'string' || body.name === '') {
      return problem(c, 400, 'E_AUTH_BAD_REQUEST', 'send {"name": ..., "password": ...} as JSON');
    }
    const checked = await checkPassword(c, body.name, body.password, 'password');
    if (checked instanceof Response) return checked;
    await startSession(c, deps, checked.id);
    await record(deps, 'operator.login', `operator:${checked.id}`, 'pass', { method: 'password', address: clientAddress(c) });
    return c.json({ operator: publicOperator(checked) });
  });

  app.get('/api/session', requireOperator(deps), (c) => c.json({ operator: publicOperator(c.get('operator')) }));

  app.delete('/api/session', requireOperator(deps), async (c) => {
    await deps.store.operators.deleteSession(c.get('sessionTokenHash'));
    deleteCookie(c, SESSION_COOKIE, { path: '/', secure: deps.secureCookies === true });
    return c.body(null, 204);
  });

  /**
   * Changes the signed-in operator's password: the current one is required (when there is one),
   * every other session of the operator ends, and the change is an audit event.
   */
  app.put('/api/session/password', requireOperator(deps), async (c) => {
    const body = (await c.req.json().catch(() => null)) as { currentPassword?: unknown; password?: unknown } | null;
    if (!body || typeof body.password !== 'string' || body.password.length < MIN_PASSWORD_LENGTH) {
      return problem(c, 400, 'E_AUTH_WEAK_PASSWORD', `a password has at least ${MIN_PASSWORD_LENGTH} characters`);
    }
    const operator = c.get('operator');
    if (operator.password_hash !== null) {
      if (typeof body.currentPassword !== 'string') return problem(c, 400, 'E_AUTH_CURRENT_PASSWORD', 'send the current password as "currentPassword" to change it');
      const checked = await checkPassword(c, operator.name, body.currentPassword, 'password-change');
      if (checked instanceof Response) return checked;
    }
    let hash: string;
    try {
      hash = await hashPassword(body.password);
    } catch (error) {
      if (error instanceof PasswordQueueFullError) return problem(c, 503, error.code, error.message, { 'retry-after': '5' });
      throw error;
    }
    await deps.store.operators.setPassword(operator.id, hash);
    const revoked = await deps.store.operators.deleteSessions(operator.id, { except: c.get('sessionTokenHash') });
    await record(deps, 'operator.password', `operator:${operator.id}`, 'changed', { address: clientAddress(c), sessionsEnded: revoked });
    return c.body(null, 204);
  });

  /** The one-time link: a form where the first admin chooses a name and a password. */
  app.get('/signin', async (c) => {
    const token = c.req.query('token') ?? '';
    if ((await deps.store.operators.countActiveAdmins()) > 0 || !(await bootstrap.valid(token))) return linkUsedUp(c);
    return c.html(firstAdminForm(token), 200, { 'cache-control': 'no-store' });
  });

  /** Creates the first admin with the chosen name and password, and signs it in. */
  app.post('/signin', async (c) => {
    const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
    const token = typeof form.token === 'string' ? form.token : '';
    const name = typeof form.name === 'string' ? form.name.normalize('NFKC').trim() : '';
    const password = typeof form.password === 'string' ? form.password : '';
    if ((await deps.store.operators.countActiveAdmins()) > 0 || !(await bootstrap.valid(token))) return linkUsedUp(c);
    if (!OPERATOR_NAME.test(name) || password.length < MIN_PASSWORD_LENGTH) {
      return c.html(firstAdminForm(token, `Choose a name (letters, digits, . _ @ -; up to 64) and a password of at least ${MIN_PASSWORD_LENGTH} characters.`), 400);
    }
    if (await deps.store.operators.findByName(name)) return c.html(firstAdminForm(token, `An operator named "${name}" already exists; choose another name.`), 409);
    const hash = await hashPassword(password);
    if (!(await bootstrap.consume(token))) return linkUsedUp(c);
    const admin = await deps.store.operators.create({ name, role: 'admin', passwordHash: hash });
    await startSession(c, deps, admin.id);
    await record(deps, 'operator.login', `operator:${admin.id}`, 'pass', { method: 'first-admin-link', address: clientAddress(c) });
    return c.redirect('/?welcome=1', 303);
  });
}

function linkUsedUp(c: Context): Response {
  return c.text('This sign-in link is used up or was never valid. Sign in with your name and password, or run `hegui operators add NAME --role admin`.', 403);
}

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** A page without script (the dashboard's CSP allows none inline) that posts the first admin's choice. */
function firstAdminForm(token: string, error?: string): string {
  return `<!doctype html><html lang="zh"><meta charset="utf-8"><title>hegui · 创建管理员 Create the first admin</title>
<main style="max-width:28rem;margin:4rem auto;font-family:sans-serif">
<h1>创建管理员 · Create the first admin</h1>
<p>No admin exists yet. Choose your operator name and a password (at least ${MIN_PASSWORD_LENGTH} characters). This link works once.</p>
${error ? `<p role="alert" style="color:#b00">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/signin">
<input type="hidden" name="token" value="${escapeHtml(token)}">
<p><label>名称 Name<br><input name="name" autocomplete="username" required maxlength="64"></label></p>
<p><label>密码 Password<br><input name="password" type="password" autocomplete="new-password" required minlength="${MIN_PASSWORD_LENGTH}"></label></p>
<p><button type="submit">创建并登录 Create and sign in</button></p>
</form></main></html>`;
}
