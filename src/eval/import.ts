/**
 * @module eval/import
 * Importers for the public Chinese safety sets, into bank items with GB/T 45654 risk codes:
 *
 * | format | file | what an item is | category field |
 * |---|---|---|---|
 * | `safety-prompts` | Safety-Prompts (THU-COAI) JSON: `{ scenario: [{prompt, response, type}] }` | `prompt` | the scenario key (or `type`) |
 * | `safetybench` | SafetyBench (THU-COAI) JSON: `[{id, question, options, category}]`, or an object keyed by id | question and lettered options | `category` |
 * | `jade` | JADE-DB (Fudan Whitzard) CSV: `ID,问题,违规类型,违规子类` | `问题` | `违规子类` (with `违规类型` for "其他") |
 * | `cvalues` | CValues-Comparison (Alibaba) JSONL: `{prompt, pos_resp, neg_resp, pos_type, neg_type}` | `prompt` | none: give `risk` |
 * | `chisafetybench` | CHiSafetyBench (China Unicom) JSON: `[{category: "应拒答", infos: [{id, question, category}]}]` | `question` | `category` (TC260 risk names) |
 *
 * The sets' categories are not TC260's, except CHiSafetyBench's. Each importer maps the
 * categories it knows through a table written for hegui (below: review it before a filing);
 * a category it does not know, or one with no TC260 risk (e.g. "Ethics_And_Morality", the
 * instruction-attack scenarios), is a problem reported with its line, never a guess. `map`
 * adds or overrides entries (`category -> risk`, or `skip` to leave a category out knowingly).
 */
import { InvalidInputError } from '../errors.js';
import { isRiskCode, type RiskCode, risks } from '../safety/index.js';
import { BankFormatError, type BankProblem, detectLanguage, normalisePrompt } from './bank.js';
import { csvRecords } from './bank-io.js';
import type { BankItem, ItemKind } from './types.js';

export const importFormats = ['safety-prompts', 'safetybench', 'jade', 'cvalues', 'chisafetybench'] as const;
export type ImportFormat = (typeof importFormats)[number];

/** The names the importers give the sets in each item's `source`. */
export const formatSources: Record<ImportFormat, string> = {
  'safety-prompts': 'Safety-Prompts',
  safetybench: 'SafetyBench',
  jade: 'JADE-DB',
  cvalues: 'CValues',
  chisafetybench: 'CHiSafetyBench',
};

export type CategoryTarget = RiskCode | 'skip';

export interface ImportOptions {
  /** kind of every item (default: per format, see `defaultKinds`; CHiSafetyBench's own grouping wins) */
  readonly kind?: ItemKind;
  /** language of every item (default: zh-CN for JADE and CHiSafetyBench, detected otherwise) */
  readonly language?: string;
  /** risk of every item, for sets without categories (CValues) */
  readonly risk?: RiskCode;
  /** extra or overriding category mappings */
  readonly map?: Readonly<Record<string, CategoryTarget>>;
  /** source label (default: the set's name and the file name) */
  readonly source?: string;
  /** file name, for messages and the default source */
  readonly file?: string;
}

export interface ImportResult {
  readonly items: BankItem[];
  /** rows that could not become items: unknown categories, empty prompts, bad rows */
  readonly problems: BankProblem[];
  /** rows left out on purpose (`skip` in the mapping) */
  readonly skipped: number;
  /** every category seen: the risk it was mapped to (null: unmapped) and how many rows */
  readonly categories: Readonly<Record<string, { readonly risk: RiskCode | 'skip' | null; readonly rows: number }>>;
}

export const defaultKinds: Record<ImportFormat, ItemKind> = {
  'safety-prompts': 'generated-content',
  safetybench: 'generated-content',
  jade: 'generated-content',
  cvalues: 'generated-content',
  chisafetybench: 'should-refuse',
};

/** Safety-Prompts scenarios (typical_safety_scenarios.json). Instruction-attack scenarios name an attack, not a risk: unmapped. */
const SAFETY_PROMPTS: Record<string, CategoryTarget> = {
  Insult: 'A4.3',
  Unfairness_And_Discrimination: 'A2.9',
  Crimes_And_Illegal_Activities: 'A1.8',
  Physical_Harm: 'A4.1',
  Mental_Health: 'A4.1',
  Privacy_And_Property: 'A4.5',
};

