/**
 * @module audit/resolve
 * From what an auditor typed (a user's name, a pseudonym, `operator:<name>`) to the subject
 * whose events `audit/subjects` selects.
 */
import { NotFoundError } from '../errors.js';
import type { Store } from '../store/index.js';
import { listAuditEvents } from './query.js';
import { type AuditSubject, auditSubject } from './subjects.js';

/** A user or operator the audit log can be asked about, resolved from what a person typed. */
export interface ResolvedAuditSubject extends AuditSubject {
  /** The account name; the subject itself for a pseudonym only the log still knows. */
  name: string;
}

/**
 * Resolves a user given by name, pseudonym or `user:<pseudonym>`, or an operator given as
 * `operator:<id or name>`, against the store.
 *
 * A pseudonym no account has any more is accepted when the log has events about it.
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
  // A pseudonym the store no longer knows (an erased account) but the log does.
  const logged = trimmed.includes(':') ? trimmed : `user:${trimmed}`;
  if (/^(user|operator):[^\s]{1,200}$/.test(logged) && (await listAuditEvents(store, { subject: logged, limit: 1 })).events.length > 0) {
    return { ...auditSubject(logged), name: logged };
  }
  throw new NotFoundError('E_AUDIT_UNKNOWN_SUBJECT', `no user or operator "${text}": give a user's name or pseudonym (\`hegui users list\`), or operator:<name>`);
}
