/**
 * @module calendar/china
 * The State Council schedules from the `chinese-days` data package (checked against the
 * official notices for 2025, 国办发明电〔2024〕12号, and 2026, 国办发明电〔2025〕7号, in tests).
 */
import data from 'chinese-days/dist/chinese-days.json' with { type: 'json' };
import type { IsoDate } from './dates.js';
import { type CalendarOptions, type DueDate, type HolidayName, type HolidaySchedule, WorkCalendar } from './work-calendar.js';

interface ChineseDaysData {
  holidays: Record<string, string>;
  workdays: Record<string, string>;
}

/** `chinese-days` writes names as "English,中文,days". */
function nameOf(raw: string): HolidayName {
  const [en = raw, zh = raw] = raw.split(',');
  return { zh, en };
}

function schedulesFrom(source: ChineseDaysData): HolidaySchedule[] {
  const byYear = new Map<number, HolidaySchedule>();
  const yearOf = (date: string): HolidaySchedule => {
    const year = Number(date.slice(0, 4));
    let s = byYear.get(year);
    if (!s) {
      s = { year, holidays: {}, makeupWorkdays: {}, source: 'chinese-days' };
      byYear.set(year, s);
    }
    return s;
  };
  for (const [date, raw] of Object.entries(source.holidays)) yearOf(date).holidays[date] = nameOf(raw);
  for (const [date, raw] of Object.entries(source.workdays)) yearOf(date).makeupWorkdays[date] = nameOf(raw);
  return [...byYear.values()];
}

/** Working days in mainland China, as published by the State Council. */
export const chinaCalendar = new WorkCalendar(schedulesFrom(data as ChineseDaysData));

/** True when `date` is a working day in mainland China. */
export function isWorkingDay(date: IsoDate | Date, options?: CalendarOptions): boolean {
  return chinaCalendar.isWorkingDay(date, options);
}

/**
 * The date `n` working days after `date` in mainland China (not counting `date`).
 *
 * @example
 * workingDaysAfter('2026-09-28', 15) // { date: '2026-10-23', estimated: false, estimatedYears: [] }
 */
export function workingDaysAfter(date: IsoDate | Date, n: number, options?: CalendarOptions): DueDate {
  return chinaCalendar.workingDaysAfter(date, n, options);
}
