/**
 * @module safety/split
 * Cutting a long text into parts that can be searched separately (on several threads) and
 * still give exactly the hits of one pass over the whole text.
 *
 * The cuts fall just after a line feed. That is exact, not approximate, because a line break
 * is a hard reset for everything `SafetyGuard.findLocal` looks for:
 * - keywords: with the library's fold, a line feed is a `BREAK` (unless `crossLineBreaks` and
 *   `skipNoise` are both on), which ends every partial keyword, every held candidate and every
 *   run of repeats, as if the text started afresh (scan-core); the word-boundary window of
 *   word-mode entries is cut at line breaks too;
 * - regex entries: they see one line at a time;
 * - personal data: no detector's pattern contains a line feed, and a line feed is neither a
 *   digit nor a letter for their look-behinds and look-aheads.
 * An overlap of "the longest possible match" would not be: with repeats collapsed and noise
 * skipped, a match has no length bound in the original text (`哈哈哈…` is one character).
 * A library that lets matches cross line breaks, or a text without line feeds near the cut
 * points, is searched in one pass.
 *
 * Cuts work on UTF-8 bytes, where a line feed (0x0A) never occurs inside another character,
 * so each part can be decoded on its own thread; the part's offsets are then moved by the
 * UTF-16 length of the parts before it.
 */
import type { CompiledLibrary } from './compile.js';
import { BREAK } from './fold.js';
import type { KeywordMatch } from './scanner.js';
import type { LocalFindings } from './guard.js';

const LINE_FEED = 0x0a;

/** Whether a text searched with `library` (or with no library: personal data only) may be cut at line feeds. */
export function splitsAtLineFeeds(library: CompiledLibrary | undefined): boolean {
  return library === undefined || (library.fold.bmp[LINE_FEED] === BREAK && library.unitClass[LINE_FEED] === BREAK);
}

/**
 * Byte offsets that cut `bytes` into at most `parts` parts, each cut just after a line feed:
 * the line feed nearest each equal share, within a quarter of a share on either side. A share
 * with no line feed near enough is joined to its neighbour, so fewer parts may come back.
 * The offsets are ascending, strictly inside `(0, bytes.length)`.
 */
export function lineFeedCuts(bytes: Uint8Array, parts: number): number[] {
  const cuts: number[] = [];
  if (parts < 2 || bytes.length < 2) return cuts;
  const share = bytes.length / parts;
  const slack = Math.floor(share / 4);
  const at = (from: number, to: number, forward: boolean): number => {
    // Byte by byte from the ideal point outwards: Buffer's indexOf is not on a plain Uint8Array.
    if (forward) {
      for (let i = from; i < to; i++) if (bytes[i] === LINE_FEED) return i;
    } else {
      for (let i = from; i >= to; i--) if (bytes[i] === LINE_FEED) return i;
    }
    return -1;
  };
  let previous = 0;
  for (let k = 1; k < parts; k++) {
    const ideal = Math.floor(share * k);
    const lo = Math.max(previous, ideal - slack);
    const hi = Math.min(bytes.length - 1, ideal + slack);
    const after = at(ideal, hi, true);
    const before = at(Math.min(ideal - 1, hi), lo, false);
    const feed = after < 0 ? before : before < 0 ? after : after - ideal <= ideal - before ? after : before;
    if (feed < 0) continue;
    const cut = feed + 1;
    if (cut <= previous || cut >= bytes.length) continue;
    cuts.push(cut);
    previous = cut;
  }
  return cuts;
}

/**
 * The findings of consecutive parts of one text, each with `offset`, the UTF-16 length of the
 * text before it, as the whole text's findings: offsets moved, lists put end to end.
 */
export function joinFindings(parts: readonly { offset: number; found: LocalFindings }[]): LocalFindings {
  if (parts.length === 1 && parts[0]?.offset === 0) return parts[0].found;
  const matches: KeywordMatch[] = [];
  const pii: LocalFindings['pii'] = [];
  for (const { offset, found } of parts) {
    for (const m of found.matches) {
      m.start += offset;
      m.end += offset;
      matches.push(m);
    }
    for (const p of found.pii) {
      p.start += offset;
      p.end += offset;
      pii.push(p);
    }
  }
  return { matches, pii };
}
