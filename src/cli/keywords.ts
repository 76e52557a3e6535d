/**
 * @module cli/keywords
 * `hegui keywords import|stats|coverage|test|save|load`: building a keyword library from word
 * lists, counting it, measuring it against the GB/T 45654 minimums, trying it on a text, and
 * moving it between a file and the database (`HEGUI_DATABASE_URL`).
 */
import type { Command } from 'commander';
import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { InvalidInputError, NotFoundError } from '../errors.js';
import type { CoverageReport, ImportFormat, KeywordLibrary, MatchMode, Severity } from '../safety/index.js';
import {
  compileLibrary,
  coverageReport,
  createLibrary,
  exampleLibrary,
  importKeywords,
  isRiskCode,
  libraryStats,
  matchModes,
  mergeIntoLibrary,
  normalise,
  parseLibrary,
  readLibraryFile,
  scanText,
  severities,
  writeLibraryFile,
} from '../safety/index.js';
import { withStore } from './store.js';
import { readTextFile } from './files.js';
import type { CliIo } from './io.js';
import { setExitCode } from './main.js';
import { inputText } from './scan.js';

interface ImportFlags {
  out: string;
  format?: string;
  risk?: string;
  mode?: string;
  severity?: string;
  name?: string;
  libVersion?: string;
}

