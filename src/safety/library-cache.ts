/**
 * @module safety/library-cache
 * Compiled keyword libraries cached on disk (Node only), so a command that scans does not pay
 * for compiling its library every time it starts (issue 14): no pinyin-pro import, no fold
 * build, no automaton build, no schema validation of every entry.
 *
 * A library file `LIB.json` gets its cache beside it, `LIB.json.hegui-cache`; the built-in
 * example library gets `example.hegui-cache` in the per-user cache directory
 * (`$HEGUI_CACHE_DIR`, else `$XDG_CACHE_HOME/hegui`, else `~/.cache/hegui`).
 *
 * The cache is never trusted blindly. Its key is a SHA-256 of the cache format, hegui's version
 * and the library file's bytes, so an edited library or another hegui release misses; a
 * SHA-256 of the whole file closes it, so a truncated or corrupted cache is rejected before
 * anything in it is used; any miss or rejection recompiles from the JSON and rewrites the
 * cache. Writes go to a temporary file renamed into place; a directory that cannot be written
 * to just goes without a cache. Both hashes run on the calling thread with node:crypto (about
 * 25 ms for the 39 MB of a 100,000-word library and its cache on a CPU with SHA extensions).
 *
 * Layout: `HGUICL03`, the header's length (uint32 LE), the header (JSON: key, plain fields and
 * each typed array's name, type and length), the typed arrays (each at an 8-byte boundary;
 * the entries' keywords among them as UTF-16), then the SHA-256 of everything before it.
 */
import type { createHash as CreateHash } from 'node:crypto';
import type { Automaton } from './automaton.js';
import type { CompiledLibrary, CompiledParts } from './compile.js';
import { assembleCompiled, compileLibrary, compiledParts } from './compile.js';
import { exampleLibrary } from './example-library.js';
import { FoldTable } from './fold.js';
import type { KeywordEntry, KeywordLibrary } from './library.js';
import { matchModes, serialiseLibrary, severities } from './library.js';
import { parseLibraryText, readLibraryFile } from './library-file.js';
import { version as heguiVersion } from '../version.js';

/** Bumped whenever the compiled form or this layout changes, so old caches miss. */
export const COMPILE_CACHE_FORMAT = 3;
const MAGIC = 'HGUICL03';
const DIGEST = 32;

type ArrayType = 'i32' | 'u16' | 'u8';
const arrayTypes = { i32: Int32Array, u16: Uint16Array, u8: Uint8Array } as const;

/**
 * The automaton's arrays, all stored: deriving failure links, report chains and depths on
 * loading (a quarter less to read and hash) cost more than it saved, because a command runs
 * such a loop over every node once, in the interpreter (callgrind: +210 M instructions).
 */
const automatonArrays = ['rootNext', 'firstChild', 'childCount', 'symbol', 'reports', 'failFlagged', 'fail', 'depth', 'terminal', 'report', 'keywordLive', 'allowLive'] as const;
const partArrays = ['unitClass', 'leftGlued', 'pairFilter', 'bmpSymbol', 'patternLength', 'patternFlags', 'variantFrom', 'variantList', 'variantRefFrom', 'variantRefList', 'variantLength', 'variantNoise', 'variantWords', 'variantCheck'] as const;

interface Header {
  key: string;
  arrays: [name: string, type: ArrayType, length: number][];
  name: string;
  version: string;
  updatedAt: string;
  transforms: KeywordLibrary['transforms'];
  expansions: [number, readonly number[]][];
  astralSymbol: [number, number][];
  size: number;
  maxDepth: number;
  variantRepeats: [number, number[]][];
  allowTargets: [number, number[] | true][];
  allowRuns: [number, number[]][];
  /**
   * Entries column by column (see `entryColumns`): one JSON object per entry would double the
   * load time. The keywords themselves are not in the header but in the arrays, as UTF-16
   * (`entry.keywordText`) and where each ends (`entry.keywordEnd`): a JSON array of 100,000
   * strings took 45 ms to parse.
   */
  risks: string[];
  /** Each entry's optional fields (exception phrases, noise, word mode), by entry index, for the few that have them. */
  extras: [number, Partial<KeywordEntry>][];
  allowWords: readonly string[];
  ignored: CompiledLibrary['ignored'];
}

/**
 * SHA-256 by node:crypto, on the calling thread. WebCrypto's digest runs on the thread pool
 * but copies its input first and took six times the CPU time (150 ms against 25 ms for the
 * 39 MB of a 100,000-word library and its cache, on a CPU with SHA extensions).
 */
