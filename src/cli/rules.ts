/**
 * @module cli/rules
 * `hegui rules`: the instruments hegui knows and their status on a date. It reads the build's
 * compiled copy of the knowledge base, so it loads neither the YAML parser nor the schema
 * (zod) unless the data was edited after the build (issue 14: start-up).
 */
import { type Command, Option } from 'commander';
import { chinaDateOf, parseIsoDate } from '../calendar/dates.js';
import { InvalidInputError } from '../errors.js';
import { loadInstrumentsLazily } from '../rules/compiled.js';
import { bindingOf } from '../rules/engine.js';
import type { Lang } from '../rules/render.js';
import { type InstrumentStatus, instrumentStatuses, statusOn } from '../rules/status.js';
import type { CliIo } from './io.js';

export function registerRules(program: Command, io: CliIo): void {
  program
    .command('rules')
    .description('list the instruments hegui knows and their status on a date')
    .option('--on <date>', 'the date, YYYY-MM-DD (default: today in Beijing)')
    .option('--status <statuses>', `only these statuses, comma-separated (${instrumentStatuses.join(', ')})`)
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'))
    .addOption(new Option('--lang <lang>', 'language of names').choices(['zh', 'en']).default('en'))
    .action(async (flags: { on?: string; status?: string; format: 'table' | 'json'; lang: Lang }) => {
      const date = flags.on === undefined ? chinaDateOf(new Date()) : parseIsoDate(flags.on, '--on');
      const wanted = flags.status?.split(',').map((s) => s.trim()) ?? [];
      const unknown = wanted.filter((s) => !(instrumentStatuses as readonly string[]).includes(s));
      if (unknown.length > 0) {
        throw new InvalidInputError('E_RULES_STATUS', `unknown status ${unknown.join(', ')}; use ${instrumentStatuses.join(', ')}`);
      }
      const rows = (await loadInstrumentsLazily())
        .map((i) => ({ instrument: i, ...statusOn(i, date) }))
        .filter((r) => wanted.length === 0 || wanted.includes(r.status as InstrumentStatus));
      if (flags.format === 'json') {
        const json = rows.map(({ instrument: i, status, version }) => ({
          id: i.id,
          name: i.name,
          hierarchy: i.hierarchy,
          binding: bindingOf(i),
          citations: i.source.citations,
          promulgated: i.promulgated,
          effective: i.effective ?? null,
          status,
          version: version ?? null,
          obligations: i.obligations.length,
        }));
        io.stdout.write(`${JSON.stringify({ date, instruments: json }, null, 2)}\n`);
        return;
      }
      const width = Math.max(...rows.map((r) => r.instrument.id.length), 2);
      io.stdout.write(`Instruments on ${date}: ${rows.length}\n`);
      for (const { instrument: i, status, version } of rows) {
        const v = version !== undefined && version !== 'original' ? ` [${version}]` : '';
        io.stdout.write(`${i.id.padEnd(width)}  ${(status + v).padEnd(30)}  ${(i.effective ?? '-').padEnd(10)}  ${i.name[flags.lang]}\n`);
      }
    });
}
