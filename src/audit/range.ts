/**
 * @module audit/range
 * One time convention for every reader of the audit log (dashboard filters, table, CLI export):
 * a bare day `YYYY-MM-DD` is a day in Beijing time (UTC+8), and a range's last day is
 * included, so from = to = today gives today's events. A time with its zone is taken as given
 * (an end time is then exclusive). Events are stored in UTC; only their reading changes.
 */
import { InvalidInputError } from '../errors.js';

/** The offset of the convention, and its label. */
export const AUDIT_TIME_ZONE = { offset: '+08:00', offsetMinutes: 480, label: 'Beijing time (UTC+8)' } as const;

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * A range bound. `end`: a bare day means the Beijing midnight after it (the day is included).
 *
 * @throws InvalidInputError E_AUDIT_DATE for anything else (a time without a zone, 2026-02-30).
 * @example
 * parseAuditTime('2026-01-31', '--to', true).toISOString(); // '2026-01-31T16:00:00.000Z'
 */
export function parseAuditTime(text: string, name: string, end = false): Date {
  const day = DAY.test(text);
  if (day) {
    const utc = new Date(`${text}T00:00:00Z`);
    if (Number.isNaN(utc.getTime()) || utc.toISOString().slice(0, 10) !== text) throw badTime(text, name);
    return new Date(utc.getTime() - AUDIT_TIME_ZONE.offsetMinutes * 60_000 + (end ? 86_400_000 : 0));
  }
  const date = new Date(text);
  if (!WITH_ZONE.test(text) || Number.isNaN(date.getTime())) throw badTime(text, name);
  return date;
}

function badTime(text: string, name: string): InvalidInputError {
  return new InvalidInputError('E_AUDIT_DATE', `${name} "${text}" is not a date: use YYYY-MM-DD (a day in Beijing time, UTC+8) or a time with its zone, e.g. 2026-01-31T16:00:00+08:00`);
}

/** `at` (UTC ISO) as Beijing time, `YYYY-MM-DD HH:MM:SS`. */
export function beijingTime(at: string | Date): string {
  const date = typeof at === 'string' ? new Date(at) : at;
  return new Date(date.getTime() + AUDIT_TIME_ZONE.offsetMinutes * 60_000).toISOString().slice(0, 19).replace('T', ' ');
}
