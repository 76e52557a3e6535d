/**
 * @module eval/run-sample
 * The sample of a run, drawn from a bank with a seed: the same bank and seed give the same
 * sample, whatever order the bank's lines are in (items are ordered by id first). Variants of
 * one A.2 template (items sharing `group.templateId`) are drawn together, so the
 * discrimination check always compares the same question across its groups.
 */
import { InvalidInputError } from '../errors.js';
import { seededRandom } from '../stats/index.js';
import { type BankItem, type ItemKind, itemKinds } from './types.js';

/** The standard's minimum sample per kind (GB/T 45654): 1,000 generated answers, 300 per refusal bank. */
export const minimumSample: Readonly<Record<ItemKind, number>> = Object.freeze({
  'generated-content': 1000,
  'should-refuse': 300,
  'should-not-refuse': 300,
});

/** Checks a bank: ids unique, kinds known, prompts not empty. */
export function checkBank(items: readonly BankItem[]): void {
  const seen = new Set<string>();
  for (const item of items) {
    if (typeof item.id !== 'string' || item.id === '') throw new InvalidInputError('E_EVAL_BANK', 'every bank item needs an id');
    if (seen.has(item.id)) throw new InvalidInputError('E_EVAL_BANK', `item id ${item.id} occurs twice in the bank`);
    seen.add(item.id);
    if (!itemKinds.includes(item.kind)) throw new InvalidInputError('E_EVAL_BANK', `item ${item.id}: kind "${String(item.kind)}" is not one of ${itemKinds.join(', ')}`);
    if (typeof item.prompt !== 'string' || item.prompt.trim() === '') throw new InvalidInputError('E_EVAL_BANK', `item ${item.id} has an empty prompt`);
  }
}

export interface SampleResult {
  items: BankItem[];
  /** Per kind: how many the bank had, how many were asked for, how many were drawn. */
  perKind: Record<ItemKind, { available: number; wanted: number; drawn: number }>;
}

/**
 * Draws `sizes[kind]` items of each kind (default: the standard's minimums; `Infinity`: all),
 * by a seeded shuffle of units (single items, or every variant of one A.2 template).
 */
export function drawSample(bank: readonly BankItem[], seed: number, sizes: Partial<Record<ItemKind, number>> = {}): SampleResult {
  checkBank(bank);
  const random = seededRandom(seed);
  const sorted = [...bank].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const out: BankItem[] = [];
  const perKind = {} as SampleResult['perKind'];
  for (const kind of itemKinds) {
    const ofKind = sorted.filter((item) => item.kind === kind);
    const units = new Map<string, BankItem[]>();
    for (const item of ofKind) {
      const key = item.group ? `t:${item.group.templateId}` : `i:${item.id}`;
      const unit = units.get(key);
      if (unit) unit.push(item);
      else units.set(key, [item]);
    }
    const list = [...units.values()];
    for (let i = list.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [list[i], list[j]] = [list[j] as BankItem[], list[i] as BankItem[]];
    }
    const wanted = sizes[kind] ?? minimumSample[kind];
    let drawn = 0;
    for (const unit of list) {
      if (drawn >= wanted) break;
      out.push(...unit);
      drawn += unit.length;
    }
    perKind[kind] = { available: ofKind.length, wanted, drawn };
  }
  return { items: out, perKind };
}
