/**
 * @module rules/condition
 * Evaluating and explaining the conditions that decide whether a duty binds a service.
 *
 * Evaluation is three-valued: a condition over a fact the profile leaves unknown is
 * `unknown`, never false. `all` is no when any part is no, `any` is yes when any part is yes,
 * and `not` keeps unknown unknown. The engine treats unknown as "applies" (the safe side) and
 * uses {@link decidingAnswers} to say which answer would lift the duty.
 */
import { profileFieldsByPath, valueAt } from './profile-fields.js';
import type { ServiceProfile } from './profile.js';
import type { Condition } from './schema.js';

export type Truth = 'yes' | 'no' | 'unknown';

/** One node of an evaluated condition: what was tested, the answer found, the result. */
export interface Trace {
  test: string;
  result: Truth;
  /** For a test on one field: the field and the profile's answer (`unknown` when not given). */
  field?: string;
  answer?: unknown;
  parts?: Trace[];
}

type Leaf = Exclude<Condition, { all: Condition[] } | { any: Condition[] } | { not: Condition }>;

function leafTruth(condition: Leaf, value: unknown): Truth {
  if (value === undefined) return 'unknown';
  if ('is' in condition) return value === condition.is ? 'yes' : 'no';
  if ('in' in condition) return condition.in.includes(value as string) ? 'yes' : 'no';
  if ('includes' in condition) return Array.isArray(value) && value.includes(condition.includes) ? 'yes' : 'no';
  if ('includesAny' in condition) return Array.isArray(value) && condition.includesAny.some((v) => value.includes(v)) ? 'yes' : 'no';
  if ('nonEmpty' in condition) return Array.isArray(value) && value.length > 0 === condition.nonEmpty ? 'yes' : 'no';
  return typeof value === 'number' && value >= condition.gte ? 'yes' : 'no';
}

/** Evaluates `condition` against `profile`, keeping every step for `--explain`. */
export function trace(condition: Condition | undefined, profile: ServiceProfile): Trace {
  if (condition === undefined) return { test: 'always', result: 'yes' };
  if ('all' in condition) {
    const parts = condition.all.map((c) => trace(c, profile));
    const result = parts.some((p) => p.result === 'no') ? 'no' : parts.some((p) => p.result === 'unknown') ? 'unknown' : 'yes';
    return { test: 'all of', result, parts };
  }
  if ('any' in condition) {
    const parts = condition.any.map((c) => trace(c, profile));
    const result = parts.some((p) => p.result === 'yes') ? 'yes' : parts.some((p) => p.result === 'unknown') ? 'unknown' : 'no';
    return { test: 'any of', result, parts };
  }
  if ('not' in condition) {
    const inner = trace(condition.not, profile);
    const result = inner.result === 'yes' ? 'no' : inner.result === 'no' ? 'yes' : 'unknown';
    return { test: 'not', result, parts: [inner] };
  }
  const value = valueAt(profile, condition.field);
  return { test: describeCondition(condition), result: leafTruth(condition, value), field: condition.field, answer: value === undefined ? 'unknown' : value };
}

/** The three-valued truth of `condition` for `profile`. */
export function evaluate(condition: Condition | undefined, profile: ServiceProfile): Truth {
  return trace(condition, profile).result;
}

/** True only when `profile` certainly meets `condition` (unknown is not true); an absent condition always holds. */
export function holds(condition: Condition | undefined, profile: ServiceProfile): boolean {
  return evaluate(condition, profile) === 'yes';
}

/** Every profile field a condition reads, to check the data against the profile schema. */
export function fieldsOf(condition: Condition | undefined): string[] {
  if (condition === undefined) return [];
  if ('all' in condition) return condition.all.flatMap(fieldsOf);
  if ('any' in condition) return condition.any.flatMap(fieldsOf);
  if ('not' in condition) return fieldsOf(condition.not);
  return [condition.field];
}

function leavesOf(condition: Condition | undefined): Leaf[] {
  if (condition === undefined) return [];
  if ('all' in condition) return condition.all.flatMap(leavesOf);
  if ('any' in condition) return condition.any.flatMap(leavesOf);
  if ('not' in condition) return leavesOf(condition.not);
  return [condition];
}

