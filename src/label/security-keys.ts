/**
 * @module label/security-keys
 * Keys that sign and verify the security data of a label: Ed25519 (RFC 8032, through
 * node:crypto) by default, or SM2 (GB/T 32918, with SM3 per GB/T 32905, through sm-crypto)
 * for providers that must use China's national algorithms. Both are read from and written to
 * standard PEM (PKCS #8 private keys, SubjectPublicKeyInfo public keys), so OpenSSL and other
 * tools can use the same files. A key is named by its key id: the first 8 bytes of the
 * SHA-256 of its SubjectPublicKeyInfo, base64url.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import type SmCrypto from 'sm-crypto';
import { LabelKeyError } from './errors.js';

// sm-crypto 0.5 has getPublicKeyFromPrivateKey; @types/sm-crypto 0.3 does not declare it.
type Sm2 = typeof SmCrypto.sm2 & { getPublicKeyFromPrivateKey(privateKey: string): string };
let sm2Module: Sm2 | undefined;

/**
 * sm-crypto's SM2, loaded when an SM2 key is first used: Ed25519 keys and commands that never
 * sign do not pay for loading it (about 40 ms of a command's start, issue 14).
 */
function sm2(): Sm2 {
  sm2Module ??= (createRequire(import.meta.url)('sm-crypto') as typeof SmCrypto).sm2 as Sm2;
  return sm2Module;
}

export type SignatureAlgorithm = 'ed25519' | 'sm2';

/** A key that can sign label security data. */
export interface LabelSigningKey {
  readonly algorithm: SignatureAlgorithm;
  readonly keyId: string;
  sign(message: Uint8Array): Uint8Array;
  /** The matching public key. */
  readonly publicKey: LabelVerifyKey;
}

/** A key that can verify label security data. */
export interface LabelVerifyKey {
  readonly algorithm: SignatureAlgorithm;
  readonly keyId: string;
  verify(message: Uint8Array, signature: Uint8Array): boolean;
  /** The key as SubjectPublicKeyInfo PEM. */
  readonly pem: string;
}

const OID_EC_PUBLIC_KEY = '2a8648ce3d0201'; // 1.2.840.10045.2.1
const OID_SM2 = '2a811ccf5501822d'; // 1.2.156.10197.1.301
/** GB/T 35276 default signer identity, used by SM2 when none is agreed. */
const SM2_USER_ID = '1234567812345678';

function keyIdOf(spkiDer: Uint8Array): string {
  return createHash('sha256').update(spkiDer).digest().subarray(0, 8).toString('base64url');
}

function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

function pem(label: string, der: Uint8Array): string {
  const body = Buffer.from(der).toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}

function pemBody(text: string): { label: string; der: Uint8Array } {
  const match = /-----BEGIN ([A-Z ]+)-----([\s\S]*?)-----END \1-----/.exec(text);
  if (!match) throw new LabelKeyError('expected a PEM file (-----BEGIN ... KEY-----)');
  return { label: match[1] ?? '', der: Buffer.from((match[2] ?? '').replace(/\s+/g, ''), 'base64') };
}

// --- minimal DER (X.690) for the two fixed structures SM2 keys use ---------------------------

interface Tlv {
  tag: number;
  value: Uint8Array;
}

function readTlvs(bytes: Uint8Array): Tlv[] {
  const out: Tlv[] = [];
  for (let at = 0; at < bytes.length; ) {
    const tag = bytes[at] ?? 0;
    let length = bytes[at + 1] ?? 0;
    at += 2;
    if (length & 0x80) {
      const n = length & 0x7f;
      if (n > 3) throw new LabelKeyError('DER length too large');
      length = 0;
      for (let i = 0; i < n; i++) length = length * 256 + (bytes[at + i] ?? 0);
      at += n;
    }
    if (at + length > bytes.length) throw new LabelKeyError('truncated DER structure');
    out.push({ tag, value: bytes.subarray(at, at + length) });
    at += length;
  }
  return out;
}

function derLength(n: number): number[] {
  if (n < 0x80) return [n];
  if (n < 0x100) return [0x81, n];
  return [0x82, n >> 8, n & 0xff];
}

function der(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag, ...derLength(body.length)]), body]);
}

const hex = (h: string): Uint8Array => Buffer.from(h, 'hex');
const sm2AlgorithmId = (): Uint8Array => der(0x30, der(0x06, hex(OID_EC_PUBLIC_KEY)), der(0x06, hex(OID_SM2)));

function sm2Spki(publicHex: string): Uint8Array {
  return der(0x30, sm2AlgorithmId(), der(0x03, Buffer.concat([Buffer.from([0]), hex(publicHex)])));
}

function sm2Pkcs8(privateHex: string, publicHex: string): Uint8Array {
  const ecPrivateKey = der(
    0x30,
    der(0x02, Buffer.from([1])),
    der(0x04, hex(privateHex)),
    der(0xa1, der(0x03, Buffer.concat([Buffer.from([0]), hex(publicHex)]))),
  );
  return der(0x30, der(0x02, Buffer.from([0])), sm2AlgorithmId(), der(0x04, ecPrivateKey));
}

function isSm2AlgorithmId(tlv: Tlv | undefined): boolean {
  if (tlv?.tag !== 0x30) return false;
  const [oid, curve] = readTlvs(tlv.value);
  return toHex(oid?.value ?? new Uint8Array()) === OID_EC_PUBLIC_KEY && toHex(curve?.value ?? new Uint8Array()) === OID_SM2;
}

