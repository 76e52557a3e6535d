import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LabelKeyError } from './errors.js';
import { createLabel } from './model.js';
import { checkSignatures, parseSecurityData, signLabel } from './security.js';
import { generateLabelKeys, parseSigningKey, parseVerifyKey, type SignatureAlgorithm } from './security-keys.js';
import { systemTool } from '../../test/helpers/system.js';

const PRODUCER = '001191350100M000100Y431A001';
const PROPAGATOR = '001191110108MA01KP2T5U2P001';
const hash = new Uint8Array(32).fill(7);
const digest = (): Promise<Uint8Array> => Promise.resolve(hash);

describe.each<SignatureAlgorithm>(['ed25519', 'sm2'])('security data with %s', (algorithm) => {
  const keys = generateLabelKeys(algorithm);
  const signer = parseSigningKey(keys.privateKeyPem);
  const verifier = parseVerifyKey(keys.publicKeyPem);
  const base = createLabel({ producer: PRODUCER, produceId: 'img-1' });
  const signed = signLabel(signLabel(base, 'producer', signer, hash), 'propagator', signer, hash);

  it('round-trips keys through PEM and names them by key id', () => {
    expect(verifier.keyId).toBe(signer.keyId);
    expect(parseVerifyKey(keys.privateKeyPem).keyId).toBe(signer.keyId);
    expect(parseSecurityData(signed.ReservedCode1)).toMatchObject({ algorithm, keyId: signer.keyId });
    expect(signed.ReservedCode1).toMatch(/^[\x20-\x7e]+$/);
  });

  it('says valid, invalid, payload-changed, unverified and absent', async () => {
    expect((await checkSignatures(signed, [verifier], digest)).status).toBe('valid');
    expect((await checkSignatures({ ...signed, ProduceID: 'img-2' }, [verifier], digest)).producer).toBe('invalid');
    expect((await checkSignatures(signed, [verifier], () => Promise.resolve(new Uint8Array(32)))).status).toBe('payload-changed');
    expect((await checkSignatures(signed, [], digest)).status).toBe('unverified');
    expect((await checkSignatures(base, [verifier], digest)).status).toBe('absent');
  });

  it("keeps the producer's signature valid when a platform propagates", async () => {
    const propagated = { ...signed, ContentPropagator: PROPAGATOR, PropagateID: 'p-9', ReservedCode2: '' };
    const report = await checkSignatures(propagated, [verifier], digest);
    expect(report).toEqual({ status: 'valid', producer: 'valid', propagator: 'absent', timestamps: { producer: { status: 'none' }, propagator: { status: 'none' } } });
    const tampered = { ...signed, PropagateID: 'forged' };
    expect((await checkSignatures(tampered, [verifier], digest)).propagator).toBe('invalid');
  });

  it('reports each field on its own: a propagated file checked with one party\'s key', async () => {
    const platformKeys = generateLabelKeys(algorithm);
    const platform = parseSigningKey(platformKeys.privateKeyPem);
    const propagated = signLabel({ ...signed, ContentPropagator: PROPAGATOR, PropagateID: 'p-9', ReservedCode2: '' }, 'propagator', platform, hash);
    expect(await checkSignatures(propagated, [verifier], digest)).toMatchObject({ producer: 'valid', propagator: 'unverified' });
    expect(await checkSignatures(propagated, [parseVerifyKey(platformKeys.publicKeyPem)], digest)).toMatchObject({ producer: 'unverified', propagator: 'valid' });
    expect(await checkSignatures(propagated, [verifier, parseVerifyKey(platformKeys.publicKeyPem)], digest)).toMatchObject({ status: 'valid' });
  });

  it('refuses a signature whose provider code names the other service type', async () => {
    // A platform's code (service type 2) signed as the producer: not a producer's claim.
    const forged = signLabel({ ...base, ContentProducer: PROPAGATOR }, 'producer', signer, hash);
    expect((await checkSignatures(forged, [verifier], digest)).producer).toBe('invalid');
    const generator = '001191110108MA01KP2T5U1P001';
    const wrongPlatform = signLabel({ ...signed, ContentPropagator: generator, PropagateID: 'p-1', ReservedCode2: '' }, 'propagator', signer, hash);
    expect((await checkSignatures(wrongPlatform, [verifier], digest)).propagator).toBe('invalid');
  });

  it.skipIf(!systemTool('openssl', 'openssl'))('writes PEM files OpenSSL reads', () => {
    const text = execFileSync('openssl', ['pkey', '-noout', '-text'], { input: keys.privateKeyPem }).toString();
    expect(text).toMatch(algorithm === 'sm2' ? /SM2|ASN1 OID: SM2/ : /ED25519/i);
  });
});

describe('keys', () => {
  it.skipIf(!systemTool('openssl', 'openssl'))('reads an SM2 key OpenSSL made', () => {
    const pem = execFileSync('openssl', ['genpkey', '-algorithm', 'SM2']).toString();
    expect(parseSigningKey(pem).algorithm).toBe('sm2');
  });

  it('refuses keys of other algorithms with LabelKeyError', () => {
    const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => parseSigningKey(p256)).toThrow(LabelKeyError);
    expect(() => parseVerifyKey('not a key')).toThrow(LabelKeyError);
  });
});
