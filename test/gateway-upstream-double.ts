/**
 * The upstream test double: a real OpenAI-compatible HTTP server on 127.0.0.1 that stands in
 * for the model (the only double the gateway tests use). It speaks real SSE framing
 * (`data: ...\n\n`, `data: [DONE]`) and lets a test control chunking, delays, status codes,
 * malformed events, connection resets and silence.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the double answers one request. */
export interface Behaviour {
  /** The answer's text (default "Hello from the double."). */
  text?: string;
  /** The text as these chunks, in order (default: the text split by words). */
  chunks?: string[];
  /** Wait before each chunk. */
  chunkDelayMs?: number;
  /** Wait before the headers. */
  headersDelayMs?: number;
  /** Answer with this status and an OpenAI error object. */
  status?: number;
  /** Answer `status` this many times, then normally (for retries). */
  failTimes?: number;
  /** Send this many chunks, then a malformed event. */
  malformedAfter?: number;
  /** Send this many chunks, then destroy the connection. */
  resetAfter?: number;
  /** Send this many chunks, then fall silent (for idle timeouts). */
  stallAfter?: number;
  finishReason?: string;
  /** Tool calls in the answer (chat). */
  toolCalls?: { id: string; name: string; arguments: string }[];
  /** Image answer form. */
  imageForm?: 'b64_json' | 'url';
  /** With `imageForm: 'url'`: the URL handed out instead of the double's own file (`/redirect?to=URL` redirects). */
  imageUrl?: string;
}

export interface SeenRequest {
  path: string;
  body: Record<string, unknown>;
  authorization: string | undefined;
  /** True when the connection closed before the double finished answering. */
  aborted: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

export class UpstreamDouble {
  readonly seen: SeenRequest[] = [];
  behaviour: (path: string, body: Record<string, unknown>) => Behaviour = () => ({});
  /** Bytes served for image URLs and as speech. */
  image: Uint8Array = new Uint8Array();
  audio: Uint8Array = new Uint8Array();
  #server: Server | undefined;
  #failures = new Map<string, number>();
  url = '';

  async start(): Promise<this> {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    this.#server.keepAliveTimeout = 30_000;
    await new Promise<void>((done) => this.#server?.listen(0, '127.0.0.1', done));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((done) => {
      this.#server?.close(() => done());
      this.#server?.closeAllConnections();
    });
  }

