/**
 * @module gateway/models
 * `GET /v1/models`: the models this gateway serves. Models configured by name are listed as
 * they are; for an upstream that serves any model (`*` or `prefix*`), its own list is asked for
 * and filtered to what the gateway would route to it.
 */
import type { Env, Hono } from 'hono';
import { GatewayModelError } from './errors.js';
import { runRequestWithoutBody, isObject, jsonResponse, type GatewayServices } from './pipeline.js';
import { type Upstream, UpstreamCall } from './upstream.js';

interface ModelEntry {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
}

async function upstreamModels(upstream: Upstream, signal: AbortSignal): Promise<ModelEntry[]> {
  const call = new UpstreamCall(signal);
  try {
    const response = await upstream.send('/models', { method: 'GET' }, call);
    if (!response.ok) {
      response.discard();
      return [];
    }
    const body = JSON.parse(await response.text()) as unknown;
    const data = isObject(body) && Array.isArray(body.data) ? body.data.filter(isObject) : [];
    return data.flatMap((m) => (typeof m.id === 'string' ? [{ id: m.id, object: 'model' as const, created: typeof m.created === 'number' ? m.created : 0, owned_by: typeof m.owned_by === 'string' ? m.owned_by : upstream.name }] : []));
  } catch {
    // An upstream that cannot list its models contributes none; the others still answer.
    return [];
  } finally {
    call.end();
  }
}

/** The models the gateway serves, by id: those configured by name, then what open upstreams list. */
async function servedModels(services: GatewayServices, signal: AbortSignal): Promise<Map<string, ModelEntry>> {
  const { named, open } = services.router.catalogue();
  const entries = new Map<string, ModelEntry>();
  for (const { model, upstream } of named) entries.set(model, { id: model, object: 'model', created: 0, owned_by: upstream.name });
  const listed = await Promise.all(open.map(async (upstream) => ({ upstream, models: await upstreamModels(upstream, signal) })));
  for (const { upstream, models } of listed) {
    for (const model of models) if (!entries.has(model.id) && services.router.tryResolve(model.id) === upstream) entries.set(model.id, model);
  }
  return entries;
}

export function mountModels<E extends Env>(app: Hono<E>, services: GatewayServices): void {
  // `GET /v1/models/{id}`: ids may hold slashes (`Qwen/Qwen3-8B`).
  app.get('/v1/models/:id{.+}', (c) =>
    runRequestWithoutBody(services, c.req, 'models', async (exchange) => {
      const id = c.req.param('id');
      const entry = (await servedModels(services, c.req.raw.signal)).get(id);
      if (!entry) throw new GatewayModelError(id);
      await exchange.record(services.audit, 200);
      return jsonResponse(entry, 200);
    }),
  );

  app.get('/v1/models', (c) =>
    runRequestWithoutBody(services, c.req, 'models', async (exchange) => {
      const entries = await servedModels(services, c.req.raw.signal);
      await exchange.record(services.audit, 200);
      return jsonResponse({ object: 'list', data: [...entries.values()] }, 200);
    }),
  );
}
