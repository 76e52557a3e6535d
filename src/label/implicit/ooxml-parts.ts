/**
 * @module label/implicit/ooxml-parts
 * The three XML parts the OOXML codec edits, each by splicing its text so that every other
 * byte stays as the producer wrote it:
 * - the custom file properties part (ECMA-376 Part 1 §22.3, normally `docProps/custom.xml`),
 *   where the label is the property `AIGC` of type `vt:lpwstr` in the user-defined property
 *   set `{D5CDD505-2E9C-101B-9397-08002B2CF9AE}`, with a `pid` unique in the part and >= 2;
 * - the package relationships `_rels/.rels` (ECMA-376 Part 2 §9.3), which relate the package
 *   to that part;
 * - `[Content_Types].xml` (ECMA-376 Part 2 §10.1.2), which needs an Override for it.
 */
import { LabelFormatError, LabelValueError } from '../errors.js';
import { escapeXmlText, scanXml, type XmlStartTag, type XmlToken } from './xmp-scan.js';

const CUSTOM_PROPERTIES_RELATIONSHIP = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties';
const CUSTOM_PROPERTIES_CONTENT_TYPE = 'application/vnd.openxmlformats-officedocument.custom-properties+xml';
const VT_NS = 'http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes';
const CUSTOM_NS = 'http://schemas.openxmlformats.org/officeDocument/2006/custom-properties';
/** The format identifier of user-defined properties (ECMA-376 Part 1 §22.3.2.2). */
const USER_DEFINED_FMTID = '{D5CDD505-2E9C-101B-9397-08002B2CF9AE}';
export const DEFAULT_CUSTOM_PART = 'docProps/custom.xml';
const AIGC = 'AIGC';

interface XmlPart {
  name: string;
  text: string;
  tokens: XmlToken[];
  root: XmlStartTag;
  /** Where the root's content ends: the start of its end tag (or of the self-closing root). */
  rootEnd: number;
}

interface Element {
  tag: XmlStartTag;
  start: number;
  end: number;
  /** Tokens inside the element, its start and end tags excluded. */
  inner: XmlToken[];
}

function fail(part: string, detail: string, cause?: unknown): never {
  throw new LabelFormatError('ooxml', `part ${part} ${detail}`, { cause });
}

function parsePart(name: string, bytes: Uint8Array): XmlPart {
  if ((bytes[0] === 0xfe && bytes[1] === 0xff) || (bytes[0] === 0xff && bytes[1] === 0xfe)) {
    fail(name, 'is UTF-16; hegui edits only UTF-8 package parts');
  }
  let text: string;
  let tokens: XmlToken[];
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    tokens = scanXml(text);
  } catch (error) {
    // The scanner names its own format; keep only what it found and where.
    const detail = error instanceof Error ? error.message.replace(/^malformed \w+ file(?: at byte \d+)?: /, '') : String(error);
    return fail(name, `is not well-formed UTF-8 XML: ${detail}`, error);
  }
  const rootIndex = tokens.findIndex((t) => t.kind === 'start');
  const root = tokens[rootIndex];
  if (root?.kind !== 'start') fail(name, 'has no root element');
  const rootEnd = root.selfClosing ? root.start : (tokens.findLast((t) => t.kind === 'end')?.start ?? text.length);
  return { name, text, tokens, root, rootEnd };
}

/** The root's child elements, with their extents. */
function children(part: XmlPart): Element[] {
  const out: Element[] = [];
  let depth = 0;
  let open: { tag: XmlStartTag; index: number } | undefined;
  part.tokens.forEach((token, index) => {
    if (token.kind === 'start') {
      if (depth === 1 && token.selfClosing) out.push({ tag: token, start: token.start, end: token.end, inner: [] });
      if (depth === 1 && !token.selfClosing) open = { tag: token, index };
      if (!token.selfClosing) depth++;
    } else if (token.kind === 'end') {
      depth--;
      if (depth === 1 && open) {
        out.push({ tag: open.tag, start: open.tag.start, end: token.end, inner: part.tokens.slice(open.index + 1, index) });
        open = undefined;
      }
    }
  });
  return out;
}

function attribute(tag: XmlStartTag, local: string): string | undefined {
  return tag.attributes.find((a) => a.ns === '' && a.local === local)?.value;
}