let createHash: typeof CreateHash | undefined;
async function sha256(bytes: Uint8Array): Promise<Buffer> {
  createHash ??= (await import('node:crypto')).createHash;
  return createHash('sha256').update(bytes).digest();
}

/** The cache key of a library whose JSON is `bytes`: the cache format, hegui's version and the bytes' SHA-256. */
export async function cacheKey(bytes: Uint8Array): Promise<string> {
  return `hegui-compiled/${COMPILE_CACHE_FORMAT}/${heguiVersion}/${(await sha256(bytes)).toString('hex')}`;
}

function typeOf(array: Int32Array | Uint16Array | Uint8Array): ArrayType {
  return array instanceof Int32Array ? 'i32' : array instanceof Uint16Array ? 'u16' : 'u8';
}

/** The entries as columns: keywords, risk codes by index, mode and severity by index, and the rare optional fields apart. */
function entryColumns(entries: readonly KeywordEntry[]): { risks: string[]; extras: [number, Partial<KeywordEntry>][]; arrays: [string, Int32Array | Uint16Array | Uint8Array][] } {
  const risks: string[] = [];
  const riskIndex = new Map<string, number>();
  const risk = new Uint16Array(entries.length);
  const mode = new Uint8Array(entries.length);
  const severity = new Uint8Array(entries.length);
  const keywordEnd = new Int32Array(entries.length);
  const extras: [number, Partial<KeywordEntry>][] = [];
  let length = 0;
  entries.forEach((entry, i) => {
    let r = riskIndex.get(entry.risk);
    if (r === undefined) riskIndex.set(entry.risk, (r = risks.push(entry.risk) - 1));
    risk[i] = r;
    mode[i] = matchModes.indexOf(entry.mode);
    severity[i] = severities.indexOf(entry.severity);
    keywordEnd[i] = length += entry.keyword.length;
    const { keyword: _k, risk: _r, mode: _m, severity: _s, ...extra } = entry;
    if (Object.keys(extra).length > 0) extras.push([i, extra]);
  });
  const keywordText = new Uint16Array(length);
  let at = 0;
  for (const { keyword } of entries) for (let k = 0; k < keyword.length; k++) keywordText[at++] = keyword.charCodeAt(k);
  return { risks, extras, arrays: [['entry.risk', risk], ['entry.mode', mode], ['entry.severity', severity], ['entry.keywordEnd', keywordEnd], ['entry.keywordText', keywordText]] };
}

const littleEndian = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** UTF-16 code units as a string, lone surrogates kept (TextDecoder would replace them). */
function unitsToString(units: Uint16Array): string {
  if (littleEndian) return Buffer.from(units.buffer, units.byteOffset, units.byteLength).toString('utf16le');
  let out = '';
  for (let i = 0; i < units.length; i += 8192) out += String.fromCharCode(...units.subarray(i, i + 8192));
  return out;
}

function entriesFrom(header: Header, get: <T>(name: string) => T): KeywordEntry[] {
  const risk = get<Uint16Array>('entry.risk');
  const mode = get<Uint8Array>('entry.mode');
  const severity = get<Uint8Array>('entry.severity');
  const keywordEnd = get<Int32Array>('entry.keywordEnd');
  const units = get<Uint16Array>('entry.keywordText');
  const count = risk.length;
  if (mode.length !== count || severity.length !== count || keywordEnd.length !== count || (count > 0 && keywordEnd[count - 1] !== units.length)) throw new TypeError('bad entry columns');
  // One string for every keyword, cut into each (the cuts share its memory).
  const text = unitsToString(units);
  const extras = new Map(header.extras);
  const entries = new Array<KeywordEntry>(count);
  let from = 0;
  for (let i = 0; i < count; i++) {
    const to = keywordEnd[i] as number;
    if (to < from) throw new TypeError('bad entry column');
    const entry = { keyword: text.slice(from, to), risk: header.risks[risk[i] as number], mode: matchModes[mode[i] as number], severity: severities[severity[i] as number] } as KeywordEntry;
    if (entry.risk === undefined || entry.mode === undefined || entry.severity === undefined) throw new TypeError('bad entry column');
    const extra = extras.get(i);
    entries[i] = extra === undefined ? entry : { ...entry, ...extra };
    from = to;
  }
  return entries;
}

