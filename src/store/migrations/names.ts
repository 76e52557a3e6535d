/**
 * @module store/migrations/names
 * The name of every migration, in order: what a database at the latest schema has in its
 * `kysely_migration` table. Opening a store compares the two with one query and loads the
 * migrations themselves (`index.ts`) only when they differ (issue 14: a command on a current
 * database starts without them). Add a migration's name here when you list it in `index.ts`;
 * `index.ts` refuses to load when the two lists differ.
 */
export const MIGRATION_NAMES: readonly string[] = [
  '2026-11-28-01-foundation',
  '2026-11-28-02-audit',
  '2026-11-28-03-gateway',
  '2026-11-28-04-safety',
  '2026-11-28-05-gateway-usage',
  '2026-12-04-06-keyword-precision',
  '2026-12-04-07-desk',
  '2026-12-04-08-audit-redaction',
  '2026-12-04-09-incidents',
  '2026-12-04-10-eval-banks',
  '2026-12-04-11-eval-runs',
  '2026-12-04-12-corpus',
  '2026-12-04-13-duty-status',
  '2026-12-04-14-gateway-keys',
  '2026-12-04-15-gateway-spend',
];
