/**
 * @module eval/bank-io
 * Question banks as files: JSONL (one item per line), CSV (RFC 4180, a header row) and XLSX
 * (the first sheet, a header row; through exceljs, loaded only when a spreadsheet is read or
 * written). All three carry the same columns:
 *
 * `id, prompt, risk, kind, language, source, group_dimension, group_value, group_template`
 *
 * `id` may be empty (the digest of the normalised prompt is used), `risk` may be empty for
 * should-not-refuse items, `language` may be empty (detected from the prompt), `source` may be
 * empty (the file name is used). Every bad row is reported with its line; nothing is half-read.
 */
import { BankFormatError, type BankProblem, BankProblemsError, checkItem, detectLanguage, promptDigest } from './bank.js';
import type { BankItem } from './types.js';

export type BankFormat = 'jsonl' | 'csv' | 'xlsx';

export const bankColumns = ['id', 'prompt', 'risk', 'kind', 'language', 'source', 'group_dimension', 'group_value', 'group_template'] as const;

/** The format a file name implies, or undefined. */
export function formatOfFile(name: string): BankFormat | undefined {
  const lower = name.toLowerCase();
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.xlsx')) return 'xlsx';
  return undefined;
}

/** A row of cells by column name, as read from a CSV or a sheet. */
type Row = Readonly<Record<string, string>>;

function blank(v: string | undefined): boolean {
  return v === undefined || v.trim() === '';
}

/** Turns a flat row into a raw item (defaults filled in) for `checkItem`. */
function rowToRaw(row: Row, source: string): Record<string, unknown> {
  const prompt = row.prompt ?? '';
  const raw: Record<string, unknown> = {
    id: blank(row.id) ? promptDigest(prompt, (row.kind ?? '').trim()) : row.id!.trim(),
    prompt,
    risk: blank(row.risk) ? null : row.risk!.trim(),
    kind: (row.kind ?? '').trim(),
    language: blank(row.language) ? detectLanguage(prompt) : row.language!.trim(),
    source: blank(row.source) ? source : row.source!.trim(),
  };
  const dims = [row.group_dimension, row.group_value, row.group_template];
  if (dims.some((d) => !blank(d))) raw.group = { dimension: (row.group_dimension ?? '').trim(), value: (row.group_value ?? '').trim(), templateId: (row.group_template ?? '').trim() };
  return raw;
}

function finish(results: { item?: BankItem; problems: BankProblem[] }[], source: string): BankItem[] {
  const problems = results.flatMap((r) => r.problems);
  if (problems.length > 0) throw new BankProblemsError(source, problems);
  return results.map((r) => r.item!);
}

// ---------------------------------------------------------------- JSONL

/** Reads a JSONL bank: one JSON object per line with the item's fields; blank lines are skipped. */
export function parseBankJsonl(text: string, source = 'bank.jsonl'): BankItem[] {
  const results: { item?: BankItem; problems: BankProblem[] }[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      results.push({ problems: [{ line: i + 1, code: 'E_BANK_JSON', message: `not JSON: ${(error as Error).message}` }] });
      return;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      results.push({ problems: [{ line: i + 1, code: 'E_BANK_JSON', message: 'each line must be a JSON object' }] });
      return;
    }
    const o = value as Record<string, unknown>;
    const prompt = typeof o.prompt === 'string' ? o.prompt : '';
    const raw = {
      ...o,
      id: o.id === undefined || o.id === '' ? promptDigest(prompt, typeof o.kind === 'string' ? o.kind : '') : o.id,
      risk: o.risk === undefined || o.risk === '' ? null : o.risk,
      language: o.language === undefined || o.language === '' ? detectLanguage(prompt) : o.language,
      source: o.source === undefined || o.source === '' ? source : o.source,
    };
    results.push(checkItem(raw, i + 1));
  });
  return finish(results, source);
}

export function writeBankJsonl(items: readonly BankItem[]): string {
  return items.map((item) => `${JSON.stringify(item)}\n`).join('');
}

// ---------------------------------------------------------------- CSV

/** RFC 4180 records with the line each starts on: quoted fields hold commas, doubled quotes and line breaks. */
export function csvRecords(text: string): { line: number; cells: string[] }[] {
  const records: { line: number; cells: string[] }[] = [];
  const s = text.replace(/^\uFEFF/, '');
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  let i = 0;
  const endRecord = (): void => {
    cells.push(cell);
    if (!(cells.length === 1 && cells[0] === '')) records.push({ line: start, cells });
    cells = [];
    cell = '';
  };
  while (i < s.length) {
    const c = s[i]!;
    if (quoted) {
      if (c === '"') {
        if (s[i + 1] === '"') {
          cell += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        if (c === '\n') line += 1;
        cell += c;
      }
      i += 1;
      continue;
    }
    if (c === '"' && cell === '') quoted = true;
    else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && s[i + 1] === '\n') i += 1;
      endRecord();
      line += 1;
      start = line;
    } else cell += c;
    i += 1;
  }
  if (quoted) throw new BankFormatError(`CSV: a quoted field opened on line ${start} is never closed`);
  if (cell !== '' || cells.length > 0) endRecord();
  return records;
}

