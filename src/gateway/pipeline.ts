/**
 * @module gateway/pipeline
 * The steps every endpoint shares: authenticate, read the JSON body, guard the input, call
 * the upstream, answer errors in the OpenAI shape, and record the audit event. Each endpoint
 * module supplies only what differs: where its texts are, and the shape of its answers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HonoRequest } from 'hono';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { Answer, type Answered, setAnswerHeader, toResponse, writeAnswer } from './answer.js';
import type { Store } from '../store/index.js';
import type { AccessControl, RequestPurpose } from './access.js';
import type { AuditSink } from './audit.js';
import { Exchange } from './audit.js';
import type { GatewayConfig } from './config.js';
import { GatewayModelNotAllowedError, GatewayBodyTooLargeError, GatewayRequestError, GatewayShuttingDownError, GatewayUpstreamError, GatewayUpstreamRejectedError, toOpenAIError } from './errors.js';
import { checkKeyBudgets, countKeyUsage, hasKeyBudget, noteUsage, rateLimitHeaders } from './budgets.js';
import type { ContentGuard, Direction } from './guard.js';
import { type CallerResolver, keyAllowsModel } from './identity.js';
import { choiceLabelData, heguiData, labelHeaders, type NoticePlacement, noticeHeaders, type OutputLabeler } from './labels.js';
import type { LiveKeywords } from './live-keywords.js';
import type { InFlight } from './drain.js';
import type { MediaService } from './media.js';
import type { ModelGuard, ModelVerdict } from './model-guard.js';
import type { GatewayObserver } from './observe.js';
import { endSpan, startRequestSpan, startUpstreamSpan } from './tracing.js';
import type { UnauthenticatedSampler } from './unauthenticated.js';
import { SSE_DONE, SSE_HEADERS, sseData } from './sse.js';
import { type StopSignal, StopSignals, type Upstream, UpstreamCall, type UpstreamResponse, type UpstreamRouter } from './upstream.js';

/** Everything the endpoints are built from. */
export interface GatewayServices {
  config: GatewayConfig;
  router: UpstreamRouter;
  guard: ContentGuard;
  /** Guard models (classifiers) beside the keywords, when configured (./model-guard). */
  models?: ModelGuard;
  /** Metrics and the access log (./observe). */
  observer?: GatewayObserver;
  labeler: OutputLabeler;
  callers: CallerResolver;
  /** Identity requirements, limits, minors' mode and sanctions. */
  access: AccessControl;
  /** The keyword libraries in force, reloaded from the store. */
  keywords: LiveKeywords;
  audit: AuditSink;
  media: MediaService;
  /** The requests running, for a graceful stop (./drain). */
  inflight: InFlight;
  /** Counts requests refused for want of credentials instead of recording each. */
  unauthenticated: UnauthenticatedSampler;
  store: Store;
  /** What the user reads instead of blocked content. */
  blockMessage: string;
  /**
   * The base URL of media links: `server.publicUrl`, else the address the server listens on
   * (set once it listens). Never the request's Host header, which the client chooses.
   */
  publicUrl?: string;
}

/** A piece of request text the input guard reads and, when redacting, rewrites. */
export interface TextSlot {
  text: string;
  set(text: string): void;
  /** Part of the conversation the model reads as one text (messages, prompts), checked joined too. */
  conversation?: boolean;
}

/**
 * What stands between two conversation texts when they are checked joined. The matcher skips
 * spaces, so a keyword split across two messages is found, as the model reads it whole.
 */
const CONVERSATION_SEPARATOR = ' ';

/** A JSON object from a request or upstream body. */
export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Headers of every JSON answer. */
const JSON_HEADERS = { 'content-type': 'application/json' };

/** A JSON answer (./answer): written straight to the Node response behind a Node listener. */
export function jsonResponse(body: unknown, status: number, headers: Record<string, string> = {}): Answer {
  return new Answer(status, { ...JSON_HEADERS, ...headers }, JSON.stringify(body));
}

