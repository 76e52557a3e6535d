/**
 * @module store/repositories/eval-banks
 * Question banks by version. A save adds the next version of a bank with all its items in one
 * transaction (never half written); two saves racing for the same version number collide on
 * the primary key and the loser gets `StoreConflictError`, nothing written. Records are plain
 * data in the shape of `eval/types` (`BankItem`, `BankVersion`); eval validates them again.
 */
import type { Kysely } from 'kysely';
import { StoreConflictError } from '../errors.js';
import type { Database } from '../schema.js';

export interface StoredBankItem {
  id: string;
  prompt: string;
  risk: string | null;
  kind: string;
  language: string;
  source: string;
  group?: { dimension: string; value: string; templateId: string };
}

export interface StoredBankVersion {
  bankId: string;
  version: number;
  createdAt: string;
  items: number;
  note: string | null;
}

/** Rows per INSERT: 9 parameters each, well under SQLite's and PostgreSQL's limits. */
const BATCH = 500;

function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || /UNIQUE constraint failed|duplicate key/.test(e?.message ?? '');
}

export class EvalBankRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  /** Stores `items` as the next version of `bankId` and returns that version. */
  async save(bankId: string, items: readonly StoredBankItem[], options: { now?: Date; note?: string } = {}): Promise<StoredBankVersion> {
    const createdAt = (options.now ?? new Date()).toISOString();
    try {
      return await this.#inTransaction(async (db) => {
        const last = await db.selectFrom('eval_bank_versions').select((eb) => eb.fn.max('version').as('v')).where('bank_id', '=', bankId).executeTakeFirst();
        const version = Number(last?.v ?? 0) + 1;
        const head = { bank_id: bankId, version, created_at: createdAt, items: items.length, note: options.note ?? null };
        await db.insertInto('eval_bank_versions').values(head).execute();
        for (let i = 0; i < items.length; i += BATCH) {
          const rows = items.slice(i, i + BATCH).map((item, k) => ({
            bank_id: bankId,
            version,
            seq: i + k,
            item_id: item.id,
            prompt: item.prompt,
            risk: item.risk,
            kind: item.kind,
            language: item.language,
            source: item.source,
            grp: item.group === undefined ? null : JSON.stringify(item.group),
          }));
          await db.insertInto('eval_bank_items').values(rows).execute();
        }
        return { bankId, version, createdAt, items: items.length, note: head.note };
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new StoreConflictError(`bank "${bankId}" was saved by someone else meanwhile, or two of its items share an id; reload and retry`, { cause: error });
      throw error;
    }
  }

  /** A version of a bank (the latest when `version` is omitted) with its items in order, or undefined. */
  async load(bankId: string, version?: number): Promise<{ version: StoredBankVersion; items: StoredBankItem[] } | undefined> {
    let query = this.#db.selectFrom('eval_bank_versions').selectAll().where('bank_id', '=', bankId);
    query = version === undefined ? query.orderBy('version', 'desc').limit(1) : query.where('version', '=', version);
    const head = await query.executeTakeFirst();
    if (head === undefined) return undefined;
    const rows = await this.#db
      .selectFrom('eval_bank_items')
      .select(['item_id', 'prompt', 'risk', 'kind', 'language', 'source', 'grp'])
      .where('bank_id', '=', bankId)
      .where('version', '=', Number(head.version))
      .orderBy('seq')
      .execute();
    return {
      version: { bankId, version: Number(head.version), createdAt: head.created_at, items: Number(head.items), note: head.note },
      items: rows.map((r) => ({
        id: r.item_id,
        prompt: r.prompt,
        risk: r.risk,
        kind: r.kind,
        language: r.language,
        source: r.source,
        ...(r.grp === null ? {} : { group: JSON.parse(r.grp) as StoredBankItem['group'] & object }),
      })),
    };
  }

  /** The latest version of every bank, by id. */
  async list(): Promise<StoredBankVersion[]> {
    const rows = await this.#db
      .selectFrom('eval_bank_versions as v')
      .selectAll('v')
      .where(({ eb, selectFrom }) => eb('v.version', '=', selectFrom('eval_bank_versions as w').select((w) => w.fn.max('w.version').as('m')).whereRef('w.bank_id', '=', 'v.bank_id')))
      .orderBy('v.bank_id')
      .execute();
    return rows.map((r) => ({ bankId: r.bank_id, version: Number(r.version), createdAt: r.created_at, items: Number(r.items), note: r.note }));
  }

  /** Every version of one bank, oldest first. */
  async versions(bankId: string): Promise<StoredBankVersion[]> {
    const rows = await this.#db.selectFrom('eval_bank_versions').selectAll().where('bank_id', '=', bankId).orderBy('version').execute();
    return rows.map((r) => ({ bankId: r.bank_id, version: Number(r.version), createdAt: r.created_at, items: Number(r.items), note: r.note }));
  }

  /** Items per kind and risk of one version, counted in the database (for coverage of large banks). */
  async countByKindAndRisk(bankId: string, version: number): Promise<{ kind: string; risk: string | null; count: number }[]> {
    const rows = await this.#db
      .selectFrom('eval_bank_items')
      .select((eb) => ['kind', 'risk', eb.fn.countAll<number>().as('count')])
      .where('bank_id', '=', bankId)
      .where('version', '=', version)
      .groupBy(['kind', 'risk'])
      .execute();
    return rows.map((r) => ({ kind: r.kind, risk: r.risk, count: Number(r.count) }));
  }

  async #inTransaction<T>(work: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    if (this.#db.isTransaction) return work(this.#db);
    return this.#db.transaction().execute(work);
  }
}
