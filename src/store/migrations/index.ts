/**
 * @module store/migrations
 * Every migration, in order. Add a migration by writing `YYYY-MM-DD-NN-name.ts` (exporting
 * `up` and `down` over `Kysely<unknown>`, portable to SQLite and PostgreSQL: use `dialectOf`
 * where they differ), adding one line below and its name to `names.ts`. Names sort by date, so
 * engineers working at the same time do not collide. Never edit a migration that has shipped;
 * add a new one.
 */
import type { Migration } from 'kysely';
import { MIGRATION_NAMES } from './names.js';
import * as foundation from './2026-11-28-01-foundation.js';
import * as audit from './2026-11-28-02-audit.js';
import * as gateway from './2026-11-28-03-gateway.js';
import * as safety from './2026-11-28-04-safety.js';
import * as gatewayUsage from './2026-11-28-05-gateway-usage.js';
import * as keywordPrecision from './2026-12-04-06-keyword-precision.js';
import * as desk from './2026-12-04-07-desk.js';
import * as auditRedaction from './2026-12-04-08-audit-redaction.js';
import * as incidents from './2026-12-04-09-incidents.js';
import * as evalBanks from './2026-12-04-10-eval-banks.js';
import * as gatewayKeys from './2026-12-04-14-gateway-keys.js';
import * as gatewaySpend from './2026-12-04-15-gateway-spend.js';
import * as evalRuns from './2026-12-04-11-eval-runs.js';
import * as dutyStatus from './2026-12-04-13-duty-status.js';
import * as corpus from './2026-12-04-12-corpus.js';

export const migrations: Record<string, Migration> = {
  '2026-11-28-01-foundation': foundation,
  '2026-11-28-02-audit': audit,
  '2026-11-28-03-gateway': gateway,
  '2026-11-28-04-safety': safety,
  '2026-11-28-05-gateway-usage': gatewayUsage,
  '2026-12-04-06-keyword-precision': keywordPrecision,
  '2026-12-04-07-desk': desk,
  '2026-12-04-08-audit-redaction': auditRedaction,
  '2026-12-04-09-incidents': incidents,
  '2026-12-04-10-eval-banks': evalBanks,
  '2026-12-04-11-eval-runs': evalRuns,
  '2026-12-04-12-corpus': corpus,
  '2026-12-04-13-duty-status': dutyStatus,
  '2026-12-04-14-gateway-keys': gatewayKeys,
  '2026-12-04-15-gateway-spend': gatewaySpend,
};

// A store on a database whose migrations equal MIGRATION_NAMES skips the migrator: a migration
// listed here and not there would never run on such a database.
if (Object.keys(migrations).sort().join('\n') !== MIGRATION_NAMES.join('\n')) {
  throw new Error(`store/migrations: names.ts and index.ts list different migrations (${Object.keys(migrations).filter((name) => !MIGRATION_NAMES.includes(name)).join(', ') || 'see names.ts'})`);
}
