/**
 * @module audit/errors
 * The typed errors of the audit log. Codes are stable (`E_AUDIT_...`) so scripts and the
 * gateway can tell a bad event (the caller's bug) from a failed write (retry or fail the
 * request) from a refused purge (the law's floor).
 */
import { HeguiError, InvalidInputError } from '../errors.js';

/** An event handed to `append` is malformed: bad type, actor, risk code, payload or content. */
export class AuditEventError extends InvalidInputError {
  constructor(message: string) {
    super('E_AUDIT_EVENT_INVALID', message);
  }
}

/**
 * A content key or checkpoint signing key is missing or malformed.
 *
 * @example
 * new AuditKeyError('E_AUDIT_CONTENT_KEY', 'HEGUI_AUDIT_CONTENT_KEY must be 32 bytes in base64');
 */
export class AuditKeyError extends InvalidInputError {
  constructor(code: 'E_AUDIT_CONTENT_KEY' | 'E_AUDIT_SIGNING_KEY', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** A setting of the audit log is out of range (e.g. a retention below the legal floor). */
export class AuditConfigError extends InvalidInputError {
  constructor(message: string) {
    super('E_AUDIT_CONFIG', message);
  }
}

/** A purge would delete events younger than the retention period (Cybersecurity Law: >= 6 months). */
export class AuditRetentionError extends InvalidInputError {
  constructor(message: string) {
    super('E_AUDIT_RETENTION', message);
  }
}

/** A query, export range or cursor is malformed. */
export class AuditQueryError extends InvalidInputError {
  constructor(message: string) {
    super('E_AUDIT_QUERY', message);
  }
}

/** The export folder exists already, or the export could not be written. */
export class AuditExportError extends HeguiError {
  constructor(message: string, options?: { cause?: unknown; exitCode?: number }) {
    super('E_AUDIT_EXPORT', message, options);
  }
}

/** The events could not be written; none of the events of the failed batch was stored. */
export class AuditWriteError extends HeguiError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_AUDIT_WRITE_FAILED', message, options);
  }
}

/** Stored content cannot be decrypted: its key is not configured, or the ciphertext was altered. */
export class AuditContentError extends HeguiError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_AUDIT_CONTENT_UNREADABLE', message, options);
  }
}

/** The chain is damaged where an operation needs it intact (a purge never signs a tampered prefix). */
export class AuditTamperedError extends HeguiError {
  constructor(message: string) {
    super('E_AUDIT_TAMPERED', message);
  }
}
