/**
 * @module label/implicit/xmp-scan
 * A small, non-validating XML scanner for XMP packets (ISO 16684-1 §7, RDF/XML). It finds
 * tags with their byte-exact positions and resolved namespaces, so that the TC260 property can
 * be replaced or removed by splicing the text, leaving every other byte of the packet as the
 * author wrote it. It never expands entities beyond the five predefined ones and character
 * references, so a hostile packet cannot make it allocate more than its own size.
 */
import { LabelFormatError } from '../errors.js';

export interface XmlAttribute {
  /** Qualified name as written, e.g. `rdf:about`. */
  name: string;
  /** Namespace URI of the attribute's prefix; `''` for an unprefixed attribute. */
  ns: string;
  local: string;
  /** Decoded value. */
  value: string;
  /** `[start, end)` of the attribute in the text, starting at the whitespace before it. */
  start: number;
  end: number;
}

export interface XmlStartTag {
  kind: 'start';
  name: string;
  ns: string;
  local: string;
  attributes: XmlAttribute[];
  selfClosing: boolean;
  start: number;
  end: number;
  /** The prefixes in scope inside this element. */
  scope: ReadonlyMap<string, string>;
}

export interface XmlEndTag {
  kind: 'end';
  name: string;
  ns: string;
  local: string;
  start: number;
  end: number;
}

export interface XmlText {
  kind: 'text';
  /** Decoded text (character data or CDATA content). */
  text: string;
  start: number;
  end: number;
}

export type XmlToken = XmlStartTag | XmlEndTag | XmlText;

const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const NAME_END = /[\s/>=]/;

function fail(detail: string, offset: number): never {
  throw new LabelFormatError('xmp', detail, { offset });
}

/** Decodes the five predefined entities and character references. */
export function decodeXmlText(raw: string, offset = 0): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);?/g, (match, body: string) => {
    if (!match.endsWith(';')) fail(`unterminated entity ${match}`, offset);
    if (body.startsWith('#')) {
      const code = body[1] === 'x' ? Number.parseInt(body.slice(2), 16) : Number.parseInt(body.slice(1), 10);
      if (!Number.isFinite(code) || code > 0x10ffff) fail(`invalid character reference ${match}`, offset);
      return String.fromCodePoint(code);
    }
    const named: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
    const value = named[body];
    if (value === undefined) fail(`unknown entity ${match}`, offset);
    return value;
  });
}

/** Escapes text for element content or a double-quoted attribute. */
const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

export function escapeXmlText(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ESCAPES[c] ?? c);
}

function splitName(name: string): [prefix: string, local: string] {
  const colon = name.indexOf(':');
  return colon < 0 ? ['', name] : [name.slice(0, colon), name.slice(colon + 1)];
}

/**
 * Scans `xml` into tokens. Comments, processing instructions and the packet wrapper are
 * skipped; a DOCTYPE is refused (XMP forbids it, and it is the door to entity expansion).
 *
 * @throws LabelFormatError on malformed markup or unbalanced tags.
 */
export function scanXml(xml: string): XmlToken[] {
  if (xml.length > MAX_XML_CHARS) fail(`an XML document of ${xml.length} characters is larger than the ${MAX_XML_CHARS} hegui reads`, 0);
  const tokens: XmlToken[] = [];
  const scopes: ReadonlyMap<string, string>[] = [new Map([['xml', XML_NS]])];
  const budget = { entries: MAX_SCOPE_ENTRIES };
  const open: string[] = [];
  let at = 0;
  while (at < xml.length) {
    const lt = xml.indexOf('<', at);
    const textEnd = lt < 0 ? xml.length : lt;
    if (textEnd > at) {
      tokens.push({ kind: 'text', text: decodeXmlText(xml.slice(at, textEnd), at), start: at, end: textEnd });
    }
    if (lt < 0) break;
    at = lt;
    if (xml.startsWith('<!--', at)) {
      at = skipPast(xml, '-->', at);
    } else if (xml.startsWith('<![CDATA[', at)) {
      const end = skipPast(xml, ']]>', at);
      tokens.push({ kind: 'text', text: xml.slice(at + 9, end - 3), start: at, end });
      at = end;
    } else if (xml.startsWith('<?', at)) {
      at = skipPast(xml, '?>', at);
    } else if (xml.startsWith('<!', at)) {
      fail('DOCTYPE and other declarations are not allowed in XMP', at);
    } else if (xml.startsWith('</', at)) {
      const close = xml.indexOf('>', at);
      if (close < 0) fail('unterminated end tag', at);
      const name = xml.slice(at + 2, close).trim();
      if (open.pop() !== name) fail(`end tag </${name}> does not match the open element`, at);
      const scope = scopes.pop();
      const [prefix, local] = splitName(name);
      tokens.push({ kind: 'end', name, ns: scope?.get(prefix) ?? '', local, start: at, end: close + 1 });
      at = close + 1;
    } else {
      const tag = scanStartTag(xml, at, scopes[scopes.length - 1] ?? new Map(), budget);
      tokens.push(tag);
      if (!tag.selfClosing) {
        open.push(tag.name);
        scopes.push(tag.scope);
      }
      at = tag.end;
    }
  }
  if (open.length > 0) fail(`element <${open[open.length - 1]}> is never closed`, xml.length);
  return tokens;
}

