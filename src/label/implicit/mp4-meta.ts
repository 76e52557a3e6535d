/**
 * @module label/implicit/mp4-meta
 * The label inside `moov`: QuickTime metadata (QuickTime File Format, "Metadata" chapter) in
 * `moov/udta/meta`, the form ffmpeg writes with `-movflags use_metadata_tags` — a `hdlr` of type
 * `mdta`, a `keys` table naming each key (`mdta` namespace, here `AIGC`), and an `ilst` whose
 * items are numbered by key index and hold a `data` atom (type 1, UTF-8). Also read, and
 * cleared when a label is written: the non-standard places `udta/©cmt` (a QuickTime user-data
 * text) and `udta/meta/ilst/©cmt` (an iTunes comment) when they hold a label, and an `AIGC`
 * key in `moov/meta`.
 */
import { LabelFormatError } from '../errors.js';
import { parseLabel } from '../model.js';
import { concatBytes, fromUtf8, utf8, viewOf } from './bytes.js';
import type { FoundLabel } from './codec.js';
import { FORMAT, child, containerBox, leafBox, parseBoxes, printable, serializeBox, touch } from './mp4-boxes.js';
import type { ContainerRule, Mp4Box } from './mp4-boxes.js';
import { latin1, latin1Bytes } from './splice.js';
import { readXmpLabels, setXmpLabel } from './xmp.js';

const KEY = 'AIGC';
const COMMENT = '\xa9cmt';
/** `data` atom well-known types (QuickTime File Format, "Well-known types"). */
const UTF8 = 1;
const UTF16 = 2;

/**
 * Which boxes of `moov` are parsed as containers: the sample-table path (for chunk offsets) and
 * the user-data path (for the label). `meta` is an ISO full box (version and flags before its
 * children) as ffmpeg writes it, but a plain container in QuickTime; tell them apart by whether
 * `hdlr` comes first.
 */
export const moovRule: ContainerRule = (type, path, data) => {
  const parent = path.at(-1);
  const at = path.join('/');
  if (type === 'moov' && at === '') return 0;
  if ((type === 'trak' || type === 'udta') && at === 'moov') return 0;
  if ((type === 'mdia' && at === 'moov/trak') || (type === 'minf' && at === 'moov/trak/mdia') || (type === 'stbl' && at === 'moov/trak/mdia/minf')) {
    return 0;
  }
  if (type === 'meta' && (at === 'moov' || at === 'moov/udta')) return latin1(data.subarray(4, 8)) === 'hdlr' ? 0 : 4;
  if (type === 'ilst' && parent === 'meta') return 0;
  return undefined;
};

/** The `moov` box of a file, parsed with `moovRule`. */
export function parseMoov(bytes: Uint8Array, offset: number): Mp4Box {
  const { boxes } = parseBoxes(bytes, offset, moovRule);
  const moov = boxes[0];
  if (!moov || boxes.length !== 1 || moov.type !== 'moov') throw new LabelFormatError(FORMAT, `expected one 'moov' box`, { offset });
  return moov;
}

interface KeyEntry {
  namespace: string;
  name: string;
}

/** A metadata box with an `mdta` handler, its key table decoded. */
interface MdtaMeta {
  meta: Mp4Box;
  keys: KeyEntry[];
  keysBox: Mp4Box;
  ilst: Mp4Box;
}

function handlerType(meta: Mp4Box): string | undefined {
  const data = child(meta, 'hdlr')?.data;
  return data && data.length >= 12 ? latin1(data.subarray(8, 12)) : undefined;
}

