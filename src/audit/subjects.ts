/**
 * @module audit/subjects
 * The one rule for "the events about someone", shared by `hegui users history`, the
 * dashboard's user history and `hegui audit export --user`: an event is about subject
 * `kind:id` (`user:<pseudonym>`, `operator:<id>`) when
 *
 * - its actor is that subject (the user's own requests, the operator's own sign-ins), or
 * - its payload's top-level `user` (for a user) or `operator` (for an operator) field names
 *   the subject, bare (`u_5Yb2kQ`) or prefixed (`user:u_5Yb2kQ`), whoever wrote the event:
 *   sanctions the gateway takes (`system:gateway`), lifts by an operator or the CLI, exports
 *   of the user's events, password changes made from the CLI.
 *
 * Payloads are canonical JSON (keys sorted, no spaces), so the store can narrow the search
 * with a substring test; `isAbout` then decides exactly.
 */
import { AuditQueryError } from './errors.js';
import type { JsonObject } from './event.js';

/** The rule in words, recorded in export manifests. */
export const SUBJECT_RULE = 'an event is about kind:id when its actor is kind:id, or its payload\'s top-level "user" (for users) or "operator" (for operators) field is id or kind:id';

/** The payload field that names a subject of each kind. */
const FIELD: Readonly<Record<string, string>> = { user: 'user', operator: 'operator' };

const SUBJECT = /^([a-z][a-z0-9_]*):([^\s]{1,200})$/;

export interface AuditSubject {
  /** `kind:id`, e.g. `user:u_5Yb2kQ`. */
  subject: string;
  kind: string;
  id: string;
}

/** Parses `kind:id`; a bare id means a user. @throws AuditQueryError */
export function auditSubject(text: string): AuditSubject {
  const full = text.includes(':') ? text : `user:${text}`;
  const match = SUBJECT.exec(full);
  if (!match) throw new AuditQueryError(`"${text}" is not a subject: use user:<pseudonym> or operator:<id>`);
  return { subject: full, kind: match[1]!, id: match[2]! };
}

/** Whether an event is about `subject` under the shared rule. */
export function isAbout(event: { actor: string; payload: JsonObject }, subject: AuditSubject): boolean {
  if (event.actor === subject.subject) return true;
  const field = FIELD[subject.kind];
  if (field === undefined) return false;
  const named = event.payload[field];
  return named === subject.id || named === subject.subject;
}

/** What the store narrows by before `isAbout` decides: the actor, and substrings of the canonical payload. */
export function subjectPrefilter(subject: AuditSubject): { actor: string; payloadContains: string[] } {
  const field = FIELD[subject.kind];
  return {
    actor: subject.subject,
    payloadContains: field === undefined ? [] : [`"${field}":${JSON.stringify(subject.id)}`, `"${field}":${JSON.stringify(subject.subject)}`],
  };
}

