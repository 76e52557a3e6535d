/**
 * @module rules/compiled
 * The knowledge base's files and the build's validated copy of them, without the YAML parser
 * and the schema (zod): `hegui rules` reads the copy and loads those two only when the copy is
 * missing or stale (issue 14: start-up). `load.ts` parses and validates; it re-exports
 * {@link RulesDataError} and {@link defaultDataDir} from here.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidInputError } from '../errors.js';
import type { Instrument } from './schema.js';

/**
 * The data folder beside this module: `src/rules/data` under tsx/vitest, `dist/rules/data`
 * after the build copies it.
 */
export const defaultDataDir: string = fileURLToPath(new URL('./data/', import.meta.url));

/** A knowledge-base file is malformed or inconsistent with the others. */
export class RulesDataError extends InvalidInputError {
  /** The file at fault (base name), when one file is to blame. */
  readonly file: string | undefined;
  /** Each problem as `<file>: <field path>: <what is wrong>`. */
  readonly problems: readonly string[];

  constructor(problems: readonly string[], file?: string, options?: { cause?: unknown }) {
    super('E_RULES_DATA', `regulatory data is invalid:\n  ${problems.join('\n  ')}`, options);
    this.file = file;
    this.problems = problems;
  }
}

/** One instrument file: its base name and its text. */
export interface InstrumentFile {
  name: string;
  text: string;
}

/** Every `*.yaml` file in `dir`, sorted by name; a `*.yml` file there is an error. */
export function readInstrumentFiles(dir: string): InstrumentFile[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (cause) {
    throw new RulesDataError([`${dir}: cannot read the data folder (${(cause as Error).message})`], undefined, { cause });
  }
  const strays = names.filter((n) => n.endsWith('.yml'));
  if (strays.length > 0) {
    throw new RulesDataError(strays.map((n) => `${n}: instrument files end in .yaml; rename it`), strays[0]);
  }
  return names.filter((n) => n.endsWith('.yaml')).map((name) => ({ name, text: readFileSync(join(dir, name), 'utf8') }));
}

/**
 * The build's validated copy of a data folder (`dist/rules/data/instruments.compiled.json`):
 * the instruments as JSON with a digest of every YAML file it was made from. Parsing the YAML
 * and validating it with zod is most of a rules command's time; the build does both once, and
 * the loaders take the copy only while the digest still matches the files beside it, so an
 * edited, added or removed file is read and validated afresh.
 */
export const COMPILED_FILE = 'instruments.compiled.json';
export const COMPILED_FORMAT = 'hegui-instruments/1';

export interface CompiledInstruments {
  format: string;
  digest: string;
  instruments: Instrument[];
}

export function filesDigest(files: readonly InstrumentFile[]): string {
  const hash = createHash('sha256');
  for (const { name, text } of files) hash.update(`${name}\0${text.length}\0${text}\0`);
  return hash.digest('hex');
}

/** The compiled copy in `dir` when it was made from exactly `files`; undefined otherwise (missing, stale, damaged). */
export function readCompiled(dir: string, files: readonly InstrumentFile[]): Instrument[] | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, COMPILED_FILE), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const compiled = JSON.parse(text) as CompiledInstruments;
    if (compiled.format !== COMPILED_FORMAT || compiled.digest !== filesDigest(files) || !Array.isArray(compiled.instruments)) return undefined;
    return compiled.instruments;
  } catch {
    return undefined; // a damaged copy is ignored: the YAML is the source
  }
}

/**
 * What `loadInstruments(dir)` returns, loading the YAML parser and the schema only when the
 * compiled copy cannot be used (then the files are read, parsed and validated as there).
 */
export async function loadInstrumentsLazily(dir: string = defaultDataDir): Promise<Instrument[]> {
  return readCompiled(dir, readInstrumentFiles(dir)) ?? (await import('./load.js')).loadInstruments(dir);
}
