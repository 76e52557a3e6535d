/**
 * @module label/implicit/pdf
 * The PDF codec: the label is the document Info dictionary entry `/AIGC` (TC260 practice
 * guide placement; ISO 32000-1 §14.3.3 allows any further Info key), a text string holding
 * the JSON value. Writing and removing append an incremental update (ISO 32000-1 §7.5.6; see
 * `pdf-update.ts`) that copies every other Info entry as written; nothing before it changes,
 * so signatures stay valid and the pages render exactly as before.
 *
 * Payload: the bytes `[0, payloadEnd)`, the document as it stood before the run of hegui
 * updates at the end of the file, each checked to be exactly the update hegui appends. Labeling, relabeling, propagating and removing only add to
 * that run, so a hash over the payload taken by the producer still matches after a platform
 * propagates the label. A revision appended later by another tool (an editor, a new digital
 * signature) ends the run: the payload then includes it, and a hash taken before it reports
 * the payload as changed, which it may well be.
 *
 * Encrypted documents are refused: their Info strings are encrypted with keys hegui does not
 * hold (§7.6), so it can neither read nor write a label there.
 */
import { LabelFormatError } from '../errors.js';
import type { ByteRange, ByteSink, ByteSource, FoundLabel, LabelCodec } from './codec.js';
import { copyRange, fromUtf8, startsWith, utf8 } from './bytes.js';
import { readXmpLabels, setXmpLabel } from './xmp.js';
import type { PdfDictEntry } from './pdf-lexer.js';
import { decodeTextString, encodeTextString } from './pdf-text.js';
import { buildUpdate, markedUpdateStart, type InfoObject } from './pdf-update.js';
import { PdfDocument, type Parsed } from './pdf-xref.js';

/** Where `read` reports the label. */
const PDF_LABEL_LOCATION = 'pdf:Info/AIGC';
/** Where exiftool and Acrobat put XMP properties: the catalog's /Metadata stream. */
const PDF_XMP_LOCATION = 'xmp:pdf-Metadata';
const AIGC_KEY = 'AIGC';

interface CurrentInfo {
  /** The object the new Info replaces, or `undefined` when a new object number is needed. */
  ref: { num: number; gen: number } | undefined;
  entries: { entry: PdfDictEntry; bytes: Uint8Array }[];
}

function fail(detail: string): never {
  throw new LabelFormatError('pdf', detail);
}

async function openUnencrypted(source: ByteSource): Promise<PdfDocument> {
  const doc = await PdfDocument.open(source);
  if (doc.trailerEntry('Encrypt') !== undefined) {
    fail('the document is encrypted (its trailer has /Encrypt); hegui cannot read or write the Info dictionary of an encrypted PDF, so decrypt it first');
  }
  return doc;
}

/** The newest Info dictionary, by reference or (against §14.3.3, but seen) given directly. */
async function currentInfo(doc: PdfDocument): Promise<CurrentInfo> {
  const info = doc.trailerEntry('Info');
  if (info === undefined || info.value.kind === 'null') return { ref: undefined, entries: [] };
  let dict: Parsed = info;
  let ref: CurrentInfo['ref'];
  if (info.value.kind === 'ref') {
    const object = await doc.object(info.value.num);
    // A reference to a free or missing object is the null object (§7.3.10): no Info yet.
    if (object === undefined || object.value.kind === 'null') return { ref: undefined, entries: [] };
    dict = object;
    ref = { num: info.value.num, gen: info.value.gen };
  }
  if (dict.value.kind !== 'dict') fail('the trailer /Info is not a dictionary');
  const { bytes } = dict;
  return { ref, entries: dict.value.entries.map((entry) => ({ entry, bytes })) };
}

async function labelOf(doc: PdfDocument, info: CurrentInfo): Promise<string | undefined> {
  const found = info.entries.filter(({ entry }) => entry.key === AIGC_KEY).pop();
  if (!found) return undefined;
  const value = found.entry.value.kind === 'ref' ? (await doc.object(found.entry.value.num))?.value : found.entry.value;
  if (value?.kind !== 'string') fail('the Info dictionary /AIGC is not a string');
  return decodeTextString(value.bytes);
}