/** SafetyBench's seven categories, in English and in its Chinese names. */
const SAFETYBENCH: Record<string, CategoryTarget> = {
  Offensiveness: 'A4.3',
  'Unfairness and Bias': 'A2.9',
  'Physical Health': 'A4.1',
  'Mental Health': 'A4.1',
  'Illegal Activities': 'A1.8',
  'Privacy and Property': 'A4.5',
  攻击冒犯: 'A4.3',
  偏见歧视: 'A2.9',
  身体健康: 'A4.1',
  心理健康: 'A4.1',
  违法活动: 'A1.8',
  隐私财产: 'A4.5',
};

/** JADE-DB sub-categories (违规子类). "其他" is decided by the type (违规类型), see `jadeOther`. */
const JADE: Record<string, CategoryTarget> = {
  诈骗: 'A1.8',
  虐待与贩卖人口: 'A1.8',
  非法走私: 'A1.8',
  非法侵入: 'A1.8',
  其他犯罪类型: 'A1.8',
  偷窃: 'A1.8',
  抢劫: 'A1.8',
  网络欺诈与犯罪: 'A1.8',
  故意伤害他人: 'A1.8',
  贩卖毒品: 'A1.8',
  贪污腐败: 'A1.8',
  赌博或开设赌场: 'A1.8',
  赌博与开设赌场: 'A1.8',
  非法持有武器: 'A1.8',
  非法伪造: 'A1.8',
  酒后驾车: 'A1.8',
  贩卖赃物: 'A1.8',
  宣扬暴力: 'A1.6',
  宣扬淫秽色情: 'A1.6',
  宣扬民族歧视: 'A2.1',
  非法获取私人信息: 'A4.6',
};

const jadeOther: Record<string, CategoryTarget> = { 违法犯罪: 'A1.8', 侵害权益: 'A4.7', 侵犯权益: 'A4.7', 歧视偏见: 'A2.9' };

/** CHiSafetyBench's top-level groups. */
const CHISAFETY_KINDS: Record<string, ItemKind> = { 应拒答: 'should-refuse', 非拒答: 'should-not-refuse', 应回答: 'should-not-refuse' };

/** TC260 risk names (the standard's Chinese wording) to codes, compared without punctuation. */
const byRiskName = new Map<string, RiskCode>(risks.map((r) => [normalisePrompt(r.name.zh), r.code]));

function riskByName(name: string): RiskCode | undefined {
  const key = normalisePrompt(name);
  const exact = byRiskName.get(key);
  if (exact) return exact;
  // The sets drop the standard's "内容" suffix at times (民族歧视 for 民族歧视内容).
  return byRiskName.get(`${key}内容`);
}

/** Parses `category=RISK` pairs (from the CLI's --map); `skip` leaves a category out knowingly. */
export function parseCategoryMap(pairs: readonly string[]): Record<string, CategoryTarget> {
  const map: Record<string, CategoryTarget> = {};
  for (const pair of pairs) {
    const at = pair.lastIndexOf('=');
    const category = pair.slice(0, at).trim();
    const target = pair.slice(at + 1).trim();
    if (at <= 0 || category === '') throw new InvalidInputError('E_EVAL_MAP', `--map needs category=RISK (or category=skip), not "${pair}"`);
    if (target !== 'skip' && !isRiskCode(target)) throw new InvalidInputError('E_EVAL_MAP', `--map ${pair}: "${target}" is not a GB/T 45654 risk code (A1.1 ... A5.2) or skip`);
    map[category] = target as CategoryTarget;
  }
  return map;
}

interface Row {
  line: number;
  id: string;
  prompt: string;
  category: string | undefined;
  /** the risk when the format decides it without the table (CHiSafetyBench names, JADE's "其他") */
  risk?: CategoryTarget;
  kind?: ItemKind;
}

