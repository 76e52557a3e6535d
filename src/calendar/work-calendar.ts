/**
 * @module calendar/work-calendar
 * China working days: Monday to Friday, minus the public holidays the State Council announces
 * each year, plus the weekend days it declares make-up working days (调休上班).
 */
import { InvalidInputError } from '../errors.js';
import { addDays, dayOfWeek, type IsoDate, toIsoDate, yearOf } from './dates.js';
import { ScheduleUnpublishedError } from './errors.js';

/** One year's schedule as the State Council publishes it. */
export interface HolidaySchedule {
  year: number;
  /** Days off, with the festival's name (weekend days inside a holiday period included). */
  holidays: Record<IsoDate, HolidayName>;
  /** Weekend days declared working days, with the festival they make up for. */
  makeupWorkdays: Record<IsoDate, HolidayName>;
  /** Where the schedule came from, e.g. "国办发明电〔2025〕7号" or a data package. */
  source: string;
}

export interface HolidayName {
  zh: string;
  en: string;
}

export type DayKind = 'workday' | 'weekend' | 'holiday' | 'makeup-workday';

export interface DayInfo {
  date: IsoDate;
  working: boolean;
  kind: DayKind;
  holiday?: HolidayName;
  /** True when the year's schedule is unknown and only weekends were considered. */
  estimated: boolean;
}

export interface CalendarOptions {
  /**
   * Count a year whose schedule is not published as weekends only, and mark the result as an
   * estimate. Without it such a year raises `ScheduleUnpublishedError`.
   */
  allowEstimate?: boolean;
}

/** A due date, and whether any day on the way was only estimated. */
export interface DueDate {
  date: IsoDate;
  estimated: boolean;
  /** The years counted without a published schedule. */
  estimatedYears: number[];
}

/** Longest stretch we will walk; 10,000 working days is about 40 years. */
const MAX_WORKING_DAYS = 10_000;

export class WorkCalendar {
  readonly #schedules: ReadonlyMap<number, HolidaySchedule>;

  constructor(schedules: Iterable<HolidaySchedule>) {
    const byYear = new Map<number, HolidaySchedule>();
    for (const s of schedules) byYear.set(s.year, s);
    this.#schedules = byYear;
  }

  /** A calendar with `extra` schedules added, replacing any year they also cover. */
  with(extra: Iterable<HolidaySchedule>): WorkCalendar {
    return new WorkCalendar([...this.#schedules.values(), ...extra]);
  }

  /** Years whose schedule is known, ascending. */
  publishedYears(): number[] {
    return [...this.#schedules.keys()].sort((a, b) => a - b);
  }

  schedule(year: number): HolidaySchedule | undefined {
    return this.#schedules.get(year);
  }

  describe(date: IsoDate | Date, options: CalendarOptions = {}): DayInfo {
    const iso = toIsoDate(date);
    const schedule = this.#schedules.get(yearOf(iso));
    const weekend = dayOfWeek(iso) === 0 || dayOfWeek(iso) === 6;
    if (!schedule) {
      if (!options.allowEstimate) throw new ScheduleUnpublishedError(yearOf(iso), this.publishedYears());
      return { date: iso, working: !weekend, kind: weekend ? 'weekend' : 'workday', estimated: true };
    }
    const holiday = schedule.holidays[iso];
    if (holiday) return { date: iso, working: false, kind: 'holiday', holiday, estimated: false };
    const makeup = schedule.makeupWorkdays[iso];
    if (makeup) return { date: iso, working: true, kind: 'makeup-workday', holiday: makeup, estimated: false };
    return { date: iso, working: !weekend, kind: weekend ? 'weekend' : 'workday', estimated: false };
  }

  isWorkingDay(date: IsoDate | Date, options: CalendarOptions = {}): boolean {
    return this.describe(date, options).working;
  }

  /**
   * The date that is `n` working days after `date`; `date` itself is not counted, as in
   * "reply within 15 working days of receipt". `n = 0` returns `date`.
   *
   * @example
   * chinaCalendar.workingDaysAfter('2026-09-28', 15).date // '2026-10-23' (National Day, make-up 10-10)
   */
  workingDaysAfter(date: IsoDate | Date, n: number, options: CalendarOptions = {}): DueDate {
    if (!Number.isInteger(n) || n < 0 || n > MAX_WORKING_DAYS) {
      throw new InvalidInputError('E_CALENDAR_COUNT', `the number of working days must be a whole number from 0 to ${MAX_WORKING_DAYS}, not ${n}`);
    }
    let day = toIsoDate(date);
    const estimatedYears = new Set<number>();
    for (let left = n; left > 0; ) {
      day = addDays(day, 1);
      const info = this.describe(day, options);
      if (info.estimated) estimatedYears.add(yearOf(day));
      if (info.working) left -= 1;
    }
    return { date: day, estimated: estimatedYears.size > 0, estimatedYears: [...estimatedYears] };
  }
}
