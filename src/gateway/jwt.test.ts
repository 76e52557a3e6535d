import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, exportSPKI, generateKeyPair, type CryptoKey, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayAuthError, GatewayConfigError } from './errors.js';
import { looksLikeJwt } from './identity.js';
import { JwtVerifier, type JwtSettings } from './jwt.js';

const NOW = new Date('2026-11-28T04:00:00Z');
const SECONDS = NOW.getTime() / 1000;
const SECRET = 'a-shared-secret-of-at-least-32-bytes!';
const ISSUER = 'https://login.example.cn';
const AUDIENCE = 'hegui-gateway';
const dir = mkdtempSync(join(tmpdir(), 'hegui-jwt-'));

const base: JwtSettings = { algorithms: ['HS256'], secret: SECRET, issuer: ISSUER, audience: AUDIENCE, clockToleranceSeconds: 30, claims: { verified: 'real_name_verified', minor: 'minor' } };

interface TokenOptions {
  alg?: string;
  kid?: string;
  key?: CryptoKey | Uint8Array;
  claims?: Record<string, unknown>;
  sub?: string | null;
  iss?: string;
  aud?: string;
  exp?: number;
  nbf?: number;
}

async function token(o: TokenOptions = {}): Promise<string> {
  let jwt = new SignJWT(o.claims ?? {})
    .setProtectedHeader({ alg: o.alg ?? 'HS256', ...(o.kid ? { kid: o.kid } : {}) })
    .setIssuer(o.iss ?? ISSUER)
    .setAudience(o.aud ?? AUDIENCE)
    .setIssuedAt(SECONDS - 60)
    .setExpirationTime(o.exp ?? SECONDS + 600);
  if (o.sub !== null) jwt = jwt.setSubject(o.sub ?? 'user-42');
  if (o.nbf !== undefined) jwt = jwt.setNotBefore(o.nbf);
  return jwt.sign(o.key ?? new TextEncoder().encode(SECRET));
}

const refusal = (promise: Promise<unknown>): Promise<string> =>
  promise.then(
    () => 'accepted',
    (error: unknown) => (error instanceof GatewayAuthError ? error.message : `unexpected ${String(error)}`),
  );

describe('JWT from the provider login', () => {
  let hs: JwtVerifier;
  const keys: Record<string, { privateKey: CryptoKey; publicKey: CryptoKey }> = {};

  beforeAll(async () => {
    hs = await JwtVerifier.create(base, {});
    for (const alg of ['RS256', 'ES256', 'EdDSA']) keys[alg] = await generateKeyPair(alg, { extractable: true });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the subject and the identity and minor claims (true, "true" or 1)', async () => {
    expect(await hs.verify(await token({ claims: { real_name_verified: true, minor: 1 } }), NOW)).toEqual({ subject: 'user-42', verified: true, minor: true, expiresAt: (SECONDS + 600) * 1000 });
    expect(await hs.verify(await token({ claims: { real_name_verified: 'false' } }), NOW)).toMatchObject({ verified: false, minor: undefined });
    expect(looksLikeJwt(await token())).toBe(true);
    expect(looksLikeJwt('hg-abc')).toBe(false);
  });

  it('checks exp and nbf with the configured clock skew', async () => {
    expect(await refusal(hs.verify(await token({ exp: SECONDS - 20 }), NOW))).toBe('accepted');
    expect(await refusal(hs.verify(await token({ exp: SECONDS - 31 }), NOW))).toBe('the token has expired; sign in again');
    expect(await refusal(hs.verify(await token({ nbf: SECONDS + 20 }), NOW))).toBe('accepted');
    expect(await refusal(hs.verify(await token({ nbf: SECONDS + 31 }), NOW))).toMatch(/"nbf" claim is not accepted/);
  });

  it('checks iss, aud, sub and the signature', async () => {
    expect(await refusal(hs.verify(await token({ iss: 'https://evil.example' }), NOW))).toMatch(/"iss" claim is not accepted/);
    expect(await refusal(hs.verify(await token({ aud: 'another-service' }), NOW))).toMatch(/"aud" claim is not accepted/);
    expect(await refusal(hs.verify(await token({ sub: null }), NOW))).toMatch(/"sub" claim/);
    expect(await refusal(hs.verify(await token({ key: new TextEncoder().encode('another-secret-of-at-least-32-bytes!!') }), NOW))).toBe('the token is malformed or its signature does not verify');
    const good = await token();
    expect(await refusal(hs.verify(`${good.slice(0, -3)}abc`, NOW))).toBe('the token is malformed or its signature does not verify');
  });

  it('verifies RS256, ES256 and EdDSA with a public key file and with a JWKS file', async () => {
    for (const alg of ['RS256', 'ES256', 'EdDSA'] as const) {
      const pair = keys[alg] as { privateKey: CryptoKey; publicKey: CryptoKey };
      const pem = join(dir, `${alg}.pem`);
      writeFileSync(pem, await exportSPKI(pair.publicKey));
      const byPem = await JwtVerifier.create({ ...base, algorithms: [alg], secret: undefined, publicKey: pem }, {});
      expect((await byPem.verify(await token({ alg, key: pair.privateKey }), NOW)).subject, alg).toBe('user-42');
      const jwks = join(dir, `${alg}.jwks.json`);
      writeFileSync(jwks, JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: `k-${alg}`, alg }] }));
      const byJwks = await JwtVerifier.create({ ...base, algorithms: [alg], secret: undefined, jwks }, {});
      expect((await byJwks.verify(await token({ alg, kid: `k-${alg}`, key: pair.privateKey }), NOW)).subject, alg).toBe('user-42');
      expect(await refusal(byJwks.verify(await token({ alg, kid: 'unknown', key: pair.privateKey }), NOW)), alg).toMatch(/no key of the configured JWKS/);
    }
  });

  it('refuses an algorithm not configured, even signed with the configured key material', async () => {
    const rs = keys.RS256 as { privateKey: CryptoKey; publicKey: CryptoKey };
    const pem = join(dir, 'rs.pem');
    writeFileSync(pem, await exportSPKI(rs.publicKey));
    const onlyRs = await JwtVerifier.create({ ...base, algorithms: ['RS256'], secret: undefined, publicKey: pem }, {});
    // The classic confusion: HS256 keyed with the public key's text.
    const confused = await token({ key: new TextEncoder().encode(await exportSPKI(rs.publicKey)) });
    expect(await refusal(onlyRs.verify(confused, NOW))).toBe('the token is signed with an algorithm this gateway does not accept');
  });

  it('reads the HS256 secret from the environment and refuses a short or missing one', async () => {
    const fromEnv = await JwtVerifier.create({ ...base, secret: undefined, secretEnv: 'LOGIN_SECRET' }, { LOGIN_SECRET: SECRET });
    expect((await fromEnv.verify(await token(), NOW)).subject).toBe('user-42');
    await expect(JwtVerifier.create({ ...base, secret: undefined, secretEnv: 'LOGIN_SECRET' }, {})).rejects.toBeInstanceOf(GatewayConfigError);
    await expect(JwtVerifier.create({ ...base, secret: undefined, secretEnv: 'LOGIN_SECRET' }, { LOGIN_SECRET: 'short' })).rejects.toThrow(/at least 32 bytes/);
  });
});
