/**
 * @module rules/condition
 * Evaluating and explaining the conditions that decide whether a duty binds a service.
 */
import type { Condition } from './schema.js';
import type { ServiceProfile } from './profile.js';

type Value = unknown;

function lookup(profile: ServiceProfile, path: string): Value {
  let node: Value = profile;
  for (const key of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, Value>)[key];
  }
  return node;
}

/** True when `profile` meets `condition`; an absent condition always holds. */
export function holds(condition: Condition | undefined, profile: ServiceProfile): boolean {
  if (condition === undefined) return true;
  if ('all' in condition) return condition.all.every((c) => holds(c, profile));
  if ('any' in condition) return condition.any.some((c) => holds(c, profile));
  if ('not' in condition) return !holds(condition.not, profile);
  const value = lookup(profile, condition.field);
  if ('is' in condition) return value === condition.is;
  if ('in' in condition) return condition.in.includes(value as string);
  if ('includes' in condition) return Array.isArray(value) && value.includes(condition.includes);
  if ('includesAny' in condition) return Array.isArray(value) && condition.includesAny.some((v) => value.includes(v));
  if ('nonEmpty' in condition) return Array.isArray(value) && value.length > 0 === condition.nonEmpty;
  return typeof value === 'number' && value >= condition.gte;
}

/** Every profile field a condition reads, to check the data against the profile schema. */
export function fieldsOf(condition: Condition | undefined): string[] {
  if (condition === undefined) return [];
  if ('all' in condition) return condition.all.flatMap(fieldsOf);
  if ('any' in condition) return condition.any.flatMap(fieldsOf);
  if ('not' in condition) return fieldsOf(condition.not);
  return [condition.field];
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
