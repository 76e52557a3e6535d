/**
 * @module rules/profile-file
 * Reads a service profile written in YAML or JSON, reporting every problem by field, and
 * upgrades the values earlier versions of hegui wrote (with a note saying what to write now).
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

/** A parsed profile and the deprecation notes for old values it upgraded. */
export interface ParsedProfile {
  profile: ServiceProfile;
  notes: string[];
}

const ENTERPRISE =
  'service.audience: "enterprise" is no longer accepted, because it mixed cases the law treats apart: ' +
  'write business-api if other businesses use the service or build on the model (AI Measures Art. 22 counts an API as providing the service; ' +
  'Deep Synthesis Art. 2 binds technical supporters), or in-house if only your own staff use it';

/** Rewrites values of earlier profile versions in place; returns notes and hard problems. */
function upgrade(value: unknown): { notes: string[]; problems: string[] } {
  const notes: string[] = [];
  const problems: string[] = [];
  const service = (value as { service?: Record<string, unknown> } | null)?.service;
  if (service === null || typeof service !== 'object') return { notes, problems };
  if (service.audience === 'internal') {
    service.audience = 'in-house';
    notes.push('service.audience: "internal" is deprecated; write in-house');
  } else if (service.audience === 'enterprise') {
    problems.push(ENTERPRISE);
  }
  if (service.model === 'third-party-filed') {
    service.model = 'third-party';
    if (service.modelFiled === undefined) service.modelFiled = true;
    notes.push('service.model: "third-party-filed" is deprecated; write model: third-party and modelFiled: true');
  }
  return { notes, problems };
}

/**
 * Parses a profile (YAML, or JSON, which is YAML too), with notes for deprecated values.
 * `source` names it in messages.
 *
 * @example
 * const { profile, notes } = readServiceProfile(readFileSync('profile.yaml', 'utf8'), 'profile.yaml');
 */
export function readServiceProfile(text: string, source = 'profile'): ParsedProfile {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new InvalidProfileError(source, doc.errors.map((e) => `YAML syntax: ${e.message.split('\n')[0] ?? e.code}`));
  }
  return checkServiceProfile(doc.toJS() as unknown, source);
}

/** Parses a profile and drops the deprecation notes (see {@link readServiceProfile}). */
export function parseServiceProfile(text: string, source = 'profile'): ServiceProfile {
  return readServiceProfile(text, source).profile;
}

/** Validates an already-parsed profile object, upgrading deprecated values. */
export function checkServiceProfile(value: unknown, source = 'profile'): ParsedProfile {
  const copy = structuredClone(value);
  const { notes, problems } = upgrade(copy);
  const result = serviceProfile.safeParse(copy, { reportInput: true });
  const all = [...problems, ...(result.success ? [] : describeIssues(result.error).filter((p) => !(problems.length > 0 && p.startsWith('service.audience:'))))];
  if (all.length > 0 || !result.success) throw new InvalidProfileError(source, all);
  return { profile: result.data, notes };
}

/** Validates an already-parsed profile object. */
export function validateServiceProfile(value: unknown, source = 'profile'): ServiceProfile {
  return checkServiceProfile(value, source).profile;
}
