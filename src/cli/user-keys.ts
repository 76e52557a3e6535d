/**
 * @module cli/user-keys
 * `hegui users keys|key-add|key-revoke`: a user's API keys as virtual keys, each with an
 * optional name, expiry, model allow-list, token budget and spend budget (issue 13; money in
 * integer micro-units, priced by the gateway's `pricing` table). A new key is printed
 * once, alone on the last line; only its SHA-256 is stored, and keys are told apart by the
 * prefix shown here.
 */
import type { Command } from 'commander';
import { InvalidInputError, NotFoundError } from '../errors.js';
import { addApiKey } from '../gateway/identity.js';
import { formatAmount, parseAmount, parseCurrency } from '../gateway/spend.js';
import type { ApiKeyInfo, GatewayUser, KeyLimits, Store } from '../store/index.js';
import type { CliIo } from './io.js';
import { withStore } from './store.js';

/** The gateway user of that name, or a typed error that says how to list them (every `hegui users` command). */
export async function userNamed(store: Store, name: string): Promise<GatewayUser> {
  const user = await store.gatewayUsers.findByName(name);
  if (!user) throw new NotFoundError('E_GATEWAY_USER_NOT_FOUND', `no user named "${name}"; \`hegui users list\` shows them`);
  return user;
}

/** `2027-01-01`, `2027-01-01T08:00:00Z` or a span from now: `30d`, `12h`. */
export function parseExpiry(value: string, now: number = Date.now()): string {
  const span = /^(\d+)([dh])$/.exec(value);
  if (span) {
    const ms = Number(span[1]) * (span[2] === 'd' ? 86_400_000 : 3_600_000);
    if (ms <= 0) throw new InvalidInputError('E_CLI_EXPIRES', '--expires must lie in the future');
    return new Date(now + ms).toISOString();
  }
  // A bare date means the end of that day in Beijing (the day a person reads on the key's paper).
  const date = /^\d{4}-\d{2}-\d{2}$/.test(value) ? Date.parse(`${value}T23:59:59+08:00`) : Date.parse(value);
  if (Number.isNaN(date)) throw new InvalidInputError('E_CLI_EXPIRES', `--expires ${value}: give a date (2027-01-01), a time (2027-01-01T08:00:00Z) or a span (30d, 12h)`);
  if (date <= now) throw new InvalidInputError('E_CLI_EXPIRES', `--expires ${value} has already passed`);
  return new Date(date).toISOString();
}

function parseModels(value: string): string[] {
  const models = value.split(',').map((m) => m.trim()).filter(Boolean);
  if (models.length === 0) throw new InvalidInputError('E_CLI_MODELS', '--models lists model names or prefix* patterns, comma-separated');
  return models;
}

function parseBudget(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) throw new InvalidInputError('E_CLI_BUDGET', '--token-budget is a whole number of tokens, at least 1');
  return Number(value);
}

/** `--max-spend`: an amount in units of the currency, kept as micro-units (no floating point). */
function parseMaxSpend(value: string): number {
  return parseAmount(value, '--max-spend', 'E_CLI_MAX_SPEND');
}

function describe(key: ApiKeyInfo, now: number): Record<string, unknown> {
  const state = key.revokedAt ? 'revoked' : key.expiresAt && Date.parse(key.expiresAt) <= now ? 'expired' : 'active';
  // Amounts in units as exact decimal strings (`12.5`), and the micro-units they come from.
  const spend = key.spendBudget === null ? null : { currency: key.spendCurrency, maxSpend: formatAmount(key.spendBudget), spent: formatAmount(key.spendUsed), maxSpendMicros: key.spendBudget, spentMicros: key.spendUsed };
  return { prefix: key.prefix, name: key.name, state, createdAt: key.createdAt, expiresAt: key.expiresAt, models: key.models, tokenBudget: key.tokenBudget, tokensUsed: key.tokensUsed, spend };
}

