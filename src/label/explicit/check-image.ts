/**
 * @module label/explicit/check-image
 * The image checker (GB 45438 §5.2). It finds the notice from the pixels (`check-image-detect.ts`),
 * reads it with OCR where tesseract is installed (`check-ocr.ts`), and reports per rule:
 * - `image.position`: a text line at an edge or corner;
 * - `image.height`: its glyph box height over the shortest side, at least 5%;
 * - `image.contrast`: text against its immediate surround (WCAG 2 contrast), at least 3:1, the
 *   WCAG level for large text (§5.2 asks for a notice a person can perceive, with no figure);
 * - `image.wording`: OCR reads a statement that the content is AI-generated (`noticeStatement`:
 *   negations and passing mentions refused; `unverified`, and so the file, without tesseract,
 *   when OCR fails, or when the text is too small for OCR to read);
 * - `image.frames`: every frame of an animation carries the notice;
 * - `image.previews` (JPEG with an EXIF thumbnail, pictures in its XMP or pictures after its end;
 *   PNG or WebP with pictures in its XMP; only then): the EXIF thumbnail and every picture in the XMP (`xmp:Thumbnails`, `GImage:Data`)
 *   is compared with the picture scaled to its size on a 16x16 grid; `pass` when every cell is
 *   close (it shows what the picture shows, notice included), `fail` when one is the picture
 *   (median cell close) but a cell differs (a copy made before the notice: viewers that show it
 *   show no notice), `unverified` when one is not a scaled copy at all, or when MPF pictures, a
 *   motion photo's video or other bytes follow the picture, or an XMP packet cannot be read
 *   (not checked).
 */
import sharp from 'sharp';
import { heifCompression, ImageDecodeError, MAX_IMAGE_PIXELS } from './image-codec.js';
import { openHeic } from './image-heic.js';
import { findEdgeTextLines, positionOf, type LumaFrame, type TextLine } from './check-image-detect.js';
import { OCR_MIN_CONFIDENCE, readCrops } from './check-ocr.js';
import { verdict, type CheckOptions, type CheckSubject, type ExplicitCheckReport, type MediaChecker, type RuleResult } from './check-types.js';
import { contrastRatio, relativeLuminance, type PixelBox } from './image-style.js';
import { MIN_HEIGHT_RATIO } from './image-render.js';
import { noticeStatement } from './wording.js';
import { jpegPreviews, xmpPreviews } from './jpeg-previews.js';

const CLAUSE = 'GB 45438 §5.2';
/** WCAG 2 AA contrast for large text. */
export const MIN_CONTRAST = 3;
/** Below this text height (px) OCR cannot read reliably, even enlarged: the wording stays unverified. */
const OCR_MIN_PX = 6;

interface DecodedImage {
  /** The file as read (a HEIC: the PNG libheif decodes it to). */
  bytes: Uint8Array;
  rgb: Buffer;
  width: number;
  frameHeight: number;
  frames: number;
}

