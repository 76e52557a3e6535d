/**
 * @module label/implicit/pdf-fixtures
 * Test support: builds small PDFs in each cross-reference layout the codec must handle
 * (classic table, cross-reference stream with object streams, hybrid, incremental updates),
 * written byte by byte so that every offset is known. Used only by the PDF tests.
 */
import { deflateSync } from 'node:zlib';

export interface FixtureObject {
  num: number;
  /** The object's text between `N 0 obj` and `endobj` (Latin-1). */
  body: string;
}

export interface FixtureOptions {
  version?: string;
  /** Objects written as `N 0 obj ... endobj`. */
  objects: FixtureObject[];
  /** Objects put in one object stream (not allowed with a plain table). */
  compressed?: FixtureObject[];
  /** Trailer entries besides /Size (and /Prev, /XRefStm), e.g. `/Root 1 0 R /Info 5 0 R`. */
  trailer: string;
  xref: 'table' | 'stream' | 'hybrid';
  /** Compress the cross-reference stream with a PNG Up predictor (/Predictor 12). */
  predictor?: boolean;
  /** In a hybrid file, list compressed objects in the table as free, as ISO 32000-1's example does. */
  freeInTable?: boolean;
}

const PAGE_CONTENT =
  'q 0.9 0.1 0.1 rg 20 20 100 60 re f 0.1 0.2 0.8 rg 70 50 90 80 re f Q BT /F1 18 Tf 12 120 Td (hegui) Tj ET';

/** The catalog, page tree, page and content objects (1 to 4) of a one-page document. */
export function pageObjects(): FixtureObject[] {
  return [
    { num: 1, body: '<< /Type /Catalog /Pages 2 0 R >>' },
    { num: 2, body: '<< /Type /Pages /Kids [3 0 R] /Count 1 >>' },
    {
      num: 3,
      body: '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 150] /Contents 4 0 R /Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>',
    },
    { num: 4, body: `<< /Length ${PAGE_CONTENT.length} >>\nstream\n${PAGE_CONTENT}\nendstream` },
  ];
}

