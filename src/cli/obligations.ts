/**
 * @module cli/obligations
 * `hegui obligations`: which duties bind a service, and the gap report (`hegui rules` is in
 * rules.ts).
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { chinaDateOf, parseIsoDate } from '../calendar/index.js';
import {
  applicableObligations,
  explainObligation,
  gapReport,
  type Lang,
  loadInstruments,
  parseEvidence,
  readServiceProfile,
  renderExplanation,
  renderGapMarkdown,
  renderObligationsMarkdown,
  renderObligationsTable,
} from '../rules/index.js';
import { InvalidInputError, NotFoundError } from '../errors.js';
import { readTextFile } from './files.js';
import type { CliIo } from './io.js';

interface ObligationsFlags {
  profile: string;
  explain?: string;
  on?: string;
  format: 'table' | 'json' | 'md';
  evidence?: string;
  fromStore?: boolean;
  lang: Lang;
  output?: string;
}

async function emit(io: CliIo, text: string, output: string | undefined): Promise<void> {
  if (output === undefined) io.stdout.write(text);
  else {
    await writeFile(resolve(io.cwd, output), text);
    io.stderr.write(`wrote ${output}\n`);
  }
}

function dateOption(value: string | undefined): string {
  return value === undefined ? chinaDateOf(new Date()) : parseIsoDate(value, '--on');
}

export function registerObligations(program: Command, io: CliIo): void {
  program
    .command('obligations')
    .description('list the duties that bind a service on a date, with citations; with --evidence, the gap report')
    .requiredOption('-p, --profile <file>', 'service profile (YAML or JSON); see examples/profiles/')
    .option('--on <date>', 'the date to assess, YYYY-MM-DD (default: today in Beijing)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json', 'md']).default('table'))
    .option('-e, --evidence <file>', 'evidence file: mark each duty compliant / non-compliant / not applicable')
    .option('--from-store', 'the gap report from the evidence recorded in the dashboard (the store of HEGUI_DATABASE_URL)')
    .addOption(new Option('--lang <lang>', 'language of the report').choices(['zh', 'en']).default('en'))
    .option('-o, --output <file>', 'write the report to a file instead of stdout')
    .option('--explain <id>', 'why one duty applies or not: the conditions it tested and the answers they got')
    .addHelpText(
      'after',
      '\nExamples:\n  $ hegui obligations --profile examples/profiles/public-chatbot.yaml\n  $ hegui obligations -p profile.yaml --explain genai-measures.assessment-and-filing\n  $ hegui obligations -p profile.yaml --on 2025-08-31 --format json\n  $ hegui obligations -p profile.yaml --evidence evidence.yaml --format md --lang zh -o gap.md\n  $ hegui obligations -p profile.yaml --from-store --format md   # what the dashboard recorded',
    )
    .action(async (flags: ObligationsFlags) => {
      const date = dateOption(flags.on);
      const { profile, notes } = readServiceProfile(await readTextFile(io, flags.profile, 'profile'), flags.profile);
      for (const note of notes) io.stderr.write(`warning: ${flags.profile}: ${note}\n`);
      const instruments = loadInstruments();
      if (flags.explain !== undefined) {
        const explanation = explainObligation(instruments, profile, date, flags.explain);
        if (explanation === undefined) {
          const near = instruments.flatMap((i) => i.obligations.map((o) => o.id)).filter((id) => id.startsWith(flags.explain!.split('.')[0] ?? ''));
          throw new NotFoundError('E_OBLIGATION_UNKNOWN', `no duty has the id ${flags.explain}${near.length > 0 ? `; ids of that instrument: ${near.join(', ')}` : ' (see hegui obligations --format json for the ids)'}`);
        }
        const text = flags.format === 'json' ? `${JSON.stringify(explanation, null, 2)}\n` : renderExplanation(explanation, instruments, flags.lang);
        await emit(io, text, flags.output);
        return;
      }
      const report = applicableObligations(instruments, profile, date);
      if (flags.evidence !== undefined && flags.fromStore) throw new InvalidInputError('E_CLI_OPTIONS', 'give --evidence FILE or --from-store, not both');
      if (flags.evidence === undefined && !flags.fromStore) {
        const text =
          flags.format === 'json'
            ? `${JSON.stringify(report, null, 2)}\n`
            : flags.format === 'md'
              ? renderObligationsMarkdown(report, instruments, flags.lang)
              : renderObligationsTable(report, instruments, flags.lang);
        await emit(io, text, flags.output);
        return;
      }
      const known = new Set(instruments.flatMap((i) => i.obligations.map((o) => o.id)));
      const evidence =
        flags.evidence !== undefined
          ? parseEvidence(await readTextFile(io, flags.evidence, 'evidence file'), flags.evidence, known)
          : await (async () => {
              const [{ withStore }, { loadStoredEvidence }] = await Promise.all([import('./store.js'), import('../rules/evidence-store.js')]);
              return withStore(io, (store) => loadStoredEvidence(store));
            })();
      const gap = gapReport(report, evidence);
      const text = flags.format === 'json' ? `${JSON.stringify(gap, null, 2)}\n` : renderGapMarkdown(gap, instruments, flags.lang);
      await emit(io, text, flags.output);
    });
}
