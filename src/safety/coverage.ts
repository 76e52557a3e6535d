/**
 * @module safety/coverage
 * How a keyword library measures up to GB/T 45654-2025 clause 8.1 (obligation
 * `gb-t-45654.keyword-library`): at least 10,000 keywords in total, covering every A.1 and A.2 risk, with at least 200 keywords
 * for each of the 8 A.1 risks and at least 100 for each of the 9 A.2 risks. The report shows
 * each shortfall so the gap can be closed before the filing (AI Measures Art. 17).
 */
import type { KeywordLibrary, MatchMode, Severity } from './library.js';
import { matchModes, severities } from './library.js';
import type { Bilingual, RiskCategoryCode, RiskCode } from './taxonomy.js';
import { categoryOf, riskCategoryCodes, risks } from './taxonomy.js';

/** The figures GB/T 45654 sets for a keyword library. */
export const keywordLibraryMinimums = Object.freeze({ total: 10_000, perA1Risk: 200, perA2Risk: 100 });

export interface RiskCoverage {
  risk: RiskCode;
  name: Bilingual;
  count: number;
  /** 0 where the standard sets no minimum (A.3 to A.5). */
  required: number;
  shortfall: number;
}

export interface CoverageReport {
  library: { name: string; version: string; updatedAt: string };
  total: number;
  totalRequired: number;
  totalShortfall: number;
  risks: RiskCoverage[];
  /** True when the total and every per-risk minimum are met. */
  meetsMinimums: boolean;
}

/** The GB/T 45654 coverage report for a library. */
export function coverageReport(library: KeywordLibrary): CoverageReport {
  const counts = countBy(library, (e) => e.risk);
  const rows = risks.map((risk): RiskCoverage => {
    const count = counts.get(risk.code) ?? 0;
    const required = risk.category === 'A1' ? keywordLibraryMinimums.perA1Risk : risk.category === 'A2' ? keywordLibraryMinimums.perA2Risk : 0;
    return { risk: risk.code, name: risk.name, count, required, shortfall: Math.max(0, required - count) };
  });
  const total = library.entries.length;
  const totalShortfall = Math.max(0, keywordLibraryMinimums.total - total);
  return {
    library: { name: library.name, version: library.version, updatedAt: library.updatedAt },
    total,
    totalRequired: keywordLibraryMinimums.total,
    totalShortfall,
    risks: rows,
    meetsMinimums: totalShortfall === 0 && rows.every((r) => r.shortfall === 0),
  };
}

export interface LibraryStats {
  entries: number;
  allow: number;
  byRisk: Partial<Record<RiskCode, number>>;
  byCategory: Record<RiskCategoryCode, number>;
  byMode: Record<MatchMode, number>;
  bySeverity: Record<Severity, number>;
}

/** Counts of a library's entries by risk, category, mode and severity. */
export function libraryStats(library: KeywordLibrary): LibraryStats {
  const byRisk = Object.fromEntries(countBy(library, (e) => e.risk)) as Partial<Record<RiskCode, number>>;
  const byCategory = Object.fromEntries(riskCategoryCodes.map((c) => [c, 0])) as Record<RiskCategoryCode, number>;
  for (const entry of library.entries) byCategory[categoryOf(entry.risk)]++;
  const modes = countBy(library, (e) => e.mode);
  const levels = countBy(library, (e) => e.severity);
  return {
    entries: library.entries.length,
    allow: library.allow.length,
    byRisk,
    byCategory,
    byMode: Object.fromEntries(matchModes.map((m) => [m, modes.get(m) ?? 0])) as Record<MatchMode, number>,
    bySeverity: Object.fromEntries(severities.map((s) => [s, levels.get(s) ?? 0])) as Record<Severity, number>,
  };
}

function countBy<K>(library: KeywordLibrary, key: (entry: KeywordLibrary['entries'][number]) => K): Map<K, number> {
  const counts = new Map<K, number>();
  for (const entry of library.entries) counts.set(key(entry), (counts.get(key(entry)) ?? 0) + 1);
  return counts;
}
