import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  addMonths,
  chinaCalendar,
  isWorkingDay,
  parseScheduleFile,
  ScheduleUnpublishedError,
  WorkCalendar,
  workingDaysAfter,
} from './index.js';

/**
 * The official notices, typed in from the State Council's announcements:
 * 2025: 国办发明电〔2024〕12号; 2026: 国办发明电〔2025〕7号.
 * [first day off, last day off, make-up working days]
 */
const notices: Record<number, [string, string, string[]][]> = {
  2025: [
    ['2025-01-01', '2025-01-01', []],
    ['2025-01-28', '2025-02-04', ['2025-01-26', '2025-02-08']],
    ['2025-04-04', '2025-04-06', []],
    ['2025-05-01', '2025-05-05', ['2025-04-27']],
    ['2025-05-31', '2025-06-02', []],
    ['2025-10-01', '2025-10-08', ['2025-09-28', '2025-10-11']],
  ],
  2026: [
    ['2026-01-01', '2026-01-03', ['2026-01-04']],
    ['2026-02-15', '2026-02-23', ['2026-02-14', '2026-02-28']],
    ['2026-04-04', '2026-04-06', []],
    ['2026-05-01', '2026-05-05', ['2026-05-09']],
    ['2026-06-19', '2026-06-21', []],
    ['2026-09-25', '2026-09-27', []],
    ['2026-10-01', '2026-10-07', ['2026-09-20', '2026-10-10']],
  ],
};

function expectedWorking(year: number): Map<string, boolean> {
  const off = new Set<string>();
  const makeup = new Set<string>();
  for (const [first, last, work] of notices[year] ?? []) {
    for (let d = new Date(`${first}T00:00:00Z`); d <= new Date(`${last}T00:00:00Z`); d.setUTCDate(d.getUTCDate() + 1)) {
      off.add(d.toISOString().slice(0, 10));
    }
    for (const w of work) makeup.add(w);
  }
  const out = new Map<string, boolean>();
  for (let d = new Date(Date.UTC(year, 0, 1)); d.getUTCFullYear() === year; d.setUTCDate(d.getUTCDate() + 1)) {
    const iso = d.toISOString().slice(0, 10);
    const weekend = d.getUTCDay() === 0 || d.getUTCDay() === 6;
    out.set(iso, makeup.has(iso) || (!off.has(iso) && !weekend));
  }
  return out;
}

describe('the State Council schedules', () => {
  for (const year of [2025, 2026]) {
    it(`matches the official ${year} notice on every day of the year`, () => {
      const wrong = [...expectedWorking(year)].filter(([date, working]) => isWorkingDay(date) !== working);
      expect(wrong).toEqual([]);
    });
  }

  it('agrees with a second, independent data package (holiday-calendar) for 2020-2026', () => {
    const require = createRequire(import.meta.url);
    const disagreements: string[] = [];
    for (let year = 2020; year <= 2026; year += 1) {
      const file = require.resolve(`holiday-calendar/data/CN/${year}.json`);
      const other = JSON.parse(readFileSync(file, 'utf8')) as { dates: { date: string; type: string }[] };
      for (const { date, type } of other.dates) {
        const working = type === 'transfer_workday';
        if (type !== 'public_holiday' && type !== 'transfer_workday') continue;
        if (isWorkingDay(date) !== working) disagreements.push(`${date} ${type}`);
      }
    }
    expect(disagreements).toEqual([]);
  });

  it('names the holiday and the make-up day', () => {
    expect(chinaCalendar.describe('2026-10-01')).toMatchObject({ working: false, kind: 'holiday', holiday: { zh: '国庆节' } });
    expect(chinaCalendar.describe('2026-10-10')).toMatchObject({ working: true, kind: 'makeup-workday' });
    expect(chinaCalendar.describe('2026-11-28')).toMatchObject({ working: false, kind: 'weekend', estimated: false });
  });
});

