/**
 * @module store/migrations/2026-12-04-15-gateway-spend
 * Spend budgets of virtual keys (issue 13): a key may carry a budget of money, in integer
 * micro-units of its currency (1 CNY = 1,000,000), with what its requests have cost so far,
 * priced from the upstream's usage by the gateway's price table. Never floats for money.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('gateway_api_keys').addColumn('spend_budget', 'bigint').execute();
  await db.schema.alterTable('gateway_api_keys').addColumn('spend_currency', 'text').execute();
  await db.schema.alterTable('gateway_api_keys').addColumn('spend_used', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const column of ['spend_used', 'spend_currency', 'spend_budget']) await db.schema.alterTable('gateway_api_keys').dropColumn(column).execute();
}
