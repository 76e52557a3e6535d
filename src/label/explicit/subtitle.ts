/**
 * @module label/explicit/subtitle
 * Explicit notices in subtitles (GB 45438 §5.1 applied to the text a viewer reads): the notice
 * is a cue of its own, shown for 3 s from the start (as the video notice of §5.4, which asks
 * for at least 2 s) or with the last cue, written in the file's own cue format so players keep
 * reading it. SubRip (SRT): a numbered cue, the later cues renumbered, `HH:MM:SS,mmm` times.
 * WebVTT: the header, `STYLE`, `REGION` and `NOTE` blocks stay in front (the format requires
 * style and region blocks before the first cue), `HH:MM:SS.mmm` times, markup escaped. Cue
 * start times stay in order, as WebVTT requires. Line endings (LF or CRLF) are kept.
 */
import { InvalidInputError } from '../../errors.js';
import { LabelFormatError } from '../errors.js';
import { resolveNotice, type NoticeChoice } from './wording.js';

/** The subtitle formats notices are written into. */
export type SubtitleFormat = 'srt' | 'vtt';

/** How long the notice cue shows (GB 45438 §5.4 asks a video notice for at least 2 s). */
const NOTICE_MS = 3000;

const TIMING = /^\s*((?:\d+:)?\d{2}:\d{2}[,.]\d{3})\s+-->\s+((?:\d+:)?\d{2}:\d{2}[,.]\d{3})/;
const VTT_HEADER = /^\uFEFF?WEBVTT(?:[ \t][^\r\n]*)?(?:\r?\n|$)/;

/** True when the text opens as a WebVTT file. */
export function isWebVtt(content: string): boolean {
  return VTT_HEADER.test(content);
}

/** True when the first block of the text is a SubRip cue (an index line, then a timing line). */
export function isSubRip(content: string): boolean {
  const lines = content.replace(/^\uFEFF/, '').replace(/^\s*\n/, '').split(/\r?\n/, 2);
  return /^\d+\s*$/.test(lines[0] ?? '') && TIMING.test(lines[1] ?? '') && (lines[1] ?? '').includes(',');
}

function milliseconds(time: string): number {
  const parts = time.replace(',', '.').split(':').map(Number);
  const seconds = parts.pop() ?? 0;
  const minutes = parts.pop() ?? 0;
  const hours = parts.pop() ?? 0;
  return Math.round(((hours * 60 + minutes) * 60 + seconds) * 1000);
}

function timestamp(ms: number, format: SubtitleFormat): string {
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor(ms / 60_000) % 60;
  const seconds = Math.floor(ms / 1000) % 60;
  return `${pad(hours)}:${pad(minutes)}:${pad(seconds)}${format === 'srt' ? ',' : '.'}${pad(ms % 1000, 3)}`;
}

interface Block {
  lines: string[];
  /** Index of the timing line within `lines`, or -1 when the block is not a cue. */
  timing: number;
}

/** The blocks of a subtitle file (separated by blank lines) and its line ending. */
function blocks(content: string): { blocks: Block[]; eol: string; bom: string } {
  const eol = content.includes('\r\n') ? '\r\n' : '\n';
  const bom = content.startsWith('\uFEFF') ? '\uFEFF' : '';
  const found: Block[] = [];
  for (const chunk of content.slice(bom.length).split(/\r?\n(?:[ \t]*\r?\n)+/)) {
    const lines = chunk.split(/\r?\n/);
    while (lines.length > 0 && lines.at(-1)?.trim() === '') lines.pop();
    while (lines.length > 0 && lines[0]?.trim() === '') lines.shift();
    if (lines.length === 0) continue;
    found.push({ lines, timing: lines.slice(0, 2).findIndex((line) => TIMING.test(line) && !line.startsWith('NOTE')) });
  }
  return { blocks: found, eol, bom };
}

function span(block: Block): { start: number; end: number } {
  const match = TIMING.exec(block.lines[block.timing] ?? '') as RegExpExecArray;
  return { start: milliseconds(match[1] ?? ''), end: milliseconds(match[2] ?? '') };
}

const escapeVtt = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export interface SubtitleNoticeOptions extends NoticeChoice {
  format: SubtitleFormat;
  /** Default `start`; subtitles have no paragraph boundary to put a middle notice at. */
  position?: 'start' | 'end' | 'middle';
}

export interface SubtitleLabelResult {
  text: string;
  format: SubtitleFormat;
  position: 'start' | 'end';
  notice: string;
  /** When the notice cue shows, in milliseconds. */
  startMs: number;
  endMs: number;
}

/**
 * Adds the notice as a cue of its own to an SRT or WebVTT file.
 *
 * @throws LabelFormatError when the file has no cue (or a WebVTT file has no header);
 *   InvalidInputError `E_LABEL_POSITION` for `middle`; NoticeWordingError.
 * @example
 * labelSubtitles(srt, { format: 'srt' }).text; // '1\n00:00:00,000 --> 00:00:03,000\n本内容由人工智能生成\n\n2\n…'
 */
export function labelSubtitles(content: string, options: SubtitleNoticeOptions): SubtitleLabelResult {
  const { format } = options;
  if (options.position === 'middle') throw new InvalidInputError('E_LABEL_POSITION', 'subtitles take the notice at the start or the end, as a cue of its own; --position middle does not apply');
  const position = options.position ?? 'start';
  const notice = resolveNotice(options);
  if (format === 'vtt' && !isWebVtt(content)) throw new LabelFormatError('vtt', 'it does not start with the WEBVTT header');
  const parsed = blocks(content);
  const cues = parsed.blocks.filter((block) => block.timing >= 0);
  const first = cues[0];
  const last = cues.at(-1);
  if (!first || !last) throw new LabelFormatError(format, 'it holds no cue');
  const startMs = position === 'start' ? 0 : span(last).start;
  const endMs = position === 'start' ? NOTICE_MS : Math.max(span(last).end, startMs + NOTICE_MS);
  const timing = `${timestamp(startMs, format)} --> ${timestamp(endMs, format)}`;
  const cue: Block = format === 'srt' ? { lines: ['0', timing, notice], timing: 1 } : { lines: [timing, escapeVtt(notice)], timing: 0 };
  const at = position === 'start' ? parsed.blocks.indexOf(first) : parsed.blocks.length;
  const out = [...parsed.blocks.slice(0, at), cue, ...parsed.blocks.slice(at)];
  if (format === 'srt') {
    let n = 0;
    for (const block of out) {
      if (block.timing === 1 && /^\d+\s*$/.test(block.lines[0] ?? '')) block.lines = [String(++n), ...block.lines.slice(1)];
    }
  }
  const { eol } = parsed;
  const text = parsed.bom + out.map((block) => block.lines.join(eol)).join(eol + eol) + eol;
  return { text, format, position, notice, startMs, endMs };
}

/** What a viewer reads of a subtitle file: the text of each cue, one paragraph per cue, markup removed. */
export function cueText(content: string): string {
  return blocks(content)
    .blocks.filter((block) => block.timing >= 0)
    .map((block) =>
      block.lines
        .slice(block.timing + 1)
        .join('\n')
        .replace(/<[^>]*>/g, '')
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&nbsp;/g, ' ')
        .replace(/&amp;/g, '&'),
    )
    .filter((text) => text.trim() !== '')
    .join('\n\n');
}
