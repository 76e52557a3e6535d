/**
 * @module store/repositories/desk-incidents
 * Illegal-content incidents and their actions (issue 15). The repository stores rows; the
 * desk (`src/desk/incident*.ts`) decides grades, clocks and what an action does.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely, Updateable } from 'kysely';
import { StoreConflictError } from '../errors.js';
import type { Database } from '../schema.js';
import type { DeskIncidentActionRow, DeskIncidentRow, DeskIncidentsTable } from '../tables/incidents.js';

export type { DeskIncidentActionRow, DeskIncidentRow } from '../tables/incidents.js';

export type NewDeskIncident = Omit<DeskIncidentRow, 'id' | 'ref'>;

export class DeskIncidentRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  /**
   * Stores a new incident under the next reference of its year (`INC-2026-000001`), with its
   * first action, in one transaction. Two openings at once on PostgreSQL may pick the same
   * number: the unique reference refuses the second, which retries.
   */
  async create(input: NewDeskIncident, firstAction: { kind: string; actor: string; detail: string }): Promise<DeskIncidentRow> {
    const year = input.opened_at.slice(0, 4);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#inTransaction(async (db) => {
          const last = await db.selectFrom('desk_incidents').select('ref').where('ref', 'like', `INC-${year}-%`).orderBy('ref', 'desc').limit(1).executeTakeFirst();
          const next = last ? Number(last.ref.slice(9)) + 1 : 1;
          const row: DeskIncidentRow = { ...input, id: randomUUID(), ref: `INC-${year}-${String(next).padStart(6, '0')}` };
          await db.insertInto('desk_incidents').values(row).execute();
          await db.insertInto('desk_incident_actions').values({ id: randomUUID(), incident_id: row.id, seq: 1, kind: firstAction.kind, at: input.opened_at, actor: firstAction.actor, detail: firstAction.detail }).execute();
          return row;
        });
      } catch (error) {
        if (attempt >= 4 || !/unique|duplicate/i.test((error as Error).message)) throw error;
      }
    }
  }

  async find(ref: string): Promise<DeskIncidentRow | undefined> {
    return this.#db.selectFrom('desk_incidents').selectAll().where('ref', '=', ref).executeTakeFirst();
  }

  /** Incidents newest first, optionally in one state. */
  async list(filter: { state?: string; limit: number; offset: number }): Promise<{ rows: DeskIncidentRow[]; total: number }> {
    let query = this.#db.selectFrom('desk_incidents');
    if (filter.state !== undefined) query = query.where('state', '=', filter.state);
    const rows = await query.selectAll().orderBy('opened_at', 'desc').orderBy('ref', 'desc').limit(filter.limit).offset(filter.offset).execute();
    const count = await query.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
    return { rows, total: Number(count.n) };
  }

  /**
   * Applies `patch` and appends an action, in one transaction; refuses (StoreConflictError)
   * when the incident is closed or was changed since `expectedUpdatedAt`.
   */
  async act(id: string, expectedUpdatedAt: string, patch: Updateable<DeskIncidentsTable> & { updated_at: string }, action: { kind: string; actor: string; detail: string; at: string }): Promise<DeskIncidentActionRow> {
    return this.#inTransaction(async (db) => {
      const result = await db.updateTable('desk_incidents').set(patch).where('id', '=', id).where('updated_at', '=', expectedUpdatedAt).where('state', '!=', 'closed').executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) throw new StoreConflictError('the incident is closed, or changed meanwhile; reload it and retry');
      // The update above locked the incident, so the next number is ours alone.
      const last = await db.selectFrom('desk_incident_actions').select((eb) => eb.fn.max('seq').as('seq')).where('incident_id', '=', id).executeTakeFirst();
      const row: DeskIncidentActionRow = { id: randomUUID(), incident_id: id, seq: Number(last?.seq ?? 0) + 1, ...action };
      await db.insertInto('desk_incident_actions').values(row).execute();
      return row;
    });
  }

  async actions(incidentId: string): Promise<DeskIncidentActionRow[]> {
    return this.#db.selectFrom('desk_incident_actions').selectAll().where('incident_id', '=', incidentId).orderBy('seq').execute();
  }

  async #inTransaction<T>(work: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    if (this.#db.isTransaction) return work(this.#db);
    return this.#db.transaction().execute(work);
  }
}