export function registerKeyCommands(users: Command, io: CliIo): void {
  users
    .command('keys')
    .description('list a user\'s API keys: prefix, name, state, expiry, models, token and spend budgets and use')
    .argument('<name>', 'account name')
    .option('--json', 'print JSON')
    .action(async (name: string, flags: { json?: boolean }) => {
      const now = Date.now();
      const keys = await withStore(io, async (store) => (await store.gatewayUsers.listKeys((await userNamed(store, name)).id)).map((k) => describe(k, now)));
      if (flags.json) {
        io.stdout.write(`${JSON.stringify(keys, null, 2)}\n`);
        return;
      }
      if (keys.length === 0) io.stdout.write(`"${name}" has no API keys\n`);
      for (const k of keys) {
        const budget = k.tokenBudget === null ? 'no token budget' : `${String(k.tokensUsed)}/${String(k.tokenBudget)} tokens`;
        const s = k.spend as { currency: string; maxSpend: string; spent: string } | null;
        const spend = s === null ? 'no spend budget' : `${s.spent}/${s.maxSpend} ${s.currency} spent`;
        io.stdout.write(`${[k.prefix, k.state, k.name ?? '-', k.expiresAt ? `expires ${String(k.expiresAt)}` : 'no expiry', k.models ? `models ${(k.models as string[]).join(',')}` : 'any model', budget, spend].join('\t')}\n`);
      }
    });

  users
    .command('key-add')
    .description('add an API key to a user, optionally limited (a virtual key); prints it once, alone on the last line')
    .argument('<name>', 'account name')
    .option('--label <label>', 'what the key is for')
    .option('--expires <when>', 'when it stops working: a date (end of that day, Beijing time), a time, or a span (30d, 12h)')
    .option('--models <list>', 'the only models it may call: names and prefix* patterns, comma-separated')
    .option('--token-budget <n>', 'tokens it may use in all (the upstream\'s usage counts); then 429 insufficient_quota', parseBudget)
    .option('--max-spend <amount>', 'money it may spend in all, e.g. 100 or 0.5 (priced from the upstream\'s usage by the gateway\'s pricing table); then 429 E_GATEWAY_SPEND_EXHAUSTED', parseMaxSpend)
    .option('--currency <code>', 'currency of --max-spend (ISO 4217)', 'CNY')
    .action(async (name: string, flags: { label?: string; expires?: string; models?: string; tokenBudget?: number; maxSpend?: number; currency: string }) => {
      const currency = parseCurrency(flags.currency, 'E_CLI_CURRENCY');
      const limits: KeyLimits = {
        ...(flags.label ? { name: flags.label } : {}),
        ...(flags.expires ? { expiresAt: parseExpiry(flags.expires) } : {}),
        ...(flags.models ? { models: parseModels(flags.models) } : {}),
        ...(flags.tokenBudget ? { tokenBudget: flags.tokenBudget } : {}),
        ...(flags.maxSpend !== undefined ? { spend: { budgetMicros: flags.maxSpend, currency } } : {}),
      };
      const { key, prefix } = await withStore(io, async (store) => addApiKey(store, (await userNamed(store, name)).id, limits));
      io.stdout.write(`added key ${prefix} to "${name}"; it is shown this once:\n${key}\n`);
    });

  users
    .command('key-revoke')
    .description('revoke one of a user\'s API keys by its prefix (see `hegui users keys`); it stops working within users.cacheSeconds')
    .argument('<name>', 'account name')
    .argument('<prefix>', 'the key\'s prefix, e.g. hg-Ab3dE')
    .action(async (name: string, prefix: string) => {
      await withStore(io, async (store) => {
        const keys = (await store.gatewayUsers.findKeyByPrefix((await userNamed(store, name)).id, prefix)).filter((k) => k.revokedAt === null);
        if (keys.length === 0) throw new NotFoundError('E_GATEWAY_KEY_NOT_FOUND', `"${name}" has no active key with the prefix ${prefix}; \`hegui users keys ${name}\` lists them`);
        if (keys.length > 1) throw new InvalidInputError('E_GATEWAY_KEY_AMBIGUOUS', `"${name}" has ${keys.length} active keys with the prefix ${prefix}; revoke them all with \`hegui users disable\` or add a new key and disable the user`);
        await store.gatewayUsers.revokeKey((keys[0] as ApiKeyInfo).keyHash);
      });
      io.stdout.write(`revoked key ${prefix} of "${name}"\n`);
    });
}
