/**
 * @module gateway/media-routes
 * `POST /v1/images/generations` and `POST /v1/audio/speech`. The prompt (or the text to speak)
 * passes the input guard; every generated file is labeled explicitly and implicitly before it
 * leaves (Labeling Measures Art. 4 and 5). Base64 images come back labeled in place; URL
 * images are fetched, labeled and served from `GET /v1/media/:id` under a signed, expiring URL.
 */
import type { Env, Hono } from 'hono';
import { toResponse } from './answer.js';
import type { Exchange } from './audit.js';
import { GatewayBlockedError, GatewayError, GatewayRequestError, toOpenAIError } from './errors.js';
import { heguiData, labelHeaders } from './labels.js';
import { sniffContentType } from './media.js';
import { blockNotice, callUpstream, guardInput, guardInputModels, isObject, jsonResponse, newCall, readUpstreamJson, requireModel, routeModel, runRequest, type GatewayServices, type Json } from './pipeline.js';
import type { Upstream, UpstreamCall, UpstreamResponse } from './upstream.js';

function requireText(body: Json, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value === '') throw new GatewayRequestError(`"${field}" is required: the text to generate from`, field);
  return value;
}

/** The public base URL for media links: configured or the listening address, never the request's Host header. */
function publicBase(services: GatewayServices): string {
  if (services.publicUrl === undefined) {
    throw new GatewayError('E_GATEWAY_PUBLIC_URL', 'the gateway does not know its public URL for media links; set server.publicUrl', { status: 500, type: 'api_error' });
  }
  return services.publicUrl;
}

export function mountMedia<E extends Env>(app: Hono<E>, services: GatewayServices): void {
  app.post('/v1/images/generations', (c) =>
    runRequest(services, c.req, 'images.generations', async (exchange, body) => {
      const upstream = routeModel(services, exchange, requireModel(body));
      requireText(body, 'prompt');
      const promptSlot = [{ text: body.prompt as string, set: (text: string) => (body.prompt = text) }];
      if (guardInput(services, exchange, promptSlot) || (await guardInputModels(services, exchange, promptSlot))) {
        throw new GatewayBlockedError(await blockNotice(services, exchange), 'prompt');
      }
      const call = newCall(c.req, services);
      const response = await callUpstream(upstream, exchange, '/images/generations', body, call);
      const answer = await readUpstreamJson(response.upstream, response, call);
      const signal = AbortSignal.any([c.req.raw.signal, AbortSignal.timeout(response.upstream.timeoutMs)]);
      await labelImages(services, exchange, answer, signal, publicBase(services));
      answer.hegui = { labels: exchange.labels, ...heguiData(undefined, exchange, exchange.outputFindings.length > 0 ? 'output-checked' : undefined) };
      await exchange.record(services.audit, 200);
      return jsonResponse(answer, 200);
    }),
  );

  app.post('/v1/audio/speech', (c) =>
    runRequest(services, c.req, 'audio.speech', async (exchange, body) => {
      const upstream = routeModel(services, exchange, requireModel(body));
      requireText(body, 'input');
      const inputSlot = [{ text: body.input as string, set: (text: string) => (body.input = text) }];
      if (guardInput(services, exchange, inputSlot) || (await guardInputModels(services, exchange, inputSlot))) {
        throw new GatewayBlockedError(await blockNotice(services, exchange), 'input');
      }
      if (body.response_format === 'pcm') throw new GatewayRequestError('"response_format": "pcm" has no container to carry the implicit label (Labeling Measures Art. 5); ask for wav, mp3 or flac', 'response_format');
      const call = newCall(c.req, services);
      const response = await callUpstream(upstream, exchange, '/audio/speech', body, call);
      const audio = await readUpstreamBytes(response.upstream, response, call);
      const label = services.labeler.newLabel();
      const labeled = await services.media.label(audio, 'audio', label);
      exchange.labels.push(label.ProduceID);
      exchange.actions.push('labeled');
      await exchange.record(services.audit, 200);
      return new Response(labeled, { status: 200, headers: { 'content-type': response.header('content-type') ?? sniffContentType(labeled), ...labelHeaders(label) } });
    }),
  );

  app.get('/v1/media/:id', async (c) => {
    try {
      const media = await services.media.open(c.req.param('id'), c.req.query('exp'), c.req.query('sig'));
      return new Response(media.bytes, { status: 200, headers: { 'content-type': media.contentType, 'cache-control': 'private, max-age=300' } });
    } catch (error) {
      const failure = toOpenAIError(error);
      return toResponse(jsonResponse(failure.body, failure.status));
    }
  });
}

async function readUpstreamBytes(upstream: Upstream, response: UpstreamResponse, call: UpstreamCall): Promise<Uint8Array> {
  try {
    return await response.bytes();
  } catch (cause) {
    throw call.failure(upstream.name, cause);
  } finally {
    call.end();
  }
}

/** Labels every image of the answer in place (the b64 or the URL form it came in). */
async function labelImages(services: GatewayServices, exchange: Exchange, answer: Json, signal: AbortSignal, base: string): Promise<void> {
  const caller = exchange.caller as NonNullable<Exchange['caller']>;
  for (const image of Array.isArray(answer.data) ? answer.data.filter(isObject) : []) {
    if (typeof image.revised_prompt === 'string') {
      const verdict = services.guard.check(image.revised_prompt, 'output', caller);
      exchange.outputFindings.push(...verdict.findings);
      image.revised_prompt = verdict.action === 'block' ? '' : verdict.text;
      if (verdict.action === 'block') await blockNotice(services, exchange);
    }
    const label = services.labeler.newLabel();
    if (typeof image.b64_json === 'string') {
      const labeled = await services.media.label(Buffer.from(image.b64_json, 'base64'), 'image', label);
      image.b64_json = Buffer.from(labeled).toString('base64');
    } else if (typeof image.url === 'string') {
      const fetched = await services.media.fetch(image.url, signal);
      const labeled = await services.media.label(fetched, 'image', label);
      image.url = `${base}${await services.media.publish(labeled, new Date(), caller.user.id)}`;
    } else continue;
    exchange.labels.push(label.ProduceID);
    image.hegui = { aigc: label };
  }
  if (exchange.labels.length > 0) exchange.actions.push('labeled');
}
