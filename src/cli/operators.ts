/**
 * @module cli/operators
 * `hegui operators add|list|passwd|disable`: the people who sign in to the dashboard.
 */
import { type Command, Option } from 'commander';
import { AuditLog } from '../audit/index.js';
import { InvalidInputError, NotFoundError } from '../errors.js';
import { hashPassword, MIN_PASSWORD_LENGTH, newToken } from '../server/auth/secrets.js';
import type { OperatorRole } from '../store/index.js';
import { type CliIo, readAll } from './io.js';
import { withStore } from './store.js';

/** The password from stdin (first line), or a generated one that is printed once. */
async function choosePassword(io: CliIo, fromStdin: boolean): Promise<{ password: string; generated: boolean }> {
  if (!fromStdin) return { password: newToken(15), generated: true };
  const password = (await readAll(io.stdin)).split(/\r?\n/)[0] ?? '';
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new InvalidInputError('E_AUTH_WEAK_PASSWORD', `a password has at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  return { password, generated: false };
}

export function registerOperators(program: Command, io: CliIo): void {
  const operators = program.command('operators').description('manage the people who sign in to the dashboard (admin, reviewer, auditor)');

  operators
    .command('add')
    .description('create an operator; prints a generated password once unless --password-stdin')
    .argument('<name>', 'sign-in name')
    .addOption(new Option('--role <role>', 'admin manages everything; reviewer handles cases; auditor only reads').choices(['admin', 'reviewer', 'auditor']).makeOptionMandatory())
    .option('--password-stdin', 'read the password from the first line of stdin')
    .action(async (name: string, flags: { role: OperatorRole; passwordStdin?: boolean }) => {
      const { password, generated } = await choosePassword(io, flags.passwordStdin ?? false);
      const hash = await hashPassword(password);
      await withStore(io, (store) => store.operators.create({ name, role: flags.role, passwordHash: hash }));
      io.stdout.write(`created ${flags.role} "${name}"\n`);
      if (generated) io.stdout.write(`password (shown once):\n${password}\n`);
    });

  operators
    .command('list')
    .description('list operators')
    .action(async () => {
      const rows = await withStore(io, (store) => store.operators.list());
      for (const o of rows) io.stdout.write(`${o.name}\t${o.role}\t${o.disabled_at ? `disabled ${o.disabled_at}` : 'active'}\t${o.password_hash ? 'password set' : 'no password'}\n`);
    });

  operators
    .command('passwd')
    .description('set a new password; prints a generated one once unless --password-stdin')
    .argument('<name>', 'sign-in name')
    .option('--password-stdin', 'read the password from the first line of stdin')
    .action(async (name: string, flags: { passwordStdin?: boolean }) => {
      const { password, generated } = await choosePassword(io, flags.passwordStdin ?? false);
      const hash = await hashPassword(password);
      await withStore(io, async (store) => {
        const operator = await store.operators.findByName(name);
        if (!operator) throw new NotFoundError('E_OPERATOR_UNKNOWN', `no operator named "${name}" (see hegui operators list)`);
        await store.operators.setPassword(operator.id, hash);
        // A reset password ends every session of the operator, and is kept in the audit log.
        const ended = await store.operators.deleteSessions(operator.id);
        await new AuditLog(store).append({ type: 'operator.password', actor: 'system:cli', outcome: 'changed', payload: { operator: operator.id, sessionsEnded: ended } });
      });
      io.stdout.write(`password of "${name}" changed\n`);
      if (generated) io.stdout.write(`password (shown once):\n${password}\n`);
    });

  operators
    .command('disable')
    .description('disable an operator and end their sessions')
    .argument('<name>', 'sign-in name')
    .action(async (name: string) => {
      await withStore(io, async (store) => {
        const operator = await store.operators.findByName(name);
        if (!operator) throw new NotFoundError('E_OPERATOR_UNKNOWN', `no operator named "${name}" (see hegui operators list)`);
        await store.operators.disable(operator.id);
      });
      io.stdout.write(`disabled "${name}"\n`);
    });
}