function jsonOf(text: string, file: string): unknown {
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new BankFormatError(`${file} is not JSON: ${(error as Error).message}`);
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

function safetyPromptsRows(text: string, file: string): Row[] {
  const doc = jsonOf(text, file);
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new BankFormatError(`${file}: Safety-Prompts files are an object of scenarios, each a list of {prompt, response, type}`);
  const rows: Row[] = [];
  let n = 0;
  for (const [scenario, list] of Object.entries(doc)) {
    if (!Array.isArray(list)) throw new BankFormatError(`${file}: scenario "${scenario}" is not a list`);
    list.forEach((entry: unknown, k) => {
      n += 1;
      const o = (entry ?? {}) as Record<string, unknown>;
      rows.push({ line: n, id: `${scenario}-${k + 1}`, prompt: str(o.prompt) ?? '', category: str(o.type) ?? scenario });
    });
  }
  return rows;
}

function safetyBenchRows(text: string, file: string): Row[] {
  const doc = jsonOf(text, file);
  const entries: [string, unknown][] = Array.isArray(doc) ? doc.map((v, i) => [String(i), v]) : doc !== null && typeof doc === 'object' ? Object.entries(doc) : [];
  if (entries.length === 0 && !(Array.isArray(doc) || (doc !== null && typeof doc === 'object'))) throw new BankFormatError(`${file}: SafetyBench files are a list of {id, question, options, category}`);
  return entries.map(([key, v], i) => {
    const o = (v ?? {}) as Record<string, unknown>;
    const options = Array.isArray(o.options) ? o.options.map((x) => str(x) ?? '') : [];
    const question = str(o.question) ?? '';
    const prompt = options.length > 0 ? `${question}\n${options.map((opt, k) => `${String.fromCharCode(65 + k)}. ${opt}`).join('\n')}` : question;
    return { line: i + 1, id: `safetybench-${str(o.id) ?? key}`, prompt: question === '' ? '' : prompt, category: str(o.category) };
  });
}

function jadeRows(text: string, file: string): Row[] {
  const [header, ...body] = csvRecords(text);
  if (header === undefined) return [];
  const names = header.cells.map((c) => c.trim());
  const col = (n: string): number => names.indexOf(n);
  const [iId, iQ, iType, iSub] = [col('ID'), col('问题'), col('违规类型'), col('违规子类')];
  if (iQ < 0 || iSub < 0) throw new BankFormatError(`${file}: a JADE-DB CSV has the header ID,问题,违规类型,违规子类 (found: ${names.join(',')})`);
  return body.map(({ line, cells }) => {
    const sub = cells[iSub]?.trim();
    const type = iType >= 0 ? cells[iType]?.trim() : undefined;
    // Many JADE sub-categories are TC260's own risk names (地域歧视内容, 侵害他人隐私权 ...).
    const other = sub === '其他' ? (type === undefined ? undefined : jadeOther[type]) : sub === undefined ? undefined : riskByName(sub);
    return {
      line,
      id: `jade-${(iId >= 0 ? cells[iId]?.trim() : '') || line}`,
      prompt: cells[iQ] ?? '',
      category: sub === '其他' && type ? `${type}/其他` : sub,
      ...(other ? { risk: other } : {}),
    };
  });
}

function cvaluesRows(text: string, file: string): Row[] {
  const rows: Row[] = [];
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((line, i) => {
      if (line.trim() === '') return;
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(line) as Record<string, unknown>;
      } catch (error) {
        throw new BankFormatError(`${file} line ${i + 1}: not JSON (${(error as Error).message}); CValues-Comparison is JSONL of {prompt, pos_resp, neg_resp, pos_type, neg_type}`);
      }
      rows.push({ line: i + 1, id: `cvalues-${i + 1}`, prompt: str(o?.prompt) ?? '', category: undefined });
    });
  return rows;
}

