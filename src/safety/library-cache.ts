/**
 * @module safety/library-cache
 * Compiled keyword libraries cached on disk (Node only), so a command that scans does not pay
 * for compiling its library every time it starts (issue 14): no pinyin-pro import, no fold
 * build, no automaton build, no schema validation of every entry.
 *
 * A library file `LIB.json` gets its cache beside it, `LIB.json.hegui-cache`; the built-in
 * example library gets `example-VERSION-fFORMAT.hegui-cache` in the per-user cache directory
 * (`$HEGUI_CACHE_DIR`, else `$XDG_CACHE_HOME/hegui`, else `~/.cache/hegui`): one per hegui
 * version and cache format, so two installs on one machine do not overwrite each other's at
 * every run.
 *
 * The cache is never trusted blindly. Its key is a SHA-256 of the cache format, hegui's version
 * and the library file's bytes, so an edited library or another hegui release misses (a
 * collision-resistant hash: any edit, even one that keeps the file's size and time, misses). A
 * CRC-32 of the whole file closes it, so a truncated or damaged cache is rejected before
 * anything in it is used: the checksum guards against accidents (a partly written or damaged
 * file), not against someone who can write the cache (they could write any checksum, and the
 * library beside it too), and CRC-32 catches every burst of damage up to 32 bits and all other
 * damage but one time in four billion, for less than SHA-256 costs (zlib's: about 9 ms for the
 * 19 MB cache of a 100,000-word library on this project's machine, where SHA-256 took about
 * 12 ms with the CPU's SHA extensions and several times that without them).
 * The arrays must also end exactly where the checksum begins, and the entry columns are
 * checked before use. Any miss or rejection recompiles from the JSON and rewrites the cache.
 * Writes go to a temporary file renamed into place; a directory that cannot be written to just
 * goes without a cache. A cache is read only from a regular file, never through a link nor from
 * a FIFO or device (`CACHE_READ_FLAGS`, as the notice cache): what is planted there is replaced. The key's hash runs on the calling thread with node:crypto (about 7 ms
 * for the 11.7 MB of a 100,000-word library on a CPU with SHA extensions), over the file read a
 * chunk at a time into one buffer: memory touched once costs page faults, and on a hit the
 * library's bytes are needed only for their hash.
 *
 * Loading restores views over the one buffer the cache was read into: no object per entry (an
 * entry is made when a scan reports it, or all of them when `entries` is asked for), no view
 * per variant with repeats (made when a scan first asks for one), no copy of any array. The
 * entry columns are checked on loading, so that an entry made later cannot fail: a column of
 * one value by that value, the others by one regular expression over the column read as text
 * (native, where a loop of a process that has just started runs in the interpreter), the
 * keywords' ends by a small loop of their own. The regex entries are found then too (every load
 * compiles their patterns), by `indexOf`.
 *
 * Layout: `HGUICL04`, the header's length (uint32 LE), the header (JSON: key, plain fields and
 * each typed array's name, type and length, and for an array whose elements all hold one value,
 * that value), the typed arrays but those of one value, which are made on loading (each at an
 * 8-byte boundary; the entries' keywords among them as UTF-16), then the CRC-32 of everything
 * before it (uint32 LE). Arrays of one value are common and large: `allowLive` (a node per
 * element) when no exception phrase or allow word exists, the risk code and severity of
 * entries when a library has one, a variant's noise; left out, they are not read, faulted in
 * nor checksummed (a 100,000-word library's cache: 2 MB of 22). Lengths of patterns and
 * keywords and the automaton's depths are stored as compiled, in the narrowest type that holds
 * a library's (8-bit for most: `narrowest` and `DepthArray` in automaton.ts), not widened.
 */
import type { createHash as CreateHash } from 'node:crypto';
import type { crc32 as Crc32 } from 'node:zlib';
import { CACHE_READ_FLAGS, userCacheDir } from '../cache-dir.js';
import type { Automaton } from './automaton.js';
import type { CompiledLibrary, CompiledParts, EntryTable } from './compile.js';
import { assembleCompiled, compileLibrary, compiledParts } from './compile.js';
import { exampleLibrary } from './example-library.js';
import { FoldTable } from './fold.js';
import type { KeywordEntry, KeywordLibrary } from './library.js';
import type * as LibraryFile from './library-file.js';
import { matchModes, serialiseLibrary, severities } from './library.js';
import { version as heguiVersion } from '../version.js';

