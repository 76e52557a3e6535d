/**
 * @module store/tables/incidents
 * Illegal-content incidents of the desk (issue 15) and the actions taken on them. Lists are
 * JSON text; times ISO 8601 UTC; `cii` 0/1 (critical information infrastructure).
 */
import type { Selectable } from 'kysely';

export interface DeskIncidentsTable {
  id: string;
  /** `INC-2026-000001`, unique, shown to people. */
  ref: string;
  title: string;
  description: string;
  /** `especially-major`, `major`, `significant` or `general`. */
  grade: string;
  cii: number;
  /** `complaint`, `block-pattern` or `manual`. */
  source: string;
  /** The complaint's case reference, or the block pattern as JSON; null when opened by hand. */
  source_ref: string | null;
  /** JSON array of risk codes. */
  risks: string;
  /** JSON array of gateway user ids involved. */
  users: string;
  /** `open`, `reported` or `closed`. */
  state: string;
  detected_at: string;
  opened_at: string;
  opened_by: string;
  /** When the report to the authority is due (null: the grade sets no hourly clock). */
  report_due_at: string | null;
  reported_at: string | null;
  /** The model-optimisation task's due date (YYYY-MM-DD, China working days). */
  optimisation_due: string | null;
  closed_at: string | null;
  updated_at: string;
}

export interface DeskIncidentActionsTable {
  id: string;
  incident_id: string;
  /** 1, 2, ... within the incident, in the order the actions were taken. */
  seq: number;
  /** `open`, `stop-generation`, `remove-outputs`, `optimisation`, `user-measure`, `report`, `close`. */
  kind: string;
  at: string;
  actor: string;
  /** JSON object: what was done. */
  detail: string;
}

export interface IncidentTables {
  desk_incidents: DeskIncidentsTable;
  desk_incident_actions: DeskIncidentActionsTable;
}

export type DeskIncidentRow = Selectable<DeskIncidentsTable>;
export type DeskIncidentActionRow = Selectable<DeskIncidentActionsTable>;
