/**
 * @module label/thread-error
 * Errors across worker threads (the `label embed` and `label visible` pools): an error's class
 * does not survive structured cloning, so a thread sends a plain record (`toThreadError`) and
 * the main thread makes the error again (`fromThreadError`) with its code, exit code and name,
 * and as an `UnsupportedFormatError` where that is what it was, so a batch still tells a skip
 * from a failure.
 */
import { HeguiError } from '../errors.js';
import { UnsupportedFormatError } from './errors.js';

/** An error as it crosses threads. */
export interface ThreadError {
  name: string;
  message: string;
  code?: string;
  exitCode?: number;
}

/** The record of `error` a thread sends back. */
export function toThreadError(error: unknown): ThreadError {
  if (error instanceof HeguiError) return { name: error.name, message: error.message, code: error.code, exitCode: error.exitCode };
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'Error', message: String(error) };
}

/** The error a thread sent back, as the main thread's class. */
export function fromThreadError(error: ThreadError): Error {
  if (error.code === undefined) {
    const plain = new Error(error.message);
    plain.name = error.name;
    return plain;
  }
  const rebuilt = error.code === 'E_LABEL_UNSUPPORTED_FORMAT' ? new UnsupportedFormatError() : new HeguiError(error.code, error.message, error.exitCode === undefined ? undefined : { exitCode: error.exitCode });
  rebuilt.message = error.message;
  rebuilt.name = error.name;
  return rebuilt;
}
