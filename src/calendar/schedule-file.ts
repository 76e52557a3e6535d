/**
 * @module calendar/schedule-file
 * A year's schedule supplied by the user, for when the State Council publishes a new year
 * before the data package catches up. JSON:
 * `{"year": 2027, "source": "国办发明电〔2026〕N号", "holidays": {"2027-01-01": "元旦"}, "makeupWorkdays": {}}`
 * where a name is a string or `{"zh": ..., "en": ...}`.
 */
import { z } from 'zod';
import { InvalidInputError } from '../errors.js';
import { describeIssues } from '../validation.js';
import { parseIsoDate } from './dates.js';
import type { HolidayName, HolidaySchedule } from './work-calendar.js';

const name = z.union([z.string().min(1), z.strictObject({ zh: z.string().min(1), en: z.string().min(1) })]);
const scheduleFile = z.strictObject({
  year: z.number().int().min(1949).max(2200),
  source: z.string().min(1),
  holidays: z.record(z.string(), name),
  makeupWorkdays: z.record(z.string(), name).default({}),
});

function toName(value: z.infer<typeof name>): HolidayName {
  return typeof value === 'string' ? { zh: value, en: value } : value;
}

/** Parses and checks a schedule file; every date must be real and inside `year`. */
export function parseScheduleFile(text: string, fileName = 'schedule'): HolidaySchedule {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new InvalidInputError('E_CALENDAR_SCHEDULE', `${fileName}: not valid JSON (${(cause as Error).message})`, { cause });
  }
  const parsed = scheduleFile.safeParse(json, { reportInput: true });
  if (!parsed.success) {
    throw new InvalidInputError('E_CALENDAR_SCHEDULE', `${fileName}: ${describeIssues(parsed.error).join('; ')}`);
  }
  const { year, source, holidays, makeupWorkdays } = parsed.data;
  const convert = (days: Record<string, z.infer<typeof name>>, field: string): Record<string, HolidayName> => {
    const out: Record<string, HolidayName> = {};
    for (const [date, value] of Object.entries(days)) {
      parseIsoDate(date, `${fileName}: ${field} date`);
      if (!date.startsWith(`${year}-`)) {
        throw new InvalidInputError('E_CALENDAR_SCHEDULE', `${fileName}: ${field}.${date} lies outside the schedule's year ${year}`);
      }
      out[date] = toName(value);
    }
    return out;
  };
  return { year, source, holidays: convert(holidays, 'holidays'), makeupWorkdays: convert(makeupWorkdays, 'makeupWorkdays') };
}
