/**
 * @module cli/main
 * The `hegui` command line. Each command lives in its own file and registers itself on the
 * program; this file only wires them together, loads the one module a command line asks for,
 * and turns errors into exit statuses.
 */
import { Command, CommanderError } from 'commander';
import { statSync, type Stats } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { ExitCode, HeguiError } from '../errors.js';
import { version } from '../version.js';
import { type CliIo, processIo } from './io.js';

type Register = (program: Command, io: CliIo) => void;

/**
 * Commands that one module registers: each name with the line `hegui --help` shows for it
 * (the same text the module gives it; a test keeps the two equal), and how to load the module.
 * Modules load only when their command runs, so `hegui --version` and `hegui workdays` never
 * pay for image codecs, canvas, fonts or database drivers (DESIGN.md, "Load only what runs").
 */
export interface CommandEntry {
  commands: readonly (readonly [name: string, description: string])[];
  /**
   * `words`: the command line's words that are not options (`label`, `embed`, files...);
   * `help`: the command line only asks for help; `argv`: the whole command line.
   */
  load: (words?: readonly string[], context?: { help: boolean; argv: readonly string[] }) => Promise<Register[]>;
}

/**
 * `label` subcommands that need only the implicit-label code: for them the visible notices'
 * image, video and font libraries are not loaded (a large MP4 labels in about 60 MB, not 105).
 */
const IMPLICIT_LABEL_COMMANDS = new Set(['embed', 'read', 'verify', 'propagate', 'strip', 'keygen']);

/** `label` subcommands that draw visible notices, on images among other files. */
const VISIBLE_LABEL_COMMANDS = new Set(['visible', 'all']);

/**
 * The options of `label visible` and `label all` that take a value (the word after them is not
 * a file to label). `test/cli-startup.test.ts` keeps this list equal to the commands' own.
 */
export const VISIBLE_LABEL_VALUE_OPTIONS: ReadonlySet<string> = new Set(['--position', '--text', '--lang', '--plate', '--font', '--quality', '--speech', '-o', '--out', '--producer', '--id', '--label', '--key']);

/**
 * Whether the command line (`args`: the words after `label visible`) names a folder or at
 * least two files to label, as a batch does: the words that are neither options nor an
 * option's value, checked with a stat each, up to the second file. A word it cannot tell (an
 * unknown option's value that is a path) can at worst start a thread the command never uses.
 */
function isBatch(args: readonly string[]): boolean {
  let files = 0;
  for (let i = 0; i < args.length; i++) {
    const word = args[i] as string;
    if (word === '--') continue;
    if (word.startsWith('-')) {
      if (VISIBLE_LABEL_VALUE_OPTIONS.has(word)) i++;
      continue;
    }
    let stats: Stats | undefined;
    try {
      stats = statSync(word);
    } catch {
      continue;
    }
    if (stats.isDirectory() || (stats.isFile() && ++files >= 2)) return true;
  }
  return false;
}

/** Every command, in the order `hegui --help` lists them. */
export const commandTable: readonly CommandEntry[] = [
  {
    commands: [['serve', 'serve the dashboard and the APIs (http://127.0.0.1:8787 by default)']],
    load: async () => [(await import('./serve.js')).registerServe],
  },
  {
    commands: [['obligations', 'list the duties that bind a service on a date, with citations; with --evidence, the gap report']],
    load: async () => [(await import('./obligations.js')).registerObligations],
  },
  {
    commands: [['rules', 'list the instruments hegui knows and their status on a date']],
    load: async () => [(await import('./rules.js')).registerRules],
  },
  {
    commands: [['profile', 'write a service profile by interview, and list what it leaves unknown']],
    load: async () => [(await import('./profile.js')).registerProfile],
  },
  {
    commands: [['operators', 'manage the people who sign in to the dashboard (admin, reviewer, auditor)']],
    load: async () => [(await import('./operators.js')).registerOperators],
  },
  {
    commands: [['users', 'manage the users of the OpenAI-compatible API, their API keys, limits and sanctions']],
    load: async () => [(await import('./users.js')).registerUsers],
  },
  {
    commands: [['workdays', 'China working days from the State Council holiday schedule, with make-up working days']],
    load: async () => [(await import('./workdays.js')).registerWorkdays],
  },
  {
    commands: [['label', 'AIGC labels (GB 45438): implicit labels in file metadata, visible notices and their check']],
    load: async (words = [], context = { help: false, argv: [] }) => {
      // The implicit subcommands load the bundled entry (one file in the build, label-implicit.ts).
      if (IMPLICIT_LABEL_COMMANDS.has(words[1] ?? '')) return [(await import('./label-implicit.js')).registerLabel];
      const subcommand = context.argv.indexOf(words[1] ?? '');
      if (!context.help && VISIBLE_LABEL_COMMANDS.has(words[1] ?? '') && subcommand >= 0 && isBatch(context.argv.slice(subcommand + 1))) {
        // A batch's image threads start before the command's modules load, which they overlap
        // (the command takes them when its first image comes; unused, they end with the process).
        const { batchImageThreads, prestartImageThreads } = await import('../label/explicit/image-threads.js');
        prestartImageThreads(batchImageThreads());
      }
      const { registerLabel } = await import('./label.js');
      return [registerLabel, (await import('./label-visible.js')).registerLabelVisible];
    },
  },
  {
    commands: [['scan', 'check a text for keywords and personal data and print the policy verdict']],
    // The bundled entry (scan-command.ts re-exports scan.ts), as for the implicit label commands.
    load: async () => [(await import('./scan-command.js')).registerScan],
  },
  {
    commands: [['keywords', 'keyword libraries: import word lists, count them, check GB/T 45654 coverage, try them, keep them in the database']],
    load: async () => [(await import('./keywords.js')).registerKeywords],
  },
  {
    commands: [['eval', 'security assessment (GB/T 45654): question banks, evaluation runs, human review, the self-assessment report and filing materials']],
    load: async () => [(await import('./eval.js')).registerEval],
  },
  {
    commands: [['corpus', 'training data: source register, safety scans of whole corpora (5 % rule), duplicates, annotation QA, report']],
    load: async () => [(await import('./corpus.js')).registerCorpus],
  },
  {
    commands: [['audit', 'the tamper-evident audit log: verify, export for authorities, purge, keys']],
    load: async () => [(await import('./audit.js')).registerAudit],
  },
  {
    commands: [['desk', 'the compliance desk: complaints, reports and personal-information requests on working-day clocks']],
    load: async () => [(await import('./desk.js')).registerDesk],
  },
  {
    commands: [['incidents', 'illegal-content incidents of the desk: list, show, export the report']],
    load: async () => [(await import('./incidents.js')).registerIncidents],
  },
];

