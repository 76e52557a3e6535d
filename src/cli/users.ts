/**
 * @module cli/users
 * `hegui users add|list|disable`: the users of the OpenAI-compatible API and their keys. A key
 * is printed once, alone on the last line (so scripts can take it with `tail -n 1`); only its
 * SHA-256 is stored.
 */
import type { Command } from 'commander';
import { NotFoundError } from '../errors.js';
import { createApiUser } from '../gateway/index.js';
import { openStore, type Store } from '../store/index.js';
import type { CliIo } from './io.js';

async function withStore<T>(io: CliIo, work: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(io.env.HEGUI_DATABASE_URL);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

export function registerUsers(program: Command, io: CliIo): void {
  const users = program.command('users').description('manage the users of the OpenAI-compatible API and their API keys');

  users
    .command('add')
    .description('create a user and print its API key once, alone on the last line')
    .argument('<name>', 'account name (unique)')
    .option('--verified', 'the user\'s real identity has been verified (Deep Synthesis Provisions Art. 9)')
    .option('--minor', 'the user is a minor: the stricter minors\' policy applies (AI Measures Art. 10)')
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
    .description('disable a user: its keys stop working (within users.cacheSeconds on running servers)')
    .argument('<name>', 'account name')
    .action(async (name: string) => {
      await withStore(io, async (store) => {
        const user = await store.gatewayUsers.findByName(name);
        if (!user) throw new NotFoundError('E_GATEWAY_USER_NOT_FOUND', `no user named "${name}"; \`hegui users list\` shows them`);
        await store.gatewayUsers.disable(user.id);
      });
      io.stdout.write(`disabled user "${name}"\n`);
    });
}
