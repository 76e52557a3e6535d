/**
 * @module gateway/jwt
 * Users who sign in through the provider's own login send its signed JWT
 * (`Authorization: Bearer <jwt>`). The token is verified with `jose`: HS256 with a shared
 * secret, RS256/ES256/EdDSA with a public key or a JWKS file; `exp`, `nbf`, `iss` and `aud` are
 * checked with a small clock skew. `sub` names the user (a pseudonymous id of the provider's
 * account); configurable claims say whether the real identity is verified (Deep Synthesis
 * Provisions Art. 9) and whether the user is a minor (AI Measures Art. 10).
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createLocalJWKSet, errors, type JSONWebKeySet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { GatewayConfig } from './config.js';
import { GatewayAuthError, GatewayConfigError } from './errors.js';

export type JwtSettings = NonNullable<GatewayConfig['users']['jwt']>;

/** What a verified token says about its user. */
export interface TokenIdentity {
  subject: string;
  /** The verified claim, when the token carries it. */
  verified: boolean | undefined;
  minor: boolean | undefined;
  /** `exp`, ms since the epoch. */
  expiresAt: number;
}

/** Longest `sub` accepted: it becomes part of the user's name. */
const MAX_SUBJECT = 200;

/** True for `true`, `"true"` and `1`; false for their opposites; undefined when absent or anything else. */
function flag(value: unknown): boolean | undefined {
  if (value === true || value === 'true' || value === 1) return true;
  if (value === false || value === 'false' || value === 0) return false;
  return undefined;
}

async function readKeyFile(path: string, what: string): Promise<string> {
  return readFile(path, 'utf8').catch((cause: NodeJS.ErrnoException) => {
    throw new GatewayConfigError(`cannot read users.jwt.${what} ${path}: ${cause.code === 'ENOENT' ? 'no such file' : cause.message}`, { cause });
  });
}

/**
 * Verifies tokens of the provider's login.
 *
 * @example
 * const verifier = await JwtVerifier.create(config.users.jwt, process.env);
 * const { subject, verified, minor } = await verifier.verify(token, new Date());
 */
export class JwtVerifier {
  readonly #settings: JwtSettings;
  readonly #key: JWTVerifyGetKey;

  private constructor(settings: JwtSettings, key: JWTVerifyGetKey) {
    this.#settings = settings;
    this.#key = key;
  }

  /** @throws GatewayConfigError when a secret or key cannot be read. */
  static async create(settings: JwtSettings, env: Record<string, string | undefined>): Promise<JwtVerifier> {
    let secret: Uint8Array | undefined;
    if (settings.algorithms.includes('HS256')) {
      const text = settings.secret ?? (settings.secretEnv ? env[settings.secretEnv] : undefined);
      if (!text) throw new GatewayConfigError(`users.jwt: HS256 needs the shared secret in ${settings.secretEnv ?? 'secretEnv'}, which is not set`);
      if (Buffer.byteLength(text) < 32) throw new GatewayConfigError('users.jwt: the HS256 secret must be at least 32 bytes (RFC 7518 §3.2)');
      secret = new TextEncoder().encode(text);
    }
    let publicKey: KeyObject | undefined;
    if (settings.publicKey) {
      try {
        publicKey = createPublicKey(await readKeyFile(settings.publicKey, 'publicKey'));
      } catch (cause) {
        if (cause instanceof GatewayConfigError) throw cause;
        throw new GatewayConfigError(`users.jwt.publicKey ${settings.publicKey} is not a PEM public key: ${(cause as Error).message}`, { cause });
      }
    }
    let jwks: JWTVerifyGetKey | undefined;
    if (settings.jwks) {
      try {
        jwks = createLocalJWKSet(JSON.parse(await readKeyFile(settings.jwks, 'jwks')) as JSONWebKeySet);
      } catch (cause) {
        if (cause instanceof GatewayConfigError) throw cause;
        throw new GatewayConfigError(`users.jwt.jwks ${settings.jwks} is not a JWKS document: ${(cause as Error).message}`, { cause });
      }
    }
    const key: JWTVerifyGetKey = async (header, token) => {
      if (header.alg === 'HS256' && secret) return secret;
      if (jwks) return jwks(header, token);
      if (publicKey) return publicKey;
      throw new GatewayAuthError(`tokens signed with ${header.alg ?? 'no algorithm'} are not accepted here`);
    };
    return new JwtVerifier(settings, key);
  }

  /** @throws GatewayAuthError naming what is wrong with the token. */
  async verify(token: string, now: Date): Promise<TokenIdentity> {
    const s = this.#settings;
    let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
    try {
      ({ payload } = await jwtVerify(token, this.#key, {
        algorithms: [...s.algorithms],
        issuer: s.issuer,
        audience: s.audience,
        clockTolerance: s.clockToleranceSeconds,
        currentDate: now,
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (error) {
      throw explain(error);
    }
    const subject = payload.sub ?? '';
    if (subject === '' || subject.length > MAX_SUBJECT || /[\s\p{C}]/u.test(subject)) throw new GatewayAuthError(`the token's "sub" must be 1-${MAX_SUBJECT} printable characters without spaces`);
    return { subject, verified: flag(payload[s.claims.verified]), minor: flag(payload[s.claims.minor]), expiresAt: (payload.exp ?? 0) * 1000 };
  }
}

function explain(error: unknown): GatewayAuthError {
  if (error instanceof GatewayAuthError) return error;
  if (error instanceof errors.JWTExpired) return new GatewayAuthError('the token has expired; sign in again');
  if (error instanceof errors.JWTClaimValidationFailed) return new GatewayAuthError(`the token's "${error.claim}" claim is not accepted here (${error.reason}); sign in again through the provider's login`);
  if (error instanceof errors.JOSEAlgNotAllowed) return new GatewayAuthError('the token is signed with an algorithm this gateway does not accept');
  if (error instanceof errors.JWKSNoMatchingKey) return new GatewayAuthError('no key of the configured JWKS matches the token (kid, alg)');
  return new GatewayAuthError('the token is malformed or its signature does not verify');
}
