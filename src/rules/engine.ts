/**
 * @module rules/engine
 * Which duties bind a service on a date. The engine is pure: it takes the instruments and a
 * validated profile and returns the obligations that apply, those that will apply and when,
 * and why everything else does not, each with its citation.
 */
import { type DecidingAnswer, decidingAnswers, describeCondition, evaluate, trace, type Trace, unknownFieldsOf } from './condition.js';
import { reasons } from './messages.js';
import type { ServiceProfile } from './profile.js';
import type { Bilingual, Condition, Figure, Instrument, Obligation } from './schema.js';
import { type BindingForce, type CitationCheck, type Control, defaultBinding, hierarchies, type Role } from './vocabulary.js';
import { type InstrumentStatus, statusOn, upcomingVersions } from './status.js';


/** An obligation as the engine reports it. */
export interface AppliedObligation {
  id: string;
  instrument: string;
  article: number;
  paragraph?: number;
  item?: number;
  clause?: string;
  summary: Bilingual;
  role: Role;
  /** The deadline or figure the duty sets, or null. */
  deadline: Figure | null;
  evidence: Bilingual;
  control: Control;
  /** Mandatory, recommended (GB/T, industry standards) or soft law. */
  binding: BindingForce;
  /** How the citation was checked: official text, a secondary source, or not at all. */
  citationCheck: CitationCheck;
  /** Other duties that meet the same need; meeting one of them is enough. */
  alternatives?: string[];
  /**
   * Present when the duty applies only because the profile leaves facts unknown (the safe
   * side): the unknown facts, and the answers that would lift the duty.
   */
  assumed?: Assumption;
}

export interface Assumption {
  unknown: string[];
  liftedBy: DecidingAnswer[];
}

export interface UpcomingObligation extends AppliedObligation {
  /** The date the duty takes effect. */
  effective: string;
  reason: Bilingual;
}

export interface Exclusion {
  instrument: string;
  status: InstrumentStatus;
  reason: Bilingual;
  /** The article that sets the instrument's scope, when the exclusion comes from it. */
  article?: number;
}

export interface NotApplicable {
  id: string;
  instrument: string;
  article: number;
  clause?: string;
  summary: Bilingual;
  reason: Bilingual;
  binding: BindingForce;
  citationCheck: CitationCheck;
}

/** An instrument that applies but whose duties are not itemised in the catalogue yet. */
export interface WithoutItemisedDuties {
  instrument: string;
  binding: BindingForce;
  reason: Bilingual;
  /** When the instrument is promulgated but not yet in force: the date it takes effect. */
  effective?: string;
  /** Present when the instrument applies only because its scope turns on unknown facts. */
  assumed?: Assumption;
}

export interface ApplicabilityReport {
  date: string;
  obligations: AppliedObligation[];
  excluded: Exclusion[];
  upcoming: UpcomingObligation[];
  /** Duties of instruments that apply, whose own conditions this service does not meet. */
  notApplicable: NotApplicable[];
  /** Instruments that apply with no itemised duties: shown, never silently dropped. */
  withoutItemisedDuties: WithoutItemisedDuties[];
  /** Profile facts left unknown that some duty turned on (each such duty applies on the safe side). */
  unknownFacts: string[];
  /** Penalties of the instruments that apply: the exposure, listed apart and never assessed. */
  penalties: AppliedObligation[];
}

/** The binding force of `o` under `instrument`. */
export function bindingOf(instrument: Instrument, o?: Obligation): BindingForce {
  return o?.binding ?? instrument.binding ?? defaultBinding(instrument.hierarchy);
}

function report(instrument: Instrument, o: Obligation, assumed: Assumption | undefined): AppliedObligation {
  const out: AppliedObligation = {
    id: o.id,
    instrument: instrument.id,
    article: o.article,
    summary: o.summary,
    role: o.role,
    deadline: o.figure ?? null,
    evidence: o.evidence,
    control: o.control,
    binding: bindingOf(instrument, o),
    citationCheck: o.citation ?? instrument.source.citations,
  };
  if (o.alternatives !== undefined) out.alternatives = o.alternatives;
  if (assumed !== undefined) out.assumed = assumed;
  if (o.paragraph !== undefined) out.paragraph = o.paragraph;
  if (o.item !== undefined) out.item = o.item;
  if (o.clause !== undefined) out.clause = o.clause;
  return out;
}

