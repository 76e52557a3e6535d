/**
 * @module cli/users
 * `hegui users add|list|disable|verify|minor|history|sanctions|lift`: the users of the
 * OpenAI-compatible API. A key is printed once, alone on the last line (so scripts can take it
 * with `tail -n 1`); only its SHA-256 is stored. Users of the provider's login appear as
 * `jwt:<sub>` once they have sent a request. Flags changed here reach running servers within
 * `users.cacheSeconds`; a lift within two `limits.syncMilliseconds`.
 */
import type { Command } from 'commander';
import { AuditLog, auditEnvironment, beijingTime } from '../audit/index.js';
import { InvalidInputError } from '../errors.js';
import { createApiUser } from '../gateway/identity.js';
import { liftUserSanctions } from '../gateway/sanctions.js';
import type { GatewaySanction } from '../store/index.js';
import type { CliIo } from './io.js';
import { withStore } from './store.js';
import { registerKeyCommands, userNamed } from './user-keys.js';

/** Who the CLI records as lifting sanctions: the operator at the terminal is not signed in. */
const CLI_ACTOR = 'system:cli';


function describeSanction(s: GatewaySanction): string {
  const until = s.action === 'warn' ? '' : s.until === null ? 'until lifted' : `until ${s.until}`;
  const lifted = s.liftedAt ? `lifted ${s.liftedAt} by ${s.liftedBy ?? 'unknown'}` : '';
  return [s.createdAt, s.action, s.reason, until, lifted].filter(Boolean).join('\t');
}

function positiveInteger(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 500) throw new InvalidInputError('E_CLI_LIMIT', '--limit is a whole number from 1 to 500');
  return Number(value);
}

/** `verify` and `minor`: one flag, on or (with `--off`) off. */
function registerFlag(users: Command, io: CliIo, flag: 'verified' | 'minor', command: string, description: string): void {
  users
    .command(command)
    .description(description)
    .argument('<name>', 'account name (jwt:<sub> for users of the provider login)')
    .option('--off', 'clear the flag instead')
    .action(async (name: string, options: { off?: boolean }) => {
      await withStore(io, async (store) => store.gatewayUsers.setFlags((await userNamed(store, name)).id, { [flag]: !options.off }));
      io.stdout.write(`user "${name}": ${flag} ${options.off ? 'off' : 'on'}\n`);
    });
}

export function registerUsers(program: Command, io: CliIo): void {
  const users = program.command('users').description('manage the users of the OpenAI-compatible API, their API keys, limits and sanctions');
  registerKeyCommands(users, io);

  users
    .command('add')
    .description('create a user and print its API key once, alone on the last line')
    .argument('<name>', 'account name (unique)')
    .option('--verified', 'the user\'s real identity has been verified (Deep Synthesis Provisions Art. 9)')
    .option('--minor', 'the user is a minor: minors\' mode applies (AI Measures Art. 10; Minors Regulations Art. 43)')
    .action(async (name: string, flags: { verified?: boolean; minor?: boolean }) => {
      const { user, key } = await withStore(io, (store) => createApiUser(store, { name, verified: flags.verified ?? false, minor: flags.minor ?? false }));
      io.stdout.write(`created user "${user.name}" (${user.verified ? 'verified' : 'unverified'}${user.minor ? ', minor' : ''}); its API key, shown once:\n${key}\n`);
    });

  users
    .command('list')
    .description('list users')
    .action(async () => {
      const rows = await withStore(io, (store) => store.gatewayUsers.list());
      for (const u of rows) io.stdout.write(`${u.name}\t${u.verified ? 'verified' : 'unverified'}\t${u.minor ? 'minor' : 'adult'}\t${u.disabledAt ? `disabled ${u.disabledAt}` : 'active'}\n`);
    });

  users
    .command('disable')
    .description('disable a user: its keys and tokens stop working (within users.cacheSeconds on running servers)')
    .argument('<name>', 'account name')
    .action(async (name: string) => {
      await withStore(io, async (store) => store.gatewayUsers.disable((await userNamed(store, name)).id));
      io.stdout.write(`disabled user "${name}"\n`);
    });

  registerFlag(users, io, 'verified', 'verify', 'record that the user\'s real identity has been verified (Deep Synthesis Provisions Art. 9)');
  registerFlag(users, io, 'minor', 'minor', 'put the user in minors\' mode: stricter policy, daily limits, reminders (AI Measures Art. 10)');

  users
    .command('history')
    .description('every audit event about the user (its requests, sanctions, lifts, exports; whoever wrote them), and its sanctions, newest first')
    .argument('<name>', 'account name')
    .option('--limit <n>', 'events to show (1-500, default 20)', positiveInteger, 20)
    .option('--json', 'print the user, the events and the sanctions as JSON (times in UTC)')
    .action(async (name: string, options: { limit: number; json?: boolean }) => {
      await withStore(io, async (store) => {
        const user = await userNamed(store, name);
        const log = new AuditLog(store, auditEnvironment(io.env, io.cwd));
        // The rule shared with the dashboard and `audit export --user` (audit/subjects).
        const page = await log.list({ subject: `user:${user.id}`, limit: options.limit });
        if (options.json) {
          const sanctions = await store.gatewaySanctions.list(user.id);
          io.stdout.write(`${JSON.stringify({ user, events: page.events, nextCursor: page.nextCursor, sanctions }, null, 2)}\n`);
          return;
        }
        io.stdout.write(`user "${user.name}" (pseudonym ${user.id}): ${user.verified ? 'verified' : 'unverified'}, ${user.minor ? 'minor' : 'adult'}, ${user.disabledAt ? 'disabled' : 'active'}\n`);
        io.stdout.write(`events (latest ${page.events.length}; times in Beijing time, UTC+8):\n`);
        for (const e of page.events) {
          const p = e.payload;
          const what = e.type === 'gateway.request' || e.type === 'gateway.stream' ? `${String(p.endpoint ?? e.type)}\t${String(p.model ?? '-')}` : `${e.type}\t${e.actor}`;
          io.stdout.write(`  ${beijingTime(e.at)}\t${what}\t${e.outcome ?? '-'}\t${String(p.status ?? '-')}\t${e.risks.join(',') || '-'}\n`);
        }
        const sanctions = await store.gatewaySanctions.list(user.id);
        io.stdout.write(`sanctions (${sanctions.length}):\n`);
        for (const s of sanctions) io.stdout.write(`  ${describeSanction(s)}\n`);
      });
    });

  users
    .command('sanctions')
    .description('the warnings, limits and suspensions taken against the user (AI Measures Art. 14), newest first')
    .argument('<name>', 'account name')
    .action(async (name: string) => {
      const sanctions = await withStore(io, async (store) => store.gatewaySanctions.list((await userNamed(store, name)).id));
      if (sanctions.length === 0) io.stdout.write(`no sanctions against "${name}"\n`);
      for (const s of sanctions) io.stdout.write(`${describeSanction(s)}\n`);
    });

  users
    .command('lift')
    .description('lift the user\'s limits and suspensions and reset its count of blocked requests (recorded in the audit log)')
    .argument('<name>', 'account name')
    .action(async (name: string) => {
      const lifted = await withStore(io, async (store) => {
        const log = new AuditLog(store, auditEnvironment(io.env, io.cwd));
        const result = await liftUserSanctions(store, log, await userNamed(store, name), CLI_ACTOR);
        await log.flush();
        return result.lifted;
      });
      io.stdout.write(lifted.length === 0 ? `nothing in force against "${name}"; its count of blocked requests starts again\n` : `lifted ${lifted.map((s) => s.action).join(', ')} of "${name}"\n`);
    });
}
