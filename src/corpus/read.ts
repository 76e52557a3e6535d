/**
 * @module corpus/read
 * Streaming readers for corpora: JSONL, CSV, Parquet and plain text, plain or compressed (gzip,
 * zstd), files or folders of them. Memory stays bounded whatever the file size: lines and
 * records are cut from the byte stream one at a time and a record longer than
 * `maxRecordBytes` is reported and skipped, never buffered.
 *
 * Nothing is skipped silently. Every malformed line, missing field, undecodable byte sequence
 * and broken Parquet row group is counted in the file's `FileTally` with its line number (or
 * byte offset / row index where the line is not known) and a message; blank lines are counted
 * too, as blank. Files a folder holds that no reader understands are listed as skipped.
 *
 * Work is cut into shards: byte ranges of uncompressed JSONL and text files (a line belongs
 * to the shard its first byte lies in), byte ranges of uncompressed CSV files cut at record
 * starts the planner finds by counting quotes from the start (read-csv), row groups of Parquet
 * files, whole files otherwise (compressed streams cannot be entered in the middle).
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import { TextDecoder } from 'node:util';
import { createGunzip } from 'node:zlib';
import { CorpusInputError } from './errors.js';
import { csvBoundaries, readCsvShard } from './read-csv.js';
import { readParquetShard } from './read-parquet.js';

export const corpusFormats = ['jsonl', 'csv', 'parquet', 'text'] as const;
export type CorpusFormat = (typeof corpusFormats)[number];
export type Compression = 'none' | 'gzip' | 'zstd';

export interface CorpusFile {
  path: string;
  format: CorpusFormat;
  compression: Compression;
  /** Bytes on disk. */
  size: number;
  /**
   * The file's name relative to the scan root it was found under, with `/` between folders (a
   * file named directly: its base name; with several roots, a folder root's own name comes
   * first). Sampling keys hash this name, not the path, so the same corpus moved elsewhere gives
   * the same sample. Set by `expandPaths`.
   */
  name?: string;
}

export interface ReadOptions {
  /** The field holding the text: a JSON path with dots (`text`, `meta.content`, `messages.0.content`), a CSV column, a Parquet column (dots for nested fields). */
  field: string;
  /** What the bytes are: `utf-8` (default), or any label TextDecoder knows (`gb18030`, `gbk`, `utf-16le`). */
  encoding: string;
  /** Plain text: one item per line (default) or one per file. */
  textUnit: 'line' | 'file';
  /** Longest line or record read; longer ones are reported and skipped. */
  maxRecordBytes: number;
}

export const defaultReadOptions: ReadOptions = { field: 'text', encoding: 'utf-8', textUnit: 'line', maxRecordBytes: 16 * 1024 * 1024 };

/** One text of the corpus and where it came from. */
export interface CorpusItem {
  file: string;
  /** Byte offset of the line or record (JSONL, text, CSV) in the decompressed stream, or the row index (Parquet). */
  position: number;
  /** 1-based line number in the (decompressed) file where the item starts, when the reader knows it (not in byte-range shards after the first). */
  line?: number;
  text: string;
  /** The parsed JSONL record, for writing a cleaned copy. */
  record?: unknown;
}

export const problemKinds = [
  'malformed-json',
  'malformed-csv',
  'missing-field',
  'not-text',
  'invalid-encoding',
  'record-too-long',
  'broken-parquet',
  'decompress-error',
  'read-error',
] as const;
export type ProblemKind = (typeof problemKinds)[number];

export interface ReadProblem {
  kind: ProblemKind;
  line?: number;
  position?: number;
  message: string;
}

/** Problems kept with their line per file and kind; the rest are counted. */
export const PROBLEM_SAMPLES = 20;

/** What reading one file (or one shard of it) found. Tallies of shards of one file add up. */
export interface FileTally {
  file: string;
  items: number;
  blank: number;
  /** Bytes read (decompressed for compressed files; for Parquet, the file's share by rows). */
  bytes: number;
  problems: Partial<Record<ProblemKind, number>>;
  /** The first problems found, with where they are. */
  samples: ReadProblem[];
}

