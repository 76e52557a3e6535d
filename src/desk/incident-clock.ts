/**
 * @module desk/incident-clock
 * The clock of an incident's report to the authority, by grade.
 *
 * Figures (from DESIGN.md, "Operations"): cybersecurity incidents of the "significant" (较大)
 * grade or above are reported within 4 hours; within 1 hour by operators of critical
 * information infrastructure (Measures for the Reporting of Cybersecurity Incidents,
 * 《国家网络安全事件报告管理办法》, in force 2025-11-01). NOT VERIFIED in this build: the
 * reference material at hand (shared/reference) does not contain the measures' text, so the
 * grade names, the 1/4-hour figures and "no hourly clock for the general grade" are as DESIGN.md
 * states them; check them against the official text before relying on them (`verified: false`).
 */

/** The four grades of the national classification, strongest first. */
export const INCIDENT_GRADES = ['especially-major', 'major', 'significant', 'general'] as const;
export type IncidentGrade = (typeof INCIDENT_GRADES)[number];

export const GRADE_NAMES: Record<IncidentGrade, { zh: string; en: string }> = {
  'especially-major': { zh: '特别重大', en: 'especially major' },
  major: { zh: '重大', en: 'major' },
  significant: { zh: '较大', en: 'significant' },
  general: { zh: '一般', en: 'general' },
};

export interface ReportClock {
  /** Hours from detection to the report's deadline; null when the grade sets no hourly clock. */
  hours: 1 | 4 | null;
  /** ISO time the report is due, or null. */
  dueAt: string | null;
  basis: { zh: string; en: string };
  /** False: the figures were not checked against the official text (see the module note). */
  verified: false;
}

/** The report clock of an incident of `grade` detected at `detectedAt`. */
export function reportClock(grade: IncidentGrade, cii: boolean, detectedAt: Date): ReportClock {
  if (grade === 'general') {
    return {
      hours: null,
      dueAt: null,
      basis: {
        zh: '一般网络安全事件：无小时级报告时限（按服务提供者的流程报告；未经官方文本核实）',
        en: 'general-grade incident: no hourly reporting clock (report per the provider’s process; not verified against the official text)',
      },
      verified: false,
    };
  }
  const hours = cii ? 1 : 4;
  return {
    hours,
    dueAt: new Date(detectedAt.getTime() + hours * 3_600_000).toISOString(),
    basis: cii
      ? { zh: '较大及以上网络安全事件，关键信息基础设施运营者 1 小时内报告（未经官方文本核实）', en: 'significant-or-above incident at a critical information infrastructure operator: report within 1 hour (not verified against the official text)' }
      : { zh: '较大及以上网络安全事件，4 小时内报告（未经官方文本核实）', en: 'significant-or-above incident: report within 4 hours (not verified against the official text)' },
    verified: false,
  };
}

/** Where the clock stands at `now`: time left (negative when overdue), or null without a clock. */
export function clockState(dueAt: string | null, reportedAt: string | null, now: Date): { remainingMs: number | null; overdue: boolean; reportedInTime: boolean | null } {
  if (dueAt === null) return { remainingMs: null, overdue: false, reportedInTime: null };
  const due = Date.parse(dueAt);
  if (reportedAt !== null) return { remainingMs: null, overdue: false, reportedInTime: Date.parse(reportedAt) <= due };
  const remainingMs = due - now.getTime();
  return { remainingMs, overdue: remainingMs < 0, reportedInTime: null };
}