/**
 * The library-file reader (and through it the schema, zod), loaded on a cache miss only: a hit
 * needs neither, and zod alone is about 120 ms of a command's start (issue 14).
 */
function libraryFile(): Promise<typeof LibraryFile> {
  return import('./library-file.js');
}

/** Bumped whenever the compiled form or this layout changes, so old caches miss. */
export const COMPILE_CACHE_FORMAT = 4;
const MAGIC = 'HGUICL04';
/** The CRC-32 at the end. */
const CHECK = 4;

type ArrayType = 'i32' | 'u16' | 'u8';
const arrayTypes = { i32: Int32Array, u16: Uint16Array, u8: Uint8Array } as const;

/**
 * The automaton's arrays a scan uses, stored as they are used: deriving failure links or report
 * chains on loading cost more than it saved, because a command runs such a loop over every node
 * once, in the interpreter (callgrind: +210 M instructions). The two no scan reads, `fail`
 * (`failFlagged >> 1`) and `depth`, are left out (4 MB of a 100,000-word library's 27) and
 * made on first use.
 */
const automatonArrays = ['rootNext', 'firstChild', 'childCount', 'symbol', 'reports', 'failFlagged', 'terminal', 'report', 'keywordLive', 'allowLive'] as const;

/** The automaton of the stored arrays, with `fail` and `depth` made when first read. */
function restoredAutomaton(arrays: Pick<Automaton, (typeof automatonArrays)[number]>, size: number, maxDepth: number): Automaton {
  if (arrays.firstChild.length !== size || arrays.childCount.length !== size || arrays.failFlagged.length !== size) throw new TypeError('bad automaton arrays');
  let fail: Int32Array | undefined;
  let depth: Int32Array | undefined;
  return Object.freeze({
    ...arrays,
    size,
    maxDepth,
    get fail(): Int32Array {
      if (fail === undefined) {
        fail = new Int32Array(size);
        for (let n = 0; n < size; n++) fail[n] = (arrays.failFlagged[n] as number) >> 1;
      }
      return fail;
    },
    get depth(): Int32Array {
      if (depth === undefined) {
        // Nodes are numbered breadth-first: a node's depth is known before its children's.
        depth = new Int32Array(size);
        for (let n = 0; n < size; n++) {
          const first = arrays.firstChild[n] as number;
          const d = (depth[n] as number) + 1;
          for (let c = first, end = first + (arrays.childCount[n] as number); c < end && c < size; c++) depth[c] = d;
        }
      }
      return depth;
    },
  });
}

const partArrays = ['unitClass', 'leftGlued', 'pairFilter', 'bmpSymbol', 'patternLength', 'patternFlags', 'variantFrom', 'variantList', 'variantRefFrom', 'variantRefList', 'variantLength', 'variantNoise', 'variantWords', 'variantCheck'] as const;

/**
 * A stored array: its name, type and length, and for an array whose every element is one value
 * (a library's single risk code or severity, `allowLive` of a library without exception
 * phrases...) that value, the array then being made on loading rather than stored.
 */
type ArraySpec = [name: string, type: ArrayType, length: number, fill?: number];

