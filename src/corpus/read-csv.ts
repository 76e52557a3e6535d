/**
 * @module corpus/read-csv
 * CSV (RFC 4180: comma, double quotes, doubled quotes inside, newlines inside quotes) read as a
 * stream of records cut at the byte level. Quote (0x22), comma and newline are ASCII and never
 * the trailing byte of a UTF-8 or GB 18030 character, so records can be cut before they are
 * decoded, and a record in a wrong encoding spoils only itself. The first record names the
 * columns; the text is the column `field`.
 *
 * Byte-range shards of a CSV file. A quoted field may hold newlines, so a byte offset alone
 * cannot tell whether a newline ends a record: only the quote count since the start of the file
 * can. Rather than guess from local context (no rule looking at a window of bytes can tell
 * `"a\n"` inside a field from the end of a record in every file), the planner reads the file
 * once (`csvBoundaries`): it counts quotes and newlines from byte 0 with the very rule the reader
 * cuts records by (every `"` flips the quoted state; a newline outside quotes ends a record) and
 * notes the first record start at or after every `shardBytes`. A shard is the records from one
 * noted start to the next, so the shards' records are exactly the whole file's records, each in
 * one shard, malformed files included (a stray quote shifts the cuts of both alike). The pass
 * costs one sequential read of the file with `indexOf` (a few hundred MB/s or more), before any
 * shard starts. A shard past the first reads the header record from the start of the file.
 */
import { createReadStream } from 'node:fs';
import type { CorpusItem, FileTally, RawLine, ReadOptions, Shard } from './read.js';
import { addProblem, openBytes, splitAt, TextDecoding } from './read.js';

const QUOTE = 0x22;
const NEWLINE = 0x0a;

interface RawRecord extends RawLine {
  /** The stream ended inside quotes. */
  unclosed: boolean;
}

/**
 * Cuts a byte stream into CSV records: at newlines outside quotes (a doubled quote inside a
 * quoted field toggles twice, so counting quotes is enough).
 */
async function* splitRecords(chunks: AsyncIterable<Buffer>, maxBytes: number, base = 0): AsyncGenerator<RawRecord> {
  let quoted = false;
  const nextEnd = (chunk: Buffer, from: number): number => {
    for (let i = from; i < chunk.length; i += 1) {
      const byte = chunk[i];
      if (byte === QUOTE) quoted = !quoted;
      else if (byte === NEWLINE && !quoted) return i;
    }
    return -1;
  };
  // A record cut at a newline was outside quotes; only the last, cut by the stream's end, can be inside them.
  for await (const record of splitAt(chunks, base, maxBytes, nextEnd)) yield { ...record, unclosed: quoted };
}

/** The fields of one decoded record, or an error message. */
export function parseCsvRecord(text: string): string[] | { error: string } {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (text.charCodeAt(i) === QUOTE) {
      let value = '';
      i += 1;
      for (;;) {
        const close = text.indexOf('"', i);
        if (close === -1) return { error: 'a quoted field is not closed' };
        value += text.slice(i, close);
        if (text.charCodeAt(close + 1) === QUOTE) {
          value += '"';
          i = close + 2;
          continue;
        }
        i = close + 1;
        break;
      }
      fields.push(value);
      if (i === text.length) return fields;
      if (text[i] !== ',') return { error: `unexpected character after a quoted field at column ${i + 1}` };
      i += 1;
    } else {
      const comma = text.indexOf(',', i);
      const value = text.slice(i, comma === -1 ? text.length : comma);
      if (value.includes('"')) return { error: `a quote inside an unquoted field at column ${i + 1}` };
      fields.push(value);
      if (comma === -1) return fields;
      i = comma + 1;
    }
  }
}

/** A record start of a CSV file: its byte offset and the 1-based line it is on. */
export interface CsvBoundary {
  offset: number;
  line: number;
}

/**
 * The first record start at or after every `every` bytes of an uncompressed CSV file (after the
 * last one noted), counting quotes and newlines from byte 0 the way `splitRecords` cuts records.
 * Never 0 nor the file's end.
 */
export async function csvBoundaries(path: string, every: number): Promise<CsvBoundary[]> {
  const out: CsvBoundary[] = [];
  let quoted = false;
  let line = 1;
  let next = every;
  let offset = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    let quote = chunk.indexOf(QUOTE);
    let newline = chunk.indexOf(NEWLINE);
    while (quote !== -1 || newline !== -1) {
      if (quote !== -1 && (newline === -1 || quote < newline)) {
        quoted = !quoted;
        quote = chunk.indexOf(QUOTE, quote + 1);
        continue;
      }
      line += 1;
      const recordStart = offset + newline + 1;
      if (!quoted && recordStart >= next) {
        out.push({ offset: recordStart, line });
        next = recordStart + every;
      }
      newline = chunk.indexOf(NEWLINE, newline + 1);
    }
    offset += chunk.length;
  }
  // A record start at the very end is no record.
  while (out.length > 0 && out[out.length - 1]!.offset >= offset) out.pop();
  return out;
}

/**
 * The header of a CSV file as the whole-file read finds it (the first record that is not too
 * long; see `readCsvShard`), with its offset, or undefined when it does not read: the shard that
 * holds it reports why.
 */
