/**
 * @module server/routes/desk
 * The compliance desk over HTTP. Public (no sign-in): the intake form's facts, a proof-of-work
 * challenge, filing, and the requester's own case through the private status token (sent in
 * the `x-desk-token` header, never in a URL the server logs). Operators: the queue, a case,
 * and its changes: admins and reviewers act, auditors read. `/desk/rules` is the published
 * rules page, generated from the settings.
 */
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { CASE_KINDS, CASE_STATES, COMPLAINT_CATEGORIES, type DeskService, DeskInputError, DeskUploadError, EVIDENCE_TYPES, fillTemplate, PI_RIGHTS, REPLY_TEMPLATES, rulesPage } from '../../desk/index.js';
import { clientAddress, requireOperator } from '../auth/sessions.js';
import type { AppDeps, AppEnv } from '../context.js';

/** Upload routes whose bodies are bounded by the desk's own limit (not the 16 KiB one). */
export const DESK_UPLOAD_PATHS: readonly string[] = ['/api/desk/public/status/evidence'];

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new DeskInputError('E_DESK_INPUT', `${issue.path.join('.') || 'body'}: ${issue.message}`);
  }
  return parsed.data;
}

async function json(c: Context): Promise<unknown> {
  return c.req.json().catch(() => {
    throw new DeskInputError('E_DESK_INPUT', 'send a JSON object (content-type: application/json)');
  });
}

const intakeSchema = z
  .object({
    kind: z.enum(CASE_KINDS),
    category: z.string().max(40),
    subject: z.string().max(4000).optional(),
    text: z.string().max(20_000),
    contact: z.string().max(320),
    language: z.enum(['zh', 'en']).default('zh'),
    apiKey: z.string().max(200).optional(),
    pow: z.object({ challenge: z.string().max(300), nonce: z.string().max(64) }).strict().optional(),
  })
  .strict();

const queueSchema = z
  .object({
    state: z.enum(CASE_STATES).optional(),
    open: z.enum(['true', 'false']).optional(),
    kind: z.enum(CASE_KINDS).optional(),
    category: z.string().max(40).optional(),
    assignee: z.string().max(64).optional(),
    dueBy: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
    cursor: z.string().max(300).optional(),
    limit: z.coerce.number().int().min(1).max(200).optional(),
  })
  .strict();

function token(c: Context): string {
  return c.req.header('x-desk-token') ?? '';
}

/** The base of links in messages when no public URL is configured: this request's origin. */
function baseUrl(c: Context): string {
  return new URL(c.req.url).origin;
}