function parseKeys(box: Mp4Box): KeyEntry[] {
  const data = box.data ?? new Uint8Array(0);
  if (data.length < 8) throw new LabelFormatError(FORMAT, `'keys' is too short for its entry count`, { offset: box.offset });
  const view = viewOf(data);
  const count = view.getUint32(4);
  const keys: KeyEntry[] = [];
  let at = 8;
  for (let i = 0; i < count; i++) {
    const size = at + 8 <= data.length ? view.getUint32(at) : 0;
    if (size < 8 || at + size > data.length) {
      throw new LabelFormatError(FORMAT, `'keys' entry ${i + 1} of ${count} has a bad size ${size}`, { offset: box.offset + 8 + at });
    }
    keys.push({ namespace: latin1(data.subarray(at + 4, at + 8)), name: fromUtf8(data.subarray(at + 8, at + size)) });
    at += size;
  }
  return keys;
}

function serializeKeys(prefix: Uint8Array, keys: readonly KeyEntry[]): Uint8Array {
  const parts: Uint8Array[] = [prefix.subarray(0, 4), u32(keys.length)];
  for (const key of keys) {
    const name = utf8(key.name);
    parts.push(u32(8 + name.length), latin1Bytes(key.namespace), name);
  }
  return concatBytes(parts);
}

function mdtaMeta(meta: Mp4Box): MdtaMeta | undefined {
  if (handlerType(meta) !== 'mdta') return undefined;
  const keysBox = child(meta, 'keys');
  const ilst = child(meta, 'ilst');
  if (!keysBox || !ilst) return undefined;
  return { meta, keys: parseKeys(keysBox), keysBox, ilst };
}

/** The 1-based key index an `ilst` item refers to: its type field read as an integer. */
function itemIndex(item: Mp4Box): number {
  return viewOf(latin1Bytes(item.type)).getUint32(0);
}

function indexType(index: number): string {
  return latin1(u32(index));
}

function u32(value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  viewOf(bytes).setUint32(0, value);
  return bytes;
}

function isLabelKey(key: KeyEntry): boolean {
  return key.namespace === 'mdta' && key.name.toUpperCase() === KEY;
}

/** The text of the first text `data` atom of an `ilst` item. */
function itemText(item: Mp4Box): string | undefined {
  const { boxes } = parseBoxes(item.data ?? new Uint8Array(0), item.offset + 8, () => undefined, ['ilst', printable(item.type)]);
  for (const box of boxes) {
    const data = box.data;
    if (box.type !== 'data' || !data || data.length < 8) continue;
    const kind = viewOf(data).getUint32(0) & 0xffffff;
    if (kind === UTF8) return fromUtf8(data.subarray(8));
    if (kind === UTF16) return new TextDecoder('utf-16be').decode(data.subarray(8));
  }
  return undefined;
}

/** An `ilst` item for key `index` holding `value` as a UTF-8 `data` atom. */
function textItem(index: number, value: string): Mp4Box {
  // The data atom's type indicator (1: UTF-8) and locale (0: default), then the text.
  return leafBox(indexType(index), serializeBox(leafBox('data', concatBytes([u32(UTF8), u32(0), utf8(value)]))));
}

/** Whether a comment's text is a GB 45438 label rather than an ordinary comment. */
function isLabelText(text: string): boolean {
  try {
    parseLabel(text);
    return true;
  } catch {
    return false;
  }
}

/** QuickTime user-data text entries (16-bit size, 16-bit language, text) of a `©cmt` atom. */
function userDataTexts(box: Mp4Box): { text: string; bytes: Uint8Array }[] {
  const data = box.data ?? new Uint8Array(0);
  const view = viewOf(data);
  const texts: { text: string; bytes: Uint8Array }[] = [];
  for (let at = 0; at + 4 <= data.length; ) {
    const size = view.getUint16(at);
    const language = view.getUint16(at + 2);
    if (at + 4 + size > data.length) {
      throw new LabelFormatError(FORMAT, `'udta/©cmt' text of ${size} bytes overruns its atom`, { offset: box.offset + 8 + at });
    }
    const raw = data.subarray(at + 4, at + 4 + size);
    // Language codes below 0x400 are Macintosh codes with Mac-encoded text; above, packed ISO 639 with UTF-8.
    texts.push({ text: language < 0x400 ? latin1(raw) : fromUtf8(raw), bytes: data.subarray(at, at + 4 + size) });
    at += 4 + size;
  }
  return texts;
}

