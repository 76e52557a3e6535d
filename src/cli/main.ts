/**
 * @module cli/main
 * The `hegui` command line. Each command lives in its own file and registers itself on the
 * program; this file only wires them together and turns errors into exit statuses.
 */
import { Command, CommanderError } from 'commander';
import { pathToFileURL } from 'node:url';
import { ExitCode, HeguiError } from '../errors.js';
import { version } from '../version.js';
import { type CliIo, processIo } from './io.js';
import { registerAudit } from './audit.js';
import { registerLabel } from './label.js';
import { registerLabelVisible } from './label-visible.js';
import { registerObligations } from './obligations.js';
import { registerProfile } from './profile.js';
import { registerOperators } from './operators.js';
import { registerServe } from './serve.js';
import { registerUsers } from './users.js';
import { registerWorkdays } from './workdays.js';
import { registerScan } from './scan.js';
import { registerKeywords } from './keywords.js';

type Register = (program: Command, io: CliIo) => void;

/** Every command, in the order `hegui --help` lists them. */
const commands: Register[] = [registerServe, registerObligations, registerProfile, registerOperators, registerUsers, registerWorkdays, registerLabel, registerLabelVisible, registerScan, registerKeywords, registerAudit];

export function buildProgram(io: CliIo): Command {
  const program = new Command('hegui')
    .description('合规 hegui — compliance toolkit for generative-AI services in mainland China')
    .version(version)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });
  for (const register of commands) register(program, io);
  return program;
}

/** Runs the CLI with `argv` (without `node` and the script) and resolves to the exit status. */
export async function run(argv: string[], io: CliIo = processIo()): Promise<number> {
  const program = buildProgram(io);
  try {
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

function reportError(error: unknown, io: CliIo): number {
  if (error instanceof CommanderError) {
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

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await run(process.argv.slice(2));
}
