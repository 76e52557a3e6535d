/**
 * @module desk/deadline
 * Due dates in China working days (make-up working days count, holidays do not), through
 * calendar/. A due date is fixed at intake; it moves only when the clock pauses (waiting on the
 * requester) and resumes: the working days left at the pause are counted again from the resume.
 */
import { addDays, chinaCalendar, chinaDateOf, type IsoDate, type WorkCalendar } from '../calendar/index.js';

export interface Due {
  date: IsoDate;
  /** A year on the way had no published holiday schedule: weekends only were counted. */
  estimated: boolean;
}

/** The due date `limit` working days after the China date of `receivedAt` (that day not counted). */
export function dueAtIntake(receivedAt: Date, limit: number, calendar: WorkCalendar = chinaCalendar): Due {
  const due = calendar.workingDaysAfter(chinaDateOf(receivedAt), limit, { allowEstimate: true });
  return { date: due.date, estimated: due.estimated };
}

/** Working days d with from < d <= to (0 when to <= from). */
export function workingDaysBetween(from: IsoDate, to: IsoDate, calendar: WorkCalendar = chinaCalendar): number {
  let n = 0;
  for (let day = addDays(from, 1); day <= to; day = addDays(day, 1)) if (calendar.isWorkingDay(day, { allowEstimate: true })) n += 1;
  return n;
}

/** Working days left at a pause on `pausedAt` until `due` (0 when already due or overdue). */
export function remainingAtPause(due: IsoDate, pausedAt: Date, calendar: WorkCalendar = chinaCalendar): number {
  return workingDaysBetween(chinaDateOf(pausedAt), due, calendar);
}

/** The new due date when the clock resumes on `resumedAt` with `remaining` working days left. */
export function dueAtResume(resumedAt: Date, remaining: number, calendar: WorkCalendar = chinaCalendar): Due {
  const due = calendar.workingDaysAfter(chinaDateOf(resumedAt), remaining, { allowEstimate: true });
  return { date: due.date, estimated: due.estimated };
}
