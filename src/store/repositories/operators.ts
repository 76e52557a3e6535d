/**
 * @module store/repositories/operators
 * Operators of the dashboard and their sign-in sessions. Secrets arrive here already hashed.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { StoreConflictError } from '../errors.js';
import type { Database } from '../schema.js';
import type { Operator, OperatorRole } from '../tables/foundation.js';

export interface SessionWithOperator {
  tokenHash: string;
  expiresAt: string;
  operator: Operator;
}

export class OperatorRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async create(input: { name: string; role: OperatorRole; passwordHash?: string | null; now?: Date }): Promise<Operator> {
    const row: Operator = {
      id: randomUUID(),
      name: input.name,
      role: input.role,
      password_hash: input.passwordHash ?? null,
      created_at: (input.now ?? new Date()).toISOString(),
      disabled_at: null,
    };
    const existing = await this.findByName(input.name);
    if (existing) throw new StoreConflictError(`an operator named "${input.name}" already exists`);
    await this.#db.insertInto('operators').values(row).execute();
    return row;
  }

  async findByName(name: string): Promise<Operator | undefined> {
    return this.#db.selectFrom('operators').selectAll().where('name', '=', name).executeTakeFirst();
  }

  async findById(id: string): Promise<Operator | undefined> {
    return this.#db.selectFrom('operators').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async list(): Promise<Operator[]> {
    return this.#db.selectFrom('operators').selectAll().orderBy('created_at').orderBy('name').execute();
  }

  /** Active admins; the server offers a one-time sign-in link while there are none. */
  async countActiveAdmins(): Promise<number> {
    const row = await this.#db
      .selectFrom('operators')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('role', '=', 'admin')
      .where('disabled_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async setPassword(id: string, passwordHash: string): Promise<void> {
    await this.#db.updateTable('operators').set({ password_hash: passwordHash }).where('id', '=', id).execute();
  }

  async disable(id: string, now: Date = new Date()): Promise<void> {
    await this.#db.updateTable('operators').set({ disabled_at: now.toISOString() }).where('id', '=', id).execute();
    await this.#db.deleteFrom('operator_sessions').where('operator_id', '=', id).execute();
  }

  async createSession(input: { tokenHash: string; operatorId: string; expiresAt: Date; now?: Date }): Promise<void> {
    await this.#db
      .insertInto('operator_sessions')
      .values({
        token_hash: input.tokenHash,
        operator_id: input.operatorId,
        created_at: (input.now ?? new Date()).toISOString(),
        expires_at: input.expiresAt.toISOString(),
      })
      .execute();
  }

  /** The live session for a token hash, or undefined when unknown, expired or its operator disabled. */
  async findSession(tokenHash: string, now: Date = new Date()): Promise<SessionWithOperator | undefined> {
    const row = await this.#db
      .selectFrom('operator_sessions as s')
      .innerJoin('operators as o', 'o.id', 's.operator_id')
      .select(['s.token_hash', 's.expires_at', 'o.id', 'o.name', 'o.role', 'o.password_hash', 'o.created_at', 'o.disabled_at'])
      .where('s.token_hash', '=', tokenHash)
      .where('s.expires_at', '>', now.toISOString())
      .where('o.disabled_at', 'is', null)
      .executeTakeFirst();
    if (!row) return undefined;
    const { token_hash, expires_at, ...operator } = row;
    return { tokenHash: token_hash, expiresAt: expires_at, operator };
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.#db.deleteFrom('operator_sessions').where('token_hash', '=', tokenHash).execute();
  }

  /** Ends every session of an operator (after a password change: all but `except`); returns how many ended. */
  async deleteSessions(operatorId: string, options: { except?: string } = {}): Promise<number> {
    let query = this.#db.deleteFrom('operator_sessions').where('operator_id', '=', operatorId);
    if (options.except !== undefined) query = query.where('token_hash', '!=', options.except);
    const result = await query.executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async purgeExpiredSessions(now: Date = new Date()): Promise<number> {
    const result = await this.#db.deleteFrom('operator_sessions').where('expires_at', '<=', now.toISOString()).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
