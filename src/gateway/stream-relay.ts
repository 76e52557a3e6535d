/**
 * @module gateway/stream-relay
 * Relays a chat or completions stream from the upstream to the client through the output
 * guard. Whatever happens (a block, an upstream fault, the client leaving), the stream ends
 * cleanly: a block ends with `finish_reason: "content_filter"`, a fault with an OpenAI error
 * event, and the audit event is written before the final `data: [DONE]`.
 */
import { Answer } from './answer.js';
import type { Exchange } from './audit.js';
import { type ChunkShape, GuardedChoices } from './choice-stream.js';
import { GatewayUpstreamError, toOpenAIError } from './errors.js';
import { choiceLabelData, heguiData, labelHeaders, noticeHeaders } from './labels.js';
import type { ModelGuard } from './model-guard.js';
import { blockNotice, isObject, noteModelVerdict, noteUsage, type GatewayServices, type Json } from './pipeline.js';
import { readEventBatches, SSE_DONE_TEXT, SSE_HEADERS, sseText } from './sse.js';
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

/**
 * The streaming response for a chat or completions request whose upstream answered 2xx.
 *
 * The stream keeps OpenAI's shape, which client code relies on (`chunk.choices[0]`): every
 * chunk has a choice, except the usage chunk, which comes only when the client asked for it
 * (`stream_options.include_usage`, `includeUsage`) or the upstream sent one anyway, and is
 * then the last chunk before `[DONE]`. The `hegui` object (labels, findings) rides on that
 * usage chunk, or else on the last chunk with a choice: chunks that only finish a choice are
 * held until the upstream ends (they carry no text, so nothing is delayed that a reader sees).
 */
export function relayChoiceStream(services: GatewayServices, exchange: Exchange, upstream: Upstream, response: UpstreamResponse, call: UpstreamCall, shape: ChunkShape, noticeInText: boolean, includeUsage: boolean): Answer {
  const labeler = services.labeler;
  const label = labeler.newLabel();
  const guarded = new GuardedChoices(services, exchange, shape, noticeInText);
  const body = response.body;
  /** Chunks that only finish choices, held so that the last one can carry `hegui`. */
  const tail: Json[] = [];
  let usage: Json | undefined;

  /** Queues `chunks` as frames, holding the usage chunk and finishing chunks back. */
  const send = (chunks: readonly (Json | string)[], out: string[]): void => {
    for (let i = 0; i < chunks.length; i++) {
      const chunk = chunks[i] as Json | string;
      // A frame already made (`acceptData`): a chunk with text, which releases the held finishing chunks.
      if (typeof chunk === 'string') {
        if (tail.length > 0) for (const held of tail.splice(0)) out.push(sseText(held));
        out.push(chunk);
        continue;
      }
      const choices = Array.isArray(chunk.choices) ? chunk.choices.filter(isObject) : [];
      if (choices.length === 0 && isObject(chunk.usage)) {
        noteUsage(exchange, chunk.usage);
        // Asked of the upstream for a key's budget, not by the client: it does not go out.
        if (!exchange.usageForced) usage = chunk;
        continue;
      }
      if (choices.length > 0 && choices.every((choice) => choice.finish_reason != null && shape.texts(choice).every((t) => t.text === ''))) {
        tail.push(chunk);
        continue;
      }
      if (tail.length > 0) for (const held of tail.splice(0)) out.push(sseText(held));
      out.push(sseText(chunk));
    }
  };

  const models = services.models?.has('output') ? new StreamModelChecks(services.models, exchange, guarded) : undefined;

  async function* frames(): AsyncGenerator<Uint8Array, Uint8Array | undefined> {
    let status = CLIENT_CLOSED;
    try {
      let blocked = false;
      /** Frames released by the keyword guard that wait for the guard models (`sentence` mode). */
      const held: string[] = [];
      /** The chunks that end the stream, decided once the upstream ended. */
      const ending: Json[] = [];
      let failure: ReturnType<typeof toOpenAIError> | undefined;
      /** Events the upstream sent, `[DONE]` included. */
      let events = 0;
      /** Whether the `gateway.stream` start event is written (before the first text leaves). */
      let started = false;
      /** What `acceptData` released from one event, reused from event to event. */
      const chunks: (Json | string)[] = [];
      try {
        for await (const batch of readEventBatches(body, call, upstream.name, upstream.idleTimeoutMs)) {
          events += batch.length;
          // What one read released goes out in one write, also when the batch ends the stream.
          // Frames as text, encoded once per write.
          const out: string[] = [];
          let ended = false;
          let fault: unknown;
          try {
            for (let i = 0; i < batch.length; i++) {
              const data = (batch[i] as (typeof batch)[number]).data;
              if (data === '[DONE]') {
                ended = true;
                break;
              }
              let blockedNow = guarded.acceptData(data, chunks);
              if (blockedNow === undefined) {
                const result = guarded.accept(parseUpstreamChunk(upstream, data));
                send(result.out, out);
                blockedNow = result.blocked;
              } else if (chunks.length > 0) {
                send(chunks, out);
                chunks.length = 0;
              }
              if (blockedNow) {
                blocked = ended = true;
                call.abort('output blocked');
                break;
              }
            }
          } catch (error) {
            fault = error;
          }
          if (models && !blocked && out.length > 0) {
            // A background check that came back flagged ends the stream before more text leaves.
            if (models.flagged) {
              out.length = 0;
              held.length = 0;
              blocked = ended = true;
              guarded.blockByModel();
              call.abort('output blocked');
            } else if (models.mode === 'sentence') {
              held.push(...out.splice(0));
              if (models.due() && (await models.check())) {
                held.length = 0;
                blocked = ended = true;
                guarded.blockByModel();
                call.abort('output blocked');
              } else if (models.checkedAll()) out.push(...held.splice(0));
            } else models.startIfDue();
          }
          if (out.length > 0) {
            if (!started) {
              started = true;
              await exchange.recordStart(services.audit, label.ProduceID);
            }
            yield Buffer.from(out.join(''));
          }
          if (fault !== undefined) throw fault;
          if (ended) break;
        }
        // An event stream without a single event (an error page sent as text/event-stream) is
        // a failed upstream, never an empty answer that passes.
        if (events === 0) throw new GatewayUpstreamError(`the upstream "${upstream.name}" ended its event stream without sending any event`);
        if (!blocked) {
          const last = guarded.finish();
          ending.push(...last.out);
          blocked = last.blocked;
        }
        // The guard models judge what they have not judged yet (held text included) before the end leaves.
        if (models && !blocked && (await models.finalCheck())) {
          ending.length = 0;
          held.length = 0;
          blocked = true;
          guarded.blockByModel();
        }
        if (held.length > 0) {
          if (!started) {
            started = true;
            await exchange.recordStart(services.audit, label.ProduceID);
          }
          yield Buffer.from(held.splice(0).join(''));
        }
        if (blocked) ending.push(guarded.blockEnding(await blockNotice(services, exchange)));
        status = 200;
      } catch (error) {
        // Nobody is listening any more; the finally block records the request as closed.
        if (call.clientGone) return;
        // Held text is dropped, never flushed: it may be the start of a blocked keyword.
        failure = toOpenAIError(error);
        exchange.error = failure.code;
        status = failure.status;
      }
      // One label per choice, over its text exactly as sent; choice 0's is the one in the headers.
      const labels = guarded.hashes().map(({ index, hash }, i) => ({ index, aigc: labeler.sign(i === 0 ? label : labeler.newLabel(), hash) }));
      exchange.labels.push(...labels.map((l) => l.aigc.ProduceID));
      exchange.actions.push('labeled');
      const hegui = { ...heguiData(labels[0]?.aigc, exchange, blocked ? 'output-blocked' : undefined), ...choiceLabelData(labeler, guarded.placement, labels) };
      const final = [...tail.splice(0), ...ending];
      if (failure) final.push({ ...failure.body, hegui });
      else if (usage || includeUsage) final.push({ ...(usage ?? guarded.chunk({ choices: [], usage: null })), hegui });
      else if (final.length > 0) final.push({ ...(final.pop() as Json), hegui });
      else final.push(guarded.chunk({ choices: [shape.piece(0, shape.mainField, '')], hegui }));
      // The last chunk and `[DONE]` leave in one write with the end of the body (./answer),
      // once the audit event is recorded.
      const last = final.map((chunk) => sseText(chunk));
      await exchange.record(services.audit, status);
      return Buffer.from(last.join('') + SSE_DONE_TEXT);
    } finally {
      call.end();
      if (status === CLIENT_CLOSED) exchange.error ??= 'E_GATEWAY_CLIENT_CLOSED';
      await exchange.record(services.audit, status);
    }
  }

  return new Answer(200, { ...SSE_HEADERS, ...labelHeaders(label), ...noticeHeaders(labeler) }, { frames: frames(), onCancel: () => clientLeft(services, exchange, call) });
}

