/**
 * @module desk/incident-clock
 * The clock of an incident's report to the authority, by grade.
 *
 * Figures: Art. 4 of the Measures for the Administration of National Cybersecurity Incident
 * Reporting (《国家网络安全事件报告管理办法》, CAC, 2025-09-11, in force 2025-11-01), the same
 * text as the rules catalogue's `incident-reporting` entry (src/rules/data/incident-reporting.yaml,
 * obligations `report-4h` and `report-1h-cii`). Incidents graded "relatively major" (较大) or
 * above under the attached Grading Guide are reported within 4 hours to the provincial CAC; an
 * incident involving critical information infrastructure within 1 hour to its protection
 * department and the police. Art. 4 sets no clock for the general grade. Central and state
 * organs report to their own department's cyber office within 2 hours: hegui does not model that
 * operator class (a generative-AI service provider is not one), so it is named in the basis only.
 *
 * How far the figures are checked: like the catalogue entry, against secondary citations (a
 * republication of the CAC's text, quoted article by article), not the cac.gov.cn page itself:
 * `citations: 'secondary'`, `verified: false` (verified means checked against the official page).
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
  /** The rules catalogue's obligation behind the clock, or null for the general grade. */
  obligation: 'incident-reporting.report-4h' | 'incident-reporting.report-1h-cii' | null;
  /** Who receives the report, or null for the general grade. */
  recipient: { zh: string; en: string } | null;
  /** How the figures were checked: against secondary citations of the text (see the module note). */
  citations: 'secondary';
  /** False: the figures were not checked against the official page itself (see the module note). */
  verified: false;
}

/** The report clock of an incident of `grade` detected at `detectedAt`. */
export function reportClock(grade: IncidentGrade, cii: boolean, detectedAt: Date): ReportClock {
  const checked = { citations: 'secondary', verified: false } as const;
  if (grade === 'general') {
    return {
      hours: null,
      dueAt: null,
      basis: {
        zh: '一般网络安全事件：《国家网络安全事件报告管理办法》第四条未设报告时限（按服务提供者的流程处置）',
        en: 'general-grade incident: Art. 4 of the Incident Reporting Measures sets no reporting clock (handle per the provider’s process)',
      },
      obligation: null,
      recipient: null,
      ...checked,
    };
  }
  const hours = cii ? 1 : 4;
  return {
    hours,
    dueAt: new Date(detectedAt.getTime() + hours * 3_600_000).toISOString(),
    basis: cii
      ? {
          zh: '较大及以上网络安全事件，涉及关键信息基础设施：最迟 1 小时内向保护工作部门、公安机关报告（《国家网络安全事件报告管理办法》第四条）',
          en: 'incident of relatively major grade or above involving critical information infrastructure: report to the protection department and the police within 1 hour (Incident Reporting Measures, Art. 4)',
        }
      : {
          zh: '较大及以上网络安全事件：最迟 4 小时内向属地省级网信部门报告（《国家网络安全事件报告管理办法》第四条；中央和国家机关各部门为 2 小时内向本部门网信工作机构报告，本工具不适用）',
          en: 'incident of relatively major grade or above: report to the provincial CAC within 4 hours (Incident Reporting Measures, Art. 4; central and state organs report to their own cyber office within 2 hours, which hegui does not model)',
        },
    obligation: cii ? 'incident-reporting.report-1h-cii' : 'incident-reporting.report-4h',
    recipient: cii ? { zh: '保护工作部门、公安机关', en: 'the protection department and the police' } : { zh: '属地省级网信部门', en: 'the provincial cyberspace administration' },
    ...checked,
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
