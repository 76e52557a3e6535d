/**
 * @module cli/label-visible
 * `hegui label visible|all|check`: explicit labels (GB 45438 §5, Labeling Measures Art. 4) on
 * files and folders. `visible` draws or inserts the notice; `all` does that and writes the
 * implicit label in the same pass (a file offered for download carries both); `check`
 * measures a file's notice against §5 and prints each rule with its figures. Like the other
 * `label` commands: many files and folders, a progress bar on stderr, a line per file, and a
 * non-zero exit when any file failed. Files are written atomically (`label/files`).
 */
import type { Command } from 'commander';
import { closeSync, constants, fstatSync, mkdirSync, openSync, readSync, type Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, relative, resolve } from 'node:path';
import { HeguiError, InvalidInputError } from '../errors.js';
import { embedLabel, type EmbedRequest } from '../label/api.js';
import { bufferSource } from '../label/implicit/bytes.js';
import type { LabelCodec } from '../label/implicit/codec.js';
import { codecByFormat } from '../label/implicit/registry.js';
import type { LabelValue } from '../label/model.js';
import type * as Explicit from '../label/explicit/index.js';
import type * as ImageNotices from '../label/explicit/image.js';
import type * as SubtitleNotices from '../label/explicit/subtitle.js';
import type * as TextNotices from '../label/explicit/text.js';
import type { ExplicitCheckReport, ExplicitFormat, NoticeLanguage, PlateMode, TextFormat, TextPosition } from '../label/explicit/index.js';
import { IMAGE_POSITIONS, type ImagePosition } from '../label/explicit/positions.js';
import { documentFormat, FORMAT_HEAD_BYTES, FORMAT_KIND, requireExplicitFormat } from '../label/explicit/check-format.js';
import { batchImageThreads, openImageLabelPool, poolable, type ImageLabelPool } from '../label/explicit/image-pool.js';
import { FileChangedError } from '../label/file-copy.js';
import { cannotOpen, readWholeSync, writeSmallAtomic } from '../label/file-io.js';
import { writeFileAtomic, type WrittenFile } from '../label/files.js';
import type { CliIo } from './io.js';
import { batch, errorRecord, errorText, expandId, followedLink, loadSigningKey, outputFor, skipReporter, summary, touchIfAsked, type Target } from './label.js';

/**
 * The visible-label library (canvas, sharp, fonts, the PDF, Word, audio and video paths),
 * loaded when a file needs it: a batch of JPEGs labels in the pool's threads, and the main
 * thread then never loads it (issue 14).
 */
const explicit = (): Promise<typeof Explicit> => import('../label/explicit/index.js');
// Text and subtitles take only their own small modules: the library's index loads the image,
// video, PDF and Word code (sharp among them), about 0.3 s a command for a one-line answer.
const textNotices = (): Promise<typeof TextNotices> => import('../label/explicit/text.js');
const subtitleNotices = (): Promise<typeof SubtitleNotices> => import('../label/explicit/subtitle.js');
// An image labelled in this thread (one file, or no thread to spare) takes the image module
// alone: a plain JPEG on the DCT-splice path then never loads sharp, nor the PDF, Word, audio
// and video code.
const imageNotices = (): Promise<typeof ImageNotices> => import('../label/explicit/image.js');

interface VisibleFlags {
  position?: string;
  speech?: string;
  text?: string;
  lang: string;
  plate: string;
  font?: string;
  quality?: string;
  splice?: boolean;
  reencode?: boolean;
  out?: string;
  inPlace?: boolean;
}

const TEXT_POSITIONS: readonly TextPosition[] = ['start', 'end', 'middle'];

/** One `--position` for every kind: text words map onto image edges and back. */
function positionsFor(value: string | undefined): { text?: TextPosition; image?: ImagePosition } {
  if (value === undefined) return {};
  if ((TEXT_POSITIONS as readonly string[]).includes(value)) {
    const image: ImagePosition = value === 'start' ? 'top-left' : value === 'end' ? 'bottom-right' : 'bottom';
    return { text: value as TextPosition, image };
  }
  if ((IMAGE_POSITIONS as readonly string[]).includes(value)) return { text: value.startsWith('top') ? 'start' : 'end', image: value as ImagePosition };
  throw new InvalidInputError('E_LABEL_POSITION', `--position must be one of ${[...TEXT_POSITIONS, ...IMAGE_POSITIONS].join(', ')}, not ${value}`);
}

