/**
 * @module label/security
 * The security data GB 45438 Annex E reserves in ReservedCode1 (producer) and ReservedCode2
 * (propagator): hegui stores there a signature over the label fields and a hash of the file,
 * so that changing either is detected (Labeling Measures Art. 10 forbids forging or altering
 * labels; Deep Synthesis Provisions Art. 18 forbids removing them). docs/labels.md is the
 * specification a verifier can be written from.
 *
 * Format, printable ASCII as Annex E values are: `<scheme>:<alg>:<keyId>:<hash>:<signature>`
 * (base64url). The hash is SHA-256 for Ed25519 and SM3 for SM2.
 * - `hegui2` (written now): the hash covers the signed content, everything in the file but the
 *   label itself (`LabelCodec.signedContent`), so any change to what a person sees or hears,
 *   decoding parameters included (sample rate, matrix, orientation, colour profile, an appended
 *   PDF revision), breaks it, while relabelling and propagating do not.
 * - `hegui1` (older files, and containers without a signed-content definition yet): the hash
 *   covers the media samples only (`LabelCodec.payloadRanges`); a valid one is reported as
 *   `payload-only`, never `valid`, because a header can change under it.
 *
 * - ReservedCode1 signs Label, ContentProducer and ProduceID: the producer's claim.
 * - ReservedCode2 signs those, ReservedCode1, ContentPropagator and PropagateID: the
 *   propagator's claim, chained to the producer's.
 */
import { createHash, getHashes, type Hash } from 'node:crypto';
import { LabelKeyError, ProviderCodeError } from './errors.js';
import type { ByteSink, ByteSource, LabelCodec } from './implicit/codec.js';
import { COPY_CHUNK } from './implicit/bytes.js';
import { serviceTypeProblem, type ImplicitLabel } from './model.js';
import { isProviderCode, parseProviderCode } from './model-provider.js';
import { isCertified } from './security-certs.js';
import type { LabelSigningKey, LabelVerifyKey, SignatureAlgorithm } from './security-keys.js';
import { requestTimestamp, verifyTimestamp, type TimestampOptions, type TimestampReport } from './security-timestamp.js';

/**
 * What verification found: GB 45438 security data present and matching (`valid` for the
 * signed content, `payload-only` for an older signature over the media samples alone), or why not.
 */
export type SignatureStatus = 'valid' | 'payload-only' | 'invalid' | 'payload-changed' | 'absent' | 'unverified';

export type SecurityRole = 'producer' | 'propagator';

/** What a signature's hash covers: the signed content (`hegui2`) or the media samples (`hegui1`). */
export type Binding = 'content' | 'payload';

const SCHEMES: Record<Binding, string> = { content: 'hegui2', payload: 'hegui1' };
const ALGORITHMS: readonly SignatureAlgorithm[] = ['ed25519', 'sm2'];

export interface SecurityData {
  binding: Binding;
  algorithm: SignatureAlgorithm;
  keyId: string;
  payloadHash: Uint8Array;
  signature: Uint8Array;
  /** An RFC 3161 TimeStampToken (DER) over the signature, when a TSA stamped it. */
  timestamp?: Uint8Array;
}

/** Parses hegui security data; `undefined` for an empty field or another producer's format. */
export function parseSecurityData(text: string): SecurityData | undefined {
  const parts = text.trim().split(':');
  const binding = (Object.keys(SCHEMES) as Binding[]).find((b) => SCHEMES[b] === parts[0]);
  if ((parts.length !== 5 && parts.length !== 6) || !binding) return undefined;
  const [, algorithm, keyId, hash, signature, timestamp] = parts as [string, SignatureAlgorithm, string, string, string, string | undefined];
  if (!ALGORITHMS.includes(algorithm) || ![keyId, hash, signature, ...(timestamp === undefined ? [] : [timestamp])].every((part) => /^[A-Za-z0-9_-]+$/.test(part))) return undefined;
  return {
    binding,
    algorithm,
    keyId,
    payloadHash: Buffer.from(hash, 'base64url'),
    signature: Buffer.from(signature, 'base64url'),
    ...(timestamp === undefined ? {} : { timestamp: Buffer.from(timestamp, 'base64url') }),
  };
}

