/**
 * @module cli/scan
 * `hegui scan [TEXT | --file F] [--keywords LIB] [--json]`: checks one text against a keyword
 * library, the personal-data detectors and a policy, and prints the verdict with every hit's
 * UTF-16 offsets into the original text. Reads stdin when no text is given. Exits with 1 when
 * the verdict is `block`.
 */
import type { Command } from 'commander';
import { InvalidInputError } from '../errors.js';
// The engine's own modules, not the safety/index.js barrel: through the barrel the build's
// bundle would keep every module it names (the library schema, and with it zod) at the start.
import type { CheckOptions, SafetyDecision } from '../safety/guard.js';
import { SafetyGuard } from '../safety/guard.js';
import type { Direction, SafetyPolicy } from '../safety/policy.js';
import { defaultPolicy, validatePolicy } from '../safety/policy.js';
import { readTextFile } from './files.js';
import { type CliIo, readAll } from './io.js';
import { setExitCode } from './main.js';
import { findInFile } from './scan-parallel.js';
import { loadCompiledLibrary, loadSharedLibrary } from './scan-library.js';

export { loadCompiledLibrary } from './scan-library.js';

interface ScanFlags {
  file?: string;
  keywords?: string;
  policy?: string;
  direction: string;
  userClass?: string;
  json?: boolean;
  jsonl?: boolean;
  lang: string;
}

/** The text named by the arguments: TEXT, --file, or stdin. */
export async function inputText(io: CliIo, text: string | undefined, file: string | undefined): Promise<string> {
  if (text !== undefined && file !== undefined) throw new InvalidInputError('E_SAFETY_SCAN_INPUT', 'give either TEXT or --file, not both');
  if (text !== undefined) return text;
  if (file !== undefined) return readTextFile(io, file, 'text file');
  return readAll(io.stdin);
}

async function loadPolicy(io: CliIo, file: string | undefined): Promise<SafetyPolicy> {
  if (file === undefined) return defaultPolicy;
  let document: unknown;
  try {
    document = JSON.parse(await readTextFile(io, file, 'policy file'));
  } catch (cause) {
    if (cause instanceof SyntaxError) throw new InvalidInputError('E_SAFETY_POLICY_INVALID', `policy file ${file} is not JSON: ${cause.message}`, { cause });
    throw cause;
  }
  const policy = document as Partial<SafetyPolicy>;
  return validatePolicy({ rules: policy.rules ?? [], userClasses: policy.userClasses ?? {}, safeReply: policy.safeReply ?? defaultPolicy.safeReply });
}

/** The JSON the command prints: the shape scripts rely on. */
export function scanReport(decision: SafetyDecision): Record<string, unknown> {
  return {
    verdict: decision.verdict,
    matches: decision.matches.map((m) => ({ risk: m.risk, keyword: m.keyword, start: m.start, end: m.end, original: m.original, action: m.action, confidence: m.confidence, transforms: m.transforms })),
    pii: decision.pii.map((p) => ({ type: p.type, start: p.start, end: p.end, action: p.action })),
    ...(decision.reply === undefined ? {} : { reply: decision.reply }),
    ...(decision.redacted === undefined ? {} : { redacted: decision.redacted }),
  };
}

/** Writes `lines` to `out` in blocks of about a megabyte: one write per hit would cost more than the scan. */
function writeLines(out: CliIo['stdout'], lines: Iterable<string>): void {
  let block: string[] = [];
  let size = 0;
  for (const line of lines) {
    block.push(line);
    size += line.length;
    if (size >= 1 << 20) {
      out.write(block.join(''));
      block = [];
      size = 0;
    }
  }
  if (block.length > 0) out.write(block.join(''));
}

/** The `--jsonl` report: one line per keyword hit, one per personal-data item, then the verdict. */
export function* scanReportLines(decision: SafetyDecision): Generator<string> {
  // Written out rather than stringified from a fresh object per hit: the same JSON, a third of the time.
  const json = JSON.stringify;
  for (const m of decision.matches) {
    yield `{"kind":"keyword","risk":${json(m.risk)},"keyword":${json(m.keyword)},"start":${m.start},"end":${m.end},"original":${json(m.original)},"action":${json(m.action)},"confidence":${json(m.confidence)},"transforms":${json(m.transforms)}}\n`;
  }
  for (const p of decision.pii) yield `{"kind":"pii","type":${json(p.type)},"start":${p.start},"end":${p.end},"action":${json(p.action)}}\n`;
  yield `${json({ kind: 'verdict', verdict: decision.verdict, matches: decision.matches.length, pii: decision.pii.length, ...(decision.reply === undefined ? {} : { reply: decision.reply }), ...(decision.redacted === undefined ? {} : { redacted: decision.redacted }) })}\n`;
}

