/**
 * @module store/dialect
 * The two dialects hegui runs on, and the few places where migrations must tell them apart.
 */
import { type Kysely, PostgresAdapter } from 'kysely';

export type DialectName = 'sqlite' | 'postgres';

export function dialectOf(db: Kysely<unknown>): DialectName {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/** Column type for a 64-bit auto-increment primary key. */
export function autoIncrementType(db: Kysely<unknown>): 'integer' | 'bigserial' {
  return dialectOf(db) === 'postgres' ? 'bigserial' : 'integer';
}
