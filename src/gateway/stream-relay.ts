/**
 * @module gateway/stream-relay
 * Relays a chat or completions stream from the upstream to the client through the output
 * guard. Whatever happens (a block, an upstream fault, the client leaving), the stream ends
 * cleanly: a block ends with `finish_reason: "content_filter"`, a fault with an OpenAI error
 * event, and the audit event is written before the final `data: [DONE]`.
 */
import type { Exchange } from './audit.js';
import { type ChunkShape, GuardedChoices } from './choice-stream.js';
import { GatewayUpstreamError, toOpenAIError } from './errors.js';
import { choiceLabelData, heguiData, labelHeaders, noticeHeaders } from './labels.js';
import { blockNotice, isObject, type GatewayServices, type Json } from './pipeline.js';
import { frameStream, readEventBatches, SSE_DONE, SSE_HEADERS, sseData } from './sse.js';
import type { Upstream, UpstreamCall, UpstreamResponse } from './upstream.js';

/** Status recorded for a request whose client went away before the end. */
const CLIENT_CLOSED = 499;

/**
 * The client went away: the upstream call is cancelled and the request recorded as closed
 * (status 499), whether or not the stream had started.
 */
export async function clientLeft(services: GatewayServices, exchange: Exchange, call: UpstreamCall): Promise<void> {
  call.clientLeft();
  call.end();
  exchange.error ??= 'E_GATEWAY_CLIENT_CLOSED';
  await exchange.record(services.audit, CLIENT_CLOSED);
}

/** Parses one upstream event; anything but a JSON object (or an error object) is a fault. */
export function parseUpstreamChunk(upstream: Upstream, data: string): Json {
  let chunk: unknown;
  try {
    chunk = JSON.parse(data);
  } catch (cause) {
    throw new GatewayUpstreamError(`the upstream "${upstream.name}" sent a malformed stream event (not JSON)`, { cause });
  }
  if (!isObject(chunk)) throw new GatewayUpstreamError(`the upstream "${upstream.name}" sent a malformed stream event (not an object)`);
  if (isObject(chunk.error)) {
    const message = typeof chunk.error.message === 'string' ? chunk.error.message : 'unknown error';
    throw new GatewayUpstreamError(`the upstream "${upstream.name}" failed during the stream: ${message}`);
  }
  return chunk;
}

/** The streaming response for a chat or completions request whose upstream answered 2xx. */
export function relayChoiceStream(services: GatewayServices, exchange: Exchange, upstream: Upstream, response: UpstreamResponse, call: UpstreamCall, shape: ChunkShape, noticeInText: boolean): Response {
  const labeler = services.labeler;
  const label = labeler.newLabel();
  const guarded = new GuardedChoices(services, exchange, shape, noticeInText);
  const body = response.body;

  async function* frames(): AsyncGenerator<Uint8Array> {
    let status = CLIENT_CLOSED;
    try {
      let blocked = false;
      try {
        for await (const batch of readEventBatches(body, call, upstream.name, upstream.idleTimeoutMs)) {
          // What one read released goes out in one write, also when the batch ends the stream.
          const frames: Uint8Array[] = [];
          let ended = false;
          let fault: unknown;
          try {
            for (const event of batch) {
              if (event.data === '[DONE]') {
                ended = true;
                break;
              }
              const result = guarded.accept(parseUpstreamChunk(upstream, event.data));
              for (const chunk of result.out) frames.push(sseData(chunk));
              if (result.blocked) {
                blocked = ended = true;
                call.abort('output blocked');
                frames.push(sseData(guarded.blockEnding(await blockNotice(services, exchange))));
                break;
              }
            }
          } catch (error) {
            fault = error;
          }
          if (frames.length > 0) yield Buffer.concat(frames);
          if (fault !== undefined) throw fault;
          if (ended) break;
        }
        if (!blocked) {
          const last = guarded.finish();
          for (const chunk of last.out) yield sseData(chunk);
          if (last.blocked) {
            blocked = true;
            yield sseData(guarded.blockEnding(await blockNotice(services, exchange)));
          }
        }
        status = 200;
      } catch (error) {
        // Nobody is listening any more; the finally block records the request as closed.
        if (call.clientGone) return;
        // Held text is dropped, never flushed: it may be the start of a blocked keyword.
        const failure = toOpenAIError(error);
        exchange.error = failure.body.error.code;
        status = failure.status;
        yield sseData(failure.body);
      }
      // One label per choice, over its text exactly as sent; choice 0's is the one in the headers.
      const labels = guarded.hashes().map(({ index, hash }, i) => ({ index, aigc: labeler.sign(i === 0 ? label : labeler.newLabel(), hash) }));
      exchange.labels.push(...labels.map((l) => l.aigc.ProduceID));
      exchange.actions.push('labeled');
      const hegui = { ...heguiData(labels[0]?.aigc, exchange, blocked ? 'output-blocked' : undefined), ...choiceLabelData(labeler, guarded.placement, labels) };
      yield sseData(guarded.chunk({ choices: [], hegui }));
      await exchange.record(services.audit, status);
      yield SSE_DONE;
    } finally {
      call.end();
      if (status === CLIENT_CLOSED) exchange.error ??= 'E_GATEWAY_CLIENT_CLOSED';
      await exchange.record(services.audit, status);
    }
  }

  return new Response(frameStream(frames(), () => clientLeft(services, exchange, call)), { status: 200, headers: { ...SSE_HEADERS, ...labelHeaders(label), ...noticeHeaders(labeler) } });
}
