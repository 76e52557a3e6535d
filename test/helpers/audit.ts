/**
 * Short names of audit findings, so tests can compare what verify found in one line.
 */
import type { AuditFinding } from '../../src/audit/index.js';

/** Findings without their reasons, e.g. `altered 5`, `deleted 4-6`, `renumbered 6-13 +1`, `checkpoint 5`. */
export function findingNames(findings: readonly AuditFinding[]): string[] {
  return findings.map((f) => {
    if (f.kind === 'deleted') return `deleted ${f.fromSeq}-${f.toSeq}`;
    if (f.kind === 'renumbered') return `renumbered ${f.fromSeq}-${f.toSeq} ${f.shift > 0 ? '+' : ''}${f.shift}`;
    return `${f.kind} ${f.seq}`;
  });
}