export function latin1(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function text(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += String.fromCharCode(byte);
  return out;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

function objectStream(num: number, objects: FixtureObject[]): string {
  let header = '';
  let body = '';
  for (const object of objects) {
    header += `${object.num} ${body.length} `;
    body += `${object.body}\n`;
  }
  const data = text(deflateSync(latin1(header + body)));
  return `<< /Type /ObjStm /N ${objects.length} /First ${header.length} /Filter /FlateDecode /Length ${data.length} >>\nstream\n${data}\nendstream`;
}

type Entry = [type: number, field2: number, field3: number];

function xrefStream(entries: Map<number, Entry>, extra: string, size: number, predictor: boolean): string {
  const nums = [...entries.keys()].sort((a, b) => a - b);
  const rows = nums.map((num) => {
    const [type, second, third] = entries.get(num) ?? [0, 0, 0];
    return [type, (second >>> 24) & 0xff, (second >>> 16) & 0xff, (second >>> 8) & 0xff, second & 0xff, (third >> 8) & 0xff, third & 0xff];
  });
  let raw: number[] = rows.flat();
  let parms = '';
  if (predictor) {
    // PNG "Up" filter on every row: each byte minus the byte above it.
    raw = rows.flatMap((row, r) => [2, ...row.map((byte, i) => (byte - (r > 0 ? (rows[r - 1]?.[i] ?? 0) : 0)) & 0xff)]);
    parms = ' /DecodeParms << /Predictor 12 /Columns 7 >>';
  }
  const index = nums.map((num) => `${num} 1`).join(' ');
  const data = text(deflateSync(Uint8Array.from(raw)));
  return `<< /Type /XRef /Size ${size} /W [1 4 2] /Index [${index}] ${extra} /Filter /FlateDecode${parms} /Length ${data.length} >>\nstream\n${data}\nendstream`;
}

/** A complete single-revision PDF. */
export function buildPdf(options: FixtureOptions): Uint8Array {
  let out = `%PDF-${options.version ?? (options.xref === 'table' ? '1.4' : '1.5')}\n%\xe2\xe3\xcf\xd3\n`;
  const entries = new Map<number, Entry>([[0, [0, 0, 65535]]]);
  const write = (object: FixtureObject): void => {
    entries.set(object.num, [1, out.length, 0]);
    out += `${object.num} 0 obj\n${object.body}\nendobj\n`;
  };
  options.objects.forEach(write);
  const compressed = options.compressed ?? [];
  let size = Math.max(...options.objects.map((o) => o.num), ...compressed.map((o) => o.num)) + 1;
  if (compressed.length > 0) {
    if (options.xref === 'table') throw new Error('object streams need a cross-reference stream');
    const stm = size++;
    write({ num: stm, body: objectStream(stm, compressed) });
    compressed.forEach((object, i) => entries.set(object.num, [2, stm, i]));
  }
  /** A table listing the plain objects, in runs of consecutive numbers. */
  const tableFor = (listed: (num: number) => boolean): string => {
    let table = 'xref\n';
    for (let num = 0; num < size; ) {
      if (!listed(num)) {
        num++;
        continue;
      }
      let end = num;
      while (end < size && listed(end)) end++;
      table += `${num} ${end - num}\n`;
      for (; num < end; num++) {
        const entry = entries.get(num);
        table += entry?.[0] === 1 ? `${pad(entry[1], 10)} 00000 n\r\n` : `${pad(0, 10)} ${num === 0 ? '65535' : '00000'} f\r\n`;
      }
    }
    return table;
  };
  if (options.xref === 'table') {
    const start = out.length;
    out += `${tableFor((num) => num < size)}trailer\n<< /Size ${size} ${options.trailer} >>\nstartxref\n${start}\n%%EOF\n`;
  } else if (options.xref === 'stream') {
    const num = size++;
    entries.set(num, [1, out.length, 0]);
    const start = out.length;
    out += `${num} 0 obj\n${xrefStream(entries, options.trailer, size, options.predictor ?? false)}\nendobj\nstartxref\n${start}\n%%EOF\n`;
  } else {
    // Hybrid (§7.5.8.4): the table lists the plain objects and the stream named by /XRefStm
    // the compressed ones. (The table leaves them out rather than marking them free, since
    // poppler lets a free table entry hide the stream's entry.)
    const streamNum = size++;
    const compressedEntries = new Map([...entries].filter(([, entry]) => entry[0] === 2));
    const streamOffset = out.length;
    out += `${streamNum} 0 obj\n${xrefStream(compressedEntries, '', size, options.predictor ?? false)}\nendobj\n`;
    const start = out.length;
    const listed = options.freeInTable ? (num: number) => num < size : (num: number) => num === 0 || entries.get(num)?.[0] === 1;
    out += `${tableFor(listed)}trailer\n<< /Size ${size} ${options.trailer} /XRefStm ${streamOffset} >>\nstartxref\n${start}\n%%EOF\n`;
  }
  return latin1(out);
}

/** `pdf` with a classic incremental update (as an editor would append) replacing `objects`. */
export function appendRevision(pdf: Uint8Array, objects: FixtureObject[], trailer: string): Uint8Array {
  const original = text(pdf);
  const prev = Number(/startxref\s+(\d+)\s*%%EOF\s*$/.exec(original)?.[1]);
  const size = Number([...original.matchAll(/\/Size (\d+)/g)].pop()?.[1]);
  let out = original;
  let table = 'xref\n';
  for (const object of objects) {
    table += `${object.num} 1\n${pad(out.length, 10)} 00000 n\r\n`;
    out += `${object.num} 0 obj\n${object.body}\nendobj\n`;
  }
  const start = out.length;
  const newSize = Math.max(size, ...objects.map((o) => o.num + 1));
  out += `${table}trailer\n<< /Size ${newSize} ${trailer} /Prev ${prev} >>\nstartxref\n${start}\n%%EOF\n`;
  return latin1(out);
}
