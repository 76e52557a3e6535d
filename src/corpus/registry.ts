/**
 * @module corpus/registry
 * The register of training-data sources (AI Measures Art. 7; GB/T 45654 §5.1): where each
 * source comes from, how it was collected, its licence (an SPDX expression where it has one;
 * `unknown` when nobody knows, never assumed fine), the legal basis for the personal
 * information in it, its language, whether it is foreign and open-source, size, dates, owner.
 *
 * A source is a candidate, approved or blocked. Its state changes only through `changeState`,
 * with a reason, recorded in the source's history and in the audit log. Approval needs a known
 * licence, a known legal basis for personal information, and a finished scan on record that
 * sampled at least the minimum (4,000 items, or the whole source when it is smaller) and found
 * the source usable under the 5 % rule.
 */
import { randomUUID } from 'node:crypto';
import spdxParse from 'spdx-expression-parse';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { z } from 'zod';
import type { CorpusScanRecord, CorpusSourceRecord, CorpusSourceState, Store } from '../store/index.js';
import { describeIssues } from '../validation.js';
import { CorpusInputError, CorpusStateError } from './errors.js';
import { csvRecord, parseCsvText } from './read-csv.js';

export const sourceStates = ['candidate', 'approved', 'blocked'] as const;

export const collectionMethods = ['self-collected', 'commercial', 'open-source', 'crawled', 'user-input', 'synthetic', 'partner', 'other'] as const;

/** Legal bases for processing personal information (PIPL Art. 13), plus `none-contained` and `unknown`. */
export const piLegalBases = ['consent', 'contract', 'legal-duty', 'emergency', 'news-public-interest', 'already-public', 'other-law', 'none-contained', 'unknown'] as const;

/** The smallest sample an approval can rest on (GB/T 45654: at least 4,000 items per source). */
export const MIN_APPROVAL_SAMPLE = 4000;

/**
 * A licence as the register keeps it: a valid SPDX expression (`MIT`, `CC-BY-4.0`,
 * `Apache-2.0 OR MIT`, `LicenseRef-vendor-contract`), or `unknown`. Anything else is refused
 * with the reason, so a typo never passes for a licence.
 */
export function checkLicence(licence: string): { ok: true; licence: string } | { ok: false; message: string } {
  const value = licence.trim();
  if (value === '' || value.toLowerCase() === 'unknown') return { ok: true, licence: 'unknown' };
  try {
    spdxParse(value);
    return { ok: true, licence: value };
  } catch (error) {
    return { ok: false, message: `"${value}" is not an SPDX licence expression (${(error as Error).message}); use an SPDX id such as CC-BY-4.0 or Apache-2.0, LicenseRef-<name> for a licence without one, or "unknown"` };
  }
}

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date YYYY-MM-DD');

/** A source as users write it (YAML, CSV, CLI flags). */
export const sourceInputSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'expected a short id: lower-case letters, digits, dot, dash, underscore'),
    name: z.string().min(1),
    origin: z.string().min(1),
    collectionMethod: z.enum(collectionMethods),
    licence: z.string().default('unknown'),
    piLegalBasis: z.enum(piLegalBases).default('unknown'),
    language: z.string().min(1).default('unknown'),
    foreign: z.boolean().nullable().default(null),
    openSource: z.boolean().nullable().default(null),
    sizeBytes: z.number().int().nonnegative().nullable().default(null),
    items: z.number().int().nonnegative().nullable().default(null),
    collectedFrom: isoDate.nullable().default(null),
    collectedTo: isoDate.nullable().default(null),
    owner: z.string().min(1),
    notes: z.string().nullable().default(null),
  })
  .strict();

export type SourceInput = z.input<typeof sourceInputSchema>;

/** Validates a source document; throws `CorpusInputError` naming every bad field. */
export function parseSourceInput(input: unknown, where = 'source'): z.output<typeof sourceInputSchema> {
  const result = sourceInputSchema.safeParse(input);
  if (!result.success) throw new CorpusInputError('E_CORPUS_SOURCE_INVALID', `${where}: ${describeIssues(result.error).join('; ')}`);
  const licence = checkLicence(result.data.licence);
  if (!licence.ok) throw new CorpusInputError('E_CORPUS_LICENCE', `${where}: licence: ${licence.message}`);
  const { collectedFrom, collectedTo } = result.data;
  if (collectedFrom !== null && collectedTo !== null && collectedFrom > collectedTo) throw new CorpusInputError('E_CORPUS_SOURCE_INVALID', `${where}: collectedFrom ${collectedFrom} is after collectedTo ${collectedTo}`);
  return { ...result.data, licence: licence.licence };
}

