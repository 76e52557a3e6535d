/**
 * @module server/routes/labels
 * `POST /api/labels/inspect`: an operator (or a platform's back office, signed in) uploads
 * files and gets each one's implicit label, where it was found and its signature status
 * (Labeling Measures Art. 6: platforms check what they receive for labels). Uploads are
 * spooled to temporary files, never held whole in memory.
 */
import type { Hono } from 'hono';
import { fileSpool } from '../../label/files.js';
import { inspectLabels } from '../../label/inspect.js';
import { requireOperator } from '../auth/sessions.js';
import type { AppDeps, AppEnv } from '../context.js';

export function mountLabelRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  app.post('/api/labels/inspect', requireOperator(deps), (c) =>
    inspectLabels(c.req.raw, { keys: deps.labelVerifyKeys ?? [], spool: () => fileSpool() }),
  );
}