/** Every label in `moov`, the standard place first. */
export function readMoovLabels(moov: Mp4Box): FoundLabel[] {
  const found: FoundLabel[] = [];
  const udta = child(moov, 'udta');
  const places: [Mp4Box | undefined, string, boolean][] = [
    [udta, 'mp4:moov/udta/meta/ilst', true],
    [moov, 'mp4:moov/meta/ilst', false],
  ];
  for (const [parent, location, standard] of places) {
    for (const meta of parent?.children ?? []) {
      if (meta.type !== 'meta') continue;
      const mdta = mdtaMeta(meta);
      if (mdta) {
        for (const item of mdta.ilst.children ?? []) {
          const key = mdta.keys[itemIndex(item) - 1];
          const text = key && isLabelKey(key) ? itemText(item) : undefined;
          if (text !== undefined) found.push({ value: text, location, standard });
        }
      } else if (parent === udta && handlerType(meta) === 'mdir') {
        for (const item of child(meta, 'ilst')?.children ?? []) {
          const text = item.type === COMMENT ? itemText(item) : undefined;
          if (text !== undefined && isLabelText(text)) found.push({ value: text, location: 'mp4:moov/udta/meta/ilst/©cmt', standard: false });
        }
      }
    }
  }
  for (const box of udta?.children ?? []) {
    if (box.type === XMP_ATOM) {
      for (const value of readXmpLabels(fromUtf8(box.data ?? new Uint8Array(0)))) found.push({ value, location: MOV_XMP_LOCATION, standard: false });
    }
    if (box.type !== COMMENT) continue;
    for (const { text } of userDataTexts(box)) {
      if (isLabelText(text)) found.push({ value: text, location: 'mp4:moov/udta/©cmt', standard: false });
    }
  }
  return found;
}

/** QuickTime's XMP atom in `moov/udta`, where exiftool and Adobe tools write a MOV's XMP. */
const XMP_ATOM = 'XMP_';
export const MOV_XMP_LOCATION = 'xmp:moov/udta/XMP_';

/**
 * The XMP atom's contents without the label, the same size (the packet padded; the atom is
 * rebuilt inside `moov` anyway, but a constant size keeps relabelling in place).
 */
function xmpAtomWithoutLabel(box: Mp4Box): Mp4Box | undefined {
  const text = fromUtf8(box.data ?? new Uint8Array(0));
  if (readXmpLabels(text).length === 0) return undefined;
  const stripped = setXmpLabel(text, null, { targetBytes: box.data?.length ?? 0 }) ?? setXmpLabel(text, null) ?? '';
  return leafBox(XMP_ATOM, utf8(stripped));
}

/** Removes the label keys from an `mdta` meta, renumbering the items of the keys after them. */
function removeLabelKeys(mdta: MdtaMeta): boolean {
  const removed = new Set<number>();
  mdta.keys.forEach((key, i) => {
    if (isLabelKey(key)) removed.add(i + 1);
  });
  if (removed.size === 0) return false;
  const renumber = (index: number): number => index - [...removed].filter((r) => r < index).length;
  mdta.keys = mdta.keys.filter((_, i) => !removed.has(i + 1));
  mdta.ilst.children = (mdta.ilst.children ?? [])
    .filter((item) => !removed.has(itemIndex(item)))
    .map((item) => {
      const index = itemIndex(item);
      return renumber(index) === index ? item : leafBox(indexType(renumber(index)), item.data ?? new Uint8Array(0));
    });
  mdta.keysBox.data = serializeKeys(mdta.keysBox.data ?? new Uint8Array(4), mdta.keys);
  touch(mdta.keysBox, mdta.ilst, mdta.meta);
  return true;
}

