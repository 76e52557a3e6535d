/**
 * @module gateway/identity
 * Who is calling: the one place where a request becomes a `Caller`. A caller proves itself
 * with a hegui API key (`Authorization: Bearer hg-...`, mapped to a gateway user whose key is
 * stored only as its SHA-256) or with a signed JWT from the provider's own login (users first
 * seen that way are created in the store as `jwt:<sub>`). The caller carries what later steps
 * need: whether the real identity is verified (Deep Synthesis Provisions Art. 9) and whether
 * the user is a minor (AI Measures Art. 10), from the stored user and the token's claims.
 */
import { hash as oneShotHash, randomBytes } from 'node:crypto';
import { InvalidInputError } from '../errors.js';
import type { GatewayUser, KeyLimits, Store } from '../store/index.js';
import { GatewayAuthError } from './errors.js';
import type { JwtVerifier } from './jwt.js';
import { checkAmountMicros } from './spend.js';

/**
 * A token looks like a JWS in compact form: three base64url parts. Here, not in ./jwt, so that
 * what manages users and keys (the CLI's `users`) does not load jose.
 */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}

/** The user behind a request, as every later step sees it. */
export interface Caller {
  user: GatewayUser;
  /** What the audit log records instead of the user's name (AI Measures Art. 11: minimise). */
  pseudonym: string;
  /** How the caller proved itself. */
  auth: 'key' | 'jwt';
  /** For an API key: the first 16 hex digits of its SHA-256, what per-key limits count by. */
  keyId?: string;
  /** For an API key: its limits as a virtual key (expiry, models, token budget) and its hash. */
  key?: CallerKey;
  /** Real identity verified: the stored flag, or for a token also its verified claim. */
  verified: boolean;
  /** A minor: the stored flag, or for a token also its minor claim. */
  minor: boolean;
}

export interface CallerKey {
  hash: string;
  name: string | null;
  expiresAt: string | null;
  /** Model names and `prefix*` the key may call; null: any. */
  models: string[] | null;
  tokenBudget: number | null;
  /** As read from the store, plus what this replica counted since (cached for `users.cacheSeconds`). */
  tokensUsed: number;
  /** The spend budget in micro-units of `spendCurrency` (./spend); null: none. */
  spendBudget: number | null;
  spendCurrency: string | null;
  /** What the key's requests cost, in micro-units: read and counted like `tokensUsed`. */
  spendUsed: number;
}

/** True when the key may call `model` (its allow-list holds the name or a `prefix*` of it). */
export function keyAllowsModel(key: CallerKey | undefined, model: string): boolean {
  if (!key?.models) return true;
  return key.models.some((m) => (m.endsWith('*') ? model.startsWith(m.slice(0, -1)) : m === model));
}

/** Turns a request's credentials into a `Caller`, or refuses it. */
export interface CallerResolver {
  /** @throws GatewayAuthError when the credentials are missing, unknown, expired, revoked or disabled. */
  resolve(authorization: string | undefined): Promise<Caller>;
}

/** Every hegui API key starts so, which lets secret scanners recognise leaked keys. */
export const API_KEY_PREFIX = 'hg-';

/** Names of users first seen through a JWT: this prefix, then the token's `sub`. */
export const JWT_USER_PREFIX = 'jwt:';

/** SHA-256 (hex) of an API key: a key is 256 random bits, so a fast hash is enough. */
export function hashApiKey(key: string): string {
  return oneShotHash('sha256', key, 'hex');
}

/** A new API key, its hash, and the short prefix shown to operators. */
export function newApiKey(): { key: string; hash: string; prefix: string } {
  const key = `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { key, hash: hashApiKey(key), prefix: key.slice(0, 8) };
}

/**
 * Adds an API key to an existing user, with a virtual key's limits where given (a name, an
 * expiry, the models it may call, a token budget, a spend budget). The key is returned once
 * and never stored.
 *
 * @throws InvalidInputError (`E_GATEWAY_KEY_LIMITS`) for a token budget that is not a positive
 *   whole number, or a spend budget that is not a positive whole number of micro-units within
 *   the largest amount, or whose currency is not an ISO 4217 code.
 */
export async function addApiKey(store: Store, userId: string, limits: KeyLimits = {}): Promise<{ key: string; prefix: string }> {
  if (limits.tokenBudget !== undefined && (!Number.isSafeInteger(limits.tokenBudget) || limits.tokenBudget < 1)) throw new InvalidInputError('E_GATEWAY_KEY_LIMITS', `a token budget is a whole number of tokens, at least 1; got ${String(limits.tokenBudget)}`);
  if (limits.spend) {
    checkAmountMicros(limits.spend.budgetMicros, 'a spend budget', 'E_GATEWAY_KEY_LIMITS');
    if (!/^[A-Z]{3}$/.test(limits.spend.currency)) throw new InvalidInputError('E_GATEWAY_KEY_LIMITS', `a spend budget's currency is an ISO 4217 code in capitals, e.g. CNY; got "${limits.spend.currency}"`);
  }
  const { key, hash, prefix } = newApiKey();
  await store.gatewayUsers.addKey({ userId, keyHash: hash, prefix, ...limits });
  return { key, prefix };
}

