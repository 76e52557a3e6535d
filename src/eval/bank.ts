/**
 * @module eval/bank
 * Question banks of the GB/T 45654 security assessment: a bank is a named list of items
 * (`BankItem`, the contract in `types.ts`), each with its risk code, kind, language and source.
 * This module validates items, gives them stable ids (a digest of the normalised prompt when the
 * source has none), finds duplicates, and says when a bank is older than a month (the standard
 * asks for monthly updates).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { HeguiError, InvalidInputError } from '../errors.js';
import { isRiskCode, type RiskCode } from '../safety/index.js';
import { type BankItem, type ItemKind, itemKinds } from './types.js';

/** A bank as a whole: what `eval bank` files hold and what the store keeps per version. */
export interface Bank {
  /** slug: letters, digits, `-`, `_`, `.` */
  readonly id: string;
  readonly items: readonly BankItem[];
}

/** Something wrong with one row of an input, by line (or row) and field. */
export interface BankProblem {
  /** 1-based line of a JSONL/CSV file, row of a sheet, or index + 1 of a JSON array */
  readonly line: number;
  readonly field?: string;
  /** stable code: E_BANK_... */
  readonly code: string;
  readonly message: string;
}

/** Input that cannot become a bank: every problem is listed, nothing is half-read. */
export class BankProblemsError extends InvalidInputError {
  readonly problems: readonly BankProblem[];
  constructor(source: string, problems: readonly BankProblem[]) {
    const shown = problems.slice(0, 20).map((p) => `line ${p.line}${p.field ? ` (${p.field})` : ''}: ${p.message} [${p.code}]`);
    const more = problems.length > 20 ? `\n  ... and ${problems.length - 20} more` : '';
    super('E_BANK_INVALID', `${source}: ${problems.length} problem(s):\n  ${shown.join('\n  ')}${more}`);
    this.problems = problems;
  }
}

export class BankFormatError extends InvalidInputError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_BANK_FORMAT', message, options);
  }
}

export class BankNotFoundError extends HeguiError {
  constructor(bankId: string, version?: number) {
    super('E_BANK_NOT_FOUND', `no stored bank "${bankId}"${version === undefined ? '' : ` at version ${version}`} (see \`hegui eval bank list\`)`, { exitCode: 2 });
  }
}

export const bankIdPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** BCP 47 tags the banks use: a primary subtag and optional region or script. */
const languageTag = z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'a BCP 47 language tag such as zh-CN or en');

/** The longest prompt accepted: far above any real question, bounded so a bad file cannot exhaust memory. */
export const MAX_PROMPT_CHARS = 20_000;

export const bankItemSchema = z.strictObject({
  id: z.string().min(1).max(200),
  prompt: z.string().trim().min(1, 'the prompt is empty').max(MAX_PROMPT_CHARS),
  risk: z
    .string()
    .nullable()
    .refine((v) => v === null || isRiskCode(v), { message: 'not a GB/T 45654 risk code (A1.1 ... A5.2)' }),
  kind: z.enum(itemKinds),
  language: languageTag,
  source: z.string().min(1).max(500),
  group: z.strictObject({ dimension: z.string().min(1), value: z.string().min(1), templateId: z.string().min(1) }).optional(),
});

/**
 * The prompt as compared for duplicates: Unicode NFKC (full-width forms fold to ASCII), lower
 * case, with whitespace and punctuation removed, so "如何 制作？" and "如何制作?" are one question.
 */
export function normalisePrompt(prompt: string): string {
  return prompt.normalize('NFKC').toLowerCase().replace(/[\s\p{P}\p{S}]+/gu, '');
}

/**
 * A stable id from the normalised prompt: `p-` and 16 hex digits of its SHA-256. With `kind`,
 * the kind is hashed too, so one question asked as two kinds gets two ids.
 */
export function promptDigest(prompt: string, kind?: string): string {
  return `p-${createHash('sha256').update(kind === undefined ? normalisePrompt(prompt) : `${kind}\u0000${normalisePrompt(prompt)}`).digest('hex').slice(0, 16)}`;
}

/** Checks one raw item; returns the item or the problems it has (with `line`). */
export function checkItem(raw: unknown, line: number): { item?: BankItem; problems: BankProblem[] } {
  const result = bankItemSchema.safeParse(raw);
  if (result.success) {
    const v = result.data;
    const item: BankItem = {
      id: v.id,
      prompt: v.prompt,
      risk: v.risk as RiskCode | null,
      kind: v.kind,
      language: v.language,
      source: v.source,
      ...(v.group ? { group: v.group } : {}),
    };
    const problems: BankProblem[] = [];
    if (item.risk === null && item.kind !== 'should-not-refuse') {
      problems.push({ line, field: 'risk', code: 'E_BANK_RISK_MISSING', message: `a ${item.kind} item needs a risk code; only should-not-refuse items may have none` });
    }
    return problems.length > 0 ? { problems } : { item, problems };
  }
  return {
    problems: result.error.issues.map((issue) => ({
      line,
      field: issue.path.join('.') || undefined,
      code: issue.path[0] === 'risk' ? 'E_BANK_RISK_UNKNOWN' : issue.path[0] === 'kind' ? 'E_BANK_KIND_UNKNOWN' : 'E_BANK_FIELD',
      message: issue.path[0] === 'kind' ? `kind must be one of ${itemKinds.join(', ')}` : issue.message,
    })),
  };
}

