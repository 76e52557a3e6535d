/**
 * @module corpus/errors
 * Errors of the corpus tools: bad options and paths are the caller's (exit 2); a state change
 * the registry refuses is a conflict the operator must resolve (exit 2 too: the input was wrong).
 */
import { HeguiError, InvalidInputError } from '../errors.js';

/** A corpus option, path or document the caller gave cannot be used. */
export class CorpusInputError extends InvalidInputError {}

/** The registry refuses a change (approval without a passing scan, a transition without a reason). */
export class CorpusStateError extends InvalidInputError {}

/** A distributed scan could not go on (its job is gone, its lease table disagrees). */
export class CorpusJobError extends HeguiError {}
