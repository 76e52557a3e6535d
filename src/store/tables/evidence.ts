/**
 * @module store/tables/evidence
 * The compliance officer's evidence (issue 18): each duty's recorded state in the form of an
 * evidence file entry (`rules/evidence`), and every change to it with who, when, before and
 * after. The service-wide "controls" of the evidence file live in `settings` under
 * `evidence.controls`.
 */

export interface DutyStatusesTable {
  /** An obligation id, e.g. `genai-measures.complaints`. */
  obligation_id: string;
  /** `compliant`, `non-compliant` or `not-applicable` (the entry's own status, for counts). */
  status: string;
  /** The evidence-file entry as JSON text (status, evidence, reason, plan, due, justification). */
  entry: string;
  /** The day a "within N working days" clock started for this duty (YYYY-MM-DD), or null. */
  start_date: string | null;
  updated_at: string;
  /** `operator:<id>` or `system:cli`. */
  updated_by: string;
  version: number;
}

export interface DutyStatusHistoryTable {
  id: string;
  obligation_id: string;
  at: string;
  actor: string;
  /** The duty's version after the change (orders changes made in the same millisecond). */
  version: number;
  /** JSON text of the row before (entry and start date), or null when there was none. */
  before: string | null;
  /** JSON text of the row after, or null when the state was cleared. */
  after: string | null;
}

export interface EvidenceTables {
  duty_statuses: DutyStatusesTable;
  duty_status_history: DutyStatusHistoryTable;
}
