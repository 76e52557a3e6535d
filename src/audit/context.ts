/**
 * @module audit/context
 * What the operations of an `AuditLog` (verify, purge, export, queries) share.
 */
import type { Store } from '../store/index.js';
import type { AuditContentKeyring } from './content.js';
import type { AuditEventInput } from './event.js';
import type { AuditSigningKey } from './signing.js';

/** An event once stored: its place in the chain. */
export interface AppendedAuditEvent {
  seq: number;
  hash: string;
  /** ISO 8601 UTC time recorded for it. */
  at: string;
  /** Whether its content was kept (encrypted) under the content policy. */
  contentKept: boolean;
}

export interface AuditContext {
  readonly store: Store;
  readonly contentKeys: AuditContentKeyring | undefined;
  readonly signingKey: AuditSigningKey | undefined;
  readonly retentionMonths: number;
  readonly clock: () => Date;
  append(event: AuditEventInput): Promise<AppendedAuditEvent>;
}