/**
 * Creates a gateway user and its first API key. The key is returned once and never stored.
 *
 * @throws InvalidInputError for a name reserved for users of the provider's login (`jwt:...`).
 * @example
 * const { user, key } = await createApiUser(store, { name: 'app-1', verified: true });
 */
export async function createApiUser(store: Store, input: { name: string; verified?: boolean; minor?: boolean }): Promise<{ user: GatewayUser; key: string }> {
  if (input.name.startsWith(JWT_USER_PREFIX)) throw new InvalidInputError('E_GATEWAY_USER_NAME', `names starting with "${JWT_USER_PREFIX}" belong to users of the provider's login; choose another name`);
  return store.transaction(async (tx) => {
    const user = await tx.gatewayUsers.create(input);
    const { key, hash, prefix } = newApiKey();
    await tx.gatewayUsers.addKey({ userId: user.id, keyHash: hash, prefix });
    return { user, key };
  });
}

const MAX_CACHED = 10_000;
const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * Resolves API keys and tokens against the store, caching each lookup for `cacheMs` (a token
 * no longer than it is valid) so that the hot path does not wait on the database; a revoked
 * key or disabled user stops working within that time.
 */
export class StoreCallerResolver implements CallerResolver {
  readonly #store: Store;
  readonly #cacheMs: number;
  readonly #now: () => number;
  readonly #jwt: JwtVerifier | undefined;
  readonly #cache = new Map<string, { caller: Caller | undefined; until: number }>();

  constructor(store: Store, options: { cacheMs: number; now?: () => number; jwt?: JwtVerifier }) {
    this.#store = store;
    this.#cacheMs = options.cacheMs;
    this.#now = options.now ?? Date.now;
    this.#jwt = options.jwt;
  }

  async resolve(authorization: string | undefined): Promise<Caller> {
    const token = authorization === undefined ? undefined : BEARER.exec(authorization)?.[1];
    if (token?.startsWith(API_KEY_PREFIX)) return this.#byKey(token);
    if (token && this.#jwt && looksLikeJwt(token)) return this.#byToken(token, this.#jwt);
    throw new GatewayAuthError(
      this.#jwt
        ? 'send your hegui API key ("Authorization: Bearer hg-...") or the token of your login ("Authorization: Bearer <jwt>")'
        : 'send your hegui API key as "Authorization: Bearer hg-..."; an operator creates one with `hegui users add NAME`',
    );
  }

  async #byKey(key: string): Promise<Caller> {
    const hash = hashApiKey(key);
    const now = this.#now();
    const cached = this.#cached(`k:${hash}`, now);
    let caller: Caller | undefined;
    if (cached) caller = cached.caller;
    else {
      const found = await this.#store.gatewayUsers.findKey(hash);
      caller = found && {
        user: found.user,
        pseudonym: found.user.id,
        auth: 'key',
        keyId: hash.slice(0, 16),
        key: { hash, name: found.key.name, expiresAt: found.key.expiresAt, models: found.key.models, tokenBudget: found.key.tokenBudget, tokensUsed: found.key.tokensUsed, spendBudget: found.key.spendBudget, spendCurrency: found.key.spendCurrency, spendUsed: found.key.spendUsed },
        verified: found.user.verified,
        minor: found.user.minor,
      };
      this.#remember(`k:${hash}`, caller, now + this.#cacheMs);
    }
    if (!caller) throw new GatewayAuthError('this API key is unknown, revoked, or its user is disabled; ask the operator for a new key');
    const expires = caller.key?.expiresAt;
    if (expires && Date.parse(expires) <= now) throw new GatewayAuthError(`this API key expired at ${expires}; ask the operator for a new key`);
    return caller;
  }

  async #byToken(token: string, jwt: JwtVerifier): Promise<Caller> {
    const id = `t:${oneShotHash('sha256', token, 'hex')}`;
    const now = this.#now();
    const cached = this.#cached(id, now);
    if (cached?.caller) return cached.caller;
    const identity = await jwt.verify(token, new Date(now));
    const name = `${JWT_USER_PREFIX}${identity.subject}`;
    const user = (await this.#store.gatewayUsers.findByName(name)) ?? (await this.#store.gatewayUsers.ensure(name, { now: new Date(now) }));
    if (user.disabledAt !== null) throw new GatewayAuthError('this user is disabled; ask the operator');
    // The stored flags are the operator's; a token's claims can add to them, never take away.
    const caller: Caller = { user, pseudonym: user.id, auth: 'jwt', verified: user.verified || identity.verified === true, minor: user.minor || identity.minor === true };
    this.#remember(id, caller, Math.min(now + this.#cacheMs, identity.expiresAt));
    return caller;
  }

  #cached(id: string, now: number): { caller: Caller | undefined } | undefined {
    const entry = this.#cache.get(id);
    return entry && entry.until > now ? entry : undefined;
  }

  #remember(id: string, caller: Caller | undefined, until: number): void {
    if (this.#cacheMs <= 0) return;
    this.#cache.delete(id);
    if (this.#cache.size >= MAX_CACHED) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    this.#cache.set(id, { caller, until });
  }
}
