/**
 * @module store/repositories/desk
 * The compliance desk's storage: cases and everything hanging off them, one-time codes, the
 * outbox and the reference counters. State changes are compare-and-set on the case's state and
 * update time, so two reviewers acting at once cannot both move a case (`StoreConflictError`).
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { StoreConflictError } from '../errors.js';
import type { Database } from '../schema.js';
import type { DeskAttachmentRow, DeskCaseRow, DeskCodeRow, DeskEventRow, DeskMessageRow, DeskNoteRow, DeskOutboxRow } from '../tables/desk.js';

export type { DeskAttachmentRow, DeskCaseRow, DeskCodeRow, DeskEventRow, DeskMessageRow, DeskNoteRow, DeskOutboxRow };

/** The reviewer's queue: which cases, in due-date order, one page after `after`. */
export interface DeskQueueFilter {
  /** true: open cases only (default); false: closed only; undefined with `state`: that state. */
  open?: boolean;
  state?: string;
  kind?: string;
  category?: string;
  /** an operator id, or `none` for unassigned cases */
  assignee?: string;
  /** cases due on or before this China date */
  dueBy?: string;
  /** keyset: the last row of the previous page */
  after?: { dueDate: string; reference: string };
  limit?: number;
}

export type NewDeskCase = Omit<DeskCaseRow, 'id'> & { id?: string };
export type DeskCasePatch = Partial<Omit<DeskCaseRow, 'id' | 'reference' | 'kind' | 'received_at' | 'status_token_hash'>>;
export type NewDeskEvent = Omit<DeskEventRow, 'id' | 'details' | 'public'> & { details?: Record<string, unknown>; public?: boolean };

/** Most rows one queue page returns. */
export const DESK_QUEUE_MAX_PAGE = 200;
/** Most matching cases the queue counts exactly. */
export const DESK_QUEUE_COUNT_CAP = 1000;