/** Matches a sentence end in Chinese or Latin text (`sentence` mode checks there). */
const SENTENCE_END = /[。！？；!?;\n]|\.(?:\s|$)/;

/**
 * The guard models on one stream (./model-guard): which released text they have judged, the
 * check running in the background (`after` mode), and whether any check came back flagged.
 */
class StreamModelChecks {
  readonly mode: ModelGuard['stream'];
  flagged = false;
  readonly #models: ModelGuard;
  readonly #exchange: Exchange;
  readonly #guarded: GuardedChoices;
  /** Released characters the last check covered. */
  #checked = 0;
  #running: Promise<boolean> | undefined;

  constructor(models: ModelGuard, exchange: Exchange, guarded: GuardedChoices) {
    this.#models = models;
    this.#exchange = exchange;
    this.#guarded = guarded;
    this.mode = models.stream;
  }

  /** True once `checkChars` more characters were released, or (sentence mode) a sentence ended. */
  due(): boolean {
    const fresh = this.#guarded.releasedLength - this.#checked;
    if (fresh <= 0) return false;
    if (fresh >= this.#models.checkChars) return true;
    return this.mode === 'sentence' && SENTENCE_END.test(this.#guarded.releasedTail(fresh));
  }

  checkedAll(): boolean {
    return this.#checked >= this.#guarded.releasedLength;
  }

  /** `after` mode: starts a check in the background when one is due and none runs. */
  startIfDue(): void {
    if (this.#running || !this.due()) return;
    this.#running = this.check().finally(() => (this.#running = undefined));
  }

  /** Judges the released text's tail now; true when it is blocked. */
  async check(): Promise<boolean> {
    this.#checked = this.#guarded.releasedLength;
    const caller = this.#exchange.caller;
    if (!caller) return false;
    const verdict = await this.#models.check(this.#guarded.releasedTail(this.#models.windowChars), 'output', caller, this.#exchange.prompt);
    noteModelVerdict(this.#exchange, 'output', verdict);
    if (verdict.action === 'block') this.flagged = true;
    return this.flagged;
  }

  /** The stream's end: the background check, then one over whatever no check covered. */
  async finalCheck(): Promise<boolean> {
    if (this.#running) await this.#running;
    if (this.flagged) return true;
    return this.#guarded.releasedLength > this.#checked ? this.check() : false;
  }
}
