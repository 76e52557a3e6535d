/**
 * @module gateway/responses
 * `POST /v1/responses`, streaming or not. The input (a string or items), `instructions` and
 * the tools' descriptions pass the input guard; every text of the answer (output text,
 * refusals, function-call arguments, reasoning summaries) passes the output guard, unknown
 * output items are dropped (fields.ts), and `output_text` parts get the explicit notice unless
 * JSON was asked for; a block ends the response as `incomplete` with
 * `incomplete_details.reason: "content_filter"`.
 */
import type { Env, Hono } from 'hono';
import { Answer } from './answer.js';
import type { Exchange } from './audit.js';
import { GatewayBlockedError, GatewayRequestError } from './errors.js';
import { heguiData } from './labels.js';
import { answerLabeled, blockedOutputNotice, blockNotice, callUpstream, guardInput, guardInputModels, guardOutputModels, isObject, jsonResponse, newCall, readUpstreamJson, requireModel, routeModel, runRequest, withNotices, type GatewayServices, type Json, type TextSlot } from './pipeline.js';
import { relayResponseStream } from './responses-stream.js';
import { allowResponse, descriptionSlots, itemSlots, responseItemTexts, wantsJson } from './fields.js';
import type { NoticePlacement } from './labels.js';
import { SSE_HEADERS, sseEvent } from './sse.js';

/**
 * The texts of a Responses request (fields.ts): `instructions` and every input item's prose
 * (message text, earlier function calls' arguments, reasoning summaries, tool outputs), checked
 * one by one and joined as the model reads them; tool and output-schema descriptions; a stored
 * prompt's variables.
 */
function inputSlots(body: Json, checkToolResults: boolean): TextSlot[] {
  const slots: TextSlot[] = [];
  const conversation = (found: TextSlot[]): void => {
    for (const slot of found) slots.push({ ...slot, conversation: true });
  };
  if (typeof body.instructions === 'string' && body.instructions !== '') conversation([{ text: body.instructions, set: (text) => (body.instructions = text) }]);
  if (typeof body.input === 'string') conversation([{ text: body.input, set: (text) => (body.input = text) }]);
  else if (Array.isArray(body.input)) {
    for (const item of body.input) {
      if (!isObject(item)) throw new GatewayRequestError('each input item must be an object', 'input');
      if (!checkToolResults && (item.type === 'function_call_output' || item.type === 'custom_tool_call_output')) continue;
      conversation(itemSlots(item));
    }
  } else if (body.input !== undefined) throw new GatewayRequestError('"input" must be a string or a list of input items', 'input');
  descriptionSlots(body.tools, slots);
  descriptionSlots(body.text, slots);
  if (isObject(body.prompt)) slots.push(...itemSlots(body.prompt));
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
      const slots = inputSlots(body, services.config.safety.checkToolResults);
      if (guardInput(services, exchange, slots) || (await guardInputModels(services, exchange, slots))) return refuse(services, exchange);
      const call = newCall(c.req, services);
      const response = await callUpstream(upstream, exchange, '/responses', body, call);
      const noticeInText = !wantsJson(isObject(body.text) ? body.text.format : undefined);
      if (exchange.stream) return relayResponseStream(services, exchange, response.upstream, response, call, noticeInText);
      return answer(services, exchange, await readUpstreamJson(response.upstream, response, call), noticeInText);
    }),
  );
}

/** Checks every text of every known output item; the notice goes into `output_text` parts unless JSON was asked for. */
async function answer(services: GatewayServices, exchange: Exchange, response: Json, noticeInText: boolean): Promise<Answer> {
  const caller = exchange.caller as NonNullable<Exchange['caller']>;
  allowResponse(response, services.config.safety.unknownFields);
  let blocked = false;
  let placement: NoticePlacement = 'metadata';
  let first = true;
  checking: for (const item of Array.isArray(response.output) ? response.output.filter(isObject) : []) {
    for (const text of responseItemTexts(item)) {
      if (text.text === '') continue;
      const verdict = services.guard.check(text.text, 'output', caller);
      exchange.outputFindings.push(...verdict.findings);
      if (verdict.action === 'block') {
        blocked = true;
        break checking;
      }
      exchange.noteOutput(verdict.text);
      if (text.kind !== 'output_text' || !noticeInText) {
        text.write(verdict.text);
        continue;
      }
      const labeled = services.labeler.labelWholeText(verdict.text);
      text.write(first ? withNotices(exchange, labeled) : labeled);
      first = false;
      if (services.labeler.noticeText) placement = 'content';
    }
  }
  // The guard models judge the whole answer once the keyword guard let every text through.
  if (!blocked && (await guardOutputModels(services, exchange, responseItemsText(response)))) blocked = true;
  if (blocked) blockResponse(response, await blockedOutputNotice(services, exchange));
  // The label signs what the client reads as `output_text`: every output_text part, joined.
  const text = outputTextParts(response).map(({ part }) => part.text as string).join('');
  return answerLabeled(services, exchange, response, [{ index: 0, text }], blocked, placement);
}

/** Every text of every known output item, joined, as the guard models judge it. */
function responseItemsText(response: Json): string {
  const texts: string[] = [];
  for (const item of Array.isArray(response.output) ? response.output.filter(isObject) : []) for (const text of responseItemTexts(item)) if (text.text !== '') texts.push(text.text);
  return texts.join('\n\n');
}

/** A blocked input: an incomplete response carrying the notice (streamed as its events), or a 400 error. */
async function refuse(services: GatewayServices, exchange: Exchange): Promise<Answer> {
  const notice = withNotices(exchange, await blockNotice(services, exchange));
  if (services.config.safety.inputBlock === 'error') throw new GatewayBlockedError(notice, 'input');
  const response: Json = { id: `resp_hegui_${exchange.id.replace(/-/g, '')}`, object: 'response', created_at: Math.floor(Date.now() / 1000), model: exchange.model, error: null };
  blockResponse(response, notice);
  response.hegui = heguiData(undefined, exchange, 'input-blocked');
  await exchange.record(services.audit, 200);
  if (!exchange.stream) return jsonResponse(response, 200);
  const events = [sseEvent('response.created', { type: 'response.created', sequence_number: 0, response: { ...response, status: 'in_progress', output: [] } }), sseEvent('response.incomplete', { type: 'response.incomplete', sequence_number: 1, response })];
  return new Answer(200, { ...SSE_HEADERS }, Buffer.concat(events));
}
