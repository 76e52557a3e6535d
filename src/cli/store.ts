/**
 * @module cli/store
 * The database a command works on: `HEGUI_DATABASE_URL`, else `./hegui.db`, opened (and
 * migrated) for the command and closed after it whatever happens.
 */
import { openStore, type Store } from '../store/index.js';
import type { CliIo } from './io.js';

export async function withStore<T>(io: CliIo, work: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(io.env.HEGUI_DATABASE_URL);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}
