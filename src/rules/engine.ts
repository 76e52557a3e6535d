/**
 * @module rules/engine
 * Which duties bind a service on a date. The engine is pure: it takes the instruments and a
 * validated profile and returns the obligations that apply, those that will apply and when,
 * and why everything else does not, each with its citation.
 */
import { describeCondition, holds } from './condition.js';
import { reasons } from './messages.js';
import type { ServiceProfile } from './profile.js';
import { type Bilingual, type Control, type Figure, hierarchies, type Instrument, type Obligation, type Role } from './schema.js';
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
}

export interface ApplicabilityReport {
  date: string;
  obligations: AppliedObligation[];
  excluded: Exclusion[];
  upcoming: UpcomingObligation[];
  /** Duties of instruments that apply, whose own conditions this service does not meet. */
  notApplicable: NotApplicable[];
}

function report(instrument: Instrument, o: Obligation): AppliedObligation {
  const out: AppliedObligation = {
    id: o.id,
    instrument: instrument.id,
    article: o.article,
    summary: o.summary,
    role: o.role,
    deadline: o.figure ?? null,
    evidence: o.evidence,
    control: o.control,
  };
  if (o.paragraph !== undefined) out.paragraph = o.paragraph;
  if (o.item !== undefined) out.item = o.item;
  if (o.clause !== undefined) out.clause = o.clause;
  return out;
}

/** Why a duty does not bind this profile, or undefined when it does. */
function whyNot(o: Obligation, profile: ServiceProfile): Bilingual | undefined {
  if (o.role === 'platform' && !profile.service.contentPlatform) return reasons.platformRole();
  if (o.role === 'app-store' && !profile.service.appStore) return reasons.appStoreRole();
  if (o.role === 'user') return reasons.userRole();
  if (!holds(o.when, profile)) return reasons.condition(describeCondition(o.when!));
  return undefined;
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
  const result: ApplicabilityReport = { date, obligations: [], excluded: [], upcoming: [], notApplicable: [] };
  for (const instrument of inLegalOrder(instruments)) {
    const { status, version } = statusOn(instrument, date);
    const excluded = exclusion(instrument, status, date);
    if (excluded) {
      result.excluded.push(excluded);
      continue;
    }
    if (instrument.scope && !holds(instrument.scope.when, profile)) {
      result.excluded.push({ instrument: instrument.id, status, reason: instrument.scope.reason, article: instrument.scope.article });
      continue;
    }
    const laterVersions = upcomingVersions(instrument, date);
    for (const o of instrument.obligations) {
      const why = whyNot(o, profile);
      if (why) {
        result.notApplicable.push({ id: o.id, instrument: instrument.id, article: o.article, ...(o.clause ? { clause: o.clause } : {}), summary: o.summary, reason: why });
        continue;
      }
      const effective = firstEffective(instrument, o, status, version, laterVersions);
      if (effective === undefined) continue;
      if (effective.date <= date) result.obligations.push(report(instrument, o));
      else result.upcoming.push({ ...report(instrument, o), effective: effective.date, reason: effective.reason });
    }
  }
  result.upcoming.sort((a, b) => a.effective.localeCompare(b.effective));
  return result;
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
