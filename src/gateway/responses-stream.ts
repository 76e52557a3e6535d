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
import { Answer } from './answer.js';
import type { Exchange } from './audit.js';
import { toOpenAIError } from './errors.js';
import type { StreamGuard, StreamStep } from './guard.js';
import { allowResponse, allowResponseItem, knownResponseItem, responseItemTexts, type ResponseText, type UnknownFields } from './fields.js';
import { choiceLabelData, heguiData, labelHeaders, noticeHeaders } from './labels.js';
import { blockNotice, guardOutputModels, isObject, noteUsage, type GatewayServices, type Json } from './pipeline.js';
import { blockResponse } from './responses.js';
import { readEventBatches, SSE_HEADERS, sseEvent } from './sse.js';
import { clientLeft, parseUpstreamChunk } from './stream-relay.js';
import type { Upstream, UpstreamCall, UpstreamResponse } from './upstream.js';

/** The stream events that carry a text piece by piece (`<base>.delta`) and whole (`<base>.done`). */
const TEXT_EVENTS: Record<string, { kind: ResponseText['kind']; index?: 'content_index' | 'summary_index'; doneField: string }> = {
  'response.output_text': { kind: 'output_text', index: 'content_index', doneField: 'text' },
  'response.refusal': { kind: 'refusal', index: 'content_index', doneField: 'refusal' },
  'response.function_call_arguments': { kind: 'arguments', doneField: 'arguments' },
  'response.custom_tool_call_input': { kind: 'arguments', doneField: 'input' },
  'response.reasoning_summary_text': { kind: 'summary', index: 'summary_index', doneField: 'text' },
  'response.reasoning_text': { kind: 'reasoning', index: 'content_index', doneField: 'text' },
};

/** Events that carry no text of their own, or whose texts are rewritten to what was sent. */
const STRUCTURE_EVENTS = new Set([
  'response.created', 'response.in_progress', 'response.queued', 'response.output_item.added', 'response.output_item.done', 'response.content_part.added', 'response.content_part.done',
  'response.reasoning_summary_part.added', 'response.reasoning_summary_part.done', 'error',
]);

interface PartState {
  guard: StreamGuard;
  /** The event type the part's deltas have (`response.output_text.delta`, ...). */
  base: string;
  kind: ResponseText['kind'];
  /** What the client received for this part so far (the `.done` events repeat it). */
  sent: string;
  /** The notice prefix went out before the part's first text. */
  started: boolean;
  /** The event fields that address this part. */
  address: Json;
  done: boolean;
}

const slotKey = (kind: string, itemId: unknown, index: unknown): string => `${kind}:${String(itemId)}:${String(index ?? 0)}`;

class ResponseGuard {
  readonly parts = new Map<string, PartState>();
  #sequence = 0;
  #snapshot: Json = {};
  /** The part a block stopped; the stream then ends with `blockFrames` and `incomplete`. */
  #blockedPart: PartState | undefined;
  /** True once the notice went into an `output_text` part. */
  noticeWritten = false;
  readonly #unknown: UnknownFields;

  get blocked(): boolean {
    return this.#blockedPart !== undefined;
  }

  constructor(
    readonly services: GatewayServices,
    readonly exchange: Exchange,
    /** Sees every piece of `output_text` sent (for the label's hash). */
    readonly onOutputText: (text: string) => void,
    readonly noticeInText: boolean,
  ) {
    this.#unknown = services.config.safety.unknownFields;
  }

  frame(event: Json): Uint8Array {
    event.sequence_number = this.#sequence++;
    return sseEvent(String(event.type), event);
  }

