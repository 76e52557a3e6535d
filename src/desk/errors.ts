/**
 * @module desk/errors
 * Errors of the compliance desk. Each carries the HTTP status its route answers with.
 */
import { HeguiError } from '../errors.js';

export class DeskError extends HeguiError {
  readonly httpStatus: 400 | 403 | 404 | 409 | 413 | 415 | 429 | 503;

  constructor(code: string, message: string, httpStatus: DeskError['httpStatus'], options?: { cause?: unknown; retryAfterSeconds?: number }) {
    super(code, message, { ...(options?.cause === undefined ? {} : { cause: options.cause }), exitCode: 2 });
    this.httpStatus = httpStatus;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }

  readonly retryAfterSeconds: number | undefined;
}

/** The input is malformed or out of range. */
export class DeskInputError extends DeskError {
  constructor(code: string, message: string) {
    super(code, message, 400);
  }
}

/** A state change the workflow does not allow from the case's state. */
export class DeskTransitionError extends DeskError {
  readonly from: string;
  readonly to: string;

  constructor(from: string, to: string, allowed: readonly string[]) {
    super('E_DESK_TRANSITION', `a case cannot go from ${from} to ${to}; from ${from} it can go to ${allowed.length > 0 ? allowed.join(', ') : 'nothing (the case is closed)'}`, 409);
    this.from = from;
    this.to = to;
  }
}

/** No such case, or not one the caller may see (never says which). */
export class DeskNotFoundError extends DeskError {
  constructor(what = 'case') {
    super('E_DESK_NOT_FOUND', `no such ${what}, or the link is not valid`, 404);
  }
}

/** Too many requests from one address or for one contact; or the proof of work is missing. */
export class DeskRateLimitError extends DeskError {
  constructor(message: string, retryAfterSeconds: number) {
    super('E_DESK_RATE_LIMITED', message, 429, { retryAfterSeconds });
  }
}

/** A wrong, expired or used-up one-time code. */
export class DeskCodeError extends DeskError {
  constructor(code: 'E_DESK_CODE_WRONG' | 'E_DESK_CODE_EXPIRED' | 'E_DESK_CODE_EXHAUSTED', message: string) {
    super(code, message, code === 'E_DESK_CODE_WRONG' ? 400 : 409);
  }
}

/** An upload too large or not of an accepted type. */
export class DeskUploadError extends DeskError {
  constructor(code: 'E_DESK_UPLOAD_TOO_LARGE' | 'E_DESK_UPLOAD_TYPE' | 'E_DESK_UPLOAD_COUNT', message: string) {
    super(code, message, code === 'E_DESK_UPLOAD_TOO_LARGE' ? 413 : code === 'E_DESK_UPLOAD_TYPE' ? 415 : 409);
  }
}

/** The action needs something the case does not have yet (a verified contact, the subject port). */
export class DeskPreconditionError extends DeskError {
  constructor(code: string, message: string) {
    super(code, message, 409);
  }
}