/** The private scalar (hex) of an SM2 PKCS #8 key, or undefined when the key is not SM2. */
function sm2PrivateHex(pkcs8: Uint8Array): string | undefined {
  const [outer] = readTlvs(pkcs8);
  const [, algorithm, octets] = readTlvs(outer?.value ?? new Uint8Array());
  if (!isSm2AlgorithmId(algorithm) || octets?.tag !== 0x04) return undefined;
  const [ecKey] = readTlvs(octets.value);
  const [, scalar] = readTlvs(ecKey?.value ?? new Uint8Array());
  if (scalar?.tag !== 0x04 || scalar.value.length !== 32) throw new LabelKeyError('SM2 private key is not 32 bytes');
  return toHex(scalar.value);
}

/** The uncompressed public point (hex) of an SM2 SubjectPublicKeyInfo, or undefined. */
function sm2PublicHex(spki: Uint8Array): string | undefined {
  const [outer] = readTlvs(spki);
  const [algorithm, bits] = readTlvs(outer?.value ?? new Uint8Array());
  if (!isSm2AlgorithmId(algorithm) || bits?.tag !== 0x03) return undefined;
  const point = bits.value.subarray(1);
  if (point.length !== 65 || point[0] !== 0x04) throw new LabelKeyError('SM2 public key is not an uncompressed point');
  return toHex(point);
}

// --- keys -------------------------------------------------------------------------------------

function sm2VerifyKey(publicHex: string): LabelVerifyKey {
  const spki = sm2Spki(publicHex);
  return {
    algorithm: 'sm2',
    keyId: keyIdOf(spki),
    pem: pem('PUBLIC KEY', spki),
    verify: (message, signature) =>
      sm2().doVerifySignature(Array.from(message), toHex(signature), publicHex, { hash: true, userId: SM2_USER_ID }),
  };
}

function sm2SigningKey(privateHex: string): LabelSigningKey {
  const publicHex = sm2().getPublicKeyFromPrivateKey(privateHex);
  const publicKey = sm2VerifyKey(publicHex);
  return {
    algorithm: 'sm2',
    keyId: publicKey.keyId,
    publicKey,
    sign: (message) => hex(sm2().doSignature(Array.from(message), privateHex, { hash: true, publicKey: publicHex, userId: SM2_USER_ID })),
  };
}

function edVerifyKey(key: KeyObject): LabelVerifyKey {
  const spki = key.export({ type: 'spki', format: 'der' });
  return {
    algorithm: 'ed25519',
    keyId: keyIdOf(spki),
    pem: pem('PUBLIC KEY', spki),
    verify: (message, signature) => edVerify(null, message, key, signature),
  };
}

function edSigningKey(key: KeyObject): LabelSigningKey {
  const publicKey = edVerifyKey(createPublicKey(key));
  return { algorithm: 'ed25519', keyId: publicKey.keyId, publicKey, sign: (message) => edSign(null, message, key) };
}

/**
 * A signing key from a PKCS #8 PEM private key (Ed25519 or SM2).
 *
 * @throws LabelKeyError when the PEM is not a private key of a supported algorithm.
 * @example
 * const key = parseSigningKey(await readFile('label-key.pem', 'utf8'));
 */
export function parseSigningKey(text: string): LabelSigningKey {
  const { label, der: body } = pemBody(text);
  if (label !== 'PRIVATE KEY') throw new LabelKeyError(`expected a PKCS #8 "PRIVATE KEY" PEM, found "${label}"`);
  const sm2 = sm2PrivateHex(body);
  if (sm2 !== undefined) return sm2SigningKey(sm2);
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: Buffer.from(body), format: 'der', type: 'pkcs8' });
  } catch (error) {
    throw new LabelKeyError('the private key cannot be parsed', { cause: error });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new LabelKeyError(`${key.asymmetricKeyType ?? 'unknown'} keys are not supported; use Ed25519 or SM2`);
  return edSigningKey(key);
}

/**
 * A verification key from a PEM public key, or from a private key (its public half).
 *
 * @throws LabelKeyError when the PEM holds no Ed25519 or SM2 key.
 */
export function parseVerifyKey(text: string): LabelVerifyKey {
  const { label, der: body } = pemBody(text);
  if (label === 'PRIVATE KEY') return parseSigningKey(text).publicKey;
  if (label !== 'PUBLIC KEY') throw new LabelKeyError(`expected a "PUBLIC KEY" PEM, found "${label}"`);
  const sm2 = sm2PublicHex(body);
  if (sm2 !== undefined) return sm2VerifyKey(sm2);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(body), format: 'der', type: 'spki' });
  } catch (error) {
    throw new LabelKeyError('the public key cannot be parsed', { cause: error });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new LabelKeyError(`${key.asymmetricKeyType ?? 'unknown'} keys are not supported; use Ed25519 or SM2`);
  return edVerifyKey(key);
}

/**
 * A new key pair as PEM text.
 *
 * @example
 * const { privateKeyPem, publicKeyPem, keyId } = generateLabelKeys('sm2');
 */
export function generateLabelKeys(algorithm: SignatureAlgorithm = 'ed25519'): { privateKeyPem: string; publicKeyPem: string; keyId: string } {
  if (algorithm === 'sm2') {
    const pair = sm2().generateKeyPairHex();
    const privateHex = pair.privateKey.padStart(64, '0');
    const key = sm2SigningKey(privateHex);
    return { privateKeyPem: pem('PRIVATE KEY', sm2Pkcs8(privateHex, pair.publicKey)), publicKeyPem: key.publicKey.pem, keyId: key.keyId };
  }
  const { privateKey } = generateKeyPairSync('ed25519');
  const key = edSigningKey(privateKey);
  return { privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKeyPem: key.publicKey.pem, keyId: key.keyId };
}
