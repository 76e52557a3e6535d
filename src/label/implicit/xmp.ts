/**
 * @module label/implicit/xmp
 * The TC260 XMP property (TC260 practice guide on implicit labels, XMP binding):
 * `<TC260:AIGC>{json}</TC260:AIGC>` in namespace `http://www.tc260.org.cn/ns/AIGC/1.0/`.
 *
 * hegui never replaces an XMP packet: it splices the property out of the existing packet and
 * adds its own `rdf:Description` beside the others (several descriptions of the same resource
 * are valid RDF, ISO 16684-1 §7.4), so every other property survives byte for byte. Packet
 * padding is spent or refilled so that a label that fits keeps the packet's size.
 */
import { LabelFormatError } from '../errors.js';
import { escapeXmlText, scanXml, type XmlStartTag, type XmlToken } from './xmp-scan.js';

export const TC260_NS = 'http://www.tc260.org.cn/ns/AIGC/1.0/';
export const TC260_PREFIX = 'TC260';
export const RDF_NS = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#';
/** The property's local name. */
export const AIGC_PROPERTY = 'AIGC';

/** Padding hegui leaves in a new packet, so a platform can propagate the label in place later. */
export const DEFAULT_XMP_PADDING = 1024;

const PACKET_HEADER = '<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>';
const PACKET_TRAILER = '<?xpacket end="w"?>';

const encoder = new TextEncoder();

function byteLength(text: string): number {
  return encoder.encode(text).length;
}

/** Whitespace padding (ISO 16684-1 §7.3.3: lines of spaces, each ending in a newline). */
function padding(bytes: number): string {
  if (bytes <= 0) return '';
  const lines = Math.floor(bytes / 100);
  return `${`${' '.repeat(99)}\n`.repeat(lines)}${' '.repeat(bytes - lines * 100)}`;
}

function description(value: string, rdfPrefix: string): string {
  const p = rdfPrefix === '' ? '' : `${rdfPrefix}:`;
  return (
    `<${p}Description ${p}about="" xmlns:${TC260_PREFIX}="${TC260_NS}">` +
    `<${TC260_PREFIX}:${AIGC_PROPERTY}>${escapeXmlText(value)}</${TC260_PREFIX}:${AIGC_PROPERTY}>` +
    `</${p}Description>`
  );
}

/**
 * A complete XMP packet holding only the TC260 property.
 *
 * @example
 * buildXmpPacket('{"Label":"1",...}'); // '<?xpacket begin=...?><x:xmpmeta ...><TC260:AIGC>{"Label":"1",...}</TC260:AIGC>...'
 */
export function buildXmpPacket(value: string, paddingBytes = DEFAULT_XMP_PADDING): string {
  return (
    `${PACKET_HEADER}<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="${RDF_NS}">` +
    `${description(value, 'rdf')}</rdf:RDF></x:xmpmeta>\n${padding(paddingBytes)}${PACKET_TRAILER}`
  );
}

function isAigcElement(token: XmlToken): token is XmlStartTag {
  return token.kind === 'start' && token.ns === TC260_NS && token.local === AIGC_PROPERTY;
}

/**
 * Every TC260 label value in an XMP packet, as element content or as an attribute of an
 * `rdf:Description` (both serialisations are valid RDF/XML).
 *
 * @throws LabelFormatError when the packet is not well-formed XML.
 */
export function readXmpLabels(xmp: string): string[] {
  const tokens = scanXml(xmp);
  const values: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (token?.kind !== 'start') continue;
    for (const attr of token.attributes) {
      if (attr.ns === TC260_NS && attr.local === AIGC_PROPERTY) values.push(attr.value);
    }
    if (isAigcElement(token)) {
      const close = token.selfClosing ? i : matchingEnd(tokens, i);
      let text = '';
      for (let j = i + 1; j < close; j++) {
        const inner = tokens[j];
        if (inner?.kind === 'text') text += inner.text;
      }
      values.push(text.trim());
      i = close;
    }
  }
  return values;
}

function matchingEnd(tokens: readonly XmlToken[], open: number): number {
  let depth = 0;
  for (let j = open; j < tokens.length; j++) {
    const token = tokens[j];
    if (token?.kind === 'start' && !token.selfClosing) depth++;
    else if (token?.kind === 'end' && --depth === 0) return j;
  }
  return tokens.length - 1;
}

interface Splice {
  start: number;
  end: number;
  text: string;
}

function applySplices(text: string, splices: Splice[]): string {
  let out = '';
  let at = 0;
  for (const splice of [...splices].sort((a, b) => a.start - b.start)) {
    out += text.slice(at, splice.start) + splice.text;
    at = splice.end;
  }
  return out + text.slice(at);
}

export interface SetXmpOptions {
  /**
   * When set, the packet is padded or trimmed to exactly this many UTF-8 bytes, or the call
   * returns `undefined` when the label cannot fit (used to plan in-place edits).
   */
  targetBytes?: number;
}

