/**
 * @module cli/keywords
 * `hegui keywords import|stats|coverage|test|lint|save|load`: building a keyword library from
 * word lists, counting it, measuring it against the GB/T 45654 minimums, trying it on a text or
 * on a benign corpus that should give no match, warning about entries likely to over-match, and
 * moving it between a file and the database (`HEGUI_DATABASE_URL`).
 */
import type { Command } from 'commander';
import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { InvalidInputError, NotFoundError } from '../errors.js';
import type { CoverageReport, ImportFormat, KeywordLibrary, KeywordMatch, LintWarning, MatchMode, Severity } from '../safety/index.js';
import {
  compileLibrary,
  coverageReport,
  createLibrary,
  exampleLibrary,
  importKeywords,
  isRiskCode,
  jiebaWordFrequencies,
  libraryStats,
  lintLibrary,
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
    .description('show what a library finds in a text, or (--benign) every match in a file that should have none')
    .argument('<lib>', 'library file, or "example"')
    .argument('[text]', 'the text (default: stdin)')
    .option('--file <file>', 'read the text from a file')
    .option('--benign <file>', 'a file of ordinary text that should give no match: list every match, by keyword, to tune the library')
    .option('--json', 'print {"normalised","matches":[...]}; with --benign {"file","characters","matches":[...],"byKeyword":[...],"perMillion"}')
    .addHelpText(
      'after',
      '\nEach match names the transforms it needed (noise, repeats, traditional, pinyin, ...) and its confidence.\nWith --benign the exit status is 1 when the file gives any match, 0 when it gives none.\n\nExamples:\n  $ hegui keywords test example "推荐个du bo wang zhan"\n  $ hegui keywords test keywords.json --benign news.txt',
    )
    .action(async (path: string, text: string | undefined, flags: { file?: string; benign?: string; json?: boolean }, command: Command) => {
      if (flags.benign !== undefined && (text !== undefined || flags.file !== undefined)) throw new InvalidInputError('E_SAFETY_SCAN_INPUT', 'give either --benign FILE or a text to test, not both');
      const compiled = compileLibrary(await libraryAt(io, path));
      if (flags.benign !== undefined) {
        const content = await readTextFile(io, flags.benign, 'benign text file');
        const report = benignReport(flags.benign, content, scanText(compiled, content));
        io.stdout.write(flags.json ? `${JSON.stringify(report)}\n` : benignTable(report));
        if (report.matches.length > 0) setExitCode(command, 1);
        return;
      }
      const content = await inputText(io, text, flags.file);
      const matches = scanText(compiled, content);
      const normalised = normalise(content, compiled.fold).text;
      if (flags.json) {
        io.stdout.write(`${JSON.stringify({ normalised, matches })}\n`);
        return;
      }
      const lines = [`normalised: ${normalised}`];
      if (matches.length === 0) lines.push('no match');
      for (const m of matches) lines.push(`${m.risk} [${m.start},${m.end}) ${JSON.stringify(m.original)} -> ${JSON.stringify(m.keyword)} (${m.via}, ${m.severity}, confidence ${m.confidence}${m.transforms.length > 0 ? `: ${m.transforms.join(', ')}` : ''})`);
      io.stdout.write(`${lines.join('\n')}\n`);
    });

  keywords
    .command('lint')
    .description('warn about entries likely to match ordinary text: single characters, parts of frequent words, ends and starts of two frequent words, short pinyin')
    .argument('<lib>', 'library file, or "example"')
    .option('--min-frequency <n>', 'a word of jieba\'s dictionary is frequent from this count up', '300')
    .option('--json', 'print {"library","entries","warnings":[{"entry","keyword","kind","message","examples"}]}')
    .addHelpText('after', '\nFrequent words come from the dictionary of the jieba segmenter. The exit status is 1 when there are warnings, 0 when there are none.\n\nExample:\n  $ hegui keywords lint keywords.json')
    .action(async (path: string, flags: { minFrequency: string; json?: boolean }, command: Command) => {
      const minFrequency = Number(flags.minFrequency);
      if (!Number.isInteger(minFrequency) || minFrequency < 1) throw new InvalidInputError('E_SAFETY_LINT_OPTION', `--min-frequency must be a whole number >= 1, not "${flags.minFrequency}"`);
      const library = await libraryAt(io, path);
      const warnings = lintLibrary(library, compileLibrary(library), { words: jiebaWordFrequencies(), minFrequency });
      io.stdout.write(flags.json ? `${JSON.stringify({ library: library.name, entries: library.entries.length, warnings })}\n` : lintTable(library, warnings));
      if (warnings.length > 0) setExitCode(command, 1);
    });
}

interface BenignReport {
  file: string;
  characters: number;
  matches: (Pick<KeywordMatch, 'risk' | 'keyword' | 'via' | 'start' | 'end' | 'original' | 'confidence' | 'transforms'> & { line: number; column: number })[];
  byKeyword: { keyword: string; count: number }[];
  /** Matches per million characters (code points). */
  perMillion: number;
}

function benignReport(file: string, content: string, matches: readonly KeywordMatch[]): BenignReport {
  const lineStarts = [0];
  for (let i = content.indexOf('\n'); i >= 0; i = content.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const lineOf = (offset: number): number => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lineStarts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const counts = new Map<string, number>();
  for (const m of matches) counts.set(m.keyword, (counts.get(m.keyword) ?? 0) + 1);
  let characters = 0;
  for (const _ of content) characters++;
  return {
    file,
    characters,
    matches: matches.map((m) => {
      const line = lineOf(m.start);
      return { line: line + 1, column: m.start - (lineStarts[line] as number) + 1, risk: m.risk, keyword: m.keyword, via: m.via, start: m.start, end: m.end, original: m.original, confidence: m.confidence, transforms: m.transforms };
    }),
    byKeyword: [...counts].map(([keyword, count]) => ({ keyword, count })).sort((a, b) => b.count - a.count || (a.keyword < b.keyword ? -1 : 1)),
    perMillion: characters === 0 ? 0 : (matches.length / characters) * 1e6,
  };
}

function benignTable(report: BenignReport): string {
  if (report.matches.length === 0) return `${report.file}: no match in ${report.characters.toLocaleString('en-US')} characters\n`;
  const lines = report.matches.map((m) => `${report.file}:${m.line}:${m.column}: ${JSON.stringify(m.original)} -> ${JSON.stringify(m.keyword)} (${m.risk}, confidence ${m.confidence}${m.transforms.length > 0 ? `: ${m.transforms.join(', ')}` : ''})`);
  lines.push(`${report.matches.length} matches in ${report.characters.toLocaleString('en-US')} characters (${report.perMillion.toFixed(1)} per million); by keyword:`);
  for (const k of report.byKeyword) lines.push(`  ${String(k.count).padStart(6)}  ${k.keyword}`);
  lines.push('Tune the library: add benign phrases as exception phrases ("allow"), set "words": true on short entries, or narrow "noise".');
  return `${lines.join('\n')}\n`;
}

function lintTable(library: KeywordLibrary, warnings: readonly LintWarning[]): string {
  if (warnings.length === 0) return `${library.name}: ${library.entries.length} entries, no warnings\n`;
  const lines = warnings.map((w) => `entry ${w.entry + 1} ${JSON.stringify(w.keyword)} [${w.kind}]: ${w.message}`);
  lines.push(`${library.name}: ${warnings.length} warnings on ${new Set(warnings.map((w) => w.entry)).size} of ${library.entries.length} entries`);
  return `${lines.join('\n')}\n`;
}
