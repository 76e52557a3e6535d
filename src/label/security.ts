/**
 * @module label/security
 * The security data GB 45438 Annex E reserves in ReservedCode1 (producer) and ReservedCode2
 * (propagator): hegui stores there a signature over the label fields and a hash of the media
 * payload, so that changing either is detected (Labeling Measures Art. 10 forbids forging or
 * altering labels; Deep Synthesis Provisions Art. 18 forbids removing them).
 *
 * Format, printable ASCII as Annex E values are: `hegui1:<alg>:<keyId>:<payloadHash>:<signature>`
 * (base64url). The payload hash is SHA-256 for Ed25519 and SM3 for SM2, over the byte ranges
 * the container codec reports as payload (`LabelCodec.payloadRanges`), which exclude all
 * metadata, so relabelling keeps the hash while re-encoding the media changes it.
 *
 * - ReservedCode1 signs Label, ContentProducer and ProduceID: the producer's claim.
 * - ReservedCode2 signs those, ReservedCode1, ContentPropagator and PropagateID: the
 *   propagator's claim, chained to the producer's.
 */
import { createHash, getHashes } from 'node:crypto';
import { LabelKeyError } from './errors.js';
import type { ByteSource, LabelCodec } from './implicit/codec.js';
import { COPY_CHUNK } from './implicit/bytes.js';
import type { ImplicitLabel } from './model.js';
import type { LabelSigningKey, LabelVerifyKey, SignatureAlgorithm } from './security-keys.js';

/** What verification found: GB 45438 security data present and matching, or why not. */
export type SignatureStatus = 'valid' | 'invalid' | 'payload-changed' | 'absent' | 'unverified';

export type SecurityRole = 'producer' | 'propagator';

const PREFIX = 'hegui1';
const ALGORITHMS: readonly SignatureAlgorithm[] = ['ed25519', 'sm2'];

export interface SecurityData {
  algorithm: SignatureAlgorithm;
  keyId: string;
  payloadHash: Uint8Array;
  signature: Uint8Array;
}

/** Parses hegui security data; `undefined` for an empty field or another producer's format. */
export function parseSecurityData(text: string): SecurityData | undefined {
  const parts = text.trim().split(':');
  if (parts.length !== 5 || parts[0] !== PREFIX) return undefined;
  const [, algorithm, keyId, hash, signature] = parts as [string, SignatureAlgorithm, string, string, string];
  if (!ALGORITHMS.includes(algorithm)) return undefined;
  return { algorithm, keyId, payloadHash: Buffer.from(hash, 'base64url'), signature: Buffer.from(signature, 'base64url') };
}

export function formatSecurityData(data: SecurityData): string {
  const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');
  return [PREFIX, data.algorithm, data.keyId, b64(data.payloadHash), b64(data.signature)].join(':');
}

/** The bytes a role's signature covers. */
function signedMessage(role: SecurityRole, label: ImplicitLabel, algorithm: SignatureAlgorithm, keyId: string, payloadHash: Uint8Array): Uint8Array {
  const fields =
    role === 'producer'
      ? [label.Label, label.ContentProducer, label.ProduceID]
      : [label.Label, label.ContentProducer, label.ProduceID, label.ReservedCode1, label.ContentPropagator, label.PropagateID];
  const text = [`${PREFIX}-label`, role, algorithm, keyId, Buffer.from(payloadHash).toString('base64url'), JSON.stringify(fields)].join('\n');
  return new TextEncoder().encode(text);
}

function hashName(algorithm: SignatureAlgorithm): string {
  if (algorithm === 'ed25519') return 'sha256';
  if (!getHashes().includes('sm3')) throw new LabelKeyError("this Node.js build's OpenSSL has no SM3; SM2 security data cannot be computed here");
  return 'sm3';
}

/**
 * The hash of a file's media payload for `algorithm`'s suite, read in bounded chunks.
 *
 * @example
 * const digest = await payloadDigest(source, codec, 'ed25519'); // 32-byte SHA-256
 */
export async function payloadDigest(source: ByteSource, codec: Pick<LabelCodec, 'payloadRanges'>, algorithm: SignatureAlgorithm): Promise<Uint8Array> {
  const hash = createHash(hashName(algorithm));
  for (const range of await codec.payloadRanges(source)) {
    for (let at = range.start; at < range.end; ) {
      const chunk = await source.read(at, Math.min(COPY_CHUNK, range.end - at));
      if (chunk.length === 0) break;
      hash.update(chunk);
      at += chunk.length;
    }
  }
  return hash.digest();
}

/**
 * The label with `role`'s security data filled in (ReservedCode1 for the producer,
 * ReservedCode2 for the propagator).
 */
export function signLabel(label: ImplicitLabel, role: SecurityRole, key: LabelSigningKey, payloadHash: Uint8Array): ImplicitLabel {
  const signature = key.sign(signedMessage(role, label, key.algorithm, key.keyId, payloadHash));
  const data = formatSecurityData({ algorithm: key.algorithm, keyId: key.keyId, payloadHash, signature });
  return role === 'producer' ? { ...label, ReservedCode1: data } : { ...label, ReservedCode2: data };
}

export interface SignatureReport {
  /** The overall verdict: the worst of the two fields that carry security data. */
  status: SignatureStatus;
  producer: SignatureStatus;
  propagator: SignatureStatus;
}

/** Worst first: one bad field makes the whole label suspect. */
const SEVERITY: readonly SignatureStatus[] = ['invalid', 'payload-changed', 'unverified', 'valid', 'absent'];

/**
 * Verifies both security data fields. With no keys, fields that carry security data are
 * `unverified`; a field signed by a key not among `keys` is `unverified` too.
 *
 * @param digest the current payload hash for an algorithm (computed only when needed).
 */
export async function checkSignatures(
  label: ImplicitLabel,
  keys: readonly LabelVerifyKey[],
  digest: (algorithm: SignatureAlgorithm) => Promise<Uint8Array>,
): Promise<SignatureReport> {
  const check = async (role: SecurityRole, text: string): Promise<SignatureStatus> => {
    if (text.trim() === '') return 'absent';
    const data = parseSecurityData(text);
    const key = data && keys.find((k) => k.algorithm === data.algorithm && k.keyId === data.keyId);
    if (!data || !key) return 'unverified';
    if (!key.verify(signedMessage(role, label, data.algorithm, data.keyId, data.payloadHash), data.signature)) return 'invalid';
    const current = await digest(data.algorithm);
    return Buffer.from(current).equals(Buffer.from(data.payloadHash)) ? 'valid' : 'payload-changed';
  };
  const producer = await check('producer', label.ReservedCode1);
  const propagator = await check('propagator', label.ReservedCode2);
  const status = SEVERITY.find((s) => s === producer || s === propagator) ?? 'absent';
  return { status, producer, propagator };
}
