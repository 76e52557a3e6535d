/**
 * @module label/explicit/pdf
 * A visible notice on the first page of a PDF (GB 45438 §5.1: a notice at the start of the
 * content), written as an incremental update (ISO 32000-1 §7.5.6): the original bytes stay as
 * they are (so existing signatures keep covering what they covered, and a reader sees the
 * update as a later revision), and the update holds a new version of the first page whose
 * content draws the notice, the notice itself as an image (rendered by the image half in the
 * bundled font, so no font needs embedding), and a cross-reference section in the file's own
 * kind (table or stream). The page's existing content is wrapped in `q … Q` so whatever state
 * it leaves cannot move or clip the notice. The update is an ordinary revision, not one of
 * hegui's label updates (`implicit/pdf-update.ts`), so a producer's payload hash covers it.
 *
 * Sizing follows the image rule (§5.2; there is none for documents): the page is laid out at
 * 2 pixels per point, text height 5.5% of the shorter page side, on a plate so it reads on any
 * page. Encrypted documents and rotated first pages are refused.
 */
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { InvalidInputError } from '../../errors.js';
import { LabelFormatError } from '../errors.js';
import { bufferSource } from '../implicit/bytes.js';
import { dictGet, type PdfDict, type PdfValue } from '../implicit/pdf-lexer.js';
import { PdfDocument, type Parsed } from '../implicit/pdf-xref.js';
import { loadNoticeFont } from './font.js';
import { planNotice, renderNotice, type ImagePosition } from './image-render.js';
import { chooseStyle, summarise } from './image-style.js';
import { COMPACT_NOTICE, resolveNotice, type NoticeChoice } from './wording.js';

/** Pixels per PDF point the notice is rendered at (144 dpi: sharp at print and zoom). */
const SCALE = 2;
/** The resource name of the notice image in the page's /XObject dictionary. */
const XOBJECT_NAME = 'HeguiAigcNotice';
/** Page-tree depth followed to the first page (a deeper tree is malformed or hostile). */
const MAX_TREE_DEPTH = 64;

export interface PdfNoticeOptions extends NoticeChoice {
  /** Corner or edge of the first page (default `top-left`). */
  position?: ImagePosition;
  /** An OpenType/TrueType font file instead of the bundled Noto Sans Hans Bold. */
  fontPath?: string;
}

export interface PdfLabelResult {
  bytes: Uint8Array;
  notice: string;
  /** The first page's visible size in points. */
  page: { width: number; height: number };
  /** Where the notice (plate included) is drawn, in points from the page's lower-left corner. */
  box: { x: number; y: number; width: number; height: number };
  /** The notice's glyph height in points, and the shorter page side's 5%. */
  textHeightPt: number;
  requiredPt: number;
}

function fail(detail: string): never {
  throw new LabelFormatError('pdf', detail);
}

const latin1 = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);
const raw = (parsed: { bytes: Uint8Array }, value: { start: number; end: number }): string => Buffer.from(parsed.bytes.subarray(value.start, value.end)).toString('latin1');

async function resolve(doc: PdfDocument, value: PdfValue | undefined, bytes: Uint8Array): Promise<Parsed | undefined> {
  if (value === undefined) return undefined;
  if (value.kind !== 'ref') return { value, bytes };
  return doc.object(value.num);
}

interface FirstPage {
  num: number;
  gen: number;
  page: Parsed<PdfDict>;
  /** Attributes the page inherits from the tree when it lacks them (§7.7.3.4). */
  inherited: Map<string, { value: PdfValue; bytes: Uint8Array }>;
}

