/**
 * @module label/implicit/ooxml
 * The OOXML codec (DOCX, XLSX, PPTX and their macro and template variants): the label is the
 * custom file property `AIGC` (`vt:lpwstr`) in `docProps/custom.xml`, the place the TC260
 * practice guide names. Writing adds that part, its `[Content_Types].xml` Override and its
 * package relationship when they are missing (see `ooxml-parts.ts`); every other entry of the
 * ZIP container is copied byte for byte, compressed data included (see `ooxml-zip.ts`).
 *
 * Payload: the raw records (local header, compressed data, data descriptor) of every entry
 * except the three package parts the codec may rewrite: `[Content_Types].xml`, `_rels/.rels`
 * and the custom properties part. The document's own parts (text, sheets, slides, media,
 * core and app properties) are all inside it, and they are copied unchanged, so the payload
 * hash survives labeling, relabeling and removal.
 */
import { LabelFormatError } from '../errors.js';
import type { ByteRange, ByteSink, ByteSource, FoundLabel, LabelCodec } from './codec.js';
import { copyRange, startsWith, viewOf } from './bytes.js';
import {
  customPartName,
  DEFAULT_CUSTOM_PART,
  readCustomLabel,
  withCustomLabel,
  withCustomOverride,
  withCustomRelationship,
  withoutCustomLabel,
  withoutCustomOverride,
  withoutCustomRelationship,
} from './ooxml-parts.js';
import { readEntry, readZip, type ZipArchive, type ZipEntry } from './ooxml-zip.js';
import { writeZip, type OutputEntry } from './ooxml-zip-write.js';

const CONTENT_TYPES = '[Content_Types].xml';
const PACKAGE_RELATIONSHIPS = '_rels/.rels';
/** Part names that only OOXML packages put first (ECMA-376 Part 2 places no order, but producers do). */
const OOXML_FIRST_NAMES = /^(\[Content_Types\]\.xml|_rels\/\.rels|docProps\/|word\/|xl\/|ppt\/|customXml\/)/;

interface Package {
  archive: ZipArchive;
  types: ZipEntry;
  rels: ZipEntry;
  relsBytes: Uint8Array;
  /** Where the custom properties part is, or would go. */
  customName: string;
  custom: ZipEntry | undefined;
}

/** The entry named `name`; OPC part names compare case-insensitively (ECMA-376 Part 2 §9.1.1). */
function find(archive: ZipArchive, name: string): ZipEntry | undefined {
  const wanted = name.toLowerCase();
  return archive.entries.find((e) => e.name.toLowerCase() === wanted);
}

async function openPackage(source: ByteSource): Promise<Package> {
  const archive = await readZip(source);
  const types = find(archive, CONTENT_TYPES);
  const rels = find(archive, PACKAGE_RELATIONSHIPS);
  if (!types || !rels) {
    throw new LabelFormatError('ooxml', `not an OOXML package: the ZIP archive has no ${types ? PACKAGE_RELATIONSHIPS : CONTENT_TYPES}`);
  }
  const relsBytes = await readEntry(source, rels);
  const customName = customPartName(relsBytes) ?? DEFAULT_CUSTOM_PART;
  return { archive, types, rels, relsBytes, customName, custom: find(archive, customName) };
}

interface Changes {
  replace: Map<ZipEntry, Uint8Array>;
  drop: Set<ZipEntry>;
  add: { name: string; content: Uint8Array } | undefined;
}

/** Writes the package with `changes`; every other entry is copied raw, in its original place. */
async function rewrite(source: ByteSource, pkg: Package, changes: Changes, sink: ByteSink): Promise<void> {
  const { entries } = pkg.archive;
  const order = new Map(entries.map((e, i) => [e, i]));
  const records: OutputEntry[] = [];
  for (const entry of [...entries].sort((a, b) => a.localOffset - b.localOffset)) {
    if (changes.drop.has(entry)) continue;
    const content = changes.replace.get(entry);
    const at = order.get(entry) ?? 0;
    records.push(content ? { kind: 'new', name: entry.name, content, like: entry, order: at } : { kind: 'copy', entry, order: at });
  }
  if (changes.add) records.push({ kind: 'new', ...changes.add, like: pkg.types, order: entries.length });
  await writeZip(source, pkg.archive, records, sink);
}

function noChanges(): Changes {
  return { replace: new Map(), drop: new Set(), add: undefined };
}

