/**
 * @module cli/desk
 * `hegui desk list|show|export|escalate|settings`: the compliance desk for scripts. Lists read
 * the reviewer's queue (open cases in due-date order unless told otherwise); `export` writes
 * every matching case with its history as JSON lines; `settings` shows or sets the published
 * time limits the rules page and new cases use. Changes are audit events (actor `system:cli`).
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { AuditLog, auditEnvironment } from '../audit/index.js';
import { CASE_KINDS, CASE_STATES, DeskService, Outbox } from '../desk/index.js';
import { InvalidInputError } from '../errors.js';
import type { Store } from '../store/index.js';
import type { CliIo } from './io.js';
import { withStore } from './store.js';

const CLI_ACTOR = { id: 'system:cli' };

interface FilterFlags {
  state?: string;
  kind?: string;
  category?: string;
  closed?: boolean;
  assignee?: string;
  dueBy?: string;
}

function filter(flags: FilterFlags) {
  if (flags.state !== undefined && !(CASE_STATES as readonly string[]).includes(flags.state)) throw new InvalidInputError('E_CLI_DESK', `--state is one of ${CASE_STATES.join(', ')}`);
  if (flags.kind !== undefined && !(CASE_KINDS as readonly string[]).includes(flags.kind)) throw new InvalidInputError('E_CLI_DESK', `--kind is one of ${CASE_KINDS.join(', ')}`);
  if (flags.dueBy !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(flags.dueBy)) throw new InvalidInputError('E_CLI_DESK', '--due-by is a date, YYYY-MM-DD');
  return {
    ...(flags.state ? { state: flags.state } : {}),
    ...(flags.closed ? { open: false } : {}),
    ...(flags.kind ? { kind: flags.kind } : {}),
    ...(flags.category ? { category: flags.category } : {}),
    ...(flags.assignee ? { assignee: flags.assignee } : {}),
    ...(flags.dueBy ? { dueBy: flags.dueBy } : {}),
  };
}

function service(store: Store, io: CliIo): { desk: DeskService; audit: AuditLog } {
  const audit = new AuditLog(store, auditEnvironment(io.env, io.cwd));
  return { desk: new DeskService({ store, audit, outbox: new Outbox(store) }), audit };
}

function withFilters(command: Command): Command {
  return command
    .option('--state <state>', `one state: ${CASE_STATES.join(', ')}`)
    .option('--closed', 'closed cases instead of open ones')
    .option('--kind <kind>', `complaint, report or pi`)
    .option('--category <category>', 'a category or PI right, e.g. delete')
    .option('--assignee <id>', 'an operator id, or none')
    .option('--due-by <date>', 'due on or before this date (YYYY-MM-DD)');
}

function count(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 200) throw new InvalidInputError('E_CLI_LIMIT', '--limit is a whole number from 1 to 200');
  return Number(value);
}

function days(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidInputError('E_CLI_DESK', 'a number of working days is a whole number');
  return Number(value);
}

export function registerDesk(program: Command, io: CliIo): void {
  const desk = program.command('desk').description('the compliance desk: complaints, reports and personal-information requests on working-day clocks');

  withFilters(desk.command('list').description('the queue: open cases by due date (filters narrow it)'))
    .option('--limit <n>', 'cases to show (1-200, default 50)', count, 50)
    .option('--json', 'print JSON')
    .action(async (flags: FilterFlags & { limit: number; json?: boolean }) => {
      const page = await withStore(io, (store) => service(store, io).desk.queue({ ...filter(flags), limit: flags.limit }));
      if (flags.json) {
        io.stdout.write(`${JSON.stringify(page, null, 2)}\n`);
        return;
      }
      io.stdout.write(`${page.total}${page.totalCapped ? '+' : ''} case(s)${page.total > page.cases.length ? `, showing ${page.cases.length}` : ''}\n`);
      for (const c of page.cases) {
        const flagsText = [c.paused ? 'paused' : '', c.escalation === 2 ? 'OVERDUE' : c.escalation === 1 ? 'due soon' : '', c.contactVerified ? '' : 'unverified'].filter(Boolean).join(',');
        io.stdout.write(`${c.reference}\t${c.dueDate}${c.dueEstimated ? '~' : ''}\t${c.state}\t${c.kind}/${c.category}\t${c.assigneeId ?? '-'}\t${flagsText || '-'}\n`);
      }
    });

  desk
    .command('show')
    .description('one case with its history, notes and messages')
    .argument('<reference>', 'e.g. C-2026-000123')
    .option('--json', 'print JSON')
    .action(async (reference: string, flags: { json?: boolean }) => {
      const detail = await withStore(io, (store) => service(store, io).desk.detail(reference));
      if (flags.json) {
        io.stdout.write(`${JSON.stringify(detail, null, 2)}\n`);
        return;
      }
      io.stdout.write(`${detail.reference}  ${detail.kind}/${detail.category}  ${detail.state}\nreceived ${detail.receivedAt}; due ${detail.dueDate}${detail.dueEstimated ? ' (estimated)' : ''}${detail.paused ? ' (clock paused)' : ''}; limit ${detail.limitDays} working days\n`);
      io.stdout.write(`contact ${detail.contactVerified ? 'verified' : 'not verified'}${detail.account ? `; account ${detail.account}` : ''}; assignee ${detail.assigneeId ?? '-'}\n`);
      if (detail.subject) io.stdout.write(`about: ${JSON.stringify(detail.subject)}\n`);
      io.stdout.write(`text: ${JSON.stringify(detail.text)}\n`);
      if (detail.resolution) io.stdout.write(`resolution: ${JSON.stringify(detail.resolution)}\n`);
      io.stdout.write('history:\n');
      for (const h of detail.history) io.stdout.write(`  ${h.at}\t${h.actor}\t${h.action}${h.to ? ` -> ${h.to}` : ''}\t${JSON.stringify(h.reason ?? '')}\n`);
      if (detail.notes.length > 0) io.stdout.write('notes:\n');
      for (const n of detail.notes) io.stdout.write(`  ${n.at}\t${n.authorId}\t${JSON.stringify(n.text)}\n`);
    });

  withFilters(desk.command('export').description('every matching case with its history, as JSON lines'))
    .option('--out <file>', 'write to this file instead of standard output')
    .action(async (flags: FilterFlags & { out?: string }) => {
      const lines: string[] = [];
      await withStore(io, async (store) => {
        const { desk: d } = service(store, io);
        for await (const row of d.all(filter(flags))) lines.push(JSON.stringify(await d.detail(row.reference)));
      });
      const text = lines.length > 0 ? `${lines.join('\n')}\n` : '';
      if (flags.out) {
        await writeFile(resolve(io.cwd, flags.out), text);
        io.stderr.write(`wrote ${lines.length} case(s) to ${flags.out}\n`);
      } else io.stdout.write(text);
    });

  desk
    .command('escalate')
    .description('escalate open cases near or past their due date (the server also runs this every 15 minutes)')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }) => {
      const escalated = await withStore(io, async (store) => {
        const { desk: d, audit } = service(store, io);
        const result = await d.escalate(CLI_ACTOR);
        await audit.flush();
        return result;
      });
      if (flags.json) io.stdout.write(`${JSON.stringify({ escalated }, null, 2)}\n`);
      else {
        io.stdout.write(`${escalated.length} case(s) escalated\n`);
        for (const e of escalated) io.stdout.write(`${e.reference}\t${e.level === 2 ? 'overdue' : 'due soon'}\t${e.dueDate}\n`);
      }
    });

  desk
    .command('settings')
    .description('show or set the published time limits (working days) and the desk\'s limits')
    .option('--complaint-days <n>', 'time limit for complaints', days)
    .option('--report-days <n>', 'time limit for reports', days)
    .option('--pi-days <n>', 'time limit for personal-information requests', days)
    .option('--escalate-days <n>', 'escalate this many working days before the due date', days)
    .option('--provider <name>', 'the provider\'s name on the rules page')
    .option('--pow-bits <n>', 'proof of work asked of the intake (0 = off)', days)
    .option('--upload-max-bytes <n>', 'largest evidence file', days)
    .option('--json', 'print JSON')
    .action(async (flags: { complaintDays?: number; reportDays?: number; piDays?: number; escalateDays?: number; provider?: string; powBits?: number; uploadMaxBytes?: number; json?: boolean }) => {
      const limits = {
        ...(flags.complaintDays !== undefined ? { complaint: flags.complaintDays } : {}),
        ...(flags.reportDays !== undefined ? { report: flags.reportDays } : {}),
        ...(flags.piDays !== undefined ? { pi: flags.piDays } : {}),
      };
      const patch: Record<string, unknown> = {
        ...(Object.keys(limits).length > 0 ? { limits } : {}),
        ...(flags.escalateDays !== undefined ? { escalateDaysBefore: flags.escalateDays } : {}),
        ...(flags.provider !== undefined ? { providerName: flags.provider } : {}),
        ...(flags.powBits !== undefined ? { powBits: flags.powBits } : {}),
        ...(flags.uploadMaxBytes !== undefined ? { uploadMaxBytes: flags.uploadMaxBytes } : {}),
      };
      const settings = await withStore(io, async (store) => {
        const { desk: d, audit } = service(store, io);
        if (Object.keys(patch).length === 0) return d.settings();
        const next = await d.updateSettings(patch, CLI_ACTOR);
        await audit.flush();
        return next;
      });
      if (flags.json) {
        io.stdout.write(`${JSON.stringify(settings, null, 2)}\n`);
        return;
      }
      io.stdout.write(`time limits (China working days): complaint ${settings.limits.complaint}, report ${settings.limits.report}, pi ${settings.limits.pi}\n`);
      io.stdout.write(`escalate ${settings.escalateDaysBefore} working day(s) before the due date; provider "${settings.providerName}"\n`);
      io.stdout.write(`evidence: up to ${settings.uploadMaxFiles} file(s) of ${settings.uploadMaxBytes} bytes; codes ${settings.codeMinutes} min, ${settings.codeAttempts} attempts; proof of work ${settings.powBits} bit(s)\n`);
    });
}
