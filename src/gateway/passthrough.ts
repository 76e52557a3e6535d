/**
 * @module gateway/passthrough
 * `POST /v1/embeddings` and `POST /v1/moderations`: no generated content leaves these (vectors,
 * category scores), so nothing is labeled, but every request is authenticated, admitted and
 * audited like the others.
 *
 * - Embeddings: the input passes the input guard (keywords, personal data, guard models), as
 *   text sent to a model; a blocked input is a 400 `E_GATEWAY_CONTENT_BLOCKED`; token ids are
 *   refused, since the guard cannot read them.
 * - Moderations: asking whether a text is harmful is what the endpoint is for, so its input is
 *   checked and the findings recorded, never blocked or redacted (a block would refuse exactly
 *   the texts a moderation pipeline must see).
 */
import type { Env, Hono } from 'hono';
import { GatewayBlockedError, GatewayRequestError } from './errors.js';
import { callUpstream, guardInput, guardInputModels, isObject, jsonResponse, newCall, noteUsage, readUpstreamJson, routeModel, runRequest, type GatewayServices, type Json, type TextSlot } from './pipeline.js';

/** The texts of an `input` that is a string or a list of strings; token ids refused. */
function inputSlots(body: Json, field: string): TextSlot[] {
  const input = body[field];
  if (typeof input === 'string') return [{ text: input, set: (text) => (body[field] = text) }];
  if (Array.isArray(input) && input.length > 0 && input.every((item) => typeof item === 'string')) return input.map((item: string, i) => ({ text: item, set: (text: string) => (input[i] = text) }));
  if (Array.isArray(input) && input.some((item) => typeof item === 'number' || Array.isArray(item))) {
    throw new GatewayRequestError(`"${field}" as token ids cannot be checked by the content guard: send text (a string or a list of strings)`, field);
  }
  throw new GatewayRequestError(`"${field}" must be a string or a non-empty list of strings`, field);
}

/** Moderation input: text, a list of texts, or multimodal parts (`{type: "text", text}`; images are passed on unread). */
function moderationSlots(body: Json): TextSlot[] {
  const input = body.input;
  if (Array.isArray(input) && input.some(isObject)) {
    return input.filter(isObject).flatMap((part) => (part.type === 'text' && typeof part.text === 'string' ? [{ text: part.text, set: (text: string) => (part.text = text) }] : []));
  }
  return inputSlots(body, 'input');
}

export function mountPassthrough<E extends Env>(app: Hono<E>, services: GatewayServices): void {
  app.post('/v1/embeddings', (c) =>
    runRequest(services, c.req, 'embeddings', async (exchange, body) => {
      if (typeof body.model !== 'string' || body.model === '') throw new GatewayRequestError('"model" is required: the name of the embedding model', 'model');
      const upstream = routeModel(services, exchange, body.model);
      const slots = inputSlots(body, 'input');
      if (guardInput(services, exchange, slots) || (await guardInputModels(services, exchange, slots))) {
        throw new GatewayBlockedError(services.blockMessage, 'input');
      }
      const call = newCall(c.req, services);
      const response = await callUpstream(upstream, exchange, '/embeddings', body, call);
      const answer = await readUpstreamJson(response.upstream, response, call);
      noteUsage(exchange, answer.usage);
      await exchange.record(services.audit, 200);
      return jsonResponse(answer, 200);
    }),
  );

  app.post('/v1/moderations', (c) =>
    runRequest(services, c.req, 'moderations', async (exchange, body) => {
      const model = typeof body.model === 'string' && body.model !== '' ? body.model : 'omni-moderation-latest';
      const upstream = routeModel(services, exchange, model);
      const slots = moderationSlots(body);
      const caller = exchange.caller as NonNullable<typeof exchange.caller>;
      // Findings are recorded, never acted on: the text is what the client asked to have judged.
      for (const slot of slots) {
        exchange.noteInput(slot.text);
        exchange.inputFindings.push(...services.guard.check(slot.text, 'input', caller).findings.map((f) => ({ ...f, action: 'review' as const })));
      }
      if (exchange.inputFindings.length > 0) exchange.actions.push('input-review');
      const call = newCall(c.req, services);
      const response = await callUpstream(upstream, exchange, '/moderations', body, call);
      const answer = await readUpstreamJson(response.upstream, response, call);
      await exchange.record(services.audit, 200);
      return jsonResponse(answer, 200);
    }),
  );
}
