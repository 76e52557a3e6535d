/**
 * @module gateway/live-keywords
 * The keyword libraries the gateway guards with: files named in the config, merged with
 * libraries kept in the store (`hegui keywords save`). Every replica checks the stored
 * libraries' revisions every `reloadSeconds`; when one changed, it loads them, compiles the
 * merged library and swaps it in (`KeywordScanner.swap`): checks already running finish on the
 * library they started with, the next ones use the new one, no restart and no request waits.
 * So a keyword added on one replica (or from the CLI) reaches every replica within one period.
 */
import { compileLibrary, type CompiledLibrary, createLibrary, defaultNoise, type KeywordLibrary, type KeywordScanner, parseLibrary, readLibraryFile } from '../safety/index.js';
import type { Store } from '../store/index.js';
import { GatewayConfigError } from './errors.js';

/**
 * Libraries as one: entries and allow-lists joined, name and transforms of the first; each
 * entry keeps the noise setting of its own library.
 *
 * @example
 * const library = mergeLibraries([fileLibrary, storedLibrary]);
 */
export function mergeLibraries(libraries: readonly KeywordLibrary[]): KeywordLibrary {
  const [first] = libraries;
  if (!first) return createLibrary('none');
  // An entry keeps the noise its own library allows (the merged library has one setting).
  const noiseDiffers = libraries.some((l) => l.noise !== first.noise);
  return {
    ...first,
    name: libraries.map((l) => l.name).join(' + '),
    entries: libraries.flatMap((l) => (noiseDiffers ? l.entries.map((e) => (e.noise === undefined ? { ...e, noise: [...(l.noise ?? defaultNoise)] } : e)) : l.entries)),
    allow: libraries.flatMap((l) => l.allow),
  };
}

/** The keyword libraries in `paths` (`hegui-keywords/1` JSON) as one library. */
export async function loadKeywordLibraries(paths: readonly string[]): Promise<KeywordLibrary> {
  return mergeLibraries(await Promise.all(paths.map((path) => readLibraryFile(path))));
}

export interface LiveKeywordOptions {
  store: Store;
  files: readonly string[];
  /** Names of libraries in the store. */
  names: readonly string[];
  reloadMs: number;
  log: (line: string) => void;
}

/** The file libraries and the stored ones, kept current. */
export class LiveKeywords {
  readonly #options: LiveKeywordOptions;
  readonly #files: readonly KeywordLibrary[];
  /** Revision of each stored library in force (absent: not stored). */
  #revisions = new Map<string, number>();
  #scanner: KeywordScanner | undefined;
  #timer: NodeJS.Timeout | undefined;
  #checking = false;

  private constructor(options: LiveKeywordOptions, files: readonly KeywordLibrary[]) {
    this.#options = options;
    this.#files = files;
  }

  /** Reads the files and the stored libraries; resolves with the merged library compiled (undefined without any). */
  static async load(options: LiveKeywordOptions): Promise<{ live: LiveKeywords; library: CompiledLibrary | undefined }> {
    const live = new LiveKeywords(options, await Promise.all(options.files.map((path) => readLibraryFile(path))));
    if (options.files.length === 0 && options.names.length === 0) return { live, library: undefined };
    const revisions = await live.#storedRevisions();
    for (const name of options.names) if (!revisions.has(name)) options.log(`safety.libraries: no keyword library "${name}" in the store yet; it is used once \`hegui keywords save\` stores it`);
    return { live, library: await live.#compile(revisions) };
  }

  /** Starts checking the stored libraries every `reloadMs`, swapping changes into `scanner`. */
  watch(scanner: KeywordScanner): void {
    if (this.#options.names.length === 0) return;
    this.#scanner = scanner;
    this.#timer = setInterval(() => void this.reload(), this.#options.reloadMs);
    this.#timer.unref();
  }

  /** Checks the stored revisions once; resolves true when a changed library was swapped in. */
  async reload(): Promise<boolean> {
    if (this.#checking || !this.#scanner) return false;
    this.#checking = true;
    try {
      const revisions = await this.#storedRevisions();
      const same = revisions.size === this.#revisions.size && [...revisions].every(([name, revision]) => this.#revisions.get(name) === revision);
      if (same) return false;
      this.#scanner.swap(await this.#compile(revisions));
      this.#options.log(`keyword libraries reloaded: ${[...revisions].map(([name, revision]) => `${name} revision ${revision}`).join(', ') || 'none stored'}`);
      return true;
    } catch (error) {
      // The library in force stays; the next check tries again.
      this.#options.log(`keyword libraries could not be reloaded (the current ones stay in force): ${(error as Error).message}`);
      return false;
    } finally {
      this.#checking = false;
    }
  }

  close(): void {
    clearInterval(this.#timer);
  }

  async #storedRevisions(): Promise<Map<string, number>> {
    if (this.#options.names.length === 0) return new Map();
    const wanted = new Set(this.#options.names);
    const stored = await this.#options.store.keywordLibraries.revisions();
    return new Map([...stored].filter(([name]) => wanted.has(name)));
  }

  async #compile(revisions: Map<string, number>): Promise<CompiledLibrary> {
    const stored: KeywordLibrary[] = [];
    const loaded = new Map<string, number>();
    for (const name of this.#options.names) {
      if (!revisions.has(name)) continue;
      const record = await this.#options.store.keywordLibraries.load(name);
      if (!record) continue;
      const { revision, ...library } = record;
      try {
        stored.push(parseLibrary(library));
      } catch (cause) {
        throw new GatewayConfigError(`keyword library "${name}" revision ${revision} in the store cannot be used: ${(cause as Error).message}`, { cause });
      }
      loaded.set(name, revision);
    }
    const compiled = compileLibrary(mergeLibraries([...this.#files, ...stored]));
    this.#revisions = loaded;
    return compiled;
  }
}