  /** The frames to send for one upstream event. */
  accept(event: Json): Uint8Array[] {
    const type = String(event.type);
    const base = type.replace(/\.(delta|done)$/, '');
    const text = TEXT_EVENTS[base];
    if (text && type.endsWith('.delta')) return this.#delta(event, base, text);
    if (text && type.endsWith('.done')) return this.#done(event, base, text);
    if (!STRUCTURE_EVENTS.has(type)) return this.#unknown === 'pass' ? [this.frame(event)] : [];
    if (isObject(event.response)) this.#snapshot = this.#rewriteResponse(event.response);
    if (isObject(event.item)) {
      if (this.#unknown === 'drop' && !knownResponseItem(event.item)) return [];
      this.#rewriteItem(allowResponseItem(event.item, this.#unknown));
    }
    if (isObject(event.part) && !this.#rewritePart(event, event.part)) return [];
    return [this.frame(event)];
  }

  /** The upstream's final event with every text as the client received it. */
  rewriteFinal(event: Json): Json {
    if (isObject(event.response)) this.#rewriteResponse(event.response);
    return event;
  }

  isFinal(event: Json): boolean {
    return event.type === 'response.completed' || event.type === 'response.incomplete' || event.type === 'response.failed';
  }

  #part(event: Json, base: string, spec: (typeof TEXT_EVENTS)[string]): PartState {
    const index = spec.index ? event[spec.index] : 0;
    const key = slotKey(spec.kind, event.item_id, index);
    let state = this.parts.get(key);
    if (!state) {
      const address: Json = { item_id: event.item_id, output_index: event.output_index, ...(spec.index ? { [spec.index]: index } : {}) };
      state = { guard: this.services.guard.stream('output', this.exchange.caller as NonNullable<Exchange['caller']>), base, kind: spec.kind, sent: '', started: false, address, done: false };
      this.parts.set(key, state);
    }
    return state;
  }

  #deltaFrame(state: PartState, text: string): Uint8Array {
    state.sent += text;
    if (state.kind === 'output_text') this.onOutputText(text);
    return this.frame({ type: `${state.base}.delta`, ...state.address, delta: text, ...(state.kind === 'output_text' ? { logprobs: [] } : {}) });
  }

  /** The tail of every text released, kept for the guard models' check at the end (when they are on). */
  released = '';

  #release(state: PartState, step: StreamStep, frames: Uint8Array[]): void {
    if (step.findings.length > 0) this.exchange.outputFindings.push(...step.findings);
    if (step.text === '') return;
    this.exchange.noteOutput(step.text);
    const models = this.services.models;
    if (models?.has('output')) {
      this.released += step.text;
      if (this.released.length > 2 * models.windowChars) this.released = this.released.slice(-models.windowChars);
    }
    frames.push(this.#deltaFrame(state, step.text));
  }

  #delta(event: Json, base: string, spec: (typeof TEXT_EVENTS)[string]): Uint8Array[] {
    const frames: Uint8Array[] = [];
    const state = this.#part(event, base, spec);
    const piece = typeof event.delta === 'string' ? event.delta : '';
    if (state.kind === 'output_text' && this.noticeInText && piece !== '' && !state.started) {
      state.started = true;
      const prefix = (this.noticeWritten ? '' : this.exchange.notices.map((n) => `${n}\n\n`).join('')) + this.services.labeler.streamPrefix;
      this.noticeWritten ||= this.services.labeler.noticeText !== '';
      if (prefix) frames.push(this.#deltaFrame(state, prefix));
    }
    const step = state.guard.feed(piece);
    this.#release(state, step, frames);
    if (step.blocked) this.#block(state);
    return frames;
  }

  #done(event: Json, base: string, spec: (typeof TEXT_EVENTS)[string]): Uint8Array[] {
    const frames: Uint8Array[] = [];
    const state = this.#part(event, base, spec);
    if (state.done) return [];
    state.done = true;
    const step = state.guard.end();
    this.#release(state, step, frames);
    if (step.blocked) {
      this.#block(state);
      return frames;
    }
    const suffix = this.services.labeler.streamSuffix;
    if (suffix && state.kind === 'output_text' && this.noticeInText && state.sent !== '') {
      frames.push(this.#deltaFrame(state, suffix));
      this.noticeWritten = true;
    }
    const done: Json = { ...event, [spec.doneField]: state.sent };
    if (state.kind === 'output_text') done.logprobs = [];
    frames.push(this.frame(done));
    return frames;
  }