export function emptyTally(file: string): FileTally {
  return { file, items: 0, blank: 0, bytes: 0, problems: {}, samples: [] };
}

export function addProblem(tally: FileTally, problem: ReadProblem, count = 1): void {
  tally.problems[problem.kind] = (tally.problems[problem.kind] ?? 0) + count;
  if (tally.samples.length < PROBLEM_SAMPLES) tally.samples.push(problem);
}

/** Adds `more` into `into` (same file). */
export function mergeTally(into: FileTally, more: FileTally): void {
  into.items += more.items;
  into.blank += more.blank;
  into.bytes += more.bytes;
  for (const [kind, n] of Object.entries(more.problems)) into.problems[kind as ProblemKind] = (into.problems[kind as ProblemKind] ?? 0) + n;
  for (const sample of more.samples) if (into.samples.length < PROBLEM_SAMPLES) into.samples.push(sample);
}

export function problemTotal(tally: FileTally): number {
  return Object.values(tally.problems).reduce((a, b) => a + b, 0);
}

/** A piece of work: a whole file, a byte range `[start, end)` of one, or Parquet rows `[start, end)`. */
export interface Shard {
  file: string;
  format: CorpusFormat;
  compression: Compression;
  kind: 'whole' | 'bytes' | 'rows';
  start: number;
  end: number;
  /** CSV byte ranges: the 1-based line the range starts on. */
  line?: number;
  /** The file's name under its scan root (`CorpusFile.name`): what sampling keys hash. Shards queued before names existed lack it; their keys hash `file`. */
  name?: string;
}

const EXTENSIONS: [suffix: string, format: CorpusFormat][] = [
  ['.jsonl', 'jsonl'],
  ['.ndjson', 'jsonl'],
  ['.csv', 'csv'],
  ['.parquet', 'parquet'],
  ['.txt', 'text'],
  ['.text', 'text'],
  ['.md', 'text'],
];

/** The format and compression a file name says, or undefined for a name no reader knows. */
export function formatOf(path: string, forced?: CorpusFormat): { format: CorpusFormat; compression: Compression } | undefined {
  let name = path.toLowerCase();
  let compression: Compression = 'none';
  if (name.endsWith('.gz')) {
    compression = 'gzip';
    name = name.slice(0, -3);
  } else if (name.endsWith('.zst') || name.endsWith('.zstd')) {
    compression = 'zstd';
    name = name.slice(0, name.lastIndexOf('.'));
  }
  if (forced !== undefined) return { format: forced, compression };
  const hit = EXTENSIONS.find(([suffix]) => name.endsWith(suffix));
  if (hit === undefined) return undefined;
  if (hit[1] === 'parquet' && compression !== 'none') return undefined;
  return { format: hit[1], compression };
}

/**
 * The corpus files under `paths` (files, or folders walked recursively in name order), and
 * the files found in folders that no reader understands, with the reason. A path named
 * directly that does not exist or has an unknown format is an input error.
 */
