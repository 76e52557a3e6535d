/**
 * @module store/repositories/corpus-annotation
 * Annotation QA records: rules documents (each save a new version, never overwritten),
 * annotator training, labels per batch, item and annotator, and gold labels.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';

export interface AnnotationRulesRecord {
  id: string;
  version: number;
  title: string;
  body: string;
  createdAt: string;
  createdBy: string;
}

export interface AnnotatorTrainingRecord {
  id: string;
  annotator: string;
  rulesId: string;
  rulesVersion: number;
  completedAt: string;
  score: number | null;
  passed: boolean;
  notes: string | null;
}

export interface AnnotationRecord {
  batch: string;
  item: string;
  annotator: string;
  label: string;
  rulesId: string | null;
  rulesVersion: number | null;
  createdAt: string;
}

export interface GoldRecord {
  batch: string;
  item: string;
  label: string;
}

const BATCH = 500;

export class CorpusAnnotationRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  /** Stores a new version of the rules document `id` and returns its number (1 for the first). */
  async addRules(rules: Omit<AnnotationRulesRecord, 'version'>): Promise<number> {
    return this.#inTransaction(async (db) => {
      const head = await db.selectFrom('corpus_annotation_rules').select((eb) => eb.fn.max<number>('version').as('v')).where('id', '=', rules.id).executeTakeFirst();
      const version = Number(head?.v ?? 0) + 1;
      await db.insertInto('corpus_annotation_rules').values({ id: rules.id, version, title: rules.title, body: rules.body, created_at: rules.createdAt, created_by: rules.createdBy }).execute();
      return version;
    });
  }

  async rules(id: string, version?: number): Promise<AnnotationRulesRecord | undefined> {
    let query = this.#db.selectFrom('corpus_annotation_rules').selectAll().where('id', '=', id).orderBy('version', 'desc').limit(1);
    if (version !== undefined) query = query.where('version', '=', version);
    const r = await query.executeTakeFirst();
    return r === undefined ? undefined : { id: r.id, version: Number(r.version), title: r.title, body: r.body, createdAt: r.created_at, createdBy: r.created_by };
  }

  /** Every version of every rules document (bodies left out). */
  async listRules(): Promise<Omit<AnnotationRulesRecord, 'body'>[]> {
    const rows = await this.#db.selectFrom('corpus_annotation_rules').select(['id', 'version', 'title', 'created_at', 'created_by']).orderBy('id').orderBy('version').execute();
    return rows.map((r) => ({ id: r.id, version: Number(r.version), title: r.title, createdAt: r.created_at, createdBy: r.created_by }));
  }

  async addTraining(record: AnnotatorTrainingRecord): Promise<void> {
    await this.#db
      .insertInto('corpus_annotator_training')
      .values({ id: record.id, annotator: record.annotator, rules_id: record.rulesId, rules_version: record.rulesVersion, completed_at: record.completedAt, score: record.score, passed: record.passed ? 1 : 0, notes: record.notes })
      .execute();
  }

  async training(annotator?: string): Promise<AnnotatorTrainingRecord[]> {
    let query = this.#db.selectFrom('corpus_annotator_training').selectAll().orderBy('annotator').orderBy('completed_at');
    if (annotator !== undefined) query = query.where('annotator', '=', annotator);
    return (await query.execute()).map((r) => ({ id: r.id, annotator: r.annotator, rulesId: r.rules_id, rulesVersion: Number(r.rules_version), completedAt: r.completed_at, score: r.score === null ? null : Number(r.score), passed: Number(r.passed) === 1, notes: r.notes }));
  }

  /** Stores labels; a label for the same batch, item and annotator replaces the earlier one. */
  async addAnnotations(records: readonly AnnotationRecord[]): Promise<void> {
    await this.#inTransaction(async (db) => {
      for (let i = 0; i < records.length; i += BATCH) {
        const rows = records.slice(i, i + BATCH).map((r) => ({ batch: r.batch, item: r.item, annotator: r.annotator, label: r.label, rules_id: r.rulesId, rules_version: r.rulesVersion, created_at: r.createdAt }));
        await db
          .insertInto('corpus_annotations')
          .values(rows)
          .onConflict((oc) => oc.columns(['batch', 'item', 'annotator']).doUpdateSet((eb) => ({ label: eb.ref('excluded.label'), rules_id: eb.ref('excluded.rules_id'), rules_version: eb.ref('excluded.rules_version'), created_at: eb.ref('excluded.created_at') })))
          .execute();
      }
    });
  }

  async addGold(records: readonly GoldRecord[]): Promise<void> {
    await this.#inTransaction(async (db) => {
      for (let i = 0; i < records.length; i += BATCH) {
        await db
          .insertInto('corpus_gold')
          .values(records.slice(i, i + BATCH).map((r) => ({ batch: r.batch, item: r.item, label: r.label })))
          .onConflict((oc) => oc.columns(['batch', 'item']).doUpdateSet((eb) => ({ label: eb.ref('excluded.label') })))
          .execute();
      }
    });
  }

  async annotations(batch?: string): Promise<AnnotationRecord[]> {
    let query = this.#db.selectFrom('corpus_annotations').selectAll().orderBy('batch').orderBy('item').orderBy('annotator');
    if (batch !== undefined) query = query.where('batch', '=', batch);
    return (await query.execute()).map((r) => ({ batch: r.batch, item: r.item, annotator: r.annotator, label: r.label, rulesId: r.rules_id, rulesVersion: r.rules_version === null ? null : Number(r.rules_version), createdAt: r.created_at }));
  }

  async gold(batch?: string): Promise<GoldRecord[]> {
    let query = this.#db.selectFrom('corpus_gold').selectAll().orderBy('batch').orderBy('item');
    if (batch !== undefined) query = query.where('batch', '=', batch);
    return query.execute();
  }

  async #inTransaction<T>(work: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    if (this.#db.isTransaction) return work(this.#db);
    return this.#db.transaction().execute(work);
  }
}