interface Header {
  key: string;
  arrays: ArraySpec[];
  name: string;
  version: string;
  updatedAt: string;
  transforms: KeywordLibrary['transforms'];
  expansions: [number, readonly number[]][];
  astralSymbol: [number, number][];
  size: number;
  maxDepth: number;
  allowTargets: [number, number[] | true][];
  allowRuns: [number, number[]][];
  /**
   * Entries column by column (see `entryColumns`): one JSON object per entry would double the
   * load time. The keywords themselves are not in the header but in the arrays, as UTF-16
   * (`entry.keywordText`) and where each ends (`entry.keywordEnd`): a JSON array of 100,000
   * strings took 45 ms to parse. The repeats of variants are arrays too (`repeat.*`).
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

let crc32: typeof Crc32 | undefined;
async function checksum(bytes: Uint8Array): Promise<number> {
  crc32 ??= (await import('node:zlib')).crc32;
  return crc32(bytes);
}

/** The cache key of a library whose JSON is `bytes`: the cache format, hegui's version and the bytes' SHA-256. */
export async function cacheKey(bytes: Uint8Array): Promise<string> {
  return keyOf(await sha256(bytes));
}

function keyOf(digest: Buffer): string {
  return `hegui-compiled/${COMPILE_CACHE_FORMAT}/${heguiVersion}/${digest.toString('hex')}`;
}

function typeOf(array: Int32Array | Uint16Array | Uint8Array): ArrayType {
  return array instanceof Int32Array ? 'i32' : array instanceof Uint16Array ? 'u16' : 'u8';
}

/** The value every element of `array` holds, or undefined when they differ (or there are none). */
function constantOf(array: Int32Array | Uint16Array | Uint8Array): number | undefined {
  if (array.length === 0) return undefined;
  const first = array[0] as number;
  for (let i = 1; i < array.length; i++) if (array[i] !== first) return undefined;
  return first;
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

/**
 * The entries of the columns a cache holds, made into objects one at a time as they are asked
 * for; undefined when the columns do not fit together (a cache that must not be used).
 */
function entryColumnsTable(header: Header, get: <T>(name: string) => T, fills: ReadonlyMap<string, number>): EntryTable | undefined {
  const risk = get<Uint16Array>('entry.risk');
  const mode = get<Uint8Array>('entry.mode');
  const severity = get<Uint8Array>('entry.severity');
  const keywordEnd = get<Int32Array>('entry.keywordEnd');
  const units = get<Uint16Array>('entry.keywordText');
  const count = risk.length;
  const risks = header.risks;
  if (mode.length !== count || severity.length !== count || keywordEnd.length !== count || (count > 0 ? keywordEnd[count - 1] : 0) !== units.length) return undefined;
  if (!risks.every((r) => typeof r === 'string')) return undefined;
  // Every column is checked now, so that making an entry later cannot fail: a column of one
  // value (most libraries have one severity, many one risk code) by that value, once.
  if (!(within(risk, fills.get('entry.risk'), risks.length) && within(severity, fills.get('entry.severity'), severities.length) && within(mode, fills.get('entry.mode'), matchModes.length))) return undefined;
  if (!ascending(keywordEnd)) return undefined;
  // The regex entries, wanted by every load (a compiled library compiles their patterns).
  const regex = matchModes.indexOf('regex');
  const modeFill = fills.get('entry.mode');
  const regexIndexes: number[] = [];
  if (modeFill === regex) for (let i = 0; i < count; i++) regexIndexes.push(i);
  else if (modeFill === undefined) for (let i = mode.indexOf(regex); i >= 0; i = mode.indexOf(regex, i + 1)) regexIndexes.push(i);
  const extras = new Map(header.extras);
  // The entries made so far, from the first one asked for: a load that reports nothing makes none.
  let made: (KeywordEntry | undefined)[] | undefined;
  let all: KeywordEntry[] | undefined;
  const at = (i: number): KeywordEntry | undefined => {
    if (!(Number.isInteger(i) && i >= 0 && i < count)) return undefined;
    made ??= new Array<KeywordEntry | undefined>(count);
    let entry = made[i];
    if (entry !== undefined) return entry;
    entry = {
      keyword: unitsToString(units.subarray(i === 0 ? 0 : (keywordEnd[i - 1] as number), keywordEnd[i] as number)),
      risk: risks[risk[i] as number],
      mode: matchModes[mode[i] as number],
      severity: severities[severity[i] as number],
    } as KeywordEntry;
    const extra = extras.get(i);
    if (extra !== undefined) entry = { ...entry, ...extra };
    return (made[i] = entry);
  };
  return {
    count,
    at,
    list: () => {
      if (all === undefined) {
        all = new Array<KeywordEntry>(count);
        for (let i = 0; i < count; i++) all[i] = at(i) as KeywordEntry;
      }
      return all;
    },
    regexIndexes: () => [...regexIndexes],
  };
}

/**
 * Whether `ends` never goes down, nor below 0. A small function of its own, four elements a
 * turn: a process that has just started runs it in the interpreter, where each turn of a loop
 * costs more than the comparisons in it.
 */
function ascending(ends: Int32Array): boolean {
  const n = ends.length;
  let from = 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const a = ends[i] as number;
    const b = ends[i + 1] as number;
    const c = ends[i + 2] as number;
    const d = ends[i + 3] as number;
    if (a < from || b < a || c < b || d < c) return false;
    from = d;
  }
  for (; i < n; i++) {
    const to = ends[i] as number;
    if (to < from) return false;
    from = to;
  }
  return true;
}

/** Whether each element of `values` is above the one before it, and the first not below 0 (as `ascending`, strictly). */
function rising(values: Int32Array): boolean {
  let from = -1;
  for (let i = 0; i < values.length; i++) {
    const to = values[i] as number;
    if (to <= from) return false;
    from = to;
  }
  return true;
}

/**
 * Whether every element of `column` is below `limit`: its one value when it is `fill`'s, else
 * each, read as text by one regular expression (a native pass; a loop over 100,000 elements in
 * a process that has just started runs in the interpreter, at 20 to 40 ns an element).
 */
function within(column: Uint8Array | Uint16Array, fill: number | undefined, limit: number): boolean {
  if (fill !== undefined) return fill < limit;
  const top = column instanceof Uint8Array ? 0xff : 0xffff;
  if (limit > top) return true;
  if (limit <= 0) return column.length === 0;
  const text = column instanceof Uint8Array ? Buffer.from(column.buffer, column.byteOffset, column.length).toString('latin1') : unitsToString(column);
  const unit = (n: number): string => `\\u${n.toString(16).padStart(4, '0')}`;
  return !new RegExp(`[${unit(limit)}-${unit(top)}]`).test(text);
}

/** The repeats of variants as three arrays: the variants, where each one's runs start in the list, and the runs. */
function repeatColumns(repeats: ReadonlyMap<number, Int32Array>): [string, Int32Array][] {
  const variant = Int32Array.from(repeats.keys());
  const from = new Int32Array(variant.length + 1);
  let k = 0;
  for (const runs of repeats.values()) from[k + 1] = (from[k++] as number) + runs.length;
  const list = new Int32Array(from[variant.length] as number);
  k = 0;
  for (const runs of repeats.values()) list.set(runs, from[k++]);
  return [['repeat.variant', variant], ['repeat.from', from], ['repeat.list', list]];
}

/**
 * The repeats of variants over their arrays, each variant's runs a view made when first asked
 * for: a map of thousands of views made on loading cost more than the scans that read a few.
 */
class RepeatTable implements ReadonlyMap<number, Int32Array> {
  readonly #variant: Int32Array;
  readonly #from: Int32Array;
  readonly #list: Int32Array;
  readonly #made = new Map<number, Int32Array | undefined>();