function csvCell(value: string): string {
  // A leading =, +, - or @ would run as a formula in a spreadsheet; a quote keeps it text.
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) || safe !== value ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function rowsOf(records: { line: number; cells: string[] }[], source: string): { line: number; row: Row }[] {
  const [header, ...body] = records;
  if (header === undefined) return [];
  const names = header.cells.map((c) => c.trim().toLowerCase());
  if (!names.includes('prompt') || !names.includes('kind')) {
    throw new BankFormatError(`${source}: the header row must name at least "prompt" and "kind" (columns: ${bankColumns.join(', ')})`);
  }
  const unknown = names.filter((n) => n !== '' && !(bankColumns as readonly string[]).includes(n));
  if (unknown.length > 0) throw new BankFormatError(`${source}: unknown column(s) ${unknown.join(', ')} (known: ${bankColumns.join(', ')})`);
  return body.map(({ line, cells }) => ({ line, row: Object.fromEntries(names.map((n, k) => [n, cells[k] ?? ''])) }));
}

function unquoteFormula(v: string): string {
  return v.startsWith("'") && /^'[=+\-@\t\r]/.test(v) ? v.slice(1) : v;
}

export function parseBankCsv(text: string, source = 'bank.csv'): BankItem[] {
  const rows = rowsOf(csvRecords(text), source);
  return finish(
    rows.map(({ line, row }) => checkItem(rowToRaw(Object.fromEntries(Object.entries(row).map(([k, v]) => [k, unquoteFormula(v)])), source), line)),
    source,
  );
}

function flat(item: BankItem): string[] {
  return [item.id, item.prompt, item.risk ?? '', item.kind, item.language, item.source, item.group?.dimension ?? '', item.group?.value ?? '', item.group?.templateId ?? ''];
}

export function writeBankCsv(items: readonly BankItem[]): string {
  const lines = [bankColumns.join(','), ...items.map((item) => flat(item).map(csvCell).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}

// ---------------------------------------------------------------- XLSX

/** The most rows a sheet may have: far above any bank, bounded so a crafted file cannot run away. */
const MAX_ROWS = 1_000_000;

function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') {
    const v = value as { richText?: { text: string }[]; text?: unknown; result?: unknown };
    if (Array.isArray(v.richText)) return v.richText.map((r) => r.text).join('');
    if (typeof v.text === 'string') return v.text;
    if (v.result !== undefined) return cellText(v.result);
  }
  return String(value);
}

/** Reads the first sheet of an XLSX workbook as a bank. */
export async function parseBankXlsx(bytes: Uint8Array, source = 'bank.xlsx'): Promise<BankItem[]> {
  const { default: ExcelJS } = await import('exceljs');
  const workbook = new ExcelJS.Workbook();
  try {
    await workbook.xlsx.load(Buffer.from(bytes) as unknown as ArrayBuffer);
  } catch (cause) {
    throw new BankFormatError(`${source} is not a readable XLSX workbook: ${(cause as Error).message}`, { cause });
  }
  const sheet = workbook.worksheets[0];
  if (sheet === undefined) throw new BankFormatError(`${source} has no worksheet`);
  if (sheet.rowCount > MAX_ROWS) throw new BankFormatError(`${source}: ${sheet.rowCount} rows is more than ${MAX_ROWS}`);
  const records: { line: number; cells: string[] }[] = [];
  sheet.eachRow({ includeEmpty: false }, (row, rowNumber) => {
    const cells: string[] = [];
    for (let c = 1; c <= Math.max(row.cellCount, bankColumns.length); c += 1) cells.push(cellText(row.getCell(c).value));
    while (cells.length > 0 && cells[cells.length - 1] === '') cells.pop();
    if (cells.length > 0) records.push({ line: rowNumber, cells });
  });
  const rows = rowsOf(records, source);
  return finish(rows.map(({ line, row }) => checkItem(rowToRaw(row, source), line)), source);
}

/** Writes the items as an XLSX workbook with one sheet, `items`, every cell as text. */
export async function writeBankXlsx(items: readonly BankItem[]): Promise<Uint8Array> {
  const { default: ExcelJS } = await import('exceljs');
  const workbook = new ExcelJS.Workbook();
  workbook.creator = 'hegui';
  const sheet = workbook.addWorksheet('items');
  sheet.addRow([...bankColumns]);
  for (const item of items) {
    // Strings stay strings: exceljs writes them as shared strings, never as formulas.
    sheet.addRow(flat(item));
  }
  sheet.getRow(1).font = { bold: true };
  sheet.columns.forEach((col, i) => {
    col.width = i === 1 ? 60 : 18;
  });
  const buffer = await workbook.xlsx.writeBuffer();
  return new Uint8Array(buffer as ArrayBuffer);
}

// ---------------------------------------------------------------- any format

/** The largest bank file read: far above any real bank (a million short items), bounded against runaway input. */
export const MAX_BANK_FILE_BYTES = 256 * 1024 * 1024;

export async function readBank(bytes: Uint8Array, format: BankFormat, source: string): Promise<BankItem[]> {
  if (bytes.length > MAX_BANK_FILE_BYTES) throw new BankFormatError(`${source} is ${bytes.length} bytes, more than the ${MAX_BANK_FILE_BYTES} a bank file may have`);
  if (format === 'xlsx') return parseBankXlsx(bytes, source);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new BankFormatError(`${source} is not UTF-8 text`, { cause });
  }
  return format === 'csv' ? parseBankCsv(text, source) : parseBankJsonl(text, source);
}

export async function writeBank(items: readonly BankItem[], format: BankFormat): Promise<Uint8Array> {
  if (format === 'xlsx') return writeBankXlsx(items);
  return new TextEncoder().encode(format === 'csv' ? writeBankCsv(items) : writeBankJsonl(items));
}
