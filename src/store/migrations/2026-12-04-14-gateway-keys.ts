/**
 * @module store/migrations/2026-12-04-14-gateway-keys
 * Virtual keys (issue 13): an API key may carry a name, an expiry, the models it may call
 * (JSON array of names and `prefix*`; NULL: any), and a token budget with the tokens used so far.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('gateway_api_keys').addColumn('name', 'text').execute();
  await db.schema.alterTable('gateway_api_keys').addColumn('expires_at', 'text').execute();
  await db.schema.alterTable('gateway_api_keys').addColumn('models', 'text').execute();
  await db.schema.alterTable('gateway_api_keys').addColumn('token_budget', 'bigint').execute();
  await db.schema.alterTable('gateway_api_keys').addColumn('tokens_used', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const column of ['tokens_used', 'token_budget', 'models', 'expires_at', 'name']) await db.schema.alterTable('gateway_api_keys').dropColumn(column).execute();
}
