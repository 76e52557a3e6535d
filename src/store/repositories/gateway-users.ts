/**
 * @module store/repositories/gateway-users
 * Users of the gateway's API and their API keys. Keys arrive here already hashed (SHA-256);
 * a lookup by key hash returns the user only while neither the key is revoked nor the user
 * disabled.
 */
import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { StoreConflictError } from '../errors.js';
import type { Database } from '../schema.js';
import type { GatewayUserRow } from '../tables/gateway.js';

/** A gateway user as the rest of hegui sees it. */
export interface GatewayUser {
  id: string;
  name: string;
  /** Real identity verified (Deep Synthesis Provisions Art. 9). */
  verified: boolean;
  /** A minor: the stricter policy applies (AI Measures Art. 10). */
  minor: boolean;
  createdAt: string;
  disabledAt: string | null;
}

function toUser(row: GatewayUserRow): GatewayUser {
  return {
    id: row.id,
    name: row.name,
    verified: Number(row.verified) === 1,
    minor: Number(row.minor) === 1,
    createdAt: row.created_at,
    disabledAt: row.disabled_at,
  };
}

/** What a virtual key may do: its name, expiry, models, token budget and spend budget (each optional). */
export interface KeyLimits {
  name?: string;
  /** ISO 8601 UTC */
  expiresAt?: string;
  /** Model names and `prefix*`. */
  models?: readonly string[];
  tokenBudget?: number;
  /** Money the key may spend, in integer micro-units of its currency (1 CNY = 1,000,000). */
  spend?: { budgetMicros: number; currency: string };
}

export interface ApiKeyInfo {
  keyHash: string;
  userId: string;
  prefix: string;
  createdAt: string;
  revokedAt: string | null;
  name: string | null;
  expiresAt: string | null;
  models: string[] | null;
  tokenBudget: number | null;
  tokensUsed: number;
  /** The spend budget in micro-units of `spendCurrency`; null: none. */
  spendBudget: number | null;
  spendCurrency: string | null;
  /** What the key's requests cost so far, in micro-units. */
  spendUsed: number;
}

interface KeyRow {
  key_hash: string;
  user_id: string;
  prefix: string;
  created_at: string;
  revoked_at: string | null;
  name: string | null;
  expires_at: string | null;
  models: string | null;
  token_budget: number | string | null;
  tokens_used: number | string;
  spend_budget: number | string | null;
  spend_currency: string | null;
  spend_used: number | string;
}

function toKeyInfo(row: KeyRow): ApiKeyInfo {
  return {
    keyHash: row.key_hash,
    userId: row.user_id,
    prefix: row.prefix,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
    name: row.name,
    expiresAt: row.expires_at,
    models: row.models === null ? null : (JSON.parse(row.models) as string[]),
    tokenBudget: row.token_budget === null ? null : Number(row.token_budget),
    tokensUsed: Number(row.tokens_used),
    spendBudget: row.spend_budget === null ? null : Number(row.spend_budget),
    spendCurrency: row.spend_currency,
    spendUsed: Number(row.spend_used),
  };
}

