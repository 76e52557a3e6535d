/**
 * @module label/implicit/pdf-xref
 * The cross-reference chain of a PDF (ISO 32000-1 §7.5.4 tables, §7.5.5 trailer, §7.5.6
 * incremental updates, §7.5.8 cross-reference streams and hybrid files) and the lookup of
 * objects through it, including objects inside object streams (§7.5.7).
 *
 * Sections are read newest first, following /Prev; an object's newest entry wins, and in a
 * hybrid file a section's table is searched before the stream named by its /XRefStm. Nothing
 * is indexed in bulk: table entries are read on demand, so opening a file with millions of
 * objects costs only its xref streams. Every offset is checked against the file, every /Prev
 * chain against loops, and every nesting against a depth limit.
 */
import { LabelFormatError } from '../errors.js';
import type { ByteSource } from './codec.js';
import { ascii, readExact } from './bytes.js';
import { dictGet, dictInteger, PdfLexer, PdfNeedMoreBytes, type PdfDict, type PdfValue } from './pdf-lexer.js';
import { decodeStream, MAX_DECODED_STREAM } from './pdf-stream.js';

/** A parsed value and the bytes its spans index into. */
export interface Parsed<T extends PdfValue = PdfValue> {
  value: T;
  bytes: Uint8Array;
}

type XrefEntry = { type: 'free' } | { type: 'offset'; offset: number; gen: number } | { type: 'compressed'; stream: number; index: number };

interface Subsection {
  first: number;
  count: number;
  /** File offset of the first 20-byte entry (tables) or index of the first row (streams). */
  at: number;
}

interface StreamSection {
  kind: 'stream';
  offset: number;
  trailer: Parsed<PdfDict>;
  widths: [number, number, number];
  subsections: Subsection[];
  data: Uint8Array;
}

interface TableSection {
  kind: 'table';
  offset: number;
  trailer: Parsed<PdfDict>;
  subsections: Subsection[];
  /** The /XRefStm stream of a hybrid file, searched after this table. */
  hybrid: StreamSection | undefined;
}

type XrefSection = TableSection | StreamSection;

interface ObjectStream {
  /** Object `wanted`, stored at `index` in this stream. */
  object(index: number, wanted: number): Parsed;
}

/** Windows tried in turn when parsing an object at an offset; a larger object is refused. */
const WINDOWS = [4096, 65536, 1 << 20, 16 << 20];
/** §7.5.5: `startxref` sits near the end; a few KiB covers trailing junk that viewers accept. */
const TAIL = 4096;
/** More revisions than this is not a real document. */
const MAX_SECTIONS = 100_000;
/** A /Length that is a reference to a reference ... is refused past this depth. */
const MAX_RESOLVE_DEPTH = 8;
/** A table entry is exactly 20 bytes (§7.5.4). */
const ENTRY = 20;

function fail(detail: string, offset?: number): never {
  throw new LabelFormatError('pdf', detail, offset === undefined ? undefined : { offset });
}

/**
 * Runs `parse` over a window of `source` at `offset`, growing the window when the object
 * continues past it.
 */
async function parseAt<T>(source: ByteSource, offset: number, what: string, parse: (lexer: PdfLexer) => T): Promise<{ result: T; bytes: Uint8Array }> {
  if (!Number.isSafeInteger(offset) || offset < 0 || offset >= source.size) {
    fail(`${what} is said to be at byte ${offset}, outside the file (${source.size} bytes)`);
  }
  for (const size of WINDOWS) {
    const bytes = await source.read(offset, Math.min(size, source.size - offset));
    const complete = offset + bytes.length >= source.size;
    try {
      return { result: parse(new PdfLexer(bytes, offset, complete)), bytes };
    } catch (error) {
      if (!(error instanceof PdfNeedMoreBytes)) throw error;
    }
  }
  return fail(`${what} is larger than ${WINDOWS[WINDOWS.length - 1] ?? 0} bytes`, offset);
}

