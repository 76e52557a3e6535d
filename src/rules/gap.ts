/**
 * @module rules/gap
 * The gap report: every duty that binds the service, marked compliant, non-compliant or not
 * applicable from the evidence, with an overall conclusion, in the form the GB/T 45654
 * self-assessment report uses.
 */
import type { AppliedObligation, ApplicabilityReport, UpcomingObligation } from './engine.js';
import type { EvidenceFile } from './evidence.js';
import type { Bilingual } from './schema.js';

export type ComplianceState = 'compliant' | 'non-compliant' | 'not-applicable';

export interface GapEntry {
  id: string;
  instrument: string;
  article: number;
  clause?: string;
  summary: Bilingual;
  control: AppliedObligation['control'];
  binding: AppliedObligation['binding'];
  citationCheck: AppliedObligation['citationCheck'];
  /** Present when the duty binds only because profile facts are unknown. */
  assumed?: AppliedObligation['assumed'];
  state: ComplianceState;
  /**
   * Where the state came from: the evidence file, an enabled hegui control, an alternative
   * duty that is met (e.g. GB 45438 §5.6 for §5.1), the profile, or nothing.
   */
  basis: 'evidence' | 'control' | 'alternative' | 'profile' | 'missing';
  evidence: string[];
  reason?: string;
  plan?: string;
  due?: string;
  /** Free text from the evidence file, or the engine's bilingual reason for a duty the profile rules out. */
  justification?: string | Bilingual;
}

export interface GapReport {
  date: string;
  entries: GapEntry[];
  /** Instruments that apply but list no itemised duties yet: to be assessed against the text. */
  withoutItemisedDuties: ApplicabilityReport['withoutItemisedDuties'];
  /** Profile facts left unknown that decided some duty (on the safe side). */
  unknownFacts: string[];
  /** Duties that will bind later, to prepare for; not assessed. */
  upcoming: UpcomingObligation[];
  counts: Record<ComplianceState, number>;
  conclusion: 'compliant' | 'non-compliant';
}

const MISSING = {
  reason: 'no evidence given for this duty',
  plan: 'record the evidence, or the reason and the plan, in the evidence file',
};

function assess(o: AppliedObligation, evidence: EvidenceFile): GapEntry {
  const base = {
    id: o.id,
    instrument: o.instrument,
    article: o.article,
    ...(o.clause ? { clause: o.clause } : {}),
    summary: o.summary,
    control: o.control,
    binding: o.binding,
    citationCheck: o.citationCheck,
    ...(o.assumed ? { assumed: o.assumed } : {}),
  };
  const given = evidence.obligations[o.id];
  if (given?.status === 'compliant') return { ...base, state: 'compliant', basis: 'evidence', evidence: given.evidence };
  if (given?.status === 'non-compliant') {
    return { ...base, state: 'non-compliant', basis: 'evidence', evidence: given.evidence ?? [], reason: given.reason, plan: given.plan, ...(given.due ? { due: given.due } : {}) };
  }
  if (given?.status === 'not-applicable') return { ...base, state: 'not-applicable', basis: 'evidence', evidence: [], justification: given.justification };
  if (o.control !== 'none' && evidence.controls[o.control] === true) {
    return { ...base, state: 'compliant', basis: 'control', evidence: [`hegui control "${o.control}" enabled`] };
  }
  return { ...base, state: 'non-compliant', basis: 'missing', evidence: [], ...MISSING };
}

function metByAlternative(e: GapEntry, alternative: string): GapEntry {
  const { id, instrument, article, clause, summary, control, binding, citationCheck, assumed } = e;
  return {
    id,
    instrument,
    article,
    ...(clause ? { clause } : {}),
    summary,
    control,
    binding,
    citationCheck,
    ...(assumed ? { assumed } : {}),
    state: 'compliant',
    basis: 'alternative',
    evidence: [`met by the alternative ${alternative}`],
  };
}

/** Marks every applicable and not-applicable duty of `report` from `evidence`. */
export function gapReport(report: ApplicabilityReport, evidence: EvidenceFile): GapReport {
  const entries: GapEntry[] = report.obligations.map((o) => assess(o, evidence));
  // Meeting one of a set of alternatives (e.g. the standard contract or certification) meets the need.
  const met = new Set(entries.filter((e) => e.state === 'compliant').map((e) => e.id));
  for (const [i, e] of entries.entries()) {
    const alternative = report.obligations[i]?.alternatives?.find((id) => met.has(id));
    if (e.basis === 'missing' && alternative !== undefined) entries[i] = metByAlternative(e, alternative);
  }
  for (const na of report.notApplicable) {
    entries.push({
      id: na.id,
      instrument: na.instrument,
      article: na.article,
      ...(na.clause ? { clause: na.clause } : {}),
      summary: na.summary,
      control: 'none',
      binding: na.binding,
      citationCheck: na.citationCheck,
      state: 'not-applicable',
      basis: 'profile',
      evidence: [],
      justification: na.reason,
    });
  }
  const counts: Record<ComplianceState, number> = { compliant: 0, 'non-compliant': 0, 'not-applicable': 0 };
  for (const e of entries) counts[e.state] += 1;
  return {
    date: report.date,
    entries,
    withoutItemisedDuties: report.withoutItemisedDuties,
    unknownFacts: report.unknownFacts,
    upcoming: report.upcoming,
    counts,
    conclusion: counts['non-compliant'] === 0 ? 'compliant' : 'non-compliant',
  };
}
