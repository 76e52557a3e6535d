/**
 * @module audit/retention
 * How long events must be kept. The Cybersecurity Law (Art. 21(3); Art. 23(3) as amended,
 * in force 2026-01-01) and the Labeling Measures (Art. 9) require network logs to be kept for
 * at least six months; a provider may keep them longer, never shorter.
 */
import { AuditConfigError } from './errors.js';

/** The legal floor, in months. */
export const LEGAL_MIN_RETENTION_MONTHS = 6;

/** Checks a configured retention period. @throws AuditConfigError below the floor or not a whole number. */
export function checkRetentionMonths(months: number, source = 'retentionMonths'): number {
  if (!Number.isInteger(months) || months > 1200) throw new AuditConfigError(`${source} must be a whole number of months, not ${months}`);
  if (months < LEGAL_MIN_RETENTION_MONTHS) {
    throw new AuditConfigError(`${source} is ${months}, below the legal floor: network logs are kept at least ${LEGAL_MIN_RETENTION_MONTHS} months (Cybersecurity Law Art. 21(3))`);
  }
  return months;
}

/**
 * The latest instant a purge may reach: `months` calendar months before `now`, the day clamped
 * to the end of a shorter month (31 August minus 6 months is 28/29 February, never 3 March), so
 * an event is deletable only once it is fully `months` old.
 *
 * @example
 * retentionCutoff(new Date('2026-08-31T10:00:00Z'), 6).toISOString(); // '2026-02-28T10:00:00.000Z'
 */
export function retentionCutoff(now: Date, months: number): Date {
  const year = now.getUTCFullYear();
  const month = now.getUTCMonth() - months;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const cutoff = new Date(now.getTime());
  cutoff.setUTCFullYear(year, month, Math.min(now.getUTCDate(), lastDay));
  return cutoff;
}
