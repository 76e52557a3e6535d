/**
 * @module label/implicit/markdown
 * The Markdown codec: the label is the YAML front matter key `AIGC` (TC260 practice guide
 * placement). Its value is written as a single-quoted YAML scalar holding the JSON text,
 *
 *     AIGC: '{"Label":"1","ContentProducer":"...",...}'
 *
 * so that any YAML parser reads back exactly the standard JSON text as a string (YAML 1.2
 * §7.3.2: inside single quotes only `'` is escaped, as `''`). A value with characters a
 * single-quoted scalar cannot hold on one line is written double-quoted with JSON escapes,
 * which YAML 1.2 double-quoted scalars read identically (§7.3.1). Reading also accepts a
 * mapping, as other tools write (`AIGC: {"Label": "1", ...}`), and returns its JSON text.
 *
 * Only the `AIGC` line is touched: other keys, comments, the delimiters and the body stay
 * byte for byte, CRLF files stay CRLF. Without front matter, writing creates one holding only
 * the label; removing the label from front matter that then holds nothing removes it too.
 *
 * Payload: the body after the front matter, which labeling never changes; the front matter is
 * metadata. Detection is weak for Markdown: `detect` recognises front matter, and a file
 * without it is Markdown only by the caller's word (its extension or an explicit format).
 */
import type * as Yaml from 'yaml';
import type { Document, Pair, Scalar, YAMLMap } from 'yaml';
import { LabelFormatError } from '../errors.js';
import type { ByteRange, ByteSink, ByteSource, FoundLabel, LabelCodec } from './codec.js';
import { copyRange, utf8 } from './bytes.js';
import { findFrontMatter, readFrontMatter } from './markdown-front-matter.js';

/**
 * The YAML parser, loaded the first time a Markdown file is read or written: every label
 * command loads every codec, and a batch of images should not pay for YAML (issue 14).
 */
let yamlModule: typeof Yaml | undefined;

async function loadYaml(): Promise<typeof Yaml> {
  yamlModule ??= await import('yaml');
  return yamlModule;
}

/** The loaded parser, for the synchronous helpers below (each codec entry awaits `loadYaml` first). */
function yamlLoaded(): typeof Yaml {
  if (!yamlModule) throw new Error('markdown: the YAML parser is used before it was loaded');
  return yamlModule;
}

function isMap(node: unknown): node is YAMLMap {
  return yamlLoaded().isMap(node);
}

function isScalar(node: unknown): node is Scalar {
  return yamlLoaded().isScalar(node);
}

const MARKDOWN_LABEL_LOCATION = 'markdown:front-matter/AIGC';
const KEY = 'AIGC';

function fail(detail: string): never {
  throw new LabelFormatError('markdown', detail);
}

/** YAML printable characters other than line breaks and tab (YAML 1.2 §5.1 c-printable). */
const SINGLE_QUOTABLE = /^[\x20-\x7e\u00a0-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]*$/u;

/** `value` as a YAML scalar that parses back to exactly `value`. */
function yamlScalar(value: string): string {
  return SINGLE_QUOTABLE.test(value) ? `'${value.replace(/'/g, "''")}'` : JSON.stringify(value);
}

/**
 * Flow collections nested deeper than this are refused before YAML parsing: the parser
 * recurses per level, and past some tens of thousands of levels it exhausts memory rather
 * than failing. The count ignores quoting, so brackets inside strings count too.
 */
const MAX_FLOW_DEPTH = 64;

function flowDepth(text: string): number {
  let depth = 0;
  let max = 0;
  for (const c of text) {
    if (c === '[' || c === '{') max = Math.max(max, ++depth);
    else if (c === ']' || c === '}') depth = Math.max(0, depth - 1);
  }
  return max;
}

function parseYaml(text: string): Document.Parsed {
  if (flowDepth(text) > MAX_FLOW_DEPTH) fail(`the front matter nests brackets deeper than ${MAX_FLOW_DEPTH} levels`);
  const doc = yamlLoaded().parseDocument(text);
  const [error] = doc.errors;
  if (error) fail(`the front matter is not valid YAML: ${error.message}`);
  if (doc.contents !== null && !(isMap(doc.contents) && !doc.contents.flow)) fail('the front matter is not a YAML block mapping');
  return doc;
}

function labelPair(doc: Document.Parsed): Pair | undefined {
  if (!isMap(doc.contents)) return undefined;
  return doc.contents.items.find((pair) => isScalar(pair.key) && pair.key.value === KEY);
}

