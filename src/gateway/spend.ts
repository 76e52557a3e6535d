/**
 * @module gateway/spend
 * Money for virtual keys' spend budgets (issue 13, as LiteLLM and Portkey keep them): the
 * price table of the configuration (per model, per 1M input and output tokens, in a
 * currency), the cost of one request from the upstream's usage, and amounts as integer
 * micro-units (1 CNY = 1,000,000 micro-units), parsed and printed without floating point.
 *
 * A price of P per 1M tokens is P micro-units per token, so a request's cost in micro-units is
 * `(input × P_in + output × P_out) / 1M` with the prices in micro-units per 1M tokens,
 * computed in BigInt and rounded up: a request is never counted cheaper than it was, by at
 * most one micro-unit.
 */
import { InvalidInputError } from '../errors.js';
import type { GatewayConfig } from './config.js';

/** Micro-units in one unit of a currency. */
export const MICROS = 1_000_000;

/** The largest amount a budget may hold: a billion units, within a safe integer of micro-units. */
export const MAX_AMOUNT_UNITS = 1_000_000_000;

/** The price of one model, as the table found it. */
export interface ModelPrice {
  /** The table entry that matched: a name, `prefix*` or `*`. */
  pattern: string;
  currency: string;
  /** Micro-units per 1M input (prompt) tokens. */
  inputMicros: number;
  /** Micro-units per 1M output (completion) tokens. */
  outputMicros: number;
}

/** Tokens as the upstream reported them; any may be missing. */
export interface TokenUsage {
  input?: number | undefined;
  output?: number | undefined;
  total?: number | undefined;
}

/** A price per 1M tokens from the configuration (at most 6 decimals) in micro-units. */
function micros(units: number): number {
  return Math.round(units * MICROS);
}

/**
 * The configured prices (`pricing`): the exact name wins, then the longest `prefix*`, then `*`.
 *
 * @example
 * const table = new PriceTable({ currency: 'CNY', models: { 'deepseek-*': { input: 2, output: 8 } } });
 * table.find('deepseek-chat'); // { pattern: 'deepseek-*', currency: 'CNY', inputMicros: 2_000_000, outputMicros: 8_000_000 }
 */
export class PriceTable {
  readonly #exact = new Map<string, ModelPrice>();
  /** Longest prefix first. */
  readonly #prefixes: { prefix: string; price: ModelPrice }[] = [];
  readonly #any: ModelPrice | undefined;

  constructor(pricing: GatewayConfig['pricing']) {
    let any: ModelPrice | undefined;
    for (const [pattern, entry] of Object.entries(pricing.models)) {
      const price: ModelPrice = { pattern, currency: entry.currency ?? pricing.currency, inputMicros: micros(entry.input), outputMicros: micros(entry.output) };
      if (pattern === '*') any = price;
      else if (pattern.endsWith('*')) this.#prefixes.push({ prefix: pattern.slice(0, -1), price });
      else this.#exact.set(pattern, price);
    }
    this.#prefixes.sort((a, b) => b.prefix.length - a.prefix.length);
    this.#any = any;
  }

  /** The price of `model`, or undefined when the table has none (never a price of zero by default). */
  find(model: string): ModelPrice | undefined {
    return this.#exact.get(model) ?? this.#prefixes.find((p) => model.startsWith(p.prefix))?.price ?? this.#any;
  }
}

/**
 * What a request cost in micro-units, from its usage, rounded up; undefined when the usage
 * says nothing. Input and output are priced apart; when the upstream gave only the total, or
 * one part and the total, the missing part is the difference, and a total alone is priced at
 * the dearer of the two prices (never cheaper than it was).
 */
export function costMicros(price: ModelPrice, usage: TokenUsage): number | undefined {
  let { input, output } = usage;
  const total = usage.total;
  if (input === undefined && output === undefined) {
    if (total === undefined) return undefined;
    return ceilMillionths(BigInt(Math.round(total)) * BigInt(Math.max(price.inputMicros, price.outputMicros)));
  }
  if (total !== undefined) {
    if (input === undefined) input = Math.max(0, total - (output ?? 0));
    else if (output === undefined) output = Math.max(0, total - input);
  }
  const sum = BigInt(Math.round(input ?? 0)) * BigInt(price.inputMicros) + BigInt(Math.round(output ?? 0)) * BigInt(price.outputMicros);
  return ceilMillionths(sum);
}

function ceilMillionths(value: bigint): number {
  const million = BigInt(MICROS);
  const result = (value + million - 1n) / million;
  return result > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(result);
}

/**
 * An amount written in units (`100`, `0.5`, `12.345678`) as integer micro-units, read from its
 * digits (no floating point): at least one micro-unit, at most a billion units, at most 6
 * decimals.
 *
 * @throws InvalidInputError `code` with a message naming `what` for anything else: negative,
 *   zero, NaN, Infinity, exponents, more decimals, or larger.
 */
export function parseAmount(text: string, what: string, code: string): number {
  const match = /^(\d{1,10})(?:\.(\d{1,6}))?$/.exec(text.trim());
  const wanted = `${what} is an amount of money in units of its currency, more than 0 and at most ${MAX_AMOUNT_UNITS.toLocaleString('en')}, with at most 6 decimals (e.g. 100 or 0.5)`;
  if (!match) throw new InvalidInputError(code, `${wanted}; got "${text}"`);
  const units = Number(match[1]);
  const fraction = Number((match[2] ?? '').padEnd(6, '0'));
  const amount = units * MICROS + fraction;
  if (amount <= 0 || amount > MAX_AMOUNT_UNITS * MICROS) throw new InvalidInputError(code, `${wanted}; got "${text}"`);
  return amount;
}

/** Checks an amount of micro-units given in code (a budget): a positive safe integer within the largest amount. */
export function checkAmountMicros(amount: number, what: string, code: string): number {
  if (!Number.isSafeInteger(amount) || amount <= 0 || amount > MAX_AMOUNT_UNITS * MICROS) {
    throw new InvalidInputError(code, `${what} is a whole number of micro-units (1 unit = ${MICROS.toLocaleString('en')}), more than 0 and at most ${MAX_AMOUNT_UNITS} units; got ${String(amount)}`);
  }
  return amount;
}

/** Micro-units as a decimal amount in units, without trailing zeros: `12500000` → `12.5`. */
export function formatAmount(amount: number): string {
  const sign = amount < 0 ? '-' : '';
  const abs = Math.abs(Math.round(amount));
  const units = Math.floor(abs / MICROS);
  const fraction = String(abs % MICROS).padStart(6, '0').replace(/0+$/, '');
  return `${sign}${units}${fraction ? `.${fraction}` : ''}`;
}

/** An ISO 4217 currency code as given (`cny` → `CNY`). @throws InvalidInputError `code` otherwise. */
export function parseCurrency(text: string, code: string): string {
  const currency = text.trim().toUpperCase();
  if (!/^[A-Z]{3}$/.test(currency)) throw new InvalidInputError(code, `--currency is an ISO 4217 code of three letters, e.g. CNY or USD; got "${text}"`);
  return currency;
}
