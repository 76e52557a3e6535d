/**
 * @module store/errors
 */
import { HeguiError } from '../errors.js';

/** The database could not be opened, reached or migrated. */
export class StoreUnavailableError extends HeguiError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_STORE_UNAVAILABLE', message, options);
  }
}

/** A write conflicts with what is stored (a duplicate name, a stale version). */
export class StoreConflictError extends HeguiError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_STORE_CONFLICT', message, { ...options, exitCode: 2 });
  }
}
