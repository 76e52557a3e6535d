/**
 * @module gateway/responses
 * `POST /v1/responses`, streaming or not. The input (a string or items: messages with text
 * parts, function call outputs) and `instructions` pass the input guard; each `output_text`
 * part of the answer passes the output guard and gets the explicit notice; a block ends the
 * response as `incomplete` with `incomplete_details.reason: "content_filter"`.
 */
import type { Env, Hono } from 'hono';
import type { Exchange } from './audit.js';
import { GatewayBlockedError, GatewayRequestError } from './errors.js';
import { heguiData } from './labels.js';
import { answerLabeled, blockedOutputNotice, blockNotice, callUpstream, guardInput, isObject, jsonResponse, newCall, readUpstreamJson, requireModel, routeModel, runRequest, withNotices, type GatewayServices, type Json, type TextSlot } from './pipeline.js';
import { relayResponseStream } from './responses-stream.js';
import { SSE_HEADERS, sseEvent } from './sse.js';

/** Text-bearing fields of input items and their parts. */
function inputSlots(body: Json, checkToolResults: boolean): TextSlot[] {
  const slots: TextSlot[] = [];
  const field = (holder: Json, key: string): void => {
    const value = holder[key];
    if (typeof value === 'string') slots.push({ text: value, set: (text) => (holder[key] = text) });
  };
  field(body, 'instructions');
  if (typeof body.input === 'string') field(body, 'input');
  else if (Array.isArray(body.input)) {
    for (const item of body.input) {
      if (!isObject(item)) throw new GatewayRequestError('each input item must be an object', 'input');
      if (item.type === 'function_call_output' || item.type === 'custom_tool_call_output') {
        if (checkToolResults) field(item, 'output');
        continue;
      }
      if (typeof item.content === 'string') field(item, 'content');
      else if (Array.isArray(item.content)) for (const part of item.content) if (isObject(part)) field(part, 'text');
    }
  } else if (body.input !== undefined) throw new GatewayRequestError('"input" must be a string or a list of input items', 'input');
  return slots;
}

/** Every `output_text` part of a response's output, with its item. */
export function outputTextParts(response: Json): { item: Json; part: Json; index: number }[] {
  const parts: { item: Json; part: Json; index: number }[] = [];
  for (const item of Array.isArray(response.output) ? response.output.filter(isObject) : []) {
    if (!Array.isArray(item.content)) continue;
    item.content.forEach((part: unknown, index: number) => {
      if (isObject(part) && part.type === 'output_text' && typeof part.text === 'string') parts.push({ item, part, index });
    });
  }
  return parts;
}

/** Marks a response as cut off by the content filter, its text replaced by the block notice. */
export function blockResponse(response: Json, notice: string): void {
  response.status = 'incomplete';
  response.incomplete_details = { reason: 'content_filter' };
  response.output = [{ id: `msg_hegui_blocked`, type: 'message', status: 'incomplete', role: 'assistant', content: [{ type: 'output_text', text: notice, annotations: [] }] }];
}

export function mountResponses<E extends Env>(app: Hono<E>, services: GatewayServices): void {
  app.post('/v1/responses', (c) =>
    runRequest(services, c.req, 'responses', async (exchange, body) => {
      const upstream = routeModel(services, exchange, requireModel(body));
      exchange.stream = body.stream === true;
      if (guardInput(services, exchange, inputSlots(body, services.config.safety.checkToolResults))) return refuse(services, exchange);
      const call = newCall(c.req);
      const response = await callUpstream(upstream, exchange, '/responses', body, call);
      if (exchange.stream) return relayResponseStream(services, exchange, upstream, response, call);
      return answer(services, exchange, await readUpstreamJson(upstream, response, call));
    }),
  );
}

async function answer(services: GatewayServices, exchange: Exchange, response: Json): Promise<Response> {
  const caller = exchange.caller as NonNullable<Exchange['caller']>;
  let blocked = false;
  let released = '';
  for (const [i, { part }] of outputTextParts(response).entries()) {
    const verdict = services.guard.check(part.text as string, 'output', caller);
    exchange.outputFindings.push(...verdict.findings);
    if (verdict.action === 'block') {
      blocked = true;
      break;
    }
    exchange.noteOutput(verdict.text);
    const labeled = services.labeler.labelWholeText(verdict.text);
    part.text = i === 0 ? withNotices(exchange, labeled) : labeled;
    released += labeled;
  }
  if (blocked) {
    blockResponse(response, await blockedOutputNotice(services, exchange));
    released = '';
  }
  return answerLabeled(services, exchange, response, released, blocked);
}

/** A blocked input: an incomplete response carrying the notice (streamed as its events), or a 400 error. */
async function refuse(services: GatewayServices, exchange: Exchange): Promise<Response> {
  const notice = withNotices(exchange, await blockNotice(services, exchange));
  if (services.config.safety.inputBlock === 'error') throw new GatewayBlockedError(notice, 'input');
  const response: Json = { id: `resp_hegui_${exchange.id.replace(/-/g, '')}`, object: 'response', created_at: Math.floor(Date.now() / 1000), model: exchange.model, error: null };
  blockResponse(response, notice);
  response.hegui = heguiData(undefined, exchange, 'input-blocked');
  await exchange.record(services.audit, 200);
  if (!exchange.stream) return jsonResponse(response, 200);
  const events = [sseEvent('response.created', { type: 'response.created', sequence_number: 0, response: { ...response, status: 'in_progress', output: [] } }), sseEvent('response.incomplete', { type: 'response.incomplete', sequence_number: 1, response })];
  return new Response(Buffer.concat(events), { status: 200, headers: SSE_HEADERS });
}