/**
 * Sets (`value` a string) or removes (`value` null) the TC260 property in `existing`, keeping
 * every other byte of the packet. Without an existing packet, builds a new one (or returns
 * `undefined` when removing). Padding before the packet trailer absorbs growth when it can.
 *
 * @throws LabelFormatError when `existing` is not a well-formed XMP packet.
 * @example
 * const merged = setXmpLabel(existingXmp, formatLabel(label));
 */
export function setXmpLabel(existing: string | undefined, value: string | null, options: SetXmpOptions = {}): string | undefined {
  if (existing === undefined || existing.trim() === '') {
    if (value === null) return undefined;
    if (options.targetBytes === undefined) return buildXmpPacket(value);
    return fitPadding(buildXmpPacket(value, 0), options.targetBytes, true);
  }
  const tokens = scanXml(existing);
  const splices: Splice[] = [];
  let rdfClose: { start: number; prefix: string } | undefined;
  // The first occurrence is rewritten where it stands (so relabelling does not grow the
  // packet); any other occurrence is removed: one label per file (GB 45438 §6.1).
  let placed = value === null;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (token?.kind === 'end' && token.ns === RDF_NS && token.local === 'RDF') {
      rdfClose = { start: token.start, prefix: token.name.includes(':') ? token.name.slice(0, token.name.indexOf(':')) : '' };
    }
    if (token?.kind !== 'start') continue;
    for (const attr of token.attributes) {
      if (attr.ns !== TC260_NS || attr.local !== AIGC_PROPERTY) continue;
      splices.push({ start: attr.start, end: attr.end, text: placed ? '' : ` ${attr.name}="${escapeXmlText(value ?? '')}"` });
      placed = true;
    }
    if (isAigcElement(token)) {
      const close = token.selfClosing ? i : matchingEnd(tokens, i);
      const end = tokens[close]?.end ?? token.end;
      splices.push({ start: token.start, end, text: placed ? '' : `<${token.name}>${escapeXmlText(value ?? '')}</${token.name}>` });
      placed = true;
      i = close;
    }
  }
  if (!placed && value !== null) {
    if (!rdfClose) throw new LabelFormatError('xmp', 'the packet has no rdf:RDF element to add the TC260 property to');
    splices.push({ start: rdfClose.start, end: rdfClose.start, text: description(value, rdfClose.prefix) });
  }
  const merged = applySplices(existing, splices);
  return fitPadding(merged, options.targetBytes ?? byteLength(existing), options.targetBytes !== undefined);
}

/**
 * Adjusts the whitespace before `<?xpacket end` (or after the root element when the packet has
 * no wrapper) so the packet is `target` bytes long. When it does not fit, the packet is
 * returned unpadded, or `undefined` when `exact` is required.
 */
function fitPadding(packet: string, target: number, exact = false): string | undefined {
  const trailer = packet.lastIndexOf('<?xpacket end');
  if (trailer < 0) {
    // No packet wrapper: whitespace after the root element is still well-formed XML.
    const room = target - byteLength(packet);
    if (room >= 0) return packet + ' '.repeat(room);
    return exact ? undefined : packet;
  }
  let bodyEnd = trailer;
  while (bodyEnd > 0 && /\s/.test(packet[bodyEnd - 1] ?? '')) bodyEnd--;
  // Keep one newline between the body and the padding, as writers conventionally do.
  const body = `${packet.slice(0, bodyEnd)}\n`;
  const tail = packet.slice(trailer);
  const room = target - byteLength(body) - byteLength(tail);
  if (room >= 0) return body + padding(room) + tail;
  return exact ? undefined : body + tail;
}

const ADOBE_META_NS = 'adobe:ns:meta/';

/**
 * True when the packet states anything at all: a property element or attribute on some
 * `rdf:Description`. A packet left empty by removing the label is dropped from the file.
 */
export function xmpHasProperties(xmp: string): boolean {
  for (const token of scanXml(xmp)) {
    if (token.kind !== 'start') continue;
    const structural =
      token.ns === ADOBE_META_NS || (token.ns === RDF_NS && (token.local === 'RDF' || token.local === 'Description'));
    if (!structural) return true;
    const stated = token.attributes.some(
      (attr) => !attr.name.startsWith('xmlns') && attr.ns !== ADOBE_META_NS && !(attr.ns === RDF_NS && ['about', 'ID', 'nodeID'].includes(attr.local)),
    );
    if (token.local === 'Description' && stated) return true;
  }
  return false;
}

/** The packet with its padding removed, for containers with a hard size limit. */
export function withoutPadding(packet: string): string {
  return fitPadding(packet, 0) ?? packet;
}

