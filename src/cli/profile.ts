/**
 * @module cli/profile
 * `hegui profile init` (an interview, in the order a PRC compliance lawyer asks, that writes
 * the service profile) and `hegui profile check` (what the profile leaves unknown, and which
 * duties each unknown fact decides).
 *
 * The interview reads one answer per line from stdin, so it runs the same in a terminal and
 * from a pipe; `--set path=value` answers a question from the command line and `--no-input`
 * leaves every question not answered by flag unknown.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { type Command, Option } from 'commander';
import { chinaDateOf, parseIsoDate } from '../calendar/index.js';
import { InvalidInputError } from '../errors.js';
import {
  applicableObligations,
  checkServiceProfile,
  type Lang,
  loadInstruments,
  type ProfileField,
  profileFields,
  profileFieldsByPath,
  readServiceProfile,
  relevant,
  unknownFields,
} from '../rules/index.js';
import { type Answer, answerHint, answersToProfile, InvalidAnswerError, parseAnswer, profileYaml } from '../rules/profile-interview.js';
import { readTextFile } from './files.js';
import type { CliIo } from './io.js';
import { setExitCode } from './main.js';

interface InitFlags {
  output: string;
  set: string[];
  input: boolean;
  lang: Lang;
  force?: boolean;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Lines of stdin, one at a time; undefined once stdin ends. */
function lineReader(io: CliIo): { next(): Promise<string | undefined>; close(): void } {
  const rl = createInterface({ input: io.stdin, terminal: false, crlfDelay: Infinity });
  const lines: string[] = [];
  const waiting: ((line: string | undefined) => void)[] = [];
  let closed = false;
  rl.on('line', (line) => {
    const waiter = waiting.shift();
    if (waiter) waiter(line);
    else lines.push(line);
  });
  rl.on('close', () => {
    closed = true;
    for (const waiter of waiting.splice(0)) waiter(undefined);
  });
  return {
    next: () => {
      if (lines.length > 0) return Promise.resolve(lines.shift());
      if (closed) return Promise.resolve(undefined);
      return new Promise((done) => waiting.push(done));
    },
    close: () => rl.close(),
  };
}

/** `--set path=value` flags as answers, checked against the questions. */
function flagAnswers(sets: readonly string[]): Map<ProfileField, Answer> {
  const out = new Map<ProfileField, Answer>();
  for (const set of sets) {
    const eq = set.indexOf('=');
    const path = eq < 0 ? set : set.slice(0, eq);
    const field = profileFieldsByPath.get(path);
    if (eq < 0 || field === undefined) {
      throw new InvalidInputError('E_PROFILE_ANSWER', `--set ${set}: expected <field>=<answer> with a field among ${profileFields.map((f) => f.path).join(', ')}`);
    }
    out.set(field, parseAnswer(field, set.slice(eq + 1)));
  }
  return out;
}

/** A question left unanswered: a fact stays unknown; an optional name or date is left out. */
function unanswered(field: ProfileField): Answer {
  return field.kind.type === 'text' || field.kind.type === 'date' ? { skip: true } : { unknown: true };
}

async function interview(io: CliIo, flags: InitFlags): Promise<Map<ProfileField, Answer>> {
  const given = flagAnswers(flags.set);
  const answers = new Map<ProfileField, Answer>();
  const reader = flags.input ? lineReader(io) : undefined;
  const say = (text: string): unknown => io.stderr.write(text);
  const zh = flags.lang === 'zh';
  try {
    let n = 0;
    for (const field of profileFields) {
      if (!relevant(field, answersToProfile(answers))) continue;
      const fromFlag = given.get(field);
      if (fromFlag !== undefined) {
        answers.set(field, fromFlag);
        continue;
      }
      n += 1;
      if (reader === undefined) {
        if (field.required) throw new InvalidInputError('E_PROFILE_ANSWER', `${field.path} is required: give it with --set ${field.path}=...`);
        answers.set(field, unanswered(field));
        continue;
      }
      for (;;) {
        say(`\n${n}. ${field.question[flags.lang]}\n   ${zh ? '依据' : 'Why'}: ${field.basis[flags.lang]}\n   [${answerHint(field, flags.lang)}] > `);
        const line = await reader.next();
        if (line === undefined) {
          if (field.required) throw new InvalidInputError('E_PROFILE_ANSWER', `input ended before ${field.path} was answered; it is required (or give it with --set ${field.path}=...)`);
          say('\n');
          answers.set(field, unanswered(field));
          break;
        }
        try {
          answers.set(field, parseAnswer(field, line));
          break;
        } catch (error) {
          if (!(error instanceof InvalidAnswerError)) throw error;
          say(`   ${error.message}\n`);
        }
      }
    }
  } finally {
    reader?.close();
  }
  return answers;
}