/**
 * What the gateway's middleware (./mount) learnt of a request, kept on the request itself
 * (`bindRequest`, `requestBindings`).
 */
export interface RequestBindings {
  /** The client's address, as the socket saw it. */
  address: string;
  /**
   * The Node message, when the request came through a Node listener: its body is read from it
   * directly, without the web stream and `Request` object that `req.raw.body` builds.
   */
  incoming?: IncomingMessage;
  /**
   * The Node response, when the request came through a Node listener and nothing after the
   * gateway's handlers rewrites answers (no CORS middleware: ./mount): answers are written to it
   * directly (./answer), without a web `Response`.
   */
  outgoing?: ServerResponse;
  /** The client's connection, when the request came through a Node listener: what its upstream call watches. */
  connection?: StopSignal;
}

/**
 * The property of a request's `Request` object that holds its bindings. A property, not a
 * WeakMap keyed by the request: V8's scavenger keeps a WeakMap's values alive while the map
 * itself is in the old generation (where a module's map soon is), so every request's Node
 * message and response, and everything they reach, survived its young-generation collections
 * and was moved to the old generation: about 1.2 MB per scavenge with one client, scavenges of
 * 7 to 13 ms every hundred requests or so (a tenth of a request's CPU time), and an old
 * generation that grew until a full collection.
 */
const BINDINGS = Symbol('hegui.gateway.requestBindings');

/** Keeps what the middleware learnt of `request` on it, for the handlers (./mount). */
export function bindRequest(request: Request, bindings: RequestBindings): void {
  (request as Request & { [BINDINGS]?: RequestBindings })[BINDINGS] = bindings;
}

/** What the middleware learnt of `request`; undefined when it did not see it (a handler mounted elsewhere). */
export function requestBindings(request: Request): RequestBindings | undefined {
  return (request as Request & { [BINDINGS]?: RequestBindings })[BINDINGS];
}

/**
 * The client's connection as an upstream call watches it: aborted when the answer's response
 * closes before it finished, or the request broke (as @hono/node-server aborts `req.raw.signal`),
 * without the AbortController and EventTarget listener that signal costs each request.
 */
export function watchClient(incoming: IncomingMessage, outgoing: ServerResponse): StopSignal {
  const signals = new StopSignals();
  outgoing.once('close', () => {
    if (incoming.errored || !outgoing.writableFinished) signals.abort();
  });
  return signals;
}

