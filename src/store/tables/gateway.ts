/**
 * @module store/tables/gateway
 * Tables of the gateway: the users of the OpenAI-compatible API, their API keys (only the
 * SHA-256 of a key is kept), and generated media the gateway serves under signed URLs after
 * labeling them. Flags are integers (0/1) so that both dialects read them alike.
 */
import type { Selectable } from 'kysely';

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
}

export interface GatewayMediaTable {
  id: string;
  content_type: string;
  bytes: Uint8Array;
  created_at: string;
  expires_at: string;
}

export interface GatewayTables {
  gateway_users: GatewayUsersTable;
  gateway_api_keys: GatewayApiKeysTable;
  gateway_media: GatewayMediaTable;
}

export type GatewayUserRow = Selectable<GatewayUsersTable>;