/** The catalog's /Metadata stream (§14.3.2), when it is an XMP packet hegui can decode. */
async function metadataOf(doc: PdfDocument): Promise<{ num: number; gen: number; text: string } | undefined> {
  const root = doc.trailerEntry('Root');
  if (root?.value.kind !== 'ref') return undefined;
  const catalog = (await doc.object(root.value.num))?.value;
  const ref = catalog?.kind === 'dict' ? catalog.entries.find((e) => e.key === 'Metadata')?.value : undefined;
  if (ref?.kind !== 'ref') return undefined;
  try {
    const stream = await doc.stream(ref.num);
    return stream && { num: ref.num, gen: ref.gen, text: fromUtf8(stream.data) };
  } catch (error) {
    // A metadata stream in a filter hegui does not decode: the Info label is still read.
    if (error instanceof LabelFormatError) return undefined;
    throw error;
  }
}

/** The labels in the /Metadata XMP, where exiftool and Acrobat write XMP properties. */
async function metadataLabels(doc: PdfDocument): Promise<{ metadata: { num: number; gen: number; text: string }; values: string[] } | undefined> {
  const metadata = await metadataOf(doc);
  if (!metadata) return undefined;
  try {
    const values = readXmpLabels(metadata.text);
    return values.length > 0 ? { metadata, values } : undefined;
  } catch (error) {
    if (error instanceof LabelFormatError) return undefined;
    throw error;
  }
}

/** The update hegui appends to `source` so that its Info has `aigc` (or no label when undefined). */
async function heguiUpdate(source: ByteSource, doc: PdfDocument, info: CurrentInfo, aigc: string | undefined): Promise<Uint8Array> {
  const labelled = await metadataLabels(doc);
  const stripped = labelled && setXmpLabel(labelled.metadata.text, null);
  const size = trailerSize(doc);
  const rootEntry = doc.trailerEntry('Root');
  if (rootEntry?.value.kind !== 'ref') fail('the trailer has no /Root reference to the document catalog');
  const ref = info.ref ?? { num: size, gen: 0 };
  const kept: InfoObject['entries'] = info.entries
    .filter(({ entry }) => entry.key !== AIGC_KEY)
    .map(({ entry, bytes }) => bytes.subarray(entry.start, entry.end));
  const last = source.size > 0 ? (await source.read(source.size - 1, 1))[0] : undefined;
  return buildUpdate({
    start: source.size,
    leadingEol: last !== 0x0a && last !== 0x0d,
    prev: doc.startxref,
    size: Math.max(size, ref.num + 1),
    root: { num: rootEntry.value.num, gen: rootEntry.value.gen },
    id: fileId(doc),
    info: { ...ref, entries: kept, aigc },
    xrefStream: doc.sections[0]?.kind === 'stream',
    metadata: labelled && stripped !== undefined ? { num: labelled.metadata.num, gen: labelled.metadata.gen, packet: utf8(stripped) } : undefined,
  });
}

/** Appends to `source` an update whose Info has `aigc` (or no label when undefined). */
async function appendUpdate(source: ByteSource, doc: PdfDocument, info: CurrentInfo, aigc: string | undefined, sink: ByteSink): Promise<void> {
  const update = await heguiUpdate(source, doc, info, aigc);
  await copyRange(source, 0, source.size, sink);
  await sink.write(update);
}

/**
 * How many of hegui's label updates at the end of a file are left out of the signed content;
 * earlier ones count as content (docs/labels.md, PDF). Each is checked by parsing the document
 * before it, so without a bound a file of thousands of label updates (2 MB) would take minutes
 * to verify (issue 11); a label is written and propagated a handful of times.
 */
const MAX_LABEL_UPDATES = 64;

/** The first `end` bytes of `source`. */
function prefixOf(source: ByteSource, end: number): ByteSource {
  return { size: end, read: (offset, length) => source.read(offset, Math.max(0, Math.min(length, end - offset))) };
}

