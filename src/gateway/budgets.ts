/**
 * @module gateway/budgets
 * A virtual key's budgets, and the rate-limit headers every answer carries:
 * - before the upstream is called, a key whose token budget or spend budget is used up is
 *   refused (429 `insufficient_quota`), and a key with a spend budget may call only what the
 *   gateway can price (a model in `pricing` in the budget's currency, on an endpoint that
 *   reports token usage): an unknown price is refused, never counted as free;
 * - once the request is settled (streams: at their end), the upstream's usage is counted:
 *   tokens, and the cost priced from them (./spend), added to the key in one statement in the
 *   store (`addUsage`), so replicas on one database never lose each other's counts, and to this
 *   replica's cached copy of the key, which is read again every `users.cacheSeconds`;
 * - OpenAI's `x-ratelimit-{limit,remaining,reset}-requests` from the request rates
 *   (`limits.user`, `limits.key`: the one the caller meets first), and
 *   `x-ratelimit-{limit,remaining}-tokens` for a key with a token budget.
 */
import type { Store } from '../store/index.js';
import { type Answered, setAnswerHeader } from './answer.js';
import type { Exchange } from './audit.js';
import type { GatewayConfig } from './config.js';
import { GatewayBudgetError, GatewayPriceUnknownError, GatewaySpendError } from './errors.js';
import type { CallerKey } from './identity.js';
import { costMicros, formatAmount, type ModelPrice, PriceTable } from './spend.js';
import { formatResetDuration } from './usage-state.js';

/** Endpoints whose answers report token usage, which a spend budget is counted from. */
const PRICED_ENDPOINTS = new Set(['chat.completions', 'completions', 'responses', 'embeddings']);

const tables = new WeakMap<GatewayConfig['pricing'], PriceTable>();
/** The price each admitted request of a key with a spend budget is counted at. */
const prices = new WeakMap<Exchange, ModelPrice>();

/** The price table of a configuration, built once. */
export function priceTable(pricing: GatewayConfig['pricing']): PriceTable {
  let table = tables.get(pricing);
  if (!table) {
    table = new PriceTable(pricing);
    tables.set(pricing, table);
  }
  return table;
}

/** True when the key has a budget its requests' usage counts against (tokens or money). */
export function hasKeyBudget(key: CallerKey | undefined): boolean {
  return key !== undefined && (key.tokenBudget !== null || key.spendBudget !== null);
}

/**
 * Refuses a request of a key whose budget is used up (429), or whose cost the gateway could
 * not count (403 `E_GATEWAY_PRICE_UNKNOWN`); notes the price it will be counted at.
 */
export function checkKeyBudgets(config: GatewayConfig, exchange: Exchange, model: string): void {
  const key = exchange.caller?.key;
  if (!key) return;
  if (key.tokenBudget !== null && key.tokensUsed >= key.tokenBudget) throw new GatewayBudgetError(key.tokenBudget, key.tokensUsed);
  if (key.spendBudget === null) return;
  const currency = key.spendCurrency ?? config.pricing.currency;
  if (key.spendUsed >= key.spendBudget) throw new GatewaySpendError(formatAmount(key.spendUsed), formatAmount(key.spendBudget), currency);
  if (!PRICED_ENDPOINTS.has(exchange.endpoint)) {
    throw new GatewayPriceUnknownError(`this API key has a spend budget, and the gateway counts cost from the token usage that ${exchange.endpoint} answers do not report; use a key without a spend budget for it`, null);
  }
  const price = priceTable(config.pricing).find(model);
  if (!price) {
    throw new GatewayPriceUnknownError(
      `the model "${model}" has no price in the gateway's configuration, and this API key has a spend budget, so its cost could not be counted; the operator adds one under pricing.models (e.g. "${model}": { input: 2, output: 8, currency: ${currency} }, per 1M tokens)`,
    );
  }
  if (price.currency !== currency) {
    throw new GatewayPriceUnknownError(`the model "${model}" is priced in ${price.currency} (pricing.models "${price.pattern}"), and this API key's spend budget is in ${currency}; the operator adds a price in ${currency} or gives the key a budget in ${price.currency}`);
  }
  prices.set(exchange, price);
}

/**
 * Counts what a settled request used against its key: the upstream's tokens against a token
 * budget, and their cost against a spend budget. A priced request whose answer reported no
 * usage (a stream cut before its usage chunk) cannot be priced: the server log says so.
 */
export function countKeyUsage(store: Store, exchange: Exchange): void {
  const key = exchange.caller?.key;
  if (!key || !hasKeyBudget(key)) return;
  exchange.onSettled(() => {
    const tokens = exchange.usageTokens !== undefined && exchange.usageTokens > 0 ? exchange.usageTokens : 0;
    const price = prices.get(exchange);
    let spendMicros = 0;
    if (price && key.spendBudget !== null) {
      const cost = costMicros(price, { input: exchange.usageInput, output: exchange.usageOutput, total: exchange.usageTokens });
      if (cost === undefined) {
        if (exchange.status === 200) console.error(`gateway: request ${exchange.id} to "${exchange.model ?? '?'}" ended without token usage from the upstream; its cost could not be counted against the key's spend budget`);
      } else spendMicros = cost;
    }
    if (tokens === 0 && spendMicros === 0) return;
    key.tokensUsed += tokens;
    key.spendUsed += spendMicros;
    store.gatewayUsers.addUsage(key.hash, { tokens, spendMicros }).catch((error: Error) => console.error(`gateway: the usage of a key could not be counted: ${error.message}`));
  });
}

/**
 * OpenAI's rate-limit headers: `-requests` from the request rate the caller meets first
 * (after this request when it was admitted), `-tokens` for a key with a token budget (what
 * remains after this answer, as far as this replica knows).
 */
export function rateLimitHeaders(exchange: Exchange, answer: Answered): void {
  const rate = exchange.requestRate;
  if (rate) {
    setAnswerHeader(answer, 'x-ratelimit-limit-requests', String(rate.limit));
    setAnswerHeader(answer, 'x-ratelimit-remaining-requests', String(rate.remaining));
    setAnswerHeader(answer, 'x-ratelimit-reset-requests', formatResetDuration(rate.resetMs));
  }
  const key = exchange.caller?.key;
  if (!key || key.tokenBudget === null) return;
  setAnswerHeader(answer, 'x-ratelimit-limit-tokens', String(key.tokenBudget));
  setAnswerHeader(answer, 'x-ratelimit-remaining-tokens', String(Math.max(0, key.tokenBudget - key.tokensUsed)));
}

/** Notes an upstream `usage` object on the exchange: total, input and output tokens (chat and Responses names). */
export function noteUsage(exchange: Exchange, usage: unknown): void {
  if (typeof usage !== 'object' || usage === null) return;
  const u = usage as Record<string, unknown>;
  const count = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined);
  const total = count(u.total_tokens);
  const input = count(u.prompt_tokens) ?? count(u.input_tokens);
  const output = count(u.completion_tokens) ?? count(u.output_tokens);
  if (total === undefined && input === undefined && output === undefined) return;
  exchange.usageTokens = total ?? (input ?? 0) + (output ?? 0);
  exchange.usageInput = input;
  exchange.usageOutput = output;
}
