/**
 * @module cli/store-lazy
 * `withStore` (store.ts) for command modules that also answer `--help` and parse options
 * without a database: the store, kysely and the migrations load at the first call, so
 * `hegui eval --help` or `hegui corpus --help` loads no database code (issue 14: every command
 * starts at once).
 */
import type { Store } from '../store/index.js';
import type { CliIo } from './io.js';

/** Opens the store named by `HEGUI_DATABASE_URL`, runs `work` on it and closes it, as `store.ts`'s `withStore`. */
export async function withStore<T>(io: CliIo, work: (store: Store) => Promise<T>): Promise<T> {
  return (await import('./store.js')).withStore(io, work);
}