/** The profile fact that puts a service in a role, for roles that need one. */
export function roleCondition(role: Role): Condition | undefined {
  if (role === 'platform') return { field: 'service.contentPlatform', is: true };
  if (role === 'app-store') return { field: 'service.appStore', is: true };
  return undefined;
}

/** Why a duty does not bind this profile, or undefined when it does (or may: unknown facts). */
function whyNot(o: Obligation, profile: ServiceProfile): Bilingual | undefined {
  if (o.role === 'user') return reasons.userRole();
  if (evaluate(roleCondition(o.role), profile) === 'no') return o.role === 'platform' ? reasons.platformRole() : reasons.appStoreRole();
  if (evaluate(o.when, profile) === 'no') return reasons.condition(describeCondition(o.when!));
  return undefined;
}

function assumption(conditions: (Condition | undefined)[], profile: ServiceProfile): Assumption | undefined {
  const open = conditions.filter((c) => evaluate(c, profile) === 'unknown');
  if (open.length === 0) return undefined;
  return { unknown: unknownFieldsOf(open, profile), liftedBy: decidingAnswers(conditions, profile) };
}

function exclusion(instrument: Instrument, status: InstrumentStatus, date: string): Exclusion | undefined {
  switch (status) {
    case 'not-issued':
      return { instrument: instrument.id, status, reason: reasons.notIssued(date) };
    case 'draft':
      return { instrument: instrument.id, status, reason: reasons.draft() };
    case 'superseded':
      return { instrument: instrument.id, status, reason: reasons.superseded(instrument.superseded!.by, instrument.superseded!.on) };
    case 'repealed':
      return { instrument: instrument.id, status, reason: reasons.repealed(instrument.repealed!) };
    default:
      return undefined;
  }
}

/**
 * The duties that bind `profile` on `date` (YYYY-MM-DD), under `instruments`.
 *
 * @example
 * const report = applicableObligations(loadInstruments(), profile, '2025-09-01');
 * report.obligations.filter((o) => o.instrument === 'labeling-measures');
 */
export function applicableObligations(instruments: readonly Instrument[], profile: ServiceProfile, date: string): ApplicabilityReport {
  const result: ApplicabilityReport = { date, obligations: [], excluded: [], upcoming: [], notApplicable: [], withoutItemisedDuties: [], unknownFacts: [], penalties: [] };
  const unknownFacts = new Set<string>();
  for (const instrument of inLegalOrder(instruments)) {
    const { status, version } = statusOn(instrument, date);
    const excluded = exclusion(instrument, status, date);
    if (excluded) {
      result.excluded.push(excluded);
      continue;
    }
    if (instrument.scope && evaluate(instrument.scope.when, profile) === 'no') {
      result.excluded.push({ instrument: instrument.id, status, reason: instrument.scope.reason, article: instrument.scope.article });
      continue;
    }
    const duties = instrument.obligations.filter((o) => o.kind === 'duty');
    if (duties.length === 0) {
      const assumed = assumption([instrument.scope?.when], profile);
      for (const f of assumed?.unknown ?? []) unknownFacts.add(f);
      result.withoutItemisedDuties.push({
        instrument: instrument.id,
        binding: bindingOf(instrument),
        reason: reasons.noItemisedDuties(),
        ...(status === 'promulgated-not-yet-in-force' ? { effective: instrument.effective! } : {}),
        ...(assumed ? { assumed } : {}),
      });
      continue;
    }
    const laterVersions = upcomingVersions(instrument, date);
    for (const o of instrument.obligations) {
      const why = whyNot(o, profile);
      if (why) {
        if (o.kind === 'penalty') continue;
        result.notApplicable.push({
          id: o.id,
          instrument: instrument.id,
          article: o.article,
          ...(o.clause ? { clause: o.clause } : {}),
          summary: o.summary,
          reason: why,
          binding: bindingOf(instrument, o),
          citationCheck: o.citation ?? instrument.source.citations,
        });
        continue;
      }
      const effective = firstEffective(instrument, o, status, version, laterVersions);
      if (effective === undefined) continue;
      const assumed = assumption([instrument.scope?.when, roleCondition(o.role), o.when], profile);
      if (o.kind === 'penalty') {
        if (effective.date <= date) result.penalties.push(report(instrument, o, assumed));
        continue;
      }
      for (const f of assumed?.unknown ?? []) unknownFacts.add(f);
      if (effective.date <= date) result.obligations.push(report(instrument, o, assumed));
      else result.upcoming.push({ ...report(instrument, o, assumed), effective: effective.date, reason: effective.reason });
    }
  }
  result.upcoming.sort((a, b) => a.effective.localeCompare(b.effective));
  result.unknownFacts = [...unknownFacts].sort();
  return result;
}

