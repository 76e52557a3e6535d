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
import { NotFoundError } from '../errors.js';
import type { Store } from '../store/index.js';
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

/** A user or operator the audit log can be asked about, resolved from what a person typed. */
export interface ResolvedAuditSubject extends AuditSubject {
  /** The account name, when the subject is a known user or operator. */
  name: string;
}

/**
 * Resolves a user given by name, pseudonym or `user:<pseudonym>`, or an operator given as
 * `operator:<id or name>`, against the store.
 *
 * @throws NotFoundError E_AUDIT_UNKNOWN_SUBJECT when no such user or operator exists, so an
 *   export for a mistyped name fails loudly instead of writing an empty package.
 */
export async function resolveAuditSubject(store: Store, text: string): Promise<ResolvedAuditSubject> {
  const trimmed = text.trim();
  if (trimmed.startsWith('operator:')) {
    const key = trimmed.slice('operator:'.length);
    const operator = (await store.operators.findById(key)) ?? (await store.operators.findByName(key));
    if (operator) return { ...auditSubject(`operator:${operator.id}`), name: operator.name };
  } else {
    const bare = trimmed.startsWith('user:') ? trimmed.slice('user:'.length) : trimmed;
    // A name first (what people type), then a pseudonym (what the log and the exports show).
    const user = (await store.gatewayUsers.findByName(trimmed)) ?? (bare === '' ? undefined : await store.gatewayUsers.findById(bare));
    if (user) return { ...auditSubject(`user:${user.id}`), name: user.name };
  }
  throw new NotFoundError('E_AUDIT_UNKNOWN_SUBJECT', `no user or operator "${text}": give a user's name or pseudonym (\`hegui users list\`), or operator:<name>`);
}
