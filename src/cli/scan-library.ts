/**
 * @module cli/scan-library
 * The keyword library a command names with `--keywords`: a library file or `example`, both
 * through the compiled-library cache (safety/library-cache), so a repeated scan skips
 * compiling and never loads pinyin-pro. Apart from cli/scan so its worker threads load only this.
 */
import type { CompiledLibrary } from '../safety/compile.js';
import { loadCompiledExample, loadCompiledLibraryFile } from '../safety/library-cache.js';

/** `--keywords example` uses the built-in example library; undefined when none is named. */
export async function loadCompiledLibrary(source: string | undefined): Promise<CompiledLibrary | undefined> {
  if (source === undefined) return undefined;
  return source === 'example' ? loadCompiledExample() : loadCompiledLibraryFile(source);
}
