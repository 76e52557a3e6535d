/**
 * @module cli/corpus
 * `hegui corpus ...`: training-data governance. The source register (`source`), safety scans
 * of whole corpora on one machine or shared by workers (`scan`, `worker`, `status`,
 * `flagged`), duplicates (`dedupe`), annotation QA (`annotation`) and the self-assessment's
 * corpus section (`report`).
 */
import { randomInt } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import { CorpusInputError } from '../corpus/errors.js';
import type { CorpusFormat, ReadOptions } from '../corpus/read.js';
import { corpusFormats, defaultReadOptions } from '../corpus/read.js';
import type { ScanReport, ScanSettings } from '../corpus/scan.js';
import { DEFAULT_KEEP_FLAGGED, DEFAULT_SAMPLE_SIZE } from '../corpus/scan-defaults.js';
import type { Store } from '../store/index.js';
import type { CliIo } from './io.js';
import { setExitCode } from './main.js';
import { withStore } from './store-lazy.js';

const actorOf = (io: CliIo, by: string | undefined): string => by ?? `cli:${io.env.USER ?? io.env.LOGNAME ?? 'unknown'}`;

function positiveInt(value: string, name: string, min = 1): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new CorpusInputError('E_CORPUS_OPTION', `${name} must be a whole number >= ${min}, not "${value}"`);
  return n;
}