/** The header every answer carries with the id its audit event records (`payload.requestId`). */
export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * Runs one request: the exchange is created, the caller resolved and admitted (identity,
 * limits, minors' mode, sanctions), and only then the body read, within the body limits,
 * before `handle`: a refused caller never costs a body read. Any error thrown becomes an
 * OpenAI error answer with its audit event.
 */
export async function runRequest(
  services: GatewayServices,
  req: HonoRequest,
  endpoint: string,
  handle: (exchange: Exchange, body: Json) => Promise<Answered>,
): Promise<Response> {
  const exchange = new Exchange(endpoint, services.audit.contentPolicy);
  exchange.address = requestBindings(req.raw)?.address ?? 'unknown';
  traceExchange(exchange, req);
  services.inflight.track(exchange);
  return withApiHeaders(services, exchange, req, async () => {
    try {
      if (services.inflight.stopping) throw new GatewayShuttingDownError();
      exchange.caller = await services.callers.resolve(req.header('authorization'));
      await services.access.admit(exchange, 'generate');
      const body = await readBody(req, services.config.limits);
      return await handle(exchange, body);
    } catch (error) {
      return failRequest(services, exchange, error);
    }
  });
}

/** `runRequest` for a request without a body (`GET /v1/models`). */
export async function runRequestWithoutBody(services: GatewayServices, req: HonoRequest, endpoint: string, handle: (exchange: Exchange) => Promise<Answered>, purpose: RequestPurpose = 'list'): Promise<Response> {
  const exchange = new Exchange(endpoint, services.audit.contentPolicy);
  exchange.address = requestBindings(req.raw)?.address ?? 'unknown';
  traceExchange(exchange, req);
  services.inflight.track(exchange);
  return withApiHeaders(services, exchange, req, async () => {
    try {
      if (services.inflight.stopping) throw new GatewayShuttingDownError();
      exchange.caller = await services.callers.resolve(req.header('authorization'));
      await services.access.admit(exchange, purpose);
      return await handle(exchange);
    } catch (error) {
      return failRequest(services, exchange, error);
    }
  });
}

/** Opens the request's span (./tracing), ended with what the exchange learnt once it is settled. */
function traceExchange(exchange: Exchange, req: HonoRequest): void {
  const traced = startRequestSpan(exchange.endpoint, req.raw.headers);
  exchange.trace = traced;
  exchange.onSettled(() =>
    endSpan(traced.span, exchange.status, () => ({
      'hegui.request_id': exchange.id,
      ...(exchange.model ? { 'hegui.model': exchange.model } : {}),
      ...(exchange.upstream ? { 'hegui.upstream': exchange.upstream } : {}),
      ...(exchange.caller ? { 'hegui.user': exchange.caller.pseudonym } : {}),
      'hegui.stream': exchange.stream,
      'hegui.actions': exchange.actions,
      'hegui.risks': [...new Set([...exchange.inputFindings, ...exchange.outputFindings].map((f) => f.risk))],
      ...(exchange.error ? { 'hegui.error': exchange.error } : {}),
    })),
  );
}

/**
 * @hono/node-server's marker for an answer already written works only as a web `Response` of the
 * runtime (its module builds it when first imported): had the adapter's lightweight `Response`
 * been installed first, the adapter would write that marker as an answer of its own. Then every
 * answer goes the web way.
 */
const ALREADY_SENT_WORKS = !Object.getOwnPropertySymbols(RESPONSE_ALREADY_SENT).some((symbol) => symbol.description === 'cache');

/**
 * Runs `run` and adds the headers every API answer carries: its request id and `nosniff`. Behind
 * a Node listener the answer is then written to the Node response and the adapter told it was
 * sent (./answer); otherwise it becomes a web `Response`.
 */
async function withApiHeaders(services: GatewayServices, exchange: Exchange, req: HonoRequest, run: () => Promise<Answered>): Promise<Response> {
  const answer = await run();
  // A key's budgets count the usage once settled; the x-ratelimit-* headers (./budgets).
  countKeyUsage(services.store, exchange);
  rateLimitHeaders(exchange, answer);
  // A draining server closes each connection once its answer is sent (./drain).
  if (services.inflight.stopping) setAnswerHeader(answer, 'connection', 'close');
  setAnswerHeader(answer, REQUEST_ID_HEADER, exchange.id);
  // No content sniffing of JSON, event streams, images or audio (the API's only security header).
  setAnswerHeader(answer, 'x-content-type-options', 'nosniff');
  const outgoing = answer instanceof Answer && ALREADY_SENT_WORKS ? requestBindings(req.raw)?.outgoing : undefined;
  if (!outgoing) return toResponse(answer);
  await writeAnswer(outgoing, answer as Answer);
  return RESPONSE_ALREADY_SENT;
}

/** The error answer for `error`, after its audit event is recorded. */
export async function failRequest(services: GatewayServices, exchange: Exchange, error: unknown): Promise<Answer> {
  const { status, body, headers, code } = toOpenAIError(error);
  if (status === 500) console.error(error);
  exchange.error = code;
  if (status === 401 && exchange.caller === undefined) {
    // Counted, not recorded one by one: a flood of bad keys must not fill the log (./unauthenticated).
    services.unauthenticated.note(exchange.address, exchange.endpoint);
    services.observer?.unauthenticated();
    exchange.status = status;
    exchange.settle();
    return jsonResponse(body, status, { ...headers });
  }
  if ((error instanceof GatewayUpstreamError || error instanceof GatewayUpstreamRejectedError) && error.upstreamStatus !== null) exchange.upstreamStatus = error.upstreamStatus;
  await exchange.record(services.audit, status);
  return jsonResponse(body, status, { ...headers });
}

/**
 * The end of every whole text answer: signs one label per choice over exactly the text the
 * client receives in it (`texts[i]`, notices included), notes them on the exchange, adds the
 * `hegui` object to `body` (choice 0's label as `aigc`, every label under `choices` when there
 * are several), records the audit event, and answers with choice 0's label in the headers.
 */
export async function answerLabeled(services: GatewayServices, exchange: Exchange, body: Json, texts: readonly { index: number; text: string }[], blocked: boolean, placement: NoticePlacement): Promise<Answer> {
  noteUsage(exchange, body.usage);
  const labeler = services.labeler;
  const labels = (texts.length > 0 ? texts : [{ index: 0, text: '' }]).map(({ index, text }) => ({ index, aigc: labeler.signText(labeler.newLabel(), text) }));
  const first = (labels[0] as (typeof labels)[number]).aigc;
  exchange.labels.push(...labels.map((l) => l.aigc.ProduceID));
  exchange.actions.push('labeled');
  body.hegui = { ...heguiData(first, exchange, blocked ? 'output-blocked' : undefined), ...choiceLabelData(labeler, placement, labels) };
  await exchange.record(services.audit, 200);
  // As jsonResponse(body, 200, {...labels, ...notice}) answers, without the headers copied twice.
  return new Answer(200, { ...JSON_HEADERS, ...labelHeaders(first), ...noticeHeaders(labeler) }, JSON.stringify(body));
}

/** Notes an upstream `usage` object on the exchange (for a key's budgets). */
export { noteUsage };

/**
 * A budgeted key's stream must report its usage: `include_usage` is asked of the upstream, and
 * the relay drops the usage chunk again when the client did not ask for it.
 */
export function askUsageForBudget(exchange: Exchange, body: Json): void {
  if (!exchange.stream || !hasKeyBudget(exchange.caller?.key) || wantsUsage(body)) return;
  body.stream_options = { ...(isObject(body.stream_options) ? body.stream_options : {}), include_usage: true };
  exchange.usageForced = true;
}

/** Marks the exchange's output blocked and returns what the user reads instead, after counting the block. */
export async function blockedOutputNotice(services: GatewayServices, exchange: Exchange): Promise<string> {
  exchange.actions.push('output-blocked');
  return withNotices(exchange, await blockNotice(services, exchange));
}

/** The gateway's own notices before an answer's text (a minor's reminder), or the text alone. */
export function withNotices(exchange: Exchange, text: string): string {
  return exchange.notices.length === 0 ? text : `${exchange.notices.join('\n\n')}\n\n${text}`;
}

/**
 * What a user reads instead of blocked content: the block message, after counting the block
 * against the user, with the warning or sanction it led to (AI Measures Art. 14). A failure to
 * count never keeps the block from ending the answer.
 */
export async function blockNotice(services: GatewayServices, exchange: Exchange): Promise<string> {
  let sanction: string | undefined;
  try {
    sanction = await services.access.noteBlock(exchange);
  } catch (error) {
    console.error(`gateway: a blocked request could not be counted against its user: ${(error as Error).message}`);
  }
  if (!sanction) return services.blockMessage;
  exchange.sanctionNotice = sanction;
  return `${services.blockMessage}\n\n${sanction}`;
}

/** The size and shape limits a request body is read within (`limits` in the configuration). */
export interface BodyLimits {
  bodyBytes: number;
  jsonDepth: number;
  messages: number;
}

/**
 * The request body as a JSON object, read as a stream and given up as soon as it passes
 * `bodyBytes` (a declared length past it is refused before anything is read); nesting is
 * checked on the text before it is parsed, and the number of messages after.
 */
async function readBody(req: HonoRequest, limits: BodyLimits): Promise<Json> {
  if (declaredLength(req.header('content-length')) > limits.bodyBytes) throw new GatewayBodyTooLargeError(limits.bodyBytes);
  const incoming = requestBindings(req.raw)?.incoming;
  const text = incoming ? await readIncomingCapped(incoming, limits.bodyBytes) : await readCapped(req.raw, limits.bodyBytes);
  const depth = jsonDepth(text);
  if (depth > limits.jsonDepth) throw new GatewayRequestError(`the request body nests arrays and objects ${depth > 10 * limits.jsonDepth ? 'far ' : ''}deeper than ${limits.jsonDepth} levels (limits.jsonDepth)`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new GatewayRequestError('the request body must be a JSON object');
  }
  if (!isObject(body)) throw new GatewayRequestError('the request body must be a JSON object');
  for (const field of ['messages', 'input'] as const) {
    const items = body[field];
    if (Array.isArray(items) && items.length > limits.messages) throw new GatewayRequestError(`"${field}" has ${items.length} items; at most ${limits.messages} are accepted (limits.messages)`, field);
  }
  return body;
}

/**
 * The stream answering a blocked prompt: the refusal `chunk`, then `[DONE]`. `hegui` rides on
 * the refusal, or on a usage chunk after it when the client asked for usage (zero tokens: the
 * model was never called), so the stream has OpenAI's shape either way.
 */
export function refusalStream(chunk: Json, hegui: object, includeUsage: boolean): Answer {
  const frames = includeUsage
    ? [sseData(chunk), sseData({ ...chunk, choices: [], usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 }, hegui })]
    : [sseData({ ...chunk, hegui })];
  return new Answer(200, { ...SSE_HEADERS }, Buffer.concat([...frames, SSE_DONE]));
}

