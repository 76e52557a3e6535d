/**
 * @module gateway/identity
 * Who is calling: the one place where a request becomes a `Caller`. Today a caller proves
 * itself with an API key (`Authorization: Bearer hg-...`), mapped to a gateway user whose key
 * is stored only as its SHA-256. Later steps (JWT from the provider's login, real-identity
 * enforcement per Deep Synthesis Provisions Art. 9, minors' mode limits per AI Measures
 * Art. 10, sanctions per Art. 14) extend `Caller` and `CallerResolver` here.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { GatewayUser, Store } from '../store/index.js';
import { GatewayAuthError } from './errors.js';

/** The user behind a request, as every later step sees it. */
export interface Caller {
  user: GatewayUser;
  /** What the audit log records instead of the user's name (AI Measures Art. 11: minimise). */
  pseudonym: string;
}

/** Turns a request's credentials into a `Caller`, or refuses it. */
export interface CallerResolver {
  /** @throws GatewayAuthError when the credentials are missing, unknown, revoked or disabled. */
  resolve(authorization: string | undefined): Promise<Caller>;
}

/** Every hegui API key starts so, which lets secret scanners recognise leaked keys. */
export const API_KEY_PREFIX = 'hg-';

/** SHA-256 (hex) of an API key: a key is 256 random bits, so a fast hash is enough. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** A new API key, its hash, and the short prefix shown to operators. */
export function newApiKey(): { key: string; hash: string; prefix: string } {
  const key = `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { key, hash: hashApiKey(key), prefix: key.slice(0, 8) };
}

/**
 * Creates a gateway user and its first API key. The key is returned once and never stored.
 *
 * @example
 * const { user, key } = await createApiUser(store, { name: 'app-1', verified: true });
 */
export async function createApiUser(store: Store, input: { name: string; verified?: boolean; minor?: boolean }): Promise<{ user: GatewayUser; key: string }> {
  return store.transaction(async (tx) => {
    const user = await tx.gatewayUsers.create(input);
    const { key, hash, prefix } = newApiKey();
    await tx.gatewayUsers.addKey({ userId: user.id, keyHash: hash, prefix });
    return { user, key };
  });
}

const MAX_CACHED_KEYS = 10_000;

/**
 * Resolves API keys against the store, caching each lookup for `cacheMs` so that the hot path
 * does not wait on the database; a revoked key or disabled user stops working within that time.
 */
export class ApiKeyResolver implements CallerResolver {
  readonly #store: Store;
  readonly #cacheMs: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, { caller: Caller | undefined; until: number }>();

  constructor(store: Store, options: { cacheMs: number; now?: () => number }) {
    this.#store = store;
    this.#cacheMs = options.cacheMs;
    this.#now = options.now ?? Date.now;
  }

  async resolve(authorization: string | undefined): Promise<Caller> {
    const match = authorization === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match?.[1]) throw new GatewayAuthError('send your hegui API key as "Authorization: Bearer hg-..."; an operator creates one with `hegui users add NAME`');
    const hash = hashApiKey(match[1]);
    const now = this.#now();
    const cached = this.#cache.get(hash);
    let caller: Caller | undefined;
    if (cached && cached.until > now) caller = cached.caller;
    else {
      const user = await this.#store.gatewayUsers.findByKeyHash(hash);
      caller = user && { user, pseudonym: user.id };
      if (this.#cacheMs > 0) this.#remember(hash, caller, now + this.#cacheMs);
    }
    if (!caller) throw new GatewayAuthError('this API key is unknown, revoked, or its user is disabled; ask the operator for a new key');
    return caller;
  }

  #remember(hash: string, caller: Caller | undefined, until: number): void {
    this.#cache.delete(hash);
    if (this.#cache.size >= MAX_CACHED_KEYS) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    this.#cache.set(hash, { caller, until });
  }
}