/** The cache file's bytes for a compiled library under `key`. */
export async function encodeCompiled(compiled: CompiledLibrary, key: string): Promise<Buffer> {
  const parts = compiledParts(compiled);
  if (parts === undefined) throw new TypeError('not a library compileLibrary built');
  const fold = parts.fold.saved();
  const columns = entryColumns(parts.entries);
  const named: [string, Int32Array | Uint16Array | Uint8Array][] = [
    ['fold.bmp', fold.bmp],
    ['fold.noiseKinds', fold.noiseKinds],
    ...partArrays.map((name) => [name, parts[name]] as [string, Int32Array | Uint8Array]),
    ...automatonArrays.map((name) => [`automaton.${name}`, parts.automaton[name]] as [string, Int32Array | Uint16Array | Uint8Array]),
    ...columns.arrays,
  ];
  const header: Header = {
    key,
    arrays: named.map(([name, array]) => [name, typeOf(array), array.length]),
    name: parts.name,
    version: parts.version,
    updatedAt: parts.updatedAt,
    transforms: parts.fold.options,
    expansions: fold.expansions,
    astralSymbol: [...parts.astralSymbol],
    size: parts.automaton.size,
    maxDepth: parts.automaton.maxDepth,
    variantRepeats: [...parts.variantRepeats].map(([k, v]) => [k, [...v]]),
    allowTargets: [...parts.allowTargets].map(([k, v]) => [k, v === true ? true : [...v]]),
    allowRuns: [...parts.allowRuns].map(([k, v]) => [k, [...v]]),
    risks: columns.risks,
    extras: columns.extras,
    allowWords: parts.allowWords,
    ignored: parts.ignored,
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const chunks: Buffer[] = [Buffer.from(MAGIC, 'latin1'), Buffer.alloc(4), headerBytes];
  chunks[1]?.writeUInt32LE(headerBytes.length);
  let length = 12 + headerBytes.length;
  for (const [, array] of named) {
    const pad = (8 - (length % 8)) % 8;
    chunks.push(Buffer.alloc(pad), Buffer.from(array.buffer, array.byteOffset, array.byteLength));
    length += pad + array.byteLength;
  }
  const body = Buffer.concat(chunks);
  return Buffer.concat([body, await sha256(body)]);
}

/**
 * The compiled library a cache file holds, or undefined when it is not a whole, intact cache
 * for `key` (wrong magic, truncated, checksum mismatch, another key or version, bad header).
 */
export async function decodeCompiled(file: Uint8Array, key: string | Promise<string>): Promise<CompiledLibrary | undefined> {
  if (file.length < 12 + DIGEST || Buffer.from(file.subarray(0, 8)).toString('latin1') !== MAGIC) return undefined;
  const body = file.subarray(0, file.length - DIGEST);
  // Nothing is restored unless the checksum holds; restoring reads only within the file's bounds.
  if (!(await sha256(body)).equals(file.subarray(file.length - DIGEST))) return undefined;
  const restored = restore(file, body);
  if (restored === undefined || restored.header.key !== (await key)) return undefined;
  return restored.compiled;
}

function restore(file: Uint8Array, body: Uint8Array): { header: Header; compiled: CompiledLibrary } | undefined {
  // Typed-array views need aligned offsets: copy when the read buffer is not 8-aligned.
  const bytes = file.byteOffset % 8 === 0 ? file : new Uint8Array(file);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(8, true);
  if (12 + headerLength > body.length) return undefined;
  let header: Header;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 12, headerLength).toString('utf8')) as Header;
  } catch {
    return undefined;
  }
  const arrays = new Map<string, Int32Array | Uint16Array | Uint8Array>();
  let offset = 12 + headerLength;
  for (const [name, type, length] of header.arrays) {
    const Type = arrayTypes[type];
    offset += (8 - (offset % 8)) % 8;
    if (Type === undefined || offset + length * Type.BYTES_PER_ELEMENT > body.length) return undefined;
    arrays.set(name, new Type(bytes.buffer as ArrayBuffer, bytes.byteOffset + offset, length));
    offset += length * Type.BYTES_PER_ELEMENT;
  }
  const get = <T>(name: string): T => {
    const array = arrays.get(name);
    if (array === undefined) throw new TypeError(`cache lacks ${name}`);
    return array as T;
  };
  try {
    const automaton = Object.fromEntries([...automatonArrays.map((name) => [name, get(`automaton.${name}`)]), ['size', header.size], ['maxDepth', header.maxDepth]]) as unknown as Automaton;
    const fold = new FoldTable(header.transforms, { bmp: get('fold.bmp'), noiseKinds: get('fold.noiseKinds'), expansions: header.expansions });
    const parts = {
      name: header.name,
      version: header.version,
      updatedAt: header.updatedAt,
      fold,
      automaton,
      ...Object.fromEntries(partArrays.map((name) => [name, get(name)])),
      astralSymbol: new Map(header.astralSymbol),
      variantRepeats: new Map(header.variantRepeats.map(([k, v]) => [k, Int32Array.from(v)])),
      allowTargets: new Map(header.allowTargets.map(([k, v]) => [k, v === true ? true : new Set(v)])),
      allowRuns: new Map(header.allowRuns.map(([k, v]) => [k, Int32Array.from(v)])),
      entries: entriesFrom(header, get),
      allowWords: header.allowWords,
      ignored: header.ignored,
    } as unknown as CompiledParts;
    // The scan loop indexes these without bounds checks of its own: a cache that does not fit is recompiled.
    const filter = parts.pairFilter.length;
    if (parts.leftGlued.length !== header.size || filter < 32 || (filter & (filter - 1)) !== 0 || filter > 1 << 17) throw new TypeError('bad scan short-cut tables');
    return { header, compiled: assembleCompiled(parts) };
  } catch {
    return undefined;
  }
}