/** True when a stream request asks for the usage chunk (`stream_options.include_usage`). */
export function wantsUsage(body: Json): boolean {
  return isObject(body.stream_options) && body.stream_options.include_usage === true;
}

/** A Content-Length header's value; 0 when absent (a streamed body is counted as it is read). */
export function declaredLength(header: string | undefined): number {
  if (header === undefined) return 0;
  const length = Number(header);
  return Number.isFinite(length) ? length : Infinity;
}

/** The body as text, read until it ends or passes `limit` bytes (then the rest is not read). */
async function readCapped(request: Request, limit: number): Promise<string> {
  if (!request.body) return '';
  // Bytes are copied into one growing buffer: keeping each piece would cost a few hundred bytes
  // per piece, and a chunked body of one-byte chunks arrives as one piece per byte.
  let buffer = Buffer.allocUnsafe(Math.min(limit, 64 * 1024));
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (size + value.length > limit) {
      await reader.cancel().catch(() => undefined);
      throw new GatewayBodyTooLargeError(limit);
    }
    if (size + value.length > buffer.length) {
      const grown = Buffer.allocUnsafe(Math.min(limit, Math.max(2 * buffer.length, size + value.length)));
      buffer.copy(grown, 0, 0, size);
      buffer = grown;
    }
    buffer.set(value, size);
    size += value.length;
  }
  return buffer.toString('utf8', 0, size);
}

