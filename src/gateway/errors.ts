/**
 * @module gateway/errors
 * Errors the gateway raises on purpose. Each carries a stable `code` (`E_GATEWAY_...`), the
 * HTTP status an API client receives, and the OpenAI error `type` and `code`, so that
 * unchanged OpenAI clients see the error shape they already handle:
 * `{"error": {"message", "type", "param", "code"}}`.
 */
import { HeguiError, InvalidInputError } from '../errors.js';

/** The `error` object of an OpenAI error response. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** An error answered to an API client: HTTP status and OpenAI error type. */
export class GatewayError extends HeguiError {
  readonly status: number;
  /** OpenAI's `error.type`, e.g. `invalid_request_error`. */
  readonly type: string;
  readonly param: string | null;
  /** Headers of the error answer, e.g. `Retry-After`. */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * The `error.code` the client reads, when it is not the gateway's own `code`: an upstream's
   * code passed on as it said it (`context_length_exceeded`), or null when it gave none.
   */
  readonly clientCode: string | null;

  constructor(code: string, message: string, options: { status: number; type: string; param?: string | null; cause?: unknown; exitCode?: number; headers?: Record<string, string>; clientCode?: string | null }) {
    super(code, message, { cause: options.cause, exitCode: options.exitCode ?? (options.status < 500 ? 2 : 1) });
    this.status = options.status;
    this.type = options.type;
    this.param = options.param ?? null;
    this.headers = options.headers ?? {};
    this.clientCode = options.clientCode === undefined ? code : options.clientCode;
  }

  /** The body an OpenAI client parses. */
  toBody(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.clientCode } };
  }
}

/**
 * The server is stopping: a request that arrives while it drains, or a stream still running at
 * the drain deadline (503; clients retry it on another replica).
 */
export class GatewayShuttingDownError extends GatewayError {
  constructor(message = 'the server is shutting down; send the request again (another replica will take it)') {
    super('E_GATEWAY_SHUTTING_DOWN', message, { status: 503, type: 'server_error', headers: { 'retry-after': '1' } });
  }
}

/** No or an unknown API key (401). */
export class GatewayAuthError extends GatewayError {
  constructor(message: string) {
    super('E_GATEWAY_AUTH', message, { status: 401, type: 'authentication_error' });
  }
}

/** The API key may not call this model (its allow-list). */
export class GatewayModelNotAllowedError extends GatewayError {
  constructor(model: string) {
    super('E_GATEWAY_MODEL_NOT_ALLOWED', `this API key may not call the model "${model}"; ask the operator for a key that may, or use one of the models the key lists`, { status: 403, type: 'permission_error', param: 'model' });
  }
}

/** The API key's token budget is spent (OpenAI's `insufficient_quota`). */
export class GatewayBudgetError extends GatewayError {
  constructor(budget: number, used: number) {
    super('E_GATEWAY_BUDGET_EXHAUSTED', `this API key has used ${used} of its ${budget} tokens; ask the operator to raise its budget or for a new key`, { status: 429, type: 'insufficient_quota' });
  }
}

/**
 * The API key's spend budget is spent (429, OpenAI's `insufficient_quota`): what its requests
 * cost, priced from the upstream's usage, reached the budget.
 */
export class GatewaySpendError extends GatewayError {
  constructor(spent: string, budget: string, currency: string) {
    super('E_GATEWAY_SPEND_EXHAUSTED', `this API key's spend budget is used up: it has spent ${spent} of its ${budget} ${currency}; ask the operator to raise its budget or for a new key`, { status: 429, type: 'insufficient_quota' });
  }
}

/**
 * A key with a spend budget asked for something whose cost the gateway cannot count (403):
 * a model without a price in the budget's currency, or an endpoint that reports no token
 * usage. An unknown price is refused, never counted as free.
 */
export class GatewayPriceUnknownError extends GatewayError {
  constructor(message: string, param: string | null = 'model') {
    super('E_GATEWAY_PRICE_UNKNOWN', message, { status: 403, type: 'permission_error', param });
  }
}

/** A request body the gateway cannot use (400). */
export class GatewayRequestError extends GatewayError {
  constructor(message: string, param?: string) {
    super('E_GATEWAY_BAD_REQUEST', message, { status: 400, type: 'invalid_request_error', ...(param ? { param } : {}) });
  }
}

/**
 * A request body larger than `limits.bodyBytes` (413). Refused from its declared length before
 * a byte is read, or as soon as a streamed body passes the limit.
 */
export class GatewayBodyTooLargeError extends GatewayError {
  constructor(limit: number) {
    super('E_GATEWAY_BODY_TOO_LARGE', `the request body is larger than ${limit} bytes (limits.bodyBytes); send less, or raise the limit in the gateway's configuration`, { status: 413, type: 'invalid_request_error' });
  }
}

/** No upstream serves the model asked for (404, as OpenAI answers an unknown model). */
export class GatewayModelError extends GatewayError {
  constructor(model: string) {
    super('E_GATEWAY_MODEL_NOT_FOUND', `the model "${model}" is not served here; GET /v1/models lists the models this gateway serves`, {
      status: 404,
      type: 'invalid_request_error',
      param: 'model',
    });
  }
}

/**
 * The service requires verified real identity and the user has none (403): Deep Synthesis
 * Provisions Art. 9 and the Cybersecurity Law's real-name rule (Art. 24).
 */