/** An answer to one unknown fact that would settle a condition as "does not apply". */
export interface DecidingAnswer {
  field: string;
  /** The answer, e.g. `false`, `in-house`, `999999`, or `[]` for a list. */
  answer: unknown;
  /** The answer in words, e.g. `service.minors: false`. */
  text: string;
}

function withValue(profile: ServiceProfile, path: string, value: unknown): ServiceProfile {
  const copy = structuredClone(profile) as Record<string, unknown>;
  const keys = path.split('.');
  let node = copy;
  for (const key of keys.slice(0, -1)) {
    if (node[key] === undefined || node[key] === null || typeof node[key] !== 'object') node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]!] = value;
  return copy as ServiceProfile;
}

/** Answers worth trying for a field: its whole domain, or the thresholds the conditions use. */
function candidates(path: string, leaves: Leaf[]): unknown[] {
  const kind = profileFieldsByPath.get(path)?.kind;
  const own = leaves.filter((l) => l.field === path);
  if (kind?.type === 'boolean') return [false, true];
  if (kind?.type === 'enum') return [...kind.values];
  if (kind?.type === 'count') return [0, ...own.flatMap((l) => ('gte' in l ? [l.gte - 1, l.gte] : []))];
  if (kind?.type === 'list') {
    const all = kind.values;
    const without = own.flatMap((l) => ('includes' in l ? [[l.includes]] : 'includesAny' in l ? [l.includesAny] : []));
    const lists = without.map((drop) => all.filter((v) => !drop.includes(v)));
    return [...(kind.min === undefined ? [[]] : []), ...lists.filter((l) => l.length >= (kind.min ?? 0)), [...all]];
  }
  const values = own.flatMap((l) => ('is' in l ? [l.is] : 'in' in l ? l.in : []));
  return [...new Set(values)];
}

function answerText(field: string, answer: unknown): string {
  if (Array.isArray(answer)) return `${field}: [${answer.join(', ')}]`;
  return `${field}: ${String(answer)}`;
}

/**
 * For a condition that is unknown for `profile`: the single answers to its unknown facts that
 * would make it "no" (the duty would not apply). Empty when no one answer settles it.
 */
export function decidingAnswers(conditions: (Condition | undefined)[], profile: ServiceProfile): DecidingAnswer[] {
  const leaves = conditions.flatMap(leavesOf);
  const unknown = [...new Set(leaves.map((l) => l.field))].filter((f) => valueAt(profile, f) === undefined);
  const out: DecidingAnswer[] = [];
  for (const field of unknown) {
    for (const answer of candidates(field, leaves)) {
      const changed = withValue(profile, field, answer);
      if (conditions.some((c) => evaluate(c, changed) === 'no')) out.push({ field, answer, text: answerText(field, answer) });
    }
  }
  return out;
}

/** The unknown facts that leave a condition undecided (parts already settled by known facts are skipped). */
function openFields(t: Trace): string[] {
  if (t.result !== 'unknown') return [];
  if (t.field !== undefined) return [t.field];
  return (t.parts ?? []).flatMap(openFields);
}

/** The unknown facts that leave any of `conditions` undecided for `profile`. */
export function unknownFieldsOf(conditions: (Condition | undefined)[], profile: ServiceProfile): string[] {
  return [...new Set(conditions.flatMap((c) => openFields(trace(c, profile))))];
}

/** The condition in plain words, e.g. `service.audience is public and provider.domestic is false`. */
export function describeCondition(condition: Condition): string {
  if ('all' in condition) return condition.all.map((c) => wrap(c)).join(' and ');
  if ('any' in condition) return condition.any.map((c) => wrap(c)).join(' or ');
  if ('not' in condition) return `not ${wrap(condition.not)}`;
  if ('is' in condition) return `${condition.field} is ${String(condition.is)}`;
  if ('in' in condition) return `${condition.field} is one of ${condition.in.join(', ')}`;
  if ('includes' in condition) return `${condition.field} includes ${condition.includes}`;
  if ('includesAny' in condition) return `${condition.field} includes any of ${condition.includesAny.join(', ')}`;
  if ('nonEmpty' in condition) return `${condition.field} is ${condition.nonEmpty ? 'not empty' : 'empty'}`;
  return `${condition.field} >= ${condition.gte}`;
}

function wrap(condition: Condition): string {
  return 'all' in condition || 'any' in condition ? `(${describeCondition(condition)})` : describeCondition(condition);
}
