/**
 * @module gateway/sse
 * Server-sent events both ways: reading an upstream's `text/event-stream` with
 * `eventsource-parser` (bounded buffer, idle timeout per event), and framing what the gateway
 * sends (`data: ...\n\n`, then `data: [DONE]` for chat and completions streams).
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { GatewayUpstreamError } from './errors.js';
import type { UpstreamCall } from './upstream.js';

/** Largest single event accepted from an upstream; a longer one is a malformed stream. */
const MAX_EVENT_CHARS = 4 * 1024 * 1024;

const encoder = new TextEncoder();

/**
 * The events of an upstream stream, in batches: the events one network read completed, so
 * the gateway answers them with one write. Each read re-arms the idle timeout; a connection
 * reset, a timeout or an oversized event ends the iteration with `GatewayUpstreamError`.
 */
export async function* readEventBatches(body: AsyncIterable<Uint8Array>, call: UpstreamCall, upstream: string, idleMs: number): AsyncGenerator<EventSourceMessage[]> {
  const queue: EventSourceMessage[] = [];
  let parseError: Error | undefined;
  const parser = createParser({
    maxBufferSize: MAX_EVENT_CHARS,
    onEvent: (event) => queue.push(event),
    onError: (error) => {
      if (error.type === 'max-buffer-size-exceeded') parseError = error;
    },
  });
  const decoder = new TextDecoder();
  const chunks = body[Symbol.asyncIterator]();
  try {
    for (;;) {
      call.arm(idleMs);
      let chunk: IteratorResult<Uint8Array>;
      try {
        chunk = await chunks.next();
      } catch (cause) {
        if (call.signal.aborted) throw call.failure(upstream, cause);
        throw new GatewayUpstreamError(`the upstream "${upstream}" broke off the stream`, { cause });
      }
      if (chunk.done) break;
      parser.feed(decoder.decode(chunk.value, { stream: true }));
      if (parseError) throw new GatewayUpstreamError(`the upstream "${upstream}" sent an event longer than ${MAX_EVENT_CHARS} characters`, { cause: parseError });
      if (queue.length > 0) yield queue.splice(0);
    }
    parser.feed(`${decoder.decode()}\n\n`);
    if (queue.length > 0) yield queue.splice(0);
  } finally {
    call.disarm();
    // Closing the body of an aborted call rejects with the abort; there is nothing left to read.
    await chunks.return?.().catch(() => undefined);
  }
}

/** One SSE frame: `data: <json>\n\n`. */
export function sseData(payload: unknown): Uint8Array {
  return encoder.encode(sseText(payload));
}

/** One SSE frame as text, for frames joined and encoded once per write. */
export function sseText(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

/** A named SSE frame, as the Responses API streams: `event: <type>\ndata: <json>\n\n`. */
export function sseEvent(type: string, payload: unknown): Uint8Array {
  return encoder.encode(`event: ${type}\ndata: ${JSON.stringify(payload)}\n\n`);
}

/** The terminator of chat and completions streams. */
export const SSE_DONE_TEXT = 'data: [DONE]\n\n';
export const SSE_DONE = encoder.encode(SSE_DONE_TEXT);

/** Headers of an event stream. */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
};