export class DeskRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  /** The next number of the counter `name` (e.g. `C-2026`), from 1; safe across replicas. */
  async nextNumber(name: string): Promise<number> {
    const row = await this.#db
      .insertInto('desk_counters')
      .values({ name, last: 1 })
      .onConflict((oc) => oc.column('name').doUpdateSet((eb) => ({ last: eb('desk_counters.last', '+', 1) })))
      .returning('last')
      .executeTakeFirstOrThrow();
    return Number(row.last);
  }

  async insertCase(input: NewDeskCase): Promise<DeskCaseRow> {
    const row: DeskCaseRow = { ...input, id: input.id ?? randomUUID() };
    await this.#db.insertInto('desk_cases').values(row).execute();
    return row;
  }

  /** Many cases in one statement per 500 (the benchmark's loader). */
  async insertCases(rows: readonly DeskCaseRow[]): Promise<void> {
    for (let i = 0; i < rows.length; i += 500) await this.#db.insertInto('desk_cases').values(rows.slice(i, i + 500)).execute();
  }

  async caseByReference(reference: string): Promise<DeskCaseRow | undefined> {
    return normaliseCase(await this.#db.selectFrom('desk_cases').selectAll().where('reference', '=', reference).executeTakeFirst());
  }

  async caseById(id: string): Promise<DeskCaseRow | undefined> {
    return normaliseCase(await this.#db.selectFrom('desk_cases').selectAll().where('id', '=', id).executeTakeFirst());
  }

  async caseByTokenHash(tokenHash: string): Promise<DeskCaseRow | undefined> {
    return normaliseCase(await this.#db.selectFrom('desk_cases').selectAll().where('status_token_hash', '=', tokenHash).executeTakeFirst());
  }

  /**
   * Applies `patch` if the case is still as `expected` says (its state and update time);
   * otherwise `StoreConflictError`: someone else changed it meanwhile.
   */
  async updateCase(id: string, expected: { state: string; updatedAt: string }, patch: DeskCasePatch): Promise<void> {
    const result = await this.#db
      .updateTable('desk_cases')
      .set(patch)
      .where('id', '=', id)
      .where('state', '=', expected.state)
      .where('updated_at', '=', expected.updatedAt)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) throw new StoreConflictError('the case changed meanwhile (another reviewer or the requester acted); reload it and try again');
  }

  async addEvent(event: NewDeskEvent): Promise<void> {
    const { details, public: visible, ...rest } = event;
    await this.#db
      .insertInto('desk_events')
      .values({ ...rest, public: visible ? 1 : 0, details: JSON.stringify(details ?? {}) })
      .execute();
  }

  async events(caseId: string, options: { publicOnly?: boolean } = {}): Promise<DeskEventRow[]> {
    let q = this.#db.selectFrom('desk_events').selectAll().where('case_id', '=', caseId);
    if (options.publicOnly) q = q.where('public', '=', 1);
    const rows = await q.orderBy('id').execute();
    return rows.map((r) => ({ ...r, id: Number(r.id), public: Number(r.public) }));
  }

  async addNote(note: Omit<DeskNoteRow, 'id'>): Promise<DeskNoteRow> {
    const row = { ...note, id: randomUUID() };
    await this.#db.insertInto('desk_notes').values(row).execute();
    return row;
  }

  async notes(caseId: string): Promise<DeskNoteRow[]> {
    return this.#db.selectFrom('desk_notes').selectAll().where('case_id', '=', caseId).orderBy('at').orderBy('id').execute();
  }

  async addMessage(message: Omit<DeskMessageRow, 'id'>): Promise<DeskMessageRow> {
    const row = { ...message, id: randomUUID() };
    await this.#db.insertInto('desk_messages').values(row).execute();
    return row;
  }

  async messages(caseId: string): Promise<DeskMessageRow[]> {
    return this.#db.selectFrom('desk_messages').selectAll().where('case_id', '=', caseId).orderBy('at').orderBy('id').execute();
  }

  async addAttachment(attachment: Omit<DeskAttachmentRow, 'id'>): Promise<DeskAttachmentRow> {
    const row = { ...attachment, id: randomUUID() };
    await this.#db.insertInto('desk_attachments').values(row).execute();
    return row;
  }

  /** A case's files without their bytes. */
  async attachments(caseId: string): Promise<Omit<DeskAttachmentRow, 'bytes'>[]> {
    const rows = await this.#db
      .selectFrom('desk_attachments')
      .select(['id', 'case_id', 'kind', 'filename', 'content_type', 'size', 'sha256', 'created_at'])
      .where('case_id', '=', caseId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map((r) => ({ ...r, size: Number(r.size) }));
  }

  async attachment(caseId: string, id: string): Promise<DeskAttachmentRow | undefined> {
    const row = await this.#db.selectFrom('desk_attachments').selectAll().where('case_id', '=', caseId).where('id', '=', id).executeTakeFirst();
    return row && { ...row, size: Number(row.size), bytes: row.bytes && new Uint8Array(row.bytes) };
  }

  async deleteAttachments(caseId: string, kind: string): Promise<void> {
    await this.#db.deleteFrom('desk_attachments').where('case_id', '=', caseId).where('kind', '=', kind).execute();
  }

  async putCode(code: DeskCodeRow): Promise<void> {
    await this.#db
      .insertInto('desk_codes')
      .values(code)
      .onConflict((oc) => oc.column('case_id').doUpdateSet({ code_hash: code.code_hash, salt: code.salt, expires_at: code.expires_at, attempts: 0, sent_at: code.sent_at, used_at: null }))
      .execute();
  }

  async code(caseId: string): Promise<DeskCodeRow | undefined> {
    const row = await this.#db.selectFrom('desk_codes').selectAll().where('case_id', '=', caseId).executeTakeFirst();
    return row && { ...row, attempts: Number(row.attempts) };
  }

  /** Counts one attempt if fewer than `max` were made; false when none is left. */
  async spendCodeAttempt(caseId: string, max: number): Promise<boolean> {
    const result = await this.#db.updateTable('desk_codes').set((eb) => ({ attempts: eb('attempts', '+', 1) })).where('case_id', '=', caseId).where('attempts', '<', max).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async useCode(caseId: string, at: string): Promise<boolean> {
    const result = await this.#db.updateTable('desk_codes').set({ used_at: at }).where('case_id', '=', caseId).where('used_at', 'is', null).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async enqueueMail(mail: { caseId: string | null; to: string; subject: string; body: string; now: string }): Promise<string> {
    const id = randomUUID();
    await this.#db
      .insertInto('desk_outbox')
      .values({ id, case_id: mail.caseId, to_address: mail.to, subject: mail.subject, body: mail.body, created_at: mail.now, attempts: 0, next_attempt_at: mail.now, sent_at: null, last_error: null })
      .execute();
    return id;
  }

  async pendingMail(now: string, limit: number): Promise<DeskOutboxRow[]> {
    const rows = await this.#db.selectFrom('desk_outbox').selectAll().where('sent_at', 'is', null).where('next_attempt_at', '<=', now).orderBy('next_attempt_at').limit(limit).execute();
    return rows.map((r) => ({ ...r, attempts: Number(r.attempts) }));
  }

  /** Claims a message for sending (pushes its next attempt to `until`); false when another sender has it. */
  async claimMail(id: string, seen: string, until: string): Promise<boolean> {
    const result = await this.#db.updateTable('desk_outbox').set({ next_attempt_at: until }).where('id', '=', id).where('next_attempt_at', '=', seen).where('sent_at', 'is', null).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Marks a message sent and drops its address and body: only the fact of sending is kept. */
  async mailSent(id: string, at: string): Promise<void> {
    await this.#db.updateTable('desk_outbox').set({ sent_at: at, to_address: null, body: null, last_error: null }).where('id', '=', id).execute();
  }

  async mailFailed(id: string, error: string, nextAttemptAt: string): Promise<void> {
    await this.#db
      .updateTable('desk_outbox')
      .set((eb) => ({ attempts: eb('attempts', '+', 1), last_error: error.slice(0, 500), next_attempt_at: nextAttemptAt }))
      .where('id', '=', id)
      .execute();
  }

  async outboxCounts(): Promise<{ pending: number; sent: number }> {
    const rows = await this.#db
      .selectFrom('desk_outbox')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.case().when('sent_at', 'is', null).then(0).else(1).end().as('sent')])
      .groupBy('sent')
      .execute();
    const n = (sent: number): number => Number(rows.find((r) => Number(r.sent) === sent)?.n ?? 0);
    return { pending: n(0), sent: n(1) };
  }

  /**
   * One page of the queue, in (due date, reference) order, and how many cases match in all, up
   * to `DESK_QUEUE_COUNT_CAP` (beyond it `totalCapped` is true): counting 70,000 open cases on
   * every page would cost more than the page itself.
   */
  async queue(filter: DeskQueueFilter): Promise<{ rows: DeskCaseRow[]; total: number; totalCapped: boolean }> {
    const limit = Math.min(Math.max(1, filter.limit ?? 50), DESK_QUEUE_MAX_PAGE);
    let base = this.#db.selectFrom('desk_cases');
    if (filter.state !== undefined) base = base.where('state', '=', filter.state);
    if (filter.open !== undefined || filter.state === undefined) base = base.where('open', '=', filter.open === false ? 0 : 1);
    if (filter.kind !== undefined) base = base.where('kind', '=', filter.kind);
    if (filter.category !== undefined) base = base.where('category', '=', filter.category);
    if (filter.assignee === 'none') base = base.where('assignee_id', 'is', null);
    else if (filter.assignee !== undefined) base = base.where('assignee_id', '=', filter.assignee);
    if (filter.dueBy !== undefined) base = base.where('due_date', '<=', filter.dueBy);
    let page = base.selectAll();
    const after = filter.after;
    if (after) page = page.where((eb) => eb.or([eb('due_date', '>', after.dueDate), eb.and([eb('due_date', '=', after.dueDate), eb('reference', '>', after.reference)])]));
    const [rows, count] = await Promise.all([
      page.orderBy('due_date').orderBy('reference').limit(limit).execute(),
      this.#db
        .selectFrom(base.select((eb) => eb.lit(1).as('one')).limit(DESK_QUEUE_COUNT_CAP + 1).as('matching'))
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow(),
    ]);
    const total = Number(count.n);
    return { rows: rows.map((r) => normaliseCase(r)!), total: Math.min(total, DESK_QUEUE_COUNT_CAP), totalCapped: total > DESK_QUEUE_COUNT_CAP };
  }

  /** Open, running (not paused) cases due on or before `dueBy` whose escalation is below `level`. */
  async toEscalate(dueBy: string, level: number, limit = 1000): Promise<DeskCaseRow[]> {
    const rows = await this.#db
      .selectFrom('desk_cases')
      .selectAll()
      .where('open', '=', 1)
      .where('due_date', '<=', dueBy)
      .where('escalation', '<', level)
      .where('paused_at', 'is', null)
      .orderBy('due_date')
      .orderBy('reference')
      .limit(limit)
      .execute();
    return rows.map((r) => normaliseCase(r)!);
  }

  /** Every case of one person: by the hash of the contact they proved, or by their gateway account. */
  async casesOfSubject(subject: { contactHash?: string; account?: string }): Promise<DeskCaseRow[]> {
    if (!subject.contactHash && !subject.account) return [];
    const rows = await this.#db
      .selectFrom('desk_cases')
      .selectAll()
      .where((eb) => eb.or([...(subject.contactHash ? [eb('contact_hash', '=', subject.contactHash)] : []), ...(subject.account ? [eb('account', '=', subject.account)] : [])]))
      .orderBy('received_at')
      .execute();
    return rows.map((r) => normaliseCase(r)!);
  }

  /**
   * Removes what a person wrote and sent from their cases: contact, text, subject, messages,
   * evidence and export files, codes, notes and unsent or sent mail; keeps each case's
   * reference, kind, dates, states and history as the record of how it was handled (and, with
   * `keepResolution`, the answer given: a delete request's own account of what was kept).
   */
  async eraseCases(caseIds: readonly string[], at: string, options: { keepResolution?: boolean } = {}): Promise<{ cases: number; messages: number; attachments: number; notes: number; mail: number }> {
    if (caseIds.length === 0) return { cases: 0, messages: 0, attachments: 0, notes: 0, mail: 0 };
    const ids = [...caseIds];
    const count = (r: { numDeletedRows: bigint } | { numUpdatedRows: bigint }): number => Number('numDeletedRows' in r ? r.numDeletedRows : r.numUpdatedRows);
    const messages = count(await this.#db.deleteFrom('desk_messages').where('case_id', 'in', ids).executeTakeFirst());
    const attachments = count(await this.#db.deleteFrom('desk_attachments').where('case_id', 'in', ids).executeTakeFirst());
    const notes = count(await this.#db.deleteFrom('desk_notes').where('case_id', 'in', ids).executeTakeFirst());
    const mail = count(await this.#db.deleteFrom('desk_outbox').where('case_id', 'in', ids).executeTakeFirst());
    await this.#db.deleteFrom('desk_codes').where('case_id', 'in', ids).execute();
    const cases = count(
      await this.#db
        .updateTable('desk_cases')
        .set({ contact: null, contact_hash: null, subject: null, text: '', account: null, ...(options.keepResolution ? {} : { resolution: null }), erased_at: at, updated_at: at })
        .where('id', 'in', ids)
        .executeTakeFirst(),
    );
    return { cases, messages, attachments, notes, mail };
  }
}

function normaliseCase(row: DeskCaseRow | undefined): DeskCaseRow | undefined {
  if (!row) return undefined;
  return {
    ...row,
    open: Number(row.open),
    limit_days: Number(row.limit_days),
    due_estimated: Number(row.due_estimated),
    paused_remaining: row.paused_remaining === null ? null : Number(row.paused_remaining),
    escalation: Number(row.escalation),
  };
}
