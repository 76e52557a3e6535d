/**
 * @module safety/errors
 * Errors the safety engine raises on purpose, each with a stable code.
 */
import { HeguiError, InvalidInputError } from '../errors.js';

/** A keyword library (file, import or object) that cannot be used as it is. */
export class KeywordLibraryError extends InvalidInputError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_SAFETY_LIBRARY_INVALID', message, options);
  }
}

/** A safety policy with an unknown risk, action or user class. */
export class SafetyPolicyError extends InvalidInputError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_SAFETY_POLICY_INVALID', message, options);
  }
}

/** A misuse of the incremental scanner (feeding after `end()`). */
export class ScannerStateError extends HeguiError {
  constructor(message: string) {
    super('E_SAFETY_SCANNER_STATE', message);
  }
}

/** A model-based classifier that could not give a verdict (HTTP error, timeout, bad reply). */
export class ClassifierError extends HeguiError {
  /** The classifier's name, as configured. */
  readonly classifier: string;

  constructor(classifier: string, message: string, options?: { cause?: unknown }) {
    super('E_SAFETY_CLASSIFIER_FAILED', `classifier "${classifier}": ${message}`, options);
    this.classifier = classifier;
  }
}