async function libraryAt(io: CliIo, path: string): Promise<KeywordLibrary> {
  return path === 'example' ? exampleLibrary : readLibraryFile(resolve(io.cwd, path));
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

function formatOf(file: string, flag: string | undefined): ImportFormat {
  const format = flag ?? (file.toLowerCase().endsWith('.csv') ? 'csv' : 'text');
  if (format !== 'text' && format !== 'csv') throw new InvalidInputError('E_SAFETY_IMPORT_FORMAT', `--format must be text or csv, not "${format}"`);
  return format;
}

function coverageTable(report: CoverageReport): string {
  const lines = [`${report.library.name} v${report.library.version} (updated ${report.library.updatedAt})`, 'risk  count  required  shortfall  name'];
  for (const r of report.risks) lines.push(`${r.risk.padEnd(5)} ${String(r.count).padStart(5)}  ${String(r.required).padStart(8)}  ${String(r.shortfall).padStart(9)}  ${r.name.zh} / ${r.name.en}`);
  lines.push(`total ${String(report.total).padStart(5)}  ${String(report.totalRequired).padStart(8)}  ${String(report.totalShortfall).padStart(9)}`);
  lines.push(report.meetsMinimums ? 'meets the GB/T 45654 keyword-library minimums' : 'does NOT meet the GB/T 45654 keyword-library minimums (>= 10,000 in total, >= 200 per A.1 risk, >= 100 per A.2 risk)');
  return `${lines.join('\n')}\n`;
}

export function registerKeywords(program: Command, io: CliIo): void {
  const keywords = program.command('keywords').description('keyword libraries: import word lists, count them, check GB/T 45654 coverage, try them, keep them in the database');

  keywords
    .command('import')
    .description('add word lists (one keyword per line, optionally keyword<TAB>risk; or CSV with a header) to a library file')
    .argument('<files...>', 'word lists (.txt or .csv)')
    .requiredOption('--out <lib>', 'library file to create or extend (JSON)')
    .option('--format <format>', 'text or csv (default: by file extension)')
    .option('--risk <code>', 'risk for lines that name none, e.g. A1.8')
    .option('--mode <mode>', `match mode for lines that name none: ${matchModes.join(', ')}`)
    .option('--severity <level>', `severity for lines that name none: ${severities.join(', ')}`)
    .option('--name <name>', 'library name when creating it')
    .option('--lib-version <version>', 'set the library version')
    .addHelpText('after', '\nLines that cannot be imported are listed with their line numbers; the rest is written and the exit status is 1.\n\nExample:\n  $ hegui keywords import words.txt --risk A1.8 --out keywords.json')
    .action(async (files: string[], flags: ImportFlags, command: Command) => {
      if (flags.risk !== undefined && !isRiskCode(flags.risk)) throw new InvalidInputError('E_SAFETY_IMPORT_RISK', `--risk "${flags.risk}" is not a GB/T 45654 risk code (A1.1 .. A5.2)`);
      if (flags.mode !== undefined && !(matchModes as readonly string[]).includes(flags.mode)) throw new InvalidInputError('E_SAFETY_IMPORT_MODE', `--mode must be one of ${matchModes.join(', ')}`);
      if (flags.severity !== undefined && !(severities as readonly string[]).includes(flags.severity)) throw new InvalidInputError('E_SAFETY_IMPORT_SEVERITY', `--severity must be one of ${severities.join(', ')}`);
      const out = resolve(io.cwd, flags.out);
      let library = (await exists(out)) ? await readLibraryFile(out) : createLibrary(flags.name ?? 'keywords');
      let problems = 0;
      let added = 0;
      for (const file of files) {
        const result = importKeywords(await readTextFile(io, file, 'word list'), formatOf(file, flags.format), {
          ...(flags.risk === undefined ? {} : { risk: flags.risk }),
          ...(flags.mode === undefined ? {} : { mode: flags.mode as MatchMode }),
          ...(flags.severity === undefined ? {} : { severity: flags.severity as Severity }),
        });
        for (const p of result.problems) io.stderr.write(`${file}:${p.line}: ${p.message}\n`);
        problems += result.problems.length;
        const before = library.entries.length;
        library = mergeIntoLibrary(library, result);
        added += library.entries.length - before;
      }
      if (flags.libVersion !== undefined) library = { ...library, version: flags.libVersion };
      compileLibrary(library);
      await writeLibraryFile(out, library);
      io.stdout.write(`${flags.out}: ${added} entries added, ${library.entries.length} in total, ${library.allow.length} allow-list words${problems > 0 ? `, ${problems} lines skipped` : ''}\n`);
      if (problems > 0) setExitCode(command, 1);
    });

  keywords
    .command('stats')
    .description('count a library by risk, category, match mode and severity')
    .argument('<lib>', 'library file, or "example"')
    .option('--json', 'print the counts as JSON')
    .action(async (path: string, flags: { json?: boolean }) => {
      const library = await libraryAt(io, path);
      const stats = libraryStats(library);
      if (flags.json) {
        io.stdout.write(`${JSON.stringify({ name: library.name, version: library.version, updatedAt: library.updatedAt, ...stats })}\n`);
        return;
      }
      const lines = [`${library.name} v${library.version} (updated ${library.updatedAt}): ${stats.entries} entries, ${stats.allow} allow-list words`];
      lines.push(`by category: ${Object.entries(stats.byCategory).map(([k, v]) => `${k} ${v}`).join(', ')}`);
      lines.push(`by mode: ${Object.entries(stats.byMode).map(([k, v]) => `${k} ${v}`).join(', ')}`);
      lines.push(`by severity: ${Object.entries(stats.bySeverity).map(([k, v]) => `${k} ${v}`).join(', ')}`);
      lines.push(`by risk: ${Object.entries(stats.byRisk).map(([k, v]) => `${k} ${v}`).join(', ')}`);
      const ignored = compileLibrary(library).ignored;
      for (const entry of ignored) lines.push(`warning: "${entry.keyword}" ${entry.reason}`);
      io.stdout.write(`${lines.join('\n')}\n`);
    });

  keywords
    .command('coverage')
    .description('measure a library against the GB/T 45654 minimums and show each shortfall (exit 1 when short)')
    .argument('<lib>', 'library file, or "example"')
    .option('--json', 'print the report as JSON')
    .action(async (path: string, flags: { json?: boolean }, command: Command) => {
      const report = coverageReport(await libraryAt(io, path));
      io.stdout.write(flags.json ? `${JSON.stringify(report)}\n` : coverageTable(report));
      if (!report.meetsMinimums) setExitCode(command, 1);
    });

  keywords
    .command('save')
    .description('store a library file in the database under its name (replacing the stored one)')
    .argument('<lib>', 'library file')
    .action(async (path: string) => {
      const library = await libraryAt(io, path);
      compileLibrary(library);
      await withStore(io, async (store) => {
        const revision = await store.keywordLibraries.save(library);
        io.stdout.write(`saved "${library.name}" (${library.entries.length} entries) to ${store.location}, revision ${revision}\n`);
      });
    });

  keywords
    .command('load')
    .description('write a library stored in the database to a file')
    .argument('<name>', 'library name')
    .requiredOption('--out <lib>', 'file to write (JSON)')
    .action(async (name: string, flags: { out: string }) => {
      await withStore(io, async (store) => {
        const stored = await store.keywordLibraries.load(name);
        if (stored === undefined) {
          const names = (await store.keywordLibraries.list()).map((l) => l.name);
          throw new NotFoundError('E_SAFETY_LIBRARY_NOT_FOUND', `no keyword library "${name}" in ${store.location}${names.length > 0 ? ` (stored: ${names.join(', ')})` : ''}`);
        }
        const { revision, ...library } = stored;
        await writeLibraryFile(resolve(io.cwd, flags.out), parseLibrary(library));
        io.stdout.write(`${flags.out}: "${name}" revision ${revision}, ${library.entries.length} entries\n`);
      });
    });

  keywords
    .command('test')
    .description('show what a library finds in a text, and the normalised text it matched against')
    .argument('<lib>', 'library file, or "example"')
    .argument('[text]', 'the text (default: stdin)')
    .option('--file <file>', 'read the text from a file')
    .option('--json', 'print {"normalised","matches":[...]}')
    .action(async (path: string, text: string | undefined, flags: { file?: string; json?: boolean }) => {
      const compiled = compileLibrary(await libraryAt(io, path));
      const content = await inputText(io, text, flags.file);
      const matches = scanText(compiled, content);
      const normalised = normalise(content, compiled.fold).text;
      if (flags.json) {
        io.stdout.write(`${JSON.stringify({ normalised, matches })}\n`);
        return;
      }
      const lines = [`normalised: ${normalised}`];
      if (matches.length === 0) lines.push('no match');
      for (const m of matches) lines.push(`${m.risk} [${m.start},${m.end}) ${JSON.stringify(m.original)} -> ${JSON.stringify(m.keyword)} (${m.via}, ${m.severity})`);
      io.stdout.write(`${lines.join('\n')}\n`);
    });
}
