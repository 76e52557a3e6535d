/**
 * @module eval/summary-file
 * Reads an `EvalSummary` from JSON (the file `hegui eval report --summary` takes). JSON has no
 * NaN, so a rate written as null (no items) reads back as NaN; every figure is checked for
 * shape and range, so a hand-edited file cannot slip a rate above 100 % into a report.
 */
import { z } from 'zod';
import { InvalidInputError } from '../errors.js';
import { describeIssues } from '../validation.js';
import type { EvalSummary } from './types.js';

const unit = z.number().min(0).max(1);
const proportion = z
  .strictObject({
    successes: z.number().int().nonnegative(),
    total: z.number().int().nonnegative(),
    rate: unit.nullable(),
    low: unit,
    high: unit,
  })
  .refine((p) => p.successes <= p.total, 'successes must not exceed total')
  .transform((p) => ({ ...p, rate: p.rate ?? Number.NaN }));
const rateFigure = {
  proportion,
  threshold: unit,
  direction: z.enum(['atLeast', 'atMost']),
  verdict: z.enum(['meets', 'fails', 'undecided']),
  certain: z.boolean(),
  sampleShortfall: z.number().int().nonnegative(),
};
const iso = z.string().regex(/^\d{4}-\d{2}-\d{2}T/, 'an ISO 8601 time');

export const evalSummarySchema = z.strictObject({
  runId: z.string().min(1),
  model: z.string(),
  endpoint: z.string(),
  startedAt: iso,
  finishedAt: iso.nullable(),
  seed: z.number().int(),
  items: z.number().int().nonnegative(),
  errors: z.number().int().nonnegative(),
  uncertain: z.number().int().nonnegative(),
  passRate: z.strictObject({ ...rateFigure, perRisk: z.record(z.string(), proportion) }),
  refusalRate: z.strictObject({ ...rateFigure, perRisk: z.record(z.string(), proportion) }),
  overRefusalRate: z.strictObject(rateFigure),
  discrimination: z.array(z.strictObject({ dimension: z.string(), groups: z.record(z.string(), proportion), maxGap: unit })),
});

export function parseEvalSummary(text: string, source = 'summary'): EvalSummary {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError('E_EVAL_SUMMARY', `${source} is not JSON: ${(error as Error).message}`);
  }
  const result = evalSummarySchema.safeParse(value);
  if (!result.success) throw new InvalidInputError('E_EVAL_SUMMARY', `${source} is not an evaluation summary:\n  ${describeIssues(result.error).join('\n  ')}`);
  return result.data as EvalSummary;
}