/**
 * Where the document stood before hegui's own label updates: the start of the run of updates
 * at the end of the file that are exactly what `write` or `remove` appends. A marked update
 * is rebuilt from the document before it and the label it carries; any other byte (a page
 * replaced, an object added, an Info entry changed) makes it someone else's revision, which
 * ends the run and stays in the payload. Without this check a forged marker would hide an
 * appended revision from the hash (issue 11).
 */
async function payloadEnd(source: ByteSource): Promise<number> {
  let end = source.size;
  for (let updates = 0; updates < MAX_LABEL_UPDATES; updates++) {
    const start = await markedUpdateStart(source, end);
    if (start === undefined) return end;
    const rebuilt = await rebuiltUpdate(source, start, end);
    if (!rebuilt || rebuilt.length !== end - start || !Buffer.from(rebuilt).equals(Buffer.from(await source.read(start, end - start)))) return end;
    end = start;
  }
  return end;
}

/** The update hegui would append to `[0, start)` to carry the label found in `[0, end)`; undefined when either does not parse. */
async function rebuiltUpdate(source: ByteSource, start: number, end: number): Promise<Uint8Array | undefined> {
  try {
    const after = await openUnencrypted(prefixOf(source, end));
    const aigc = await labelOf(after, await currentInfo(after));
    const before = prefixOf(source, start);
    const doc = await openUnencrypted(before);
    return await heguiUpdate(before, doc, await currentInfo(doc), aigc === undefined ? undefined : encodeTextString(aigc));
  } catch (error) {
    if (error instanceof LabelFormatError) return undefined;
    throw error;
  }
}

function trailerSize(doc: PdfDocument): number {
  const size = doc.trailerEntry('Size');
  if (size?.value.kind !== 'number' || !size.value.integer || size.value.value < 1) fail('the trailer has no valid /Size');
  return size.value.value;
}

function fileId(doc: PdfDocument): readonly [Uint8Array, Uint8Array] | undefined {
  const id = doc.trailerEntry('ID')?.value;
  if (id?.kind !== 'array') return undefined;
  const [first, second] = id.items;
  return first?.kind === 'string' && second?.kind === 'string' ? [first.bytes, second.bytes] : undefined;
}

export const pdfCodec: LabelCodec = {
  format: 'pdf',
  mediaTypes: ['application/pdf'],
  extensions: ['pdf'],

  /**
   * `%PDF-` first (ISO 32000-1 §7.5.2), after at most some whitespace that broken servers
   * prepend; a text that merely mentions `%PDF-` further on is not a PDF.
   */
  detect(head: Uint8Array): boolean {
    let at = 0;
    while (at < head.length && [0x00, 0x09, 0x0a, 0x0c, 0x0d, 0x20].includes(head[at] ?? -1)) at++;
    return startsWith(head, '%PDF-', at);
  },

  async read(source: ByteSource): Promise<FoundLabel[]> {
    const doc = await openUnencrypted(source);
    const value = await labelOf(doc, await currentInfo(doc));
    const found: FoundLabel[] = value === undefined ? [] : [{ value, location: PDF_LABEL_LOCATION, standard: true }];
    for (const xmp of (await metadataLabels(doc))?.values ?? []) found.push({ value: xmp, location: PDF_XMP_LOCATION, standard: false });
    return found;
  },

  async write(source: ByteSource, value: string, sink: ByteSink): Promise<void> {
    const doc = await openUnencrypted(source);
    await appendUpdate(source, doc, await currentInfo(doc), encodeTextString(value), sink);
  },

  async remove(source: ByteSource, sink: ByteSink): Promise<void> {
    const doc = await openUnencrypted(source);
    const info = await currentInfo(doc);
    if (!info.entries.some(({ entry }) => entry.key === AIGC_KEY) && !(await metadataLabels(doc))) {
      await copyRange(source, 0, source.size, sink);
      return;
    }
    await appendUpdate(source, doc, info, undefined, sink);
  },

  async payloadRanges(source: ByteSource): Promise<ByteRange[]> {
    return [{ start: 0, end: await payloadEnd(source) }];
  },

  /** Signed content (docs/labels.md): the document before hegui's own label updates, every byte of it. */
  async signedContent(source: ByteSource, sink: ByteSink): Promise<void> {
    await copyRange(source, 0, await payloadEnd(source), sink);
  },
};
