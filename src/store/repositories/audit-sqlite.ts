/**
 * @module store/repositories/audit-sqlite
 * The audit append on embedded SQLite without the query builder: four statements prepared
 * once, run in one `BEGIN IMMEDIATE` transaction (the write lock is taken before the head is
 * read, so another process writing the same file makes this one wait for the busy timeout,
 * never read a stale head). One append per gateway request makes this the store's hottest
 * path; through Kysely every append compiled and prepared its statements anew and took the
 * lock with an extra UPDATE: 14 % of a lone request's busy time in a CPU profile.
 *
 * It shares the connection Kysely uses. better-sqlite3 is synchronous, so an append that
 * finds no transaction open on the connection runs whole before any other query can start;
 * when one is open (a Kysely transaction awaiting between statements) the caller takes the
 * Kysely path, which waits for the connection.
 */
import type SQLite from 'better-sqlite3';
import type { AuditChainHead, NewAuditEvent } from './audit.js';

interface HeadRow {
  seq: number;
  hash: string;
}

export class SqliteAuditAppender {
  readonly #db: SQLite.Database;
  readonly #append: { immediate(build: (head: AuditChainHead) => NewAuditEvent[]): AuditChainHead };

  constructor(db: SQLite.Database) {
    this.#db = db;
    const head = db.prepare<[], HeadRow>('select seq, hash from audit_head where id = 1');
    const insertEvent = db.prepare(
      'insert into audit_events (seq, at, type, actor, outcome, risks, payload, content, content_sha256, content_key_id, prev_hash, hash) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const insertRisk = db.prepare('insert into audit_event_risks (seq, risk, at, type, outcome) values (?, ?, ?, ?, ?)');
    const moveHead = db.prepare('update audit_head set seq = ?, hash = ? where id = 1');
    this.#append = db.transaction((build: (head: AuditChainHead) => NewAuditEvent[]): AuditChainHead => {
      const row = head.get();
      if (!row) throw new Error('audit append: the chain head row is missing (were the migrations applied?)');
      const current = { seq: Number(row.seq), hash: row.hash };
      const events = build(current);
      const last = events.at(-1);
      if (!last) return current;
      checkContinues(current, events);
      for (const e of events) {
        insertEvent.run(e.seq, e.at, e.type, e.actor, e.outcome, e.risks, e.payload, e.content, e.contentSha256, e.contentKeyId, e.prevHash, e.hash);
        for (const risk of e.riskCodes) insertRisk.run(e.seq, risk, e.at, e.type, e.outcome);
      }
      moveHead.run(last.seq, last.hash);
      return { seq: last.seq, hash: last.hash };
    });
  }

  /** False while a transaction is open on the shared connection: the caller must then wait its turn through Kysely. */
  get available(): boolean {
    return this.#db.open && !this.#db.inTransaction;
  }

  /** Appends in one immediate transaction; throws (nothing written) if `build` or a statement fails. */
  append(build: (head: AuditChainHead) => NewAuditEvent[]): AuditChainHead {
    return this.#append.immediate(build);
  }
}

/** Throws unless `events` continue `head`: sequence numbers from `head.seq + 1`, the first linking to `head.hash`. */
export function checkContinues(head: AuditChainHead, events: readonly NewAuditEvent[]): void {
  events.forEach((event, i) => {
    if (event.seq !== head.seq + 1 + i) throw new Error(`audit append: event ${i} has sequence ${event.seq}, expected ${head.seq + 1 + i}`);
  });
  if (events[0]?.prevHash !== head.hash) throw new Error('audit append: the first event does not link to the chain head');
}