  /** Checks the arrays fit together (the variants ascending, each one's runs within the list): undefined when they do not. */
  static of(variant: Int32Array, from: Int32Array, list: Int32Array): RepeatTable | undefined {
    if (from.length !== variant.length + 1 || from[0] !== 0 || from[variant.length] !== list.length) return undefined;
    // Each variant once: the encoder writes them in order, so a repeated one is a damaged cache.
    if (!ascending(from) || !rising(variant)) return undefined;
    return new RepeatTable(variant, from, list);
  }

  private constructor(variant: Int32Array, from: Int32Array, list: Int32Array) {
    this.#variant = variant;
    this.#from = from;
    this.#list = list;
  }

  get size(): number {
    return this.#variant.length;
  }

  get(key: number): Int32Array | undefined {
    const made = this.#made.get(key);
    if (made !== undefined || this.#made.has(key)) return made;
    const variant = this.#variant;
    let lo = 0;
    let hi = variant.length - 1;
    let runs: Int32Array | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = variant[mid] as number;
      if (v === key) {
        runs = this.#list.subarray(this.#from[mid], this.#from[mid + 1]);
        break;
      }
      if (v < key) lo = mid + 1;
      else hi = mid - 1;
    }
    this.#made.set(key, runs);
    return runs;
  }