async function readText(io: CliIo, path: string): Promise<string> {
  const { resolve } = await import('node:path');
  try {
    return await readFile(resolve(io.cwd, path), 'utf8');
  } catch (cause) {
    throw new CorpusInputError('E_CORPUS_PATH', `cannot read ${path}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, { cause });
  }
}

const formatOfName = (path: string, given: string | undefined, choices: readonly string[], fallback: string): string => {
  if (given !== undefined) return given;
  const ext = path.toLowerCase().split('.').pop() ?? '';
  if (ext === 'yml') return 'yaml';
  return choices.includes(ext) ? ext : fallback;
};

const pct = (x: number): string => (Number.isFinite(x) ? `${(x * 100).toFixed(2)} %` : 'n/a');

function humanScan(report: ScanReport, scanId: string | undefined): string {
  const lines = [
    `${scanId ? `scan ${scanId}: ` : ''}${report.mode === 'sample' ? `sample of ${report.sampled} (seed ${report.seed}${report.stratified ? ', stratified by file' : ''})` : `full pass of ${report.sampled}`} items out of ${report.population} read`,
    `harmful: ${report.flagged} = ${pct(report.harmful.rate)} [95 % ${pct(report.harmful.low)} - ${pct(report.harmful.high)}]`,
    `verdict: ${report.verdict.usable ? 'USABLE' : 'NOT USABLE'} (5 % rule): ${report.verdict.reason}`,
  ];
  for (const [risk, r] of Object.entries(report.byRisk)) lines.push(`  ${risk.padEnd(6)} ${String(r.successes).padStart(7)}  ${pct(r.rate)} [${pct(r.low)} - ${pct(r.high)}]`);
  lines.push(`personal data: ${report.pii.successes} items = ${pct(report.pii.rate)}${Object.keys(report.byPii).length ? ` (${Object.entries(report.byPii).map(([t, p]) => `${t} ${p.successes}`).join(', ')})` : ''}`);
  const { languages, items, chars } = report.stats;
  lines.push(`languages: zh ${languages.zh}, en ${languages.en}, other ${languages.other}; mean length ${items ? Math.round(chars / items) : 0} characters${report.duplicates ? `; exact duplicates in the sample ${report.duplicates.successes} (${pct(report.duplicates.rate)})` : ''}`);
  for (const file of report.files) {
    const problems = Object.entries(file.problems);
    if (problems.length === 0 && file.blank === 0) continue;
    lines.push(`${file.file}: ${file.items} items${file.blank ? `, ${file.blank} blank` : ''}${problems.length ? `, problems: ${problems.map(([k, n]) => `${k} ${n}`).join(', ')}` : ''}`);
    for (const p of file.samples.slice(0, 5)) lines.push(`    ${p.line !== undefined ? `line ${p.line}` : p.position !== undefined ? `at ${p.position}` : ''}: ${p.kind}: ${p.message}`);
  }
  for (const s of report.skipped) lines.push(`skipped ${s.path}: ${s.reason}`);
  if (report.cleaned) lines.push(`cleaned copy: ${report.cleaned.kept} kept, ${report.cleaned.removed} removed, ${report.cleaned.masked} with personal data masked`);
  return `${lines.join('\n')}\n`;
}

/** A progress line on stderr when it is a terminal: items, rate, time left. */
function progressPrinter(io: CliIo): ((p: { items: number; bytes: number; totalBytes: number; elapsedMs: number; shardsDone: number; shards: number }) => void) | undefined {
  if (!io.stderr.isTTY) return undefined;
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (now - last < 250 && p.shardsDone < p.shards) return;
    last = now;
    const seconds = p.elapsedMs / 1000;
    const rate = seconds > 0 ? p.items / seconds : 0;
    const mbs = seconds > 0 ? p.bytes / 1e6 / seconds : 0;
    const left = p.bytes > 0 && p.totalBytes > p.bytes ? ((p.totalBytes - p.bytes) / p.bytes) * seconds : 0;
    io.stderr.write(`\r${p.shardsDone}/${p.shards} shards, ${p.items} items, ${Math.round(rate)} items/s, ${mbs.toFixed(1)} MB/s, ${Math.round(left)} s left   ${p.shardsDone === p.shards ? '\n' : ''}`);
  };
}

function registerSource(corpus: Command, io: CliIo): void {
  const source = corpus.command('source').description('the register of training-data sources');
  source
    .command('add')
    .description('register a source (as a candidate)')
    .requiredOption('--id <id>', 'short id: lower-case letters, digits, . - _')
    .requiredOption('--name <name>', 'name')
    .requiredOption('--origin <origin>', 'where it comes from (URL, vendor, system)')
    .addOption(new Option('--method <method>', 'how it was collected').choices(['self-collected', 'commercial', 'open-source', 'crawled', 'user-input', 'synthetic', 'partner', 'other']).makeOptionMandatory())
    .requiredOption('--owner <owner>', 'who answers for it')
    .option('--licence <spdx>', 'SPDX licence expression, LicenseRef-..., or unknown', 'unknown')
    .addOption(new Option('--pi-basis <basis>', 'legal basis for the personal information in it (PIPL Art. 13)').choices(['consent', 'contract', 'legal-duty', 'emergency', 'news-public-interest', 'already-public', 'other-law', 'none-contained', 'unknown']).default('unknown'))
    .option('--language <lang>', 'language(s), e.g. zh, en, zh+en', 'unknown')
    .option('--foreign', 'collected outside mainland China')
    .option('--domestic', 'collected in mainland China')
    .option('--open-source', 'an open-source data set')
    .option('--size <bytes>', 'size in bytes')
    .option('--items <n>', 'number of items')
    .option('--from <date>', 'collected from (YYYY-MM-DD)')
    .option('--to <date>', 'collected to (YYYY-MM-DD)')
    .option('--notes <text>', 'notes')
    .option('--by <actor>', 'who registers it (default cli:$USER)')
    .option('--json', 'print the source as JSON')
    .action(async (f: Record<string, string | boolean | undefined>) => {
      if (f.foreign && f.domestic) throw new CorpusInputError('E_CORPUS_OPTION', 'give --foreign or --domestic, not both');
      const input = {
        id: f.id,
        name: f.name,
        origin: f.origin,
        collectionMethod: f.method,
        licence: f.licence,
        piLegalBasis: f.piBasis,
        language: f.language,
        foreign: f.foreign ? true : f.domestic ? false : null,
        openSource: f.openSource ? true : null,
        sizeBytes: f.size === undefined ? null : positiveInt(String(f.size), '--size', 0),
        items: f.items === undefined ? null : positiveInt(String(f.items), '--items', 0),
        collectedFrom: f.from ?? null,
        collectedTo: f.to ?? null,
        owner: f.owner,
        notes: f.notes ?? null,
      };
      const added = await withStore(io, async (store) => (await registry(store, io)).add(input, actorOf(io, f.by as string | undefined)));
      io.stdout.write(f.json ? `${JSON.stringify(added)}\n` : `registered ${added.id} as a candidate (licence ${added.licence})\n`);
    });
  source
    .command('list')
    .description('list the registered sources')
    .option('--json', 'print JSON')
    .action(async (f: { json?: boolean }) => {
      const list = await withStore(io, (store) => store.corpus.listSources());
      if (f.json) io.stdout.write(`${JSON.stringify(list)}\n`);
      else for (const s of list) io.stdout.write(`${s.id}\t${s.state}\t${s.licence}\t${s.foreign === null ? 'origin ?' : s.foreign ? 'foreign' : 'domestic'}\t${s.name}\n`);
    });
  source
    .command('show')
    .description('show a source with its state history and newest scan')
    .argument('<id>', 'source id')
    .option('--json', 'print JSON')
    .action(async (id: string, f: { json?: boolean }) => {
      const shown = await withStore(io, async (store) => {
        const s = await (await registry(store, io)).get(id);
        return { source: s, history: await store.corpus.sourceEvents(id), scan: (await store.corpus.latestFinishedScan(id)) ?? null };
      });
      if (f.json) {
        io.stdout.write(`${JSON.stringify(shown)}\n`);
        return;
      }
      const s = shown.source;
      io.stdout.write(`${s.id}: ${s.name}\n  state ${s.state} (${s.stateReason}, ${s.stateChangedAt} by ${s.stateChangedBy})\n  origin ${s.origin}; method ${s.collectionMethod}; licence ${s.licence}; personal information: ${s.piLegalBasis}\n  language ${s.language}; foreign ${s.foreign ?? 'unknown'}; open-source ${s.openSource ?? 'unknown'}; owner ${s.owner}\n`);
      for (const e of shown.history) io.stdout.write(`  ${e.at} ${e.fromState ?? '-'} -> ${e.toState} by ${e.actor}: ${e.reason}${e.scanId ? ` (scan ${e.scanId})` : ''}\n`);
      if (shown.scan?.report) io.stdout.write(`newest scan:\n${humanScan(shown.scan.report as unknown as ScanReport, shown.scan.id)}`);
    });
  for (const [name, to, description] of [
    ['approve', 'approved', 'approve a source: needs a known licence and legal basis and a passing scan of >= 4,000 items on record'],
    ['block', 'blocked', 'block a source from training use'],
    ['reopen', 'candidate', 'put a source back to candidate for another review'],
  ] as const) {
    source
      .command(name)
      .description(description)
      .argument('<id>', 'source id')
      .requiredOption('--reason <text>', 'why (kept in the history and the audit log)')
      .option('--by <actor>', 'who decides (default cli:$USER)')
      .action(async (id: string, f: { reason: string; by?: string }) => {
        const { source: s, scan } = await withStore(io, async (store) => (await registry(store, io)).changeState(id, to, f.reason, actorOf(io, f.by)));
        io.stdout.write(`${s.id} is ${s.state}${scan ? ` (on scan ${scan.id})` : ''}\n`);
      });
  }
  source
    .command('import')
    .description('add new sources and update existing ones from YAML or CSV (states are never imported)')
    .argument('<file>', 'the document')
    .addOption(new Option('--format <format>', 'default: from the file name').choices(['yaml', 'csv']))
    .option('--by <actor>', 'who imports (default cli:$USER)')
    .action(async (file: string, f: { format?: 'yaml' | 'csv'; by?: string }) => {
      const { parseSourcesDocument } = await import('../corpus/registry.js');
      const list = parseSourcesDocument(await readText(io, file), formatOfName(file, f.format, ['yaml', 'csv'], 'yaml') as 'yaml' | 'csv');
      const result = await withStore(io, async (store) => (await registry(store, io)).import(list, actorOf(io, f.by)));
      io.stdout.write(`added ${result.added.length}, updated ${result.updated.length}\n`);
    });
  source
    .command('export')
    .description('write the register as YAML or CSV')
    .addOption(new Option('--format <format>', 'output format').choices(['yaml', 'csv']).default('yaml'))
    .option('--out <file>', 'write to a file instead of stdout')
    .action(async (f: { format: 'yaml' | 'csv'; out?: string }) => {
      const { exportSourcesCsv, exportSourcesYaml } = await import('../corpus/registry.js');
      const list = await withStore(io, (store) => store.corpus.listSources());
      const text = f.format === 'csv' ? exportSourcesCsv(list) : exportSourcesYaml(list);
      if (f.out === undefined) io.stdout.write(text);
      else {
        const { resolve } = await import('node:path');
        await writeFile(resolve(io.cwd, f.out), text);
      }
    });
}

async function registry(store: Store, io: CliIo) {
  const { SourceRegistry } = await import('../corpus/registry.js');
  const { AuditLog, auditEnvironment } = await import('../audit/index.js');
  return new SourceRegistry(store, { audit: new AuditLog(store, auditEnvironment(io.env, io.cwd)) });
}

interface ScanFlags {
  sample: string;
  seed?: string;
  stratify?: boolean;
  full?: boolean;
  clean?: string;
  pii: 'mask' | 'keep' | 'remove';
  keywords?: string;
  personalData: boolean;
  field: string;
  encoding: string;
  format?: CorpusFormat;
  textUnit: 'line' | 'file';
  workers?: string;
  shardMb: string;
  queue?: boolean;
  record: boolean;
  by?: string;
  json?: boolean;
}

function registerScan(corpus: Command, io: CliIo): void {
  corpus
    .command('scan')
    .description('safety scan of a source: a seeded sample (default 4,000 items) or a full pass, with the 5 % verdict')
    .argument('<source>', 'the registered source the files belong to')
    .argument('<paths...>', 'files or folders (.jsonl .ndjson .csv .parquet .txt .md, optionally .gz .zst)')
    .option('--sample <n>', 'items to sample', String(DEFAULT_SAMPLE_SIZE))
    .option('--seed <n>', 'sampling seed (default: a random one, printed in the report)')
    .option('--stratify', 'sample each file in proportion to its items')
    .option('--full', 'inspect every item instead of a sample')
    .option('--clean <dir>', 'with --full: write a cleaned copy and its manifest to this new folder')
    .addOption(new Option('--pii <action>', 'with --clean: personal data in kept items').choices(['mask', 'keep', 'remove']).default('mask'))
    .option('--keywords <lib>', 'keyword library file (JSON), or "example"')
    .option('--no-personal-data', 'skip the personal-data detectors')
    .option('--field <path>', 'the field holding the text (dotted path for JSON, column for CSV/Parquet)', defaultReadOptions.field)
    .option('--encoding <name>', 'text encoding: utf-8, gb18030, gbk, big5...', 'utf-8')
    .addOption(new Option('--format <format>', 'read every file as this format').choices(corpusFormats))
    .addOption(new Option('--text-unit <unit>', 'plain text: one item per line or per file').choices(['line', 'file']).default('line'))
    .option('--workers <n>', 'threads (default: one per core; 0: none)')
    .option('--shard-mb <n>', 'shard size in MB', '64')
    .option('--queue', 'do not scan here: queue the shards for "hegui corpus worker" processes (shared store)')
    .option('--no-record', 'do not record the scan in the store')
    .option('--by <actor>', 'who runs the scan (default cli:$USER)')
    .option('--json', 'print the report as JSON')
    .addHelpText('after', '\nExit status 1 when the verdict is "not usable". Progress goes to stderr when it is a terminal.\n\nExamples:\n  $ hegui corpus scan wiki-zh data/wiki/ --keywords lib.json --seed 7\n  $ hegui corpus scan wiki-zh data/wiki.jsonl.zst --keywords lib.json --full --clean out/wiki-clean\n  $ hegui corpus scan wiki-zh /shared/wiki/ --keywords /shared/lib.json --queue   # then: hegui corpus worker')
    .action(async (sourceId: string, paths: string[], f: ScanFlags, command: Command) => {
      if (f.clean !== undefined && !f.full) throw new CorpusInputError('E_CORPUS_OPTION', '--clean needs --full');
      const { resolve } = await import('node:path');
      const read: ReadOptions = { ...defaultReadOptions, field: f.field, encoding: f.encoding, textUnit: f.textUnit };
      const seed = f.seed === undefined ? randomInt(0, 2 ** 31) : positiveInt(f.seed, '--seed', 0);
      const settings: ScanSettings = { mode: f.full ? 'full' : 'sample', sampleSize: positiveInt(f.sample, '--sample'), seed, stratify: f.stratify ?? false, read, keepFlagged: DEFAULT_KEEP_FLAGGED, ...(f.clean !== undefined ? { clean: { pii: f.pii } } : {}) };
      const library = f.keywords === undefined || f.keywords === 'example' ? f.keywords : resolve(io.cwd, f.keywords);
      if (library === undefined) io.stderr.write('note: no keyword library (--keywords LIB): nothing can be flagged as harmful, personal data only\n');
      const absolute = paths.map((p) => resolve(io.cwd, p));
      const shardBytes = positiveInt(f.shardMb, '--shard-mb') * 1024 * 1024;
      const actor = actorOf(io, f.by);
      if (f.queue) {
        const { createQueuedScan } = await import('../corpus/queue.js');
        const queued = await withStore(io, (store) => createQueuedScan(store, { source: sourceId, paths: absolute, settings, library, pii: f.personalData, shardBytes, ...(f.format ? { format: f.format } : {}), createdBy: actor }));
        io.stdout.write(f.json ? `${JSON.stringify(queued)}\n` : `queued scan ${queued.scanId}: ${queued.shards} shards; run "hegui corpus worker --scan ${queued.scanId}" on each machine\n`);
        return;
      }
      if (f.record) await withStore(io, async (store) => (await registry(store, io)).get(sourceId));
      const { runLocalScan } = await import('../corpus/run.js');
      const startedAt = new Date();
      const onProgress = progressPrinter(io);
      const result = await runLocalScan({ paths: absolute, settings, library, pii: f.personalData, ...(f.workers === undefined ? {} : { workers: positiveInt(f.workers, '--workers', 0) }), shardBytes, ...(f.format ? { format: f.format } : {}), ...(f.clean ? { cleanOut: resolve(io.cwd, f.clean) } : {}), ...(onProgress ? { onProgress } : {}) });
      let scanId: string | undefined;
      if (f.record) {
        const { recordLocalScan } = await import('../corpus/queue.js');
        scanId = await withStore(io, (store) => recordLocalScan(store, { source: sourceId, settings, library, pii: f.personalData, paths: absolute, createdBy: actor, startedAt }, result.report, result.flagged));
      }
      io.stdout.write(f.json ? `${JSON.stringify({ scanId: scanId ?? null, ...result.report })}\n` : humanScan(result.report, scanId));
      if (!result.report.verdict.usable) setExitCode(command, 1);
    });

  corpus
    .command('worker')
    .description('claim and run shards of queued scans (several processes and machines may share a store)')
    .option('--scan <id>', 'work on this scan only, and stop when it is finished')
    .option('--lease-sec <n>', 'lease length; a dead worker\'s shard is taken over after it', '60')
    .option('--poll-sec <n>', 'wait between claims when nothing is free', '1')
    .option('--exit-when-idle', 'stop when nothing can be claimed')
    .option('--json', 'print events as JSON lines')
    .action(async (f: { scan?: string; leaseSec: string; pollSec: string; exitWhenIdle?: boolean; json?: boolean }) => {
      const { runWorker } = await import('../corpus/queue.js');
      const stall = io.env.HEGUI_CORPUS_FAULT_STALL_AFTER;
      const controller = new AbortController();
      const stop = (): void => controller.abort();
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      try {
        const done = await withStore(io, (store) =>
          runWorker(store, {
            ...(f.scan ? { scanId: f.scan } : {}),
            leaseMs: positiveInt(f.leaseSec, '--lease-sec') * 1000,
            pollMs: positiveInt(f.pollSec, '--poll-sec') * 1000,
            exitWhenIdle: f.exitWhenIdle ?? false,
            signal: controller.signal,
            ...(stall === undefined ? {} : { stallAfterItems: positiveInt(stall, 'HEGUI_CORPUS_FAULT_STALL_AFTER') }),
            onEvent: (e) => {
              if (f.json) io.stderr.write(`${JSON.stringify(e)}\n`);
              else if (e.kind !== 'progress') io.stderr.write(`${e.kind} ${e.scanId}${'seq' in e ? ` shard ${e.seq}` : ''}${e.kind === 'completed' ? `: ${e.items} items` : ''}\n`);
            },
          }),
        );
        io.stdout.write(f.json ? `${JSON.stringify(done)}\n` : `completed ${done.completed} shards, lost ${done.lost}; merged ${done.merged.join(', ') || 'none'}\n`);
      } finally {
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
      }
    });

  corpus
    .command('status')
    .description('scans and their progress (shards, items); with an id, that scan\'s report')
    .argument('[scan]', 'scan id')
    .option('--json', 'print JSON')
    .action(async (scanId: string | undefined, f: { json?: boolean }) => {
      await withStore(io, async (store) => {
        if (scanId === undefined) {
          const scans = await store.corpus.listScans();
          const rows = [];
          for (const s of scans) rows.push({ id: s.id, source: s.source, mode: s.mode, state: s.state, createdAt: s.createdAt, usable: s.usable, progress: s.shards > 0 ? await store.corpus.shardProgress(s.id) : null });
          if (f.json) io.stdout.write(`${JSON.stringify(rows)}\n`);
          else for (const r of rows) io.stdout.write(`${r.id}\t${r.source}\t${r.mode}\t${r.state}${r.progress ? `\t${r.progress.done}/${r.progress.total} shards, ${r.progress.items} items` : ''}\t${r.usable === null ? '' : r.usable ? 'usable' : 'NOT usable'}\n`);
          return;
        }
        const scan = await store.corpus.getScan(scanId);
        if (scan === undefined) throw new CorpusInputError('E_CORPUS_SCAN_UNKNOWN', `no scan "${scanId}" (see hegui corpus status)`);
        const progress = await store.corpus.shardProgress(scanId);
        if (f.json) io.stdout.write(`${JSON.stringify({ ...scan, progress })}\n`);
        else {
          io.stdout.write(`${scan.id} (${scan.source}, ${scan.mode}): ${scan.state}; ${progress.done}/${progress.total} shards done, ${progress.leased} leased, ${progress.items} items\n`);
          if (scan.report && scan.state === 'done') io.stdout.write(humanScan(scan.report as unknown as ScanReport, scan.id));
        }
      });
    });

  corpus
    .command('flagged')
    .description('the flagged items a scan kept for review, with their matches')
    .argument('<scan>', 'scan id')
    .option('--limit <n>', 'at most this many', '100')
    .option('--json', 'print JSON')
    .action(async (scanId: string, f: { limit: string; json?: boolean }) => {
      const rows = await withStore(io, (store) => store.corpus.flagged(scanId, positiveInt(f.limit, '--limit')));
      if (f.json) io.stdout.write(`${JSON.stringify(rows)}\n`);
      else for (const r of rows) io.stdout.write(`${r.file}:${r.line ?? `@${r.position}`}\t${r.risks.join(',')}\t${r.excerpt.slice(0, 120).replace(/\s+/g, ' ')}\n`);
    });

  corpus
    .command('review')
    .description('record the review of a flagged item: confirmed harmful, dismissed (a false hit), or open again')
    .argument('<scan>', 'scan id')
    .argument('<file>', 'the item\'s file, as "flagged" prints it')
    .argument('<position>', 'the item\'s position (byte offset or row), as "flagged --json" prints it')
    .addOption(new Option('--as <review>', 'the outcome').choices(['confirmed', 'dismissed', 'open']).makeOptionMandatory())
    .action(async (scanId: string, file: string, position: string, f: { as: 'confirmed' | 'dismissed' | 'open' }) => {
      const found = await withStore(io, (store) => store.corpus.reviewFlagged(scanId, file, positiveInt(position, 'position', 0), f.as));
      if (!found) throw new CorpusInputError('E_CORPUS_FLAGGED_UNKNOWN', `scan ${scanId} kept no flagged item at ${file} position ${position} (see hegui corpus flagged ${scanId} --json)`);
      io.stdout.write(`${file}@${position}: ${f.as}\n`);
    });

  corpus
    .command('dedupe')
    .description('exact and near duplicates (MinHash, LSH) among the items of files or folders')
    .argument('<paths...>', 'files or folders')
    .option('--field <path>', 'the field holding the text', defaultReadOptions.field)
    .option('--threshold <x>', 'similarity (estimated Jaccard of character 5-grams) for a near duplicate', '0.8')
    .option('--max-items <n>', 'look at no more than this many items (memory grows with them)', '200000')
    .option('--json', 'print JSON')
    .action(async (paths: string[], f: { field: string; threshold: string; maxItems: string; json?: boolean }) => {
      const threshold = Number(f.threshold);
      if (!(threshold > 0 && threshold <= 1)) throw new CorpusInputError('E_CORPUS_OPTION', '--threshold must be in (0, 1]');
      const { resolve } = await import('node:path');
      const { expandPaths, readFile: readCorpusFile, emptyTally } = await import('../corpus/read.js');
      const { findDuplicates } = await import('../corpus/quality.js');
      const { files } = await expandPaths(paths.map((p) => resolve(io.cwd, p)));
      const read = { ...defaultReadOptions, field: f.field };
      async function* items(): AsyncGenerator<{ id: string; text: string }> {
        for (const file of files) for await (const item of readCorpusFile(file, read, emptyTally(file.path))) yield { id: `${file.path}:${item.line ?? `@${item.position}`}`, text: item.text };
      }
      const report = await findDuplicates(items(), { threshold, maxItems: positiveInt(f.maxItems, '--max-items') });
      if (f.json) io.stdout.write(`${JSON.stringify(report)}\n`);
      else io.stdout.write(`${report.items} items: ${report.exactDuplicates} exact duplicates, ${report.nearDuplicates} near duplicates (>= ${threshold})${report.notChecked ? `; ${report.notChecked} not checked (--max-items)` : ''}\n${report.examples.slice(0, 5).map((g) => `  ${g.join('  ')}\n`).join('')}`);
    });

  corpus
    .command('report')
    .description('the corpus section of the self-assessment: sources, licences, scans, verdicts, personal information, annotation QA')
    .option('--json', 'print JSON (what the filing report includes)')
    .action(async (f: { json?: boolean }) => {
      const { corpusReport } = await import('../corpus/report.js');
      const report = await withStore(io, (store) => corpusReport(store));
      if (f.json) {
        io.stdout.write(`${JSON.stringify(report)}\n`);
        return;
      }
      io.stdout.write(`sources: ${report.sources.length} (approved ${report.states.approved}, candidate ${report.states.candidate}, blocked ${report.states.blocked})\n`);
      for (const s of report.sources) io.stdout.write(`  ${s.id}\t${s.state}\t${s.licence}\t${s.scan ? `${s.scan.sampled} checked, ${pct(s.scan.harmful.rate)} harmful: ${s.scan.usable ? 'usable' : 'NOT usable'}` : 'no scan'}\n`);
      io.stdout.write(`foreign share: ${report.foreign.sources.share === null ? `unknown (${report.foreign.sources.unknown} sources without a recorded origin)` : pct(report.foreign.sources.share)} of sources\n`);
      if (report.licences.unknown.length) io.stdout.write(`unknown licences: ${report.licences.unknown.join(', ')}\n`);
      if (report.personalInformation.unknown.length) io.stdout.write(`unknown legal basis for personal information: ${report.personalInformation.unknown.join(', ')}\n`);
      for (const a of report.attention) io.stdout.write(`attention: ${a.source}: ${a.problem}\n`);
      for (const b of report.annotation.batches) io.stdout.write(`annotation batch ${b.batch}: ${b.items} items, ${b.doubleAnnotated} double-annotated, kappa ${b.pairs.map((p) => `${p.annotators.join('/')} ${p.kappa.toFixed(2)}`).join(', ') || 'n/a'}, accuracy ${pct(b.accuracy.rate)}\n`);
    });
}

function registerAnnotation(corpus: Command, io: CliIo): void {
  const annotation = corpus.command('annotation').description('annotation rules, annotator training, labels and their QA');
  const rules = annotation.command('rules').description('annotation rules as versioned documents');
  rules
    .command('add')
    .description('store a new version of a rules document')
    .argument('<id>', 'rules id')
    .requiredOption('--title <title>', 'title')
    .requiredOption('--file <file>', 'the document (Markdown or text)')
    .option('--by <actor>', 'author (default cli:$USER)')
    .action(async (id: string, f: { title: string; file: string; by?: string }) => {
      const body = await readText(io, f.file);
      const version = await withStore(io, (store) => store.corpusAnnotation.addRules({ id, title: f.title, body, createdAt: new Date().toISOString(), createdBy: actorOf(io, f.by) }));
      io.stdout.write(`${id} version ${version}\n`);
    });
  rules
    .command('list')
    .description('every version of every rules document')
    .option('--json', 'print JSON')
    .action(async (f: { json?: boolean }) => {
      const list = await withStore(io, (store) => store.corpusAnnotation.listRules());
      if (f.json) io.stdout.write(`${JSON.stringify(list)}\n`);
      else for (const r of list) io.stdout.write(`${r.id}\tv${r.version}\t${r.createdAt}\t${r.title}\n`);
    });
  rules
    .command('show')
    .description('print a rules document (the newest version unless --version)')
    .argument('<id>', 'rules id')
    .option('--rules-version <n>', 'version')
    .action(async (id: string, f: { rulesVersion?: string }) => {
      const r = await withStore(io, (store) => store.corpusAnnotation.rules(id, f.rulesVersion === undefined ? undefined : positiveInt(f.rulesVersion, '--rules-version')));
      if (r === undefined) throw new CorpusInputError('E_CORPUS_RULES_UNKNOWN', `no rules "${id}"${f.rulesVersion ? ` version ${f.rulesVersion}` : ''}`);
      io.stdout.write(`# ${r.title} (${r.id} v${r.version}, ${r.createdAt})\n\n${r.body}${r.body.endsWith('\n') ? '' : '\n'}`);
    });
  annotation
    .command('training')
    .description('record that an annotator completed training on a rules version')
    .argument('<annotator>', 'annotator')
    .requiredOption('--rules <id>', 'rules id')
    .requiredOption('--rules-version <n>', 'rules version')
    .option('--score <x>', 'test score (0-1)')
    .option('--failed', 'the annotator did not pass')
    .option('--notes <text>', 'notes')
    .action(async (annotator: string, f: { rules: string; rulesVersion: string; score?: string; failed?: boolean; notes?: string }) => {
      const version = positiveInt(f.rulesVersion, '--rules-version');
      const score = f.score === undefined ? null : Number(f.score);
      if (score !== null && !(score >= 0 && score <= 1)) throw new CorpusInputError('E_CORPUS_OPTION', '--score must be from 0 to 1');
      await withStore(io, async (store) => {
        if ((await store.corpusAnnotation.rules(f.rules, version)) === undefined) throw new CorpusInputError('E_CORPUS_RULES_UNKNOWN', `no rules "${f.rules}" version ${version}`);
        const { randomUUID } = await import('node:crypto');
        await store.corpusAnnotation.addTraining({ id: randomUUID(), annotator, rulesId: f.rules, rulesVersion: version, completedAt: new Date().toISOString(), score, passed: !f.failed, notes: f.notes ?? null });
      });
      io.stdout.write(`recorded training of ${annotator} on ${f.rules} v${version}${f.failed ? ' (not passed)' : ''}\n`);
    });
  for (const [name, description] of [
    ['labels', 'import labels: CSV or JSONL with batch, item, annotator, label[, rules, rulesVersion]'],
    ['gold', 'import gold labels: CSV or JSONL with batch, item, label'],
  ] as const) {
    annotation
      .command(name)
      .description(description)
      .argument('<file>', 'the file')
      .addOption(new Option('--format <format>', 'default: from the file name').choices(['csv', 'jsonl']))
      .action(async (file: string, f: { format?: 'csv' | 'jsonl' }) => {
        const { parseLabels } = await import('../corpus/annotation.js');
        const text = await readText(io, file);
        const format = formatOfName(file, f.format, ['csv', 'jsonl'], 'csv') as 'csv' | 'jsonl';
        const now = new Date().toISOString();
        const rows = parseLabels(text, format, now, { gold: name === 'gold' });
        await withStore(io, (store) => (name === 'gold' ? store.corpusAnnotation.addGold(rows.map((r) => ({ batch: r.batch, item: r.item, label: r.label }))) : store.corpusAnnotation.addAnnotations(rows)));
        io.stdout.write(`imported ${rows.length} ${name === 'gold' ? 'gold labels' : 'labels'}\n`);
      });
  }
  annotation
    .command('report')
    .description('QA per batch and per annotator: double-annotation agreement (Cohen\'s kappa), accuracy against gold with 95 % intervals, training')
    .option('--json', 'print JSON')
    .action(async (f: { json?: boolean }) => {
      const { annotationQa } = await import('../corpus/annotation.js');
      const qa = await withStore(io, async (store) => annotationQa(await store.corpusAnnotation.annotations(), await store.corpusAnnotation.gold(), await store.corpusAnnotation.training(), await store.corpusAnnotation.listRules()));
      if (f.json) {
        io.stdout.write(`${JSON.stringify(qa)}\n`);
        return;
      }
      for (const b of qa.batches) {
        io.stdout.write(`batch ${b.batch}: ${b.items} items, ${b.labels} labels, ${b.doubleAnnotated} double-annotated; accuracy on gold ${b.accuracy.successes}/${b.accuracy.total} = ${pct(b.accuracy.rate)} [${pct(b.accuracy.low)} - ${pct(b.accuracy.high)}]\n`);
        for (const p of b.pairs) io.stdout.write(`  ${p.annotators.join(' / ')}: ${p.items} items, agreement ${pct(p.observed)}, kappa ${Number.isNaN(p.kappa) ? 'n/a' : p.kappa.toFixed(3)}\n`);
      }
      for (const a of qa.annotators) io.stdout.write(`annotator ${a.annotator}: ${a.labels} labels in ${a.batches} batches; accuracy ${a.accuracy.successes}/${a.accuracy.total} = ${pct(a.accuracy.rate)} [${pct(a.accuracy.low)} - ${pct(a.accuracy.high)}]; ${a.trainings} trainings${a.untrainedFor.length ? `; NOT trained for ${a.untrainedFor.join(', ')}` : ''}\n`);
    });
}

export function registerCorpus(program: Command, io: CliIo): void {
  const corpus = program.command('corpus').description('training data: source register, safety scans of whole corpora (5 % rule), duplicates, annotation QA, report');
  registerSource(corpus, io);
  registerScan(corpus, io);
  registerAnnotation(corpus, io);
}
