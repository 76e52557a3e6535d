/**
 * @module label/implicit/markdown-front-matter
 * Finding YAML front matter at the start of a Markdown file (the Jekyll convention that Hugo,
 * Pandoc, Astro and most static site generators share): a first line `---`, YAML lines, and
 * a closing line `---` or `...`. Only the start of the file is read, so the body of a large
 * document is never held in memory.
 */
import { LabelFormatError } from '../errors.js';
import type { ByteSource } from './codec.js';

/** Front matter larger than this is not looked for; real front matter is a few hundred bytes. */
const FRONT_MATTER_LIMIT = 1024 * 1024;
const BOM = [0xef, 0xbb, 0xbf];

export interface FrontMatter {
  /** Bytes of the UTF-8 byte order mark before the opening line (0 or 3). */
  bom: number;
  /** The end-of-line the file uses: that of its first line, `\n` when it has none. */
  eol: '\n' | '\r\n';
  /** True when the file opens with YAML front matter. */
  present: boolean;
  /** Byte offset where the YAML text begins (after the opening line). */
  yamlStart: number;
  /** Byte offset where the closing delimiter line begins. */
  closeStart: number;
  /** Byte offset where the body begins: after the closing line and its end-of-line. */
  bodyStart: number;
  /** True when the file opens with TOML front matter (`+++`), which hegui does not edit. */
  toml: boolean;
}

interface Line {
  start: number;
  /** End of the line's content, before its end-of-line. */
  end: number;
  /** After the end-of-line. */
  next: number;
}

function* lines(bytes: Uint8Array, from: number): Generator<Line> {
  let start = from;
  while (start < bytes.length) {
    const lf = bytes.indexOf(0x0a, start);
    const next = lf < 0 ? bytes.length : lf + 1;
    const end = lf < 0 ? bytes.length : lf > start && bytes[lf - 1] === 0x0d ? lf - 1 : lf;
    yield { start, end, next };
    start = next;
  }
}

/** True when `line` is `marker` followed only by spaces or tabs. */
function isDelimiter(bytes: Uint8Array, line: Line, marker: string): boolean {
  if (line.end - line.start < marker.length) return false;
  for (let i = 0; i < marker.length; i++) if (bytes[line.start + i] !== marker.charCodeAt(i)) return false;
  for (let i = line.start + marker.length; i < line.end; i++) if (bytes[i] !== 0x20 && bytes[i] !== 0x09) return false;
  return true;
}

/**
 * Locates the front matter in `head`, the first bytes of the file. Without a closing line
 * inside `head`, the file has no front matter (an opening `---` alone is a thematic break).
 */
export function findFrontMatter(head: Uint8Array): FrontMatter {
  const bom = BOM.every((b, i) => head[i] === b) ? 3 : 0;
  const firstLf = head.indexOf(0x0a, bom);
  const eol = firstLf > bom && head[firstLf - 1] === 0x0d ? '\r\n' : '\n';
  const none: FrontMatter = { bom, eol, present: false, yamlStart: bom, closeStart: bom, bodyStart: bom, toml: false };
  const all = lines(head, bom);
  const first = all.next();
  if (first.done || first.value.next === first.value.end) return none;
  if (isDelimiter(head, first.value, '+++')) return { ...none, toml: true };
  if (!isDelimiter(head, first.value, '---')) return none;
  for (const line of all) {
    if (isDelimiter(head, line, '---') || isDelimiter(head, line, '...')) {
      return { bom, eol, present: true, yamlStart: first.value.next, closeStart: line.start, bodyStart: line.next, toml: false };
    }
  }
  return none;
}

/** Reads the start of `source`, locates its front matter and decodes its YAML text. */
export async function readFrontMatter(source: ByteSource): Promise<FrontMatter & { yaml: string | undefined }> {
  const head = await source.read(0, Math.min(source.size, FRONT_MATTER_LIMIT));
  const found = findFrontMatter(head);
  if (!found.present) return { ...found, yaml: undefined };
  try {
    return { ...found, yaml: new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(found.yamlStart, found.closeStart)) };
  } catch (error) {
    throw new LabelFormatError('markdown', 'the front matter is not valid UTF-8', { offset: found.yamlStart, cause: error });
  }
}
