/**
 * @module store/repositories/gateway-sanctions
 * The record of every sanction taken against a gateway user: warnings, limits and suspensions
 * (AI Measures Art. 14: warn, limit or suspend users who cause illegal content, and keep
 * records), and their lifting by an operator.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';
import type { GatewaySanctionRow } from '../tables/gateway.js';

export type SanctionAction = 'warn' | 'limit' | 'suspend';

export interface GatewaySanction {
  id: string;
  userId: string;
  action: SanctionAction;
  reason: string;
  /** Blocked requests counted when it was taken, within `windowSeconds`. */
  blocks: number;
  windowSeconds: number;
  createdAt: string;
  /** When a limit or suspension ends by itself; null for a warning or "until lifted". */
  until: string | null;
  liftedAt: string | null;
  liftedBy: string | null;
}

export interface NewGatewaySanction {
  userId: string;
  action: SanctionAction;
  reason: string;
  blocks: number;
  windowSeconds: number;
  until: string | null;
  now?: Date;
}

function toSanction(row: GatewaySanctionRow): GatewaySanction {
  return {
    id: row.id,
    userId: row.user_id,
    action: row.action as SanctionAction,
    reason: row.reason,
    blocks: Number(row.blocks),
    windowSeconds: Number(row.window_seconds),
    createdAt: row.created_at,
    until: row.until,
    liftedAt: row.lifted_at,
    liftedBy: row.lifted_by,
  };
}

export class GatewaySanctionRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async add(input: NewGatewaySanction): Promise<GatewaySanction> {
    const row: GatewaySanctionRow = {
      id: randomUUID(),
      user_id: input.userId,
      action: input.action,
      reason: input.reason,
      blocks: input.blocks,
      window_seconds: input.windowSeconds,
      created_at: (input.now ?? new Date()).toISOString(),
      until: input.until,
      lifted_at: null,
      lifted_by: null,
    };
    await this.#db.insertInto('gateway_sanctions').values(row).execute();
    return toSanction(row);
  }

  /** A user's sanctions, newest first. */
  async list(userId: string, limit = 100): Promise<GatewaySanction[]> {
    const rows = await this.#db.selectFrom('gateway_sanctions').selectAll().where('user_id', '=', userId).orderBy('created_at', 'desc').orderBy('id').limit(limit).execute();
    return rows.map(toSanction);
  }

  /** Marks the user's limits and suspensions still in force at `now` as lifted by `by`; returns them. */
  async liftActive(userId: string, by: string, now: Date = new Date()): Promise<GatewaySanction[]> {
    const at = now.toISOString();
    const active = await this.#db
      .selectFrom('gateway_sanctions')
      .selectAll()
      .where('user_id', '=', userId)
      .where('action', 'in', ['limit', 'suspend'])
      .where('lifted_at', 'is', null)
      .where((eb) => eb.or([eb('until', 'is', null), eb('until', '>', at)]))
      .orderBy('created_at')
      .execute();
    if (active.length === 0) return [];
    await this.#db
      .updateTable('gateway_sanctions')
      .set({ lifted_at: at, lifted_by: by })
      .where('id', 'in', active.map((r) => r.id))
      .execute();
    return active.map((row) => toSanction({ ...row, lifted_at: at, lifted_by: by }));
  }
}