/** The offset after the last `startxref` before `end` (§7.5.5). */
async function findStartxref(source: ByteSource, end = source.size): Promise<number> {
  const from = Math.max(0, end - TAIL);
  const tail = ascii(await source.read(from, end - from));
  const match = /startxref\s+(\d+)\s*(?:%%EOF)?[^]*$/.exec(tail.slice(tail.lastIndexOf('startxref')));
  if (tail.lastIndexOf('startxref') < 0 || !match) {
    fail(`no "startxref" in the last ${TAIL} bytes: the file is truncated or not a PDF`, from);
  }
  return Number(match[1]);
}

function isRef(value: PdfValue | undefined): value is Extract<PdfValue, { kind: 'ref' }> {
  return value?.kind === 'ref';
}

/** A PDF opened for reading its cross-reference chain and looking up objects. */
export class PdfDocument {
  readonly #source: ByteSource;
  readonly #objectStreams = new Map<number, ObjectStream>();
  /** Object streams being loaded: asking for one of them again is a reference cycle. */
  readonly #loading = new Set<number>();

  private constructor(
    source: ByteSource,
    /** Where the newest section begins: the value of the last `startxref`. */
    readonly startxref: number,
    /** Newest first. */
    readonly sections: readonly XrefSection[],
  ) {
    this.#source = source;
  }

  /** Reads the chain from the last `startxref` back through every /Prev. */
  static async open(source: ByteSource): Promise<PdfDocument> {
    const startxref = await findStartxref(source);
    const sections: XrefSection[] = [];
    const seen = new Set<number>();
    for (let next: number | undefined = startxref; next !== undefined; ) {
      if (seen.has(next)) fail(`the cross-reference chain loops: /Prev leads back to byte ${next}`);
      if (sections.length >= MAX_SECTIONS) fail(`more than ${MAX_SECTIONS} cross-reference sections`);
      seen.add(next);
      const section = await readSection(source, next, seen);
      sections.push(section);
      const prev = dictGet(section.trailer.value, 'Prev');
      if (prev !== undefined && (prev.kind !== 'number' || !prev.integer || prev.value < 0)) {
        fail('a trailer /Prev is not a byte offset', section.offset);
      }
      next = prev?.kind === 'number' ? prev.value : undefined;
    }
    return new PdfDocument(source, startxref, sections);
  }

  /** `key` from the newest trailer that has it (some writers omit entries in later trailers). */
  trailerEntry(key: string): Parsed | undefined {
    for (const section of this.sections) {
      const value = dictGet(section.trailer.value, key);
      if (value !== undefined) return { value, bytes: section.trailer.bytes };
    }
    return undefined;
  }

  /** The newest cross-reference entry for object `num`, or `undefined` when none exists. */
  async entry(num: number): Promise<XrefEntry | undefined> {
    for (const section of this.sections) {
      if (section.kind === 'stream') {
        const found = streamEntry(section, num);
        if (found) return found;
        continue;
      }
      const found = await this.#tableEntry(section, num);
      if (found?.type === 'offset') return found;
      // A hybrid file's table marks compressed objects free for PDF 1.4 readers (§7.5.8.4);
      // its /XRefStm stream says where they really are.
      const hybrid = section.hybrid ? streamEntry(section.hybrid, num) : undefined;
      if (hybrid) return hybrid;
      if (found) return found;
    }
    return undefined;
  }

