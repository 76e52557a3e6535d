/**
 * @module cli/files
 * Reading the documents a command is given, with messages a user can act on.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { NotFoundError } from '../errors.js';
import type { CliIo } from './io.js';

/** Reads a UTF-8 text file named on the command line (relative to the working directory). */
export async function readTextFile(io: CliIo, file: string, what: string): Promise<string> {
  try {
    return await readFile(resolve(io.cwd, file), 'utf8');
  } catch (cause) {
    throw fileError(file, what, cause);
  }
}

/** The error for a file named on the command line that cannot be read. */
export function fileError(file: string, what: string, cause: unknown): NotFoundError {
  const code = (cause as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : code === 'EACCES' ? 'permission denied' : (cause as Error).message;
  return new NotFoundError('E_FILE_NOT_FOUND', `cannot read ${what} ${file}: ${why}`, { cause });
}