/** Something that records audit events (the audit log, or a test double). */
export interface AuditSink {
  append(event: { type: string; actor: string; outcome?: string; payload?: Record<string, unknown> }): Promise<unknown>;
}

export class SourceRegistry {
  readonly #store: Store;
  readonly #audit: AuditSink | undefined;
  readonly #clock: () => Date;

  constructor(store: Store, options: { audit?: AuditSink; clock?: () => Date } = {}) {
    this.#store = store;
    this.#audit = options.audit;
    this.#clock = options.clock ?? (() => new Date());
  }

  async get(id: string): Promise<CorpusSourceRecord> {
    const source = await this.#store.corpus.getSource(id);
    if (source === undefined) throw new CorpusInputError('E_CORPUS_SOURCE_UNKNOWN', `no source "${id}" in the register; add it with "hegui corpus source add"`);
    return source;
  }

  list(): Promise<CorpusSourceRecord[]> {
    return this.#store.corpus.listSources();
  }

  /** Adds a new source as a candidate. */
  async add(input: unknown, actor: string): Promise<CorpusSourceRecord> {
    const data = parseSourceInput(input);
    const at = this.#clock().toISOString();
    const source: CorpusSourceRecord = { ...data, state: 'candidate', stateReason: 'registered', stateChangedAt: at, stateChangedBy: actor, createdAt: at, updatedAt: at };
    const added = await this.#store.corpus.insertSource(source, { id: randomUUID(), source: data.id, at, actor, fromState: null, toState: 'candidate', reason: 'registered', scanId: null });
    if (!added) throw new CorpusStateError('E_CORPUS_SOURCE_EXISTS', `source "${data.id}" is already in the register; "hegui corpus source import" updates existing sources`);
    await this.#audit?.append({ type: 'corpus.source', actor, outcome: 'candidate', payload: { source: data.id, from: null, to: 'candidate', reason: 'registered' } });
    return source;
  }

