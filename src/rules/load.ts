/**
 * @module rules/load
 * Reads the regulatory knowledge base: one YAML file per instrument in `data/`, each parsed
 * with `yaml`, validated against the `instrument` schema, then checked across files (unique
 * ids, file name matches id, `superseded.by` names a known instrument). Any problem raises a
 * {@link RulesDataError} naming the file and the exact field, so a typo in the data fails the
 * build instead of silently dropping a duty.
 */
import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { describeIssue } from '../validation.js';
import { COMPILED_FILE, COMPILED_FORMAT, type CompiledInstruments, defaultDataDir, filesDigest, readCompiled, readInstrumentFiles, RulesDataError } from './compiled.js';
import { instrument } from './schema.js';
import type { Instrument } from './schema.js';

export { COMPILED_FILE, defaultDataDir, RulesDataError } from './compiled.js';

/**
 * Parses and validates one instrument file. `fileName` is the base name (`genai-measures.yaml`);
 * it is used in messages and must equal `<id>.yaml`.
 *
 * @example
 * const doc = parseInstrument(readFileSync(path, 'utf8'), 'pipl.yaml');
 */
export function parseInstrument(text: string, fileName: string): Instrument {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new RulesDataError(
      doc.errors.map((e) => `${fileName}: YAML ${e.message.split('\n')[0] ?? e.code}`),
      fileName,
    );
  }
  const result = instrument.safeParse(doc.toJS(), { reportInput: true });
  if (!result.success) {
    throw new RulesDataError(
      result.error.issues.flatMap((issue) => describeIssue(issue, [])).map((p) => `${fileName}: ${p}`),
      fileName,
    );
  }
  const parsed = result.data;
  const problems = [...calendarProblems(parsed), ...consistencyProblems(parsed)];
  const expectedName = `${parsed.id}.yaml`;
  if (fileName !== expectedName) {
    problems.unshift(`id: "${parsed.id}" does not match the file name; rename the file to ${expectedName}`);
  }
  if (problems.length > 0) throw new RulesDataError(problems.map((p) => `${fileName}: ${p}`), fileName);
  return parsed;
}

/**
 * Loads every `*.yaml` instrument in `dir` (default: the bundled data), sorted by id, and
 * checks them against each other.
 *
 * @example
 * const instruments = loadInstruments();
 * instruments.find((i) => i.id === 'genai-measures')?.obligations.length;
 */
export function loadInstruments(dir: string = defaultDataDir): Instrument[] {
  const files = readInstrumentFiles(dir);
  const compiled = readCompiled(dir, files);
  if (compiled) return compiled;
  const instruments = files.map(({ name, text }) => parseInstrument(text, name));
  if (instruments.length === 0) {
    throw new RulesDataError([`${dir}: no *.yaml instrument files found`]);
  }
  checkInstrumentSet(instruments);
  return instruments;
}

/**
 * Checks instruments against each other: unique instrument ids, unique obligation ids, and
 * `superseded.by` naming a known instrument. {@link loadInstruments} runs it on the files it
 * reads; call it yourself when you assemble a set from other sources.
 */
export function checkInstrumentSet(instruments: readonly Instrument[]): void {
  const problems = crossFileProblems(instruments);
  if (problems.length > 0) throw new RulesDataError(problems);
}

/** True for a real calendar day (the schema's pattern alone accepts 2025-02-30). */
function isCalendarDate(value: string): boolean {
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value);
}

function calendarProblems(doc: Instrument): string[] {
  const dates: [string, string | undefined][] = [
    ['promulgated', doc.promulgated],
    ['effective', doc.effective],
    ['repealed', doc.repealed],
    ['superseded.on', doc.superseded?.on],
    ...doc.amendments.flatMap((a, i): [string, string][] => [
      [`amendments[${i}].promulgated`, a.promulgated],
      [`amendments[${i}].effective`, a.effective],
    ]),
    ...doc.obligations.map((o, i): [string, string | undefined] => [`obligations[${i}].effective`, o.effective]),
  ];
  return dates
    .filter((entry): entry is [string, string] => entry[1] !== undefined && !isCalendarDate(entry[1]))
    .map(([path, value]) => `${path}: "${value}" is not a calendar date`);
}

/** Checks within one file that the schema cannot express. */
function consistencyProblems(doc: Instrument): string[] {
  const problems: string[] = [];
  if (doc.effective !== undefined && doc.effective < doc.promulgated) {
    problems.push(`effective: ${doc.effective} is before promulgated ${doc.promulgated}`);
  }
  const versionIds = new Set<string>(['original']);
  doc.amendments.forEach((a, i) => {
    if (versionIds.has(a.id)) problems.push(`amendments[${i}].id: version "${a.id}" is listed twice`);
    versionIds.add(a.id);
    if (a.effective < a.promulgated) problems.push(`amendments[${i}].effective: ${a.effective} is before promulgated ${a.promulgated}`);
  });
  if (doc.superseded?.by === doc.id) problems.push('superseded.by: an instrument cannot supersede itself');
  const seen = new Set<string>();
  doc.obligations.forEach((o, i) => {
    if (seen.has(o.id)) problems.push(`obligations[${i}].id: "${o.id}" is used twice in this file`);
    seen.add(o.id);
  });
  return problems;
}

function crossFileProblems(instruments: readonly Instrument[]): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  const obligationOwners = new Map<string, string>();
  for (const doc of instruments) {
    if (ids.has(doc.id)) problems.push(`${doc.id}.yaml: id: instrument "${doc.id}" is defined twice`);
    ids.add(doc.id);
    doc.obligations.forEach((o, i) => {
      const owner = obligationOwners.get(o.id);
      if (owner !== undefined) {
        problems.push(`${doc.id}.yaml: obligations[${i}].id: "${o.id}" is already used in ${owner}.yaml`);
      } else {
        obligationOwners.set(o.id, doc.id);
      }
    });
  }
  for (const doc of instruments) {
    doc.obligations.forEach((o, i) => {
      for (const alt of o.alternatives ?? []) {
        if (!obligationOwners.has(alt)) problems.push(`${doc.id}.yaml: obligations[${i}].alternatives: "${alt}" is not a known obligation id`);
      }
    });
    if (doc.superseded !== undefined && !ids.has(doc.superseded.by)) {
      problems.push(`${doc.id}.yaml: superseded.by: "${doc.superseded.by}" is not a known instrument id`);
    }
  }
  return problems;
}

/**
 * Validates the YAML in `dir` (as {@link loadInstruments} does) and writes the compiled copy
 * beside it, atomically. The build runs it on `dist/rules/data`. Returns the instrument count.
 */
export function writeCompiledInstruments(dir: string = defaultDataDir): number {
  const names = readdirSync(dir).filter((n) => n.endsWith('.yaml')).sort();
  const files = names.map((name) => ({ name, text: readFileSync(join(dir, name), 'utf8') }));
  const instruments = files.map(({ name, text }) => parseInstrument(text, name));
  checkInstrumentSet(instruments);
  const compiled: CompiledInstruments = { format: COMPILED_FORMAT, digest: filesDigest(files), instruments };
  const target = join(dir, COMPILED_FILE);
  const temporary = `${target}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(compiled));
  renameSync(temporary, target);
  return instruments.length;
}