  #block(state: PartState): void {
    this.#blockedPart = state;
    this.exchange.actions.push('output-blocked');
  }

  /** The stream's end after a blocked hit: for output text, `notice`, then the part and item closed. */
  blockFrames(notice: string): Uint8Array[] {
    const state = this.#blockedPart;
    if (!state || state.kind !== 'output_text') return [];
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

  /** Text the client never received as deltas is not repeated in a snapshot: each text is what was sent. */
  #sentText(kind: string, itemId: unknown, index: unknown): string {
    return this.parts.get(slotKey(kind, itemId, index))?.sent ?? '';
  }

  /** A part event's part rewritten to what was sent; false when the part is of a kind the gateway drops. */
  #rewritePart(event: Json, part: Json): boolean {
    const summary = String(event.type).startsWith('response.reasoning_summary_part');
    const index = summary ? event.summary_index : event.content_index;
    if (summary && part.type === 'summary_text') part.text = this.#sentText('summary', event.item_id, index);
    else if (part.type === 'output_text') {
      part.text = this.#sentText('output_text', event.item_id, index);
      part.annotations = [];
      if ('logprobs' in part) part.logprobs = [];
    } else if (part.type === 'refusal') part.refusal = this.#sentText('refusal', event.item_id, index);
    else if (part.type === 'reasoning_text') part.text = this.#sentText('reasoning', event.item_id, index);
    else return this.#unknown === 'pass';
    return true;
  }

  #rewriteItem(item: Json): void {
    for (const text of responseItemTexts(item)) text.write(this.#sentText(text.kind, item.id, text.index));
  }

  #rewriteResponse(response: Json): Json {
    allowResponse(response, this.#unknown);
    for (const item of Array.isArray(response.output) ? response.output.filter(isObject) : []) this.#rewriteItem(item);
    return response;
  }
}

/** The streaming response for a Responses request whose upstream answered 2xx. */
export function relayResponseStream(services: GatewayServices, exchange: Exchange, upstream: Upstream, response: UpstreamResponse, call: UpstreamCall, noticeInText: boolean): Answer {
  const labeler = services.labeler;
  const label = labeler.newLabel();
  const hash = labeler.textHash();
  const guarded = new ResponseGuard(services, exchange, (text) => hash?.update(text), noticeInText);
  const body = response.body;

  async function* frames(): AsyncGenerator<Uint8Array> {
    let status = 499;
    /** Whether the `gateway.stream` start event is written (before the first text leaves). */
    let started = false;
    const finish = async (final: Json): Promise<Uint8Array> => {
      const signed = labeler.sign(label, hash);
      exchange.labels.push(signed.ProduceID);
      exchange.actions.push('labeled');
      if (isObject(final.response)) final.response.hegui = { ...heguiData(signed, exchange, guarded.blocked ? 'output-blocked' : undefined), ...choiceLabelData(labeler, guarded.noticeWritten ? 'content' : 'metadata', []) };
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
              // The guard models judge the answer at its end (Responses streams: `after` mode only).
              if (await guardOutputModels(services, exchange, guarded.released.slice(-(services.models?.windowChars ?? 0)))) {
                exchange.actions.push('output-blocked');
                frames.push(await finish(guarded.incomplete(await blockNotice(services, exchange))));
                yield Buffer.concat(frames);
                return;
              }
              if (isObject(parsed.response)) noteUsage(exchange, parsed.response.usage);
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
          if (frames.length > 0) {
            if (!started) {
              started = true;
              await exchange.recordStart(services.audit, label.ProduceID);
            }
            yield Buffer.concat(frames);
          }
        }
        status = 502;
        exchange.error = 'E_GATEWAY_UPSTREAM';
        yield guarded.frame({ type: 'error', code: 'E_GATEWAY_UPSTREAM', message: `the upstream "${upstream.name}" ended the stream without a final response event`, param: null });
      } catch (error) {
        if (call.clientGone) return;
        const failure = toOpenAIError(error);
        exchange.error = failure.code;
        status = failure.status;
        yield guarded.frame({ type: 'error', code: failure.body.error.code, message: failure.body.error.message, param: null });
      }
    } finally {
      call.end();
      if (status === 499) exchange.error ??= 'E_GATEWAY_CLIENT_CLOSED';
      await exchange.record(services.audit, status);
    }
  }

  return new Answer(200, { ...SSE_HEADERS, ...labelHeaders(label), ...noticeHeaders(labeler) }, { frames: frames(), onCancel: () => clientLeft(services, exchange, call) });
}