function checkedFlags(flags: VisibleFlags): { language: NoticeLanguage; plate: PlateMode; quality?: number } {
  if (flags.lang !== 'zh' && flags.lang !== 'en') throw new InvalidInputError('E_LABEL_LANGUAGE', `--lang must be zh or en, not ${flags.lang}`);
  if (!['auto', 'always', 'never'].includes(flags.plate)) throw new InvalidInputError('E_LABEL_PLATE', `--plate must be auto, always or never, not ${flags.plate}`);
  if (!flags.out === !flags.inPlace) throw new InvalidInputError('E_LABEL_NO_OUTPUT', 'give exactly one of -o/--out or --in-place');
  if (flags.splice && flags.reencode) throw new InvalidInputError('E_LABEL_JPEG_METHOD', 'give at most one of --splice and --reencode');
  const quality = flags.quality === undefined ? undefined : Number(flags.quality);
  if (quality !== undefined && !(Number.isInteger(quality) && quality >= 1 && quality <= 100)) throw new InvalidInputError('E_LABEL_QUALITY', `--quality must be an integer from 1 to 100, not ${flags.quality}`);
  return { language: flags.lang, plate: flags.plate as PlateMode, ...(quality !== undefined ? { quality } : {}) };
}

/**
 * Writes the implicit label into labelled text. Markdown without front matter is Markdown by
 * our detection only, so its codec is named rather than detected; plain text has no place.
 */
async function embedInText(text: Uint8Array, format: TextFormat | 'srt' | 'vtt', implicit: EmbedRequest): Promise<Uint8Array> {
  if (format === 'plain' || format === 'srt' || format === 'vtt') {
    const what = format === 'plain' ? 'plain text' : 'a subtitle file';
    throw new InvalidInputError('E_LABEL_NO_IMPLICIT_PLACE', `${what} has no place for an implicit label; save it as Markdown or HTML, or use \`hegui label visible\` and a .aigc.json sidecar`);
  }
  const codec = codecByFormat(format) as LabelCodec;
  const forced: LabelCodec = { ...codec, detect: () => true };
  return (await embedLabel(text, implicit, { codecs: [forced] })).bytes ?? text;
}

/** What labelling one file did: a line for people, facts for `--json`. */
interface Labelled {
  format: string;
  detail: string;
  facts: Record<string, unknown>;
  /** The file written, when it was written here (otherwise the labeller wrote it). */
  written?: WrittenFile;
}

/** The image pool of a batch, started when its first image comes (undefined: label in this thread). */
type PoolFor = (() => Promise<ImageLabelPool>) | undefined;

/**
 * Files up to this size are read whole by the first read, and labelled files up to it written,
 * with synchronous calls: for a file of a few megabytes each call is a few microseconds to a
 * millisecond of kernel work, less than the thread-pool round trips of asynchronous calls
 * (issue 14: a batch of one-megapixel JPEGs). Larger files are read and written asynchronously.
 */
const WHOLE_FILE = 16 << 20;

/** A file as its first read found it: its first bytes, the whole file when it is small, and its metadata. */
interface Opened {
  head: Uint8Array;
  /** The whole file (up to `WHOLE_FILE`), in a buffer of its own: it can move to an image thread. */
  whole?: Uint8Array;
  stats: Stats;
}

