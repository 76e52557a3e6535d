/**
 * @module cli/eval
 * `hegui eval`: the GB/T 45654 security assessment. This file holds the bank, coverage, report
 * and filing subcommands:
 *
 * - `eval bank import|stats|save|list|export`: question banks from files (JSONL, CSV, XLSX) and
 *   from the public Chinese safety sets, kept in the database by version;
 * - `eval coverage`: the banks against every GB/T 45654 minimum, per risk;
 * - `eval report`: the self-assessment report (DOCX or HTML, zh or en) from a run's summary;
 * - `eval filing`: the filing checklist and the algorithm filing form from the profile.
 *
 * `registerEvalBank(evalCommand, io)` adds them to an `eval` command another module may also
 * extend (the runner's subcommands).
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { InvalidInputError, NotFoundError } from '../errors.js';
import type { BankItem, EvalSummary, ItemKind } from '../eval/types.js';
import { itemKinds } from '../eval/types.js';
// The taxonomy alone: the safety engine's index loads its dictionaries, which --help does not need.
import { isRiskCode, type RiskCode } from '../safety/taxonomy.js';
import { readTextFile } from './files.js';
import { withStore } from './store-lazy.js';
import { addEvalRunCommands } from './eval-run.js';
import type { CliIo } from './io.js';
import { setExitCode } from './main.js';

type Lang = 'zh' | 'en';

async function readBytes(io: CliIo, file: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(resolve(io.cwd, file)));
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new NotFoundError('E_FILE_NOT_FOUND', `cannot read ${what} ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : (cause as Error).message}`, { cause });
  }
}

/** Writes a file whole or not at all: a temporary file beside it, then a rename. */
async function writeWhole(io: CliIo, file: string, data: Uint8Array | string): Promise<void> {
  const target = resolve(io.cwd, file);
  const temp = `${target}.${process.pid}.tmp`;
  try {
    await writeFile(temp, data);
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Reads bank files in hegui's own formats (by extension) and concatenates their items. */
async function readBankFiles(io: CliIo, files: readonly string[]): Promise<BankItem[]> {
  const { formatOfFile, readBank } = await import('../eval/bank-io.js');
  const items: BankItem[] = [];
  for (const file of files) {
    const format = formatOfFile(file);
    if (format === undefined) throw new InvalidInputError('E_BANK_FORMAT', `${file}: a bank file ends in .jsonl, .csv or .xlsx (for the public sets use \`hegui eval bank import --format\`)`);
    items.push(...(await readBank(await readBytes(io, file, 'bank file'), format, basename(file))));
  }
  return items;
}

function kindOption(value: string | undefined): ItemKind | undefined {
  if (value === undefined) return undefined;
  if (!(itemKinds as readonly string[]).includes(value)) throw new InvalidInputError('E_EVAL_KIND', `--kind must be one of ${itemKinds.join(', ')}`);
  return value as ItemKind;
}

function riskOption(value: string | undefined): RiskCode | undefined {
  if (value === undefined) return undefined;
  if (!isRiskCode(value)) throw new InvalidInputError('E_EVAL_RISK', `--risk "${value}" is not a GB/T 45654 risk code (A1.1 ... A5.2)`);
  return value;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function registerEvalBank(evalCommand: Command, io: CliIo): void {
  const bank = evalCommand.command('bank').description('question banks: import (JSONL, CSV, XLSX and the public Chinese safety sets), count, keep in the database by version');

  bank
    .command('import')
    .description('read bank files or public safety sets, map categories to GB/T 45654 risks, de-duplicate, write one bank file')
    .argument('<files...>', 'input files')
    .requiredOption('--out <file>', 'bank file to write (.jsonl, .csv or .xlsx)')
    .addOption(new Option('--format <format>', 'input format (default: hegui bank files by extension)').choices(['bank', 'safety-prompts', 'safetybench', 'jade', 'cvalues', 'chisafetybench']).default('bank'))
    .option('--kind <kind>', `kind of every imported item (${itemKinds.join(', ')})`)
    .option('--risk <code>', 'risk of every imported item (for sets without categories, e.g. CValues)')
    .option('--language <tag>', 'language of every imported item (BCP 47, e.g. zh-CN)')
    .option('--source <name>', 'source label of every imported item')
    .option('--map <category=risk>', 'map a category to a risk code, or to "skip" (repeatable)', collect, [])
    .option('--keep-good', 'write the good items even when some rows have problems (exit status 1)')
    .option('--no-dedupe', 'keep items whose normalised prompt repeats')
    .option('--json', 'print the result as JSON')
    .action(async (files: string[], flags: { out: string; format: string; kind?: string; risk?: string; language?: string; source?: string; map: string[]; keepGood?: boolean; dedupe: boolean; json?: boolean }) => {
      const { formatOfFile, writeBank } = await import('../eval/bank-io.js');
      const { BankProblemsError, makeBank } = await import('../eval/bank.js');
      const outFormat = formatOfFile(flags.out);
      if (outFormat === undefined) throw new InvalidInputError('E_BANK_FORMAT', '--out must end in .jsonl, .csv or .xlsx');
      const kind = kindOption(flags.kind);
      const risk = riskOption(flags.risk);
      const items: BankItem[] = [];
      const problems: { file: string; line: number; code: string; message: string }[] = [];
      const categories: Record<string, Record<string, { risk: string | null; rows: number }>> = {};
      if (flags.format === 'bank') {
        for (const file of files) {
          try {
            items.push(...(await readBankFiles(io, [file])));
          } catch (error) {
            if (!(error instanceof BankProblemsError)) throw error;
            problems.push(...error.problems.map((p) => ({ file, line: p.line, code: p.code, message: `${p.field ? `${p.field}: ` : ''}${p.message}` })));
          }
        }
      } else {
        const { importBank, parseCategoryMap } = await import('../eval/import.js');
        const map = parseCategoryMap(flags.map);
        for (const file of files) {
          const result = importBank(flags.format as Parameters<typeof importBank>[0], await readTextFile(io, file, 'input'), {
            file,
            map,
            ...(kind ? { kind } : {}),
            ...(risk ? { risk } : {}),
            ...(flags.language ? { language: flags.language } : {}),
            ...(flags.source ? { source: flags.source } : {}),
          });
          items.push(...result.items);
          problems.push(...result.problems.map((p) => ({ file, line: p.line, code: p.code, message: p.message })));
          categories[file] = result.categories;
        }
      }
      if (problems.length > 0 && !flags.keepGood) {
        for (const p of problems.slice(0, 50)) io.stderr.write(`${p.file}:${p.line}: ${p.message} [${p.code}]\n`);
        if (problems.length > 50) io.stderr.write(`... and ${problems.length - 50} more\n`);
        throw new InvalidInputError('E_BANK_INVALID', `${problems.length} row(s) could not be imported; nothing was written (fix them, map the categories with --map, or pass --keep-good)`);
      }
      const overridden = flags.format === 'bank' ? items.map((i) => ({ ...i, ...(kind ? { kind } : {}), ...(risk ? { risk } : {}), ...(flags.language ? { language: flags.language } : {}), ...(flags.source ? { source: flags.source } : {}) })) : items;
      const { bank: result, duplicates } = makeBank('import', overridden, { dedupe: flags.dedupe });
      await writeWhole(io, flags.out, await writeBank(result.items, outFormat));
      if (flags.json) io.stdout.write(`${JSON.stringify({ written: flags.out, items: result.items.length, duplicates: duplicates.map((d) => ({ id: d.item.id, keeps: d.keeps })), problems, categories }, null, 2)}\n`);
      else {
        for (const p of problems.slice(0, 50)) io.stderr.write(`${p.file}:${p.line}: ${p.message} [${p.code}]\n`);
        io.stdout.write(`wrote ${result.items.length} item(s) to ${flags.out}${duplicates.length > 0 ? `; ${duplicates.length} duplicate(s) left out` : ''}${problems.length > 0 ? `; ${problems.length} row(s) with problems left out` : ''}\n`);
        for (const [file, cats] of Object.entries(categories)) {
          io.stdout.write(`categories of ${file}:\n`);
          for (const [name, c] of Object.entries(cats)) io.stdout.write(`  ${name} -> ${c.risk ?? 'UNMAPPED'} (${c.rows})\n`);
        }
      }
      if (problems.length > 0) setExitCode(evalCommand, 1);
    });

  bank
    .command('stats')
    .description('count bank files by kind, risk, language and source')
    .argument('<files...>', 'bank files (.jsonl, .csv, .xlsx)')
    .option('--json', 'print JSON')
    .action(async (files: string[], flags: { json?: boolean }) => {
      const { bankStats } = await import('../eval/bank.js');
      const stats = bankStats(await readBankFiles(io, files));
      if (flags.json) io.stdout.write(`${JSON.stringify(stats, null, 2)}\n`);
      else {
        io.stdout.write(`items ${stats.items}\n`);
        for (const k of itemKinds) io.stdout.write(`  ${k}: ${stats.byKind[k]}\n`);
        io.stdout.write(`languages: ${Object.entries(stats.byLanguage).map(([l, n]) => `${l} ${n}`).join(', ')}\n`);
        io.stdout.write(`sources: ${Object.entries(stats.bySource).map(([s, n]) => `${s} ${n}`).join(', ')}\n`);
      }
    });

  bank
    .command('save')
    .description('store bank files as the next version of a bank in the database (HEGUI_DATABASE_URL)')
    .argument('<files...>', 'bank files (.jsonl, .csv, .xlsx)')
    .requiredOption('--bank <id>', 'bank id')
    .option('--note <text>', 'what this version is')
    .option('--json', 'print JSON')
    .action(async (files: string[], flags: { bank: string; note?: string; json?: boolean }) => {
      const { makeBank } = await import('../eval/bank.js');
      const { bank: b, duplicates } = makeBank(flags.bank, await readBankFiles(io, files));
      const { AuditLog } = await import('../audit/index.js');
      const version = await withStore(io, async (store) => {
        const saved = await store.evalBanks.save(b.id, b.items as BankItem[], { note: flags.note ?? `from ${files.map((f) => basename(f)).join(', ')}` });
        await new AuditLog(store).append({ type: 'eval.bank', actor: 'system:cli', outcome: 'saved', payload: { bank: saved.bankId, version: saved.version, items: saved.items } });
        return saved;
      });
      if (flags.json) io.stdout.write(`${JSON.stringify({ ...version, duplicates: duplicates.length }, null, 2)}\n`);
      else io.stdout.write(`stored bank ${version.bankId} version ${version.version}: ${version.items} item(s)${duplicates.length > 0 ? `, ${duplicates.length} duplicate(s) left out` : ''}\n`);
    });

  bank
    .command('list')
    .description('list the stored banks, their latest version and age; banks older than a month are flagged')
    .option('--json', 'print JSON')
    .addOption(new Option('--lang <lang>', 'language of the reminders').choices(['zh', 'en']).default('en'))
    .action(async (flags: { json?: boolean; lang: Lang }) => {
      const { bankFreshness } = await import('../eval/bank.js');
      const now = new Date();
      const banks = (await withStore(io, (store) => store.evalBanks.list())).map((v) => ({ ...v, ...bankFreshness(v.createdAt, now) }));
      if (flags.json) {
        io.stdout.write(`${JSON.stringify(banks, null, 2)}\n`);
        return;
      }
      if (banks.length === 0) io.stdout.write('no banks stored (hegui eval bank save)\n');
      for (const b of banks) io.stdout.write(`${b.bankId}  v${b.version}  ${b.items} item(s)  ${b.createdAt}  ${b.ageDays} day(s) old${b.reminder ? `  ! ${b.reminder[flags.lang]}` : ''}\n`);
    });

  bank
    .command('export')
    .description('write a stored bank version to a file')
    .requiredOption('--bank <id>', 'bank id')
    .option('--bank-version <n>', 'the version to export (default: the latest)')
    .requiredOption('--out <file>', 'file to write (.jsonl, .csv or .xlsx)')
    .action(async (flags: { bank: string; bankVersion?: string; out: string }) => {
      const { BankNotFoundError, checkItem } = await import('../eval/bank.js');
      const { formatOfFile, writeBank } = await import('../eval/bank-io.js');
      const format = formatOfFile(flags.out);
      if (format === undefined) throw new InvalidInputError('E_BANK_FORMAT', '--out must end in .jsonl, .csv or .xlsx');
      const version = flags.bankVersion === undefined ? undefined : Number(flags.bankVersion);
      if (version !== undefined && !(Number.isInteger(version) && version > 0)) throw new InvalidInputError('E_EVAL_VERSION', '--bank-version must be a positive integer');
      const stored = await withStore(io, (store) => store.evalBanks.load(flags.bank, version));
      if (stored === undefined) throw new BankNotFoundError(flags.bank, version);
      const items = stored.items.map((raw, i) => {
        const { item, problems } = checkItem(raw, i + 1);
        if (item === undefined) throw new InvalidInputError('E_BANK_INVALID', `stored item ${raw.id} is not valid: ${problems.map((p) => p.message).join('; ')}`);
        return item;
      });
      await writeWhole(io, flags.out, await writeBank(items, format));
      io.stdout.write(`wrote ${items.length} item(s) of ${flags.bank} v${stored.version.version} to ${flags.out}\n`);
    });

  evalCommand
    .command('coverage')
    .description('check question banks against every GB/T 45654 minimum, per risk, and list every shortfall')
    .argument('[files...]', 'bank files (.jsonl, .csv, .xlsx)')
    .option('--bank <id>', 'a stored bank (latest version; repeatable)', collect, [])
    .option('--summary <file>', "a run's summary (JSON): also check the sample sizes")
    .option('--run <id>', 'a run in the store: also check its sample sizes')
    .addOption(new Option('--lang <lang>', 'language').choices(['zh', 'en']).default('en'))
    .option('--json', 'print JSON')
    .action(async (files: string[], flags: { bank: string[]; summary?: string; run?: string; lang: Lang; json?: boolean }) => {
      const items = await itemsFrom(io, files, flags.bank);
      const { coverageReport, renderCoverageText } = await import('../eval/coverage.js');
      const summary = await loadSummary(io, flags);
      const report = coverageReport(items, summary);
      io.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : renderCoverageText(report, flags.lang));
      if (!report.meets) setExitCode(evalCommand, 1);
    });

  evalCommand
    .command('report')
    .description('write the GB/T 45654 self-assessment report (DOCX or HTML, Chinese or English) from a run summary')
    .option('--run <id>', 'a run in the store: its figures as they stand, human reviews included')
    .option('--summary <file>', "the run's summary (JSON, as `hegui eval summary --json` writes it)")
    .requiredOption('-o, --output <file>', 'report file: .docx, .html or .json')
    .option('-p, --profile <file>', 'service profile (YAML or JSON): decides which clauses apply')
    .option('-e, --evidence <file>', "the tracker's evidence file")
    .option('--banks <file>', 'bank file the run drew from, for clauses 8.3 and 8.4 (repeatable)', collect, [])
    .option('--bank <id>', 'stored bank the run drew from (repeatable)', collect, [])
    .option('--keywords <lib>', 'keyword library file (or "example"), for clause 8.1')
    .option('--label-setting <text>', 'a label setting in force, as evidence (repeatable)', collect, [])
    .option('--guard-setting <text>', 'a guard setting in force, as evidence (repeatable)', collect, [])
    .option('--gateway-config <file>', "the gateway's config (hegui.config.yaml): its label and guard settings become evidence")
    .option('--on <date>', 'assessment date YYYY-MM-DD (default: the run finish)')
    .addOption(new Option('--lang <lang>', 'language of the report').choices(['zh', 'en']).default('zh'))
    .action(async (flags: { summary?: string; run?: string; output: string; profile?: string; evidence?: string; banks: string[]; bank: string[]; keywords?: string; labelSetting: string[]; guardSetting: string[]; gatewayConfig?: string; on?: string; lang: Lang }) => {
      const input = await reportInput(io, flags);
      const { buildReport } = await import('../eval/report.js');
      const report = buildReport(input);
      const out = flags.output.toLowerCase();
      let data: Uint8Array | string;
      if (out.endsWith('.docx')) data = await (await import('../eval/report-docx.js')).renderReportDocx(report, flags.lang);
      else if (out.endsWith('.html') || out.endsWith('.htm')) data = (await import('../eval/report-html.js')).renderReportHtml(report, flags.lang);
      else if (out.endsWith('.json')) data = `${JSON.stringify(report, null, 2)}\n`;
      else throw new InvalidInputError('E_EVAL_REPORT_FORMAT', '--output must end in .docx, .html or .json');
      await writeWhole(io, flags.output, data);
      io.stdout.write(`wrote ${flags.output}: ${report.counts.compliant} compliant, ${report.counts['non-compliant']} non-compliant, ${report.counts['not-applicable']} not applicable; conclusion ${report.conclusion}\n`);
    });

  evalCommand
    .command('filing')
    .description('the filing checklist (what hegui produced, what the provider supplies) and the algorithm filing form filled from the profile')
    .requiredOption('-p, --profile <file>', 'service profile (YAML or JSON)')
    .option('-e, --evidence <file>', "the tracker's evidence file")
    .option('--summary <file>', "a run's summary: the self-assessment report counts as produced")
    .option('--run <id>', 'a run in the store, instead of --summary')
    .option('--report-file <file>', 'a report file already written, to name in the checklist (repeatable)', collect, [])
    .option('--banks <file>', 'bank file (repeatable)', collect, [])
    .option('--bank <id>', 'stored bank (repeatable)', collect, [])
    .option('--keywords <lib>', 'keyword library file (or "example")')
    .option('--label-setting <text>', 'a label setting in force (repeatable)', collect, [])
    .option('--gateway-config <file>', "the gateway's config: its label settings describe the labelling")
    .option('--on <date>', 'date YYYY-MM-DD (default: today)')
    .addOption(new Option('--lang <lang>', 'language').choices(['zh', 'en']).default('zh'))
    .addOption(new Option('-f, --format <format>', 'output format').choices(['md', 'json']).default('md'))
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(async (flags: { profile: string; evidence?: string; summary?: string; run?: string; reportFile: string[]; banks: string[]; bank: string[]; keywords?: string; labelSetting: string[]; gatewayConfig?: string; on?: string; lang: Lang; format: 'md' | 'json'; output?: string }) => {
      const { chinaDateOf, parseIsoDate } = await import('../calendar/index.js');
      const date = flags.on === undefined ? chinaDateOf(new Date()) : parseIsoDate(flags.on, '--on');
      const { filingPackage, renderFilingMarkdown } = await import('../eval/filing.js');
      const base = await contextInput(io, flags);
      const input = flags.summary ? await reportInput(io, { ...flags, summary: flags.summary, guardSetting: [] }) : undefined;
      const report = input ? (await import('../eval/report.js')).buildReport(input) : undefined;
      const gateway = flags.gatewayConfig ? await gatewaySettings(io, flags.gatewayConfig) : undefined;
      const pkg = filingPackage({
        profile: base.profile!,
        date,
        ...(base.evidence ? { evidence: base.evidence } : {}),
        ...(report ? { report } : {}),
        reportFiles: flags.reportFile,
        ...(base.coverage ? { coverage: base.coverage } : {}),
        ...(base.keywords ? { keywords: base.keywords } : {}),
        labelSettings: [...(gateway?.label ?? []), ...flags.labelSetting],
      });
      const text = flags.format === 'json' ? `${JSON.stringify(pkg, null, 2)}\n` : renderFilingMarkdown(pkg, flags.lang);
      if (flags.output) {
        await writeWhole(io, flags.output, text);
        io.stdout.write(`wrote ${flags.output}: ${pkg.toSupply.materials} material(s) and ${pkg.toSupply.fields} form field(s) left for the provider\n`);
      } else io.stdout.write(text);
    });
}

async function itemsFrom(io: CliIo, files: readonly string[], bankIds: readonly string[]): Promise<BankItem[]> {
  const items = await readBankFiles(io, files);
  if (bankIds.length > 0) {
    const { BankNotFoundError, bankFreshness, checkItem } = await import('../eval/bank.js');
    await withStore(io, async (store) => {
      for (const id of bankIds) {
        const stored = await store.evalBanks.load(id);
        if (stored === undefined) throw new BankNotFoundError(id);
        const fresh = bankFreshness(stored.version.createdAt);
        if (fresh.reminder) io.stderr.write(`warning: bank ${id} v${stored.version.version}: ${fresh.reminder.en}\n`);
        stored.items.forEach((raw, i) => {
          const { item } = checkItem(raw, i + 1);
          if (item === undefined) throw new InvalidInputError('E_BANK_INVALID', `stored bank ${id} has an invalid item ${raw.id}`);
          items.push(item);
        });
      }
    });
  }
  if (files.length === 0 && bankIds.length === 0) throw new InvalidInputError('E_EVAL_NO_BANKS', 'name bank files or stored banks (--bank ID)');
  return items;
}

async function contextInput(io: CliIo, flags: { profile?: string; evidence?: string; banks: string[]; bank: string[]; keywords?: string; summary?: string }) {
  const { loadInstruments, parseEvidence, readServiceProfile } = await import('../rules/index.js');
  let profile;
  if (flags.profile) {
    const parsed = readServiceProfile(await readTextFile(io, flags.profile, 'profile'), flags.profile);
    for (const note of parsed.notes) io.stderr.write(`warning: ${flags.profile}: ${note}\n`);
    profile = parsed.profile;
  }
  const instruments = loadInstruments();
  const evidence = flags.evidence ? parseEvidence(await readTextFile(io, flags.evidence, 'evidence file'), flags.evidence, new Set(instruments.flatMap((i) => i.obligations.map((o) => o.id)))) : undefined;
  let coverage;
  if (flags.banks.length > 0 || flags.bank.length > 0) {
    const { coverageReport } = await import('../eval/coverage.js');
    const summary = await loadSummary(io, flags);
    coverage = coverageReport(await itemsFrom(io, flags.banks, flags.bank), summary);
  }
  let keywords;
  if (flags.keywords) {
    const safety = await import('../safety/index.js');
    const library = flags.keywords === 'example' ? safety.exampleLibrary : await safety.readLibraryFile(resolve(io.cwd, flags.keywords));
    keywords = safety.coverageReport(library);
  }
  return { profile, evidence, coverage, keywords, instruments };
}

async function gatewaySettings(io: CliIo, file: string) {
  const { loadGatewayConfig } = await import('../gateway/config.js');
  const { settingsFromGatewayConfig } = await import('../eval/settings.js');
  return settingsFromGatewayConfig(await loadGatewayConfig(resolve(io.cwd, file)));
}

/**
 * The figures of a run: from the store (`--run`, summarised as they stand now, human reviews
 * included) or from a summary file (`--summary`); undefined when neither is given.
 */
async function loadSummary(io: CliIo, flags: { summary?: string; run?: string }): Promise<EvalSummary | undefined> {
  if (flags.run !== undefined && flags.summary !== undefined) throw new InvalidInputError('E_EVAL_SUMMARY_TWICE', 'give either --run or --summary, not both');
  if (flags.run !== undefined) {
    const runId = flags.run;
    const { summarise } = await import('../eval/metrics.js');
    return withStore(io, async (store) => {
      const run = await store.evalRuns.get(runId);
      if (!run) throw new NotFoundError('E_EVAL_RUN_NOT_FOUND', `no run "${runId}" in the store; \`hegui eval status\` lists the runs`);
      return summarise(run, await store.evalRuns.items(runId));
    });
  }
  if (flags.summary === undefined) return undefined;
  return (await import('../eval/summary-file.js')).parseEvalSummary(await readTextFile(io, flags.summary, 'summary'), flags.summary);
}

async function reportInput(io: CliIo, flags: { summary?: string; run?: string; profile?: string; evidence?: string; banks: string[]; bank: string[]; keywords?: string; labelSetting: string[]; guardSetting: string[]; gatewayConfig?: string; on?: string }) {
  const summary = await loadSummary(io, flags);
  if (!summary) throw new InvalidInputError('E_EVAL_SUMMARY_REQUIRED', 'give the run: --run ID (a run in the store, as `hegui eval status` lists them) or --summary FILE (its summary as JSON)');
  const ctx = await contextInput(io, flags);
  let date: string | undefined;
  if (flags.on) date = (await import('../calendar/index.js')).parseIsoDate(flags.on, '--on');
  return {
    summary,
    instruments: ctx.instruments,
    ...(ctx.profile ? { profile: ctx.profile } : {}),
    ...(ctx.evidence ? { evidence: ctx.evidence } : {}),
    ...(ctx.coverage ? { coverage: ctx.coverage } : {}),
    ...(ctx.keywords ? { keywords: ctx.keywords } : {}),
    ...(date ? { date } : {}),
    settings: await (async () => {
      const gateway = flags.gatewayConfig ? await gatewaySettings(io, flags.gatewayConfig) : undefined;
      return { label: [...(gateway?.label ?? []), ...flags.labelSetting], guard: [...(gateway?.guard ?? []), ...flags.guardSetting] };
    })(),
  };
}

/** What `hegui eval` does, as the lazy command table (./main) lists it too. */
export const EVAL_COMMAND_DESCRIPTION = 'security assessment (GB/T 45654): question banks, evaluation runs, human review, the self-assessment report and filing materials';

/** `hegui eval`: the banks, coverage, report and filing (here) and the runs and review (./eval-run) under one command. */
export function registerEval(program: Command, io: CliIo): void {
  const evalCommand = program.command('eval').description(EVAL_COMMAND_DESCRIPTION);
  registerEvalBank(evalCommand, io);
  addEvalRunCommands(evalCommand, io);
}
