/**
 * @module cli/scan-library
 * The keyword library a command names with `--keywords`: a library file or `example`, both
 * through the compiled-library cache (safety/library-cache), so a repeated scan skips
 * compiling and never loads pinyin-pro. Apart from cli/scan so its worker threads load only this.
 */
import type { CompiledLibrary } from '../safety/compile.js';
import { loadCompiledExample, loadCompiledLibraryBytes, loadCompiledLibraryFile, readWholeFile } from '../safety/library-cache.js';

/** `--keywords example` uses the built-in example library; undefined when none is named. */
export async function loadCompiledLibrary(source: string | undefined): Promise<CompiledLibrary | undefined> {
  if (source === undefined) return undefined;
  return source === 'example' ? loadCompiledExample() : loadCompiledLibraryFile(source);
}

/**
 * The library of `--keywords` with, for a library file, the bytes it was compiled from in
 * shared memory, so worker threads compile (from the cache) exactly the same library even if
 * the file changes while they start.
 */
export async function loadSharedLibrary(source: string | undefined): Promise<{ compiled: CompiledLibrary | undefined; bytes?: Uint8Array }> {
  if (source === undefined || source === 'example') return { compiled: await loadCompiledLibrary(source) };
  let bytes: Uint8Array;
  try {
    bytes = await readShared(source);
  } catch {
    // Unreadable: the file loader words the error the same way for every command.
    return { compiled: await loadCompiledLibraryFile(source) };
  }
  return { compiled: await loadCompiledLibraryBytes(source, bytes), bytes };
}

/**
 * The bytes of the file at `path` in shared memory (worker threads read them without a copy);
 * a folder is refused with `EISDIR`. Errors are the file system's own.
 */
export async function readShared(path: string): Promise<Uint8Array> {
  return readWholeFile(path, (size) => new Uint8Array(new SharedArrayBuffer(size)));
}
