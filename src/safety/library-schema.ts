/**
 * @module safety/library-schema
 * Reads a keyword library document: the schema every library from a file, the database or a
 * request goes through. Apart from safety/library so that code that only needs the library's
 * types and constants (the scanner, the compiled-library cache) does not load zod, about
 * 120 ms of a command's start (issue 14).
 */
import { z } from 'zod';
import { KeywordLibraryError } from './errors.js';
import type { KeywordEntry, KeywordLibrary } from './library.js';
import { LIBRARY_FORMAT, matchModes, severities } from './library.js';
import { noiseKinds, resolveOptions } from './options.js';
import { isRiskCode, riskCodes } from './taxonomy.js';

const entrySchema = z.strictObject({
  keyword: z.string().min(1).max(256),
  risk: z.string().refine(isRiskCode, { message: `a GB/T 45654 risk code (${riskCodes[0]} .. ${riskCodes[riskCodes.length - 1]})` }),
  mode: z.enum(matchModes).default('literal'),
  severity: z.enum(severities).default('medium'),
  allow: z.array(z.string().min(1).max(256)).optional(),
  noise: z.array(z.enum(noiseKinds)).optional(),
  words: z.boolean().optional(),
});

const transformsSchema = z
  .strictObject({
    nfkc: z.boolean(),
    width: z.boolean(),
    caseFold: z.boolean(),
    traditional: z.boolean(),
    invisible: z.boolean(),
    skipNoise: z.boolean(),
    collapseRepeats: z.boolean(),
    homoglyphs: z.boolean(),
    pinyin: z.boolean(),
    crossLineBreaks: z.boolean(),
    latinWordBoundary: z.boolean(),
  })
  .partial();

const librarySchema = z.strictObject({
  format: z.literal(LIBRARY_FORMAT).optional(),
  name: z.string().min(1),
  version: z.string().min(1).default('1'),
  updatedAt: z.iso.datetime({ offset: true }).default(() => new Date(0).toISOString()),
  transforms: transformsSchema.default({}),
  entries: z.array(entrySchema),
  allow: z.array(z.string().min(1).max(256)).default([]),
  noise: z.array(z.enum(noiseKinds)).optional(),
});

/**
 * Checks a parsed JSON document and returns the library it describes, with defaults filled
 * in (mode `literal`, severity `medium`, every transform on except `crossLineBreaks`).
 * Throws `KeywordLibraryError` naming the first bad field.
 */
export function parseLibrary(document: unknown): KeywordLibrary {
  const parsed = librarySchema.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join('.') || 'library';
    throw new KeywordLibraryError(`invalid keyword library at ${where}: ${issue?.message ?? 'unknown problem'}`, { cause: parsed.error });
  }
  const { format: _format, noise, ...rest } = parsed.data;
  // Optional fields stay absent when absent, so a library written before they existed reads
  // and writes back unchanged.
  const entries = rest.entries.map(({ allow, noise: entryNoise, words, ...entry }) => ({
    ...entry,
    ...(allow === undefined ? {} : { allow }),
    ...(entryNoise === undefined ? {} : { noise: entryNoise }),
    ...(words === undefined ? {} : { words }),
  })) as KeywordEntry[];
  return { ...rest, transforms: resolveOptions(rest.transforms), entries, ...(noise === undefined ? {} : { noise }) };
}