/**
 * `readCapped` on a Node message: its chunks as they arrive, until it ends or passes `limit`
 * bytes. Past the limit reading stops and the rest is left to the server, which drains (or,
 * past its own bound, closes) the connection once the answer is sent, as it does for a web
 * body given up; a client that breaks off fails the read.
 */
function readIncomingCapped(incoming: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    /** The only piece so far, kept as it came (the usual case: the whole body in one read). */
    let first: Buffer | undefined;
    /** Once a second piece came: one growing buffer, as in `readCapped`. */
    let buffer: Buffer | undefined;
    let size = 0;
    const done = (): void => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onError);
      incoming.off('close', onClose);
    };
    const onData = (value: Buffer): void => {
      if (size + value.length > limit) {
        done();
        incoming.pause();
        reject(new GatewayBodyTooLargeError(limit));
        return;
      }
      if (size === 0) {
        first = value;
        size = value.length;
        return;
      }
      if (!buffer) {
        buffer = Buffer.allocUnsafe(Math.min(limit, Math.max(64 * 1024, 2 * (size + value.length))));
        (first as Buffer).copy(buffer, 0, 0, size);
        first = undefined;
      } else if (size + value.length > buffer.length) {
        const grown = Buffer.allocUnsafe(Math.min(limit, Math.max(2 * buffer.length, size + value.length)));
        buffer.copy(grown, 0, 0, size);
        buffer = grown;
      }
      buffer.set(value, size);
      size += value.length;
    };
    const onEnd = (): void => {
      done();
      resolve((buffer ?? first)?.toString('utf8', 0, size) ?? '');
    };
    const onError = (error: Error): void => {
      done();
      reject(error);
    };
    const onClose = (): void => {
      done();
      reject(new Error('the client closed the connection before the request body was read'));
    };
    if (incoming.readableEnded) {
      resolve('');
      return;
    }
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onError);
    incoming.on('close', onClose);
  });
}