async function decode(subject: CheckSubject): Promise<DecodedImage> {
  let bytes = await subject.source.read(0, subject.source.size);
  // A HEIC is read as the PNG libheif decodes it to (image-heic.ts); its transforms applied.
  if (subject.format === 'heif' && (await heifCompression(bytes)) === 'hevc') bytes = (await openHeic(bytes)).png;
  try {
    const probe = await sharp(bytes, { animated: true, limitInputPixels: MAX_IMAGE_PIXELS }).metadata();
    const frames = probe.pages ?? 1;
    const base = sharp(bytes, { animated: frames > 1, limitInputPixels: MAX_IMAGE_PIXELS, failOn: 'error' });
    const upright = frames > 1 ? base : base.autoOrient();
    const { data, info } = await upright.flatten({ background: '#ffffff' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    return { bytes, rgb: data, width: info.width, frameHeight: frames > 1 ? (probe.pageHeight ?? info.height) : info.height, frames };
  } catch (error) {
    throw new ImageDecodeError(subject.format, (error as Error).message, { cause: error });
  }
}

function lumaFrame(image: DecodedImage, frame: number): LumaFrame {
  const size = image.width * image.frameHeight;
  const luma = new Uint8Array(size);
  const offset = frame * size * 3;
  for (let i = 0; i < size; i++) {
    const at = offset + i * 3;
    luma[i] = Math.round(0.2126 * (image.rgb[at] ?? 0) + 0.7152 * (image.rgb[at + 1] ?? 0) + 0.0722 * (image.rgb[at + 2] ?? 0));
  }
  return { width: image.width, height: image.frameHeight, luma };
}

function luminanceAt(image: DecodedImage, frame: number, index: number): number {
  const at = (frame * image.width * image.frameHeight + index) * 3;
  return relativeLuminance(image.rgb[at] ?? 0, image.rgb[at + 1] ?? 0, image.rgb[at + 2] ?? 0);
}

function percentile(values: number[], q: number): number {
  values.sort((a, b) => a - b);
  return values[Math.min(values.length - 1, Math.floor(values.length * q))] ?? 0;
}

/**
 * WCAG contrast of the glyphs against the ring of pixels just around them (outline, plate or
 * background). The text colour is taken from the stroke cores (the darkest or lightest fifth
 * of the ink), since anti-aliased stroke edges are a blend with the surround.
 */
function lineContrast(image: DecodedImage, frame: number, line: TextLine): { text: number; surround: number; ratio: number } {
  const width = image.width;
  const ink = new Set(line.ink);
  const reach = Math.max(1, Math.round(line.box.height * 0.08));
  const ring = new Set<number>();
  for (const at of line.ink) {
    const x = at % width;
    const y = (at - x) / width;
    for (let dy = -reach; dy <= reach; dy++) {
      for (let dx = -reach; dx <= reach; dx++) {
        const nx = x + dx;
        const ny = y + dy;
        if (nx < 0 || ny < 0 || nx >= width || ny >= image.frameHeight) continue;
        const next = ny * width + nx;
        if (!ink.has(next)) ring.add(next);
      }
    }
  }
  const text = percentile([...line.ink].map((at) => luminanceAt(image, frame, at)), line.polarity === 'dark' ? 0.2 : 0.8);
  const surround = percentile([...ring].map((at) => luminanceAt(image, frame, at)), 0.5);
  return { text, surround, ratio: contrastRatio(text, surround) };
}

/** A crop of the line, enlarged so its text is ~48 px tall, dark on light for OCR. */
async function ocrCrop(image: DecodedImage, line: TextLine, widen = 0): Promise<Buffer> {
  const { left, top, width, height, scale } = cropBox(image, line, widen);
  let crop = sharp(image.rgb, { raw: { width: image.width, height: image.frameHeight * image.frames, channels: 3 } })
    .extract({ left, top, width, height })
    .greyscale()
    .resize({ width: Math.round(width * scale), height: Math.round(height * scale), kernel: 'lanczos3' });
  if (line.polarity === 'light') crop = crop.negate();
  return crop.png().toBuffer();
}

/** The crop around a line: padded by 0.4 of its height, and `widen` heights more to each side. */
function cropBox(image: DecodedImage, line: TextLine, widen = 0): { left: number; top: number; width: number; height: number; scale: number } {
  const pad = Math.ceil(line.box.height * 0.4);
  const side = pad + Math.ceil(line.box.height * widen);
  const left = Math.max(0, line.box.left - side);
  const top = Math.max(0, line.box.top - pad);
  return {
    left,
    top,
    width: Math.min(image.width - left, line.box.left - left + line.box.width + side),
    height: Math.min(image.frameHeight - top, line.box.height + pad * 2),
    scale: Math.min(8, Math.max(1, 48 / line.box.height)),
  };
}

/**
 * The line's glyphs alone, black on white: what the detector took for ink, with the picture,
 * outline and plate around it left out. Tesseract misreads outlined text over a busy picture
 * (the way ImageMagick `-stroke` and ffmpeg `drawtext borderw` draw it) but reads the glyph
 * shapes without trouble.
 */
async function inkCrop(image: DecodedImage, line: TextLine): Promise<Buffer> {
  const { left, top, width, height, scale } = cropBox(image, line);
  const mask = Buffer.alloc(width * height, 255);
  for (const at of line.ink) {
    const x = (at % image.width) - left;
    const y = Math.floor(at / image.width) - top;
    if (x >= 0 && y >= 0 && x < width && y < height) mask[y * width + x] = 0;
  }
  return sharp(mask, { raw: { width, height, channels: 1 } })
    .resize({ width: Math.round(width * scale), height: Math.round(height * scale), kernel: 'lanczos3' })
    .png()
    .toBuffer();
}

/**
 * The line joined with its neighbours on the same row: a hyphen or a wide gap ("AI - generated")
 * can split one notice into several detected lines, and OCR must read it whole.
 */
function joinRow(line: TextLine, lines: readonly TextLine[]): TextLine {
  let joined = line;
  for (let grown = true; grown; ) {
    grown = false;
    for (const other of lines) {
      if (other === joined || other.polarity !== joined.polarity) continue;
      const a = joined.box;
      const b = other.box;
      const shared = Math.min(a.top + a.height, b.top + b.height) - Math.max(a.top, b.top);
      const gap = Math.max(b.left - (a.left + a.width), a.left - (b.left + b.width));
      const inside = b.left >= a.left && b.left + b.width <= a.left + a.width;
      if (inside || shared < 0.5 * Math.min(a.height, b.height) || gap > 1.5 * Math.max(a.height, b.height)) continue;
      const leftEdge = Math.min(a.left, b.left);
      const topEdge = Math.min(a.top, b.top);
      const box = { left: leftEdge, top: topEdge, width: Math.max(a.left + a.width, b.left + b.width) - leftEdge, height: Math.max(a.top + a.height, b.top + b.height) - topEdge };
      const ink = new Uint32Array(joined.ink.length + other.ink.length);
      ink.set(joined.ink);
      ink.set(other.ink, joined.ink.length);
      joined = { ...joined, box, glyphs: joined.glyphs + other.glyphs, ink, edgeDistance: Math.min(joined.edgeDistance, other.edgeDistance) };
      grown = true;
    }
  }
  return joined;
}

const overlaps = (a: PixelBox, b: PixelBox): boolean =>
  a.left < b.left + b.width && b.left < a.left + a.width && a.top < b.top + b.height && b.top < a.top + a.height;

function rule(name: string, status: RuleResult['status'], message: string, measured: RuleResult['measured'], required: RuleResult['required']): RuleResult {
  return { rule: `image.${name}`, clause: CLAUSE, status, message, measured, required };
}

/** Line heights the wide OCR view adds to each side of a line. */
const WIDER = 3;

/** How many candidate lines (most glyphs first) are weighed by contrast. */
const RANKED = 40;

/**
 * Orders candidate lines for choosing the notice: lines legible against their surround
 * (contrast >= MIN_CONTRAST) first, the most glyphs first among them. Texture in a busy
 * picture makes many weak lines; a notice meant to be read stands out.
 */
function rank(image: DecodedImage, lines: TextLine[]): TextLine[] {
  const weighed = lines.slice(0, RANKED).map((line) => ({ line, legible: lineContrast(image, 0, line).ratio >= MIN_CONTRAST }));
  return weighed.sort((a, b) => Number(b.legible) - Number(a.legible) || b.line.glyphs - a.line.glyphs).map((w) => w.line);
}

/** Picks the notice among the candidate lines: the first OCR reads as a notice, else the best placed. */
async function chooseNotice(image: DecodedImage, candidates: TextLine[], options: CheckOptions): Promise<{ line: TextLine | undefined; wording: RuleResult }> {
  const readable = candidates.slice(0, 4).map((line) => joinRow(line, candidates));
  // Two crops per line: the picture as it is, and the detected glyphs alone.
  // Three crops per line: the picture as it is, the detected glyphs alone, and a wider view
  // (a notice on a tight plate can lose its first glyphs to the plate's edge in detection).
  const views = [(line: TextLine) => ocrCrop(image, line), (line: TextLine) => inkCrop(image, line), (line: TextLine) => ocrCrop(image, line, WIDER)];
  const crops = await Promise.all(readable.flatMap((line) => views.map((view) => view(line))));
  const outcome = await readCrops(crops, options);
  const per = views.length;
  const ocr = outcome.available
    ? {
        ...outcome,
        texts: readable.map((_, i) => outcome.texts.slice(per * i, per * i + per).filter(Boolean).join(' | ')),
        confidences: readable.map((_, i) => Math.max(0, ...outcome.confidences.slice(per * i, per * i + per))),
      }
    : outcome;
  if (!ocr.available) {
    return { line: candidates[0], wording: rule('wording', 'unverified', `wording not read: ${ocr.reason}`, { ocr: false }, { aiElement: true, generationElement: true }) };
  }
  const match = ocr.texts.findIndex((text) => noticeStatement(text).kind === 'statement');
  if (match >= 0) {
    const text = ocr.texts[match] ?? '';
    return { line: readable[match], wording: rule('wording', 'pass', `OCR read ${JSON.stringify(text)}: it states that the content is AI-generated`, { ocr: true, text }, { aiElement: true, generationElement: true }) };
  }
  const line = candidates[0];
  const read = ocr.texts.filter(Boolean).join(' | ');
  const sure = Math.max(0, ...ocr.confidences);
  const negated = ocr.texts.find((text) => noticeStatement(text).kind === 'negated');
  if (negated !== undefined) {
    return { line, wording: rule('wording', 'fail', `OCR read ${JSON.stringify(negated)}: it denies that the content is AI-generated, which is no notice`, { ocr: true, text: read, negated: true }, { aiElement: true, generationElement: true }) };
  }
  if (line && sure < OCR_MIN_CONFIDENCE) {
    return { line, wording: rule('wording', 'unverified', `OCR could not read the text with confidence (best word ${sure.toFixed(0)}%, at least ${OCR_MIN_CONFIDENCE}% to count${read ? `; read ${JSON.stringify(read)}` : ''})`, { ocr: true, text: read, confidence: Math.round(sure) }, { aiElement: true, generationElement: true }) };
  }
  if (line && line.box.height < OCR_MIN_PX) {
    return { line, wording: rule('wording', 'unverified', `the text is ${line.box.height} px tall, too small for OCR to read reliably`, { ocr: true, text: read, heightPx: line.box.height }, { aiElement: true, generationElement: true }) };
  }
  return { line, wording: rule('wording', 'fail', read ? `OCR read ${JSON.stringify(read)}, with no notice wording ("AI生成", "人工智能生成", "AI-generated")` : 'OCR read no text at the edges', { ocr: true, text: read }, { aiElement: true, generationElement: true }) };
}

/** Grid of the thumbnail comparison, per side. */
const PREVIEW_GRID = 16;
/** Mean absolute difference (0-255, per channel) of a cell within which a thumbnail counts as showing the picture. */
const PREVIEW_CELL_CLOSE = 8;
/** Above this in one cell, with the rest close, the thumbnail lacks something the picture shows. */
const PREVIEW_CELL_APART = 24;

/** Per-cell mean absolute differences of two RGB pictures of the same size. */
function cellDifferences(a: Buffer, b: Buffer, width: number, height: number): number[] {
  const sums = new Float64Array(PREVIEW_GRID * PREVIEW_GRID);
  const counts = new Float64Array(PREVIEW_GRID * PREVIEW_GRID);
  for (let y = 0; y < height; y++) {
    const row = Math.floor((y * PREVIEW_GRID) / height) * PREVIEW_GRID;
    for (let x = 0; x < width; x++) {
      const cell = row + Math.floor((x * PREVIEW_GRID) / width);
      const at = (y * width + x) * 3;
      sums[cell] = (sums[cell] ?? 0) + Math.abs((a[at] ?? 0) - (b[at] ?? 0)) + Math.abs((a[at + 1] ?? 0) - (b[at + 1] ?? 0)) + Math.abs((a[at + 2] ?? 0) - (b[at + 2] ?? 0));
      counts[cell] = (counts[cell] ?? 0) + 3;
    }
  }
  return Array.from(sums, (sum, i) => sum / Math.max(1, counts[i] ?? 0));
}

/** Longest side a picture from the XMP is compared at (a `GImage:Data` is the full picture). */
const PREVIEW_COMPARE_SIDE = 256;

/** How one embedded picture (`name`, e.g. `the EXIF thumbnail`) compares with the picture. */
interface PreviewComparison {
  status: RuleResult['status'];
  /** What was found, without the notes on what was not checked. */
  text: string;
  median?: number;
  worst?: number;
}

async function comparePreview(name: string, preview: Uint8Array, picture: Uint8Array): Promise<PreviewComparison> {
  let cells: number[];
  try {
    const meta = await sharp(preview).metadata();
    const large = Math.max(meta.width ?? 0, meta.height ?? 0) > PREVIEW_COMPARE_SIDE;
    const small = large ? sharp(preview).resize(PREVIEW_COMPARE_SIDE, PREVIEW_COMPARE_SIDE, { fit: 'inside' }) : sharp(preview);
    const { data, info } = await small.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    const reference = await sharp(picture).resize(info.width, info.height, { fit: 'contain', background: '#000000' }).removeAlpha().toColourspace('srgb').raw().toBuffer();
    cells = cellDifferences(data, reference, info.width, info.height);
  } catch {
    return { status: 'unverified', text: `${name} could not be decoded` };
  }
  const sorted = [...cells].sort((x, y) => x - y);
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
  const worst = sorted[sorted.length - 1] ?? 0;
  const figures = { median, worst };
  if (median > PREVIEW_CELL_CLOSE) return { status: 'unverified', text: `${name} is not a scaled copy of the picture (median cell difference ${median.toFixed(1)}): whether it shows the notice was not measured`, ...figures };
  if (worst > PREVIEW_CELL_APART) return { status: 'fail', text: `${name} differs from the picture in one place (cell difference ${worst.toFixed(1)}, at most ${PREVIEW_CELL_APART}): a copy made before the notice, which viewers showing ${name.includes('XMP') ? 'it' : 'thumbnails'} show without it`, ...figures };
  return { status: 'pass', text: `${name} shows the picture as it is`, ...figures };
}

/**
 * `image.previews` for a JPEG that carries an EXIF thumbnail, pictures in its XMP
 * (`xmp:Thumbnails`, `GImage:Data`), XMP that cannot be read, or pictures or a motion photo's
 * video after its end; undefined otherwise. Every picture is compared with the picture; the
 * rule fails when one fails, and is `unverified` when one is not a scaled copy or cannot be
 * decoded, or when something was not checked (bytes after the picture, unreadable XMP).
 */
async function previewRule(bytes: Uint8Array, format: CheckSubject['format']): Promise<RuleResult | undefined> {
  const { thumbnail, trailingBytes, mpf, xmpPictures, motionPhoto, unreadableXmp } = format === 'jpeg' ? jpegPreviews(bytes) : await xmpPreviews(bytes);
  if (!thumbnail && xmpPictures.length === 0 && trailingBytes === 0 && unreadableXmp === 0) return undefined;
  const notes: string[] = [];
  if (trailingBytes > 0) notes.push(`${trailingBytes} bytes after the picture${mpf ? ' (MPF pictures)' : motionPhoto ? " (a motion photo's video)" : ''}, not checked`);
  if (unreadableXmp > 0) notes.push(`${unreadableXmp} XMP packet${unreadableXmp > 1 ? 's' : ''} that could not be read, not checked for pictures`);
  const after = notes.join('; ');
  const measured: RuleResult['measured'] = { exifThumbnail: Boolean(thumbnail), xmpPictures: xmpPictures.length, trailingBytes, mpf, motionPhoto, unreadableXmp };
  const required = { previewsShowNotice: true };
  const previews = [...(thumbnail ? [{ name: 'the EXIF thumbnail', bytes: thumbnail }] : []), ...xmpPictures.map((p) => ({ name: p.thumbnail ? 'the XMP thumbnail (xmp:Thumbnails)' : `the ${p.format} in the XMP property ${p.property}`, bytes: p.bytes }))];
  if (previews.length === 0) return rule('previews', 'unverified', `${after}: a viewer may show them instead of the picture`, measured, required);
  const results: PreviewComparison[] = [];
  for (const preview of previews) results.push(await comparePreview(preview.name, preview.bytes, bytes));
  const order: RuleResult['status'][] = ['fail', 'unverified', 'pass'];
  const deciding = [...results].sort((x, y) => order.indexOf(x.status) - order.indexOf(y.status) || (y.worst ?? 0) - (x.worst ?? 0))[0] as PreviewComparison;
  const figures = deciding.median !== undefined ? { ...measured, medianCellDifference: Number(deciding.median.toFixed(1)), maxCellDifference: Number((deciding.worst ?? 0).toFixed(1)) } : measured;
  const limits = deciding.median !== undefined ? { ...required, maxCellDifference: PREVIEW_CELL_APART } : required;
  const texts = results.map((r) => r.text).join('; ');
  if (deciding.status === 'fail') return rule('previews', 'fail', deciding.text, figures, limits);
  if (deciding.status === 'unverified' || after) return rule('previews', 'unverified', `${texts}${after ? `; ${after}` : ''}`, figures, limits);
  return rule('previews', 'pass', `${texts}, notice included (cell difference at most ${Math.max(...results.map((r) => r.worst ?? 0)).toFixed(1)})`, figures, limits);
}

/**
 * Measures an image's explicit notice against GB 45438 §5.2.
 *
 * @example
 * const report = await checkImage({ format: 'png', source: bufferSource(bytes) }, {});
 * report.rules.find((r) => r.rule === 'image.height')?.measured.ratio; // e.g. 0.0573
 */
export async function checkImage(subject: CheckSubject, options: CheckOptions): Promise<ExplicitCheckReport> {
  const image = await decode(subject);
  const shortest = Math.min(image.width, image.frameHeight);
  const required = { minRatio: MIN_HEIGHT_RATIO, minHeightPx: Math.ceil(shortest * MIN_HEIGHT_RATIO) };
  const candidates = rank(image, findEdgeTextLines(lumaFrame(image, 0)));
  const { line, wording } = await chooseNotice(image, candidates, options);
  if (!line) {
    const none = rule('position', 'fail', 'no text line found at an edge or corner', { candidates: 0 }, { atEdgeOrCorner: true });
    return { kind: 'image', format: subject.format, ...verdict([none, wording]), rules: [none, wording], notices: [] };
  }
  const position = positionOf(line.box, image.width, image.frameHeight);
  const ratio = line.box.height / shortest;
  const contrast = lineContrast(image, 0, line);
  const rules: RuleResult[] = [
    rule('position', position === 'inside' ? 'fail' : 'pass', `text line at ${position} (box ${line.box.width}x${line.box.height} at ${line.box.left},${line.box.top}; ${line.edgeDistance} px from the edge)`, { position, edgeDistancePx: line.edgeDistance, glyphs: line.glyphs }, { atEdgeOrCorner: true }),
    rule('height', ratio >= MIN_HEIGHT_RATIO ? 'pass' : 'fail', `text height ${line.box.height} px is ${(ratio * 100).toFixed(2)}% of the shortest side ${shortest} px (at least 5%)`, { heightPx: line.box.height, shortestSidePx: shortest, ratio: Number(ratio.toFixed(4)) }, required),
    rule('contrast', contrast.ratio >= MIN_CONTRAST ? 'pass' : 'fail', `contrast ${contrast.ratio.toFixed(2)}:1 between the text and its surround (at least ${MIN_CONTRAST}:1)`, { ratio: Number(contrast.ratio.toFixed(2)), textLuminance: Number(contrast.text.toFixed(4)), surroundLuminance: Number(contrast.surround.toFixed(4)) }, { minRatio: MIN_CONTRAST }),
    wording,
  ];
  if (image.frames > 1) {
    let carrying = 1;
    for (let frame = 1; frame < image.frames; frame++) {
      const found = findEdgeTextLines(lumaFrame(image, frame)).some((other) => overlaps(other.box, line.box) && other.box.height / shortest >= MIN_HEIGHT_RATIO);
      if (found) carrying++;
    }
    rules.push(rule('frames', carrying === image.frames ? 'pass' : 'fail', `${carrying} of ${image.frames} frames carry the notice`, { frames: image.frames, framesWithNotice: carrying }, { framesWithNotice: image.frames }));
  }
  if (subject.format === 'jpeg' || subject.format === 'png' || subject.format === 'webp') {
    const previews = await previewRule(image.bytes, subject.format);
    if (previews) rules.push(previews);
  }
  return {
    kind: 'image',
    format: subject.format,
    ...verdict(rules),
    rules,
    notices: [{ position, box: line.box, ...(wording.measured.text ? { text: String(wording.measured.text) } : {}) }],
  };
}

/** The image checker, for the checker framework. */
export const imageChecker: MediaChecker = { kind: 'image', formats: ['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif'], check: checkImage };
