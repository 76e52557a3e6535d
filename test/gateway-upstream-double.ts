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
  /** The OpenAI error object answered with `status` (default: a `server_error` without code). */
  error?: { message?: string; type?: string; code?: string | null; param?: string | null };
  /** Extra headers on the answer (e.g. `Retry-After` with a 429). */
  headers?: Record<string, string>;
  /** Answer 200 with this raw body and content type instead (an HTML error page, JSON to a stream request). */
  raw?: { contentType: string; body: string };
  /** Answer `status` this many times, then normally (for retries). */
  failTimes?: number;
  /** Send this many chunks, then a malformed event. */
  malformedAfter?: number;
  /** Send this many chunks, then destroy the connection (a whole answer: half of it, whatever the number). */
  resetAfter?: number;
  /** Send this many chunks, then fall silent (for idle timeouts; a whole answer: after half of it). */
  stallAfter?: number;
  /**
   * After a chat stream's `data: [DONE]`: end the body this many ms later (a real upstream's
   * chunked end often comes in a later packet), or never end it: keep sending SSE comments
   * (`flood`) or nothing (`silent`).
   */
  afterDone?: { endDelayMs: number } | 'flood' | 'silent';
  finishReason?: string;
  /** Tool calls in the answer (chat); arguments given as pieces are streamed piece by piece. */
  toolCalls?: { id: string; name: string; arguments: string | string[] }[];
  /** A legacy `function_call` in the answer (chat), streamed in pieces when given so. */
  functionCall?: { name: string; arguments: string | string[] };
  /** A refusal instead of content (chat: `message.refusal`; Responses: a refusal part), in pieces. */
  refusal?: string[];
  /** Per-token logprobs (token, bytes, top_logprobs) for the text, as OpenAI returns with `logprobs: true`. */
  logprobs?: boolean;
  /** `url_citation` annotations on the message (chat) or the output_text part (Responses). */
  annotations?: { url: string; title: string }[];
  /** Further choices' texts (`n > 1`): choice 0 is `text`/`chunks`, these follow, interleaved in streams. */
  moreChoices?: string[];
  /** A field the gateway does not know, with this text, on the answer, each choice and each message/delta. */
  unknownField?: string;
  /** Responses: function calls as output items, their arguments streamed in the given pieces. */
  functionCalls?: { id: string; name: string; arguments: string[] }[];
  /** Responses: a reasoning item whose summary text is streamed in these pieces. */
  reasoningSummary?: string[];
  /** Responses: an output item of a type the gateway does not know, carrying this text. */
  unknownItem?: string;
  /** Image answer form. */
  imageForm?: 'b64_json' | 'url';
  /** With `imageForm: 'url'`: the URL handed out instead of the double's own file (`/redirect?to=URL` redirects). */
  imageUrl?: string;
  /**
   * The `usage` object of the answer instead of the double's own (chat, completions, the
   * stream's usage chunk, Responses' completed response); `null`: a stream without usage chunk.
   */
  usage?: Record<string, number> | null;
}