  /** Replaces a source's description; its state stays as it is. */
  async update(input: unknown): Promise<CorpusSourceRecord> {
    const data = parseSourceInput(input);
    const current = await this.get(data.id);
    const source: CorpusSourceRecord = { ...current, ...data, updatedAt: this.#clock().toISOString() };
    await this.#store.corpus.updateSource(source);
    return source;
  }

  /**
   * Moves a source to `to` for `reason`. Approval is refused unless the licence and the legal
   * basis are known and the newest finished scan of the source sampled enough and found it usable.
   */
  async changeState(id: string, to: CorpusSourceState, reason: string, actor: string): Promise<{ source: CorpusSourceRecord; scan?: CorpusScanRecord }> {
    if (!sourceStates.includes(to)) throw new CorpusInputError('E_CORPUS_STATE', `state must be one of ${sourceStates.join(', ')}`);
    const why = reason.trim();
    if (why.length < 3) throw new CorpusStateError('E_CORPUS_REASON', 'a state change needs a reason (--reason "...")');
    const source = await this.get(id);
    if (source.state === to) throw new CorpusStateError('E_CORPUS_STATE', `source "${id}" is already ${to}`);
    let scan: CorpusScanRecord | undefined;
    if (to === 'approved') {
      const problems: string[] = [];
      if (source.licence === 'unknown') problems.push('its licence is unknown');
      if (source.piLegalBasis === 'unknown') problems.push('the legal basis for its personal information is unknown');
      scan = await this.#store.corpus.latestFinishedScan(id);
      if (scan === undefined) problems.push('it has no finished scan ("hegui corpus scan")');
      else {
        const report = scan.report as { sampled?: number; population?: number; verdict?: { usable?: boolean } } | null;
        const sampled = report?.sampled ?? 0;
        const population = report?.population ?? 0;
        if (sampled < Math.min(MIN_APPROVAL_SAMPLE, population) || sampled === 0) problems.push(`its newest scan ${scan.id} checked ${sampled} items, fewer than ${MIN_APPROVAL_SAMPLE} (or the whole source)`);
        if (scan.usable !== true || report?.verdict?.usable !== true) problems.push(`its newest scan ${scan.id} did not find it usable under the 5 % rule`);
      }
      if (problems.length > 0) throw new CorpusStateError('E_CORPUS_APPROVAL', `cannot approve "${id}": ${problems.join('; ')}`);
    }
    const at = this.#clock().toISOString();
    const changed = await this.#store.corpus.changeState({ id: randomUUID(), source: id, at, actor, fromState: source.state, toState: to, reason: why, scanId: scan?.id ?? null });
    if (!changed) throw new CorpusStateError('E_CORPUS_STATE', `source "${id}" changed meanwhile; look at it again and retry`);
    await this.#audit?.append({ type: 'corpus.source', actor, outcome: to, payload: { source: id, from: source.state, to, reason: why, ...(scan ? { scan: scan.id } : {}) } });
    return { source: { ...source, state: to, stateReason: why, stateChangedAt: at, stateChangedBy: actor, updatedAt: at }, ...(scan ? { scan } : {}) };
  }

  /** Adds the sources of a document that are new and updates the others; states are never imported. */
  async import(sources: unknown[], actor: string): Promise<{ added: string[]; updated: string[] }> {
    const parsed = sources.map((s, i) => {
      const { state: _state, stateReason: _reason, stateChangedAt: _at, stateChangedBy: _by, ...rest } = (s ?? {}) as Record<string, unknown>;
      return parseSourceInput(rest, `source ${i + 1}`);
    });
    const added: string[] = [];
    const updated: string[] = [];
    for (const data of parsed) {
      if ((await this.#store.corpus.getSource(data.id)) === undefined) {
        await this.add(data, actor);
        added.push(data.id);
      } else {
        await this.update(data);
        updated.push(data.id);
      }
    }
    return { added, updated };
  }
}

/** The fields of a source in the order exports write them. */
export const sourceFields = ['id', 'name', 'origin', 'collectionMethod', 'licence', 'piLegalBasis', 'language', 'foreign', 'openSource', 'sizeBytes', 'items', 'collectedFrom', 'collectedTo', 'owner', 'notes', 'state', 'stateReason', 'stateChangedAt', 'stateChangedBy'] as const;

function exportable(source: CorpusSourceRecord): Record<string, unknown> {
  return Object.fromEntries(sourceFields.map((field) => [field, source[field]]));
}

export function exportSourcesYaml(sources: readonly CorpusSourceRecord[]): string {
  return stringifyYaml({ sources: sources.map(exportable) });
}

export function exportSourcesCsv(sources: readonly CorpusSourceRecord[]): string {
  const lines = [csvRecord(sourceFields)];
  for (const source of sources) lines.push(csvRecord(sourceFields.map((field) => (source[field] === null ? '' : String(source[field])))));
  return `${lines.join('\n')}\n`;
}

const numericFields = new Set(['sizeBytes', 'items']);
const booleanFields = new Set(['foreign', 'openSource']);

/** The sources of a YAML (`sources: [...]` or a list) or CSV document, as plain objects for `SourceRegistry.import`. */
export function parseSourcesDocument(text: string, format: 'yaml' | 'csv'): unknown[] {
  if (format === 'yaml') {
    let document: unknown;
    try {
      document = parseYaml(text);
    } catch (error) {
      throw new CorpusInputError('E_CORPUS_SOURCE_INVALID', `not YAML: ${(error as Error).message}`);
    }
    const list = Array.isArray(document) ? document : (document as { sources?: unknown } | null)?.sources;
    if (!Array.isArray(list)) throw new CorpusInputError('E_CORPUS_SOURCE_INVALID', 'expected a list of sources, or "sources:" with a list');
    return list;
  }
  const { records, errors } = parseCsvText(text);
  if (errors.length > 0) throw new CorpusInputError('E_CORPUS_SOURCE_INVALID', `CSV: ${errors.join('; ')}`);
  const [header, ...rows] = records;
  if (header === undefined) return [];
  const unknown = header.filter((name) => !(sourceFields as readonly string[]).includes(name));
  if (unknown.length > 0) throw new CorpusInputError('E_CORPUS_SOURCE_INVALID', `CSV: unknown columns ${unknown.join(', ')} (known: ${sourceFields.join(', ')})`);
  return rows.map((row, r) => {
    if (row.length !== header.length) throw new CorpusInputError('E_CORPUS_SOURCE_INVALID', `CSV: record ${r + 1} has ${row.length} fields where the header has ${header.length}`);
    const out: Record<string, unknown> = {};
    header.forEach((name, i) => {
      let value: string = row[i]!;
      if (/^'[=+\-@]/.test(value)) value = value.slice(1);
      if (value === '') out[name] = name === 'licence' ? 'unknown' : null;
      else if (numericFields.has(name)) out[name] = /^\d+$/.test(value) ? Number(value) : value;
      else if (booleanFields.has(name)) out[name] = value === 'true' ? true : value === 'false' ? false : value;
      else out[name] = value;
    });
    for (const [key, value] of Object.entries(out)) if (value === null && !['foreign', 'openSource', 'sizeBytes', 'items', 'collectedFrom', 'collectedTo', 'notes'].includes(key)) delete out[key];
    return out;
  });
}
