/**
 * @module rules/evidence-store
 * The evidence file's content kept in the store, so the dashboard edits it and the CLI reads
 * it (`hegui obligations --from-store`): the same `EvidenceFile` either way, hence the same gap
 * report. Each change is checked against the evidence file's schema, stored with its history
 * (who, when, before, after) and recorded as a `duty.status` audit event.
 */
import { z } from 'zod';
import type { AuditLog, JsonValue } from '../audit/index.js';
import { addDays, addMonths, parseIsoDate, workingDaysAfter } from '../calendar/index.js';
import { NotFoundError } from '../errors.js';
import type { DutyStatusChange, Store } from '../store/index.js';
import { describeIssues } from '../validation.js';
import { type EvidenceEntry, type EvidenceFile, evidenceEntry, evidenceFile, InvalidEvidenceError } from './evidence.js';
import type { Figure } from './schema.js';

/** The settings key of the evidence file's `controls`. */
export const CONTROLS_SETTING = 'evidence.controls';

/** Bounds that keep an entry (and its audit event) small. */
const MAX_TEXT = 2000;
const MAX_EVIDENCE_ITEMS = 50;

/** The stored evidence as an evidence file. @throws InvalidEvidenceError when a stored entry no longer parses. */
export async function loadStoredEvidence(store: Store): Promise<EvidenceFile> {
  const [rows, controls] = await Promise.all([store.dutyStatuses.list(), store.settings.get<Record<string, boolean>>(CONTROLS_SETTING)]);
  const result = evidenceFile.safeParse({ controls: controls?.value ?? {}, obligations: Object.fromEntries(rows.map((r) => [r.obligationId, r.entry])) });
  if (!result.success) throw new InvalidEvidenceError('the stored evidence', describeIssues(result.error));
  return result.data;
}

/** Start dates of the duties that have one (for deadlines as dates). */
export async function storedStartDates(store: Store): Promise<Record<string, string>> {
  return Object.fromEntries((await store.dutyStatuses.list()).filter((r) => r.startDate !== null).map((r) => [r.obligationId, r.startDate as string]));
}

export interface DutyStatusInput {
  obligationId: string;
  /** An evidence-file entry, or null to clear the duty's state. */
  entry: unknown;
  /** When the duty's "within N days" clock started (YYYY-MM-DD), or null. */
  startDate?: string | null;
  actor: string;
  now: Date;
  expectedVersion?: number;
}

function checkEntry(id: string, value: unknown): EvidenceEntry {
  const result = evidenceEntry.safeParse(value);
  if (!result.success) throw new InvalidEvidenceError(`the state of ${id}`, describeIssues(result.error));
  const entry = result.data;
  const texts = [...('evidence' in entry ? (entry.evidence ?? []) : []), ...Object.values(entry).filter((v): v is string => typeof v === 'string')];
  if (texts.some((t) => t.length > MAX_TEXT)) throw new InvalidEvidenceError(`the state of ${id}`, [`each text is at most ${MAX_TEXT} characters`]);
  if ('evidence' in entry && (entry.evidence?.length ?? 0) > MAX_EVIDENCE_ITEMS) throw new InvalidEvidenceError(`the state of ${id}`, [`at most ${MAX_EVIDENCE_ITEMS} pieces of evidence`]);
  if (entry.status === 'non-compliant' && entry.due !== undefined) parseIsoDate(entry.due, 'due');
  return entry;
}

/**
 * Records one duty's state (or clears it), with history and a `duty.status` audit event.
 *
 * @throws NotFoundError for an unknown obligation id; InvalidEvidenceError for an entry the
 *   evidence file would refuse; StoreConflictError when someone changed it meanwhile.
 */
export async function recordDutyStatus(store: Store, audit: AuditLog | undefined, known: ReadonlySet<string>, input: DutyStatusInput): Promise<DutyStatusChange> {
  if (!known.has(input.obligationId)) throw new NotFoundError('E_OBLIGATION_UNKNOWN', `no duty has the id ${input.obligationId}`);
  const entry = input.entry === null ? null : checkEntry(input.obligationId, input.entry);
  const startDate = input.startDate === undefined || input.startDate === null || input.startDate === '' ? null : parseIsoDate(input.startDate, 'start date');
  const change = await store.dutyStatuses.change({
    obligationId: input.obligationId,
    state: entry === null ? null : { entry: entry as Record<string, unknown>, startDate },
    actor: input.actor,
    now: input.now,
    ...(input.expectedVersion !== undefined ? { expectedVersion: input.expectedVersion } : {}),
  });
  await audit?.append({
    type: 'duty.status',
    actor: input.actor,
    outcome: entry === null ? 'cleared' : entry.status.replace('-', '_'),
    payload: { obligation: input.obligationId, change: change.id, before: toJson(change.before), after: toJson(change.after) },
  });
  return change;
}

function toJson(state: DutyStatusChange['before']): JsonValue {
  return state === null ? null : (JSON.parse(JSON.stringify(state)) as JsonValue);
}

const controlsInput = z.record(z.string(), z.boolean());

/** Sets the evidence file's `controls` (which hegui controls run), audited. @throws InvalidEvidenceError */
export async function recordControls(store: Store, audit: AuditLog | undefined, value: unknown, actor: string, now: Date): Promise<Record<string, boolean>> {
  const parsed = controlsInput.safeParse(value);
  const checked = parsed.success ? evidenceFile.safeParse({ controls: parsed.data }) : parsed;
  if (!checked.success) throw new InvalidEvidenceError('controls', describeIssues(checked.error));
  const before = (await store.settings.get<Record<string, boolean>>(CONTROLS_SETTING))?.value ?? {};
  const controls = checked.data.controls as Record<string, boolean>;
  await store.settings.set(CONTROLS_SETTING, controls, { now });
  await audit?.append({ type: 'evidence.controls', actor, outcome: 'changed', payload: { before, after: controls } });
  return controls;
}

/** A duty's deadline as a date: `figure` counted from `start` through the China working-day calendar. */
export interface DutyDeadline {
  start: string;
  date: string;
  /** Some year on the way had no published holiday schedule: the date may move. */
  estimated: boolean;
}

/** The due date of a "within N working days / days / months / years" duty from `start`, or undefined for other figures. */
export function deadlineFrom(figure: Figure | null | undefined, start: string): DutyDeadline | undefined {
  if (!figure || figure.kind !== 'within' || !Number.isInteger(figure.value)) return undefined;
  switch (figure.unit) {
    case 'working-days': {
      const due = workingDaysAfter(start, figure.value, { allowEstimate: true });
      return { start, date: due.date, estimated: due.estimated };
    }
    case 'days':
      return { start, date: addDays(start, figure.value), estimated: false };
    case 'months':
      return { start, date: addMonths(start, figure.value), estimated: false };
    case 'years':
      return { start, date: addMonths(start, figure.value * 12), estimated: false };
    default:
      return undefined;
  }
}