export async function expandPaths(paths: readonly string[], forced?: CorpusFormat): Promise<{ files: CorpusFile[]; skipped: { path: string; reason: string }[] }> {
  const files: CorpusFile[] = [];
  const skipped: { path: string; reason: string }[] = [];
  const used = new Set<string>();
  /** The file's name under `root`; a name two roots both give gets `#2`, `#3`... in the order found. */
  const nameOf = (root: string, path: string): string => {
    const top = resolve(root);
    const absolute = resolve(path);
    let name = absolute === top ? basename(absolute) : relative(top, absolute).split(sep).join('/');
    if (paths.length > 1 && absolute !== top) name = `${basename(top)}/${name}`;
    let unique = name;
    for (let k = 2; used.has(unique); k += 1) unique = `${name}#${k}`;
    used.add(unique);
    return unique;
  };
  let root = '';
  const visit = async (path: string, named: boolean): Promise<void> => {
    let info;
    try {
      info = await stat(path);
    } catch (cause) {
      throw new CorpusInputError('E_CORPUS_PATH', `cannot read ${path}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, { cause });
    }
    if (info.isDirectory()) {
      const entries = (await readdir(path)).sort();
      for (const entry of entries) {
        if (entry.startsWith('.')) {
          skipped.push({ path: join(path, entry), reason: 'hidden' });
          continue;
        }
        await visit(join(path, entry), false);
      }
      return;
    }
    if (!info.isFile()) {
      skipped.push({ path, reason: 'not a regular file' });
      return;
    }
    const kind = formatOf(path, named ? forced : forced);
    if (kind === undefined) {
      if (named) throw new CorpusInputError('E_CORPUS_FORMAT', `${path}: unknown corpus format; name it .jsonl, .ndjson, .csv, .parquet, .txt or .md (optionally .gz or .zst), or pass --format`);
      skipped.push({ path, reason: 'unknown format (not .jsonl, .ndjson, .csv, .parquet, .txt, .md, optionally .gz/.zst)' });
      return;
    }
    files.push({ path, ...kind, size: info.size, name: nameOf(root, path) });
  };
  for (const path of paths) {
    root = path;
    await visit(path, true);
  }
  return { files, skipped };
}

/** A Transform that decompresses zstd with fzstd (pure JavaScript, no binary to download). */
async function zstdStream(): Promise<Transform> {
  const { Decompress } = await import('fzstd');
  let push: ((chunk: Uint8Array) => void) | undefined;
  const decompressor = new Decompress((data) => push?.(Buffer.from(data.buffer, data.byteOffset, data.byteLength)));
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      push = (data) => this.push(data);
      try {
        decompressor.push(chunk);
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(callback) {
      push = (data) => this.push(data);
      try {
        decompressor.push(new Uint8Array(0), true);
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
  });
}

/**
 * The (decompressed) bytes of `shard` as a stream of chunks, starting at byte `from` of the
 * file for an uncompressed byte range. Errors of the file or the decompressor surface from
 * the iteration.
 */
export async function openBytes(file: string, compression: Compression, from = 0): Promise<AsyncIterable<Buffer>> {
  const raw = createReadStream(file, { start: from, highWaterMark: 256 * 1024 });
  if (compression === 'none') return raw;
  const decoder = compression === 'gzip' ? createGunzip() : await zstdStream();
  raw.on('error', (error) => decoder.destroy(error));
  return raw.pipe(decoder);
}

export interface RawLine {
  /** Byte offset of the line's first byte. */
  offset: number;
  /** The line without its `\n` (nor a `\r` before it); undefined when it was longer than the limit. */
  bytes: Buffer | undefined;
  /** The line's length in bytes, with its newline. */
  length: number;
}

/** Cuts a byte stream into lines; a line longer than `maxBytes` comes out with `bytes` undefined. */
export function splitLines(chunks: AsyncIterable<Buffer>, base: number, maxBytes: number): AsyncGenerator<RawLine> {
  return splitAt(chunks, base, maxBytes, (chunk, from) => chunk.indexOf(10, from));
}

/**
 * Cuts a byte stream into records at the newlines `nextEnd` finds (the index of the next one
 * in `chunk` at or after `from`, or -1; it may keep state across chunks, as CSV's quotes do); a
 * record longer than `maxBytes` comes out with `bytes` undefined, and a `\r` before a newline is
 * dropped. The last record may have no newline.
 */
export async function* splitAt(chunks: AsyncIterable<Buffer>, base: number, maxBytes: number, nextEnd: (chunk: Buffer, from: number) => number): AsyncGenerator<RawLine> {
  const cutter = new RecordCutter(base, maxBytes, nextEnd);
  for await (const chunk of chunks) {
    cutter.push(chunk);
    for (let record = cutter.next(); record !== undefined; record = cutter.next()) yield record;
  }
  const last = cutter.end();
  if (last !== undefined) yield last;
}

/**
 * The record cutting of `splitAt`, driven by hand: `push` a chunk, take its records with `next`
 * until it gives undefined (the rest is kept for the next chunk), and after the last chunk, `end`.
 * A reader that loops over a chunk's records itself waits once per chunk, not once per record.
 */
export class RecordCutter {
  readonly #maxBytes: number;
  readonly #nextEnd: (chunk: Buffer, from: number) => number;
  #pending: Buffer[] = [];
  #pendingLength = 0;
  #tooLong = false;
  #lineStart: number;
  #chunk: Buffer | undefined;
  #from = 0;

  constructor(base: number, maxBytes: number, nextEnd: (chunk: Buffer, from: number) => number) {
    this.#lineStart = base;
    this.#maxBytes = maxBytes;
    this.#nextEnd = nextEnd;
  }

  push(chunk: Buffer): void {
    this.#chunk = chunk;
    this.#from = 0;
  }

  /** The next record that ends in the chunk pushed, or undefined when none does. */
  next(): RawLine | undefined {
    const chunk = this.#chunk;
    if (chunk === undefined) return undefined;
    const from = this.#from;
    const newline = from < chunk.length ? this.#nextEnd(chunk, from) : -1;
    if (newline === -1) {
      if (from < chunk.length) {
        const rest = chunk.subarray(from);
        this.#pendingLength += rest.length;
        if (!this.#tooLong) {
          if (this.#pendingLength > this.#maxBytes) {
            this.#tooLong = true;
            this.#pending = [];
          } else this.#pending.push(Buffer.from(rest));
        }
      }
      this.#chunk = undefined;
      return undefined;
    }
    const piece = chunk.subarray(from, newline);
    if (!this.#tooLong && this.#pendingLength + piece.length > this.#maxBytes) {
      this.#tooLong = true;
      this.#pending = [];
    }
    this.#from = newline + 1;
    return this.#finish(this.#tooLong ? undefined : piece, 1);
  }

  /** After the last chunk: the record the stream ends in without a newline, if any. */
  end(): RawLine | undefined {
    return this.#pendingLength > 0 || this.#tooLong ? this.#finish(undefined, 0) : undefined;
  }

  #finish(end: Buffer | undefined, newline: number): RawLine {
    let bytes: Buffer | undefined;
    const pending = this.#pending;
    if (!this.#tooLong) {
      bytes = pending.length === 0 ? (end ?? Buffer.alloc(0)) : Buffer.concat(end === undefined ? pending : [...pending, end]);
      if (bytes.length > 0 && bytes[bytes.length - 1] === 13) bytes = bytes.subarray(0, bytes.length - 1);
    }
    const length = this.#pendingLength + (end?.length ?? 0) + newline;
    const line: RawLine = { offset: this.#lineStart, bytes, length };
    this.#lineStart += length;
    if (pending.length > 0) this.#pending = [];
    this.#pendingLength = 0;
    this.#tooLong = false;
    return line;
  }
}

/** Decodes text bytes; on failure, says so and guesses GB 18030 when the bytes decode as that. */
export class TextDecoding {
  readonly #decoder: TextDecoder;
  readonly #utf8: boolean;
  readonly encoding: string;

  constructor(encoding: string) {
    try {
      this.#decoder = new TextDecoder(encoding, { fatal: true, ignoreBOM: false });
    } catch (cause) {
      throw new CorpusInputError('E_CORPUS_ENCODING', `unknown encoding "${encoding}"; use utf-8, gb18030, gbk, big5, utf-16le...`, { cause });
    }
    this.encoding = this.#decoder.encoding;
    this.#utf8 = this.encoding === 'utf-8';
  }

  decode(bytes: Uint8Array): { text: string } | { error: string } {
    try {
      return { text: this.#decoder.decode(bytes) };
    } catch {
      if (this.#utf8) {
        try {
          new TextDecoder('gb18030', { fatal: true }).decode(bytes);
          return { error: 'not valid UTF-8; it decodes as GB 18030/GBK (pass --encoding gb18030 if the file is in that encoding)' };
        } catch {
          return { error: 'not valid UTF-8' };
        }
      }
      return { error: `not valid ${this.encoding}` };
    }
  }
}

/** A field selector split at its dots; refuses empty parts and the names that reach prototypes. */
export function fieldPath(field: string): string[] {
  const path = field.split('.');
  if (path.some((key) => key === '' || key === '__proto__' || key === 'constructor' || key === 'prototype')) {
    throw new CorpusInputError('E_CORPUS_FIELD', `--field "${field}" is not a usable path: use names separated by dots, e.g. text or messages.0.content`);
  }
  return path;
}

/** The value at a dotted path (`a.b.0.c`) of a parsed record, following own properties only, or undefined. */
export function pathValue(record: unknown, path: readonly string[]): unknown {
  let value: unknown = record;
  for (const key of path) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** Sets the value at a dotted path of a parsed record (which must hold the path already). */
export function setPathValue(record: unknown, path: readonly string[], text: string): void {
  let value = record as Record<string, unknown>;
  for (const key of path.slice(0, -1)) value = value[key] as Record<string, unknown>;
  value[path[path.length - 1]!] = text;
}

function isBlank(bytes: Buffer): boolean {
  for (const byte of bytes) if (byte !== 32 && byte !== 9 && byte !== 13) return false;
  return true;
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * The items of a JSONL or text shard, one raw line at a time (`take`). A byte-range shard
 * starting past 0 drops the partial line it starts in (the shard before reads it) and stops at
 * the first line starting at or after its end (`done`).
 */
class LineItems {
  readonly #shard: Shard;
  readonly #options: ReadOptions;
  readonly #tally: FileTally;
  readonly #decoding: TextDecoding;
  readonly #path: string[];
  readonly #end: number;
  /** Where reading starts: a shard that starts past 0 reads from the byte before its start. */
  readonly from: number;
  /** Whether line numbers are known (the shard starts at the file's start). */
  readonly knowsLines: boolean;
  #first: boolean;
  #line = 0;
  /** Set at the first line past the shard's end: stop reading. */
  done = false;

  constructor(shard: Shard, options: ReadOptions, tally: FileTally) {
    this.#shard = shard;
    this.#options = options;
    this.#tally = tally;
    this.#decoding = new TextDecoding(options.encoding);
    this.#path = shard.format === 'jsonl' ? fieldPath(options.field) : [];
    this.from = shard.kind === 'bytes' && shard.start > 0 ? shard.start - 1 : 0;
    this.#end = shard.kind === 'bytes' ? shard.end : Number.POSITIVE_INFINITY;
    // The line the byte before the start ends (or the empty line before a newline there) belongs to the shard before.
    this.#first = shard.kind === 'bytes' && shard.start > 0;
    this.knowsLines = !this.#first;
  }

  #where(position: number): { line?: number; position: number } {
    return this.knowsLines ? { line: this.#line, position } : { position };
  }

  /** The item of one raw line, or undefined: skipped (blank or a problem, counted in the tally), or past the end (`done`). */
  take(raw: RawLine): CorpusItem | undefined {
    if (this.#first) {
      this.#first = false;
      return undefined;
    }
    if (raw.offset >= this.#end) {
      this.done = true;
      return undefined;
    }
    const tally = this.#tally;
    const options = this.#options;
    const line = (this.#line += 1);
    tally.bytes += raw.length;
    let bytes = raw.bytes;
    if (bytes === undefined) {
      addProblem(tally, { kind: 'record-too-long', ...this.#where(raw.offset), message: `line of ${raw.length} bytes is longer than ${options.maxRecordBytes}` });
      return undefined;
    }
    if (raw.offset === 0 && bytes.subarray(0, 3).equals(BOM)) bytes = bytes.subarray(3);
    if (isBlank(bytes)) {
      tally.blank += 1;
      return undefined;
    }
    const decoded = this.#decoding.decode(bytes);
    if ('error' in decoded) {
      addProblem(tally, { kind: 'invalid-encoding', ...this.#where(raw.offset), message: decoded.error });
      return undefined;
    }
    const file = this.#shard.file;
    if (this.#shard.format === 'text') {
      tally.items += 1;
      return this.knowsLines ? { file, position: raw.offset, line, text: decoded.text } : { file, position: raw.offset, text: decoded.text };
    }
    let record: unknown;
    try {
      record = JSON.parse(decoded.text);
    } catch (error) {
      addProblem(tally, { kind: 'malformed-json', ...this.#where(raw.offset), message: (error as Error).message.slice(0, 200) });
      return undefined;
    }
    const value = pathValue(record, this.#path);
    if (value === undefined || value === null) {
      addProblem(tally, { kind: 'missing-field', ...this.#where(raw.offset), message: `no field "${options.field}"` });
      return undefined;
    }
    if (typeof value !== 'string') {
      addProblem(tally, { kind: 'not-text', ...this.#where(raw.offset), message: `field "${options.field}" is ${Array.isArray(value) ? 'an array' : typeof value}, not text` });
      return undefined;
    }
    tally.items += 1;
    return this.knowsLines ? { file, position: raw.offset, line, text: value, record } : { file, position: raw.offset, text: value, record };
  }

  /** The stream failed: the rest of the file is not read, and that is counted. */
  fail(error: unknown): void {
    const shard = this.#shard;
    const code = (error as NodeJS.ErrnoException).code ?? '';
    // File-system errors carry codes like ENOENT or EACCES; anything else from a compressed file is its stream.
    const decompress = shard.compression !== 'none' && !/^E[A-Z]+$/.test(String(code));
    addProblem(this.#tally, {
      kind: decompress ? 'decompress-error' : 'read-error',
      ...(this.knowsLines ? { line: this.#line + 1 } : {}),
      message: `${decompress ? `${shard.compression} stream broken` : 'read failed'} after ${this.#line} lines: ${(error as Error).message}; the rest of the file was not read`,
    });
  }
}

async function* readLineShard(shard: Shard, options: ReadOptions, tally: FileTally): AsyncGenerator<CorpusItem> {
  const items = new LineItems(shard, options, tally);
  try {
    for await (const raw of splitLines(await openBytes(shard.file, shard.compression, items.from), items.from, options.maxRecordBytes)) {
      const item = items.take(raw);
      if (items.done) break;
      if (item !== undefined) yield item;
    }
  } catch (error) {
    items.fail(error);
  }
}

const newlineAt = (chunk: Buffer, from: number): number => chunk.indexOf(10, from);

/** `visitShard` for JSONL and line text: a chunk's lines are cut and visited in a plain loop. */
async function visitLineShard(shard: Shard, options: ReadOptions, tally: FileTally, visit: (item: CorpusItem) => void | Promise<void>): Promise<void> {
  const items = new LineItems(shard, options, tally);
  const cutter = new RecordCutter(items.from, options.maxRecordBytes, newlineAt);
  // What `visit` throws is the caller's, not a read error: it passes through.
  let visitFailed = false;
  try {
    for await (const chunk of await openBytes(shard.file, shard.compression, items.from)) {
      cutter.push(chunk);
      for (let raw = cutter.next(); raw !== undefined; raw = cutter.next()) {
        const item = items.take(raw);
        if (items.done) return;
        if (item === undefined) continue;
        try {
          const pending = visit(item);
          if (pending !== undefined) await pending;
        } catch (error) {
          visitFailed = true;
          throw error;
        }
      }
    }
    const last = cutter.end();
    const item = last === undefined ? undefined : items.take(last);
    if (item !== undefined && !items.done) {
      try {
        await visit(item);
      } catch (error) {
        visitFailed = true;
        throw error;
      }
    }
  } catch (error) {
    if (visitFailed) throw error;
    items.fail(error);
  }
}

/** A text file as one item (`textUnit: file`). */
async function* readWholeText(shard: Shard, options: ReadOptions, tally: FileTally): AsyncGenerator<CorpusItem> {
  const decoding = new TextDecoding(options.encoding);
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of await openBytes(shard.file, shard.compression)) {
      length += chunk.length;
      if (length <= options.maxRecordBytes) chunks.push(chunk);
    }
  } catch (error) {
    addProblem(tally, { kind: shard.compression === 'none' ? 'read-error' : 'decompress-error', message: `${(error as Error).message}; the file was not read` });
    return;
  }
  tally.bytes += length;
  if (length > options.maxRecordBytes) {
    addProblem(tally, { kind: 'record-too-long', position: 0, message: `file of ${length} bytes is longer than ${options.maxRecordBytes}` });
    return;
  }
  let bytes = Buffer.concat(chunks);
  if (bytes.subarray(0, 3).equals(BOM)) bytes = bytes.subarray(3);
  if (isBlank(bytes)) {
    tally.blank += 1;
    return;
  }
  const decoded = decoding.decode(bytes);
  if ('error' in decoded) {
    addProblem(tally, { kind: 'invalid-encoding', position: 0, message: decoded.error });
    return;
  }
  tally.items += 1;
  yield { file: shard.file, position: 0, line: 1, text: decoded.text };
}