  /** The last request the double saw on `path`. */
  last(path: string): SeenRequest | undefined {
    return this.seen.filter((r) => r.path === path).at(-1);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method === 'GET' && path === '/files/image.png') {
      this.seen.push({ path, body: {}, authorization: undefined, aborted: false });
      res.writeHead(200, { 'content-type': 'image/png' }).end(this.image);
      return;
    }
    if (req.method === 'GET' && path === '/redirect') {
      this.seen.push({ path, body: {}, authorization: undefined, aborted: false });
      res.writeHead(302, { location: new URL(req.url ?? '/', this.url).searchParams.get('to') ?? '/' }).end();
      return;
    }
    const raw = await new Promise<string>((done) => {
      let text = '';
      req.on('data', (part: Buffer) => (text += part.toString('utf8')));
      req.on('end', () => done(text));
    });
    const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    const seen: SeenRequest = { path, body, authorization: req.headers.authorization, aborted: false };
    this.seen.push(seen);
    res.on('close', () => {
      if (!res.writableFinished) seen.aborted = true;
    });
    const b = this.behaviour(path, body);
    if (b.headersDelayMs) await sleep(b.headersDelayMs);
    if (b.status) {
      const key = `${path}:${JSON.stringify(body)}`;
      const failed = this.#failures.get(key) ?? 0;
      if (b.failTimes === undefined || failed < b.failTimes) {
        this.#failures.set(key, failed + 1);
        res.writeHead(b.status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `double says ${b.status}`, type: 'server_error', code: null } }));
        return;
      }
    }
    if (path === '/v1/models') return json(res, { object: 'list', data: [{ id: 'double-chat', object: 'model', created: 1, owned_by: 'double' }, { id: 'double-other', object: 'model', created: 1, owned_by: 'double' }] });
    if (path === '/v1/images/generations') return this.#images(res, b);
    if (path === '/v1/audio/speech') {
      res.writeHead(200, { 'content-type': 'audio/wav' }).end(this.audio);
      return;
    }
    const text = b.text ?? 'Hello from the double.';
    const chunks = b.chunks ?? text.split(/(?<= )/);
    if (body.stream === true) return this.#stream(res, path, body, b, chunks);
    return json(res, answer(path, body, chunks.join(''), b));
  }

  #images(res: ServerResponse, b: Behaviour): void {
    const entry = b.imageForm === 'url' ? { url: b.imageUrl ?? `${this.url}/files/image.png`, revised_prompt: 'a calm lake' } : { b64_json: Buffer.from(this.image).toString('base64') };
    json(res, { created: 1, data: [entry] });
  }

  async #stream(res: ServerResponse, path: string, body: Record<string, unknown>, b: Behaviour, chunks: string[]): Promise<void> {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.flushHeaders();
    const send = (payload: unknown, event?: string): void => {
      if (!res.destroyed) res.write(`${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(payload)}\n\n`);
    };
    const responses = path === '/v1/responses';
    if (responses) send({ type: 'response.created', sequence_number: 0, response: responseObject(body, '', 'in_progress') }, 'response.created');
    else if (path === '/v1/chat/completions') send(chatChunk(body, { role: 'assistant', content: '' }, null));
    for (const [i, chunk] of chunks.entries()) {
      if (res.destroyed) return;
      if (b.resetAfter === i) {
        res.socket?.destroy();
        return;
      }
      if (b.malformedAfter === i) {
        res.write('data: {"choices": [oops\n\n');
        res.end();
        return;
      }
      if (b.stallAfter === i) return;
      if (b.chunkDelayMs) await sleep(b.chunkDelayMs);
      if (responses) send({ type: 'response.output_text.delta', sequence_number: i + 1, item_id: 'msg_1', output_index: 0, content_index: 0, delta: chunk, logprobs: [] }, 'response.output_text.delta');
      else if (path === '/v1/completions') send({ id: 'cmpl-1', object: 'text_completion', created: 1, model: body.model, choices: [{ index: 0, text: chunk, logprobs: null, finish_reason: null }] });
      else send(chatChunk(body, { content: chunk }, null));
    }
    if (b.stallAfter !== undefined) return;
    const text = chunks.join('');
    if (responses) {
      send({ type: 'response.output_text.done', sequence_number: 900, item_id: 'msg_1', output_index: 0, content_index: 0, text, logprobs: [] }, 'response.output_text.done');
      send({ type: 'response.completed', sequence_number: 901, response: responseObject(body, text, 'completed') }, 'response.completed');
      res.end();
      return;
    }
    if (b.toolCalls) send(chatChunk(body, { tool_calls: b.toolCalls.map((t, index) => ({ index, id: t.id, type: 'function', function: { name: t.name, arguments: t.arguments } })) }, null));
    if (path === '/v1/completions') send({ id: 'cmpl-1', object: 'text_completion', created: 1, model: body.model, choices: [{ index: 0, text: '', logprobs: null, finish_reason: b.finishReason ?? 'stop' }] });
    else send(chatChunk(body, {}, b.toolCalls ? 'tool_calls' : (b.finishReason ?? 'stop')));
    res.write('data: [DONE]\n\n');
    res.end();
  }
}

function json(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function chatChunk(body: Record<string, unknown>, delta: Record<string, unknown>, finish: string | null): unknown {
  return { id: 'chatcmpl-double', object: 'chat.completion.chunk', created: 1, model: body.model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] };
}

function responseObject(body: Record<string, unknown>, text: string, status: string): Record<string, unknown> {
  return {
    id: 'resp_1',
    object: 'response',
    created_at: 1,
    status,
    model: body.model,
    error: null,
    incomplete_details: null,
    output: status === 'in_progress' ? [] : [{ id: 'msg_1', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text, annotations: [] }] }],
    usage: null,
  };
}

function answer(path: string, body: Record<string, unknown>, text: string, b: Behaviour): unknown {
  if (path === '/v1/responses') return responseObject(body, text, 'completed');
  if (path === '/v1/completions') return { id: 'cmpl-1', object: 'text_completion', created: 1, model: body.model, choices: [{ index: 0, text, logprobs: null, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } };
  const toolCalls = b.toolCalls?.map((t) => ({ id: t.id, type: 'function', function: { name: t.name, arguments: t.arguments } }));
  return {
    id: 'chatcmpl-double',
    object: 'chat.completion',
    created: 1,
    model: body.model,
    choices: [{ index: 0, message: { role: 'assistant', content: toolCalls ? null : text, ...(toolCalls ? { tool_calls: toolCalls } : {}) }, logprobs: null, finish_reason: toolCalls ? 'tool_calls' : 'stop' }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  };
}
