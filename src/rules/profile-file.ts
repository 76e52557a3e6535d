/**
 * @module rules/profile-file
 * Reads a service profile written in YAML or JSON, reporting every problem by field.
 */
import { parseDocument } from 'yaml';
import { InvalidInputError } from '../errors.js';
import { describeIssues } from '../validation.js';
import { type ServiceProfile, serviceProfile } from './profile.js';

/** A profile that does not parse or does not match the schema; `problems` name each field. */
export class InvalidProfileError extends InvalidInputError {
  readonly problems: readonly string[];
  constructor(source: string, problems: readonly string[]) {
    super('E_PROFILE_INVALID', `${source} is not a valid service profile:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}

/**
 * Parses a profile (YAML, or JSON, which is YAML too). `source` names it in messages.
 *
 * @example
 * const profile = parseServiceProfile(readFileSync('profile.yaml', 'utf8'), 'profile.yaml');
 */
export function parseServiceProfile(text: string, source = 'profile'): ServiceProfile {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new InvalidProfileError(source, doc.errors.map((e) => `YAML syntax: ${e.message.split('\n')[0] ?? e.code}`));
  }
  return validateServiceProfile(doc.toJS() as unknown, source);
}

/** Validates an already-parsed profile object. */
export function validateServiceProfile(value: unknown, source = 'profile'): ServiceProfile {
  const result = serviceProfile.safeParse(value, { reportInput: true });
  if (!result.success) throw new InvalidProfileError(source, describeIssues(result.error));
  return result.data;
}
