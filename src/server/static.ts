/**
 * @module server/static
 * Serves the built dashboard (web/dist): hashed assets with long caching, and index.html for
 * every other page path so the single-page app handles its own routes.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { Hono } from 'hono';
import type { AppDeps, AppEnv } from './context.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>hegui</title>
<p>The dashboard is not built. Run <code>npm run build</code> (or <code>npm start</code>, which builds first).</p>`;

export function mountDashboard(app: Hono<AppEnv>, deps: AppDeps): void {
  const root = resolve(deps.webRoot);
  app.get('*', async (c) => {
    const path = c.req.path;
    if (path.startsWith('/api/') || path.startsWith('/v1/')) return c.json({ error: { code: 'E_NOT_FOUND', message: `no route ${c.req.method} ${path}` } }, 404);
    const file = normalize(join(root, decodeURIComponent(path)));
    const inside = file.startsWith(root + sep);
    if (path.startsWith('/assets/')) {
      if (!inside || !existsSync(file)) return c.text('not found', 404);
      const body = await readFile(file);
      return c.body(body, 200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'public, max-age=31536000, immutable' });
    }
    const index = join(root, 'index.html');
    if (!existsSync(index)) return c.html(NOT_BUILT, 503);
    if (inside && extname(file) !== '' && existsSync(file)) {
      return c.body(await readFile(file), 200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    }
    return c.html(await readFile(index, 'utf8'), 200, { 'cache-control': 'no-cache' });
  });
}
