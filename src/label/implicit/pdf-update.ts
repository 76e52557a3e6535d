/**
 * @module label/implicit/pdf-update
 * The incremental update hegui appends to carry the label (ISO 32000-1 §7.5.6): one new
 * version of the document Info dictionary, a cross-reference section for it (a classic table,
 * or a cross-reference stream when the file's newest section is one, §7.5.8), and a trailer
 * whose /Prev points to the previous section. The original bytes are never touched, so the
 * /ByteRange of every existing signature still covers exactly what it covered.
 *
 * Each hegui update ends with the comment `%hegui-aigc-update <start>` before `startxref`,
 * where `<start>` is the byte where the update begins. Comments are whitespace to every PDF
 * reader (§7.2.3), and the marker lets `payloadEnd` find where the document stood before hegui's
 * updates; each marked update is then rebuilt and compared byte for byte, so a marker on an
 * update that changes anything but the label is ignored.
 */
import { createHash } from 'node:crypto';
import { LabelFormatError } from '../errors.js';
import type { ByteSource } from './codec.js';
import { ascii } from './bytes.js';

const MARKER = '%hegui-aigc-update';
/** The tail of a hegui update: marker, startxref, offset, %%EOF, each on its own line. */
const UPDATE_TAIL = /%hegui-aigc-update (\d+)\nstartxref\n\d+\n%%EOF\n$/;
/** Longer than any UPDATE_TAIL (the offsets have at most 16 digits). */
const TAIL_WINDOW = 96;

export interface InfoObject {
  num: number;
  gen: number;
  /** The dictionary's entries, each `/Key value` exactly as written in the file. */
  entries: readonly Uint8Array[];
  /** The `/AIGC` entry to add, as a PDF string token; absent when removing the label. */
  aigc: string | undefined;
}

export interface UpdatePlan {
  /** The size of the file the update is appended to: where the update begins. */
  start: number;
  /** True when the file's last byte is not an end-of-line, so the update starts with one. */
  leadingEol: boolean;
  /** The value of the file's last `startxref`: the trailer /Prev of the update. */
  prev: number;
  /** The trailer /Size, already large enough for the Info object. */
  size: number;
  root: { num: number; gen: number };
  /** The file identifier (§14.4); the update keeps its first half and renews the second. */
  id: readonly [Uint8Array, Uint8Array] | undefined;
  info: InfoObject;
  /**
   * A new version of the catalog's /Metadata stream, when the old one held a label: the XMP
   * packet without it (UTF-8), written unfiltered.
   */
  metadata?: { num: number; gen: number; packet: Uint8Array } | undefined;
  /** Write a cross-reference stream instead of a table. */
  xrefStream: boolean;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex').toUpperCase();
}

function latin1Bytes(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function infoBody(info: InfoObject): string {
  const lines = info.entries.map((entry) => ascii(entry));
  if (info.aigc !== undefined) lines.push(`/AIGC ${info.aigc}`);
  return lines.length === 0 ? '<< >>' : `<<\n${lines.join('\n')}\n>>`;
}

/** The bytes to append to the file described by `plan`. */
export function buildUpdate(plan: UpdatePlan): Uint8Array {
  const { info, metadata } = plan;
  let out = plan.leadingEol ? '\n' : '';
  const rows: Row[] = [];
  if (metadata) {
    rows.push({ num: metadata.num, gen: metadata.gen, offset: plan.start + out.length });
    const packet = Buffer.from(metadata.packet).toString('latin1');
    out += `${metadata.num} ${metadata.gen} obj\n<< /Type /Metadata /Subtype /XML /Length ${metadata.packet.length} >>\nstream\n${packet}\nendstream\nendobj\n`;
  }
  rows.push({ num: info.num, gen: info.gen, offset: plan.start + out.length });
  const body = infoBody(info);
  out += `${info.num} ${info.gen} obj\n${body}\nendobj\n`;
  const xrefOffset = plan.start + out.length;
  let trailer = `/Root ${plan.root.num} ${plan.root.gen} R /Info ${info.num} ${info.gen} R`;
  if (plan.id) {
    // §14.4: the second half of /ID changes with each update; derive it from the new content.
    const renewed = createHash('md5').update(plan.id[0]).update(latin1Bytes(body)).digest();
    trailer += ` /ID [<${hex(plan.id[0])}> <${hex(renewed)}>]`;
  }
  trailer += ` /Prev ${plan.prev}`;
  rows.sort((a, b) => a.num - b.num);
  if (plan.xrefStream) {
    out += xrefStreamObject(plan, trailer, rows, xrefOffset);
  } else {
    const sections = rows.map((row) => `${row.num} 1\n${String(row.offset).padStart(10, '0')} ${String(row.gen).padStart(5, '0')} n\r\n`).join('');
    out += `xref\n${sections}trailer\n<< /Size ${plan.size} ${trailer} >>\n`;
  }
  out += `${MARKER} ${plan.start}\nstartxref\n${xrefOffset}\n%%EOF\n`;
  return latin1Bytes(out);
}

/** One object of the update, as its cross-reference entry lists it. */
interface Row {
  num: number;
  gen: number;
  offset: number;
}

/**
 * A cross-reference stream (§7.5.8) listing the update's objects and itself, uncompressed: the
 * stream is a few bytes, and an unfiltered stream is valid for every reader.
 */
function xrefStreamObject(plan: UpdatePlan, trailer: string, rows: readonly Row[], xrefOffset: number): string {
  const num = plan.size;
  let width = 1;
  while (xrefOffset >= 256 ** width) width++;
  const row = (offset: number, gen: number): string => {
    let text = '\x01';
    for (let i = width - 1; i >= 0; i--) text += String.fromCharCode(Math.floor(offset / 256 ** i) % 256);
    return text + String.fromCharCode(gen >> 8, gen & 0xff);
  };
  const all = [...rows, { num, gen: 0, offset: xrefOffset }];
  const data = all.map((r) => row(r.offset, r.gen)).join('');
  const index = all.map((r) => `${r.num} 1`).join(' ');
  return (
    `${num} 0 obj\n<< /Type /XRef /Size ${num + 1} /W [1 ${width} 2] /Index [${index}] ${trailer} /Length ${data.length} >>\n` +
    `stream\n${data}\nendstream\nendobj\n`
  );
}

/**
 * Where the update that ends at `end` begins, as its hegui marker says, or `undefined` when
 * the bytes before `end` do not end with a marker. The marker is a claim anyone can write:
 * `payloadEnd` in `pdf.ts` believes it only after rebuilding the update and finding it equal.
 */
export async function markedUpdateStart(source: ByteSource, end: number): Promise<number | undefined> {
  const from = Math.max(0, end - TAIL_WINDOW);
  const match = UPDATE_TAIL.exec(ascii(await source.read(from, end - from)));
  if (!match) return undefined;
  const start = Number(match[1]);
  if (!(start < end - MARKER.length)) {
    throw new LabelFormatError('pdf', `a hegui update marker names byte ${start}, which is not before the update`, { offset: end });
  }
  return start;
}