/** The root's own prefix with a colon, so added children share its namespace. */
function childPrefix(part: XmlPart): string {
  const colon = part.root.name.indexOf(':');
  return colon < 0 ? '' : part.root.name.slice(0, colon + 1);
}

/** `part` with `child` added as the root's last child. */
function appendChild(part: XmlPart, child: string): string {
  const { text, root } = part;
  if (!root.selfClosing) return text.slice(0, part.rootEnd) + child + text.slice(part.rootEnd);
  const open = text.slice(root.start, root.end).replace(/\s*\/>$/, '>');
  return `${text.slice(0, root.start)}${open}${child}</${root.name}>${text.slice(root.end)}`;
}

/** `text` without the given extents. */
function cut(text: string, spans: readonly { start: number; end: number }[]): string {
  let out = '';
  let at = 0;
  for (const span of [...spans].sort((a, b) => a.start - b.start)) {
    out += text.slice(at, span.start);
    at = span.end;
  }
  return out + text.slice(at);
}

const encoder = new TextEncoder();

/** Package-relative part name (`docProps/custom.xml`) of a relationship target from the root. */
function resolveTarget(target: string): string {
  const segments: string[] = [];
  for (const segment of target.replace(/^\//, '').split('/')) {
    if (segment === '..') segments.pop();
    else if (segment !== '.' && segment !== '') segments.push(segment);
  }
  return segments.join('/');
}

/** The custom properties part that `_rels/.rels` relates to the package, if any. */
export function customPartName(rels: Uint8Array): string | undefined {
  const part = parsePart('_rels/.rels', rels);
  const rel = children(part).find((c) => c.tag.local === 'Relationship' && attribute(c.tag, 'Type') === CUSTOM_PROPERTIES_RELATIONSHIP);
  const target = rel && attribute(rel.tag, 'TargetMode') !== 'External' ? attribute(rel.tag, 'Target') : undefined;
  return target === undefined ? undefined : resolveTarget(target);
}

/** `_rels/.rels` relating the package to `partName`, or `undefined` when it already does. */
export function withCustomRelationship(rels: Uint8Array, partName: string): Uint8Array | undefined {
  if (customPartName(rels) !== undefined) return undefined;
  const part = parsePart('_rels/.rels', rels);
  const ids = new Set(children(part).map((c) => attribute(c.tag, 'Id')));
  let n = 1;
  while (ids.has(`rId${n}`)) n++;
  const p = childPrefix(part);
  const rel = `<${p}Relationship Id="rId${n}" Type="${CUSTOM_PROPERTIES_RELATIONSHIP}" Target="${escapeXmlText(partName)}"/>`;
  return encoder.encode(appendChild(part, rel));
}

/** `_rels/.rels` without its custom properties relationship. */
export function withoutCustomRelationship(rels: Uint8Array): Uint8Array {
  const part = parsePart('_rels/.rels', rels);
  const spans = children(part).filter((c) => c.tag.local === 'Relationship' && attribute(c.tag, 'Type') === CUSTOM_PROPERTIES_RELATIONSHIP);
  return encoder.encode(cut(part.text, spans));
}

function isOverrideFor(element: Element, partName: string): boolean {
  return element.tag.local === 'Override' && attribute(element.tag, 'PartName')?.toLowerCase() === `/${partName}`.toLowerCase();
}

/** `[Content_Types].xml` with an Override for `partName`, or `undefined` when it has one. */
export function withCustomOverride(types: Uint8Array, partName: string): Uint8Array | undefined {
  const part = parsePart('[Content_Types].xml', types);
  if (children(part).some((c) => isOverrideFor(c, partName))) return undefined;
  const p = childPrefix(part);
  return encoder.encode(appendChild(part, `<${p}Override PartName="/${escapeXmlText(partName)}" ContentType="${CUSTOM_PROPERTIES_CONTENT_TYPE}"/>`));
}

/** `[Content_Types].xml` without the Override for `partName`. */
export function withoutCustomOverride(types: Uint8Array, partName: string): Uint8Array {
  const part = parsePart('[Content_Types].xml', types);
  return encoder.encode(cut(part.text, children(part).filter((c) => isOverrideFor(c, partName))));
}

function labelProperties(part: XmlPart): Element[] {
  return children(part).filter((c) => c.tag.local === 'property' && attribute(c.tag, 'name')?.toUpperCase() === AIGC);
}

function customPart(name: string, bytes: Uint8Array): XmlPart {
  const part = parsePart(name, bytes);
  if (part.root.local !== 'Properties') fail(name, `has root <${part.root.name}>, not the custom properties <Properties>`);
  return part;
}

/** The label stored in the custom properties part, if any. */
export function readCustomLabel(name: string, bytes: Uint8Array): string | undefined {
  const property = labelProperties(customPart(name, bytes))[0];
  if (!property) return undefined;
  return property.inner.map((t) => (t.kind === 'text' ? t.text : '')).join('');
}

/**
 * Element content for `value`: the predefined escapes, plus character references for TAB, LF
 * and CR, which XML parsers would otherwise normalise (XML 1.0 §2.11, §3.3.3).
 */
function escapeValue(value: string): string {
  const invalid = invalidXmlCharacter(value);
  if (invalid !== undefined) {
    throw new LabelValueError(`contains U+${invalid.toString(16).toUpperCase().padStart(4, '0')}, which XML cannot carry`);
  }
  return escapeXmlText(value).replace(/[\t\n\r]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The first code point XML 1.0 §2.2 does not allow (controls, lone surrogates, U+FFFE/F). */
function invalidXmlCharacter(value: string): number | undefined {
  for (const char of value) {
    const cp = char.codePointAt(0) ?? 0;
    if ((cp < 0x20 && cp !== 0x09 && cp !== 0x0a && cp !== 0x0d) || (cp >= 0xd800 && cp <= 0xdfff) || cp === 0xfffe || cp === 0xffff) return cp;
  }
  return undefined;
}

function propertyElement(part: XmlPart | undefined, pid: number, value: string): string {
  const p = part ? childPrefix(part) : '';
  const bound = part ? [...part.root.scope].find(([, ns]) => ns === VT_NS)?.[0] : 'vt';
  const vt = bound === undefined || bound === '' ? 'vt' : bound;
  const declare = bound === undefined || bound === '' ? ` xmlns:vt="${VT_NS}"` : '';
  return `<${p}property fmtid="${USER_DEFINED_FMTID}" pid="${pid}" name="${AIGC}"><${vt}:lpwstr${declare}>${escapeValue(value)}</${vt}:lpwstr></${p}property>`;
}

/** The custom properties part (new when `bytes` is undefined) holding the label `value`. */
export function withCustomLabel(name: string, bytes: Uint8Array | undefined, value: string): Uint8Array {
  if (bytes === undefined) {
    return encoder.encode(
      `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<Properties xmlns="${CUSTOM_NS}" xmlns:vt="${VT_NS}">${propertyElement(undefined, 2, value)}</Properties>`,
    );
  }
  const part = customPart(name, bytes);
  const [first, ...others] = labelProperties(part);
  if (first) {
    // Keep the existing pid, so the property keeps its identity.
    const pid = Number(attribute(first.tag, 'pid'));
    const element = propertyElement(part, Number.isInteger(pid) && pid >= 2 ? pid : nextPid(part), value);
    const text = cut(part.text, others);
    const shift = others.filter((o) => o.start < first.start).reduce((n, o) => n + o.end - o.start, 0);
    return encoder.encode(text.slice(0, first.start - shift) + element + text.slice(first.end - shift));
  }
  return encoder.encode(appendChild(part, propertyElement(part, nextPid(part), value)));
}

/** ECMA-376 Part 1 §22.3.2.2: pids are unique within the part and start at 2. */
function nextPid(part: XmlPart): number {
  const pids = children(part).map((c) => Number(attribute(c.tag, 'pid'))).filter((n) => Number.isInteger(n));
  return Math.max(1, ...pids) + 1;
}

/**
 * The custom properties part without the label, and whether any property is left; `undefined`
 * when it holds no label.
 */
export function withoutCustomLabel(name: string, bytes: Uint8Array): { content: Uint8Array; empty: boolean } | undefined {
  const part = customPart(name, bytes);
  const labels = labelProperties(part);
  if (labels.length === 0) return undefined;
  const empty = children(part).length === labels.length;
  return { content: encoder.encode(cut(part.text, labels)), empty };
}
