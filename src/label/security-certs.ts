/**
 * @module label/security-certs
 * Binding a signing key to the organisation that owns it (issue 11): a key id alone says which
 * key signed, not whose it is. A certified key comes with an X.509 chain (RFC 5280) whose leaf
 * names the unified social credit code (GB 32100-2015) in its subject, as
 * `organizationIdentifier` (OID 2.5.4.97, in the ETSI EN 319 412-1 form `NTRCN-<code>`) or
 * `serialNumber` (2.5.4.5); the chain must end at a certificate the verifier trusts. A
 * provider may issue its own chain (a self-issued root), and a platform decides which roots to
 * trust. A signature by a certified key is then valid only for labels whose provider code, in
 * the signed role, carries that same credit code (`checkSignatures`).
 */
import { X509Certificate } from 'node:crypto';
import { LabelKeyError } from './errors.js';
import { isUnifiedSocialCreditCode } from './model-provider.js';
import { parseVerifyKey, type LabelVerifyKey } from './security-keys.js';

/** A verification key whose certificate chain ends at a trusted root and names a credit code. */
export interface CertifiedVerifyKey extends LabelVerifyKey {
  /** The 18-character unified social credit code the leaf certificate names. */
  readonly creditCode: string;
  /** The leaf certificate's subject, for reports. */
  readonly subject: string;
}

/** Certificate chains longer than this are refused (real ones have two or three). */
const MAX_CHAIN = 8;

function certificates(pem: string, what: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new LabelKeyError(`${what} holds no PEM certificate`);
  try {
    return blocks.map((block) => new X509Certificate(block));
  } catch (error) {
    throw new LabelKeyError(`${what} holds a certificate that does not parse: ${(error as Error).message}`);
  }
}

/** The credit code a subject names, or undefined. */
function creditCodeOf(subject: string): string | undefined {
  for (const line of subject.split('\n')) {
    const [name, value = ''] = line.split(/=(.*)/s);
    const code = name === 'organizationIdentifier' ? /^NTRCN-(.{18})$/.exec(value)?.[1] : name === 'serialNumber' ? value : undefined;
    if (code !== undefined && isUnifiedSocialCreditCode(code)) return code;
  }
  return undefined;
}

function within(certificate: X509Certificate, at: Date): boolean {
  return new Date(certificate.validFrom) <= at && at <= new Date(certificate.validTo);
}

/**
 * A verification key from a certificate chain (leaf first, PEM), checked against `trusted`
 * roots: every certificate issued and signed by the next, each valid at `at`, every issuer a
 * CA, the last one issued by (or being) a trusted root, and a credit code in the leaf.
 *
 * @throws LabelKeyError naming what does not hold.
 * @example
 * const key = parseCertifiedKey(readFileSync('producer-chain.pem', 'utf8'), [readFileSync('root.pem', 'utf8')]);
 * key.creditCode; // '91350100M000100Y43'
 */
export function parseCertifiedKey(chainPem: string, trusted: readonly string[], options: { at?: Date } = {}): CertifiedVerifyKey {
  const at = options.at ?? new Date();
  const chain = certificates(chainPem, 'the certificate chain');
  if (chain.length > MAX_CHAIN) throw new LabelKeyError(`the certificate chain has ${chain.length} certificates, more than ${MAX_CHAIN}`);
  const roots = trusted.flatMap((pem, i) => certificates(pem, `trusted root ${i + 1}`));
  if (roots.length === 0) throw new LabelKeyError('no trusted root certificate given: a certified key is only as good as the roots it is checked against');
  for (const [i, certificate] of chain.entries()) {
    if (!within(certificate, at)) throw new LabelKeyError(`certificate ${i + 1} (${certificate.subject.replace(/\n/g, ', ')}) is not valid at ${at.toISOString()}`);
    const issuer = chain[i + 1];
    if (issuer && !(issuer.ca && certificate.checkIssued(issuer) && certificate.verify(issuer.publicKey))) {
      throw new LabelKeyError(`certificate ${i + 1} is not issued and signed by certificate ${i + 2}, a CA`);
    }
  }
  const last = chain[chain.length - 1] as X509Certificate;
  const anchored = roots.some(
    (root) => within(root, at) && (root.fingerprint256 === last.fingerprint256 || (root.ca && last.checkIssued(root) && last.verify(root.publicKey))),
  );
  if (!anchored) throw new LabelKeyError('the certificate chain does not end at a trusted root');
  const leaf = chain[0] as X509Certificate;
  const creditCode = creditCodeOf(leaf.subject);
  if (!creditCode) {
    throw new LabelKeyError('the leaf certificate names no unified social credit code (subject organizationIdentifier NTRCN-<code> or serialNumber <code>)');
  }
  const key = parseVerifyKey(leaf.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  return { algorithm: key.algorithm, keyId: key.keyId, pem: key.pem, verify: (message, signature) => key.verify(message, signature), creditCode, subject: leaf.subject };
}

/** True when `key` is certified for a credit code. */
export function isCertified(key: LabelVerifyKey): key is CertifiedVerifyKey {
  return typeof (key as Partial<CertifiedVerifyKey>).creditCode === 'string';
}
