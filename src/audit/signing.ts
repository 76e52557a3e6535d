/**
 * @module audit/signing
 * Signed checkpoints. A retention purge deletes the oldest part of the chain; before it does,
 * it signs a statement of where that part ended (the last purged event's sequence number and
 * hash) with Ed25519 (RFC 8032, node:crypto). `verify` then proves that the remaining chain
 * starts exactly there, and says which public key vouches for it.
 *
 * A key is named by its key id: the first 8 bytes of the SHA-256 of its SubjectPublicKeyInfo,
 * base64url (the same naming as label signing keys, so one `openssl` workflow serves both).
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import type { AuditCheckpointRecord } from '../store/index.js';
import { AuditKeyError } from './errors.js';

/** An Ed25519 private key that signs checkpoints. */
export interface AuditSigningKey {
  readonly keyId: string;
  /** The matching public key, SubjectPublicKeyInfo PEM. */
  readonly publicKeyPem: string;
  sign(message: Uint8Array): Buffer;
}

/** The fields of a checkpoint its signature covers. */
export type CheckpointStatement = Pick<AuditCheckpointRecord, 'seq' | 'hash' | 'firstSeq' | 'purgedBefore' | 'createdAt'>;

function keyIdOf(key: KeyObject): string {
  return createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest().subarray(0, 8).toString('base64url');
}

/** The bytes a checkpoint signature covers. */
export function checkpointMessage(statement: CheckpointStatement): Buffer {
  return Buffer.from(JSON.stringify(['hegui.audit.checkpoint/1', statement.seq, statement.hash, statement.firstSeq, statement.purgedBefore, statement.createdAt]));
}

/**
 * A signing key from PKCS #8 PEM text (as `hegui audit keygen` writes it).
 *
 * @throws AuditKeyError naming `source` when the text is not an Ed25519 private key.
 */
export function parseAuditSigningKey(pem: string, source = 'HEGUI_AUDIT_SIGNING_KEY'): AuditSigningKey {
  if (!pem.includes('-----BEGIN PRIVATE KEY-----')) {
    throw new AuditKeyError('E_AUDIT_SIGNING_KEY', `${source} is not a PKCS #8 private key PEM ("-----BEGIN PRIVATE KEY-----"); create one with \`hegui audit keygen\``);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (cause) {
    throw new AuditKeyError('E_AUDIT_SIGNING_KEY', `${source} cannot be parsed as a private key`, { cause });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new AuditKeyError('E_AUDIT_SIGNING_KEY', `${source} is a ${key.asymmetricKeyType ?? 'unknown'} key; checkpoints are signed with Ed25519 (\`hegui audit keygen\`)`);
  }
  const publicKey = createPublicKey(key);
  return {
    keyId: keyIdOf(publicKey),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    sign: (message) => sign(null, message, key),
  };
}

/** The key id of an Ed25519 public key PEM. @throws AuditKeyError when it is not one. */
export function auditPublicKeyId(pem: string, source = 'public key'): string {
  return keyIdOf(parsePublicKey(pem, source));
}

function parsePublicKey(pem: string, source: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (cause) {
    throw new AuditKeyError('E_AUDIT_SIGNING_KEY', `${source} is not a public key PEM`, { cause });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new AuditKeyError('E_AUDIT_SIGNING_KEY', `${source} is a ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519`);
  return key;
}

/** The checkpoint statement signed with `key`, ready to store. */
export function signCheckpoint(statement: CheckpointStatement, key: AuditSigningKey): AuditCheckpointRecord {
  return {
    ...statement,
    keyId: key.keyId,
    publicKey: key.publicKeyPem,
    signature: key.sign(checkpointMessage(statement)).toString('base64'),
  };
}

/** What a checkpoint's signature proves. */
export interface CheckpointSignatureCheck {
  /** The signature verifies under the public key stored with the checkpoint. */
  valid: boolean;
  /** Key id of that public key (recomputed from it, not read from the row). */
  keyId: string | null;
  /** Why it is not valid, when it is not. */
  problem?: string;
}

/** Checks a stored checkpoint's signature against the public key stored with it. */
export function checkCheckpointSignature(checkpoint: AuditCheckpointRecord): CheckpointSignatureCheck {
  let key: KeyObject;
  try {
    key = parsePublicKey(checkpoint.publicKey, 'the stored public key');
  } catch (error) {
    return { valid: false, keyId: null, problem: (error as Error).message };
  }
  const keyId = keyIdOf(key);
  if (keyId !== checkpoint.keyId) return { valid: false, keyId, problem: `the stored key id ${checkpoint.keyId} does not match its public key (${keyId})` };
  const valid = verify(null, checkpointMessage(checkpoint), key, Buffer.from(checkpoint.signature, 'base64'));
  return valid ? { valid, keyId } : { valid, keyId, problem: 'the signature does not match the checkpoint (its sequence number, hash, range or dates were changed)' };
}

/** A new Ed25519 key pair as PEM (PKCS #8 private, SubjectPublicKeyInfo public). */
export function generateAuditSigningKey(): { privateKeyPem: string; publicKeyPem: string; keyId: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: keyIdOf(publicKey),
  };
}
