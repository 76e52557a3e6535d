/**
 * @module store/tables/audit
 * Tables of the audit log (issue 6): the hash-chained events, an index of their risks for the
 * dashboard, the chain head that serialises writers, and the signed checkpoints that retention
 * purges leave behind. Times are ISO 8601 UTC strings; 64-bit integers arrive from PostgreSQL
 * as strings (node-postgres keeps `bigint` exact), so the repository converts them.
 */
import type { ColumnType } from 'kysely';

/** A 64-bit integer: written as a number, read back as a number (SQLite) or a string (PostgreSQL). */
export type Int64 = ColumnType<number | string, number, number>;

/** `prev_hash` of the first event ever written: 64 zeros (SHA-256 length in hex). */
export const AUDIT_GENESIS_HASH = '0'.repeat(64);

export interface AuditEventsTable {
  /** Gap-free, assigned in commit order under the chain-head lock. */
  seq: Int64;
  at: string;
  type: string;
  actor: string;
  outcome: string | null;
  /** JSON array of risk codes, sorted, as hashed. */
  risks: string;
  /** Canonical JSON object, as hashed. */
  payload: string;
  /** AES-256-GCM: 12-byte IV, ciphertext, 16-byte tag. */
  content: Buffer | null;
  /** SHA-256 (hex) of `content`; hashed into the chain so content may be checked on its own. */
  content_sha256: string | null;
  content_key_id: string | null;
  /**
   * The tombstone left when the content was removed at a person's request (JSON: request, by,
   * at, event); null otherwise. Not hashed: `verify` checks it against its `audit.redact` event.
   */
  redaction: string | null;
  prev_hash: string;
  hash: string;
}

/** One row per (event, risk): what the dashboard filters and counts by. Rebuilt from events, never hashed. */
export interface AuditEventRisksTable {
  seq: Int64;
  risk: string;
  at: string;
  type: string;
  outcome: string | null;
}

/** The single row (id 1) naming the last event written; every append locks it first. */
export interface AuditHeadTable {
  id: number;
  seq: Int64;
  hash: string;
}

/** Written by each purge, signed, so the remaining chain provably continues the purged one. */
export interface AuditCheckpointsTable {
  /** Sequence number of the last purged event. */
  seq: Int64;
  /** Hash of the last purged event. */
  hash: string;
  /** Sequence number of the first event this purge removed. */
  first_seq: Int64;
  purged_before: string;
  created_at: string;
  key_id: string;
  /** Ed25519 public key, SubjectPublicKeyInfo PEM. */
  public_key: string;
  /** base64 Ed25519 signature over the checkpoint statement. */
  signature: string;
}

export interface AuditTables {
  audit_events: AuditEventsTable;
  audit_event_risks: AuditEventRisksTable;
  audit_head: AuditHeadTable;
  audit_checkpoints: AuditCheckpointsTable;
}