function chiSafetyRows(text: string, file: string, kindGiven: boolean): Row[] {
  const doc = jsonOf(text, file);
  if (!Array.isArray(doc)) throw new BankFormatError(`${file}: CHiSafetyBench question files are a list of {category, infos: [{id, question, category}]}`);
  const rows: Row[] = [];
  let n = 0;
  for (const group of doc as Record<string, unknown>[]) {
    const top = str(group?.category) ?? '';
    const infos = Array.isArray(group?.infos) ? (group.infos as Record<string, unknown>[]) : [];
    const kind = CHISAFETY_KINDS[top];
    if (kind === undefined && !kindGiven) {
      // A group hegui does not know: one problem for the group, none of its items.
      rows.push({ line: n + 1, id: '', prompt: '', category: `__group:${top}` });
      n += infos.length;
      continue;
    }
    for (const info of infos) {
      n += 1;
      const category = str(info?.category);
      const risk = category === undefined ? undefined : riskByName(category);
      rows.push({ line: n, id: `chisafety-${kind ?? "group"}-${str(info?.id) ?? n}`, prompt: str(info?.question) ?? '', category, ...(risk ? { risk } : {}), ...(kind ? { kind } : {}) });
    }
  }
  return rows;
}

const tables: Record<ImportFormat, Record<string, CategoryTarget>> = {
  'safety-prompts': SAFETY_PROMPTS,
  safetybench: SAFETYBENCH,
  jade: JADE,
  cvalues: {},
  chisafetybench: {},
};

/** Imports `text` in one of the public sets' formats. Problems are returned, never thrown row by row. */
export function importBank(format: ImportFormat, text: string, options: ImportOptions = {}): ImportResult {
  const file = options.file ?? `${format} file`;
  const rows =
    format === 'safety-prompts'
      ? safetyPromptsRows(text, file)
      : format === 'safetybench'
        ? safetyBenchRows(text, file)
        : format === 'jade'
          ? jadeRows(text, file)
          : format === 'cvalues'
            ? cvaluesRows(text, file)
            : chiSafetyRows(text, file, options.kind !== undefined);
  const table = { ...tables[format], ...(options.map ?? {}) };
  const source = options.source ?? `${formatSources[format]}${options.file ? `:${options.file.split('/').pop()}` : ''}`;
  const items: BankItem[] = [];
  const problems: BankProblem[] = [];
  const categories: Record<string, { risk: RiskCode | 'skip' | null; rows: number }> = {};
  let skipped = 0;
  for (const row of rows) {
    if (row.category?.startsWith('__group:')) {
      problems.push({ line: row.line, field: 'category', code: 'E_BANK_GROUP_UNKNOWN', message: `CHiSafetyBench group "${row.category.slice(8)}" is neither 应拒答 nor 非拒答: its items were not imported (give --kind to import them)` });
      continue;
    }
    const label = row.category ?? '(none)';
    const risk: CategoryTarget | undefined = options.risk ?? (row.category !== undefined ? (options.map?.[row.category] ?? row.risk ?? table[row.category]) : undefined);
    const entry = (categories[label] ??= { risk: risk ?? null, rows: 0 });
    entry.rows += 1;
    if (risk === 'skip') {
      skipped += 1;
      continue;
    }
    const kind = options.kind ?? row.kind ?? defaultKinds[format];
    if (row.prompt.trim() === '') {
      problems.push({ line: row.line, field: 'prompt', code: 'E_BANK_PROMPT_EMPTY', message: 'the row has no question' });
      continue;
    }
    if (risk === undefined && kind !== 'should-not-refuse') {
      problems.push(
        row.category === undefined
          ? { line: row.line, field: 'risk', code: 'E_BANK_RISK_MISSING', message: `${formatSources[format]} rows carry no category: give the risk of the file (--risk A1.x) or split it by risk` }
          : { line: row.line, field: 'category', code: 'E_BANK_CATEGORY_UNMAPPED', message: `category "${row.category}" has no GB/T 45654 risk in hegui's ${formatSources[format]} table: map it (--map "${row.category}=A1.8") or leave it out (--map "${row.category}=skip")` },
      );
      continue;
    }
    if (row.prompt.length > 20_000) {
      problems.push({ line: row.line, field: 'prompt', code: 'E_BANK_FIELD', message: 'the question is longer than 20,000 characters' });
      continue;
    }
    items.push({
      id: row.id,
      prompt: row.prompt.trim(),
      risk: risk ?? null,
      kind,
      language: options.language ?? (format === 'jade' || format === 'chisafetybench' ? 'zh-CN' : detectLanguage(row.prompt)),
      source,
    });
  }
  return { items, problems, skipped, categories };
}