async function readHeader(shard: Shard, options: ReadOptions, decoding: TextDecoding): Promise<{ names: string[]; offset: number } | undefined> {
  for await (const raw of splitRecords(await openBytes(shard.file, shard.compression), options.maxRecordBytes)) {
    if (raw.bytes === undefined || raw.unclosed) continue;
    let bytes = raw.bytes;
    if (raw.offset === 0 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
    const decoded = decoding.decode(bytes);
    if ('error' in decoded) return undefined;
    const names = parseCsvRecord(decoded.text);
    return Array.isArray(names) ? { names, offset: raw.offset } : undefined;
  }
  return undefined;
}

/**
 * The items of a CSV shard: the whole file, or the records from a byte range's start (a record
 * start found by `csvBoundaries`) to the next range's start.
 */
export async function* readCsvShard(shard: Shard, options: ReadOptions, tally: FileTally): AsyncGenerator<CorpusItem> {
  const decoding = new TextDecoding(options.encoding);
  const ranged = shard.kind === 'bytes' && shard.start > 0;
  const from = ranged ? shard.start : 0;
  const end = shard.kind === 'bytes' ? shard.end : Number.POSITIVE_INFINITY;
  let header: string[] | undefined;
  let column = -1;
  let record = 0;
  let line = ranged ? (shard.line ?? 1) : 1;
  let headerAt = -1;
  try {
    if (ranged) {
      // The shard holding the header (the first, as a rule) reports what is wrong with it.
      const found = await readHeader(shard, options, decoding);
      if (found === undefined || !found.names.includes(options.field)) return;
      header = found.names;
      column = header.indexOf(options.field);
      headerAt = found.offset;
    }
    for await (const raw of splitRecords(await openBytes(shard.file, shard.compression, from), options.maxRecordBytes, from)) {
      if (raw.offset >= end) break;
      const startLine = line;
      tally.bytes += raw.length;
      const where = { line: startLine, position: raw.offset };
      if (raw.bytes === undefined) {
        addProblem(tally, { kind: 'record-too-long', ...where, message: `record of ${raw.length} bytes is longer than ${options.maxRecordBytes}` });
        line += 1;
        continue;
      }
      let bytes = raw.bytes;
      for (const byte of bytes) if (byte === NEWLINE) line += 1;
      line += 1;
      if (raw.offset === headerAt) continue;
      if (raw.offset === 0 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
      if (raw.unclosed) {
        addProblem(tally, { kind: 'malformed-csv', ...where, message: 'the file ends inside a quoted field' });
        continue;
      }
      const decoded = decoding.decode(bytes);
      if ('error' in decoded) {
        addProblem(tally, { kind: 'invalid-encoding', ...where, message: decoded.error });
        if (header === undefined) return;
        continue;
      }
      if (header === undefined) {
        const names = parseCsvRecord(decoded.text);
        if (!Array.isArray(names)) {
          addProblem(tally, { kind: 'malformed-csv', ...where, message: `header: ${names.error}; the file was not read` });
          return;
        }
        header = names;
        column = names.indexOf(options.field);
        if (column === -1) {
          addProblem(tally, { kind: 'missing-field', ...where, message: `no column "${options.field}" (columns: ${names.slice(0, 20).join(', ')}); the file was not read` });
          return;
        }
        continue;
      }
      if (decoded.text.trim() === '') {
        tally.blank += 1;
        continue;
      }
      record += 1;
      const fields = parseCsvRecord(decoded.text);
      if (!Array.isArray(fields)) {
        addProblem(tally, { kind: 'malformed-csv', ...where, message: fields.error });
        continue;
      }
      if (fields.length !== header.length) {
        addProblem(tally, { kind: 'malformed-csv', ...where, message: `${fields.length} fields where the header has ${header.length}` });
        continue;
      }
      tally.items += 1;
      yield { file: shard.file, position: raw.offset, line: startLine, text: fields[column]! };
    }
  } catch (error) {
    addProblem(tally, {
      kind: shard.compression === 'none' ? 'read-error' : 'decompress-error',
      line,
      message: `read failed after ${record} records: ${(error as Error).message}; the rest of the file was not read`,
    });
  }
}

/** Every record of a whole CSV text (quoted newlines kept), each as its fields; errors name the record's line. */
export function parseCsvText(text: string): { records: string[][]; errors: string[] } {
  const records: string[][] = [];
  const errors: string[] = [];
  let start = 0;
  let quoted = false;
  let line = 1;
  let recordLine = 1;
  const body = text.startsWith('\ufeff') ? text.slice(1) : text;
  for (let i = 0; i <= body.length; i += 1) {
    const c = body.charCodeAt(i);
    if (c === QUOTE) quoted = !quoted;
    if (i === body.length || (c === NEWLINE && !quoted)) {
      let raw = body.slice(start, i);
      if (raw.endsWith('\r')) raw = raw.slice(0, -1);
      if (raw.trim() !== '') {
        const fields = parseCsvRecord(raw);
        if (Array.isArray(fields)) records.push(fields);
        else errors.push(`line ${recordLine}: ${fields.error}`);
      }
      start = i + 1;
      recordLine = line + 1;
    }
    if (c === NEWLINE) line += 1;
  }
  if (quoted) errors.push(`line ${recordLine}: the text ends inside a quoted field`);
  return { records, errors };
}

/** One CSV record: fields quoted when they hold a comma, quote or line break (or begin with a formula sign). */
export function csvRecord(fields: readonly string[]): string {
  return fields
    .map((field) => {
      // A leading = + - @ would run as a formula in a spreadsheet; quote it with a leading apostrophe.
      const safe = /^[=+\-@]/.test(field) && !/^-?\d/.test(field) ? `'${field}` : field;
      return /[",\r\n]/.test(safe) || safe !== field ? `"${safe.replaceAll('"', '""')}"` : safe;
    })
    .join(',');
}