function humanReport(decision: SafetyDecision): string {
  const lines = [`verdict: ${decision.verdict}`];
  for (const m of decision.matches) lines.push(`  ${m.risk} ${m.action.padEnd(6)} [${m.start},${m.end}) ${JSON.stringify(m.original)} keyword ${JSON.stringify(m.keyword)} confidence ${m.confidence}${m.transforms.length > 0 ? ` (${m.transforms.join(', ')})` : ''}`);
  for (const p of decision.pii) lines.push(`  pii  ${p.action.padEnd(6)} [${p.start},${p.end}) ${p.type}`);
  if (decision.reply !== undefined) lines.push(`reply: ${decision.reply}`);
  if (decision.redacted !== undefined) lines.push(`redacted: ${decision.redacted}`);
  return `${lines.join('\n')}\n`;
}

export function registerScan(program: Command, io: CliIo): void {
  program
    .command('scan')
    .description('check a text for keywords and personal data and print the policy verdict')
    .argument('[text]', 'the text to check (default: stdin)')
    .option('--file <file>', 'read the text from a file')
    .option('--keywords <lib>', 'keyword library (JSON, see "hegui keywords import"), or "example"')
    .option('--policy <file>', 'policy (JSON: rules, userClasses, safeReply); default: the built-in policy')
    .option('--direction <dir>', 'input (what users send) or output (what the model generates)', 'output')
    .option('--user-class <class>', 'apply the rules for a user class, e.g. minor')
    .option('--lang <lang>', 'language of the safe reply: zh or en', 'zh')
    .option('--json', 'print {"verdict","matches":[{"risk","keyword","start","end","original","action","confidence","transforms"}],"pii":[{"type","start","end"}]}')
    .option('--jsonl', 'print one JSON line per hit ({"kind":"keyword",...} as in --json, {"kind":"pii",...}), then {"kind":"verdict","verdict","matches","pii"}: for large files')
    .addHelpText('after', '\nOffsets are UTF-16 code units into the original text. Exit status 1 when the verdict is block.\nA large --file is searched on every core, cut at line feeds (the hits are those of one pass).\n\nExample:\n  $ hegui scan --keywords example "推荐个du bo wang zhan"\n  verdict: block')
    .action(async (text: string | undefined, flags: ScanFlags, command: Command) => {
      if (flags.direction !== 'input' && flags.direction !== 'output') throw new InvalidInputError('E_SAFETY_SCAN_INPUT', `--direction must be input or output, not "${flags.direction}"`);
      if (flags.lang !== 'zh' && flags.lang !== 'en') throw new InvalidInputError('E_SAFETY_SCAN_INPUT', `--lang must be zh or en, not "${flags.lang}"`);
      if (flags.json && flags.jsonl) throw new InvalidInputError('E_SAFETY_SCAN_INPUT', 'give either --json or --jsonl, not both');
      // Only a --file scan may search on worker threads, which need the library's very bytes;
      // another scan needs them only for their hash (loadCompiledLibrary reads them a chunk at a time).
      const fromFile = text === undefined && flags.file !== undefined;
      const { compiled: library, bytes: libraryBytes } = fromFile ? await loadSharedLibrary(flags.keywords) : { compiled: await loadCompiledLibrary(flags.keywords), bytes: undefined };
      if (library === undefined) io.stderr.write('note: no keyword library given (--keywords LIB); checking personal data only\n');
      // One day for every thread's identity-number checks.
      const today = new Date();
      const guard = new SafetyGuard({ ...(library === undefined ? {} : { library }), policy: await loadPolicy(io, flags.policy), language: flags.lang, pii: { today } });
      const options: CheckOptions = { direction: flags.direction as Direction, ...(flags.userClass === undefined ? {} : { userClass: flags.userClass }) };
      let decision: SafetyDecision;
      if (text === undefined && flags.file !== undefined) {
        const { found, text: whole } = await findInFile(io, guard, { source: flags.keywords, compiled: library, ...(libraryBytes ? { bytes: libraryBytes } : {}) }, flags.file, today);
        decision = guard.decideLocal(found, options, whole);
      } else decision = guard.checkLocal(await inputText(io, text, flags.file), options);
      if (flags.jsonl) writeLines(io.stdout, scanReportLines(decision));
      else io.stdout.write(flags.json ? `${JSON.stringify(scanReport(decision))}\n` : humanReport(decision));
      if (decision.verdict === 'block') setExitCode(command, 1);
    });
}