async function firstPage(doc: PdfDocument): Promise<FirstPage> {
  const root = doc.trailerEntry('Root');
  if (root?.value.kind !== 'ref') fail('the trailer has no /Root reference to the document catalog');
  const catalog = await doc.object(root.value.num);
  if (catalog?.value.kind !== 'dict') fail('the document catalog is not a dictionary');
  let node = dictGet(catalog.value, 'Pages');
  const inherited = new Map<string, { value: PdfValue; bytes: Uint8Array }>();
  for (let depth = 0; depth < MAX_TREE_DEPTH; depth++) {
    if (node?.kind !== 'ref') fail('the page tree has no reference to its first node');
    const object = await doc.object(node.num);
    if (object?.value.kind !== 'dict') fail(`page tree node ${node.num} is not a dictionary`);
    const dict = object.value;
    const type = dictGet(dict, 'Type');
    const kids = dictGet(dict, 'Kids');
    if (type?.kind === 'name' && type.name === 'Page') return { num: node.num, gen: node.gen, page: { value: dict, bytes: object.bytes }, inherited };
    if (kids?.kind !== 'array' || kids.items.length === 0) fail('the page tree has no pages');
    for (const key of ['Resources', 'MediaBox', 'CropBox', 'Rotate']) {
      const value = dictGet(dict, key);
      if (value !== undefined) inherited.set(key, { value, bytes: object.bytes });
    }
    node = kids.items[0];
  }
  return fail(`the page tree is deeper than ${MAX_TREE_DEPTH} levels`);
}

async function numbers(doc: PdfDocument, value: PdfValue | undefined, bytes: Uint8Array): Promise<number[] | undefined> {
  const array = await resolve(doc, value, bytes);
  if (array?.value.kind !== 'array') return undefined;
  return array.value.items.map((item) => (item.kind === 'number' ? item.value : Number.NaN));
}

/** An attribute of the page, or the one it inherits. */
function attribute(first: FirstPage, key: string): { value: PdfValue; bytes: Uint8Array } | undefined {
  const own = dictGet(first.page.value, key);
  return own !== undefined ? { value: own, bytes: first.page.bytes } : first.inherited.get(key);
}

/** The entries of a dictionary value (direct or referenced) as written, keyed by name. */
async function dictEntries(doc: PdfDocument, value: PdfValue | undefined, bytes: Uint8Array): Promise<Map<string, string>> {
  const entries = new Map<string, string>();
  const dict = await resolve(doc, value, bytes);
  if (dict === undefined || dict.value.kind === 'null') return entries;
  if (dict.value.kind !== 'dict') fail('a page resource entry is not a dictionary');
  for (const entry of dict.value.entries) entries.set(entry.key, raw(dict, entry));
  return entries;
}

function streamObject(num: number, dict: string, data: Uint8Array): Uint8Array[] {
  return [latin1(`${num} 0 obj\n<< ${dict} /Length ${data.length} >>\nstream\n`), data, latin1('\nendstream\nendobj\n')];
}

function trailerSize(doc: PdfDocument): number {
  const size = doc.trailerEntry('Size');
  if (size?.value.kind !== 'number' || !size.value.integer || size.value.value < 1) fail('the trailer has no valid /Size');
  return size.value.value;
}

/**
 * Draws the notice on the first page of a PDF and returns the file with the update appended.
 *
 * @throws LabelFormatError for a malformed, encrypted or rotated document; NoticeWordingError.
 * @example
 * const { bytes, textHeightPt } = await labelPdf(pdf, { language: 'en' });
 */