/** Writes `bytes` to `path` atomically; false (and nothing left behind) when it cannot. */
async function writeAtomically(path: string, bytes: Uint8Array): Promise<boolean> {
  const { rename, rm, writeFile } = await import('node:fs/promises');
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  try {
    await writeFile(temporary, bytes, { flag: 'wx' });
    await rename(temporary, path);
    return true;
  } catch {
    await rm(temporary, { force: true }).catch(() => undefined);
    return false;
  }
}

/** The cache file's bytes, or undefined when there is none (or it cannot be read). */
async function readCache(cachePath: string | undefined): Promise<Buffer | undefined> {
  if (cachePath === undefined) return undefined;
  const { readFile } = await import('node:fs/promises');
  return readFile(cachePath).catch(() => undefined);
}

async function cachedCompile(cachePath: string | undefined, bytes: Uint8Array, library: () => Promise<KeywordLibrary> | KeywordLibrary, cacheFile = readCache(cachePath)): Promise<CompiledLibrary> {
  const key = cacheKey(bytes);
  const file = await cacheFile;
  const cached = file === undefined ? undefined : await decodeCompiled(file, key);
  if (cached !== undefined) return cached;
  const compiled = compileLibrary(await library());
  // A cache that cannot be written (read-only directory, full disk) only costs the next run time.
  if (cachePath !== undefined) await writeAtomically(cachePath, await encodeCompiled(compiled, await key));
  return compiled;
}

/** Where the cache of the library file at `path` lives. */
export function libraryCachePath(path: string): string {
  return `${path}.hegui-cache`;
}

/**
 * Reads and compiles the library file at `path`, through its cache beside it (see the module
 * comment). Throws `KeywordLibraryError` as `readLibraryFile` does for a bad library.
 */
export async function loadCompiledLibraryFile(path: string): Promise<CompiledLibrary> {
  const { readFile } = await import('node:fs/promises');
  // The cache is read while the library is.
  const cacheFile = readCache(libraryCachePath(path));
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch {
    // readLibraryFile words the error the same way for every caller.
    return compileLibrary(await readLibraryFile(path));
  }
  return cachedCompile(libraryCachePath(path), bytes, () => parseLibraryText(path, bytes.toString('utf8')), cacheFile);
}

/**
 * Compiles the library whose file `path` held `bytes`, through the cache beside `path`: the
 * bytes are the cache's key, so the result is the library those bytes spell even if the file
 * has changed since they were read (threads that must all use one library share the bytes).
 */
export async function loadCompiledLibraryBytes(path: string, bytes: Uint8Array): Promise<CompiledLibrary> {
  return cachedCompile(libraryCachePath(path), bytes, () => parseLibraryText(path, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')));
}

/** The per-user cache directory (see the module comment), or undefined when there is no home. */
export async function userCacheDir(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const { join } = await import('node:path');
  const { homedir } = await import('node:os');
  if (env.HEGUI_CACHE_DIR) return env.HEGUI_CACHE_DIR;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'hegui');
  const home = homedir();
  return home ? join(home, '.cache', 'hegui') : undefined;
}

/** The built-in example library, compiled through its cache in the per-user cache directory. */
export async function loadCompiledExample(env: NodeJS.ProcessEnv = process.env): Promise<CompiledLibrary> {
  const { mkdir } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const dir = await userCacheDir(env);
  const usable = dir !== undefined && (await mkdir(dir, { recursive: true }).then(() => true, () => false));
  return cachedCompile(usable ? join(dir, 'example.hegui-cache') : undefined, Buffer.from(serialiseLibrary(exampleLibrary), 'utf8'), () => exampleLibrary);
}