export interface SeenRequest {
  path: string;
  body: Record<string, unknown>;
  authorization: string | undefined;
  /** True when the connection closed before the double finished answering. */
  aborted: boolean;
  /** The W3C trace context the gateway passed on, when tracing is on. */
  traceparent?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

export class UpstreamDouble {
  readonly seen: SeenRequest[] = [];
  /** TCP connections opened to the double, and how many of them have closed. */
  readonly connections = { opened: 0, closed: 0 };
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
    this.#server.on('connection', (socket) => {
      this.connections.opened += 1;
      socket.once('close', () => (this.connections.closed += 1));
    });
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
    const seen: SeenRequest = { path, body, authorization: req.headers.authorization, aborted: false, ...(typeof req.headers.traceparent === 'string' ? { traceparent: req.headers.traceparent } : {}) };
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
        const error = { message: `double says ${b.status}`, type: 'server_error', code: null, ...b.error };
        res.writeHead(b.status, { 'content-type': 'application/json', ...b.headers }).end(JSON.stringify({ error }));
        return;
      }
    }
    if (b.raw) {
      res.writeHead(200, { 'content-type': b.raw.contentType, ...b.headers }).end(b.raw.body);
      return;
    }
    if (path === '/v1/models') return json(res, { object: 'list', data: [{ id: 'double-chat', object: 'model', created: 1, owned_by: 'double' }, { id: 'double-other', object: 'model', created: 1, owned_by: 'double' }] });
    if (path === '/v1/images/generations') return this.#images(res, b);
    if (path === '/v1/audio/speech') {
      res.writeHead(200, { 'content-type': 'audio/wav' }).end(this.audio);
      return;
    }
    const text = b.text ?? (wantsJson(body) ? '{"answer":"Hello from the double."}' : 'Hello from the double.');
    // A chat turn that calls a tool or refuses writes no content, unless the test says otherwise.
    const silent = path === '/v1/chat/completions' && b.text === undefined && (b.toolCalls || b.functionCall || b.refusal);
    const chunks = b.chunks ?? (silent ? [] : text.split(/(?<= )/));
    if (body.stream === true) return this.#stream(res, path, body, b, chunks);
    if (b.resetAfter !== undefined || b.stallAfter !== undefined) {
      // A whole answer that stops half-way: its connection reset, or silent.
      const whole = Buffer.from(JSON.stringify(answer(path, body, chunks.join(''), b)));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(whole.length) });
      res.write(whole.subarray(0, whole.length >> 1));
      if (b.resetAfter !== undefined) setTimeout(() => res.socket?.destroy(), 20);
      return;
    }
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
    const legacy = path === '/v1/completions';
    const message = { id: 'msg_1', type: 'message', status: 'in_progress', role: 'assistant', content: [] };
    const address = { item_id: 'msg_1', output_index: 0, content_index: 0 };
    if (responses) {
      send({ type: 'response.created', sequence_number: 0, response: responseObject(body, '', 'in_progress', b) }, 'response.created');
      send({ type: 'response.output_item.added', sequence_number: 0, output_index: 0, item: message }, 'response.output_item.added');
      send({ type: 'response.content_part.added', sequence_number: 0, ...address, part: { type: 'output_text', text: '', annotations: [] } }, 'response.content_part.added');
    }
    else if (!legacy) send(chatChunk(body, { role: 'assistant', content: '' }, null, b));
    const others = (b.moreChoices ?? []).map((t) => t.split(/(?<= )/));
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
      if (responses) send({ type: 'response.output_text.delta', sequence_number: i + 1, item_id: 'msg_1', output_index: 0, content_index: 0, delta: chunk, logprobs: b.logprobs ? tokenLogprobs(chunk) : [] }, 'response.output_text.delta');
      else if (legacy) send({ id: 'cmpl-1', object: 'text_completion', created: 1, model: body.model, choices: [{ index: 0, text: chunk, logprobs: b.logprobs ? { tokens: [chunk], token_logprobs: [-0.1], top_logprobs: null, text_offset: [0] } : null, finish_reason: null }] });
      else send(chatChunk(body, { content: chunk }, null, b, 0, b.logprobs ? { content: tokenLogprobs(chunk), refusal: null } : null));
      if (!responses) others.forEach((pieces, c) => pieces[i] !== undefined && send(chatChunk(body, legacy ? {} : { content: pieces[i] }, null, b, c + 1, null, legacy ? pieces[i] : undefined)));
    }
    if (b.stallAfter !== undefined) return;
    const text = chunks.join('');
    if (responses) {
      send({ type: 'response.output_text.done', sequence_number: 900, ...address, text, logprobs: [] }, 'response.output_text.done');
      send({ type: 'response.content_part.done', sequence_number: 900, ...address, part: { type: 'output_text', text, annotations: [] } }, 'response.content_part.done');
      for (const piece of b.refusal ?? []) send({ type: 'response.refusal.delta', sequence_number: 901, item_id: 'msg_1', output_index: 0, content_index: 1, delta: piece }, 'response.refusal.delta');
      if (b.refusal) send({ type: 'response.refusal.done', sequence_number: 902, item_id: 'msg_1', output_index: 0, content_index: 1, refusal: b.refusal.join('') }, 'response.refusal.done');
      const done = responseObject(body, text, 'completed', b);
      send({ type: 'response.output_item.done', sequence_number: 903, output_index: 0, item: (done.output as unknown[])[0] }, 'response.output_item.done');
      for (const [n, call] of (b.functionCalls ?? []).entries()) {
        const item = { id: call.id, type: 'function_call', status: 'in_progress', call_id: `call_${call.id}`, name: call.name, arguments: '' };
        send({ type: 'response.output_item.added', sequence_number: 910, output_index: n + 1, item }, 'response.output_item.added');
        for (const piece of call.arguments) send({ type: 'response.function_call_arguments.delta', sequence_number: 911, item_id: call.id, output_index: n + 1, delta: piece }, 'response.function_call_arguments.delta');
        send({ type: 'response.function_call_arguments.done', sequence_number: 912, item_id: call.id, output_index: n + 1, arguments: call.arguments.join('') }, 'response.function_call_arguments.done');
        send({ type: 'response.output_item.done', sequence_number: 913, output_index: n + 1, item: { ...item, status: 'completed', arguments: call.arguments.join('') } }, 'response.output_item.done');
      }
      if (b.reasoningSummary) {
        for (const piece of b.reasoningSummary) send({ type: 'response.reasoning_summary_text.delta', sequence_number: 920, item_id: 'rs_1', output_index: 9, summary_index: 0, delta: piece }, 'response.reasoning_summary_text.delta');
        send({ type: 'response.reasoning_summary_text.done', sequence_number: 921, item_id: 'rs_1', output_index: 9, summary_index: 0, text: b.reasoningSummary.join('') }, 'response.reasoning_summary_text.done');
      }
      if (b.unknownItem) send({ type: 'response.web_search_call.completed', sequence_number: 930, item_id: 'ws_1', output_index: 10, note: b.unknownItem }, 'response.web_search_call.completed');
      send({ type: 'response.completed', sequence_number: 999, response: responseObject(body, text, 'completed', b) }, 'response.completed');
      res.end();
      return;
    }
    if (b.refusal) for (const piece of b.refusal) send(chatChunk(body, { refusal: piece }, null, b));
    if (b.toolCalls) {
      for (const [index, t] of b.toolCalls.entries()) {
        const pieces = typeof t.arguments === 'string' ? [t.arguments] : t.arguments;
        send(chatChunk(body, { tool_calls: [{ index, id: t.id, type: 'function', function: { name: t.name, arguments: '' } }] }, null, b));
        for (const piece of pieces) send(chatChunk(body, { tool_calls: [{ index, function: { arguments: piece } }] }, null, b));
      }
    }
    if (b.functionCall) {
      send(chatChunk(body, { function_call: { name: b.functionCall.name, arguments: '' } }, null, b));
      for (const piece of typeof b.functionCall.arguments === 'string' ? [b.functionCall.arguments] : b.functionCall.arguments) send(chatChunk(body, { function_call: { arguments: piece } }, null, b));
    }
    if (b.annotations) send(chatChunk(body, { annotations: b.annotations.map(annotation) }, null, b));
    const finish = b.toolCalls ? 'tool_calls' : b.functionCall ? 'function_call' : (b.finishReason ?? 'stop');
    for (let c = 0; c <= (b.moreChoices?.length ?? 0); c++) {
      if (legacy) send({ id: 'cmpl-1', object: 'text_completion', created: 1, model: body.model, choices: [{ index: c, text: '', logprobs: null, finish_reason: b.finishReason ?? 'stop' }] });
      else send(chatChunk(body, {}, finish, b, c));
    }
    // With `stream_options.include_usage`, OpenAI sends the usage in one last chunk without choices.
    if ((body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true && b.usage !== null) {
      send({ id: 'chatcmpl-double', object: legacy ? 'text_completion' : 'chat.completion.chunk', created: 1, model: body.model, choices: [], usage: b.usage ?? { prompt_tokens: 3, completion_tokens: chunks.length, total_tokens: 3 + chunks.length } });
    }
    res.write('data: [DONE]\n\n');
    const after = b.afterDone;
    if (after === 'silent') return;
    if (after === 'flood') {
      const comment = `: ${'x'.repeat(16 * 1024)}\n\n`;
      const more = (): void => {
        if (res.destroyed) return;
        res.write(comment);
        setTimeout(more, 1);
      };
      return more();
    }
    if (after) await sleep(after.endDelayMs);
    res.end();
  }
}