export async function labelPdf(pdf: Uint8Array, options: PdfNoticeOptions = {}): Promise<PdfLabelResult> {
  const notice = resolveNotice(options, COMPACT_NOTICE);
  const source = bufferSource(pdf);
  const doc = await PdfDocument.open(source);
  if (doc.trailerEntry('Encrypt') !== undefined) fail('the document is encrypted (its trailer has /Encrypt); decrypt it before adding a visible notice');
  const first = await firstPage(doc);
  const rotate = attribute(first, 'Rotate');
  if (rotate?.value.kind === 'number' && rotate.value.value % 360 !== 0) {
    throw new InvalidInputError('E_LABEL_PDF_ROTATED', `the first page is rotated by ${rotate.value.value} degrees; hegui places notices on upright pages only (rotate the page, or label with another tool)`);
  }
  const boxOf = attribute(first, 'CropBox') ?? attribute(first, 'MediaBox');
  const corners = boxOf ? await numbers(doc, boxOf.value, boxOf.bytes) : [0, 0, 612, 792];
  if (!corners || corners.length !== 4 || corners.some((n) => !Number.isFinite(n))) fail('the first page has no valid /MediaBox');
  const [x0, y0, x1, y1] = [Math.min(corners[0] ?? 0, corners[2] ?? 0), Math.min(corners[1] ?? 0, corners[3] ?? 0), Math.max(corners[0] ?? 0, corners[2] ?? 0), Math.max(corners[1] ?? 0, corners[3] ?? 0)];
  const page = { width: x1 - x0, height: y1 - y0 };
  if (!(page.width >= 1 && page.height >= 1)) fail(`the first page measures ${page.width}x${page.height} points`);

  const font = loadNoticeFont(options.fontPath);
  const frame = { width: Math.round(page.width * SCALE), height: Math.round(page.height * SCALE) };
  const layout = planNotice(notice, frame, font, { position: options.position ?? 'top-left' });
  // Paper is white; the plate makes the notice legible whatever the page shows beneath it.
  const style = chooseStyle(summarise([1, 1, 1, 1]), 'always', layout.inkHeight);
  const { rgba } = renderNotice(layout, style, font);
  const pixels = layout.box.width * layout.box.height;
  const rgb = Buffer.alloc(pixels * 3);
  const alpha = Buffer.alloc(pixels);
  for (let i = 0; i < pixels; i++) {
    rgb[i * 3] = rgba[i * 4] ?? 0;
    rgb[i * 3 + 1] = rgba[i * 4 + 1] ?? 0;
    rgb[i * 3 + 2] = rgba[i * 4 + 2] ?? 0;
    alpha[i] = rgba[i * 4 + 3] ?? 0;
  }
  const box = { x: x0 + layout.box.left / SCALE, y: y1 - (layout.box.top + layout.box.height) / SCALE, width: layout.box.width / SCALE, height: layout.box.height / SCALE };

  const size = trailerSize(doc);
  const [image, mask, before, after] = [size, size + 1, size + 2, size + 3];
  const inheritedResources = attribute(first, 'Resources');
  const resources = inheritedResources ? await resolve(doc, inheritedResources.value, inheritedResources.bytes) : undefined;
  if (resources !== undefined && resources.value.kind !== 'dict' && resources.value.kind !== 'null') fail('the first page /Resources is not a dictionary');
  const resourceEntries = await dictEntries(doc, resources?.value, resources?.bytes ?? first.page.bytes);
  const xobjects = resources?.value.kind === 'dict' ? await dictEntries(doc, dictGet(resources.value, 'XObject'), resources.bytes) : new Map<string, string>();
  xobjects.delete(XOBJECT_NAME);
  const xobjectDict = `<< ${[...xobjects.values(), `/${XOBJECT_NAME} ${image} 0 R`].join(' ')} >>`;
  resourceEntries.delete('XObject');
  const resourcesDict = `<< ${[...resourceEntries.values(), `/XObject ${xobjectDict}`].join(' ')} >>`;
  const contents = dictGet(first.page.value, 'Contents');
  const oldContents = contents === undefined ? '' : contents.kind === 'array' ? raw(first.page, contents).replace(/^\[|\]$/g, '') : raw(first.page, contents);
  const pageEntries = first.page.value.entries.filter((entry) => entry.key !== 'Contents' && entry.key !== 'Resources').map((entry) => raw(first.page, entry));
  const pageDict = `<< ${[...pageEntries, `/Resources ${resourcesDict}`, `/Contents [${before} 0 R ${oldContents} ${after} 0 R]`].join('\n')} >>`;

  const fixed = (n: number): string => Number(n.toFixed(3)).toString();
  const draw = `Q\nq\n${fixed(box.width)} 0 0 ${fixed(box.height)} ${fixed(box.x)} ${fixed(box.y)} cm\n/${XOBJECT_NAME} Do\nQ\n`;
  const objects: { num: number; gen: number; parts: Uint8Array[] }[] = [
    { num: first.num, gen: first.gen, parts: [latin1(`${first.num} ${first.gen} obj\n${pageDict}\nendobj\n`)] },
    { num: image, gen: 0, parts: streamObject(image, `/Type /XObject /Subtype /Image /Width ${layout.box.width} /Height ${layout.box.height} /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /FlateDecode /SMask ${mask} 0 R`, deflateSync(rgb)) },
    { num: mask, gen: 0, parts: streamObject(mask, `/Type /XObject /Subtype /Image /Width ${layout.box.width} /Height ${layout.box.height} /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode`, deflateSync(alpha)) },
    { num: before, gen: 0, parts: streamObject(before, '', latin1('q\n')) },
    { num: after, gen: 0, parts: streamObject(after, '', latin1(draw)) },
  ];
  const update = buildRevision(doc, pdf, objects, size + 4);
  return {
    bytes: Buffer.concat([pdf, ...update]),
    notice,
    page,
    box,
    textHeightPt: layout.inkHeight / SCALE,
    requiredPt: layout.requiredPx / SCALE,
  };
}