function skipPast(xml: string, terminator: string, at: number): number {
  const end = xml.indexOf(terminator, at);
  if (end < 0) fail(`unterminated markup (no ${terminator})`, at);
  return end + terminator.length;
}

interface RawAttribute {
  name: string;
  value: string;
  start: number;
  end: number;
}

/**
 * The longest XMP packet (or OOXML part) scanned: as much as PNG inflates and OOXML reads. Every
 * tag becomes a token of about 180 bytes, so a packet of 128 MB of `<a/>`, which a PDF metadata
 * stream or an MP4 uuid box can hold, would take gigabytes (issue 11).
 */
const MAX_XML_CHARS = 16 * 1024 * 1024;

/**
 * How many namespace bindings all the scopes of one document may hold together. A scope is
 * shared with the parent's unless the element declares a namespace; one that does copies its
 * parent's bindings, so a hostile packet (thousands of declarations, then thousands of children
 * declaring one more each) would otherwise grow quadratically until the process runs out of
 * memory (issue 11). Real XMP declares a few dozen namespaces.
 */
const MAX_SCOPE_ENTRIES = 1 << 20;

function scanStartTag(xml: string, start: number, parentScope: ReadonlyMap<string, string>, budget: { entries: number }): XmlStartTag {
  let at = start + 1;
  const nameStart = at;
  while (at < xml.length && !NAME_END.test(xml[at] ?? '')) at++;
  const name = xml.slice(nameStart, at);
  if (name === '') fail('empty element name', start);
  const raw: RawAttribute[] = [];
  for (;;) {
    const attrStart = at;
    while (at < xml.length && /\s/.test(xml[at] ?? '')) at++;
    if (at >= xml.length) fail(`unterminated start tag <${name}`, start);
    if (xml[at] === '>' || xml.startsWith('/>', at)) break;
    if (at === attrStart) fail(`expected whitespace before an attribute in <${name}>`, at);
    const attrNameStart = at;
    while (at < xml.length && !NAME_END.test(xml[at] ?? '')) at++;
    const attrName = xml.slice(attrNameStart, at);
    while (/\s/.test(xml[at] ?? '')) at++;
    if (xml[at] !== '=' || attrName === '') fail(`attribute without a value in <${name}>`, at);
    at++;
    while (/\s/.test(xml[at] ?? '')) at++;
    const quote = xml[at];
    if (quote !== '"' && quote !== "'") fail(`unquoted attribute value in <${name}>`, at);
    const valueEnd = xml.indexOf(quote, at + 1);
    if (valueEnd < 0) fail(`unterminated attribute value in <${name}>`, at);
    const rawValue = xml.slice(at + 1, valueEnd);
    if (rawValue.includes('<')) fail(`"<" in an attribute value of <${name}>`, at);
    raw.push({ name: attrName, value: decodeXmlText(rawValue, at), start: attrStart, end: valueEnd + 1 });
    at = valueEnd + 1;
  }
  const selfClosing = xml[at] === '/';
  const end = at + (selfClosing ? 2 : 1);
  const declarations = raw.filter((attr) => attr.name === 'xmlns' || attr.name.startsWith('xmlns:'));
  let scope = parentScope;
  if (declarations.length > 0) {
    budget.entries -= parentScope.size + declarations.length;
    if (budget.entries < 0) fail(`namespace declarations in scope exceed ${MAX_SCOPE_ENTRIES} in all (a hostile packet?)`, start);
    const own = new Map(parentScope);
    for (const attr of declarations) own.set(attr.name === 'xmlns' ? '' : attr.name.slice(6), attr.value);
    scope = own;
  }
  const attributes = raw.map((attr): XmlAttribute => {
    const [prefix, local] = splitName(attr.name);
    return { ...attr, ns: prefix === '' ? '' : (scope.get(prefix) ?? ''), local };
  });
  const [prefix, local] = splitName(name);
  return { kind: 'start', name, ns: scope.get(prefix) ?? '', local, attributes, selfClosing, start, end, scope };
}