function json(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** True when the request asks for JSON (`response_format` in chat, `text.format` in Responses). */
function wantsJson(body: Record<string, unknown>): boolean {
  const format = (body.response_format ?? (body.text as { format?: unknown } | undefined)?.format) as { type?: string } | undefined;
  return format?.type === 'json_object' || format?.type === 'json_schema';
}

/** OpenAI's per-token logprobs for a piece of text: one token per word, with its UTF-8 bytes and an alternative. */
function tokenLogprobs(text: string): unknown[] {
  return text.split(/(?<= )/).filter((t) => t !== '').map((token) => ({ token, logprob: -0.1, bytes: [...Buffer.from(token)], top_logprobs: [{ token, logprob: -0.1, bytes: [...Buffer.from(token)] }] }));
}

function annotation(a: { url: string; title: string }): unknown {
  return { type: 'url_citation', url_citation: { url: a.url, title: a.title, start_index: 0, end_index: 5 } };
}

function chatChunk(body: Record<string, unknown>, delta: Record<string, unknown>, finish: string | null, b: Behaviour = {}, index = 0, logprobs: unknown = null, legacyText?: string): unknown {
  const extra = b.unknownField ? { x_unknown: b.unknownField } : {};
  const choice = legacyText !== undefined ? { index, text: legacyText, logprobs, finish_reason: finish } : { index, delta: { ...delta, ...extra }, logprobs, finish_reason: finish, ...extra };
  return { id: 'chatcmpl-double', object: legacyText !== undefined ? 'text_completion' : 'chat.completion.chunk', created: 1, model: body.model, choices: [choice], ...extra };
}

function responseObject(body: Record<string, unknown>, text: string, status: string, b: Behaviour = {}): Record<string, unknown> {
  const done = status !== 'in_progress';
  const content: unknown[] = [{ type: 'output_text', text, annotations: (b.annotations ?? []).map((a) => ({ type: 'url_citation', url: a.url, title: a.title, start_index: 0, end_index: 5 })), logprobs: b.logprobs ? tokenLogprobs(text) : [] }];
  if (b.refusal) content.push({ type: 'refusal', refusal: b.refusal.join('') });
  const output: unknown[] = [{ id: 'msg_1', type: 'message', status: 'completed', role: 'assistant', content }];
  for (const call of b.functionCalls ?? []) output.push({ id: call.id, type: 'function_call', status: 'completed', call_id: `call_${call.id}`, name: call.name, arguments: call.arguments.join('') });
  if (b.reasoningSummary) output.push({ id: 'rs_1', type: 'reasoning', summary: [{ type: 'summary_text', text: b.reasoningSummary.join('') }] });
  if (b.unknownItem) output.push({ id: 'ws_1', type: 'web_search_call', status: 'completed', action: { type: 'search', query: b.unknownItem } });
  return {
    id: 'resp_1',
    object: 'response',
    created_at: 1,
    status,
    model: body.model,
    error: null,
    incomplete_details: null,
    output: done ? output : [],
    usage: done ? (b.usage ?? null) : null,
    ...(b.unknownField ? { x_unknown: b.unknownField } : {}),
  };
}

function answer(path: string, body: Record<string, unknown>, text: string, b: Behaviour): unknown {
  if (path === '/v1/responses') return responseObject(body, text, 'completed', b);
  const inputs = typeof body.input === 'string' ? [body.input] : Array.isArray(body.input) ? body.input : [];
  if (path === '/v1/embeddings') {
    // A deterministic 4-dimension vector per input, as OpenAI's shape has it.
    const vector = (input: unknown, index: number): number[] => [String(input).length, index, 0.5, -0.5];
    // `encoding_format: "base64"` (the official client's default): little-endian float32s, base64.
    const encode = (v: number[]): string | number[] => (body.encoding_format === 'base64' ? Buffer.from(new Float32Array(v).buffer).toString('base64') : v);
    const data = inputs.map((input, index) => ({ object: 'embedding', index, embedding: encode(vector(input, index)) }));
    return { object: 'list', data, model: body.model, usage: { prompt_tokens: inputs.length, total_tokens: inputs.length } };
  }
  if (path === '/v1/moderations') {
    const results = inputs.map((input) => {
      const flagged = JSON.stringify(input).includes('violence');
      return { flagged, categories: { violence: flagged }, category_scores: { violence: flagged ? 0.98 : 0.01 } };
    });
    return { id: 'modr-1', model: body.model ?? 'omni-moderation-latest', results };
  }
  const extra = b.unknownField ? { x_unknown: b.unknownField } : {};
  const texts = [text, ...(b.moreChoices ?? [])];
  if (path === '/v1/completions') {
    const choices = texts.map((t, index) => ({ index, text: t, logprobs: b.logprobs ? { tokens: t.split(/(?<= )/), token_logprobs: t.split(/(?<= )/).map(() => -0.1), top_logprobs: null, text_offset: [0] } : null, finish_reason: 'stop', ...extra }));
    return { id: 'cmpl-1', object: 'text_completion', created: 1, model: body.model, choices, usage: b.usage ?? { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 }, ...extra };
  }
  const joined = (a: string | string[]): string => (typeof a === 'string' ? a : a.join(''));
  const toolCalls = b.toolCalls?.map((t) => ({ id: t.id, type: 'function', function: { name: t.name, arguments: joined(t.arguments) } }));
  const functionCall = b.functionCall && { name: b.functionCall.name, arguments: joined(b.functionCall.arguments) };
  const silent = toolCalls || functionCall || b.refusal;
  const choices = texts.map((t, index) => ({
    index,
    message: {
      role: 'assistant',
      content: silent && index === 0 ? null : t,
      ...(index === 0 && b.refusal ? { refusal: b.refusal.join('') } : {}),
      ...(index === 0 && toolCalls ? { tool_calls: toolCalls } : {}),
      ...(index === 0 && functionCall ? { function_call: functionCall } : {}),
      ...(b.annotations ? { annotations: b.annotations.map(annotation) } : {}),
      ...extra,
    },
    logprobs: b.logprobs ? { content: tokenLogprobs(t), refusal: null } : null,
    finish_reason: index === 0 && toolCalls ? 'tool_calls' : index === 0 && functionCall ? 'function_call' : 'stop',
    ...extra,
  }));
  return { id: 'chatcmpl-double', object: 'chat.completion', created: 1, model: body.model, choices, usage: b.usage ?? { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2, completion_tokens_details: { reasoning_tokens: 0 } }, ...extra };
}
