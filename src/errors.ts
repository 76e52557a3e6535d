/**
 * @module errors
 * The root of every error hegui raises on purpose. Each subclass carries a stable `code`
 * that scripts can test for, a message a person can act on, and the exit status the CLI
 * uses when the error reaches it. Stack traces are for developers, never printed to users.
 */

/** Exit statuses shared by every command. */
export const ExitCode = {
  ok: 0,
  /** The command ran and found a failure (a file failed, a check did not pass). */
  failure: 1,
  /** The input was wrong: bad arguments, an invalid profile, a malformed file. */
  usage: 2,
} as const;

export class HeguiError extends Error {
  /** Stable machine-readable code, e.g. `E_PROFILE_INVALID`. */
  readonly code: string;
  /** Exit status the CLI returns when this error ends a command. */
  readonly exitCode: number;

  constructor(code: string, message: string, options?: { cause?: unknown; exitCode?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = options?.exitCode ?? ExitCode.failure;
  }
}

/** The caller handed us something we cannot use (bad argument, invalid document). */
export class InvalidInputError extends HeguiError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, { ...options, exitCode: ExitCode.usage });
  }
}

/** A file or resource the caller named does not exist or cannot be read. */
export class NotFoundError extends HeguiError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, { ...options, exitCode: ExitCode.usage });
  }
}
