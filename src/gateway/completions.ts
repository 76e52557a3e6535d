/**
 * @module gateway/completions
 * `POST /v1/completions` (the legacy text API), streaming or not: the prompt and the suffix pass
 * the input guard (a token-id prompt is refused: the guard cannot read it), each choice's
 * `text` the output guard, the notice and its own label (logprobs are dropped); one audit event.
 */
import type { Env, Hono } from 'hono';
import type { Answer } from './answer.js';
import type { Exchange } from './audit.js';
import { completionShape } from './choice-stream.js';
import { GatewayBlockedError } from './errors.js';
import { heguiData } from './labels.js';
import { answerLabeled, askUsageForBudget, blockedOutputNotice, blockNotice, callUpstream, guardInput, guardInputModels, guardOutputModels, isObject, jsonResponse, newCall, readUpstreamJson, refusalStream, requireModel, routeModel, runRequest, wantsUsage, withNotices, type GatewayServices, type Json } from './pipeline.js';
import { relayChoiceStream } from './stream-relay.js';
import { allowCompletion, promptSlots } from './fields.js';

export function mountCompletions<E extends Env>(app: Hono<E>, services: GatewayServices): void {
  app.post('/v1/completions', (c) =>
    runRequest(services, c.req, 'completions', async (exchange, body) => {
      const upstream = routeModel(services, exchange, requireModel(body));
      exchange.stream = body.stream === true;
      const slots = promptSlots(body);
      if (guardInput(services, exchange, slots) || (await guardInputModels(services, exchange, slots))) return refuse(services, exchange, wantsUsage(body));
      const includeUsage = wantsUsage(body);
      askUsageForBudget(exchange, body);
      const call = newCall(c.req, services);
      const response = await callUpstream(upstream, exchange, '/completions', body, call);
      if (exchange.stream) return relayChoiceStream(services, exchange, response.upstream, response, call, completionShape, true, includeUsage);
      return answer(services, exchange, await readUpstreamJson(response.upstream, response, call));
    }),
  );
}

async function answer(services: GatewayServices, exchange: Exchange, body: Json): Promise<Answer> {
  const caller = exchange.caller as NonNullable<Exchange['caller']>;
  allowCompletion(body, services.config.safety.unknownFields);
  const choices = Array.isArray(body.choices) ? body.choices.filter(isObject) : [];
  const blockedChoices: Json[] = [];
  for (const choice of choices) {
    if (typeof choice.text !== 'string' || choice.text === '') continue;
    const verdict = services.guard.check(choice.text, 'output', caller);
    exchange.outputFindings.push(...verdict.findings);
    if (verdict.action === 'block' || (await guardOutputModels(services, exchange, verdict.text))) {
      blockedChoices.push(choice);
      continue;
    }
    exchange.noteOutput(verdict.text);
    choice.text = withNotices(exchange, services.labeler.labelWholeText(verdict.text));
  }
  const blocked = blockedChoices.length > 0;
  if (blocked) {
    const notice = await blockedOutputNotice(services, exchange);
    for (const choice of blockedChoices) {
      choice.text = notice;
      choice.finish_reason = 'content_filter';
    }
  }
  const texts = choices.map((choice, i) => ({ index: typeof choice.index === 'number' ? choice.index : i, text: typeof choice.text === 'string' ? choice.text : '' }));
  return answerLabeled(services, exchange, body, texts, blocked, services.labeler.noticeText ? 'content' : 'metadata');
}

async function refuse(services: GatewayServices, exchange: Exchange, includeUsage: boolean): Promise<Answer> {
  const message = withNotices(exchange, await blockNotice(services, exchange));
  if (services.config.safety.inputBlock === 'error') throw new GatewayBlockedError(message, 'prompt');
  const base = { id: `cmpl-hegui-${exchange.id}`, object: 'text_completion', created: Math.floor(Date.now() / 1000), model: exchange.model };
  const choices = [{ index: 0, text: message, logprobs: null, finish_reason: 'content_filter' }];
  const hegui = heguiData(undefined, exchange, 'input-blocked');
  await exchange.record(services.audit, 200);
  if (!exchange.stream) return jsonResponse({ ...base, choices, usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 }, hegui }, 200);
  return refusalStream({ ...base, choices }, hegui, includeUsage);
}
