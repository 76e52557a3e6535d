/**
 * @module audit/config
 * The audit log's settings from the environment, shared by the CLI and the server:
 *
 * | variable | holds | needed by |
 * |---|---|---|
 * | `HEGUI_AUDIT_CONTENT_KEY` | AES-256 key, base64 of 32 bytes; more keys after commas (newest first) to read content sealed before a rotation | keeping content (policy `flagged` or `all`), exporting with content |
 * | `HEGUI_AUDIT_SIGNING_KEY` | path of an Ed25519 private key PEM | `purge` (signs its checkpoint) |
 * | `HEGUI_AUDIT_RETENTION_MONTHS` | whole months, at least 6 (the default) | `purge` |
 *
 * `hegui audit keygen` creates both keys.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { AuditContentKeyring } from './content.js';
import { AuditKeyError } from './errors.js';
import { checkRetentionMonths, LEGAL_MIN_RETENTION_MONTHS } from './retention.js';
import { type AuditSigningKey, parseAuditSigningKey } from './signing.js';

export const AUDIT_CONTENT_KEY_ENV = 'HEGUI_AUDIT_CONTENT_KEY';
export const AUDIT_SIGNING_KEY_ENV = 'HEGUI_AUDIT_SIGNING_KEY';
export const AUDIT_RETENTION_ENV = 'HEGUI_AUDIT_RETENTION_MONTHS';

/** The key and retention settings the environment provides; keys are undefined when unset. */
export interface AuditEnvironment {
  contentKeys: AuditContentKeyring | undefined;
  signingKey: AuditSigningKey | undefined;
  retentionMonths: number;
}

/**
 * Reads the audit settings from `env`; a relative signing-key path resolves against `cwd`.
 * An unset variable is fine here (the operation that needs it says so); a malformed one is not.
 *
 * @throws AuditKeyError or AuditConfigError naming the variable.
 * @example
 * const log = new AuditLog(store, { ...auditEnvironment(process.env), contentPolicy: 'flagged' });
 */
export function auditEnvironment(env: Record<string, string | undefined>, cwd: string = process.cwd()): AuditEnvironment {
  const contentText = env[AUDIT_CONTENT_KEY_ENV];
  const signingPath = env[AUDIT_SIGNING_KEY_ENV];
  const retentionText = env[AUDIT_RETENTION_ENV];
  return {
    contentKeys: contentText === undefined || contentText === '' ? undefined : AuditContentKeyring.parse(contentText, AUDIT_CONTENT_KEY_ENV),
    signingKey: signingPath === undefined || signingPath === '' ? undefined : readSigningKey(resolve(cwd, signingPath)),
    retentionMonths:
      retentionText === undefined || retentionText === ''
        ? LEGAL_MIN_RETENTION_MONTHS
        : checkRetentionMonths(/^\d+$/.test(retentionText.trim()) ? Number(retentionText) : Number.NaN, AUDIT_RETENTION_ENV),
  };
}

function readSigningKey(path: string): AuditSigningKey {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a folder' : (cause as Error).message;
    throw new AuditKeyError('E_AUDIT_SIGNING_KEY', `${AUDIT_SIGNING_KEY_ENV} names ${path}, which cannot be read (${why}); create a key with \`hegui audit keygen\``, { cause });
  }
  return parseAuditSigningKey(pem, `${AUDIT_SIGNING_KEY_ENV} (${path})`);
}

/** The content keys, or an error that says how to provide them. */
export function requireContentKeys(keys: AuditContentKeyring | undefined, purpose: string): AuditContentKeyring {
  if (keys) return keys;
  throw new AuditKeyError('E_AUDIT_CONTENT_KEY', `${purpose} needs the content key: set ${AUDIT_CONTENT_KEY_ENV} to the base64 key (\`hegui audit keygen\` creates one)`);
}

/** The checkpoint signing key, or an error that says how to provide it. */
export function requireSigningKey(key: AuditSigningKey | undefined, purpose: string): AuditSigningKey {
  if (key) return key;
  throw new AuditKeyError('E_AUDIT_SIGNING_KEY', `${purpose} needs a checkpoint signing key: set ${AUDIT_SIGNING_KEY_ENV} to the path of the .key.pem that \`hegui audit keygen\` writes`);
}
