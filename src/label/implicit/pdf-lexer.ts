/**
 * @module label/implicit/pdf-lexer
 * A parser for the PDF object syntax (ISO 32000-1 §7.2 lexical conventions, §7.3 objects) over
 * a window of bytes. Every parsed value keeps its byte span, so that a dictionary's entries can
 * be copied into a new revision exactly as the author wrote them, whatever escapes or number
 * forms they use. The parser never allocates more than its window, and nesting is bounded.
 */
import { LabelFormatError } from '../errors.js';

export type PdfValue =
  | { kind: 'null'; start: number; end: number }
  | { kind: 'boolean'; value: boolean; start: number; end: number }
  | { kind: 'number'; value: number; integer: boolean; start: number; end: number }
  | { kind: 'string'; bytes: Uint8Array; start: number; end: number }
  | { kind: 'name'; name: string; start: number; end: number }
  | { kind: 'array'; items: PdfValue[]; start: number; end: number }
  | { kind: 'dict'; entries: PdfDictEntry[]; start: number; end: number }
  | { kind: 'ref'; num: number; gen: number; start: number; end: number };

export type PdfDict = Extract<PdfValue, { kind: 'dict' }>;

/** One `/Key value` pair; `[start, end)` spans both, as written. */
export interface PdfDictEntry {
  key: string;
  value: PdfValue;
  start: number;
  end: number;
}

/** The window ended inside a token or an object: the caller reads a larger window and retries. */
export class PdfNeedMoreBytes extends Error {
  constructor() {
    super('PDF object continues past the bytes read');
  }
}

/** Deeper nesting than this is refused: real documents nest a handful of levels. */
const MAX_DEPTH = 64;
/** Numbers and keywords are short; a longer run of regular bytes is binary garbage. */
const MAX_WORD = 255;

const WHITESPACE = new Set([0x00, 0x09, 0x0a, 0x0c, 0x0d, 0x20]);
const DELIMITERS = new Set([0x28, 0x29, 0x3c, 0x3e, 0x5b, 0x5d, 0x7b, 0x7d, 0x2f, 0x25]);

function isRegular(byte: number | undefined): byte is number {
  return byte !== undefined && !WHITESPACE.has(byte) && !DELIMITERS.has(byte);
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57;
  return -1;
}

/** The single-character escapes of literal strings (§7.3.4.2, Table 3). */
const ESCAPES: Record<number, number> = { 0x6e: 0x0a, 0x72: 0x0d, 0x74: 0x09, 0x62: 0x08, 0x66: 0x0c, 0x28: 0x28, 0x29: 0x29, 0x5c: 0x5c };

/** The decoded bytes of a string; it never outgrows its source, which the window bounds. */
class StringBytes {
  #buffer = new Uint8Array(64);
  #length = 0;