describe('workingDaysAfter', () => {
  it('counts over National Day 2026 and its make-up working days', () => {
    // 09-29, 09-30, (10-01..07 off), 10-08, 10-09, 10-10 (make-up Saturday), 10-12..16, 10-19..23
    expect(workingDaysAfter('2026-09-28', 15)).toEqual({ date: '2026-10-23', estimated: false, estimatedYears: [] });
  });

  it('does not count the start day, and 0 returns it', () => {
    expect(workingDaysAfter('2026-11-27', 1).date).toBe('2026-11-30');
    expect(workingDaysAfter('2026-11-28', 0).date).toBe('2026-11-28');
  });

  it('counts over the Spring Festival 2026 with both make-up Saturdays', () => {
    // 02-13 (Fri) then 02-14 make-up Saturday, 02-15..23 off, 02-24..27, 02-28 make-up Saturday
    expect(workingDaysAfter('2026-02-12', 7).date).toBe('2026-02-28');
    expect(workingDaysAfter('2026-02-12', 8).date).toBe('2026-03-02');
  });

  it('refuses to count through an unpublished year unless an estimate is asked for', () => {
    const last = chinaCalendar.publishedYears().at(-1) ?? 0;
    expect(() => workingDaysAfter(`${last}-12-20`, 15)).toThrow(ScheduleUnpublishedError);
    expect(() => workingDaysAfter(`${last}-12-20`, 15)).toThrow(/--estimate/);
    const due = workingDaysAfter(`${last}-12-20`, 15, { allowEstimate: true });
    expect(due.estimated).toBe(true);
    expect(due.estimatedYears).toEqual([last + 1]);
  });

  it('rejects bad counts and impossible dates with typed errors', () => {
    expect(() => workingDaysAfter('2026-02-30', 1)).toThrow(/not a calendar date/);
    expect(() => workingDaysAfter('2026-9-28', 1)).toThrow(/YYYY-MM-DD/);
    expect(() => workingDaysAfter('2026-09-28', -1)).toThrow(/whole number/);
    expect(() => workingDaysAfter('2026-09-28', 1.5)).toThrow(/whole number/);
  });

  it('reads a Date as the date in Beijing', () => {
    // 2026-09-30 20:00 UTC is already 10-01 in Beijing, a holiday
    expect(isWorkingDay(new Date('2026-09-30T20:00:00Z'))).toBe(false);
  });
});

describe('schedule files', () => {
  const file = JSON.stringify({
    year: 2099,
    source: 'test notice',
    holidays: { '2099-01-01': { zh: '元旦', en: "New Year's Day" }, '2099-01-02': '元旦' },
    makeupWorkdays: { '2099-01-03': '元旦' },
  });

  it('adds a year the package does not know', () => {
    const calendar = chinaCalendar.with([parseScheduleFile(file)]);
    expect(calendar.isWorkingDay('2099-01-01')).toBe(false);
    expect(calendar.isWorkingDay('2099-01-03')).toBe(true); // a Saturday made a working day
    expect(calendar.workingDaysAfter('2098-12-31', 2)).toMatchObject({ date: '2099-01-05', estimated: false });
  });

  it('names the field that is wrong', () => {
    expect(() => parseScheduleFile('{')).toThrow(/not valid JSON/);
    expect(() => parseScheduleFile(JSON.stringify({ year: 2099, source: 's', holidays: { '2099-02-30': 'x' } }))).toThrow(/not a calendar date/);
    expect(() => parseScheduleFile(JSON.stringify({ year: 2099, source: 's', holidays: { '2098-01-01': 'x' } }))).toThrow(/outside the schedule's year/);
    expect(() => parseScheduleFile(JSON.stringify({ year: 2099, holidays: {} }))).toThrow(/source/);
    expect(() => parseScheduleFile(JSON.stringify({ year: 2099, source: 's', holidays: {}, extra: 1 }))).toThrow(/extra/);
  });

  it('an empty calendar knows no year', () => {
    expect(() => new WorkCalendar([]).isWorkingDay('2026-01-05')).toThrow(/known years: none/);
  });
});

describe('addMonths', () => {
  it('clamps to the last day of the month', () => {
    expect(addMonths('2025-08-31', 6)).toBe('2026-02-28');
    expect(addMonths('2026-01-15', 6)).toBe('2026-07-15');
  });
});
