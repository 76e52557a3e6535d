/**
 * @module gateway/answer
 * What the gateway's endpoints answer with, before it becomes HTTP: a status, plain headers and
 * a body that is a whole text, bytes, or a stream of frames. Behind a Node listener (./mount) an
 * answer is written straight to the Node response (`writeAnswer`): no web `Response`, `Headers`
 * or `ReadableStream` per request, the headers leave in the same write as the body or the first
 * frame, and a stream's last frame leaves in the same write as the end of the chunked body.
 * Elsewhere (`app.request()` in tests, another runtime, CORS on) it becomes a web `Response`
 * (`toResponse`).
 */
import type { ServerResponse } from 'node:http';

/** A stream's frames and what to do when the client goes away before they end. */
export interface AnswerFrames {
  /**
   * The frames in order. The generator's return value, when there is one, is the last frame:
   * it leaves in one write with the end of the body.
   */
  frames: AsyncGenerator<Uint8Array, Uint8Array | undefined | void>;
  /** Runs at once when the client goes away before the last frame (before `frames` is closed). */
  onCancel: () => Promise<void>;
}

/** One answer of the gateway's API. */
export class Answer {
  constructor(
    readonly status: number,
    /** Lower-case names; `setHeader` adds to them until the answer is written. */
    readonly headers: Record<string, string>,
    readonly body: string | Uint8Array | AnswerFrames,
  ) {}

  setHeader(name: string, value: string): void {
    this.headers[name] = value;
  }
}

/** What an endpoint's handler may return: an `Answer`, or a web `Response` it built itself (media). */
export type Answered = Answer | Response;

/** Sets a header on either kind of answer. */
export function setAnswerHeader(answer: Answered, name: string, value: string): void {
  if (answer instanceof Answer) answer.setHeader(name, value);
  else answer.headers.set(name, value);
}

function isFrames(body: Answer['body']): body is AnswerFrames {
  return typeof body === 'object' && !(body instanceof Uint8Array);
}

/** The answer as a web `Response`. */
export function toResponse(answer: Answered): Response {
  if (!(answer instanceof Answer)) return answer;
  const body = answer.body;
  return new Response(isFrames(body) ? frameStream(body) : body, { status: answer.status, headers: answer.headers });
}

/**
 * A response body that pulls frames from `frames`. When the client goes away, `onCancel`
 * runs at once (to abort the upstream call and record the request: the generator may not
 * have started, and then its own clean-up never runs) and the generator is closed.
 */
export function frameStream({ frames, onCancel }: AnswerFrames): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = await frames.next();
        try {
          if (next.value) controller.enqueue(next.value);
          if (next.done) controller.close();
        } catch {
          // The client cancelled while this frame was being made; there is nobody to send it to.
        }
      },
      async cancel() {
        await onCancel();
        await frames.return(undefined);
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * How long a stream's headers wait for its first frame before they are sent alone. The first
 * frame usually follows the upstream's headers within a turn of the event loop, and then both
 * leave in one write; an upstream that thinks for a while before its first event does not keep
 * the client without headers.
 */
const HEADERS_ALONE_AFTER_MS = 20;

/**
 * Writes the answer to a Node response. Resolves once the body is handed to the socket, or the
 * client went away (a stream's `onCancel` has then run and its generator is closed).
 */
export async function writeAnswer(outgoing: ServerResponse, answer: Answer): Promise<void> {
  const body = answer.body;
  if (!isFrames(body)) {
    const headers = answer.headers;
    headers['content-length'] = String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
    outgoing.writeHead(answer.status, headers);
    outgoing.end(body);
    return;
  }
  await writeFrames(outgoing, answer.status, answer.headers, body);
}

async function writeFrames(outgoing: ServerResponse, status: number, headers: Record<string, string>, { frames, onCancel }: AnswerFrames): Promise<void> {
  let finished = false;
  let cancelled: Promise<void> | undefined;
  /** The client went away (or the socket failed) before the last frame: the stream is cancelled once. */
  const cancel = (): void => {
    if (finished || cancelled) return;
    cancelled = onCancel()
      .catch((error: unknown) => console.error(`gateway: a cancelled stream could not be ended: ${(error as Error).message}`))
      .then(() => frames.return(undefined))
      .then(() => undefined, () => undefined);
  };
  outgoing.once('close', cancel);
  outgoing.once('error', cancel);
  // `writeHead` only keeps the head (`headersSent` is true from here on): it leaves with the first write.
  outgoing.writeHead(status, headers);
  let timer: NodeJS.Timeout | undefined = setTimeout(() => {
    timer = undefined;
    if (!outgoing.destroyed) outgoing.flushHeaders();
  }, HEADERS_ALONE_AFTER_MS);
  try {
    for (;;) {
      if (cancelled || outgoing.destroyed) break;
      const next = await frames.next();
      if (timer) {
        clearTimeout(timer);
        timer = undefined;
      }
      if (cancelled || outgoing.destroyed) break;
      if (next.done) {
        finished = true;
        if (next.value && next.value.byteLength > 0) outgoing.end(next.value);
        else outgoing.end();
        break;
      }
      if (next.value.byteLength === 0) continue;
      if (!outgoing.write(next.value)) await drained(outgoing);
    }
  } catch (error) {
    // The frames' own clean-up has run; the client gets a broken connection, as from a web stream that failed.
    finished = true;
    if (!outgoing.destroyed) outgoing.destroy(error as Error);
  } finally {
    if (timer) clearTimeout(timer);
    outgoing.off('error', cancel);
    if (finished) outgoing.off('close', cancel);
  }
  if (cancelled) await cancelled;
}

/** Resolves once the response can take more (or is closed: the loop then stops). */
function drained(outgoing: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      outgoing.off('drain', done);
      outgoing.off('close', done);
      resolve();
    };
    outgoing.on('drain', done);
    outgoing.on('close', done);
  });
}