/** The bytes of one revision: `objects`, a cross-reference section of the file's kind, and a trailer. */
function buildRevision(doc: PdfDocument, pdf: Uint8Array, objects: readonly { num: number; gen: number; parts: Uint8Array[] }[], size: number): Uint8Array[] {
  const last = pdf[pdf.length - 1];
  const out: Uint8Array[] = last === 0x0a || last === 0x0d ? [] : [latin1('\n')];
  let at = pdf.length + (out[0]?.length ?? 0);
  const offsets = new Map<number, { offset: number; gen: number }>();
  for (const object of objects) {
    offsets.set(object.num, { offset: at, gen: object.gen });
    for (const part of object.parts) {
      out.push(part);
      at += part.length;
    }
  }
  const root = doc.trailerEntry('Root');
  const info = doc.trailerEntry('Info');
  let trailer = `/Root ${raw(root as Parsed, (root as Parsed).value)}`;
  if (info !== undefined) trailer += ` /Info ${raw(info, info.value)}`;
  const id = doc.trailerEntry('ID')?.value;
  if (id?.kind === 'array' && id.items[0]?.kind === 'string') {
    // §14.4: the first half of /ID stays; the second changes with each revision.
    const renewed = createHash('md5').update(id.items[0].bytes).update(Buffer.concat(out)).digest('hex').toUpperCase();
    trailer += ` /ID [<${Buffer.from(id.items[0].bytes).toString('hex').toUpperCase()}> <${renewed}>]`;
  }
  trailer += ` /Prev ${doc.startxref}`;
  const xrefOffset = at;
  const nums = [...offsets.keys()].sort((a, b) => a - b);
  if (doc.sections[0]?.kind === 'stream') {
    const self = size;
    offsets.set(self, { offset: xrefOffset, gen: 0 });
    nums.push(self);
    let width = 1;
    while (xrefOffset >= 256 ** width) width++;
    const rows = Buffer.alloc(nums.length * (1 + width + 2));
    nums.forEach((num, i) => {
      const { offset, gen } = offsets.get(num) as { offset: number; gen: number };
      const row = i * (1 + width + 2);
      rows[row] = 1;
      for (let b = 0; b < width; b++) rows[row + 1 + b] = Math.floor(offset / 256 ** (width - 1 - b)) % 256;
      rows.writeUInt16BE(gen, row + 1 + width);
    });
    const index = nums.map((num) => `${num} 1`).join(' ');
    out.push(...streamObject(self, `/Type /XRef /Size ${self + 1} /W [1 ${width} 2] /Index [${index}] ${trailer}`, rows));
  } else {
    let table = 'xref\n';
    for (const num of nums) {
      const { offset, gen } = offsets.get(num) as { offset: number; gen: number };
      table += `${num} 1\n${String(offset).padStart(10, '0')} ${String(gen).padStart(5, '0')} n\r\n`;
    }
    out.push(latin1(`${table}trailer\n<< /Size ${size} ${trailer} >>\n`));
  }
  out.push(latin1(`startxref\n${xrefOffset}\n%%EOF\n`));
  return out;
}
