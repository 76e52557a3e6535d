/**
 * @module store/tables/gateway
 * Tables of the gateway: the users of the OpenAI-compatible API, their API keys (only the
 * SHA-256 of a key is kept), generated media the gateway serves under signed URLs after
 * labeling them, the usage state replicas share, and the sanctions taken against users.
 * Flags are integers (0/1) so that both dialects read them alike.
 */
import type { ColumnType, Selectable } from 'kysely';

export interface GatewayUsersTable {
  id: string;
  /** Unique, chosen by the operator (an account name, not a real name). */
  name: string;
  /** 1 once the user's real identity was verified (Deep Synthesis Provisions Art. 9). */
  verified: number;
  /** 1 when the user is a minor: the stricter policy applies (AI Measures Art. 10). */
  minor: number;
  created_at: string;
  disabled_at: string | null;
}

export interface GatewayApiKeysTable {
  /** SHA-256 of the key, hex; the key itself is shown once and never stored. */
  key_hash: string;
  user_id: string;
  /** The key's first characters, so an operator can tell keys apart. */
  prefix: string;
  created_at: string;
  revoked_at: string | null;
  /** What the key is for, as the operator named it. */
  name: string | null;
  /** ISO 8601 UTC; the key stops working then. */
  expires_at: string | null;
  /** JSON array of model names and `prefix*` the key may call; NULL: any model. */
  models: string | null;
  /** Tokens the key may use in all; NULL: no budget. */
  token_budget: number | string | null;
  /** Tokens counted against the budget so far (PostgreSQL returns a bigint as text). */
  tokens_used: ColumnType<number | string, number | undefined, number | string>;
  /** Money the key may spend in all, in micro-units of `spend_currency` (1 CNY = 1,000,000); NULL: no spend budget. */
  spend_budget: ColumnType<number | string | null, number | null | undefined, number | string | null>;
  /** ISO 4217 code of the spend budget, e.g. `CNY`; NULL without one. */
  spend_currency: ColumnType<string | null, string | null | undefined, string | null>;
  /** What the key's requests have cost so far, in micro-units of `spend_currency`. */
  spend_used: ColumnType<number | string, number | undefined, number | string>;
}

export interface GatewayMediaTable {
  id: string;
  content_type: string;
  bytes: Uint8Array;
  created_at: string;
  expires_at: string;
  /** The gateway user whose request produced it (null for files stored before this was kept). */
  user_id: string | null;
}

/**
 * One row per subject (`user:<id>`, `key:<hash prefix>`): its usage state as JSON, whose shape
 * the gateway owns (rate windows, minors' daily use and session, recent blocks, sanctions in
 * force). Rows are read-modify-written under a row lock, so several replicas share them.
 */
export interface GatewayUsageTable {
  subject: string;
  state: string;
  updated_at: string;
}

/** Every warning, limit and suspension of a user (AI Measures Art. 14: keep records). */
export interface GatewaySanctionsTable {
  id: string;
  user_id: string;
  /** `warn`, `limit` or `suspend`. */
  action: string;
  /** Why, in words, e.g. "5 blocked requests within 60 minutes". */
  reason: string;
  /** Blocked requests counted when the sanction was taken. */
  blocks: number;
  window_seconds: number;
  created_at: string;
  /** When a limit or suspension ends by itself; null: a warning, or until an operator lifts it. */
  until: string | null;
  lifted_at: string | null;
  /** Who lifted it, e.g. `system:cli`. */
  lifted_by: string | null;
}

export interface GatewayTables {
  gateway_users: GatewayUsersTable;
  gateway_api_keys: GatewayApiKeysTable;
  gateway_media: GatewayMediaTable;
  gateway_usage: GatewayUsageTable;
  gateway_sanctions: GatewaySanctionsTable;
}

export type GatewayUserRow = Selectable<GatewayUsersTable>;
export type GatewaySanctionRow = Selectable<GatewaySanctionsTable>;
