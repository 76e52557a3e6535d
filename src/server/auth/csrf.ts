/**
 * @module server/auth/csrf
 * Cross-site request forgery: besides the session cookie's SameSite=Strict, every state change
 * outside the gateway's `/v1` must come from the dashboard's own origin. A browser sends
 * `Sec-Fetch-Site` (to loopback and HTTPS origins) or at least `Origin` with a cross-site POST,
 * PUT, PATCH or DELETE, so a request marked cross-site or same-site, or whose `Origin` is
 * another host (or `null` without fetch metadata), is refused with `403 E_CSRF`; programs that
 * send neither (the CLI, scripts with a session) are not browsers a forged page could drive.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../context.js';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

export function sameOriginOnly(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (SAFE.has(c.req.method) || c.req.path.startsWith('/v1/')) return next();
    const origin = c.req.header('origin');
    const site = c.req.header('sec-fetch-site');
    const host = c.req.header('host');
    let foreign = false;
    if (site !== undefined) {
      // Fetch metadata says it directly (browsers send it to loopback and HTTPS origins).
      foreign = site !== 'same-origin' && site !== 'none';
    } else if (origin !== undefined) {
      // `Origin: null` comes from sandboxed frames and, under our no-referrer policy, from our own
      // forms; without fetch metadata to tell them apart it is refused.
      try {
        foreign = origin === 'null' || new URL(origin).host !== host;
      } catch {
        foreign = true;
      }
    }
    if (foreign) return c.json({ error: { code: 'E_CSRF', message: 'this change must come from the dashboard\'s own pages (the request came from another origin)' } }, 403);
    return next();
  };
}
