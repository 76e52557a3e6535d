/**
 * @module store/schema
 * The whole database as Kysely sees it: the union of every capability's tables. Each
 * capability keeps its tables in `tables/<capability>.ts` and adds them here.
 */
import type { AuditTables } from './tables/audit.js';
import type { EvalRunTables } from './tables/eval-runs.js';
import type { EvalBankTables } from './tables/eval-banks.js';
import type { DeskTables } from './tables/desk.js';
import type { EvidenceTables } from './tables/evidence.js';
import type { CorpusTables } from './tables/corpus.js';
import type { FoundationTables } from './tables/foundation.js';
import type { GatewayTables } from './tables/gateway.js';
import type { IncidentTables } from './tables/incidents.js';
import type { SafetyTables } from './tables/safety.js';

export type Database = FoundationTables & GatewayTables & AuditTables & SafetyTables & DeskTables & IncidentTables & EvalRunTables & EvalBankTables & EvidenceTables & CorpusTables;