  has(key: number): boolean {
    return this.get(key) !== undefined;
  }

  *entries(): MapIterator<[number, Int32Array]> {
    for (let k = 0; k < this.#variant.length; k++) yield [this.#variant[k] as number, this.get(this.#variant[k] as number) as Int32Array];
  }

  *keys(): MapIterator<number> {
    for (const [key] of this.entries()) yield key;
  }

  *values(): MapIterator<Int32Array> {
    for (const [, runs] of this.entries()) yield runs;
  }

  [Symbol.iterator](): MapIterator<[number, Int32Array]> {
    return this.entries();
  }

  forEach(callback: (value: Int32Array, key: number, map: ReadonlyMap<number, Int32Array>) => void, thisArg?: unknown): void {
    for (const [key, runs] of this.entries()) callback.call(thisArg, runs, key, this);
  }
}

/** The repeats of variants from their arrays; undefined when they do not fit together. */
function repeatsFrom(get: <T>(name: string) => T): ReadonlyMap<number, Int32Array> | undefined {
  return RepeatTable.of(get<Int32Array>('repeat.variant'), get<Int32Array>('repeat.from'), get<Int32Array>('repeat.list'));
}

/** The cache file's bytes for a compiled library under `key`. */
export async function encodeCompiled(compiled: CompiledLibrary, key: string): Promise<Buffer> {
  const parts = compiledParts(compiled);
  if (parts === undefined) throw new TypeError('not a library compileLibrary built');
  const fold = parts.fold.saved();
  const columns = entryColumns(parts.entries.list());
  const named: [string, Int32Array | Uint16Array | Uint8Array][] = [
    ['fold.bmp', fold.bmp],
    ['fold.noiseKinds', fold.noiseKinds],
    ...partArrays.map((name) => [name, parts[name]] as [string, Int32Array | Uint8Array]),
    ...automatonArrays.map((name) => [`automaton.${name}`, parts.automaton[name]] as [string, Int32Array | Uint16Array | Uint8Array]),
    ...columns.arrays,
    ...repeatColumns(parts.variantRepeats),
  ];
  const header: Header = {
    key,
    arrays: named.map(([name, array]): ArraySpec => {
      const fill = constantOf(array);
      return fill === undefined ? [name, typeOf(array), array.length] : [name, typeOf(array), array.length, fill];
    }),
    name: parts.name,
    version: parts.version,
    updatedAt: parts.updatedAt,
    transforms: parts.fold.options,
    expansions: fold.expansions,
    astralSymbol: [...parts.astralSymbol],
    size: parts.automaton.size,
    maxDepth: parts.automaton.maxDepth,
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
  for (const [k, [, array]] of named.entries()) {
    if (header.arrays[k]?.[3] !== undefined) continue;
    const pad = (8 - (length % 8)) % 8;
    chunks.push(Buffer.alloc(pad), Buffer.from(array.buffer, array.byteOffset, array.byteLength));
    length += pad + array.byteLength;
  }
  const body = Buffer.concat(chunks);
  const check = Buffer.alloc(CHECK);
  check.writeUInt32LE(await checksum(body));
  return Buffer.concat([body, check]);
}

/**
 * The compiled library a cache file holds, or undefined when it is not a whole, intact cache
 * for `key` (wrong magic, truncated, checksum mismatch, another key or version, bad header).
 */
export async function decodeCompiled(file: Uint8Array, key: string | Promise<string>): Promise<CompiledLibrary | undefined> {
  if (file.length < 12 + CHECK || Buffer.from(file.subarray(0, 8)).toString('latin1') !== MAGIC) return undefined;
  const body = file.subarray(0, file.length - CHECK);
  // Nothing is restored unless the checksum holds; restoring reads only within the file's bounds.
  const stored = new DataView(file.buffer, file.byteOffset + body.length, CHECK).getUint32(0, true);
  if ((await checksum(body)) !== stored) return undefined;
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
  const fills = new Map<string, number>();
  let offset = 12 + headerLength;
  for (const [name, type, length, fill] of header.arrays) {
    const Type = arrayTypes[type];
    if (Type === undefined || !Number.isInteger(length) || length < 0) return undefined;
    if (fill !== undefined) {
      // An array of one value, made here: the value must be one the type holds, and its length
      // no more than the file's bytes (every real cache stores an array of entries or nodes at
      // four bytes an element, keywordEnd or firstChild), so a damaged header cannot make it
      // allocate gigabytes.
      if (Type.of(fill)[0] !== fill || length > body.length) return undefined;
      let array: Int32Array | Uint16Array | Uint8Array;
      try {
        array = new Type(length);
      } catch {
        return undefined;
      }
      if (fill !== 0) array.fill(fill);
      arrays.set(name, array);
      fills.set(name, fill);
      continue;
    }
    offset += (8 - (offset % 8)) % 8;
    if (offset + length * Type.BYTES_PER_ELEMENT > body.length) return undefined;
    arrays.set(name, new Type(bytes.buffer as ArrayBuffer, bytes.byteOffset + offset, length));
    offset += length * Type.BYTES_PER_ELEMENT;
  }
  // The arrays end where the checksum begins: nothing missing, nothing more.
  if (offset !== body.length) return undefined;
  const get = <T>(name: string): T => {
    const array = arrays.get(name);
    if (array === undefined) throw new TypeError(`cache lacks ${name}`);
    return array as T;
  };
  try {
    const automaton = restoredAutomaton(Object.fromEntries(automatonArrays.map((name) => [name, get(`automaton.${name}`)])) as unknown as Pick<Automaton, (typeof automatonArrays)[number]>, header.size, header.maxDepth);
    const fold = new FoldTable(header.transforms, { bmp: get('fold.bmp'), noiseKinds: get('fold.noiseKinds'), expansions: header.expansions });
    const entries = entryColumnsTable(header, get, fills);
    const variantRepeats = repeatsFrom(get);
    if (entries === undefined || variantRepeats === undefined) return undefined;
    const parts = {
      name: header.name,
      version: header.version,
      updatedAt: header.updatedAt,
      fold,
      automaton,
      ...Object.fromEntries(partArrays.map((name) => [name, get(name)])),
      astralSymbol: new Map(header.astralSymbol),
      variantRepeats,
      allowTargets: new Map(header.allowTargets.map(([k, v]) => [k, v === true ? true : new Set(v)])),
      allowRuns: new Map(header.allowRuns.map(([k, v]) => [k, Int32Array.from(v)])),
      entries,
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

/**
 * The whole file at `path`, read into memory `allocate` gives for its size (one read call for
 * most files, where `readFile` reads 512 KiB per call, each a trip through the thread pool); a
 * folder is refused with `EISDIR`. A file that grows while it is read, or one without a size
 * (a pipe), is read to its end by `readFile` and copied, so the bytes are never cut short.
 * Errors are the file system's own. With `cacheFile`, only a regular file is read, never through
 * a link (`CACHE_READ_FLAGS`): a link or FIFO under a cache file's name is refused (`EINVAL`).
 */
export async function readWholeFile<T extends Uint8Array>(path: string, allocate: (size: number) => T, cacheFile = false): Promise<T> {
  const { open } = await import('node:fs/promises');
  const handle = await open(path, cacheFile ? CACHE_READ_FLAGS : 'r');
  try {
    const stats = await handle.stat();
    if (stats.isDirectory()) throw Object.assign(new Error('it is a folder'), { code: 'EISDIR' });
    if (cacheFile && !stats.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EINVAL' });
    const size = stats.size;
    if (stats.isFile()) {
      const bytes = allocate(size);
      let length = 0;
      while (length < size) {
        const { bytesRead } = await handle.read(bytes, length, size - length, length);
        if (bytesRead === 0) break;
        length += bytesRead;
      }
      if (length < size) return bytes.subarray(0, length) as T;
      // At the size it had: unless it has grown since.
      if ((await handle.read(Buffer.alloc(1), 0, 1, size)).bytesRead === 0) return bytes;
    }
    // A file that has grown, or not a regular file (a pipe has no size): read to its end.
    const whole = await handle.readFile();
    const copy = allocate(whole.length);
    copy.set(whole);
    return copy;
  } finally {
    await handle.close();
  }
}

/** A buffer of its own (so 8-aligned: typed arrays can be views into it), not from Node's pool. */
const ownBuffer = (size: number): Buffer => Buffer.allocUnsafeSlow(size);

/** The cache file's bytes, or undefined when there is none (or it cannot be read). */
async function readCache(cachePath: string | undefined): Promise<Buffer | undefined> {
  if (cachePath === undefined) return undefined;
  return readWholeFile(cachePath, ownBuffer, true).catch(() => undefined);
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
  const cachePath = libraryCachePath(path);
  // The cache is read while the library is hashed.
  const cacheFile = readCache(cachePath);
  let key: string;
  try {
    key = await fileKey(path);
  } catch {
    // readLibraryFile words the error the same way for every caller.
    return compileLibrary(await (await libraryFile()).readLibraryFile(path));
  }
  const file = await cacheFile;
  const cached = file === undefined ? undefined : await decodeCompiled(file, key);
  if (cached !== undefined) return cached;
  // A miss: the library is read whole, and its cache keyed by the bytes it is compiled from.
  let bytes: Buffer;
  try {
    bytes = await readWholeFile(path, ownBuffer);
  } catch {
    return compileLibrary(await (await libraryFile()).readLibraryFile(path));
  }
  // The cache on disk was just checked and missed: it is not checked (its checksum taken and
  // its arrays restored) a second time, only replaced.
  return cachedCompile(cachePath, bytes, async () => (await libraryFile()).parseLibraryText(path, bytes.toString('utf8')), Promise.resolve(undefined));
}

/** Bytes of a library file hashed at a time: its key is found without holding all of it in memory. */
const HASH_CHUNK = 1 << 20;

/**
 * The cache key of the library file at `path` (as `cacheKey` of its bytes), read a chunk at a
 * time into one buffer: on a hit, the file's bytes are needed only for their hash, and memory
 * that is touched once costs a 100,000-word library's 12 MB of page faults. Errors are the
 * file system's own (`EISDIR` for a folder).
 */
async function fileKey(path: string): Promise<string> {
  const { open } = await import('node:fs/promises');
  createHash ??= (await import('node:crypto')).createHash;
  const handle = await open(path, 'r');
  try {
    if ((await handle.stat()).isDirectory()) throw Object.assign(new Error('it is a folder'), { code: 'EISDIR' });
    const hash = createHash('sha256');
    const chunk = Buffer.allocUnsafe(HASH_CHUNK);
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, HASH_CHUNK, null);
      if (bytesRead === 0) break;
      hash.update(chunk.subarray(0, bytesRead));
    }
    return keyOf(hash.digest());
  } finally {
    await handle.close();
  }
}

/**
 * Compiles the library whose file `path` held `bytes`, through the cache beside `path`: the
 * bytes are the cache's key, so the result is the library those bytes spell even if the file
 * has changed since they were read (threads that must all use one library share the bytes).
 */
export async function loadCompiledLibraryBytes(path: string, bytes: Uint8Array): Promise<CompiledLibrary> {
  return cachedCompile(libraryCachePath(path), bytes, async () => (await libraryFile()).parseLibraryText(path, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')));
}


/** The example library's cache file name: one per hegui version and cache format (two installs side by side each keep theirs). */
export function exampleCacheName(): string {
  return `example-${heguiVersion}-f${COMPILE_CACHE_FORMAT}.hegui-cache`;
}

/** The built-in example library, compiled through its cache in the per-user cache directory. */
export async function loadCompiledExample(env: NodeJS.ProcessEnv = process.env): Promise<CompiledLibrary> {
  const { mkdir } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const dir = userCacheDir(env);
  const usable = dir !== undefined && (await mkdir(dir, { recursive: true }).then(() => true, () => false));
  return cachedCompile(usable ? join(dir, exampleCacheName()) : undefined, Buffer.from(serialiseLibrary(exampleLibrary), 'utf8'), () => exampleLibrary);
}
