/**
 * @module audit/content
 * Encryption at rest of the content an event keeps (AI Measures Art. 11: content is the part
 * that identifies people, so it is kept only per policy and never in the clear). AES-256-GCM
 * through node:crypto; each row stores the id of the key that sealed it, so keys can rotate:
 * the first key of a keyring seals new content, every key of it opens old content.
 *
 * Stored form: 12-byte IV, ciphertext, 16-byte tag. The key id is bound in as associated data.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { AuditContentError, AuditKeyError } from './errors.js';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

/** One AES-256 key and its id (8 characters derived from the key; the key cannot be recovered from it). */
interface ContentKey {
  id: string;
  key: Buffer;
}

function contentKeyId(key: Buffer): string {
  return createHash('sha256').update('hegui.audit.content-key/1\0').update(key).digest().subarray(0, 6).toString('base64url');
}

/**
 * The keys that seal and open audit content.
 *
 * @example
 * const keys = AuditContentKeyring.parse(process.env.HEGUI_AUDIT_CONTENT_KEY ?? '');
 * const { sealed, keyId } = keys.seal(Buffer.from('{"prompt":"..."}'));
 * keys.open(sealed, keyId); // the plaintext again
 */
export class AuditContentKeyring {
  readonly #keys: readonly ContentKey[];

  private constructor(keys: readonly ContentKey[]) {
    this.#keys = keys;
  }

  /**
   * Reads keys written as base64 (32 bytes each), comma-separated, newest first: the first
   * seals new content, the others only open content sealed before a rotation.
   *
   * @throws AuditKeyError naming `source` when a key is not 32 bytes of base64.
   */
  static parse(text: string, source = 'HEGUI_AUDIT_CONTENT_KEY'): AuditContentKeyring {
    const parts = text.split(',').map((s) => s.trim());
    if (parts.length === 0 || parts.some((p) => p === '')) {
      throw new AuditKeyError('E_AUDIT_CONTENT_KEY', `${source} is empty; it holds a 32-byte key in base64 (create one with \`hegui audit keygen\`)`);
    }
    const keys = parts.map((part, i) => {
      const label = parts.length > 1 ? `${source} key ${i + 1}` : source;
      if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(part)) throw new AuditKeyError('E_AUDIT_CONTENT_KEY', `${label} is not base64`);
      const key = Buffer.from(part, part.includes('-') || part.includes('_') ? 'base64url' : 'base64');
      if (key.length !== KEY_BYTES) {
        throw new AuditKeyError('E_AUDIT_CONTENT_KEY', `${label} decodes to ${key.length} bytes; AES-256 needs exactly ${KEY_BYTES} (44 base64 characters, from \`hegui audit keygen\`)`);
      }
      return { id: contentKeyId(key), key };
    });
    return new AuditContentKeyring(keys);
  }

  /** A fresh random key, base64, for `HEGUI_AUDIT_CONTENT_KEY`. */
  static generateKey(): string {
    return randomBytes(KEY_BYTES).toString('base64');
  }

  /** Id of the key that seals new content. */
  get currentKeyId(): string {
    return (this.#keys[0] as ContentKey).id;
  }

  /** Ids of every key, the sealing one first. */
  get keyIds(): string[] {
    return this.#keys.map((k) => k.id);
  }

  /** Encrypts `plaintext` under the current key. */
  seal(plaintext: Uint8Array): { sealed: Buffer; keyId: string } {
    const current = this.#keys[0] as ContentKey;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', current.key, iv);
    cipher.setAAD(Buffer.from(current.id));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return { sealed: Buffer.concat([iv, body, cipher.getAuthTag()]), keyId: current.id };
  }

  /** Decrypts content sealed under `keyId`. @throws AuditContentError when the key is unknown or the bytes were altered. */
  open(sealed: Uint8Array, keyId: string): Buffer {
    const entry = this.#keys.find((k) => k.id === keyId);
    if (!entry) throw new AuditContentError(`content was sealed with key ${keyId}, which is not in HEGUI_AUDIT_CONTENT_KEY (configured: ${this.keyIds.join(', ')}); add the old key after the current one, comma-separated`);
    if (sealed.length < IV_BYTES + TAG_BYTES) throw new AuditContentError('stored content is too short to be AES-GCM output; it was altered');
    const bytes = Buffer.from(sealed);
    const decipher = createDecipheriv('aes-256-gcm', entry.key, bytes.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(entry.id));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
    } catch (cause) {
      throw new AuditContentError(`stored content fails its AES-GCM check under key ${keyId}; it was altered`, { cause });
    }
  }
}
