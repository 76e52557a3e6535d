/**
 * @module safety/library-file
 * The file adapter for keyword libraries (Node only). `node:fs` is imported when a function
 * runs, not when the module loads, so the safety barrel stays loadable in a browser or worker.
 * Writes go to a temporary file that is then renamed over the target, so a library file is
 * never left half written.
 */
import { KeywordLibraryError } from './errors.js';
import type { KeywordLibrary } from './library.js';
import { serialiseLibrary } from './library.js';
import { parseLibrary } from './library-schema.js';

/** Reads and validates a library file; throws `KeywordLibraryError` naming the file. */
export async function readLibraryFile(path: string): Promise<KeywordLibrary> {
  const { readFile } = await import('node:fs/promises');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new KeywordLibraryError(`cannot read keyword library ${path}: ${code === 'ENOENT' ? 'no such file' : (cause as Error).message}`, { cause });
  }
  return parseLibraryText(path, text);
}

/** Parses and validates the text of the library file at `path`. */
export function parseLibraryText(path: string, text: string): KeywordLibrary {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (cause) {
    throw new KeywordLibraryError(`keyword library ${path} is not JSON (${(cause as Error).message}); import word lists with "hegui keywords import"`, { cause });
  }
  try {
    return parseLibrary(document);
  } catch (error) {
    throw new KeywordLibraryError(`${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** Writes a library file atomically (temporary file, then rename). */
export async function writeLibraryFile(path: string, library: KeywordLibrary): Promise<void> {
  const { rename, rm, writeFile } = await import('node:fs/promises');
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  try {
    await writeFile(temporary, serialiseLibrary(library), 'utf8');
    await rename(temporary, path);
  } catch (cause) {
    await rm(temporary, { force: true });
    throw new KeywordLibraryError(`cannot write keyword library ${path}: ${(cause as Error).message}`, { cause });
  }
}