/**
 * The command `argv` asks for: its first word that is not an option, or the word after
 * `help`. Undefined when it names none of the table's commands (no command, `--help`, a typo).
 */
function requestedEntry(argv: readonly string[]): CommandEntry | undefined {
  const words = argv.filter((arg) => !arg.startsWith('-'));
  const name = words[0] === 'help' ? words[1] : words[0];
  return commandTable.find((entry) => entry.commands.some(([command]) => command === name));
}

/**
 * Builds the program for `argv`. The command it names is loaded and registered in full; every
 * other command stands as a placeholder with its name and description, enough for the
 * top-level help and for commander's "unknown command" suggestions.
 */
export async function buildProgram(io: CliIo, argv: readonly string[] = []): Promise<Command> {
  const program = new Command('hegui')
    .description('合规 hegui — compliance toolkit for generative-AI services in mainland China')
    .version(version)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });
  const wanted = requestedEntry(argv);
  const words = argv.filter((arg) => !arg.startsWith('-'));
  for (const entry of commandTable) {
    if (entry === wanted) {
      const help = words[0] === 'help' || argv.includes('--help') || argv.includes('-h');
      for (const register of await entry.load(words[0] === 'help' ? words.slice(1) : words, { help, argv })) register(program, io);
    } else {
      for (const [name, description] of entry.commands) program.command(name).description(description);
    }
  }
  return program;
}

/** Runs the CLI with `argv` (without `node` and the script) and resolves to the exit status. */
export async function run(argv: string[], io: CliIo = processIo()): Promise<number> {
  try {
    const program = await buildProgram(io, argv);
    await program.parseAsync(argv, { from: 'user' });
    return commandExit(program);
  } catch (error) {
    return reportError(error, io);
  }
}

/** Commands report a non-zero status (e.g. some files failed) by setting it on the program. */
function commandExit(program: Command): number {
  const status = (program as Command & { heguiExitCode?: number }).heguiExitCode;
  return status ?? ExitCode.ok;
}

/** Lets a command action set the exit status without throwing. */
export function setExitCode(command: Command, status: number): void {
  let root: Command = command;
  while (root.parent) root = root.parent;
  const holder = root as Command & { heguiExitCode?: number };
  holder.heguiExitCode = Math.max(holder.heguiExitCode ?? 0, status);
}

/**
 * Commander's errors, told apart by their code rather than their class: the build bundles
 * commander with this module, and command modules outside the bundle use their own copy.
 */
function isCommanderError(error: unknown): error is CommanderError {
  if (error instanceof CommanderError) return true;
  const { code, exitCode } = (error ?? {}) as { code?: unknown; exitCode?: unknown };
  return error instanceof Error && typeof code === 'string' && code.startsWith('commander.') && typeof exitCode === 'number';
}

function reportError(error: unknown, io: CliIo): number {
  if (isCommanderError(error)) {
    // Commander already printed its message; help and version end with status 0.
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') {
      return ExitCode.ok;
    }
    return ExitCode.usage;
  }
  if (error instanceof HeguiError) {
    io.stderr.write(`error: ${error.message}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  io.stderr.write(`error: unexpected failure: ${message}\n`);
  if (io.env.HEGUI_DEBUG) io.stderr.write(`${error instanceof Error ? error.stack : ''}\n`);
  return ExitCode.failure;
}

// Run directly (`tsx src/cli/main.ts`): no top-level await here, because command modules import
// `setExitCode` from this module after it has loaded, and awaiting would leave it unfinished.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  void run(process.argv.slice(2)).then((status) => {
    process.exitCode = status;
  });
}