/** The deepest nesting of arrays and objects in JSON text, counted without parsing it. */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

/** The `model` field, which every generating endpoint requires. */
export function requireModel(body: Json): string {
  if (typeof body.model !== 'string' || body.model === '') throw new GatewayRequestError('"model" is required: the name of the model to use', 'model');
  return body.model;
}

/**
 * Checks every slot and applies redactions in place, then checks the conversation slots joined
 * (a keyword split across two messages is a hit: the model reads them as one text). Returns
 * true when the input is blocked.
 */
export function guardInput(services: GatewayServices, exchange: Exchange, slots: readonly TextSlot[], direction: Direction = 'input'): boolean {
  const caller = exchange.caller;
  if (!caller) return false;
  let blocked = false;
  let redacted = false;
  for (const slot of slots) {
    exchange.noteInput(slot.text);
    const verdict = services.guard.check(slot.text, direction, caller);
    if (verdict.findings.length === 0) continue;
    exchange.inputFindings.push(...verdict.findings);
    if (verdict.action === 'block') blocked = true;
    else if (verdict.action === 'redact') {
      slot.set(verdict.text);
      redacted = true;
    }
  }
  if (!blocked && guardJoined(services, exchange, slots.filter((slot) => slot.conversation), direction)) blocked = true;
  if (blocked) exchange.actions.push('input-blocked');
  else if (redacted) exchange.actions.push('input-redacted');
  if (exchange.inputFindings.some((f) => f.action === 'review')) exchange.actions.push('input-review');
  return blocked;
}

/**
 * The conversation joined: only findings that span a separator are new (the others were found
 * in their own slot). A redaction cannot be split across two messages, so only a block acts.
 */
function guardJoined(services: GatewayServices, exchange: Exchange, slots: readonly TextSlot[], direction: Direction): boolean {
  const caller = exchange.caller;
  if (!caller || slots.length < 2) return false;
  const bounds: number[] = [];
  let joined = '';
  for (const [i, slot] of slots.entries()) {
    if (i > 0) {
      bounds.push(joined.length);
      joined += CONVERSATION_SEPARATOR;
    }
    joined += slot.text;
  }
  const spanning = services.guard.check(joined, direction, caller).findings.filter((f) => bounds.some((at) => f.start <= at && f.end > at));
  exchange.inputFindings.push(...spanning);
  return spanning.some((f) => f.action === 'block');
}

/**
 * The guard models on the input, as the model will read it: every slot's text (after keyword
 * redaction) joined. Run once the keyword guard let the input through. Returns true when the
 * input is blocked (a label the policy blocks, or a fail-closed classifier that failed).
 */
export async function guardInputModels(services: GatewayServices, exchange: Exchange, slots: readonly TextSlot[]): Promise<boolean> {
  const models = services.models;
  const caller = exchange.caller;
  if (!models || !caller) return false;
  const conversation = slots.filter((slot) => slot.conversation && slot.text !== '');
  // What an answer answers, for output classifiers that judge the exchange.
  exchange.prompt = (conversation[conversation.length - 1] ?? slots[slots.length - 1])?.text;
  if (!models.has('input')) return false;
  const text = slots.map((slot) => slot.text).filter((t) => t !== '').join('\n\n');
  if (text === '') return false;
  const verdict = await models.check(text, 'input', caller);
  noteModelVerdict(exchange, 'input', verdict);
  if (verdict.action === 'block') {
    exchange.actions.push('input-blocked');
    return true;
  }
  if (verdict.action === 'review' && !exchange.actions.includes('input-review')) exchange.actions.push('input-review');
  return false;
}