export class GatewayUnverifiedError extends GatewayError {
  constructor(message: string) {
    super('E_GATEWAY_IDENTITY_UNVERIFIED', message, { status: 403, type: 'permission_error' });
  }
}

/** The user is suspended (403) after repeated illegal content (AI Measures Art. 14). */
export class GatewaySuspendedError extends GatewayError {
  constructor(message: string) {
    super('E_GATEWAY_USER_SUSPENDED', message, { status: 403, type: 'permission_error' });
  }
}

/**
 * Too many requests (429 with `Retry-After`): a plain request rate (`E_GATEWAY_RATE_LIMITED`),
 * a limit imposed after repeated illegal content (`E_GATEWAY_USER_LIMITED`, AI Measures
 * Art. 14), or a minor's daily allowance used up (`E_GATEWAY_DAILY_LIMIT`, Minors Regulations
 * Art. 43).
 */
export class GatewayRateLimitError extends GatewayError {
  readonly retryAfterSeconds: number;

  constructor(code: 'E_GATEWAY_RATE_LIMITED' | 'E_GATEWAY_USER_LIMITED' | 'E_GATEWAY_DAILY_LIMIT', message: string, retryAfterSeconds: number) {
    const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
    super(code, message, { status: 429, type: 'rate_limit_error', headers: { 'retry-after': String(seconds) } });
    this.retryAfterSeconds = seconds;
  }
}

/** The input guard refused the request (400 when configured to answer with an error). */
export class GatewayBlockedError extends GatewayError {
  /** `param` names the request field whose content was blocked. */
  constructor(message: string, param = 'messages') {
    super('E_GATEWAY_CONTENT_BLOCKED', message, { status: 400, type: 'invalid_request_error', param });
  }
}

/**
 * The upstream failed: unreachable, timed out, answered 5xx, broke off, or answered a stream
 * request with something other than an event stream (502/504, `E_GATEWAY_UPSTREAM`); or it
 * refused hegui's own credentials (`E_GATEWAY_UPSTREAM_AUTH`, 502: the client's key was fine,
 * so a 401 would send its author looking in the wrong place). `headers` carries the upstream's
 * `Retry-After`, so a client backs off as the upstream asked.
 */
export class GatewayUpstreamError extends GatewayError {
  /** The upstream's HTTP status, when it answered. */
  readonly upstreamStatus: number | null;

  constructor(message: string, options: { status?: 502 | 504; upstreamStatus?: number; cause?: unknown; auth?: boolean; headers?: Record<string, string> } = {}) {
    super(options.status === 504 ? 'E_GATEWAY_UPSTREAM_TIMEOUT' : options.auth ? 'E_GATEWAY_UPSTREAM_AUTH' : 'E_GATEWAY_UPSTREAM', message, {
      status: options.status ?? 502,
      type: 'api_error',
      cause: options.cause,
      ...(options.headers ? { headers: options.headers } : {}),
    });
    this.upstreamStatus = options.upstreamStatus ?? null;
  }
}

/**
 * The upstream refused the request itself (a 4xx other than 401/403): the client receives the
 * upstream's status, `type`, `code`, `param` and `Retry-After` as the upstream said them, since
 * client code branches on them (`context_length_exceeded` on `messages`, a 429's wait). The
 * gateway's own code, `E_GATEWAY_UPSTREAM_REJECTED`, is what the audit event records.
 */
export class GatewayUpstreamRejectedError extends GatewayError {
  readonly upstreamStatus: number;

  constructor(message: string, options: { status: number; type: string; code: string | null; param: string | null; headers: Record<string, string> }) {
    super('E_GATEWAY_UPSTREAM_REJECTED', message, { status: options.status, type: options.type, param: options.param, clientCode: options.code, headers: options.headers });
    this.upstreamStatus = options.status;
  }
}

/** A gateway configuration file that cannot be used. */
export class GatewayConfigError extends InvalidInputError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_GATEWAY_CONFIG', message, options);
  }
}

/** A signed media URL that is malformed, forged or expired (404, so nothing is revealed). */
export class GatewayMediaError extends GatewayError {
  constructor() {
    super('E_GATEWAY_MEDIA_NOT_FOUND', 'this media link is unknown or has expired; generate the content again', { status: 404, type: 'invalid_request_error' });
  }
}

/**
 * Any error as the OpenAI error body and status a client receives; unexpected ones are hidden.
 * `code` is the gateway's own code, which the audit event records (the body may carry an
 * upstream's code instead).
 */
export function toOpenAIError(error: unknown): { status: number; body: OpenAIErrorBody; headers?: Readonly<Record<string, string>>; code: string } {
  if (error instanceof GatewayError) return { status: error.status, body: error.toBody(), headers: error.headers, code: error.code };
  if (error instanceof HeguiError) {
    const status = error.exitCode === 2 ? 400 : 500;
    return { status, body: { error: { message: error.message, type: status === 400 ? 'invalid_request_error' : 'api_error', param: null, code: error.code } }, code: error.code };
  }
  return { status: 500, body: { error: { message: 'internal error in the gateway; the server log has the details', type: 'api_error', param: null, code: 'E_GATEWAY_INTERNAL' } }, code: 'E_GATEWAY_INTERNAL' };
}
