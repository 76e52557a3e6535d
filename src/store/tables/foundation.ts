/**
 * @module store/tables/foundation
 * Tables of the foundation: operators who sign in to the dashboard, their sessions, and
 * service-wide settings. Times are ISO 8601 UTC strings in both dialects (they sort as text).
 */
import type { Generated, Insertable, Selectable } from 'kysely';

export type OperatorRole = 'admin' | 'reviewer' | 'auditor';

export interface OperatorsTable {
  id: string;
  name: string;
  role: OperatorRole;
  /** scrypt hash, `scrypt$N$r$p$salt$hash` in base64url; null until a password is set. */
  password_hash: string | null;
  created_at: string;
  disabled_at: string | null;
}

export interface OperatorSessionsTable {
  /** SHA-256 of the session token; the token itself lives only in the browser's cookie. */
  token_hash: string;
  operator_id: string;
  created_at: string;
  expires_at: string;
}

export interface SettingsTable {
  key: string;
  /** JSON text. */
  value: string;
  updated_at: string;
  version: Generated<number>;
}

export interface FoundationTables {
  operators: OperatorsTable;
  operator_sessions: OperatorSessionsTable;
  settings: SettingsTable;
}

export type Operator = Selectable<OperatorsTable>;
export type NewOperator = Insertable<OperatorsTable>;
