/**
 * @module store/tables/desk
 * Tables of the compliance desk (issue 15): cases (complaints, reports, personal-information
 * requests), their history, internal notes, messages to and from the requester, evidence and
 * export files, one-time codes, the outbox of e-mail and the reference counters. Secrets
 * (status-link tokens, one-time codes) are kept only as hashes; times are ISO 8601 UTC strings,
 * due dates China calendar dates (YYYY-MM-DD).
 */
import type { Generated, Selectable } from 'kysely';

export interface DeskCasesTable {
  id: string;
  /** `C-2026-000123` (complaint), `R-…` (report), `PI-…` (personal-information request). */
  reference: string;
  /** `complaint`, `report` or `pi`. */
  kind: string;
  /** The complaint's or report's category, or the right a PI request exercises. */
  category: string;
  state: string;
  /** 1 while the case is not resolved, refused or withdrawn (the queue's index leads with it). */
  open: number;
  /** The content's link or request id the case is about; null when erased. */
  subject: string | null;
  /** The requester's words; `''` once erased. */
  text: string;
  /** The e-mail address the requester proved control of; null once erased. */
  contact: string | null;
  /** SHA-256 of the normalised contact: finds a person's own cases; null once erased. */
  contact_hash: string | null;
  contact_verified_at: string | null;
  /** The gateway user the requester proved control of (by one of its API keys), if any. */
  account: string | null;
  /** `zh` or `en`: the language of the requester's messages. */
  language: string;
  /** SHA-256 of the private status link's token. */
  status_token_hash: string;
  assignee_id: string | null;
  received_at: string;
  /** Published limit in working days, as it was at intake. */
  limit_days: number;
  /** China date by which the case must be answered. */
  due_date: string;
  /** 1 when a day on the way fell in a year whose holiday schedule is not yet published. */
  due_estimated: number;
  /** Set while waiting on the requester: when the clock stopped, and the working days it had left. */
  paused_at: string | null;
  paused_remaining: number | null;
  /** 0 none, 1 near its due date, 2 overdue. */
  escalation: number;
  /** Outcome told to the requester (resolved) or the reason for a refusal. */
  resolution: string | null;
  closed_at: string | null;
  feedback_at: string | null;
  erased_at: string | null;
  updated_at: string;
}

export interface DeskEventsTable {
  id: Generated<number>;
  case_id: string;
  at: string;
  /** `operator:<id>`, `requester:<reference>` or `system:<part>`. */
  actor: string;
  /** intake, verify, transition, assign, note, reply, message, pause, resume, escalate, feedback, evidence, carry-out, erase, withdraw. */
  action: string;
  from_state: string | null;
  to_state: string | null;
  /** Why (transition reasons, due-date changes); written by an operator or the system. */
  reason: string | null;
  /** 1 when the requester sees it on the status page. */
  public: number;
  /** JSON object of further facts (old and new due date, assignee). */
  details: string;
}

export interface DeskNotesTable {
  id: string;
  case_id: string;
  author_id: string;
  at: string;
  text: string;
}

export interface DeskMessagesTable {
  id: string;
  case_id: string;
  at: string;
  /** `out` (to the requester) or `in` (from the requester). */
  direction: string;
  author: string;
  language: string;
  text: string;
}

export interface DeskAttachmentsTable {
  id: string;
  case_id: string;
  /** `evidence` (uploaded by the requester) or `export` (the ZIP of a copy or access request). */
  kind: string;
  filename: string;
  content_type: string;
  size: number;
  sha256: string;
  bytes: Uint8Array | null;
  created_at: string;
}

export interface DeskCodesTable {
  case_id: string;
  /** HMAC-SHA256 of the code under `salt`. */
  code_hash: string;
  salt: string;
  expires_at: string;
  attempts: number;
  sent_at: string;
  used_at: string | null;
}

export interface DeskOutboxTable {
  id: string;
  case_id: string | null;
  /** Address; null once sent (the message's body and address are not kept after delivery). */
  to_address: string | null;
  subject: string;
  body: string | null;
  created_at: string;
  attempts: number;
  next_attempt_at: string;
  sent_at: string | null;
  last_error: string | null;
}

export interface DeskCountersTable {
  /** `C-2026` */
  name: string;
  last: number;
}

export interface DeskTables {
  desk_cases: DeskCasesTable;
  desk_events: DeskEventsTable;
  desk_notes: DeskNotesTable;
  desk_messages: DeskMessagesTable;
  desk_attachments: DeskAttachmentsTable;
  desk_codes: DeskCodesTable;
  desk_outbox: DeskOutboxTable;
  desk_counters: DeskCountersTable;
}

export type DeskCaseRow = Selectable<DeskCasesTable>;
export type DeskEventRow = Selectable<DeskEventsTable>;
export type DeskNoteRow = Selectable<DeskNotesTable>;
export type DeskMessageRow = Selectable<DeskMessagesTable>;
export type DeskAttachmentRow = Selectable<DeskAttachmentsTable>;
export type DeskCodeRow = Selectable<DeskCodesTable>;
export type DeskOutboxRow = Selectable<DeskOutboxTable>;