/** Removes labels from the non-standard places; true when anything changed. */
function removeNonStandard(moov: Mp4Box, udta: Mp4Box | undefined): boolean {
  let changed = false;
  for (const meta of moov.children ?? []) {
    const mdta = meta.type === 'meta' ? mdtaMeta(meta) : undefined;
    if (mdta && removeLabelKeys(mdta)) changed = true;
  }
  if (!udta?.children) return changed;
  const kept: Mp4Box[] = [];
  for (const box of udta.children) {
    const xmp = box.type === XMP_ATOM ? xmpAtomWithoutLabel(box) : undefined;
    if (xmp) {
      kept.push(xmp);
      changed = true;
      continue;
    }
    if (box.type === COMMENT) {
      const texts = userDataTexts(box);
      const rest = texts.filter((t) => !isLabelText(t.text));
      if (rest.length !== texts.length) {
        changed = true;
        if (rest.length > 0) kept.push(leafBox(COMMENT, concatBytes(rest.map((t) => t.bytes))));
        continue;
      }
    } else if (box.type === 'meta' && handlerType(box) === 'mdir') {
      const ilst = child(box, 'ilst');
      const items = ilst?.children ?? [];
      const rest = items.filter((item) => {
        const text = item.type === COMMENT ? itemText(item) : undefined;
        return text === undefined || !isLabelText(text);
      });
      if (ilst && rest.length !== items.length) {
        ilst.children = rest;
        touch(ilst, box);
        changed = true;
      }
    }
    kept.push(box);
  }
  udta.children = kept;
  return changed;
}

/** A new `meta` (ISO full box, as ffmpeg writes it) with an `mdta` handler and empty tables. */
function newMdtaMeta(): MdtaMeta {
  // hdlr: version and flags, pre_defined, handler_type 'mdta', three reserved words, an empty name.
  const hdlr = new Uint8Array(25);
  hdlr.set(latin1Bytes('mdta'), 8);
  const keysBox = leafBox('keys', serializeKeys(new Uint8Array(4), []));
  const ilst = containerBox('ilst', []);
  return { meta: containerBox('meta', [leafBox('hdlr', hdlr), keysBox, ilst], new Uint8Array(4)), keys: [], keysBox, ilst };
}

/**
 * Puts `value` in the standard place, or removes every label when `value` is undefined, and
 * clears labels from the non-standard places. Returns false when `moov` is unchanged.
 */
export function setMoovLabel(moov: Mp4Box, value: string | undefined): boolean {
  const children = (moov.children ??= []);
  let udta = child(moov, 'udta');
  let changed = removeNonStandard(moov, udta);
  let mdta: MdtaMeta | undefined;
  for (const meta of udta?.children ?? []) {
    mdta = meta.type === 'meta' ? mdtaMeta(meta) : undefined;
    if (mdta) break;
  }
  if (mdta && removeLabelKeys(mdta)) changed = true;
  if (value === undefined) {
    const emptied = mdta && mdta.keys.length === 0 && (mdta.ilst.children ?? []).length === 0 && changed ? mdta.meta : undefined;
    if (udta && emptied) {
      const kept = (udta.children ?? []).filter((box) => box !== emptied);
      udta.children = kept;
      if (kept.length === 0) moov.children = children.filter((box) => box !== udta);
    }
    if (changed && udta) touch(udta, moov);
    return changed;
  }
  if (!udta) {
    udta = containerBox('udta', []);
    children.push(udta);
  }
  if (!mdta) {
    mdta = newMdtaMeta();
    (udta.children ??= []).push(mdta.meta);
  }
  mdta.keys.push({ namespace: 'mdta', name: KEY });
  mdta.keysBox.data = serializeKeys(mdta.keysBox.data ?? new Uint8Array(4), mdta.keys);
  (mdta.ilst.children ??= []).push(textItem(mdta.keys.length, value));
  touch(mdta.keysBox, mdta.ilst, mdta.meta, udta, moov);
  return true;
}
