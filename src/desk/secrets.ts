/**
 * @module desk/secrets
 * Status-link tokens, one-time codes, contact hashes and the proof-of-work challenge. Only
 * hashes are stored: a stolen database gives neither a working status link nor a code.
 */
import { createHash, createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

/** A fresh status-link token: 32 random bytes, base64url (43 characters). */
export function newStatusToken(): string {
  return randomBytes(32).toString('base64url');
}

export function sha256Hex(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A status token's stored form. */
export function tokenHash(token: string): string {
  return sha256Hex(`desk-status:${token}`);
}

/** Lower-cased, trimmed e-mail address. */
export function normaliseContact(contact: string): string {
  return contact.normalize('NFKC').trim().toLowerCase();
}

/** The stored key that finds a person's cases without reading their address. */
export function contactHash(contact: string): string {
  return sha256Hex(`desk-contact:${normaliseContact(contact)}`);
}

/** A six-digit one-time code, its salt and its hash. */
export function newCode(): { code: string; salt: string; hash: string } {
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const salt = randomBytes(16).toString('base64url');
  return { code, salt, hash: codeHash(code, salt) };
}

export function codeHash(code: string, salt: string): string {
  return createHmac('sha256', salt).update(code).digest('hex');
}

export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Leading zero bits of a digest. */
export function leadingZeroBits(digest: Uint8Array): number {
  let bits = 0;
  for (const byte of digest) {
    if (byte === 0) {
      bits += 8;
      continue;
    }
    return bits + Math.clz32(byte) - 24;
  }
  return bits;
}

/**
 * A hashcash-style challenge: `v1.<expires ms>.<random>.<mac>`, signed with `secret` so any
 * replica sharing the secret checks it without storing it. The answer is a nonce such that
 * SHA-256(`challenge:nonce`) starts with `bits` zero bits.
 */
export function newChallenge(secret: string, bits: number, now: Date, ttlMs = 10 * 60_000): string {
  const body = `v1.${bits}.${now.getTime() + ttlMs}.${randomBytes(12).toString('base64url')}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

export type ChallengeCheck = 'ok' | 'malformed' | 'expired' | 'weak' | 'wrong';

export function checkChallenge(secret: string, challenge: string, nonce: string, bits: number, now: Date): ChallengeCheck {
  const parts = challenge.split('.');
  if (parts.length !== 5 || parts[0] !== 'v1' || nonce.length === 0 || nonce.length > 64) return 'malformed';
  const body = parts.slice(0, 4).join('.');
  const mac = createHmac('sha256', secret).update(body).digest('base64url');
  if (mac.length !== parts[4]!.length || !timingSafeEqual(Buffer.from(mac), Buffer.from(parts[4]!))) return 'malformed';
  if (Number(parts[1]) < bits) return 'weak';
  if (Number(parts[2]) < now.getTime()) return 'expired';
  return leadingZeroBits(createHash('sha256').update(`${challenge}:${nonce}`).digest()) >= bits ? 'ok' : 'wrong';
}

/** Finds a nonce for `challenge` (tests and scripts; the intake page does the same in the browser). */
export function solveChallenge(challenge: string, bits: number): string {
  for (let n = 0; ; n += 1) {
    const nonce = n.toString(36);
    if (leadingZeroBits(createHash('sha256').update(`${challenge}:${nonce}`).digest()) >= bits) return nonce;
  }
}