  async #tableEntry(section: TableSection, num: number): Promise<XrefEntry | undefined> {
    const sub = section.subsections.find((s) => num >= s.first && num < s.first + s.count);
    if (!sub) return undefined;
    const at = sub.at + (num - sub.first) * ENTRY;
    const text = ascii(await readExact(this.#source, at, ENTRY, 'pdf'));
    const match = /^\s*(\d{1,10})\s+(\d{1,5})\s+([nf])/.exec(text);
    if (!match) fail(`cross-reference entry for object ${num} is not "nnnnnnnnnn ggggg n"`, at);
    const offset = Number(match[1]);
    // An in-use entry at offset 0 is a known writer bug; viewers treat it as free.
    if (match[3] === 'f' || offset === 0) return { type: 'free' };
    return { type: 'offset', offset, gen: Number(match[2]) };
  }

  /**
   * Object `num` as parsed, or `undefined` when it is free or absent (§7.3.10: a reference to
   * a missing object is the null object).
   */
  async object(num: number, depth = 0): Promise<Parsed | undefined> {
    if (depth > MAX_RESOLVE_DEPTH) fail(`references nest more than ${MAX_RESOLVE_DEPTH} deep (a self-referencing object?)`);
    const entry = await this.entry(num);
    if (!entry || entry.type === 'free') return undefined;
    if (entry.type === 'compressed') return (await this.#objectStream(entry.stream, depth + 1)).object(entry.index, num);
    const { result, bytes } = await parseAt(this.#source, entry.offset, `object ${num}`, (lexer: PdfLexer) => {
      const header = lexer.readObjectHeader();
      if (header.num !== num) lexer.fail(`the cross-reference entry for object ${num} points to object ${header.num}`, 0);
      return lexer.readValue();
    });
    return { value: result, bytes };
  }

  /**
   * Stream object `num`: its dictionary and decoded data, or `undefined` when it is free,
   * absent or compressed (a stream is never inside an object stream, §7.5.7).
   *
   * @throws LabelFormatError when it is not a stream or uses a filter hegui does not decode.
   */
  async stream(num: number): Promise<{ dict: PdfDict; data: Uint8Array } | undefined> {
    const entry = await this.entry(num);
    if (entry?.type !== 'offset') return undefined;
    const stream = await readStream(this.#source, entry.offset, (value) => this.integer(value, `the /Length of object ${num}`, 0));
    if (stream.num !== num) fail(`the cross-reference entry for object ${num} points to object ${stream.num}`, entry.offset);
    return { dict: stream.dict.value, data: decodeStream(stream.dict.value, stream.data, entry.offset) };
  }

  /** An integer that may be given directly or by reference (e.g. a stream /Length). */
  async integer(value: PdfValue | undefined, what: string, depth: number): Promise<number> {
    const resolved = isRef(value) ? (await this.object(value.num, depth + 1))?.value : value;
    if (resolved?.kind !== 'number' || !resolved.integer || resolved.value < 0) fail(`${what} is not a non-negative integer`);
    return resolved.value;
  }

  async #objectStream(num: number, depth: number): Promise<ObjectStream> {
    const cached = this.#objectStreams.get(num);
    if (cached) return cached;
    if (this.#loading.has(num)) fail(`object stream ${num} refers to itself (its /Length is inside it)`);
    this.#loading.add(num);
    try {
      const stream = await this.#loadObjectStream(num, depth);
      this.#objectStreams.set(num, stream);
      return stream;
    } finally {
      this.#loading.delete(num);
    }
  }

  async #loadObjectStream(num: number, depth: number): Promise<ObjectStream> {
    const entry = await this.entry(num);
    if (entry?.type !== 'offset') fail(`object stream ${num} is missing or is itself compressed`);
    const stream = await readStream(this.#source, entry.offset, (value) => this.integer(value, `the /Length of object stream ${num}`, depth));
    if (stream.num !== num) fail(`the cross-reference entry for object stream ${num} points to object ${stream.num}`, entry.offset);
    const dict = stream.dict.value;
    const type = dictGet(dict, 'Type');
    if (type?.kind !== 'name' || type.name !== 'ObjStm') fail(`object ${num} holds compressed objects but is not /Type /ObjStm`, entry.offset);
    const data = decodeStream(dict, stream.data, entry.offset);
    const count = dictInteger(dict, 'N');
    const first = dictInteger(dict, 'First');
    if (count === undefined || first === undefined || count < 0 || first < 0 || first > data.length || count * 4 > first) {
      fail(`object stream ${num} has a bad /N or /First`, entry.offset);
    }
    const header = new PdfLexer(data.subarray(0, first), entry.offset, true);
    const nums: number[] = [];
    const offsets: number[] = [];
    for (let i = 0; i < count; i++) {
      nums.push(header.readUnsigned('an object number in an object stream header'));
      const offset = header.readUnsigned('an offset in an object stream header');
      if (first + offset > data.length || offset < (offsets[i - 1] ?? 0)) fail(`object stream ${num} has an out-of-order or out-of-range offset`, entry.offset);
      offsets.push(offset);
    }
    return {
      object(index: number, wanted: number): Parsed {
        if (nums[index] !== wanted) fail(`object stream ${num} does not hold object ${wanted} at index ${index}`, entry.offset);
        const start = first + (offsets[index] ?? 0);
        const end = index + 1 < count ? first + (offsets[index + 1] ?? 0) : data.length;
        const bytes = data.subarray(start, end);
        return { value: new PdfLexer(bytes, entry.offset, true).readValue(), bytes };
      },
    };
  }
}

function streamEntry(section: StreamSection, num: number): XrefEntry | undefined {
  const sub = section.subsections.find((s) => num >= s.first && num < s.first + s.count);
  if (!sub) return undefined;
  const [w1, w2, w3] = section.widths;
  let at = (sub.at + num - sub.first) * (w1 + w2 + w3);
  const field = (width: number): number => {
    let value = 0;
    for (let i = 0; i < width; i++) value = value * 256 + (section.data[at++] ?? 0);
    return value;
  };
  // §7.5.8.3: a zero-width type field means type 1.
  const type = w1 === 0 ? 1 : field(w1);
  const second = field(w2);
  const third = field(w3);
  if (type === 1) return second === 0 ? { type: 'free' } : { type: 'offset', offset: second, gen: third };
  if (type === 2) return { type: 'compressed', stream: second, index: third };
  // Type 0 is free; §7.5.8.3 tells readers to treat unknown types as the null object.
  return { type: 'free' };
}

async function readSection(source: ByteSource, offset: number, seen: Set<number>): Promise<XrefSection> {
  const isTable = (await parseAt(source, offset, 'the cross-reference section', (lexer: PdfLexer) => lexer.peekKeyword('xref'))).result;
  if (!isTable) return readXrefStream(source, offset);
  const table = await readTable(source, offset);
  const xrefStm = dictGet(table.trailer.value, 'XRefStm');
  if (xrefStm?.kind === 'number' && xrefStm.integer) {
    if (seen.has(xrefStm.value)) fail(`the /XRefStm of the section at byte ${offset} is already in the chain`);
    seen.add(xrefStm.value);
    table.hybrid = await readXrefStream(source, xrefStm.value);
  }
  return table;
}

async function readTable(source: ByteSource, offset: number): Promise<TableSection> {
  const subsections: Subsection[] = [];
  let at = offset;
  let start = true;
  for (;;) {
    const { result, bytes } = await parseAt(source, at, 'a cross-reference table', (lexer: PdfLexer) => {
      if (start) lexer.expectKeyword('xref');
      if (lexer.peekKeyword('trailer')) {
        lexer.expectKeyword('trailer');
        const trailer = lexer.readValue();
        if (trailer.kind !== 'dict') lexer.fail('the trailer is not a dictionary');
        return { kind: 'trailer' as const, trailer };
      }
      const first = lexer.readUnsigned('a cross-reference subsection header or "trailer"');
      const count = lexer.readUnsigned('a cross-reference subsection count');
      lexer.skipWhitespace();
      return { kind: 'subsection' as const, first, count, entries: lexer.pos };
    });
    if (result.kind === 'trailer') {
      return { kind: 'table', offset, trailer: { value: result.trailer, bytes }, subsections, hybrid: undefined };
    }
    const entries = at + result.entries;
    if (entries + result.count * ENTRY > source.size) fail(`cross-reference subsection of ${result.count} entries runs past the end of the file`, at);
    subsections.push({ first: result.first, count: result.count, at: entries });
    at = entries + result.count * ENTRY;
    start = false;
  }
}

/**
 * Reads the stream object at `offset`: its dictionary, and its raw data of /Length bytes,
 * resolving an indirect /Length through `length`.
 */
async function readStream(
  source: ByteSource,
  offset: number,
  length: (value: PdfValue | undefined) => Promise<number>,
): Promise<{ num: number; dict: Parsed<PdfDict>; data: Uint8Array }> {
  const { result, bytes } = await parseAt(source, offset, 'a stream object', (lexer: PdfLexer) => {
    const { num } = lexer.readObjectHeader();
    const dict = lexer.readValue();
    if (dict.kind !== 'dict') lexer.fail('a stream object does not start with a dictionary');
    lexer.expectKeyword('stream');
    lexer.skipStreamEol();
    return { num, dict, dataStart: offset + lexer.pos };
  });
  const size = await length(dictGet(result.dict, 'Length'));
  if (size > MAX_DECODED_STREAM) fail(`a stream of ${size} bytes is larger than hegui reads`, offset);
  const data = await readExact(source, result.dataStart, size, 'pdf');
  const ends = await parseAt(source, result.dataStart + size, 'the end of a stream', (lexer: PdfLexer) => lexer.peekKeyword('endstream')).catch(() => ({ result: false }));
  if (!ends.result) fail(`the stream's /Length ${size} does not end at "endstream"`, offset);
  return { num: result.num, dict: { value: result.dict, bytes }, data };
}

async function readXrefStream(source: ByteSource, offset: number): Promise<StreamSection> {
  const { result: isXref } = await parseAt(source, offset, 'a cross-reference stream', (lexer: PdfLexer) => {
    lexer.readObjectHeader();
    const dict = lexer.readValue();
    const type = dict.kind === 'dict' ? dictGet(dict, 'Type') : undefined;
    return type?.kind === 'name' && type.name === 'XRef';
  }).catch(() => ({ result: false }));
  if (!isXref) fail('startxref, /Prev or /XRefStm points to neither an xref table nor a /Type /XRef stream', offset);
  // §7.5.8.2: entries of a cross-reference stream dictionary are direct objects.
  const stream = await readStream(source, offset, async (value) => {
    if (value?.kind !== 'number' || !value.integer || value.value < 0) fail('a cross-reference stream /Length is not a direct integer', offset);
    return value.value;
  });
  const dict = stream.dict.value;
  const widths = integers(dictGet(dict, 'W'), 'the /W of a cross-reference stream', offset);
  const [w1, w2, w3] = widths;
  if (widths.length !== 3 || w1 === undefined || w2 === undefined || w3 === undefined || widths.some((w) => w > 7) || w1 + w2 + w3 === 0) {
    fail('a cross-reference stream /W is not three field widths of 0 to 7 bytes', offset);
  }
  const size = dictInteger(dict, 'Size');
  if (size === undefined || size < 0) fail('a cross-reference stream has no /Size', offset);
  const index = dictGet(dict, 'Index') === undefined ? [0, size] : integers(dictGet(dict, 'Index'), 'the /Index of a cross-reference stream', offset);
  if (index.length % 2 !== 0) fail('a cross-reference stream /Index has an odd number of integers', offset);
  const data = decodeStream(dict, stream.data, offset);
  const subsections: Subsection[] = [];
  let rows = 0;
  for (let i = 0; i < index.length; i += 2) {
    const first = index[i] ?? 0;
    const count = index[i + 1] ?? 0;
    subsections.push({ first, count, at: rows });
    rows += count;
  }
  if (rows * (w1 + w2 + w3) > data.length) fail(`a cross-reference stream declares ${rows} entries but holds fewer`, offset);
  return { kind: 'stream', offset, trailer: stream.dict, widths: [w1, w2, w3], subsections, data };
}

function integers(value: PdfValue | undefined, what: string, offset: number): number[] {
  if (value?.kind !== 'array') fail(`${what} is not an array`, offset);
  return value.items.map((item) => {
    if (item.kind !== 'number' || !item.integer || item.value < 0) fail(`${what} holds something other than non-negative integers`, offset);
    return item.value;
  });
}
