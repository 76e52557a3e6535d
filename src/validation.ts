/**
 * @module validation
 * Turns schema failures into messages that name the field: `service.audience: expected one
 * of public, enterprise, internal, research`. Every document hegui reads from a user (profile,
 * evidence, config) reports its problems this way.
 */
import type { z } from 'zod';

/** `obligations[3].summary.en` from `['obligations', 3, 'summary', 'en']`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(document)' : out;
}

/** One zod issue as readable lines; for a union, the alternative that came closest. */
export function describeIssue(issue: z.core.$ZodIssue, prefix: readonly PropertyKey[] = []): string[] {
  const path = [...prefix, ...issue.path];
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((k) => `${formatPath([...path, k])}: unknown field (remove it or fix its spelling)`);
    case 'invalid_union': {
      const closest = issue.errors
        .filter((branch) => branch.length > 0)
        .reduce<z.core.$ZodIssue[] | undefined>((best, branch) => (best === undefined || branch.length < best.length ? branch : best), undefined);
      if (closest === undefined) return [`${formatPath(path)}: ${issue.message}`];
      return [`${formatPath(path)}: matches none of the allowed forms; closest form fails with: ${closest.flatMap((i) => describeIssue(i, path)).join('; ')}`];
    }
    case 'invalid_type':
      if (issue.input === undefined) return [`${formatPath(path)}: required field is missing (expected ${issue.expected})`];
      return [`${formatPath(path)}: expected ${issue.expected}, got ${describeValue(issue.input)}`];
    case 'invalid_value':
      return [`${formatPath(path)}: expected one of ${issue.values.map(String).join(', ')}, got ${describeValue(issue.input)}`];
    default:
      return [`${formatPath(path)}: ${issue.message}`];
  }
}

/** Every issue of a failed parse, one line each. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.flatMap((issue) => describeIssue(issue));
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}...` : value}"`;
  return `${typeof value} ${String(value)}`;
}