/** Reads a body of at most `max` bytes, refusing from the declared length or as it streams past. */
async function cappedBody(c: Context, max: number): Promise<Uint8Array> {
  const declared = Number(c.req.header('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > max) throw new DeskUploadError('E_DESK_UPLOAD_TOO_LARGE', `the file has ${declared} bytes; the limit is ${max}`);
  const reader = c.req.raw.body?.getReader();
  if (!reader) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      throw new DeskUploadError('E_DESK_UPLOAD_TOO_LARGE', `the file is larger than the limit of ${max} bytes`);
    }
    chunks.push(value);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

function attachment(c: Context, file: { filename: string; contentType: string; bytes: Uint8Array }): Response {
  const ascii = file.filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return c.body(file.bytes as Uint8Array<ArrayBuffer>, 200, {
    'content-type': file.contentType,
    'content-disposition': `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(file.filename)}`,
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
  });
}

export function mountDeskRoutes(app: Hono<AppEnv>, deps: AppDeps, desk: DeskService): void {
  const anyOperator = requireOperator(deps);
  const actors = requireOperator(deps, ['admin', 'reviewer']);
  const admins = requireOperator(deps, ['admin']);
  const operatorActor = (c: Context<AppEnv>) => ({ id: `operator:${c.get('operator').id}`, operatorId: c.get('operator').id });

  // ---- public ----
  app.get('/desk/rules', async (c) => c.html(rulesPage(await desk.settings(), c.req.query('lang') === 'en' ? 'en' : 'zh'), 200, { 'cache-control': 'no-cache' }));

  app.get('/api/desk/public/form', async (c) => {
    const s = await desk.settings();
    return c.json({
      kinds: CASE_KINDS,
      complaintCategories: COMPLAINT_CATEGORIES,
      piRights: PI_RIGHTS,
      limits: s.limits,
      providerName: s.providerName,
      powBits: s.powBits,
      uploadMaxBytes: s.uploadMaxBytes,
      uploadMaxFiles: s.uploadMaxFiles,
      evidenceTypes: EVIDENCE_TYPES,
    });
  });

  app.get('/api/desk/public/challenge', async (c) => c.json((await desk.challenge()) ?? { challenge: null, bits: 0 }, 200, { 'cache-control': 'no-store' }));

  app.post('/api/desk/public/cases', async (c) => {
    const input = parse(intakeSchema, await json(c));
    const result = await desk.file(
      { ...input, ...(input.subject === undefined ? {} : { subject: input.subject }), ...(input.apiKey === undefined ? {} : { apiKey: input.apiKey }), ...(input.pow === undefined ? {} : { pow: input.pow }) },
      { address: clientAddress(c), baseUrl: baseUrl(c) },
    );
    return c.json(result, 201, { 'cache-control': 'no-store' });
  });

  app.get('/api/desk/public/status', async (c) => c.json(await desk.requesterView(token(c)), 200, { 'cache-control': 'no-store' }));

  app.post('/api/desk/public/status/verify', async (c) => {
    const body = parse(z.object({ code: z.string().max(20) }).strict(), await json(c));
    return c.json(await desk.verify(token(c), body.code));
  });

  app.post('/api/desk/public/status/resend', async (c) => {
    await desk.resend(token(c), { baseUrl: baseUrl(c) });
    return c.body(null, 204);
  });

  app.post('/api/desk/public/status/messages', async (c) => {
    const body = parse(z.object({ text: z.string().max(20_000) }).strict(), await json(c));
    await desk.requesterMessage(token(c), body.text);
    return c.body(null, 204);
  });

  app.post('/api/desk/public/status/withdraw', async (c) => {
    await desk.withdraw(token(c));
    return c.body(null, 204);
  });

  app.post('/api/desk/public/status/evidence', async (c) => {
    const settings = await desk.settings();
    // The token is checked before the body is read, so strangers cannot make the server read uploads.
    await desk.requesterView(token(c));
    const bytes = await cappedBody(c, settings.uploadMaxBytes);
    let filename = 'evidence';
    try {
      filename = decodeURIComponent(c.req.header('x-filename') ?? 'evidence');
    } catch {
      // a malformed name becomes the default one
    }
    return c.json(await desk.addEvidence(token(c), { bytes, contentType: c.req.header('content-type') ?? '', filename }), 201);
  });

  app.get('/api/desk/public/status/files/:id', async (c) => attachment(c, await desk.requesterFile(token(c), c.req.param('id'))));

  // ---- operators ----
  app.get('/api/desk/cases', anyOperator, async (c) => {
    const q = parse(queueSchema, c.req.query());
    return c.json(
      await desk.queue({
        ...(q.state ? { state: q.state } : {}),
        ...(q.open ? { open: q.open === 'true' } : {}),
        ...(q.kind ? { kind: q.kind } : {}),
        ...(q.category ? { category: q.category } : {}),
        ...(q.assignee ? { assignee: q.assignee === 'me' ? c.get('operator').id : q.assignee } : {}),
        ...(q.dueBy ? { dueBy: q.dueBy } : {}),
        ...(q.cursor ? { cursor: q.cursor } : {}),
        ...(q.limit ? { limit: q.limit } : {}),
      }),
    );
  });

  app.get('/api/desk/cases/:ref', anyOperator, async (c) => c.json(await desk.detail(c.req.param('ref'))));

  app.get('/api/desk/cases/:ref/files/:id', anyOperator, async (c) => attachment(c, await desk.operatorFile(c.req.param('ref'), c.req.param('id'))));

  app.get('/api/desk/cases/:ref/templates', anyOperator, async (c) => {
    const values = await desk.templateValues(c.req.param('ref'));
    return c.json({ templates: REPLY_TEMPLATES.map((t) => ({ id: t.id, title: t.title, text: { zh: fillTemplate(t.text.zh, values), en: fillTemplate(t.text.en, values) } })) });
  });

  app.post('/api/desk/cases/:ref/transition', actors, async (c) => {
    const body = parse(z.object({ to: z.enum(CASE_STATES), reason: z.string().max(4000).optional(), resolution: z.string().max(20_000).optional() }).strict(), await json(c));
    await desk.transition(c.req.param('ref'), body.to, body.reason, operatorActor(c), body.resolution === undefined ? {} : { resolution: body.resolution });
    return c.json(await desk.detail(c.req.param('ref')));
  });

  app.post('/api/desk/cases/:ref/assign', actors, async (c) => {
    const body = parse(z.object({ operatorId: z.string().max(64).nullable() }).strict(), await json(c));
    await desk.assign(c.req.param('ref'), body.operatorId, operatorActor(c));
    return c.json(await desk.detail(c.req.param('ref')));
  });

  app.post('/api/desk/cases/:ref/notes', actors, async (c) => {
    const body = parse(z.object({ text: z.string().max(20_000) }).strict(), await json(c));
    await desk.note(c.req.param('ref'), body.text, operatorActor(c));
    return c.json(await desk.detail(c.req.param('ref')));
  });

  app.post('/api/desk/cases/:ref/replies', actors, async (c) => {
    const body = parse(z.object({ text: z.string().max(20_000) }).strict(), await json(c));
    await desk.reply(c.req.param('ref'), body.text, operatorActor(c));
    return c.json(await desk.detail(c.req.param('ref')));
  });

  app.post('/api/desk/cases/:ref/carry-out', actors, async (c) => {
    const result = await desk.carryOut(c.req.param('ref'), operatorActor(c));
    return c.json({ ...result, case: await desk.detail(c.req.param('ref')) });
  });

  app.get('/api/desk/operators', anyOperator, async (c) => {
    const operators = await deps.store.operators.list();
    return c.json({ operators: operators.filter((o) => o.disabled_at === null && o.role !== 'auditor').map((o) => ({ id: o.id, name: o.name, role: o.role })) });
  });

  app.get('/api/desk/settings', anyOperator, async (c) => c.json(await desk.settings()));

  app.put('/api/desk/settings', admins, async (c) => {
    const body = await json(c);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new DeskInputError('E_DESK_INPUT', 'send the settings to change as a JSON object');
    return c.json(await desk.updateSettings(body as Record<string, unknown>, operatorActor(c)));
  });

  app.post('/api/desk/escalate', admins, async (c) => c.json({ escalated: await desk.escalate(operatorActor(c)) }));
}
