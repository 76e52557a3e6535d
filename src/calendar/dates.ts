/**
 * @module calendar/dates
 * Calendar dates as `YYYY-MM-DD` strings in China Standard Time (UTC+8, no daylight saving).
 * Deadlines under Chinese rules count whole days in Beijing, so a date never carries a time.
 */
import { InvalidInputError } from '../errors.js';

/** A calendar date, `YYYY-MM-DD`. */
export type IsoDate = string;

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;
const CHINA_OFFSET_MS = 8 * 3_600_000;

/** Validates `text` as a real calendar date and returns it unchanged. */
export function parseIsoDate(text: string, what = 'date'): IsoDate {
  const m = ISO_DATE.exec(text);
  if (m) {
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const t = Date.UTC(y, mo - 1, d);
    const back = new Date(t);
    if (back.getUTCFullYear() === y && back.getUTCMonth() === mo - 1 && back.getUTCDate() === d) return text;
  }
  throw new InvalidInputError('E_DATE_INVALID', `${what} "${text}" is not a calendar date; write it as YYYY-MM-DD, e.g. 2026-09-28`);
}

/** The date in Beijing at the instant `at`. */
export function chinaDateOf(at: Date): IsoDate {
  return new Date(at.getTime() + CHINA_OFFSET_MS).toISOString().slice(0, 10);
}

/** Accepts an ISO date string or a `Date` (read as the date in Beijing). */
export function toIsoDate(date: IsoDate | Date, what = 'date'): IsoDate {
  return typeof date === 'string' ? parseIsoDate(date, what) : chinaDateOf(date);
}

function toUtcMs(date: IsoDate): number {
  return Date.parse(`${date}T00:00:00Z`);
}

export function addDays(date: IsoDate, days: number): IsoDate {
  return new Date(toUtcMs(date) + days * DAY_MS).toISOString().slice(0, 10);
}

/** Adds calendar months, clamping to the month's last day (2025-08-31 + 6 months = 2026-02-28). */
export function addMonths(date: IsoDate, months: number): IsoDate {
  const d = new Date(toUtcMs(date));
  const target = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(d.getUTCDate(), lastDay));
  return target.toISOString().slice(0, 10);
}

/** 0 = Sunday ... 6 = Saturday. */
export function dayOfWeek(date: IsoDate): number {
  return new Date(toUtcMs(date)).getUTCDay();
}

export function yearOf(date: IsoDate): number {
  return Number(date.slice(0, 4));
}
