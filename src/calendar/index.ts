/**
 * @module calendar
 * China working days and deadline arithmetic.
 */
export { addDays, addMonths, chinaDateOf, parseIsoDate, toIsoDate, type IsoDate } from './dates.js';
export { ScheduleUnpublishedError } from './errors.js';
export { chinaCalendar, isWorkingDay, workingDaysAfter } from './china.js';
export { parseScheduleFile } from './schedule-file.js';
export {
  WorkCalendar,
  type CalendarOptions,
  type DayInfo,
  type DayKind,
  type DueDate,
  type HolidayName,
  type HolidaySchedule,
} from './work-calendar.js';