/** Every item of `shard`, counting what it reads and every problem into `tally`. Never throws for bad content. */
export function readShard(shard: Shard, options: ReadOptions, tally: FileTally): AsyncGenerator<CorpusItem> {
  switch (shard.format) {
    case 'parquet':
      return readParquetShard(shard, options, tally);
    case 'csv':
      return readCsvShard(shard, options, tally);
    case 'text':
      return options.textUnit === 'file' ? readWholeText(shard, options, tally) : readLineShard(shard, options, tally);
    default:
      return readLineShard(shard, options, tally);
  }
}

/**
 * Calls `visit` with every item of `shard` in order, as `readShard` yields them (same items,
 * same tally), waiting for it when it returns a promise. JSONL and line text are cut and
 * visited chunk by chunk in a plain loop, so a shard costs one wait per chunk of the file
 * instead of a few promises per item. What `visit` throws ends the visit and is thrown.
 */
export async function visitShard(shard: Shard, options: ReadOptions, tally: FileTally, visit: (item: CorpusItem) => void | Promise<void>): Promise<void> {
  if (shard.format === 'jsonl' || (shard.format === 'text' && options.textUnit !== 'file')) return visitLineShard(shard, options, tally, visit);
  for await (const item of readShard(shard, options, tally)) {
    const pending = visit(item);
    if (pending !== undefined) await pending;
  }
}

