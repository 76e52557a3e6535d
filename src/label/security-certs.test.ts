import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabelKeyError } from './errors.js';
import { createLabel } from './model.js';
import { checkSignatures, signLabel } from './security.js';
import { parseCertifiedKey } from './security-certs.js';
import { parseSigningKey } from './security-keys.js';
import { systemTool } from '../../test/helpers/system.js';

const PRODUCER = '001191350100M000100Y431A001';
const OTHER_PRODUCER = '001191110108MA01KP2T5U1P001';
const hash = new Uint8Array(32).fill(3);
const digest = (): Promise<Uint8Array> => Promise.resolve(hash);

describe.runIf(systemTool('openssl', 'openssl'))('keys certified for a credit code', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hegui-certs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const openssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const file = (name: string): string => readFileSync(join(dir, name), 'utf8');

  /** A self-issued root, and a leaf for `subject` signed by it. */
  function issue(name: string, subject: string): void {
    openssl('genpkey', '-algorithm', 'ed25519', '-out', `${name}.key`);
    openssl('req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'root.pem', '-CAkey', 'root.key', '-CAcreateserial', '-days', '2', '-out', `${name}.pem`);
  }
  beforeAll(() => {
    openssl('req', '-x509', '-newkey', 'ed25519', '-keyout', 'root.key', '-out', 'root.pem', '-subj', '/CN=Provider root/O=Example', '-days', '2', '-nodes');
    openssl('req', '-x509', '-newkey', 'ed25519', '-keyout', 'stranger.key', '-out', 'stranger.pem', '-subj', '/CN=Someone else', '-days', '2', '-nodes');
    issue('producer', '/CN=label signer/organizationIdentifier=NTRCN-91350100M000100Y43');
    issue('nocode', '/CN=label signer/O=Example');
  });

  it('verifies a signature only for labels of the organisation the certificate names', async () => {
    const key = parseCertifiedKey(file('producer.pem'), [file('root.pem')]);
    expect(key.creditCode).toBe('91350100M000100Y43');
    const signer = parseSigningKey(file('producer.key'));
    const own = signLabel(createLabel({ producer: PRODUCER, produceId: 'c-1' }), 'producer', signer, hash);
    expect((await checkSignatures(own, [key], digest)).producer).toBe('valid');
    // The same key signing for another company's code: a valid signature, but not its claim to make.
    const foreign = signLabel(createLabel({ producer: OTHER_PRODUCER, produceId: 'c-2' }), 'producer', signer, hash);
    expect((await checkSignatures(foreign, [key], digest)).producer).toBe('invalid');
  });

  it('refuses chains that do not end at a trusted root, have expired, or name no credit code', () => {
    expect(() => parseCertifiedKey(file('producer.pem'), [file('stranger.pem')])).toThrow(LabelKeyError);
    expect(() => parseCertifiedKey(file('producer.pem'), [])).toThrow(/trusted root/);
    expect(() => parseCertifiedKey(file('producer.pem'), [file('root.pem')], { at: new Date(Date.now() + 10 * 86_400_000) })).toThrow(/not valid at/);
    expect(() => parseCertifiedKey(file('nocode.pem'), [file('root.pem')])).toThrow(/credit code/);
    expect(() => parseCertifiedKey('not a certificate', [file('root.pem')])).toThrow(LabelKeyError);
  });
});