/** The whole lines `[start, end)` of `text` that hold `pair`, end-of-line included. */
function pairLines(text: string, pair: Pair): { start: number; end: number } {
  const keyRange = isScalar(pair.key) ? pair.key.range : undefined;
  if (!keyRange) fail('the front matter AIGC key has no position');
  const start = text.lastIndexOf('\n', keyRange[0] - 1) + 1;
  if (start !== keyRange[0]) fail('the front matter AIGC key does not start its line');
  const valueEnd = (pair.value as { range?: [number, number, number] } | null)?.range?.[1] ?? keyRange[1];
  const lf = text.indexOf('\n', Math.max(valueEnd - 1, keyRange[1]));
  return { start, end: lf < 0 ? text.length : lf + 1 };
}

/** `yaml` with the label line `line` replacing the AIGC entry, or added as the last key. */
function withLabelLine(yaml: string, line: string): string {
  const doc = parseYaml(yaml);
  const pair = labelPair(doc);
  if (pair) {
    const { start, end } = pairLines(yaml, pair);
    return yaml.slice(0, start) + line + yaml.slice(end);
  }
  const first = isMap(doc.contents) ? doc.contents.items[0] : undefined;
  const firstKey = first && isScalar(first.key) ? first.key.range?.[0] : undefined;
  if (firstKey !== undefined && yaml.lastIndexOf('\n', firstKey - 1) + 1 !== firstKey) {
    fail('the front matter mapping is indented; hegui adds keys only at column 0');
  }
  return yaml + line;
}

/** The AIGC mapping as plain data; aliases are capped so that an alias bomb is refused. */
function mappingValue(doc: Document.Parsed): unknown {
  try {
    return (doc.toJS({ maxAliasCount: 100 }) as Record<string, unknown>)[KEY];
  } catch (error) {
    throw new LabelFormatError('markdown', `the front matter AIGC mapping cannot be read: ${(error as Error).message}`, { cause: error });
  }
}

export const markdownCodec: LabelCodec = {
  format: 'markdown',
  mediaTypes: ['text/markdown'],
  extensions: ['md', 'markdown', 'mdown', 'mkd', 'mdx'],

  /** Recognises YAML front matter that closes within `head`; plain Markdown needs the caller's hint. */
  detect(head: Uint8Array): boolean {
    return findFrontMatter(head).present;
  },

  async read(source: ByteSource): Promise<FoundLabel[]> {
    const { yaml } = await readFrontMatter(source);
    if (yaml === undefined) return [];
    await loadYaml();
    const doc = parseYaml(yaml);
    const pair = labelPair(doc);
    if (!pair) return [];
    const node = pair.value;
    if (isScalar(node) && typeof node.value === 'string') return [{ value: node.value, location: MARKDOWN_LABEL_LOCATION, standard: true }];
    if (!isMap(node)) fail('the front matter AIGC value is neither a string nor a mapping');
    return [{ value: JSON.stringify(mappingValue(doc)), location: MARKDOWN_LABEL_LOCATION, standard: true }];
  },

  async write(source: ByteSource, value: string, sink: ByteSink): Promise<void> {
    const fm = await readFrontMatter(source);
    if (fm.toml) fail('the file opens with TOML front matter (+++); hegui writes YAML front matter only');
    const line = `${KEY}: ${yamlScalar(value)}${fm.eol}`;
    await loadYaml();
    if (fm.yaml === undefined) {
      await copyRange(source, 0, fm.bom, sink);
      await sink.write(utf8(`---${fm.eol}${line}---${fm.eol}`));
      await copyRange(source, fm.bom, source.size, sink);
      return;
    }
    await copyRange(source, 0, fm.yamlStart, sink);
    await sink.write(utf8(withLabelLine(fm.yaml, line)));
    await copyRange(source, fm.closeStart, source.size, sink);
  },

  async remove(source: ByteSource, sink: ByteSink): Promise<void> {
    const fm = await readFrontMatter(source);
    await loadYaml();
    const pair = fm.yaml === undefined ? undefined : labelPair(parseYaml(fm.yaml));
    if (fm.yaml === undefined || !pair) {
      await copyRange(source, 0, source.size, sink);
      return;
    }
    const { start, end } = pairLines(fm.yaml, pair);
    const rest = fm.yaml.slice(0, start) + fm.yaml.slice(end);
    if (rest.trim() === '') {
      await copyRange(source, 0, fm.bom, sink);
      await copyRange(source, fm.bodyStart, source.size, sink);
      return;
    }
    await copyRange(source, 0, fm.yamlStart, sink);
    await sink.write(utf8(rest));
    await copyRange(source, fm.closeStart, source.size, sink);
  },

  /** Signed content (docs/labels.md): the file as `remove` leaves it, which relabelling never changes. */
  signedContent: (source, sink) => markdownCodec.remove(source, sink),

  async payloadRanges(source: ByteSource): Promise<ByteRange[]> {
    const fm = await readFrontMatter(source);
    return [{ start: fm.present ? fm.bodyStart : fm.bom, end: source.size }];
  },
};