/** The guard models on one whole answer text; true when it is blocked. */
export async function guardOutputModels(services: GatewayServices, exchange: Exchange, text: string): Promise<boolean> {
  const models = services.models;
  const caller = exchange.caller;
  if (!models?.has('output') || !caller || text === '') return false;
  const verdict = await models.check(text, 'output', caller, exchange.prompt);
  noteModelVerdict(exchange, 'output', verdict);
  return verdict.action === 'block';
}

/** Records a model verdict on the exchange: its labels as findings, its failures as actions. */
export function noteModelVerdict(exchange: Exchange, direction: Direction, verdict: ModelVerdict): void {
  (direction === 'input' ? exchange.inputFindings : exchange.outputFindings).push(...verdict.findings);
  for (const failure of verdict.failures) {
    exchange.classifierFailures.push({ direction, ...failure });
    const action = failure.onFailure === 'closed' ? 'classifier-unavailable' : 'classifier-degraded';
    if (!exchange.actions.includes(action)) exchange.actions.push(action);
  }
}

/**
 * Resolves the model's upstreams (balanced by weight, then fallbacks: ./upstream) and notes
 * the first on the exchange; `callUpstream` goes down the list when one cannot answer.
 */
export function routeModel(services: GatewayServices, exchange: Exchange, model: string): Upstream {
  exchange.model = model;
  // A virtual key's own limits: the models it may call, its token and spend budgets (./budgets).
  const key = exchange.caller?.key;
  if (key && !keyAllowsModel(key, model)) throw new GatewayModelNotAllowedError(model);
  checkKeyBudgets(services.config, exchange, model);
  const route = services.router.route(model);
  const upstream = route[0] as Upstream;
  exchange.route = route;
  exchange.upstream = upstream.name;
  return upstream;
}

/** Statuses after which the next upstream of the route is tried: it may answer where this one could not. */
const FALLBACK_STATUSES = new Set([401, 403, 408, 429, 500, 502, 503, 504]);

/**
 * Posts `body` to the upstream and returns the answer when it is 2xx (for a stream request:
 * 2xx and an event stream). An upstream that cannot be reached, timed out, or answered a
 * status in FALLBACK_STATUSES after its own retries hands the request to the next upstream of
 * the route (nothing has reached the client yet); the last one's failure is raised
 * (`upstreamFailure`). `response.upstream` says which one answered.
 */
export async function callUpstream(first: Upstream, exchange: Exchange, path: string, body: Json, call: UpstreamCall): Promise<UpstreamResponse> {
  const route = exchange.route.length > 0 ? exchange.route : [first];
  const payload = JSON.stringify(body);
  let response: UpstreamResponse | undefined;
  for (const [i, upstream] of route.entries()) {
    const last = i === route.length - 1;
    if (i > 0) {
      exchange.upstream = upstream.name;
      if (!exchange.actions.includes('upstream-fallback')) exchange.actions.push('upstream-fallback');
    }
    const traced = startUpstreamSpan(exchange.trace?.context, upstream.name, path);
    try {
      response = await upstream.send(path, { method: 'POST', body: payload, headers: traced.headers }, call);
      endSpan(traced.span, response.status);
    } catch (error) {
      endSpan(traced.span, null, { 'error.type': (error as Error).name });
      // A timeout spent the request's time and a cancelled call has nobody to answer: only an
      // unreachable upstream hands over.
      if (last || call.signal.aborted) throw error;
      continue;
    }
    if (response.ok || last || !FALLBACK_STATUSES.has(response.status)) break;
    response.discard();
  }
  response = response as UpstreamResponse;
  const upstream = response.upstream;
  exchange.upstreamStatus = response.status;
  if (!response.ok) throw await upstreamFailure(upstream, response, call);
  if (body.stream === true && !isEventStream(response.header('content-type'))) {
    // An HTML error page or a whole JSON answer with status 200 (a proxy in between, a server
    // that ignores `stream`) is no stream: relayed as one, it would end empty and pass.
    const type = response.header('content-type') ?? 'no content type';
    response.discard();
    call.end();
    throw new GatewayUpstreamError(`the upstream "${upstream.name}" answered a stream request with ${type}, not an event stream`, { upstreamStatus: response.status });
  }
  return response;
}