/** Every item of a whole file. */
export function readFile(file: CorpusFile, options: ReadOptions, tally: FileTally): AsyncGenerator<CorpusItem> {
  return readShard({ file: file.path, format: file.format, compression: file.compression, kind: 'whole', start: 0, end: file.size }, options, tally);
}

/**
 * Cuts `files` into shards of about `shardBytes`: byte ranges of uncompressed JSONL and
 * line-unit text, byte ranges of uncompressed CSV cut at record starts (one read of the file to
 * find them), Parquet row groups (grouped up to the size), whole files otherwise.
 */
export async function planShards(files: readonly CorpusFile[], options: { shardBytes: number; textUnit?: 'line' | 'file' }): Promise<Shard[]> {
  const { parquetRowGroups } = await import('./read-parquet.js');
  const shards: Shard[] = [];
  for (const file of files) {
    const base = { file: file.path, format: file.format, compression: file.compression, ...(file.name === undefined ? {} : { name: file.name }) };
    const splittable = file.compression === 'none' && (file.format === 'jsonl' || (file.format === 'text' && options.textUnit !== 'file'));
    if (splittable && file.size > options.shardBytes) {
      for (let start = 0; start < file.size; start += options.shardBytes) shards.push({ ...base, kind: 'bytes', start, end: Math.min(file.size, start + options.shardBytes) });
      continue;
    }
    if (file.format === 'csv' && file.compression === 'none' && file.size > options.shardBytes) {
      // Cut only at record starts, found by counting quotes from byte 0 (read-csv).
      const starts = [{ offset: 0, line: 1 }, ...(await csvBoundaries(file.path, options.shardBytes))];
      starts.forEach((at, i) => shards.push({ ...base, kind: 'bytes', start: at.offset, end: starts[i + 1]?.offset ?? file.size, line: at.line }));
      continue;
    }
    if (file.format === 'parquet') {
      const groups = await parquetRowGroups(file.path);
      if (groups !== undefined && groups.length > 0) {
        let current: Shard | undefined;
        let bytes = 0;
        for (const group of groups) {
          if (current === undefined || bytes + group.bytes > options.shardBytes) {
            current = { ...base, kind: 'rows', start: group.rowStart, end: group.rowEnd };
            shards.push(current);
            bytes = 0;
          } else current.end = group.rowEnd;
          bytes += group.bytes;
        }
        continue;
      }
      if (groups !== undefined) continue;
    }
    shards.push({ ...base, kind: 'whole', start: 0, end: file.size });
  }
  return shards;
}
