/**
 * @module server/routes/eval-banks
 * The question banks of the security assessment for the dashboard: every stored bank with its
 * latest version and age (flagged when older than a month), and one bank's coverage against
 * the GB/T 45654 minimums. Read-only: banks are saved with `hegui eval bank save`.
 */
import type { Hono } from 'hono';
import { bankFreshness, bankIdPattern, checkItem } from '../../eval/bank.js';
import { coverageReport } from '../../eval/coverage.js';
import type { BankItem } from '../../eval/types.js';
import { InvalidInputError } from '../../errors.js';
import { requireOperator } from '../auth/sessions.js';
import type { AppDeps, AppEnv } from '../context.js';

export function mountEvalBankRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  const anyOperator = requireOperator(deps);

  app.get('/api/eval/banks', anyOperator, async (c) => {
    const now = deps.now?.() ?? new Date();
    const banks = await deps.store.evalBanks.list();
    return c.json({ banks: banks.map((b) => ({ ...b, ...bankFreshness(b.createdAt, now) })) });
  });

  app.get('/api/eval/banks/:id/coverage', anyOperator, async (c) => {
    const id = c.req.param('id');
    if (!bankIdPattern.test(id)) throw new InvalidInputError('E_BANK_ID', 'not a bank id');
    const stored = await deps.store.evalBanks.load(id);
    if (stored === undefined) return c.json({ error: { code: 'E_BANK_NOT_FOUND', message: `no stored bank "${id}"` } }, 404);
    const items: BankItem[] = [];
    for (const [i, raw] of stored.items.entries()) {
      const { item } = checkItem(raw, i + 1);
      if (item) items.push(item);
    }
    return c.json({ version: { ...stored.version, ...bankFreshness(stored.version.createdAt, deps.now?.() ?? new Date()) }, invalid: stored.items.length - items.length, coverage: coverageReport(items) });
  });
}
