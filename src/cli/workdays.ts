/**
 * @module cli/workdays
 * `hegui workdays add|is|years`: China working-day arithmetic from the State Council schedule.
 */
import type { Command } from 'commander';
// Not calendar/index.js: its schedule-file parser loads zod (about 120 ms of start-up CPU),
// which only --schedule needs.
import { chinaCalendar } from '../calendar/china.js';
import type { DayInfo, WorkCalendar } from '../calendar/work-calendar.js';
import { InvalidInputError } from '../errors.js';
import { readTextFile } from './files.js';
import type { CliIo } from './io.js';

interface CalendarFlags {
  estimate?: boolean;
  schedule?: string[];
  json?: boolean;
}

async function calendarWith(io: CliIo, files: string[] = []): Promise<WorkCalendar> {
  if (files.length === 0) return chinaCalendar;
  const { parseScheduleFile } = await import('../calendar/schedule-file.js');
  const schedules = await Promise.all(
    files.map(async (file) => parseScheduleFile(await readTextFile(io, file, 'schedule file'), file)),
  );
  return chinaCalendar.with(schedules);
}

function describeDay(info: DayInfo): string {
  const what = info.working ? 'a working day' : 'not a working day';
  const why: Record<DayInfo['kind'], string> = {
    workday: 'weekday',
    weekend: 'weekend',
    holiday: `public holiday: ${info.holiday?.zh} ${info.holiday?.en}`,
    'makeup-workday': `make-up working day for ${info.holiday?.zh} ${info.holiday?.en}`,
  };
  return `${info.date} is ${what} (${why[info.kind]})${info.estimated ? ' [estimate: schedule not published]' : ''}`;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function registerWorkdays(program: Command, io: CliIo): void {
  const workdays = program
    .command('workdays')
    .description('China working days from the State Council holiday schedule, with make-up working days');

  workdays
    .command('add')
    .description('print the date N working days after DATE (DATE itself not counted)')
    .argument('<date>', 'start date, YYYY-MM-DD (e.g. the day a complaint was received)')
    .argument('<n>', 'number of working days')
    .option('--estimate', 'count a year whose schedule is not published as weekends only, and say so')
    .option('--schedule <file>', 'add a published schedule (JSON) the data package lacks; repeatable', collect)
    .option('--json', 'print {"date","estimated","estimatedYears"}')
    .addHelpText('after', '\nExample:\n  $ hegui workdays add 2026-09-28 15\n  2026-10-23')
    .action(async (date: string, n: string, flags: CalendarFlags) => {
      if (!/^\d+$/.test(n)) throw new InvalidInputError('E_CALENDAR_COUNT', `N must be a whole number of working days, not "${n}"`);
      const calendar = await calendarWith(io, flags.schedule);
      const due = calendar.workingDaysAfter(date, Number(n), { allowEstimate: flags.estimate ?? false });
      if (flags.json) io.stdout.write(`${JSON.stringify(due)}\n`);
      else io.stdout.write(`${due.date}${due.estimated ? ` (estimate: no published schedule for ${due.estimatedYears.join(', ')})` : ''}\n`);
    });

  workdays
    .command('is')
    .description('tell whether DATE is a working day, and why')
    .argument('<date>', 'YYYY-MM-DD')
    .option('--estimate', 'answer for a year whose schedule is not published, from weekends only')
    .option('--schedule <file>', 'add a published schedule (JSON) the data package lacks; repeatable', collect)
    .option('--json', 'print {"date","working","kind","holiday","estimated"}')
    .action(async (date: string, flags: CalendarFlags) => {
      const calendar = await calendarWith(io, flags.schedule);
      const info = calendar.describe(date, { allowEstimate: flags.estimate ?? false });
      io.stdout.write(flags.json ? `${JSON.stringify(info)}\n` : `${describeDay(info)}\n`);
    });

  workdays
    .command('years')
    .description('list the years whose holiday schedule hegui knows')
    .action(() => {
      const years = chinaCalendar.publishedYears();
      io.stdout.write(`${years[0]}-${years[years.length - 1]}\n`);
    });
}
