/**
 * @module gateway/chat
 * `POST /v1/chat/completions`, streaming or not. Prompts and tool results pass the input
 * guard; the answer passes the output guard (whole, or incrementally in a stream), gets the
 * explicit notice (in `content` for text answers; beside it in JSON mode and on tool-call turns)
 * and one implicit label per choice, and the request its audit event. Which fields are guarded
 * and which dropped is fields.ts.
 */
import type { Env, Hono } from 'hono';
import type { Answer } from './answer.js';
import type { Exchange } from './audit.js';
import { chatShape } from './choice-stream.js';
import { GatewayBlockedError, GatewayRequestError } from './errors.js';
import { heguiData } from './labels.js';
import { answerLabeled, askUsageForBudget, blockedOutputNotice, blockNotice, callUpstream, guardInput, guardInputModels, guardOutputModels, isObject, jsonResponse, newCall, readUpstreamJson, refusalStream, requireModel, routeModel, runRequest, wantsUsage, withNotices, type GatewayServices, type Json, type TextSlot } from './pipeline.js';
import { relayChoiceStream } from './stream-relay.js';
import { allowChat, chatTexts, descriptionSlots, itemSlots, wantsJson } from './fields.js';
import type { NoticePlacement } from './labels.js';

const TOOL_ROLES = new Set(['tool', 'function']);

/**
 * The texts of a chat request (fields.ts): every message's prose (content, text parts, earlier
 * tool calls' arguments, refusals), checked one by one and joined as the model reads them; and
 * the descriptions of tools, functions and the response schema; a predicted output.
 */
export function chatSlots(body: Json, checkToolResults: boolean): TextSlot[] {
  if (!Array.isArray(body.messages)) throw new GatewayRequestError('"messages" must be a list of messages', 'messages');
  const slots: TextSlot[] = [];
  for (const message of body.messages) {
    if (!isObject(message)) throw new GatewayRequestError('each message must be an object with a role and content', 'messages');
    if (!checkToolResults && typeof message.role === 'string' && TOOL_ROLES.has(message.role)) continue;
    for (const slot of itemSlots(message)) slots.push({ ...slot, conversation: true });
  }
  descriptionSlots(body.tools, slots);
  descriptionSlots(body.functions, slots);
  descriptionSlots(body.response_format, slots);
  // Predicted output (`prediction.content`) is text the model is given to reuse.
  if (isObject(body.prediction)) slots.push(...itemSlots(body.prediction));
  return slots;
}

export function mountChat<E extends Env>(app: Hono<E>, services: GatewayServices): void {
  app.post('/v1/chat/completions', (c) =>
    runRequest(services, c.req, 'chat.completions', async (exchange, body) => {
      const upstream = routeModel(services, exchange, requireModel(body));
      const slots = chatSlots(body, services.config.safety.checkToolResults);
      exchange.stream = body.stream === true;
      if (guardInput(services, exchange, slots) || (await guardInputModels(services, exchange, slots))) return refuseChat(services, exchange, wantsUsage(body));
      const includeUsage = wantsUsage(body);
      askUsageForBudget(exchange, body);
      const call = newCall(c.req, services);
      const response = await callUpstream(upstream, exchange, '/chat/completions', body, call);
      const noticeInText = !wantsJson(body.response_format);
      if (exchange.stream) return relayChoiceStream(services, exchange, response.upstream, response, call, chatShape, noticeInText, includeUsage);
      return answerChat(services, exchange, await readUpstreamJson(response.upstream, response, call), noticeInText);
    }),
  );
}

/**
 * Checks, labels and records a whole chat answer: every text of every choice is guarded; the
 * notice goes into `content` only for a text answer (not in JSON mode, not on a tool-call turn).
 */
async function answerChat(services: GatewayServices, exchange: Exchange, answer: Json, noticeInText: boolean): Promise<Answer> {
  const { guard, labeler } = services;
  const caller = exchange.caller as NonNullable<Exchange['caller']>;
  allowChat(answer, services.config.safety.unknownFields);
  const choices = Array.isArray(answer.choices) ? answer.choices.filter(isObject) : [];
  const blockedChoices: Json[] = [];
  let placement: NoticePlacement = 'metadata';
  for (const choice of choices) {
    const message = isObject(choice.message) ? choice.message : undefined;
    if (!message) continue;
    let choiceBlocked = false;
    for (const text of chatTexts(message)) {
      if (text.text === '') continue;
      const verdict = guard.check(text.text, 'output', caller);
      exchange.outputFindings.push(...verdict.findings);
      if (verdict.action === 'block') {
        choiceBlocked = true;
        break;
      }
      text.write(verdict.text);
      exchange.noteOutput(verdict.text);
    }
    if (!choiceBlocked && (await guardOutputModels(services, exchange, chatTexts(message).map((t) => t.text).filter((t) => t !== '').join('\n\n')))) choiceBlocked = true;
    if (choiceBlocked) {
      blockedChoices.push(choice);
      continue;
    }
    const toolTurn = (Array.isArray(message.tool_calls) && message.tool_calls.length > 0) || isObject(message.function_call);
    if (noticeInText && !toolTurn && typeof message.content === 'string' && message.content !== '') {
      message.content = withNotices(exchange, labeler.labelWholeText(message.content));
      if (labeler.noticeText) placement = 'content';
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
  const texts = choices.map((choice, i) => ({ index: typeof choice.index === 'number' ? choice.index : i, text: isObject(choice.message) && typeof choice.message.content === 'string' ? choice.message.content : '' }));
  return answerLabeled(services, exchange, answer, texts, blocked, placement);
}

/**
 * The answer to a blocked prompt: an assistant refusal (as a stream when one was asked for,
 * ending with a zero usage chunk when `include_usage` asked for one) or a 400 error.
 */
async function refuseChat(services: GatewayServices, exchange: Exchange, includeUsage: boolean): Promise<Answer> {
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
  const chunk = { ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { role: 'assistant', content: message }, logprobs: null, finish_reason: 'content_filter' }] };
  return refusalStream(chunk, hegui, includeUsage);
}
