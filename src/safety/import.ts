/**
 * @module safety/import
 * Reads keyword lists in the forms providers keep them: plain text (one keyword per line,
 * optionally `keyword<TAB>risk`) and CSV with a header row. Bad lines are reported with their
 * line number instead of failing the whole import, so a 10,000-line list can be fixed in one go.
 */
import type { KeywordEntry, KeywordLibrary, MatchMode, Severity } from './library.js';
import { matchModes, severities } from './library.js';
import type { RiskCode } from './taxonomy.js';
import { isRiskCode } from './taxonomy.js';

export type ImportFormat = 'text' | 'csv';

export interface ImportDefaults {
  /** Risk for lines that name none. Without it such lines are reported as problems. */
  risk?: RiskCode;
  mode?: MatchMode;
  severity?: Severity;
}

export interface ImportProblem {
  line: number;
  message: string;
}

export interface ImportResult {
  entries: KeywordEntry[];
  allow: string[];
  problems: ImportProblem[];
}

/**
 * Parses a keyword list. Plain text: blank lines and lines starting with `#` are skipped;
 * `keyword<TAB>risk` sets the risk. CSV: a header naming `keyword` and optionally `risk`,
 * `mode`, `severity` and `kind` (`keyword` or `allow`, for allow-list words).
 *
 * @example
 * const { entries, problems } = importKeywords('赌博网站\tA1.8\n', 'text');
 */
export function importKeywords(text: string, format: ImportFormat, defaults: ImportDefaults = {}): ImportResult {
  const result: ImportResult = { entries: [], allow: [], problems: [] };
  const rows = format === 'csv' ? csvRows(text) : textRows(text);
  if (format === 'csv') {
    const header = rows.shift();
    const columns = header?.cells.map((c) => c.trim().toLowerCase()) ?? [];
    if (!columns.includes('keyword')) {
      result.problems.push({ line: header?.line ?? 1, message: 'the CSV header must name a "keyword" column (and optionally risk, mode, severity, kind)' });
      return result;
    }
    for (const row of rows) {
      const get = (name: string): string | undefined => {
        const index = columns.indexOf(name);
        const value = index >= 0 ? row.cells[index]?.trim() : undefined;
        return value === '' ? undefined : value;
      };
      addRow(result, row.line, { keyword: get('keyword'), risk: get('risk'), mode: get('mode'), severity: get('severity'), kind: get('kind') }, defaults);
    }
    return result;
  }
  for (const row of rows) addRow(result, row.line, { keyword: row.cells[0], risk: row.cells[1]?.trim() || undefined }, defaults);
  return result;
}

interface RawRow {
  keyword: string | undefined;
  risk?: string | undefined;
  mode?: string | undefined;
  severity?: string | undefined;
  kind?: string | undefined;
}

function addRow(result: ImportResult, line: number, row: RawRow, defaults: ImportDefaults): void {
  const keyword = row.keyword?.trim();
  if (!keyword) {
    result.problems.push({ line, message: 'empty keyword' });
    return;
  }
  if (row.kind === 'allow') {
    result.allow.push(keyword);
    return;
  }
  if (row.kind !== undefined && row.kind !== 'keyword') {
    result.problems.push({ line, message: `unknown kind "${row.kind}" (use keyword or allow)` });
    return;
  }
  const risk = row.risk ?? defaults.risk;
  if (risk === undefined) {
    result.problems.push({ line, message: `"${keyword}" has no risk; add one (keyword<TAB>A1.1) or pass a default risk` });
    return;
  }
  if (!isRiskCode(risk)) {
    result.problems.push({ line, message: `"${risk}" is not a GB/T 45654 risk code (A1.1 .. A5.2)` });
    return;
  }
  const mode = row.mode ?? defaults.mode ?? 'literal';
  if (!(matchModes as readonly string[]).includes(mode)) {
    result.problems.push({ line, message: `unknown mode "${mode}" (use ${matchModes.join(', ')})` });
    return;
  }
  const severity = row.severity ?? defaults.severity ?? 'medium';
  if (!(severities as readonly string[]).includes(severity)) {
    result.problems.push({ line, message: `unknown severity "${severity}" (use ${severities.join(', ')})` });
    return;
  }
  result.entries.push({ keyword, risk, mode: mode as MatchMode, severity: severity as Severity });
}

function textRows(text: string): { line: number; cells: string[] }[] {
  const rows: { line: number; cells: string[] }[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i === 0 ? raw.replace(/^\uFEFF/, '') : raw;
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    rows.push({ line: i + 1, cells: line.split('\t') });
  });
  return rows;
}

/** RFC 4180 CSV: quoted fields may hold commas, quotes (doubled) and line breaks. */
function csvRows(text: string): { line: number; cells: string[] }[] {
  const rows: { line: number; cells: string[] }[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  const source = text.replace(/^\uFEFF/, '');
  const endRow = (): void => {
    cells.push(cell);
    if (cells.length > 1 || cells[0] !== '') rows.push({ line: rowLine, cells });
    cells = [];
    cell = '';
  };
  for (let i = 0; i < source.length; i++) {
    const ch = source[i] as string;
    if (quoted) {
      if (ch === '"' && source[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else {
        if (ch === '\n') line++;
        cell += ch;
      }
    } else if (ch === '"' && cell === '') quoted = true;
    else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && source[i + 1] === '\n') i++;
      endRow();
      line++;
      rowLine = line;
    } else cell += ch;
  }
  if (cell !== '' || cells.length > 0) endRow();
  return rows;
}

/**
 * Adds imported entries and allow-list words to a library, skipping exact duplicates
 * (same keyword, risk and mode), and stamps the update time.
 */
export function mergeIntoLibrary(library: KeywordLibrary, imported: Pick<ImportResult, 'entries' | 'allow'>, now: Date = new Date()): KeywordLibrary {
  const key = (e: KeywordEntry): string => `${e.risk}\u0000${e.mode}\u0000${e.keyword}`;
  const seen = new Set(library.entries.map(key));
  const entries = [...library.entries];
  for (const entry of imported.entries) {
    if (seen.has(key(entry))) continue;
    seen.add(key(entry));
    entries.push(entry);
  }
  const allow = [...new Set([...library.allow, ...imported.allow])];
  return { ...library, entries, allow, updatedAt: now.toISOString() };
}