export interface Deduplicated {
  readonly items: BankItem[];
  /** items left out, each with the id of the item it repeats */
  readonly duplicates: { readonly item: BankItem; readonly keeps: string }[];
}

/**
 * Removes items whose normalised prompt repeats an earlier one of the same kind (the first
 * is kept). The same question may sit in two kinds on purpose (e.g. a discrimination template
 * asked as generated content and as should-refuse); across kinds nothing is removed.
 */
export function deduplicate(items: readonly BankItem[]): Deduplicated {
  const seen = new Map<string, string>();
  const kept: BankItem[] = [];
  const duplicates: { item: BankItem; keeps: string }[] = [];
  for (const item of items) {
    const key = `${item.kind}\u0000${normalisePrompt(item.prompt)}`;
    const first = seen.get(key);
    if (first !== undefined) duplicates.push({ item, keeps: first });
    else {
      seen.set(key, item.id);
      kept.push(item);
    }
  }
  return { items: kept, duplicates };
}

/** Items whose ids repeat within a bank: ids must be unique so a run's outcomes can refer to them. */
export function repeatedIds(items: readonly BankItem[]): string[] {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const item of items) {
    if (seen.has(item.id)) repeated.add(item.id);
    seen.add(item.id);
  }
  return [...repeated];
}

/**
 * Builds a bank, refusing one whose ids repeat. Duplicated prompts are removed (and returned)
 * when `dedupe` is on, the default.
 */
export function makeBank(id: string, items: readonly BankItem[], options: { dedupe?: boolean } = {}): { bank: Bank; duplicates: Deduplicated['duplicates'] } {
  if (!bankIdPattern.test(id)) throw new InvalidInputError('E_BANK_ID', `bank id "${id}" must be 1-100 letters, digits, ".", "_" or "-", starting with a letter or digit`);
  const { items: kept, duplicates } = options.dedupe === false ? { items: [...items], duplicates: [] } : deduplicate(items);
  const repeated = repeatedIds(kept);
  if (repeated.length > 0) {
    throw new BankProblemsError(`bank ${id}`, repeated.slice(0, 50).map((rid) => ({ line: 0, field: 'id', code: 'E_BANK_ID_REPEATED', message: `id "${rid}" is used by more than one item` })));
  }
  return { bank: { id, items: kept }, duplicates };
}

/** Counts per kind, and per kind and risk (`none` for items without a risk). */
export interface BankStats {
  readonly items: number;
  readonly byKind: Readonly<Record<ItemKind, number>>;
  readonly byKindAndRisk: Readonly<Record<ItemKind, Readonly<Record<string, number>>>>;
  readonly byLanguage: Readonly<Record<string, number>>;
  readonly bySource: Readonly<Record<string, number>>;
}

export function bankStats(items: readonly BankItem[]): BankStats {
  const byKind = Object.fromEntries(itemKinds.map((k) => [k, 0])) as Record<ItemKind, number>;
  const byKindAndRisk = Object.fromEntries(itemKinds.map((k) => [k, {}])) as Record<ItemKind, Record<string, number>>;
  const byLanguage: Record<string, number> = {};
  const bySource: Record<string, number> = {};
  for (const item of items) {
    byKind[item.kind] += 1;
    const risk = item.risk ?? 'none';
    byKindAndRisk[item.kind][risk] = (byKindAndRisk[item.kind][risk] ?? 0) + 1;
    byLanguage[item.language] = (byLanguage[item.language] ?? 0) + 1;
    bySource[item.source] = (bySource[item.source] ?? 0) + 1;
  }
  return { items: items.length, byKind, byKindAndRisk, byLanguage, bySource };
}

/** GB/T 45654 asks for the banks to be updated monthly: a bank older than this is flagged. */
export const BANK_MAX_AGE_DAYS = 30;

export interface Freshness {
  readonly ageDays: number;
  readonly stale: boolean;
  /** the reminder to show, when stale */
  readonly reminder?: { readonly zh: string; readonly en: string };
}

/** How old a bank version is on `now`, and the reminder when it is older than a month. */
export function bankFreshness(createdAt: string, now: Date = new Date()): Freshness {
  const created = Date.parse(createdAt);
  if (Number.isNaN(created)) throw new InvalidInputError('E_BANK_DATE', `not an ISO 8601 time: ${createdAt}`);
  const ageDays = Math.floor((now.getTime() - created) / 86_400_000);
  const stale = ageDays > BANK_MAX_AGE_DAYS;
  return stale
    ? {
        ageDays,
        stale,
        reminder: {
          zh: `题库已 ${ageDays} 天未更新：GB/T 45654 要求按月更新测试题库。`,
          en: `the bank has not been updated for ${ageDays} days: GB/T 45654 asks for the test banks to be updated monthly`,
        },
      }
    : { ageDays, stale };
}

/** A language tag for a prompt with none given: zh-CN when it has CJK ideographs, en otherwise. */
export function detectLanguage(prompt: string): string {
  return /\p{Script=Han}/u.test(prompt) ? 'zh-CN' : 'en';
}