  push(byte: number): void {
    if (this.#length === this.#buffer.length) {
      const grown = new Uint8Array(this.#buffer.length * 2);
      grown.set(this.#buffer);
      this.#buffer = grown;
    }
    this.#buffer[this.#length++] = byte;
  }

  bytes(): Uint8Array {
    return this.#buffer.slice(0, this.#length);
  }
}

type Token =
  | { type: 'value'; value: PdfValue }
  | { type: 'keyword'; word: string; start: number; end: number }
  | { type: 'open'; bracket: '[' | '<<'; start: number }
  | { type: 'close'; bracket: ']' | '>>'; start: number; end: number };

/**
 * A cursor over `bytes`, whose first byte sits at file offset `base` (used in error messages).
 * `complete` says that the window reaches the end of the file, so running out of bytes is a
 * truncated file rather than a reason to read more.
 */
export class PdfLexer {
  pos: number;

  constructor(
    readonly bytes: Uint8Array,
    readonly base: number,
    readonly complete: boolean,
    start = 0,
  ) {
    this.pos = start;
  }

  fail(detail: string, at = this.pos): never {
    throw new LabelFormatError('pdf', detail, { offset: this.base + at });
  }

  private outOfBytes(): never {
    if (this.complete) this.fail('the file ends inside an object');
    throw new PdfNeedMoreBytes();
  }

  /** Skips whitespace and comments (§7.2.3: a comment counts as whitespace). */
  skipWhitespace(): void {
    const b = this.bytes;
    for (;;) {
      while (this.pos < b.length && WHITESPACE.has(b[this.pos] ?? 0)) this.pos++;
      if (b[this.pos] !== 0x25) return;
      while (this.pos < b.length && b[this.pos] !== 0x0a && b[this.pos] !== 0x0d) this.pos++;
    }
  }

  /** True when the next bytes (after whitespace) are exactly the keyword `word`. */
  peekKeyword(word: string): boolean {
    this.skipWhitespace();
    for (let i = 0; i < word.length; i++) {
      const byte = this.bytes[this.pos + i];
      if (byte === undefined) this.outOfBytes();
      if (byte !== word.charCodeAt(i)) return false;
    }
    const after = this.bytes[this.pos + word.length];
    if (after === undefined && !this.complete) throw new PdfNeedMoreBytes();
    return !isRegular(after);
  }

  expectKeyword(word: string): void {
    if (!this.peekKeyword(word)) this.fail(`expected "${word}"`);
    this.pos += word.length;
  }

  /** Skips the end-of-line after `stream` (§7.3.8.1: CRLF or LF; a lone CR is tolerated). */
  skipStreamEol(): void {
    const first = this.bytes[this.pos];
    if (first === undefined || (first === 0x0d && this.bytes[this.pos + 1] === undefined)) this.outOfBytes();
    if (first === 0x0d) this.pos++;
    if (this.bytes[this.pos] === 0x0a) this.pos++;
  }

  /** A non-negative integer token, as in xref subsection headers and `N G obj`. */
  readUnsigned(what: string): number {
    this.skipWhitespace();
    const start = this.pos;
    let value = 0;
    while (this.pos < this.bytes.length) {
      const byte = this.bytes[this.pos] ?? 0;
      if (byte < 0x30 || byte > 0x39) break;
      value = value * 10 + (byte - 0x30);
      this.pos++;
    }
    if (this.pos === this.bytes.length) this.outOfBytes();
    if (this.pos === start || isRegular(this.bytes[this.pos])) this.fail(`expected ${what}`, start);
    if (!Number.isSafeInteger(value)) this.fail(`${what} is too large`, start);
    return value;
  }

  /** Parses one object; `num gen R` becomes a reference. */
  readValue(): PdfValue {
    return this.valueFrom(this.nextToken(), 0);
  }

  /** Parses `N G obj` and returns the numbers. */
  readObjectHeader(): { num: number; gen: number } {
    const num = this.readUnsigned('an object number');
    const gen = this.readUnsigned('a generation number');
    this.expectKeyword('obj');
    return { num, gen };
  }

  private valueFrom(token: Token, depth: number): PdfValue {
    if (token.type === 'value') return this.maybeReference(token.value);
    if (token.type === 'keyword') this.fail(`unexpected keyword "${token.word}"`, token.start);
    if (token.type === 'close') this.fail(`unexpected "${token.bracket}"`, token.start);
    if (depth >= MAX_DEPTH) this.fail(`objects nested deeper than ${MAX_DEPTH} levels`, token.start);
    return token.bracket === '[' ? this.arrayFrom(token.start, depth) : this.dictFrom(token.start, depth);
  }

  private arrayFrom(start: number, depth: number): PdfValue {
    const items: PdfValue[] = [];
    for (;;) {
      const token = this.nextToken();
      if (token.type === 'close') {
        if (token.bracket !== ']') this.fail('">>" inside an array', token.start);
        return { kind: 'array', items, start, end: token.end };
      }
      items.push(this.valueFrom(token, depth + 1));
    }
  }

  private dictFrom(start: number, depth: number): PdfDict {
    const entries: PdfDictEntry[] = [];
    for (;;) {
      const token = this.nextToken();
      if (token.type === 'close') {
        if (token.bracket !== '>>') this.fail('"]" inside a dictionary', token.start);
        return { kind: 'dict', entries, start, end: token.end };
      }
      if (token.type !== 'value' || token.value.kind !== 'name') this.fail('a dictionary key is not a name', this.tokenStart(token));
      const value = this.valueFrom(this.nextToken(), depth + 1);
      entries.push({ key: token.value.name, value, start: token.value.start, end: value.end });
    }
  }

  private tokenStart(token: Token): number {
    return token.type === 'value' ? token.value.start : token.start;
  }

  /** `N G R` (§7.3.10): looks ahead two tokens after a non-negative integer. */
  private maybeReference(value: PdfValue): PdfValue {
    if (value.kind !== 'number' || !value.integer || value.value < 0) return value;
    const saved = this.pos;
    if (this.atEnd()) return value;
    const gen = this.nextToken();
    if (gen.type === 'value' && gen.value.kind === 'number' && gen.value.integer && gen.value.value >= 0) {
      if (this.atEnd()) {
        this.pos = saved;
        return value;
      }
      const r = this.nextToken();
      if (r.type === 'keyword' && r.word === 'R') {
        return { kind: 'ref', num: value.value, gen: gen.value.value, start: value.start, end: r.end };
      }
    }
    this.pos = saved;
    return value;
  }

  /** True at the end of a complete window (after whitespace); a partial window asks for more. */
  private atEnd(): boolean {
    this.skipWhitespace();
    if (this.pos < this.bytes.length) return false;
    if (!this.complete) throw new PdfNeedMoreBytes();
    return true;
  }

  private nextToken(): Token {
    this.skipWhitespace();
    const b = this.bytes;
    const start = this.pos;
    const byte = b[start];
    if (byte === undefined) this.outOfBytes();
    if (byte === 0x5b) {
      this.pos++;
      return { type: 'open', bracket: '[', start };
    }
    if (byte === 0x5d) {
      this.pos++;
      return { type: 'close', bracket: ']', start, end: this.pos };
    }
    if (byte === 0x3c) {
      if (b[start + 1] === undefined) this.outOfBytes();
      if (b[start + 1] === 0x3c) {
        this.pos += 2;
        return { type: 'open', bracket: '<<', start };
      }
      return { type: 'value', value: this.hexString() };
    }
    if (byte === 0x3e) {
      if (b[start + 1] === undefined) this.outOfBytes();
      if (b[start + 1] !== 0x3e) this.fail('stray ">"');
      this.pos += 2;
      return { type: 'close', bracket: '>>', start, end: this.pos };
    }
    if (byte === 0x28) return { type: 'value', value: this.literalString() };
    if (byte === 0x2f) return { type: 'value', value: this.name() };
    if (byte === 0x29 || byte === 0x7b || byte === 0x7d) this.fail(`unexpected "${String.fromCharCode(byte)}"`);
    return this.word();
  }

  private word(): Token {
    const b = this.bytes;
    const start = this.pos;
    while (isRegular(b[this.pos]) && this.pos - start <= MAX_WORD) this.pos++;
    if (this.pos === b.length && !this.complete) throw new PdfNeedMoreBytes();
    if (this.pos - start > MAX_WORD) this.fail('a token runs on for more than 255 bytes', start);
    const text = String.fromCharCode(...b.subarray(start, this.pos));
    const end = this.pos;
    if (/^[+-]?(\d+\.?\d*|\.\d+)$/.test(text)) {
      const integer = /^[+-]?\d+$/.test(text);
      return { type: 'value', value: { kind: 'number', value: Number(text), integer, start, end } };
    }
    if (text === 'true' || text === 'false') return { type: 'value', value: { kind: 'boolean', value: text === 'true', start, end } };
    if (text === 'null') return { type: 'value', value: { kind: 'null', start, end } };
    return { type: 'keyword', word: text, start, end };
  }

  /** A name (§7.3.5), with `#xx` escapes decoded; the key `/AI#47C` is the name `AIGC`. */
  private name(): PdfValue {
    const b = this.bytes;
    const start = this.pos;
    this.pos++;
    let name = '';
    while (isRegular(b[this.pos])) {
      const byte = b[this.pos] ?? 0;
      if (byte === 0x23 && this.pos + 2 >= b.length && !this.complete) throw new PdfNeedMoreBytes();
      if (byte === 0x23 && this.pos + 2 < b.length) {
        const high = hexValue(b[this.pos + 1] ?? 0);
        const low = hexValue(b[this.pos + 2] ?? 0);
        if (high >= 0 && low >= 0) {
          name += String.fromCharCode(high * 16 + low);
          this.pos += 3;
          continue;
        }
      }
      name += String.fromCharCode(byte);
      this.pos++;
    }
    if (this.pos === b.length && !this.complete) throw new PdfNeedMoreBytes();
    return { kind: 'name', name, start, end: this.pos };
  }

  /** A literal string (§7.3.4.2): balanced parentheses, backslash escapes, EOL normalisation. */
  private literalString(): PdfValue {
    const b = this.bytes;
    const start = this.pos;
    this.pos++;
    const out = new StringBytes();
    let depth = 1;
    for (;;) {
      const byte = b[this.pos];
      if (byte === undefined) this.outOfBytes();
      this.pos++;
      if (byte === 0x28) depth++;
      else if (byte === 0x29 && --depth === 0) break;
      if (byte === 0x5c) {
        this.escape(out);
      } else if (byte === 0x0d) {
        // An unescaped end-of-line in a literal string reads as a single LF.
        if (b[this.pos] === 0x0a) this.pos++;
        out.push(0x0a);
      } else {
        out.push(byte);
      }
    }
    return { kind: 'string', bytes: out.bytes(), start, end: this.pos };
  }

  private escape(out: StringBytes): void {
    const b = this.bytes;
    const next = b[this.pos];
    if (next === undefined) this.outOfBytes();
    this.pos++;
    const mapped = ESCAPES[next];
    if (mapped !== undefined) {
      out.push(mapped);
    } else if (next >= 0x30 && next <= 0x37) {
      let code = next - 0x30;
      for (let i = 0; i < 2 && (b[this.pos] ?? 0) >= 0x30 && (b[this.pos] ?? 0) <= 0x37; i++) {
        code = code * 8 + ((b[this.pos] ?? 0) - 0x30);
        this.pos++;
      }
      out.push(code & 0xff);
    } else if (next === 0x0d) {
      // A backslash before an end-of-line continues the string on the next line.
      if (b[this.pos] === 0x0a) this.pos++;
    } else if (next !== 0x0a) {
      out.push(next);
    }
  }

  /** A hexadecimal string (§7.3.4.3); an odd final digit is followed by an implied 0. */
  private hexString(): PdfValue {
    const b = this.bytes;
    const start = this.pos;
    this.pos++;
    const out = new StringBytes();
    let high = -1;
    for (;;) {
      const byte = b[this.pos];
      if (byte === undefined) this.outOfBytes();
      this.pos++;
      if (byte === 0x3e) break;
      if (WHITESPACE.has(byte)) continue;
      const digit = hexValue(byte);
      if (digit < 0) this.fail('a hexadecimal string holds a non-hex character', this.pos - 1);
      if (high < 0) {
        high = digit;
      } else {
        out.push(high * 16 + digit);
        high = -1;
      }
    }
    if (high >= 0) out.push(high * 16);
    return { kind: 'string', bytes: out.bytes(), start, end: this.pos };
  }
}

/** The value of `key` in `dict`, or `undefined`. */
export function dictGet(dict: PdfDict, key: string): PdfValue | undefined {
  return dict.entries.find((entry) => entry.key === key)?.value;
}

/** The value of `key` as an integer, or `undefined` when absent or not an integer. */
export function dictInteger(dict: PdfDict, key: string): number | undefined {
  const value = dictGet(dict, key);
  return value?.kind === 'number' && value.integer ? value.value : undefined;
}