export class GatewayUserRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  /** Creates a user. @throws StoreConflictError when the name is taken. */
  async create(input: { name: string; verified?: boolean; minor?: boolean; now?: Date }): Promise<GatewayUser> {
    if (await this.findByName(input.name)) throw new StoreConflictError(`a gateway user named "${input.name}" already exists`);
    const row: GatewayUserRow = {
      id: randomUUID(),
      name: input.name,
      verified: input.verified ? 1 : 0,
      minor: input.minor ? 1 : 0,
      created_at: (input.now ?? new Date()).toISOString(),
      disabled_at: null,
    };
    await this.#db.insertInto('gateway_users').values(row).execute();
    return toUser(row);
  }

  /**
   * The user named `name`, created with `flags` when it does not exist yet. Safe when several
   * replicas see a new user at once: one creates it, every one gets the same user.
   */
  async ensure(name: string, flags: { verified?: boolean; minor?: boolean; now?: Date } = {}): Promise<GatewayUser> {
    await this.#db
      .insertInto('gateway_users')
      .values({ id: randomUUID(), name, verified: flags.verified ? 1 : 0, minor: flags.minor ? 1 : 0, created_at: (flags.now ?? new Date()).toISOString(), disabled_at: null })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const user = await this.findByName(name);
    if (!user) throw new StoreConflictError(`the gateway user "${name}" was deleted while it was being created`);
    return user;
  }

  async findByName(name: string): Promise<GatewayUser | undefined> {
    const row = await this.#db.selectFrom('gateway_users').selectAll().where('name', '=', name).executeTakeFirst();
    return row && toUser(row);
  }

  async findById(id: string): Promise<GatewayUser | undefined> {
    const row = await this.#db.selectFrom('gateway_users').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toUser(row);
  }

  /** The users with these ids that exist, in no particular order (one query). */
  async findByIds(ids: readonly string[]): Promise<GatewayUser[]> {
    if (ids.length === 0) return [];
    const rows = await this.#db.selectFrom('gateway_users').selectAll().where('id', 'in', [...ids]).execute();
    return rows.map(toUser);
  }

  async list(): Promise<GatewayUser[]> {
    const rows = await this.#db.selectFrom('gateway_users').selectAll().orderBy('created_at').orderBy('name').execute();
    return rows.map(toUser);
  }

  /** Users whose name or pseudonym contains `text` (case-insensitive), names starting with it first. */
  async search(text: string, limit = 20): Promise<GatewayUser[]> {
    const needle = text.toLowerCase().replace(/[\\%_]/g, (ch) => `\\${ch}`);
    const rows = await this.#db
      .selectFrom('gateway_users')
      .selectAll()
      .where((eb) => eb.or([sql<boolean>`lower(name) like ${`%${needle}%`} escape '\\'`, sql<boolean>`lower(id) like ${`${needle}%`} escape '\\'`]))
      .orderBy(sql`case when lower(name) like ${`${needle}%`} escape '\\' then 0 else 1 end`)
      .orderBy('name')
      .limit(limit)
      .execute();
    return rows.map(toUser);
  }

  async setFlags(id: string, flags: { verified?: boolean; minor?: boolean }): Promise<void> {
    const set: { verified?: number; minor?: number } = {};
    if (flags.verified !== undefined) set.verified = flags.verified ? 1 : 0;
    if (flags.minor !== undefined) set.minor = flags.minor ? 1 : 0;
    if (Object.keys(set).length > 0) await this.#db.updateTable('gateway_users').set(set).where('id', '=', id).execute();
  }

  async disable(id: string, now: Date = new Date()): Promise<void> {
    await this.#db.updateTable('gateway_users').set({ disabled_at: now.toISOString() }).where('id', '=', id).execute();
  }

  /** Revokes every key of the user still active; returns how many. */
  async revokeAllKeys(userId: string, now: Date = new Date()): Promise<number> {
    const result = await this.#db.updateTable('gateway_api_keys').set({ revoked_at: now.toISOString() }).where('user_id', '=', userId).where('revoked_at', 'is', null).executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** Deletes every key of the user; returns how many. */
  async deleteKeys(userId: string): Promise<number> {
    const result = await this.#db.deleteFrom('gateway_api_keys').where('user_id', '=', userId).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /**
   * Replaces what identifies the user (name, flags) and disables it, keeping its id: the
   * pseudonym the audit log and sanction records refer to.
   */
  async pseudonymise(id: string, name: string, now: Date = new Date()): Promise<void> {
    const at = now.toISOString();
    await this.#db.updateTable('gateway_users').set({ name, verified: 0, minor: 0 }).where('id', '=', id).execute();
    await this.#db.updateTable('gateway_users').set({ disabled_at: at }).where('id', '=', id).where('disabled_at', 'is', null).execute();
  }

  /** Deletes the user (its keys and sanctions go with it); returns whether it existed. */
  async delete(id: string): Promise<boolean> {
    const result = await this.#db.deleteFrom('gateway_users').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** Records an API key by its SHA-256 (hex), with the limits of a virtual key where given. */
  async addKey(input: { userId: string; keyHash: string; prefix: string; now?: Date } & KeyLimits): Promise<void> {
    await this.#db
      .insertInto('gateway_api_keys')
      .values({
        key_hash: input.keyHash,
        user_id: input.userId,
        prefix: input.prefix,
        created_at: (input.now ?? new Date()).toISOString(),
        revoked_at: null,
        name: input.name ?? null,
        expires_at: input.expiresAt ?? null,
        models: input.models ? JSON.stringify(input.models) : null,
        token_budget: input.tokenBudget ?? null,
        spend_budget: input.spend?.budgetMicros ?? null,
        spend_currency: input.spend?.currency ?? null,
      })
      .execute();
  }

  /** A user's keys (never the keys themselves), oldest first. */
  async listKeys(userId: string): Promise<ApiKeyInfo[]> {
    const rows = await this.#db.selectFrom('gateway_api_keys').selectAll().where('user_id', '=', userId).orderBy('created_at').orderBy('prefix').execute();
    return rows.map(toKeyInfo);
  }

  /** The key whose prefix (as `hegui users keys` shows it) is `prefix`, among a user's keys. */
  async findKeyByPrefix(userId: string, prefix: string): Promise<ApiKeyInfo[]> {
    const rows = await this.#db.selectFrom('gateway_api_keys').selectAll().where('user_id', '=', userId).where('prefix', '=', prefix).execute();
    return rows.map(toKeyInfo);
  }

  /** Adds tokens a request used to its key's count (one statement: replicas never lose each other's counts). */
  async addTokens(keyHash: string, tokens: number): Promise<void> {
    await this.addUsage(keyHash, { tokens });
  }

  /**
   * Adds what a request used to its key's counts, tokens and cost (micro-units) together, in
   * one statement: replicas never lose each other's counts.
   */
  async addUsage(keyHash: string, usage: { tokens?: number; spendMicros?: number }): Promise<void> {
    const tokens = usage.tokens !== undefined && usage.tokens > 0 ? Math.round(usage.tokens) : 0;
    const spend = usage.spendMicros !== undefined && usage.spendMicros > 0 ? Math.round(usage.spendMicros) : 0;
    if (tokens === 0 && spend === 0) return;
    await this.#db
      .updateTable('gateway_api_keys')
      .set((eb) => ({ ...(tokens > 0 ? { tokens_used: eb('tokens_used', '+', tokens) } : {}), ...(spend > 0 ? { spend_used: eb('spend_used', '+', spend) } : {}) }))
      .where('key_hash', '=', keyHash)
      .execute();
  }

  /** The active user and the key with this hash (unknown, revoked or disabled: undefined; expiry is the caller's to judge). */
  async findKey(keyHash: string): Promise<{ user: GatewayUser; key: ApiKeyInfo } | undefined> {
    const row = await this.#db
      .selectFrom('gateway_api_keys as k')
      .innerJoin('gateway_users as u', 'u.id', 'k.user_id')
      .select(['u.id', 'u.name', 'u.verified', 'u.minor', 'u.created_at', 'u.disabled_at', 'k.key_hash', 'k.user_id', 'k.prefix', 'k.created_at as key_created_at', 'k.revoked_at', 'k.name as key_name', 'k.expires_at', 'k.models', 'k.token_budget', 'k.tokens_used', 'k.spend_budget', 'k.spend_currency', 'k.spend_used'])
      .where('k.key_hash', '=', keyHash)
      .where('k.revoked_at', 'is', null)
      .where('u.disabled_at', 'is', null)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      user: toUser(row),
      key: toKeyInfo({ key_hash: row.key_hash, user_id: row.user_id, prefix: row.prefix, created_at: row.key_created_at, revoked_at: row.revoked_at, name: row.key_name, expires_at: row.expires_at, models: row.models, token_budget: row.token_budget, tokens_used: row.tokens_used, spend_budget: row.spend_budget, spend_currency: row.spend_currency, spend_used: row.spend_used }),
    };
  }

  async revokeKey(keyHash: string, now: Date = new Date()): Promise<void> {
    await this.#db.updateTable('gateway_api_keys').set({ revoked_at: now.toISOString() }).where('key_hash', '=', keyHash).execute();
  }

  /** The active user holding the key with this hash, or undefined (unknown, revoked, disabled). */
  async findByKeyHash(keyHash: string): Promise<GatewayUser | undefined> {
    const row = await this.#db
      .selectFrom('gateway_api_keys as k')
      .innerJoin('gateway_users as u', 'u.id', 'k.user_id')
      .select(['u.id', 'u.name', 'u.verified', 'u.minor', 'u.created_at', 'u.disabled_at'])
      .where('k.key_hash', '=', keyHash)
      .where('k.revoked_at', 'is', null)
      .where('u.disabled_at', 'is', null)
      .executeTakeFirst();
    return row && toUser(row);
  }
}