/** How a codec turns a container's packet into the one it writes: `nextXmpPacket`, or `canonicalXmpPacket` for the signed content. */
export type PacketRule = (existing: string | undefined, value: string | null) => string | null;

/**
 * What a container's XMP should become: the merged packet, or `null` when the container
 * should hold no XMP (nothing was there, or only the label was, and it is being removed).
 */
export function nextXmpPacket(existing: string | undefined, value: string | null): string | null {
  const next = setXmpLabel(existing, value);
  if (next === undefined) return null;
  return value === null && !xmpHasProperties(next) ? null : next;
}

/** True for an `rdf:Description` start tag that states nothing (namespace declarations and `rdf:about` only). */
function isBareDescription(token: XmlStartTag): boolean {
  return (
    token.ns === RDF_NS &&
    token.local === 'Description' &&
    token.attributes.every((attr) => attr.name.startsWith('xmlns') || (attr.ns === RDF_NS && attr.local === 'about'))
  );
}

/**
 * The packet as the signed content holds it (docs/labels.md, "XMP"): the TC260 property
 * removed, an `rdf:Description` left with nothing in it removed too (the one hegui adds), and
 * the padding removed; `null` when nothing is left. Relabelling only adds or removes that
 * description and spends or refills padding, so the result does not change with the label.
 *
 * @throws LabelFormatError when the packet is not well-formed XMP.
 */
export function canonicalXmpPacket(existing: string | undefined): string | null {
  if (existing === undefined) return null;
  const stripped = setXmpLabel(existing, null);
  if (stripped === undefined || !xmpHasProperties(stripped)) return null;
  const tokens = scanXml(stripped);
  const splices: Splice[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (token?.kind !== 'start' || !isBareDescription(token)) continue;
    const close = token.selfClosing ? i : matchingEnd(tokens, i);
    const inner = tokens.slice(i + 1, close);
    if (inner.every((t) => t.kind === 'text' && t.text.trim() === '')) splices.push({ start: token.start, end: tokens[close]?.end ?? token.end, text: '' });
    i = close;
  }
  return withoutPadding(applySplices(stripped, splices));
}

/** A property `withoutXmpProperties` offers to take out: an element (with all it holds) or an attribute. */
export interface XmpProperty {
  /** Qualified name as written, e.g. `xmp:Thumbnails`. */
  name: string;
  ns: string;
  local: string;
  /** An attribute's value, or an element's text when it holds no element (entities decoded). */
  text?: string;
  attribute: boolean;
}

/**
 * `packet` with the properties `drop` selects spliced out (an element with everything inside
 * it, or an attribute), every other byte as it was: the padding is not refilled, so the
 * packet is shorter by what was taken out. `drop` sees every element and attribute except
 * the packet's frame (`x:xmpmeta`, `rdf:RDF`, `rdf:Description`, namespace declarations and
 * `rdf:` attributes); nothing inside a dropped element is offered. `removed` lists what went,
 * in order; when it is empty the packet is returned as it was.
 *
 * @throws LabelFormatError when the packet is not well-formed XML.
 * @example
 * withoutXmpProperties(packet, (p) => p.ns === 'http://ns.adobe.com/xap/1.0/' && p.local === 'Thumbnails');
 */
export function withoutXmpProperties(packet: string, drop: (property: XmpProperty) => boolean): { packet: string; removed: XmpProperty[] } {
  const tokens = scanXml(packet);
  const splices: Splice[] = [];
  const removed: XmpProperty[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (token?.kind !== 'start') continue;
    const frame = token.ns === ADOBE_META_NS || (token.ns === RDF_NS && (token.local === 'RDF' || token.local === 'Description'));
    if (!frame) {
      const close = token.selfClosing ? i : matchingEnd(tokens, i);
      const inner = tokens.slice(i + 1, close);
      const text = inner.every((t) => t.kind === 'text') ? inner.map((t) => (t.kind === 'text' ? t.text : '')).join('') : undefined;
      const property: XmpProperty = { name: token.name, ns: token.ns, local: token.local, ...(text !== undefined ? { text } : {}), attribute: false };
      if (drop(property)) {
        splices.push({ start: token.start, end: tokens[close]?.end ?? token.end, text: '' });
        removed.push(property);
        i = close;
        continue;
      }
    }
    for (const attr of token.attributes) {
      if (attr.name === 'xmlns' || attr.name.startsWith('xmlns:') || attr.ns === RDF_NS || attr.ns === ADOBE_META_NS || attr.ns === 'http://www.w3.org/XML/1998/namespace') continue;
      const property: XmpProperty = { name: attr.name, ns: attr.ns, local: attr.local, text: attr.value, attribute: true };
      if (drop(property)) {
        splices.push({ start: attr.start, end: attr.end, text: '' });
        removed.push(property);
      }
    }
  }
  return { packet: removed.length > 0 ? applySplices(packet, splices) : packet, removed };
}
