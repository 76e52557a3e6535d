/**
 * @module label/implicit/matroska-tags
 * The label in Matroska tags (RFC 9559 §5.1.8, Matroska tagging guidelines): a `SimpleTag` with
 * `TagName` `AIGC` and the JSON in `TagString`, in a `Tag` whose `Targets` names no track,
 * edition, chapter or attachment — a tag of the whole segment, which ffmpeg shows as a format
 * tag. Other tags keep their bytes; `AIGC` tags on tracks are read as non-standard and cleared.
 */
import { fromUtf8, utf8 } from './bytes.js';
import type { FoundLabel } from './codec.js';
import { ID, TARGET_UIDS, childOf, newElement, parseElements, touch } from './matroska-ebml.js';
import type { EbmlElement } from './matroska-ebml.js';

const NAME = 'AIGC';
const TAG_MASTERS: ReadonlySet<number> = new Set([ID.Tags, ID.Tag, ID.Targets, ID.SimpleTag]);

/** Parses a `Tags` element's bytes (read whole) at file offset `offset`. */
export function parseTags(bytes: Uint8Array, offset: number): EbmlElement {
  const [tags] = parseElements(bytes, offset, TAG_MASTERS);
  if (!tags || tags.id !== ID.Tags) throw new RangeError('parseTags needs a Tags element');
  return tags;
}

/** Whether a Tag applies to the whole segment: no target UID other than 0. */
function isGlobal(tag: EbmlElement): boolean {
  const targets = childOf(tag, ID.Targets);
  // UIDs are random 64-bit numbers: only whether one is non-zero matters here.
  return !(targets?.children ?? []).some((c) => TARGET_UIDS.has(c.id) && (c.data ?? new Uint8Array(0)).some((byte) => byte !== 0));
}

function simpleTagName(simple: EbmlElement): string | undefined {
  const name = childOf(simple, ID.TagName)?.data;
  return name ? fromUtf8(name) : undefined;
}

function isLabelTag(simple: EbmlElement): boolean {
  return simple.id === ID.SimpleTag && simpleTagName(simple)?.toUpperCase() === NAME;
}

/** Every `AIGC` SimpleTag of `tags`, segment-wide ones first. */
export function readTagLabels(tags: EbmlElement): FoundLabel[] {
  const found: FoundLabel[] = [];
  for (const tag of tags.children ?? []) {
    if (tag.id !== ID.Tag) continue;
    const standard = isGlobal(tag);
    for (const simple of tag.children ?? []) {
      const value = isLabelTag(simple) ? childOf(simple, ID.TagString)?.data : undefined;
      if (value) found.push({ value: fromUtf8(value), location: `matroska:Segment/Tags/Tag${standard ? '' : '[track]'}/SimpleTag:AIGC`, standard });
    }
  }
  return found.sort((a, b) => Number(b.standard) - Number(a.standard));
}

/** A SimpleTag `AIGC` = value; `TagLanguage` is left at its default `und`, so ffmpeg names the tag plainly. */
function labelSimpleTag(value: string): EbmlElement {
  return newElement(ID.SimpleTag, [newElement(ID.TagName, utf8(NAME)), newElement(ID.TagString, utf8(value))]);
}

/**
 * Removes every `AIGC` SimpleTag from `tags` (and Tags left with no SimpleTag), then, when
 * `value` is given, adds one to the first segment-wide Tag, creating that Tag (with empty
 * `Targets`, as ffmpeg writes global tags) if needed. Returns whether anything changed.
 */
export function relabelTags(tags: EbmlElement, value: string | undefined): boolean {
  let changed = false;
  const kept: EbmlElement[] = [];
  for (const tag of tags.children ?? []) {
    const simples = tag.children ?? [];
    if (tag.id === ID.Tag && simples.some(isLabelTag)) {
      tag.children = simples.filter((c) => !isLabelTag(c));
      touch(tag);
      changed = true;
      if (!tag.children.some((c) => c.id === ID.SimpleTag)) continue;
    }
    kept.push(tag);
  }
  tags.children = kept;
  if (value !== undefined) {
    let global = kept.find((tag) => tag.id === ID.Tag && isGlobal(tag));
    if (!global) {
      global = newElement(ID.Tag, [newElement(ID.Targets, [])]);
      kept.push(global);
    }
    (global.children ??= []).push(labelSimpleTag(value));
    touch(global);
    changed = true;
  }
  if (changed) touch(tags);
  return changed;
}

/** Whether `tags` still holds any Tag (a Tags element needs at least one, RFC 9559 §5.1.8.1). */
export function hasTag(tags: EbmlElement): boolean {
  return (tags.children ?? []).some((c) => c.id === ID.Tag);
}

/** A new Tags element for a file that has none. */
export function newTags(): EbmlElement {
  return newElement(ID.Tags, []);
}
