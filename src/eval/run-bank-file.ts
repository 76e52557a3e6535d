/**
 * @module eval/run-bank-file
 * Reads a bank as JSONL, one `BankItem` object a line, for `hegui eval run --bank FILE`. (The
 * bank store and its importers are the bank module's; this is the runner's plain entry.)
 */
import { InvalidInputError } from '../errors.js';
import { isRiskCode, type RiskCode } from '../safety/index.js';
import { type BankItem, type ItemKind, itemKinds } from './types.js';

function field(line: number, value: unknown, name: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new InvalidInputError('E_EVAL_BANK', `bank line ${line}: "${name}" must be a non-empty string`);
  return value;
}

export function parseBankJsonl(text: string, source = 'bank'): BankItem[] {
  const items: BankItem[] = [];
  for (const [index, raw] of text.split('\n').entries()) {
    const line = index + 1;
    if (raw.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (cause) {
      throw new InvalidInputError('E_EVAL_BANK', `bank line ${line} is not JSON: ${(cause as Error).message}`, { cause });
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidInputError('E_EVAL_BANK', `bank line ${line} is not a JSON object`);
    const o = value as Record<string, unknown>;
    const kind = field(line, o.kind, 'kind');
    if (!(itemKinds as readonly string[]).includes(kind)) throw new InvalidInputError('E_EVAL_BANK', `bank line ${line}: kind "${kind}" is not one of ${itemKinds.join(', ')}`);
    let risk: RiskCode | null = null;
    if (o.risk !== null && o.risk !== undefined) {
      const code = field(line, o.risk, 'risk');
      if (!isRiskCode(code)) throw new InvalidInputError('E_EVAL_BANK', `bank line ${line}: "${code}" is not a GB/T 45654 risk code (A1.1 ... A5.2)`);
      risk = code;
    }
    let group: BankItem['group'];
    if (o.group !== undefined && o.group !== null) {
      const g = o.group as Record<string, unknown>;
      group = { dimension: field(line, g.dimension, 'group.dimension'), value: field(line, g.value, 'group.value'), templateId: field(line, g.templateId, 'group.templateId') };
    }
    items.push({
      id: field(line, o.id, 'id'),
      prompt: field(line, o.prompt, 'prompt'),
      risk,
      kind: kind as ItemKind,
      language: typeof o.language === 'string' && o.language !== '' ? o.language : 'zh-CN',
      source: typeof o.source === 'string' && o.source !== '' ? o.source : source,
      ...(group ? { group } : {}),
    });
  }
  return items;
}