function isEventStream(contentType: string | undefined): boolean {
  return contentType?.split(';')[0]?.trim().toLowerCase() === 'text/event-stream';
}

/** Upstream headers a client backs off by; passed on with the upstream's error. */
const BACKOFF_HEADERS = ['retry-after', 'retry-after-ms'];

/**
 * The error for an upstream's non-2xx answer. A 4xx is passed on as the upstream said it:
 * status, `type`, `code`, `param` and `Retry-After`, which client code branches on. A 401 or
 * 403 is the upstream refusing hegui's own credentials, not the client's: a 502 naming that,
 * without the upstream's words (they may quote hegui's key). A 5xx becomes 502, keeping
 * `Retry-After`.
 */
async function upstreamFailure(upstream: Upstream, response: UpstreamResponse, call: UpstreamCall): Promise<GatewayUpstreamError | GatewayUpstreamRejectedError> {
  const text = await response.text().catch(() => '');
  call.end();
  const status = response.status;
  const headers: Record<string, string> = {};
  for (const name of BACKOFF_HEADERS) {
    const value = response.header(name);
    if (value !== undefined) headers[name] = value;
  }
  if (status === 401 || status === 403) {
    // The operator's fix, not the client's: say so where the operator looks (status only, no body).
    console.error(`gateway: the upstream "${upstream.name}" answered HTTP ${status} to hegui's credentials; check its apiKey/apiKeyEnv`);
    return new GatewayUpstreamError(`the upstream "${upstream.name}" refused hegui's credentials (HTTP ${status}); check the API key configured for this upstream`, { upstreamStatus: status, auth: true });
  }
  let detail: Json = {};
  try {
    const parsed = JSON.parse(text) as unknown;
    if (isObject(parsed) && isObject(parsed.error)) detail = parsed.error;
  } catch {
    // Not JSON: the raw text (cut) is the message.
  }
  const message = typeof detail.message === 'string' ? detail.message : text.slice(0, 500);
  if (status >= 400 && status < 500) {
    const type = typeof detail.type === 'string' ? detail.type : status === 429 ? 'rate_limit_error' : 'invalid_request_error';
    return new GatewayUpstreamRejectedError(`the upstream "${upstream.name}" refused the request: ${message}`, {
      status,
      type,
      code: typeof detail.code === 'string' ? detail.code : null,
      param: typeof detail.param === 'string' ? detail.param : null,
      headers,
    });
  }
  return new GatewayUpstreamError(`the upstream "${upstream.name}" failed with HTTP ${status}: ${message}`, { upstreamStatus: status, headers });
}

/** A new upstream call tied to the client's connection. */
export function newCall(req: HonoRequest, services: GatewayServices): UpstreamCall {
  return new UpstreamCall(requestBindings(req.raw)?.connection ?? req.raw.signal, services.inflight.shutdownSignal);
}

/** The upstream's JSON answer, read whole within the call's timeout. */
export async function readUpstreamJson(upstream: Upstream, response: UpstreamResponse, call: UpstreamCall): Promise<Json> {
  let text: string;
  try {
    text = await response.text();
  } catch (cause) {
    throw call.signal.aborted ? call.failure(upstream.name, cause) : new GatewayUpstreamError(`the upstream "${upstream.name}" broke off its answer`, { cause });
  } finally {
    call.end();
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (isObject(parsed)) return parsed;
  } catch {
    // Reported below.
  }
  throw new GatewayUpstreamError(`the upstream "${upstream.name}" answered with something other than a JSON object`);
}