function checkedDate(value: string | undefined): string {
  return value === undefined ? chinaDateOf(new Date()) : parseIsoDate(value, '--on');
}

export function registerProfile(program: Command, io: CliIo): void {
  const profile = program.command('profile').description('write a service profile by interview, and list what it leaves unknown');

  profile
    .command('init')
    .description('interview in the order a compliance lawyer asks, each question with the article behind it; writes the profile YAML')
    .option('-o, --output <file>', 'where to write the profile ("-" for stdout)', 'profile.yaml')
    .option('--set <field=answer>', 'answer a question from the command line (repeatable), e.g. --set service.audience=public', collect, [])
    .option('--no-input', 'read no answers from stdin: questions not answered by --set stay unknown')
    .addOption(new Option('--lang <lang>', 'language of the questions and comments').choices(['zh', 'en']).default('en'))
    .option('--force', 'overwrite an existing file')
    .addHelpText(
      'after',
      '\nAnswers are read one per line from stdin (a terminal or a pipe); an empty line means unknown.\n\nExamples:\n  $ hegui profile init -o profile.yaml\n  $ hegui profile init --no-input --set provider.name="Example Co." --set service.audience=business-api -o profile.yaml\n  $ printf "Example Co.\\nyes\\n" | hegui profile init -o profile.yaml',
    )
    .action(async (flags: InitFlags) => {
      const target = flags.output === '-' ? undefined : resolve(io.cwd, flags.output);
      if (target !== undefined && existsSync(target) && !flags.force) {
        throw new InvalidInputError('E_PROFILE_EXISTS', `${flags.output} exists; choose another --output or add --force to overwrite it`);
      }
      const answers = await interview(io, flags);
      const text = profileYaml(answers, flags.lang);
      // The written file must read back as a valid profile: the interview and the schema agree.
      const { profile: written } = checkServiceProfile(readServiceProfile(text, flags.output).profile);
      const open = unknownFields(written).length;
      if (target === undefined) io.stdout.write(text);
      else {
        await writeFile(target, text);
        io.stderr.write(`\nwrote ${flags.output} (${open} facts unknown; run hegui profile check -p ${flags.output})\n`);
      }
    });

  profile
    .command('check')
    .description('list the facts a profile leaves unknown, with the question, its legal basis and the duties each one decides')
    .requiredOption('-p, --profile <file>', 'service profile (YAML or JSON)')
    .option('--on <date>', 'the date to assess, YYYY-MM-DD (default: today in Beijing)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json']).default('text'))
    .addOption(new Option('--lang <lang>', 'language').choices(['zh', 'en']).default('en'))
    .option('--strict', 'exit with status 1 when any fact is unknown')
    .action(async (flags: { profile: string; on?: string; format: 'text' | 'json'; lang: Lang; strict?: boolean }, command: Command) => {
      const { profile: p, notes } = readServiceProfile(await readTextFile(io, flags.profile, 'profile'), flags.profile);
      for (const note of notes) io.stderr.write(`warning: ${flags.profile}: ${note}\n`);
      const date = checkedDate(flags.on);
      const report = applicableObligations(loadInstruments(), p, date);
      const decided = [...report.obligations, ...report.upcoming];
      const unknown = unknownFields(p).map((f) => ({
        field: f.path,
        question: f.question[flags.lang],
        basis: f.basis[flags.lang],
        decides: decided.filter((o) => o.assumed?.unknown.includes(f.path)).map((o) => o.id),
      }));
      if (flags.strict && unknown.length > 0) setExitCode(command, 1);
      if (flags.format === 'json') {
        io.stdout.write(`${JSON.stringify({ profile: flags.profile, date, unknown, notes }, null, 2)}\n`);
        return;
      }
      const zh = flags.lang === 'zh';
      if (unknown.length === 0) {
        io.stdout.write(zh ? `${flags.profile}：所有相关事实均已回答。\n` : `${flags.profile}: every relevant fact is answered.\n`);
        return;
      }
      io.stdout.write(zh ? `${flags.profile}：${unknown.length} 项事实未知（相关义务按安全侧适用）：\n` : `${flags.profile}: ${unknown.length} facts unknown (the duties they decide apply on the safe side):\n`);
      for (const u of unknown) {
        const decides = u.decides.length === 0 ? (zh ? '目前不决定任何义务' : 'decides no duty today') : `${zh ? '决定' : 'decides'} ${u.decides.length}: ${u.decides.slice(0, 5).join(', ')}${u.decides.length > 5 ? ', ...' : ''}`;
        io.stdout.write(`\n- ${u.field}: ${u.question}\n  ${zh ? '依据' : 'why'}: ${u.basis}\n  ${decides}\n`);
      }
    });
}
