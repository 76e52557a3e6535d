/**
 * @module gateway/chat
 * `POST /v1/chat/completions`, streaming or not. Prompts and tool results pass the input
 * guard; the answer passes the output guard (whole, or incrementally in a stream), gets the
 * explicit notice and the implicit label, and the request its audit event. Tools and function
 * calls pass through unchanged.
 */
import type { Env, Hono } from 'hono';
import type { Exchange } from './audit.js';
import { chatShape } from './choice-stream.js';
import { GatewayBlockedError, GatewayRequestError } from './errors.js';
import { heguiData } from './labels.js';
import { answerLabeled, blockedOutputNotice, blockNotice, callUpstream, guardInput, isObject, jsonResponse, newCall, readUpstreamJson, requireModel, routeModel, runRequest, withNotices, type GatewayServices, type Json, type TextSlot } from './pipeline.js';
import { SSE_DONE, SSE_HEADERS, sseData } from './sse.js';
import { relayChoiceStream } from './stream-relay.js';

const TOOL_ROLES = new Set(['tool', 'function']);

/** The texts of a chat request: every message's string content or text parts. */
export function chatSlots(messages: unknown[], checkToolResults: boolean): TextSlot[] {
  const slots: TextSlot[] = [];
  for (const message of messages) {
    if (!isObject(message)) throw new GatewayRequestError('each message must be an object with a role and content', 'messages');
    if (!checkToolResults && typeof message.role === 'string' && TOOL_ROLES.has(message.role)) continue;
    const content = message.content;
    if (typeof content === 'string') slots.push({ text: content, set: (text) => (message.content = text) });
    else if (Array.isArray(content)) {
      for (const part of content) {
        if (isObject(part) && typeof part.text === 'string') slots.push({ text: part.text, set: (text) => (part.text = text) });
      }
    }
  }
  return slots;
}

/** The fields of a whole answer's choice that carry text a user reads. */
const MESSAGE_TEXT_FIELDS = ['reasoning_content', 'content'] as const;

export function mountChat<E extends Env>(app: Hono<E>, services: GatewayServices): void {
  app.post('/v1/chat/completions', (c) =>
    runRequest(services, c.req, 'chat.completions', async (exchange, body) => {
      const upstream = routeModel(services, exchange, requireModel(body));
      if (!Array.isArray(body.messages)) throw new GatewayRequestError('"messages" must be a list of messages', 'messages');
      exchange.stream = body.stream === true;
      if (guardInput(services, exchange, chatSlots(body.messages, services.config.safety.checkToolResults))) return refuseChat(services, exchange);
      const call = newCall(c.req);
      const response = await callUpstream(upstream, exchange, '/chat/completions', body, call);
      if (exchange.stream) return relayChoiceStream(services, exchange, upstream, response, call, chatShape);
      return answerChat(services, exchange, await readUpstreamJson(upstream, response, call));
    }),
  );
}

/** Checks, labels and records a whole chat answer. */
async function answerChat(services: GatewayServices, exchange: Exchange, answer: Json): Promise<Response> {
  const { guard, labeler } = services;
  const caller = exchange.caller as NonNullable<Exchange['caller']>;
  const choices = Array.isArray(answer.choices) ? answer.choices.filter(isObject) : [];
  const blockedChoices: Json[] = [];
  let released = '';
  for (const choice of choices) {
    const message = isObject(choice.message) ? choice.message : undefined;
    if (!message) continue;
    for (const field of MESSAGE_TEXT_FIELDS) {
      const text = message[field];
      if (typeof text !== 'string' || text === '') continue;
      const verdict = guard.check(text, 'output', caller);
      exchange.outputFindings.push(...verdict.findings);
      if (verdict.action === 'block') {
        blockedChoices.push(choice);
        break;
      }
      const labeled = field === 'content' ? labeler.labelWholeText(verdict.text) : verdict.text;
      message[field] = field === 'content' ? withNotices(exchange, labeled) : labeled;
      exchange.noteOutput(verdict.text);
      released += labeled;
    }
  }
  const blocked = blockedChoices.length > 0;
  if (blocked) {
    const notice = await blockedOutputNotice(services, exchange);
    for (const choice of blockedChoices) {
      choice.message = { role: 'assistant', content: notice, refusal: notice };
      choice.finish_reason = 'content_filter';
    }
  } else if (exchange.outputFindings.some((f) => f.action === 'redact')) exchange.actions.push('output-redacted');
  return answerLabeled(services, exchange, answer, released, blocked);
}

/** The answer to a blocked prompt: an assistant refusal (as a stream when one was asked for) or a 400 error. */
async function refuseChat(services: GatewayServices, exchange: Exchange): Promise<Response> {
  const message = withNotices(exchange, await blockNotice(services, exchange));
  if (services.config.safety.inputBlock === 'error') throw new GatewayBlockedError(message);
  const base = { id: `chatcmpl-hegui-${exchange.id}`, created: Math.floor(Date.now() / 1000), model: exchange.model };
  const hegui = heguiData(undefined, exchange, 'input-blocked');
  await exchange.record(services.audit, 200);
  if (!exchange.stream) {
    return jsonResponse({
      ...base,
      object: 'chat.completion',
      choices: [{ index: 0, message: { role: 'assistant', content: message, refusal: message }, logprobs: null, finish_reason: 'content_filter' }],
      usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
      hegui,
    }, 200);
  }
  const chunk = { ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { role: 'assistant', content: message }, logprobs: null, finish_reason: 'content_filter' }], hegui };
  return new Response(Buffer.concat([sseData(chunk), SSE_DONE]), { status: 200, headers: SSE_HEADERS });
}
