/**
 * @module safety/library
 * A keyword library: the entries a provider filters for, each tied to a GB/T 45654 risk,
 * the allow-list of benign words that contain a keyword, and the normalisation transforms
 * the library was written for. Libraries are plain JSON documents, so they can be kept in a
 * file, in the database or in a request body alike. Reading one (`parseLibrary`) is in
 * library-schema.ts, apart from this module, so that what only scans with a compiled library
 * (a command starting from the compiled-library cache) does not load the schema library.
 */
import type { NoiseKind, NormaliserOptions } from './options.js';
import { resolveOptions } from './options.js';
import type { RiskCode } from './taxonomy.js';

/**
 * How an entry matches: `literal` (after normalisation), `pinyin` (also its pinyin spelling
 * and, from three characters up, its initials), `regex` (a JavaScript regular expression over
 * the normalised text of one line).
 */
export const matchModes = ['literal', 'pinyin', 'regex'] as const;
export type MatchMode = (typeof matchModes)[number];

export const severities = ['low', 'medium', 'high'] as const;
export type Severity = (typeof severities)[number];

export interface KeywordEntry {
  keyword: string;
  risk: RiskCode;
  mode: MatchMode;
  severity: Severity;
  /**
   * Exception phrases for this keyword alone: a hit of it that lies wholly inside one of them
   * is not reported (`平台独家` protects `台独` there and nowhere else).
   */
  allow?: string[];
  /** What may stand between its characters; the library's `noise` when omitted. */
  noise?: NoiseKind[];
  /**
   * Word-boundary mode: a hit counts only where the keyword is a word or a run of words of
   * the text, as a Chinese word segmenter (jieba) cuts it, so `台独` is not found in `平台独家`.
   */
  words?: boolean;
}

export interface KeywordLibrary {
  name: string;
  /** The library's own version, chosen by whoever maintains it. */
  version: string;
  /** ISO 8601 date-time of the last change. */
  updatedAt: string;
  transforms: NormaliserOptions;
  entries: KeywordEntry[];
  /** Benign words that contain a keyword; a keyword hit inside one of them is not reported. */
  allow: string[];
  /**
   * What may stand between a keyword's characters (see `noiseKinds`); omitted: `defaultNoise`,
   * everything evasions use, clause punctuation excluded.
   */
  noise?: NoiseKind[];
}

/** The file format marker, so a stray JSON file is not mistaken for a library. */
export const LIBRARY_FORMAT = 'hegui-keywords/1';

/** The JSON document for a library (what `parseLibrary` reads back). */
export function serialiseLibrary(library: KeywordLibrary): string {
  return `${JSON.stringify({ format: LIBRARY_FORMAT, ...library }, null, 2)}\n`;
}

/** A new, empty library. */
export function createLibrary(name: string, options?: { version?: string; updatedAt?: Date; transforms?: Partial<NormaliserOptions> }): KeywordLibrary {
  return {
    name,
    version: options?.version ?? '1',
    updatedAt: (options?.updatedAt ?? new Date()).toISOString(),
    transforms: resolveOptions(options?.transforms),
    entries: [],
    allow: [],
  };
}
