/**
 * @module cli/scan
 * `hegui scan [TEXT | --file F] [--keywords LIB] [--json]`: checks one text against a keyword
 * library, the personal-data detectors and a policy, and prints the verdict with every hit's
 * UTF-16 offsets into the original text. Reads stdin when no text is given. Exits with 1 when
 * the verdict is `block`.
 */
import type { Command } from 'commander';
import { InvalidInputError } from '../errors.js';
import type { CompiledLibrary, Direction, SafetyDecision, SafetyPolicy } from '../safety/index.js';
import { defaultPolicy, SafetyGuard, validatePolicy } from '../safety/index.js';
import { loadCompiledExample, loadCompiledLibraryFile } from '../safety/library-cache.js';
import { readTextFile } from './files.js';
import { type CliIo, readAll } from './io.js';
import { setExitCode } from './main.js';

interface ScanFlags {
  file?: string;
  keywords?: string;
  policy?: string;
  direction: string;
  userClass?: string;
  json?: boolean;
  lang: string;
}

/**
 * `--keywords example` uses the built-in example library. Both go through the compiled-library
 * cache (safety/library-cache), so a repeated scan skips compiling and never loads pinyin-pro.
 */
export async function loadCompiledLibrary(source: string | undefined): Promise<CompiledLibrary | undefined> {
  if (source === undefined) return undefined;
  return source === 'example' ? loadCompiledExample() : loadCompiledLibraryFile(source);
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
    .addHelpText('after', '\nOffsets are UTF-16 code units into the original text. Exit status 1 when the verdict is block.\n\nExample:\n  $ hegui scan --keywords example "推荐个du bo wang zhan"\n  verdict: block')
    .action(async (text: string | undefined, flags: ScanFlags, command: Command) => {
      if (flags.direction !== 'input' && flags.direction !== 'output') throw new InvalidInputError('E_SAFETY_SCAN_INPUT', `--direction must be input or output, not "${flags.direction}"`);
      if (flags.lang !== 'zh' && flags.lang !== 'en') throw new InvalidInputError('E_SAFETY_SCAN_INPUT', `--lang must be zh or en, not "${flags.lang}"`);
      const library = await loadCompiledLibrary(flags.keywords);
      if (library === undefined) io.stderr.write('note: no keyword library given (--keywords LIB); checking personal data only\n');
      const guard = new SafetyGuard({ ...(library === undefined ? {} : { library }), policy: await loadPolicy(io, flags.policy), language: flags.lang });
      const content = await inputText(io, text, flags.file);
      const decision = guard.checkLocal(content, { direction: flags.direction as Direction, ...(flags.userClass === undefined ? {} : { userClass: flags.userClass }) });
      io.stdout.write(flags.json ? `${JSON.stringify(scanReport(decision))}\n` : humanReport(decision));
      if (decision.verdict === 'block') setExitCode(command, 1);
    });
}
