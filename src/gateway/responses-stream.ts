/**
 * @module gateway/responses-stream
 * The output guard on a Responses API stream. Each `output_text` part (item id and content
 * index) has its own incremental guard: `response.output_text.delta` events carry only
 * released text, and the events that repeat the whole text (`output_text.done`,
 * `content_part.done`, `output_item.done`, `response.completed`) are rewritten to the text the
 * client actually received, notice included. A block ends the stream with
 * `response.incomplete` (`incomplete_details.reason: "content_filter"`). Events are renumbered
 * because the gateway adds and drops some.
 */
import type { Exchange } from './audit.js';
import { toOpenAIError } from './errors.js';
import type { StreamGuard, StreamStep } from './guard.js';
import { heguiData, labelHeaders } from './labels.js';
import { blockNotice, isObject, type GatewayServices, type Json } from './pipeline.js';
import { blockResponse } from './responses.js';
import { frameStream, readEventBatches, SSE_HEADERS, sseEvent } from './sse.js';
import { clientLeft, parseUpstreamChunk } from './stream-relay.js';
import type { Upstream, UpstreamCall, UpstreamResponse } from './upstream.js';

interface PartState {
  guard: StreamGuard;
  /** What the client received for this part so far (the `.done` events repeat it). */
  sent: string;
  /** The event fields that address this part. */
  address: Json;
  done: boolean;
}

const partKey = (event: Json): string => `${String(event.item_id)}:${String(event.content_index)}`;

class ResponseGuard {
  readonly parts = new Map<string, PartState>();
  #sequence = 0;
  #snapshot: Json = {};
  /** The part a block stopped; the stream then ends with `blockFrames` and `incomplete`. */
  #blockedPart: PartState | undefined;

  get blocked(): boolean {
    return this.#blockedPart !== undefined;
  }

  constructor(
    readonly services: GatewayServices,
    readonly exchange: Exchange,
    readonly onReleased: (text: string) => void,
  ) {}

  frame(event: Json): Uint8Array {
    event.sequence_number = this.#sequence++;
    return sseEvent(String(event.type), event);
  }

  /** The frames to send for one upstream event. */
  accept(event: Json): Uint8Array[] {
    const type = String(event.type);
    if (isObject(event.response)) this.#snapshot = event.response;
    if (type === 'response.output_text.delta') return this.#delta(event);
    if (type === 'response.output_text.done') return this.#done(event);
    if (type === 'response.content_part.done' && isObject(event.part)) this.#rewritePart(event.item_id, event.content_index, event.part);
    if (type === 'response.output_item.done' && isObject(event.item)) this.#rewriteItem(event.item);
    return [this.frame(event)];
  }

  /** The upstream's final event with every part's text as the client received it. */
  rewriteFinal(event: Json): Json {
    if (isObject(event.response)) {
      for (const item of Array.isArray(event.response.output) ? event.response.output.filter(isObject) : []) this.#rewriteItem(item);
    }
    return event;
  }

  isFinal(event: Json): boolean {
    return event.type === 'response.completed' || event.type === 'response.incomplete' || event.type === 'response.failed';
  }

