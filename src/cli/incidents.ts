/**
 * @module cli/incidents
 * `hegui incidents list|show|export`: the desk's illegal-content incidents for scripts and for
 * the report to an authority. Reading only; incidents are opened and worked on the dashboard
 * (or its API), where each action is taken by a signed-in operator.
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { AuditLog } from '../audit/index.js';
import { IncidentDesk, type IncidentView } from '../desk/incident.js';
import { InvalidInputError } from '../errors.js';
import type { CliIo } from './io.js';
import { withStore } from './store.js';

function line(i: Omit<IncidentView, 'actions'>): string {
  const clock = i.report.dueAt === null ? 'no hourly clock' : i.report.reportedAt ? `reported ${i.report.reportedAt}${i.report.reportedInTime ? '' : ' (LATE)'}` : `report due ${i.report.dueAt}${i.report.overdue ? ' (OVERDUE)' : ''}`;
  return [i.ref, i.state, i.grade, clock, i.title.replace(/\s+/g, ' ').slice(0, 80)].join('\t');
}

export function registerIncidents(program: Command, io: CliIo): void {
  const incidents = program.command('incidents').description('illegal-content incidents of the desk: list, show, export the report');
  const desk = <T>(work: (d: IncidentDesk) => Promise<T>): Promise<T> => withStore(io, (store) => work(new IncidentDesk(store, { audit: new AuditLog(store) })));

  incidents
    .command('list')
    .description('incidents, newest first (ref, state, grade, report clock, title)')
    .option('--state <state>', 'open, reported or closed')
    .option('--limit <n>', 'at most this many (1-500)', '50')
    .option('--json', 'print JSON')
    .action(async (flags: { state?: string; limit: string; json?: boolean }) => {
      if (!/^\d+$/.test(flags.limit)) throw new InvalidInputError('E_CLI_LIMIT', '--limit is a whole number from 1 to 500');
      const page = await desk((d) => d.list({ ...(flags.state ? { state: flags.state } : {}), limit: Number(flags.limit) }));
      if (flags.json) io.stdout.write(`${JSON.stringify(page, null, 2)}\n`);
      else for (const i of page.incidents) io.stdout.write(`${line(i)}\n`);
    });

  incidents
    .command('show')
    .description('one incident with its actions')
    .argument('<ref>', 'e.g. INC-2026-000001')
    .option('--json', 'print JSON')
    .action(async (ref: string, flags: { json?: boolean }) => {
      const incident = await desk((d) => d.get(ref));
      if (flags.json) {
        io.stdout.write(`${JSON.stringify(incident, null, 2)}\n`);
        return;
      }
      io.stdout.write(`${line(incident)}\n${incident.report.basis.en}\n`);
      for (const a of incident.actions) io.stdout.write(`  ${a.at}\t${a.kind}\t${a.actor}\n`);
    });

  incidents
    .command('export')
    .description('the incident and its report to the authority (Chinese), as JSON or Markdown')
    .argument('<ref>', 'e.g. INC-2026-000001')
    .option('--format <format>', 'json or md', 'json')
    .option('-o, --out <file>', 'write to this file (a new one) instead of stdout')
    .action(async (ref: string, flags: { format: string; out?: string }) => {
      if (flags.format !== 'json' && flags.format !== 'md') throw new InvalidInputError('E_CLI_FORMAT', '--format is json or md');
      const text = await desk(async (d) => (flags.format === 'md' ? d.exportMarkdown(ref) : `${JSON.stringify(await d.exportJson(ref), null, 2)}\n`));
      if (!flags.out) {
        io.stdout.write(text);
        return;
      }
      try {
        await writeFile(resolve(io.cwd, flags.out), text, { flag: 'wx', mode: 0o600 });
      } catch (cause) {
        throw new InvalidInputError('E_CLI_OUTPUT', `cannot write ${flags.out}: ${(cause as NodeJS.ErrnoException).code === 'EEXIST' ? 'it exists (choose a new file)' : (cause as Error).message}`);
      }
      io.stderr.write(`wrote ${flags.out}\n`);
    });
}