export function formatSecurityData(data: SecurityData): string {
  const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');
  const fields = [SCHEMES[data.binding], data.algorithm, data.keyId, b64(data.payloadHash), b64(data.signature)];
  if (data.timestamp && data.timestamp.length > 0) fields.push(b64(data.timestamp));
  return fields.join(':');
}

/** The bytes a role's signature covers (docs/labels.md, "Signed message"). */
function signedMessage(role: SecurityRole, label: ImplicitLabel, data: Omit<SecurityData, 'signature'>): Uint8Array {
  const fields =
    role === 'producer'
      ? [label.Label, label.ContentProducer, label.ProduceID]
      : [label.Label, label.ContentProducer, label.ProduceID, label.ReservedCode1, label.ContentPropagator, label.PropagateID];
  const hash = Buffer.from(data.payloadHash).toString('base64url');
  const text = [`${SCHEMES[data.binding]}-label`, role, data.algorithm, data.keyId, hash, JSON.stringify(fields)].join('\n');
  return Buffer.from(text, 'utf8');
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

/** A sink that hashes what it is given and keeps nothing. */
class HashSink implements ByteSink {
  readonly hash: Hash;
  constructor(algorithm: SignatureAlgorithm) {
    this.hash = createHash(hashName(algorithm));
  }
  write(chunk: Uint8Array): Promise<void> {
    this.hash.update(chunk);
    return Promise.resolve();
  }
}

/**
 * The hash of a file's signed content (docs/labels.md) for `algorithm`'s suite, streamed
 * through the codec; `undefined` when the codec defines no signed content.
 */
export async function contentDigest(source: ByteSource, codec: Pick<LabelCodec, 'signedContent'>, algorithm: SignatureAlgorithm): Promise<Uint8Array | undefined> {
  if (!codec.signedContent) return undefined;
  const sink = new HashSink(algorithm);
  await codec.signedContent(source, sink);
  return sink.hash.digest();
}

/** The binding a codec signs with: the signed content when it defines one, else the payload. */
export function bindingOf(codec: Pick<LabelCodec, 'signedContent'>): Binding {
  return codec.signedContent ? 'content' : 'payload';
}

/**
 * The label with `role`'s security data filled in (ReservedCode1 for the producer,
 * ReservedCode2 for the propagator).
 *
 * @param digest the hash of what `binding` covers: the signed content (`hegui2`, the default:
 *   a whole text answer is its own signed content) or the media samples (`hegui1`).
 */
export function signLabel(label: ImplicitLabel, role: SecurityRole, key: LabelSigningKey, digest: Uint8Array, binding: Binding = 'content'): ImplicitLabel {
  const unsigned = { binding, algorithm: key.algorithm, keyId: key.keyId, payloadHash: digest };
  const data = formatSecurityData({ ...unsigned, signature: key.sign(signedMessage(role, label, unsigned)) });
  return role === 'producer' ? { ...label, ReservedCode1: data } : { ...label, ReservedCode2: data };
}

/**
 * `role`'s security data in `label` with an RFC 3161 timestamp over its signature from the TSA
 * at `tsaUrl` (docs/labels.md, "Timestamps").
 *
 * @throws LabelTimestampError when the TSA gives no usable token; the label is then not written.
 */
export async function stampLabel(label: ImplicitLabel, role: SecurityRole, tsaUrl: string, options: TimestampOptions = {}): Promise<ImplicitLabel> {
  const field = role === 'producer' ? 'ReservedCode1' : 'ReservedCode2';
  const data = parseSecurityData(label[field]);
  if (!data) throw new LabelKeyError(`${field} holds no hegui signature to timestamp`);
  const timestamp = await requestTimestamp(tsaUrl, data.signature, options);
  return { ...label, [field]: formatSecurityData({ ...data, timestamp }) };
}

export interface SignatureReport {
  /** The overall verdict: the worst of the two fields that carry security data. */
  status: SignatureStatus;
  producer: SignatureStatus;
  propagator: SignatureStatus;
  /** Each field's timestamp (`none` when it has none); it says when, not whether, the signature holds. */
  timestamps: { producer: TimestampReport; propagator: TimestampReport };
}

const NONE: TimestampReport = Object.freeze({ status: 'none' });

/** The timestamps of a label with no security data, or whose fields could not be checked. */
export const NO_TIMESTAMPS: SignatureReport['timestamps'] = Object.freeze({ producer: NONE, propagator: NONE });

export interface CheckOptions {
  /** Root certificates (PEM) of the time-stamping authorities the verifier trusts. */
  tsaTrust?: readonly string[];
}

/** True when the code a role vouches for names the other service type: no valid claim of that role. */
function roleMismatch(role: SecurityRole, label: ImplicitLabel): boolean {
  const field = role === 'producer' ? 'ContentProducer' : 'ContentPropagator';
  try {
    return serviceTypeProblem(field, label[field], label.ContentProducer) !== undefined;
  } catch (error) {
    if (error instanceof ProviderCodeError) return true;
    throw error;
  }
}

/**
 * False when `key` is certified for a credit code other than the one in the provider code the
 * role vouches for: a certified key speaks only for its own organisation.
 */
function certifiedFor(key: LabelVerifyKey, role: SecurityRole, label: ImplicitLabel): boolean {
  if (!isCertified(key)) return true;
  const code = role === 'producer' ? label.ContentProducer : label.ContentPropagator;
  return isProviderCode(code) && parseProviderCode(code).identifier === key.creditCode;
}

/** Worst first: one bad field makes the whole label suspect. */
const SEVERITY: readonly SignatureStatus[] = ['invalid', 'payload-changed', 'unverified', 'payload-only', 'valid', 'absent'];

/**
 * Verifies both security data fields. With no keys, fields that carry security data are
 * `unverified`; a field signed by a key not among `keys` is `unverified` too.
 *
 * @param digest the current hash of what `binding` covers for an algorithm (computed only when
 *   needed), or `undefined` when the file's container cannot compute it.
 */
export async function checkSignatures(
  label: ImplicitLabel,
  keys: readonly LabelVerifyKey[],
  digest: (algorithm: SignatureAlgorithm, binding: Binding) => Promise<Uint8Array | undefined>,
  options: CheckOptions = {},
): Promise<SignatureReport> {
  const check = async (role: SecurityRole, text: string): Promise<SignatureStatus> => {
    if (text.trim() === '') return 'absent';
    const data = parseSecurityData(text);
    const key = data && keys.find((k) => k.algorithm === data.algorithm && k.keyId === data.keyId);
    if (!data || !key) return 'unverified';
    if (!key.verify(signedMessage(role, label, data), data.signature) || roleMismatch(role, label) || !certifiedFor(key, role, label)) return 'invalid';
    const current = await digest(data.algorithm, data.binding);
    if (!current) return 'unverified';
    if (!Buffer.from(current).equals(Buffer.from(data.payloadHash))) return 'payload-changed';
    return data.binding === 'content' ? 'valid' : 'payload-only';
  };
  const producer = await check('producer', label.ReservedCode1);
  const propagator = await check('propagator', label.ReservedCode2);
  const status = SEVERITY.find((s) => s === producer || s === propagator) ?? 'absent';
  // Most labels carry no timestamp: only a field that has one is parsed again and checked.
  const hasToken = (text: string): boolean => text.split(':', 7).length === 6;
  const stamp = async (text: string): Promise<TimestampReport> => {
    const data = hasToken(text) ? parseSecurityData(text) : undefined;
    if (hasToken(text) && !data) return { status: 'invalid', reason: 'the security data around the timestamp is not in hegui form' };
    return data?.timestamp ? verifyTimestamp(data.timestamp, data.signature, options.tsaTrust) : NONE;
  };
  const stamped = hasToken(label.ReservedCode1) || hasToken(label.ReservedCode2);
  const timestamps = stamped ? { producer: await stamp(label.ReservedCode1), propagator: await stamp(label.ReservedCode2) } : NO_TIMESTAMPS;
  return { status, producer, propagator, timestamps };
}