  #part(event: Json): PartState {
    const key = partKey(event);
    let state = this.parts.get(key);
    if (!state) {
      const address = { item_id: event.item_id, output_index: event.output_index, content_index: event.content_index };
      state = { guard: this.services.guard.stream('output', this.exchange.caller as NonNullable<Exchange['caller']>), sent: '', address, done: false };
      this.parts.set(key, state);
    }
    return state;
  }

  #deltaFrame(state: PartState, text: string): Uint8Array {
    state.sent += text;
    return this.frame({ type: 'response.output_text.delta', ...state.address, delta: text, logprobs: [] });
  }

  #release(state: PartState, step: StreamStep, frames: Uint8Array[]): void {
    if (step.findings.length > 0) this.exchange.outputFindings.push(...step.findings);
    if (step.text === '') return;
    this.exchange.noteOutput(step.text);
    this.onReleased(step.text);
    frames.push(this.#deltaFrame(state, step.text));
  }

  #delta(event: Json): Uint8Array[] {
    const frames: Uint8Array[] = [];
    const fresh = !this.parts.has(partKey(event));
    const state = this.#part(event);
    const prefix = this.exchange.notices.map((n) => `${n}\n\n`).join('') + this.services.labeler.streamPrefix;
    if (fresh && prefix) frames.push(this.#deltaFrame(state, prefix));
    const step = state.guard.feed(typeof event.delta === 'string' ? event.delta : '');
    this.#release(state, step, frames);
    if (step.blocked) this.#block(state);
    return frames;
  }

  #done(event: Json): Uint8Array[] {
    const frames: Uint8Array[] = [];
    const state = this.#part(event);
    if (state.done) return [];
    state.done = true;
    const step = state.guard.end();
    this.#release(state, step, frames);
    if (step.blocked) {
      this.#block(state);
      return frames;
    }
    const suffix = this.services.labeler.streamSuffix;
    if (suffix) frames.push(this.#deltaFrame(state, suffix));
    frames.push(this.frame({ ...event, text: state.sent }));
    return frames;
  }

  #block(state: PartState): void {
    this.#blockedPart = state;
    this.exchange.actions.push('output-blocked');
  }

  /** The stream's end after a blocked hit: `notice`, then the part and item closed. */
  blockFrames(notice: string): Uint8Array[] {
    const state = this.#blockedPart;
    if (!state) return [];
    const frames = [this.#deltaFrame(state, notice)];
    const part = { type: 'output_text', text: state.sent, annotations: [] };
    frames.push(this.frame({ type: 'response.output_text.done', ...state.address, text: state.sent, logprobs: [] }));
    frames.push(this.frame({ type: 'response.content_part.done', ...state.address, part }));
    const item = { id: state.address.item_id, type: 'message', status: 'incomplete', role: 'assistant', content: [part] };
    frames.push(this.frame({ type: 'response.output_item.done', output_index: state.address.output_index, item }));
    return frames;
  }

  /** The final `response.incomplete` event of a blocked stream. */
  incomplete(notice: string): Json {
    const response = { ...this.#snapshot };
    blockResponse(response, notice);
    return { type: 'response.incomplete', response };
  }

  #rewritePart(itemId: unknown, index: unknown, part: Json): void {
    const state = this.parts.get(`${String(itemId)}:${String(index)}`);
    if (state && part.type === 'output_text') part.text = state.sent;
  }

  #rewriteItem(item: Json): void {
    if (!Array.isArray(item.content)) return;
    item.content.forEach((part: unknown, index: number) => {
      if (isObject(part)) this.#rewritePart(item.id, index, part);
    });
  }
}

/** The streaming response for a Responses request whose upstream answered 2xx. */
export function relayResponseStream(services: GatewayServices, exchange: Exchange, upstream: Upstream, response: UpstreamResponse, call: UpstreamCall): Response {
  const labeler = services.labeler;
  const label = labeler.newLabel();
  const hash = labeler.textHash();
  const guarded = new ResponseGuard(services, exchange, (text) => hash?.update(text));
  const body = response.body;

  async function* frames(): AsyncGenerator<Uint8Array> {
    let status = 499;
    const finish = async (final: Json): Promise<Uint8Array> => {
      const signed = labeler.sign(label, hash);
      exchange.labels.push(signed.ProduceID);
      exchange.actions.push('labeled');
      if (isObject(final.response)) final.response.hegui = heguiData(signed, exchange, guarded.blocked ? 'output-blocked' : undefined);
      await exchange.record(services.audit, status);
      return guarded.frame(final);
    };
    try {
      try {
        reading: for await (const batch of readEventBatches(body, call, upstream.name, upstream.idleTimeoutMs)) {
          const frames: Uint8Array[] = [];
          for (const event of batch) {
            if (event.data === '[DONE]') break reading;
            const parsed = parseUpstreamChunk(upstream, event.data);
            if (guarded.isFinal(parsed)) {
              status = 200;
              frames.push(await finish(guarded.rewriteFinal(parsed)));
              yield Buffer.concat(frames);
              return;
            }
            frames.push(...guarded.accept(parsed));
            if (guarded.blocked) {
              call.abort('output blocked');
              status = 200;
              const notice = await blockNotice(services, exchange);
              frames.push(...guarded.blockFrames(notice), await finish(guarded.incomplete(notice)));
              yield Buffer.concat(frames);
              return;
            }
          }
          if (frames.length > 0) yield Buffer.concat(frames);
        }
        status = 502;
        exchange.error = 'E_GATEWAY_UPSTREAM';
        yield guarded.frame({ type: 'error', code: 'E_GATEWAY_UPSTREAM', message: `the upstream "${upstream.name}" ended the stream without a final response event`, param: null });
      } catch (error) {
        if (call.clientGone) return;
        const failure = toOpenAIError(error);
        exchange.error = failure.body.error.code;
        status = failure.status;
        yield guarded.frame({ type: 'error', code: failure.body.error.code, message: failure.body.error.message, param: null });
      }
    } finally {
      call.end();
      if (status === 499) exchange.error ??= 'E_GATEWAY_CLIENT_CLOSED';
      await exchange.record(services.audit, status);
    }
  }

  return new Response(frameStream(frames(), () => clientLeft(services, exchange, call)), { status: 200, headers: { ...SSE_HEADERS, ...labelHeaders(label) } });
}
