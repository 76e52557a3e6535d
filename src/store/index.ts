/**
 * @module store
 * Storage as a port: typed repositories over SQLite (embedded default) or PostgreSQL.
 *
 * Adding storage for a capability:
 * 1. its tables in `tables/<capability>.ts`, joined into `Database` in `schema.ts`;
 * 2. a migration `migrations/YYYY-MM-DD-NN-<name>.ts`, listed in `migrations/index.ts` and
 *    named in `migrations/names.ts`;
 * 3. a repository class in `repositories/<name>.ts` taking `Kysely<Database>`, exposed as a
 *    field of `Store` in `store.ts`;
 * 4. tests that run on every dialect in `HEGUI_TEST_DB` with `describeEachStore()` from
 *    `test/helpers/stores.ts` (see `repositories/*.test.ts`).
 */
export { autoIncrementType, dialectOf, type DialectName } from './dialect.js';
export { StoreConflictError, StoreUnavailableError } from './errors.js';
export { openStore, sqliteSynchronousFrom, type OpenStoreOptions, type SqliteSynchronous } from './open.js';
export type {
  AuditChainHead,
  AuditCheckpointRecord,
  AuditCountRecord,
  AuditEventFilter,
  AuditEventRecord,
  AuditEventSummaryRecord,
  AuditPurgePlan,
  AuditRedactionPlan,
  AuditRedactionTarget,
  AuditSubjectFilter,
  NewAuditEvent,
} from './repositories/audit.js';
export type { DeskIncidentActionRow, DeskIncidentRow, NewDeskIncident } from './repositories/desk-incidents.js';
export type { StoredMedia, StoredMediaInfo } from './repositories/gateway-media.js';
export type { EvalItemCompletion, EvalItemOutcome, EvalRunCounts, NewEvalRunItem, StoredEvalItem, StoredEvalReview, StoredEvalRun } from './repositories/eval-runs.js';
export type { DutyState, DutyStatusChange, DutyStatusRecord } from './repositories/duty-statuses.js';
export type { CorpusFlaggedRecord, CorpusScanRecord, CorpusShardRecord, CorpusSourceEvent, CorpusSourceRecord, CorpusSourceState, ShardProgress } from './repositories/corpus.js';
export type { AnnotationRecord, AnnotationRulesRecord, AnnotatorTrainingRecord, GoldRecord } from './repositories/corpus-annotation.js';
export type { GatewaySanction, NewGatewaySanction, SanctionAction } from './repositories/gateway-sanctions.js';
export type { ApiKeyInfo, GatewayUser, KeyLimits } from './repositories/gateway-users.js';
export type { StoredBankItem, StoredBankVersion } from './repositories/eval-banks.js';
export { DESK_QUEUE_MAX_PAGE, type DeskAttachmentRow, type DeskCasePatch, type DeskCaseRow, type DeskEventRow, type DeskMessageRow, type DeskNoteRow, type DeskQueueFilter, type NewDeskCase } from './repositories/desk.js';
export type { KeywordLibrarySummary, StoredKeywordEntry, StoredKeywordLibrary } from './repositories/keyword-libraries.js';
export type { SessionWithOperator } from './repositories/operators.js';
export type { StoredSetting } from './repositories/settings.js';
export type { Database } from './schema.js';
export { Store } from './store.js';
export { AUDIT_GENESIS_HASH } from './tables/audit.js';
export type { Operator, OperatorRole } from './tables/foundation.js';
export { DEFAULT_DATABASE_FILE, parseDatabaseUrl, redactDatabaseUrl, type DatabaseTarget } from './url.js';
