import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { auditEnvironment } from './config.js';
import { AuditContentKeyring } from './content.js';
import { AuditConfigError, AuditContentError, AuditKeyError } from './errors.js';
import { retentionCutoff } from './retention.js';
import { checkCheckpointSignature, generateAuditSigningKey, parseAuditSigningKey, signCheckpoint } from './signing.js';

describe('content keyring', () => {
  const current = AuditContentKeyring.generateKey();
  const old = AuditContentKeyring.generateKey();

  it('seals with the first key and opens with any, so keys can rotate', () => {
    const before = AuditContentKeyring.parse(old);
    const { sealed, keyId } = before.seal(Buffer.from('{"prompt":"你好"}'));
    expect(sealed.includes(Buffer.from('你好'))).toBe(false);
    const rotated = AuditContentKeyring.parse(`${current}, ${old}`);
    expect(rotated.currentKeyId).not.toBe(keyId);
    expect(rotated.keyIds).toEqual([rotated.currentKeyId, keyId]);
    expect(rotated.open(sealed, keyId).toString()).toBe('{"prompt":"你好"}');
    expect(() => AuditContentKeyring.parse(current).open(sealed, keyId)).toThrow(/not in HEGUI_AUDIT_CONTENT_KEY/);
  });

  it('detects altered ciphertext', () => {
    const keys = AuditContentKeyring.parse(current);
    const { sealed, keyId } = keys.seal(Buffer.from('secret'));
    sealed[15] = (sealed[15] ?? 0) ^ 1;
    expect(() => keys.open(sealed, keyId)).toThrow(AuditContentError);
    expect(() => keys.open(sealed.subarray(0, 10), keyId)).toThrow(/too short/);
  });

  it.each([
    ['', /is empty/],
    ['not base64!', /not base64/],
    [Buffer.alloc(16).toString('base64'), /decodes to 16 bytes; AES-256 needs exactly 32/],
    [`${current},`, /is empty/],
  ])('rejects %j with a message naming the variable', (text, message) => {
    expect(() => AuditContentKeyring.parse(text)).toThrow(AuditKeyError);
    expect(() => AuditContentKeyring.parse(text)).toThrow(message);
    expect(() => AuditContentKeyring.parse(text)).toThrow(/HEGUI_AUDIT_CONTENT_KEY/);
  });
});

describe('checkpoint signing keys', () => {
  const statement = { seq: 10, hash: 'a'.repeat(64), firstSeq: 1, purgedBefore: '2026-01-01T00:00:00.000Z', createdAt: '2026-08-01T00:00:00.000Z' };

  it('signs and verifies, naming the key', () => {
    const pair = generateAuditSigningKey();
    const key = parseAuditSigningKey(pair.privateKeyPem);
    expect(key.keyId).toBe(pair.keyId);
    const checkpoint = signCheckpoint(statement, key);
    expect(checkCheckpointSignature(checkpoint)).toEqual({ valid: true, keyId: pair.keyId });
    expect(checkCheckpointSignature({ ...checkpoint, hash: 'b'.repeat(64) })).toMatchObject({ valid: false, problem: /does not match the checkpoint/ });
    const other = generateAuditSigningKey();
    expect(checkCheckpointSignature({ ...checkpoint, publicKey: other.publicKeyPem })).toMatchObject({ valid: false, problem: /key id .* does not match/ });
  });

  it('refuses keys that are not Ed25519 private keys', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => parseAuditSigningKey(rsa)).toThrow(/rsa key; checkpoints are signed with Ed25519/);
    expect(() => parseAuditSigningKey(generateAuditSigningKey().publicKeyPem)).toThrow(/not a PKCS #8 private key/);
    expect(() => parseAuditSigningKey('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n')).toThrow(/cannot be parsed/);
  });
});

describe('environment', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hegui-audit-env-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is empty but valid when nothing is set', () => {
    expect(auditEnvironment({}, dir)).toEqual({ contentKeys: undefined, signingKey: undefined, retentionMonths: 6 });
  });

  it('reads both keys and the retention', () => {
    writeFileSync(join(dir, 'audit.key.pem'), generateAuditSigningKey().privateKeyPem);
    const env = auditEnvironment(
      { HEGUI_AUDIT_CONTENT_KEY: AuditContentKeyring.generateKey(), HEGUI_AUDIT_SIGNING_KEY: 'audit.key.pem', HEGUI_AUDIT_RETENTION_MONTHS: '12' },
      dir,
    );
    expect(env.contentKeys?.keyIds).toHaveLength(1);
    expect(env.signingKey?.keyId).toMatch(/^[\w-]{11}$/);
    expect(env.retentionMonths).toBe(12);
  });

  it('names the variable and the fix when one is wrong', () => {
    expect(() => auditEnvironment({ HEGUI_AUDIT_SIGNING_KEY: 'missing.pem' }, dir)).toThrow(/HEGUI_AUDIT_SIGNING_KEY names .*missing\.pem, which cannot be read \(no such file\)/);
    expect(() => auditEnvironment({ HEGUI_AUDIT_RETENTION_MONTHS: '3' }, dir)).toThrow(AuditConfigError);
    expect(() => auditEnvironment({ HEGUI_AUDIT_RETENTION_MONTHS: '3' }, dir)).toThrow(/below the legal floor/);
    expect(() => auditEnvironment({ HEGUI_AUDIT_RETENTION_MONTHS: 'six' }, dir)).toThrow(/whole number/);
    expect(() => auditEnvironment({ HEGUI_AUDIT_CONTENT_KEY: 'short' }, dir)).toThrow(/HEGUI_AUDIT_CONTENT_KEY decodes to 3 bytes/);
  });
});

describe('retention cutoff', () => {
  it.each([
    ['2026-08-31T10:00:00.000Z', 6, '2026-02-28T10:00:00.000Z'],
    ['2028-08-31T10:00:00.000Z', 6, '2028-02-29T10:00:00.000Z'],
    ['2026-03-15T00:00:00.000Z', 6, '2025-09-15T00:00:00.000Z'],
    ['2026-03-15T00:00:00.000Z', 24, '2024-03-15T00:00:00.000Z'],
  ])('%s minus %d months is %s (clamped, never later)', (now, months, cutoff) => {
    expect(retentionCutoff(new Date(now), months).toISOString()).toBe(cutoff);
  });
});