/** Why one duty applies or not: every condition tested, with the profile's answers. */
export interface Explanation {
  id: string;
  instrument: string;
  date: string;
  status: InstrumentStatus;
  /** `applies`, `applies-assumed` (only because facts are unknown), `upcoming`, `not-applicable`, `excluded`. */
  outcome: 'applies' | 'applies-assumed' | 'upcoming' | 'not-applicable' | 'excluded';
  reason?: Bilingual;
  scope?: Trace & { article: number };
  role: { role: Role; trace?: Trace };
  condition?: Trace;
  binding: BindingForce;
  citationCheck: CitationCheck;
  liftedBy?: DecidingAnswer[];
}

/** Explains duty `id` for `profile` on `date`, or undefined when no duty has that id. */
export function explainObligation(instruments: readonly Instrument[], profile: ServiceProfile, date: string, id: string): Explanation | undefined {
  const instrument = instruments.find((i) => i.obligations.some((o) => o.id === id));
  if (instrument === undefined) return undefined;
  const o = instrument.obligations.find((x) => x.id === id)!;
  const report = applicableObligations([instrument], profile, date);
  const roleTrace = roleCondition(o.role);
  const out: Explanation = {
    id,
    instrument: instrument.id,
    date,
    status: statusOn(instrument, date).status,
    outcome: 'excluded',
    role: { role: o.role, ...(roleTrace ? { trace: trace(roleTrace, profile) } : {}) },
    binding: bindingOf(instrument, o),
    citationCheck: o.citation ?? instrument.source.citations,
  };
  if (instrument.scope) out.scope = { ...trace(instrument.scope.when, profile), article: instrument.scope.article };
  if (o.when) out.condition = trace(o.when, profile);
  const applied = report.obligations.find((x) => x.id === id) ?? report.penalties.find((x) => x.id === id);
  const upcoming = report.upcoming.find((x) => x.id === id);
  const na = report.notApplicable.find((x) => x.id === id);
  const excluded = report.excluded.find((x) => x.instrument === instrument.id);
  if (applied) {
    out.outcome = applied.assumed ? 'applies-assumed' : 'applies';
    if (applied.assumed) out.liftedBy = applied.assumed.liftedBy;
  } else if (upcoming) {
    out.outcome = 'upcoming';
    out.reason = upcoming.reason;
  } else if (na) {
    out.outcome = 'not-applicable';
    out.reason = na.reason;
  } else if (excluded) {
    out.reason = excluded.reason;
  } else {
    out.outcome = 'not-applicable';
    out.reason = reasons.notInAnyVersion();
  }
  return out;
}

/** Laws first, then administrative regulations, rules, standards; older texts first within a tier. */
function inLegalOrder(instruments: readonly Instrument[]): Instrument[] {
  const rank = (i: Instrument): number => (i.draft ? hierarchies.length : hierarchies.indexOf(i.hierarchy));
  return [...instruments].sort((a, b) => rank(a) - rank(b) || a.promulgated.localeCompare(b.promulgated) || a.id.localeCompare(b.id));
}

/**
 * When `o` binds: now (its date is today or earlier), later (a future date), or never under
 * any version that is or will be in force (undefined: e.g. a duty of a text already amended away).
 */
function firstEffective(
  instrument: Instrument,
  o: Obligation,
  status: InstrumentStatus,
  version: string | undefined,
  laterVersions: { id: string; effective: string }[],
): { date: string; reason: Bilingual } | undefined {
  const carries = (v: string): boolean => o.versions === undefined || o.versions.includes(v);
  const starts = (from: string): { date: string; reason: Bilingual } => {
    const date = o.effective !== undefined && o.effective > from ? o.effective : from;
    return { date, reason: reasons.upcoming(date) };
  };
  if (status === 'promulgated-not-yet-in-force') {
    return carries('original') ? starts(instrument.effective!) : undefined;
  }
  if (version !== undefined && carries(version)) return starts(instrument.amendments.find((a) => a.id === version)?.effective ?? instrument.effective!);
  const later = laterVersions.find((v) => carries(v.id));
  if (later === undefined) return undefined;
  const when = starts(later.effective);
  return { date: when.date, reason: reasons.upcomingVersion(later.id, when.date) };
}
