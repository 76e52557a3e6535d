/**
 * @module rules/evidence
 * What a provider has to show for each duty: an evidence file (YAML or JSON) listing the hegui
 * controls it runs and, per obligation, its state in the three-state form of the GB/T 45654
 * self-assessment (compliant with evidence; non-compliant with reason and plan; not applicable
 * with justification).
 *
 * ```yaml
 * controls: { label: true, safety: true, audit: true }
 * obligations:
 *   genai-measures.complaints:
 *     status: compliant
 *     evidence: [docs/complaints.md, https://example.com/complaints]
 *   algo-recommendation.filing:
 *     status: non-compliant
 *     reason: filing not submitted yet
 *     plan: submit through the algorithm filing system
 *     due: 2026-12-15
 * ```
 */
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { InvalidInputError } from '../errors.js';
import { describeIssues } from '../validation.js';
import { controls } from './schema.js';

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD');

export const evidenceEntry = z.discriminatedUnion('status', [
  z.strictObject({ status: z.literal('compliant'), evidence: z.array(z.string().min(1)).min(1, 'a compliant duty needs at least one piece of evidence') }),
  z.strictObject({
    status: z.literal('non-compliant'),
    reason: z.string().min(1),
    plan: z.string().min(1),
    due: isoDate.optional(),
    evidence: z.array(z.string().min(1)).optional(),
  }),
  z.strictObject({ status: z.literal('not-applicable'), justification: z.string().min(1) }),
]);

export const evidenceFile = z.strictObject({
  controls: z.partialRecord(z.enum(controls.filter((c) => c !== 'none') as [string, ...string[]]), z.boolean()).default({}),
  obligations: z.record(z.string(), evidenceEntry).default({}),
});

export type EvidenceFile = z.infer<typeof evidenceFile>;
export type EvidenceEntry = z.infer<typeof evidenceEntry>;

export class InvalidEvidenceError extends InvalidInputError {
  readonly problems: readonly string[];
  constructor(source: string, problems: readonly string[]) {
    super('E_EVIDENCE_INVALID', `${source} is not a valid evidence file:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}

/**
 * Parses an evidence file. With `knownObligations`, an entry for an id that does not exist
 * is an error (a typo would otherwise leave the real duty unassessed).
 */
export function parseEvidence(text: string, source = 'evidence', knownObligations?: ReadonlySet<string>): EvidenceFile {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) throw new InvalidEvidenceError(source, doc.errors.map((e) => `YAML syntax: ${e.message.split('\n')[0] ?? e.code}`));
  const result = evidenceFile.safeParse(doc.toJS() ?? {}, { reportInput: true });
  if (!result.success) throw new InvalidEvidenceError(source, describeIssues(result.error));
  if (knownObligations) {
    const unknown = Object.keys(result.data.obligations).filter((id) => !knownObligations.has(id));
    if (unknown.length > 0) {
      throw new InvalidEvidenceError(source, unknown.map((id) => `obligations.${id}: no obligation has this id (see \`hegui obligations --format json\` for the ids)`));
    }
  }
  return result.data;
}