/** Reads the start of the file at `path` (all of it when small). @throws NotFoundError, InvalidInputError (not a regular file) */
function openFile(path: string): Opened {
  let fd: number;
  try {
    // Without blocking: a named pipe is refused below rather than waited on.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw cannotOpen(path, error);
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new InvalidInputError('E_LABEL_NOT_A_FILE', `${path} is not a regular file`);
    if (stats.size <= WHOLE_FILE) {
      const whole = readWholeSync(fd, stats.size);
      return { head: whole.subarray(0, FORMAT_HEAD_BYTES), whole, stats };
    }
    const head = Buffer.alloc(FORMAT_HEAD_BYTES);
    return { head: head.subarray(0, readSync(fd, head, 0, FORMAT_HEAD_BYTES, 0)), stats };
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes labelled bytes over `out` atomically (temporary file, rename). In place (`read`: the
 * file as it was read), it must still be that file: one that another program wrote or replaced
 * meanwhile is left as it is (FileChangedError). Up to `WHOLE_FILE` the write is synchronous, so
 * no signal handler can run while the temporary file exists; larger ones are removed on an
 * interrupt by `writeFileAtomic`.
 *
 * @throws FileChangedError, HardLinkError, and the errors of an atomic write.
 */
export async function writeLabelled(out: string, bytes: Uint8Array, read: Stats | undefined): Promise<WrittenFile> {
  const inPlace = read !== undefined;
  if (bytes.length > WHOLE_FILE) return writeFileAtomic(out, (sink) => sink.write(bytes), { inPlace });
  const unchanged = (existing: Stats | undefined): void => {
    if (read && !(existing && existing.dev === read.dev && existing.ino === read.ino && existing.size === read.size && existing.mtimeMs === read.mtimeMs)) throw new FileChangedError(out);
  };
  return writeSmallAtomic(out, bytes, 0o644, false, inPlace, unchanged);
}

/** Text, subtitles and images: labelled in memory (images in a pool thread during a batch), then written atomically. */
async function labelInMemory(path: string, out: string, format: ExplicitFormat, flags: VisibleFlags, implicit: EmbedRequest | undefined, pool: PoolFor, opened: Opened): Promise<Omit<Labelled, 'format'>> {
  const positions = positionsFor(flags.position);
  const { language, plate, quality } = checkedFlags(flags);
  const choice = { language, ...(flags.text !== undefined ? { text: flags.text } : {}) };
  let labelled: Uint8Array;
  let detail: string;
  let facts: Record<string, unknown>;
  const source = opened.whole ?? (await readFile(path));
  let threads: ImageLabelPool | undefined;
  if (FORMAT_KIND[format] === 'image') {
    const options = { ...choice, plate, ...(positions.image ? { position: positions.image } : {}), ...(flags.font ? { fontPath: flags.font } : {}), ...(quality ? { quality } : {}), ...(flags.reencode ? { jpegMethod: 'reencode' as const } : {}), ...(implicit ? { implicit } : {}) };
    // The bytes read move to the pool's thread (they are not used here again).
    threads = pool && poolable(options) ? await pool() : undefined;
    const result = threads ? await threads.label(source, options, { transfer: opened.whole !== undefined }) : await (await imageNotices()).labelImage(source, options);
    const shortest = Math.min(result.width, result.height);
    const frames = result.frames > 1 ? `, ${result.frames} frames` : '';
    labelled = result.bytes;
    const method = result.method ? `, ${result.method}` : '';
    const previews = (result.previews ?? []).map((p) => `; ${PREVIEW_NAMES[p.kind]} ${p.action}: ${p.detail}`).join('');
    detail = `${JSON.stringify(result.notice)} at ${positions.image ?? 'bottom-right'}, text ${result.textHeightPx} px = ${percent(result.textHeightPx, shortest)} of ${shortest} px${frames}${method}${result.implicit && !implicit ? ', implicit label kept' : ''}${previews}`;
    facts = {
      notice: result.notice,
      position: positions.image ?? 'bottom-right',
      textHeightPx: result.textHeightPx,
      shortestSidePx: shortest,
      frames: result.frames,
      ...(result.method ? { method: result.method } : {}),
      ...(result.spliceFallback ? { spliceFallback: result.spliceFallback } : {}),
      ...(result.previews ? { previews: result.previews } : {}),
    };
  } else if (format === 'srt' || format === 'vtt') {
    const result = (await subtitleNotices()).labelSubtitles(new TextDecoder().decode(source), { ...choice, format, ...(positions.text ? { position: positions.text } : {}) });
    const text = new TextEncoder().encode(result.text);
    labelled = implicit ? await embedInText(text, format, implicit) : text;
    detail = `${JSON.stringify(result.notice)} at the ${result.position}, cue ${(result.startMs / 1000).toFixed(3)}-${(result.endMs / 1000).toFixed(3)} s`;
    facts = { notice: result.notice, position: result.position, cue: { startSeconds: result.startMs / 1000, endSeconds: result.endMs / 1000 } };
  } else {
    const result = (await textNotices()).labelText(new TextDecoder().decode(source), { ...choice, format: format as TextFormat, ...(positions.text ? { position: positions.text } : {}) });
    const text = new TextEncoder().encode(result.text);
    labelled = implicit ? await embedInText(text, format as TextFormat, implicit) : text;
    detail = `${JSON.stringify(result.notice)} at the ${result.position}`;
    facts = { notice: result.notice, position: result.position };
  }
  const written = await writeLabelled(out, labelled, out === path ? opened.stats : undefined);
  // Written: the buffer goes back to the pool for a later result.
  threads?.release(labelled);
  return { detail, facts, written };
}

/** How a JPEG's other pictures are named in the line for people. */
const PREVIEW_NAMES = {
  'exif-thumbnail': 'EXIF thumbnail',
  exif: 'EXIF segment',
  'jfif-thumbnail': 'JFIF thumbnail',
  'embedded-jpeg': 'embedded picture',
  'mpf-images': 'MPF pictures',
  'trailing-data': 'data after the picture',
  'xmp-thumbnail': 'XMP thumbnail',
  'xmp-picture': 'picture in the XMP',
  'xmp-extended': 'extended XMP',
  'motion-photo': 'motion photo video',
  'xmp-directory': 'XMP container directory',
} as const;

const percent = (part: number, whole: number): string => `${((part / whole) * 100).toFixed(2)}%`;

/** Audio and video: through ffmpeg, file to file (the labellers write atomically themselves). */
async function labelMedia(path: string, out: string, format: ExplicitFormat, flags: VisibleFlags, implicit: EmbedRequest | undefined): Promise<Omit<Labelled, 'format'>> {
  const target = out === path ? { inPlace: true } : { out };
  const positions = positionsFor(flags.position);
  const head = openFile(path).head;
  const video = FORMAT_KIND[format] === 'video' || format === 'ogg' ? await ((await explicit()).videoChecker.accepts?.({ format, source: bufferSource(head), path }, {}) ?? true) : false;
  if (video) {
    const { language, plate } = checkedFlags(flags);
    const also = positions.text === 'middle' || positions.text === 'end' ? [positions.text] : [];
    const image = flags.position !== undefined && !TEXT_POSITIONS.includes(flags.position as TextPosition) ? { position: positions.image } : {};
    const result = await (await explicit()).labelVideoFile(path, { ...target, language, plate, also, ...image, ...(flags.text !== undefined ? { text: flags.text } : {}), ...(flags.font ? { fontPath: flags.font } : {}), ...(implicit ? { implicit } : {}) });
    const shortest = Math.min(result.width, result.height);
    const windows = result.windows.map((w) => `${w.position} ${w.start.toFixed(1)}-${w.end.toFixed(1)} s`).join(', ');
    return {
      detail: `${JSON.stringify(result.notice)} ${windows}, text ${result.textHeightPx} px = ${percent(result.textHeightPx, shortest)} of ${shortest} px${result.warnings.length > 0 ? `; ${result.warnings.join('; ')}` : ''}`,
      facts: { kind: 'video', notice: result.notice, windows: result.windows, textHeightPx: result.textHeightPx, shortestSidePx: shortest, warnings: result.warnings },
    };
  }
  const speech = flags.speech === undefined ? undefined : await readFile(flags.speech);
  const result = await (await explicit()).labelAudioFile(path, { ...target, positions: [positions.text ?? 'start'], ...(speech ? { notice: 'speech' as const, speech } : {}), ...(implicit ? { implicit } : {}) });
  const placed = result.placements.map((p) => `${p.position} at ${p.outputSeconds.toFixed(2)} s (${p.seconds.toFixed(2)} s, ${p.noticeDb.toFixed(1)} dBFS)`).join(', ');
  return {
    detail: `${speech ? 'spoken notice' : 'rhythm short-long-short-short'} ${placed}`,
    facts: { kind: 'audio', notice: speech ? 'speech' : 'rhythm', placements: result.placements.map((p) => ({ position: p.position, atSeconds: p.outputSeconds, seconds: p.seconds, dbfs: p.noticeDb })) },
  };
}

/** A PDF: the notice drawn on the first page as an incremental update, then (for `all`) the implicit label after it. */
async function labelPdfFile(path: string, out: string, flags: VisibleFlags, implicit: EmbedRequest | undefined): Promise<Labelled> {
  const positions = positionsFor(flags.position);
  const { language } = checkedFlags(flags);
  const result = await (await explicit()).labelPdf(await readFile(path), { language, ...(flags.text !== undefined ? { text: flags.text } : {}), ...(positions.image ? { position: positions.image } : {}), ...(flags.font ? { fontPath: flags.font } : {}) });
  const labelled = implicit ? ((await embedLabel(result.bytes, implicit)).bytes ?? result.bytes) : result.bytes;
  await writeFileAtomic(out, (sink) => sink.write(labelled), { inPlace: out === path });
  const shortest = Math.min(result.page.width, result.page.height);
  const where = positions.image ?? 'top-left';
  return {
    format: 'pdf',
    detail: `${JSON.stringify(result.notice)} on page 1 at ${where}, text ${result.textHeightPt.toFixed(1)} pt = ${percent(result.textHeightPt, shortest)} of ${shortest.toFixed(0)} pt`,
    facts: { kind: 'document', notice: result.notice, page: 1, position: where, textHeightPt: result.textHeightPt, shortestSidePt: shortest },
  };
}

/** A Word document: the notice as a paragraph at the start or the end, then (for `all`) the implicit label. */
async function labelDocxFile(path: string, out: string, flags: VisibleFlags, implicit: EmbedRequest | undefined): Promise<Labelled> {
  const positions = positionsFor(flags.position);
  const { language } = checkedFlags(flags);
  const position = positions.text === 'end' ? 'end' : 'start';
  if (positions.text === 'middle') throw new InvalidInputError('E_LABEL_POSITION', 'a Word document takes the notice at the start or the end');
  const result = await (await explicit()).labelDocx(await readFile(path), { language, position, ...(flags.text !== undefined ? { text: flags.text } : {}) });
  const labelled = implicit ? ((await embedLabel(result.bytes, implicit)).bytes ?? result.bytes) : result.bytes;
  await writeFileAtomic(out, (sink) => sink.write(labelled), { inPlace: out === path });
  return {
    format: 'docx',
    detail: `${JSON.stringify(result.notice)} at the ${result.position} (paragraph in ${result.part})`,
    facts: { kind: 'document', notice: result.notice, position: result.position, part: result.part },
  };
}

/**
 * Audio, video, PDF and Word files are labelled one at a time even while a batch's images go
 * through the pool several at once: ffmpeg uses every core by itself, and a document may be large.
 */
let heavy: Promise<unknown> = Promise.resolve();
function oneAtATime<T>(work: () => Promise<T>): Promise<T> {
  const run = heavy.then(work);
  heavy = run.catch(() => undefined);
  return run;
}

/** Labels one file into `out` (which may be `path`); the file's name may refuse a text type (`.js`, `.json`). */
async function labelOne(path: string, out: string, flags: VisibleFlags, implicit: EmbedRequest | undefined, pool: PoolFor): Promise<Labelled> {
  const opened = openFile(path);
  const document = documentFormat(opened.head);
  if (document === 'pdf') return oneAtATime(() => labelPdfFile(path, out, flags, implicit));
  if (document === 'ooxml') return oneAtATime(() => labelDocxFile(path, out, flags, implicit));
  const format = requireExplicitFormat(opened.head, opened.stats.size <= FORMAT_HEAD_BYTES, path);
  const kind = FORMAT_KIND[format];
  if (kind !== 'text' && kind !== 'image') {
    const done = await oneAtATime(() => labelMedia(path, out, format, flags, implicit));
    return { format, detail: done.detail, facts: { kind, ...done.facts } };
  }
  const done = await labelInMemory(path, out, format, flags, implicit, pool, opened);
  return { format, detail: done.detail, facts: { kind, ...done.facts }, ...(done.written ? { written: done.written } : {}) };
}

function registerApply(label: Command, io: CliIo, name: 'visible' | 'all'): void {
  const command = label
    .command(name)
    .description(name === 'visible' ? 'add a perceivable AI notice to text, subtitle, image, PDF, Word, audio and video files (GB 45438 §5)' : 'add the perceivable notice and the implicit label in one pass (files offered for download)')
    .argument('<files...>', 'files or folders (walked recursively)')
    .option('--position <where>', `start|end|middle (text, audio; video: middle/end add a notice there), or ${IMAGE_POSITIONS.join('|')} (images, video); each maps onto the other`)
    .option('--text <wording>', 'notice wording; must have an AI element (人工智能/AI) and a generation element (生成/合成)')
    .option('--lang <zh|en>', 'language of the default wording', 'zh')
    .option('--plate <mode>', 'images: plate behind the text: auto, always or never', 'auto')
    .option('--font <file>', 'images: OpenType/TrueType font instead of the bundled Noto Sans Hans')
    .option('--quality <1-100>', 'images: JPEG/WebP quality instead of the source estimate (a JPEG is then re-encoded)')
    .option('--splice', 'images: on a baseline or progressive JPEG change only the DCT blocks under the notice, every other block keeping its coefficients (the default; falls back to re-encoding where the file does not allow it)')
    .option('--reencode', 'images: decode and re-encode a JPEG whole instead of changing only the blocks under the notice')
    .option('--speech <file.wav>', "audio: the provider's spoken notice instead of the rhythm short-long-short-short")
    .option('-o, --out <path>', 'output file (one input) or folder (several)')
    .option('--in-place', 'replace the input files')
    .option('--touch', 'set the modification time of files written in place to now (by default in-place writes keep their times, as exiftool -P does)')
    .option('--json', 'one JSON object per line: {file, status, output, format, kind, notice, ...} or {file, status, error}');
  if (name === 'all') {
    command
      .requiredOption('--producer <code>', '27-character provider code of the producing service')
      .requiredOption('--id <id>', 'ProduceID; {name} and {n} are replaced per file')
      .option('--label <value>', '1 AI-generated, 2 possibly, 3 suspected', '1')
      .option('--key <key.pem>', 'sign ReservedCode1/2 with this Ed25519 or SM2 private key');
  }
  command.action(async (files: string[], flags: VisibleFlags & { json?: boolean; touch?: boolean; producer?: string; id?: string; label?: string; key?: string }, cmd: Command) => {
    checkedFlags(flags);
    positionsFor(flags.position);
    if (flags.label !== undefined && !['1', '2', '3'].includes(flags.label)) throw new InvalidInputError('E_LABEL_VALUE', `--label must be 1, 2 or 3, not ${flags.label}`);
    const key = await loadSigningKey(io, flags.key);
    const json = flags.json === true;
    const many = files.length > 1 || (await stat(resolve(io.cwd, files[0] ?? '')).then((s) => s.isDirectory(), () => false));
    let n = 0;
    // A batch labels its images in a pool of threads (`batchImageThreads`), opened when the
    // first image comes; the command line may have started its threads already (main.ts).
    let images: Promise<ImageLabelPool> | undefined;
    const threads = batchImageThreads();
    // Progressive JPEGs take one thread per core: their decode is as costly as their labelling.
    const pool: PoolFor = many && threads > 0 ? () => (images ??= openImageLabelPool(threads, { walkScans: true, progressiveThreads: availableParallelism() - threads })) : undefined;
    // Output folders made so far: one mkdir per folder, not per file.
    const folders = new Set<string>();
    try {
      const outcome = await batch(
        io,
        cmd,
        files,
        async (target: Target) => {
          const implicit: EmbedRequest | undefined =
            name === 'all' ? { label: (flags.label ?? '1') as LabelValue, producer: flags.producer ?? '', produceId: expandId(flags.id ?? '', target, ++n), ...(key ? { key } : {}) } : undefined;
          const out = outputFor(io, target, flags.out, many) ?? target.path;
          const folder = dirname(out);
          if (!folders.has(folder)) {
            mkdirSync(folder, { recursive: true });
            folders.add(folder);
          }
          const resolved = { ...flags, ...(flags.font ? { font: resolve(io.cwd, flags.font) } : {}), ...(flags.speech ? { speech: resolve(io.cwd, flags.speech) } : {}) };
          const result = await labelOne(target.path, out, resolved, implicit, pool);
          // A symbolic link at `out` was followed: the report names the file written.
          const via = result.written ? result.written.via && (relative(io.cwd, result.written.path) || result.written.path) : await followedLink(io, out);
          await touchIfAsked(flags.touch, out);
          const output = relative(io.cwd, out) || out;
          return () => {
            if (json) {
              const record = { file: target.display, status: 'ok', output, format: result.format, ...result.facts, ...(implicit ? { implicit: { produceId: implicit.produceId } } : {}), ...(via ? { symlinkTarget: via } : {}) };
              io.stdout.write(`${JSON.stringify(record)}\n`);
              return;
            }
            const where = out === target.path ? '' : ` -> ${output}`;
            io.stdout.write(`ok    ${target.display}${where}  ${result.format}  ${result.detail}${implicit ? ` + implicit label ${implicit.produceId}` : ''}${via ? `  (symlink followed: wrote ${via})` : ''}\n`);
          };
        },
        (target, error) => {
          if (json) io.stdout.write(`${JSON.stringify({ file: target.display, status: 'failed', error: errorRecord(error) })}\n`);
          else io.stdout.write(`FAIL  ${target.display}  ${errorText(error)}\n`);
        },
        skipReporter(io, json),
        // A few images queued per thread beyond the one it labels: a thread never waits while this one writes.
        { concurrency: pool ? threads * 4 : 1 },
      );
      summary(io, outcome, 'labelled');
    } finally {
      if (images) await images.then((started) => started.close(), () => undefined);
    }
  });
}

/** The JSON record `hegui label check --json` prints per file. */
export interface CheckRecord extends Partial<ExplicitCheckReport> {
  file: string;
  error?: { code: string; message: string };
}

function printReport(io: CliIo, file: string, report: ExplicitCheckReport, json: boolean): void {
  if (json) {
    io.stdout.write(`${JSON.stringify({ file, ...report } satisfies CheckRecord)}\n`);
    return;
  }
  const verdict = report.status === 'passed' ? 'PASS' : report.status === 'failed' ? 'FAIL' : 'UNVERIFIED';
  io.stdout.write(`${verdict}  ${file}  ${report.kind}/${report.format}\n`);
  for (const rule of report.rules) io.stdout.write(`      ${rule.status.padEnd(14)} ${rule.rule.padEnd(16)} ${rule.message}\n`);
}

function registerCheck(label: Command, io: CliIo): void {
  label
    .command('check')
    .description('measure the visible AI notice of files against GB 45438 §5 (any source), rule by rule')
    .argument('<files...>', 'files or folders (walked recursively)')
    .option('--json', 'one JSON object per line: {file, kind, format, status, passed, rules, notices}')
    .option('--no-ocr', 'do not run tesseract (image and video wording rules, and so those files, are then unverified)')
    .option('--tesseract <path>', 'tesseract executable', 'tesseract')
    .action(async (files: string[], flags: { json?: boolean; ocr: boolean; tesseract: string }, cmd: Command) => {
      let unverified = 0;
      const outcome = await batch(io, cmd, files, async (target) => {
        const report = await (await explicit()).checkExplicitLabelFile(target.path, { ocr: flags.ocr, tools: { tesseract: flags.tesseract } });
        printReport(io, target.display, report, flags.json === true);
        if (report.status === 'unverified') {
          unverified++;
          throw new HeguiError('E_LABEL_CHECK_FAILED', 'a rule of GB 45438 §5 could not be measured, so the notice is not verified');
        }
        if (report.status !== 'passed') throw new HeguiError('E_LABEL_CHECK_FAILED', 'the notice does not meet GB 45438 §5');
      }, (target, error) => {
        if (error instanceof HeguiError && error.code === 'E_LABEL_CHECK_FAILED') return;
        const code = error instanceof HeguiError ? error.code : 'E_UNEXPECTED';
        if (flags.json) io.stdout.write(`${JSON.stringify({ file: target.display, error: { code, message: error.message } } satisfies CheckRecord)}\n`);
        else io.stdout.write(`FAIL  ${target.display}  ${errorText(error)}\n`);
      }, skipReporter(io, flags.json === true));
      summary(io, outcome, 'passed');
      // An unverified file is not a pass (the exit status says so); say why it is counted with the failures.
      if (unverified > 0) io.stderr.write(`${unverified} file${unverified > 1 ? 's' : ''} unverified: a rule could not be measured (see the rules marked unverified)\n`);
    });
}

/** Adds `visible`, `all` and `check` to the `label` command (registered before this). */
export function registerLabelVisible(program: Command, io: CliIo): void {
  const label = program.commands.find((command) => command.name() === 'label') ?? program.command('label');
  registerApply(label, io, 'visible');
  registerApply(label, io, 'all');
  registerCheck(label, io);
}