export const ooxmlCodec: LabelCodec = {
  format: 'ooxml',
  mediaTypes: [
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    'application/vnd.openxmlformats-officedocument.presentationml.presentation',
    'application/vnd.ms-word.document.macroEnabled.12',
    'application/vnd.ms-excel.sheet.macroEnabled.12',
    'application/vnd.ms-powerpoint.presentation.macroEnabled.12',
  ],
  extensions: ['docx', 'xlsx', 'pptx', 'docm', 'xlsm', 'pptm', 'dotx', 'xltx', 'potx', 'ppsx'],

  /**
   * A ZIP whose local headers in `head` name an OOXML part: `[Content_Types].xml` anywhere, or
   * a first entry that only OOXML producers write first. Other ZIPs (EPUB and ODF start with
   * `mimetype`, JARs with `META-INF/`) are not matched.
   */
  detect(head: Uint8Array): boolean {
    if (!startsWith(head, [0x50, 0x4b, 0x03, 0x04])) return false;
    const view = viewOf(head);
    const nameLength = head.length >= 30 ? view.getUint16(26, true) : 0;
    const firstName = new TextDecoder().decode(head.subarray(30, 30 + nameLength));
    if (OOXML_FIRST_NAMES.test(firstName)) return true;
    return Buffer.from(head.buffer, head.byteOffset, head.byteLength).includes('[Content_Types].xml');
  },

  async read(source: ByteSource): Promise<FoundLabel[]> {
    const pkg = await openPackage(source);
    if (!pkg.custom) return [];
    const value = readCustomLabel(pkg.custom.name, await readEntry(source, pkg.custom));
    return value === undefined ? [] : [{ value, location: `ooxml:${pkg.custom.name}#AIGC`, standard: true }];
  },

  async write(source: ByteSource, value: string, sink: ByteSink): Promise<void> {
    const pkg = await openPackage(source);
    const changes = noChanges();
    const custom = withCustomLabel(pkg.customName, pkg.custom && (await readEntry(source, pkg.custom)), value);
    if (pkg.custom) changes.replace.set(pkg.custom, custom);
    else changes.add = { name: pkg.customName, content: custom };
    const rels = withCustomRelationship(pkg.relsBytes, pkg.customName);
    if (rels) changes.replace.set(pkg.rels, rels);
    const types = withCustomOverride(await readEntry(source, pkg.types), pkg.customName);
    if (types) changes.replace.set(pkg.types, types);
    await rewrite(source, pkg, changes, sink);
  },

  /**
   * Drops the property; a custom properties part left empty goes too, with its relationship
   * and Override, so removing restores a package that had none.
   */
  async remove(source: ByteSource, sink: ByteSink): Promise<void> {
    const pkg = await openPackage(source);
    const removed = pkg.custom && withoutCustomLabel(pkg.custom.name, await readEntry(source, pkg.custom));
    if (!pkg.custom || !removed) {
      await copyRange(source, 0, source.size, sink);
      return;
    }
    const changes = noChanges();
    if (removed.empty) {
      changes.drop.add(pkg.custom);
      changes.replace.set(pkg.rels, withoutCustomRelationship(pkg.relsBytes));
      changes.replace.set(pkg.types, withoutCustomOverride(await readEntry(source, pkg.types), pkg.custom.name));
    } else {
      changes.replace.set(pkg.custom, removed.content);
    }
    await rewrite(source, pkg, changes, sink);
  },

  async payloadRanges(source: ByteSource): Promise<ByteRange[]> {
    const pkg = await openPackage(source);
    const excluded = new Set([pkg.types, pkg.rels, pkg.custom]);
    const ranges: ByteRange[] = pkg.archive.prefixEnd > 0 ? [{ start: 0, end: pkg.archive.prefixEnd }] : [];
    for (const entry of [...pkg.archive.entries].sort((a, b) => a.localOffset - b.localOffset)) {
      if (excluded.has(entry)) continue;
      const last = ranges[ranges.length - 1];
      if (last && last.end === entry.localOffset) last.end = entry.recordEnd;
      else ranges.push({ start: entry.localOffset, end: entry.recordEnd });
    }
    return ranges;
  },

  /**
   * Signed content (docs/labels.md, "OOXML"): the payload ranges above, then the uncompressed
   * `[Content_Types].xml`, `_rels/.rels` and custom properties part, each as name, length and
   * contents, with the label, its Override and its relationship taken out. The central
   * directory, which writing rebuilds, is not content; every part it lists is.
   */
  async signedContent(source: ByteSource, sink: ByteSink): Promise<void> {
    const pkg = await openPackage(source);
    for (const range of await ooxmlCodec.payloadRanges(source)) await copyRange(source, range.start, range.end, sink, 'ooxml');
    const parts: [string, Uint8Array][] = [
      [pkg.types.name, withoutCustomOverride(await readEntry(source, pkg.types), pkg.customName)],
      [pkg.rels.name, withoutCustomRelationship(pkg.relsBytes)],
    ];
    const custom = pkg.custom && withoutCustomLabel(pkg.custom.name, await readEntry(source, pkg.custom));
    if (pkg.custom && !custom) parts.push([pkg.custom.name, await readEntry(source, pkg.custom)]);
    else if (pkg.custom && custom && !custom.empty) parts.push([pkg.custom.name, custom.content]);
    for (const [name, content] of parts) {
      const head = new TextEncoder().encode(`${name}\n${content.length}\n`);
      await sink.write(head);
      await sink.write(content);
    }
  },
};
