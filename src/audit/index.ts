/**
 * @module audit
 * The append-only, hash-chained audit log (issue 6): one event per gateway request, desk
 * action, label batch, operator sign-in or user sanction, kept at least 6 months
 * (Cybersecurity Law Art. 21(3)), content minimised and encrypted (AI Measures Art. 11),
 * verifiable, purgeable under signed checkpoints, exportable for authorities.
 */
export { CHAIN_RULE, eventHash } from './chain.js';
export {
  AUDIT_CONTENT_KEY_ENV,
  AUDIT_RETENTION_ENV,
  AUDIT_SIGNING_KEY_ENV,
  auditEnvironment,
  type AuditEnvironment,
} from './config.js';
export { AuditContentKeyring } from './content.js';
export type { AppendedAuditEvent } from './context.js';
export {
  AuditConfigError,
  AuditContentError,
  AuditEventError,
  AuditExportError,
  AuditKeyError,
  AuditQueryError,
  AuditRetentionError,
  AuditTamperedError,
  AuditWriteError,
} from './errors.js';
export { AUDIT_EVENT_TYPES, canonicalJson, type AuditEventInput, type JsonObject, type JsonValue } from './event.js';
export type { AuditExportManifest, AuditExportOptions, AuditExportRange, AuditExportResult, ExportedAuditEvent } from './export.js';
export { AuditLog, MAX_COMMIT_WINDOW_MS, type AuditContentPolicy, type AuditLogOptions } from './log.js';
export type { AuditPurgeOptions, AuditPurgeResult } from './purge.js';
export { AUDIT_REDACT_TYPE, describeTombstone, parseTombstone, type AuditRedactOptions, type AuditRedactResult, type AuditTombstone } from './redact.js';
export type { AuditCounts, AuditCountWindow, AuditEventView, AuditPage, AuditQuery } from './query.js';
export { LEGAL_MIN_RETENTION_MONTHS, retentionCutoff } from './retention.js';
export { auditPublicKeyId, generateAuditSigningKey, parseAuditSigningKey, type AuditSigningKey } from './signing.js';
export { describeFinding, type AuditCheckpointReport, type AuditVerifyOptions, type AuditVerifyReport } from './verify.js';
export type { AuditFinding } from './walk.js';
export { AUDIT_TIME_ZONE, beijingTime, parseAuditTime } from './range.js';
export { resolveAuditSubject, type ResolvedAuditSubject } from './resolve.js';
export { auditSubject, isAbout, SUBJECT_RULE, type AuditSubject } from './subjects.js';
