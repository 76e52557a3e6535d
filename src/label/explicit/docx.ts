/**
 * @module label/explicit/docx
 * A visible notice in a Word document (GB 45438 §5.1: at the start or the end of the text):
 * a paragraph of its own, first in the body or last before the body's section properties
 * (which WordprocessingML requires to stay last, ECMA-376 Part 1 §17.6.17). Only the main
 * document part is rewritten; every other entry of the package is copied byte for byte
 * (`implicit/ooxml-zip-write.ts`), so styles, media and the implicit label are untouched.
 * Spreadsheets and presentations have no text flow to put a paragraph in and are refused.
 */
import { LabelFormatError } from '../errors.js';
import { BufferSink, bufferSource } from '../implicit/bytes.js';
import { readEntry, readZip } from '../implicit/ooxml-zip.js';
import { writeZip, type OutputEntry } from '../implicit/ooxml-zip-write.js';
import { ExplicitFormatError } from './check-format.js';
import { resolveNotice, type NoticeChoice } from './wording.js';

const WORDPROCESSING_NS = 'http://schemas.openxmlformats.org/wordprocessingml/2006/main';
const OFFICE_DOCUMENT_REL = /Type="http:\/\/schemas\.openxmlformats\.org\/officeDocument\/2006\/relationships\/officeDocument"/;

export interface DocxNoticeOptions extends NoticeChoice {
  /** Default `start`. */
  position?: 'start' | 'end';
}

export interface DocxLabelResult {
  bytes: Uint8Array;
  notice: string;
  position: 'start' | 'end';
  /** The main document part the paragraph went into. */
  part: string;
}

function fail(detail: string): never {
  throw new LabelFormatError('ooxml', detail);
}

const escapeXml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The main part named by the package relationship of type officeDocument (ECMA-376 Part 2 §9.3). */
function mainPart(rels: string): string {
  for (const match of rels.matchAll(/<Relationship\b[^>]*>/g)) {
    if (!OFFICE_DOCUMENT_REL.test(match[0])) continue;
    const target = /Target="([^"]+)"/.exec(match[0])?.[1];
    if (target) return target.replace(/^\//, '');
  }
  return fail('the package has no officeDocument relationship (_rels/.rels)');
}

/**
 * Inserts the notice paragraph into a WordprocessingML document part.
 *
 * @throws ExplicitFormatError (`E_LABEL_UNSUPPORTED_FORMAT`, so folder walks skip it and say why) for a part that is not one.
 */
export function withNoticeParagraph(xml: string, notice: string, position: 'start' | 'end'): string {
  const prefix = new RegExp(`xmlns:([A-Za-z_][\\w.-]*)="${WORDPROCESSING_NS.replace(/[./]/g, '\\$&')}"`).exec(xml)?.[1];
  if (!prefix) throw new ExplicitFormatError('the package is not a Word document (a spreadsheet or presentation has no text flow for a notice paragraph)');
  const body = new RegExp(`<${prefix}:body(?:\\s[^>]*)?>`).exec(xml);
  const close = xml.lastIndexOf(`</${prefix}:body>`);
  if (!body || close < body.index) fail('the document part has no <w:body>');
  const w = prefix;
  const paragraph = `<${w}:p><${w}:pPr><${w}:jc ${w}:val="left"/></${w}:pPr><${w}:r><${w}:rPr><${w}:b/></${w}:rPr><${w}:t xml:space="preserve">${escapeXml(notice)}</${w}:t></${w}:r></${w}:p>`;
  if (position === 'start') {
    const at = body.index + body[0].length;
    return xml.slice(0, at) + paragraph + xml.slice(at);
  }
  // The body's own section properties stay its last child.
  const section = xml.lastIndexOf(`<${w}:sectPr`, close);
  const lastBlock = Math.max(xml.lastIndexOf(`</${w}:p>`, close), xml.lastIndexOf(`</${w}:tbl>`, close), xml.lastIndexOf(`</${w}:sdt>`, close));
  const at = section > lastBlock ? section : close;
  return xml.slice(0, at) + paragraph + xml.slice(at);
}

/**
 * Adds the notice as a paragraph of a DOCX (or DOCM, DOTX) and returns the new package.
 *
 * @throws LabelFormatError for a damaged package; ExplicitFormatError for a spreadsheet or presentation.
 * @example
 * const { bytes } = await labelDocx(docx, { position: 'end', language: 'en' });
 */
export async function labelDocx(docx: Uint8Array, options: DocxNoticeOptions = {}): Promise<DocxLabelResult> {
  const notice = resolveNotice(options);
  const position = options.position ?? 'start';
  const source = bufferSource(docx);
  const archive = await readZip(source);
  const relsEntry = archive.entries.find((entry) => entry.name === '_rels/.rels') ?? fail('the package has no _rels/.rels');
  const part = mainPart(new TextDecoder().decode(await readEntry(source, relsEntry)));
  const main = archive.entries.find((entry) => entry.name === part) ?? fail(`the main part ${part} is missing`);
  const xml = withNoticeParagraph(new TextDecoder().decode(await readEntry(source, main)), notice, position);
  const records: OutputEntry[] = [...archive.entries]
    .sort((a, b) => a.localOffset - b.localOffset)
    .map((entry) => ({ order: archive.entries.indexOf(entry), ...(entry === main ? { kind: 'new' as const, name: entry.name, content: new TextEncoder().encode(xml), like: entry } : { kind: 'copy' as const, entry }) }));
  const sink = new BufferSink();
  await writeZip(source, archive, records, sink);
  return { bytes: sink.bytes(), notice, position, part };
}
