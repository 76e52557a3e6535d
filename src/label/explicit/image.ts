/**
 * @module label/explicit/image
 * Explicit notices on images (GB 45438 §5.2): the notice is drawn at a corner or edge of every
 * frame of a JPEG, PNG, WebP, GIF, single-page TIFF or AVIF (animated GIF and WebP included), its text height measured
 * at 5% of the shortest side or more (see `image-render.ts` for sizing and what happens when
 * 5% cannot fit), in colours chosen from the pixels beneath (`image-style.ts`), in the bundled
 * CJK font (`font.ts`). A baseline JPEG changes only in the DCT blocks under the notice
 * (`jpeg-splice.ts`; every other block keeps its coefficients), other files are decoded and
 * re-encoded. The file keeps its encoding and metadata (`image-codec.ts`), except that a JPEG's
 * EXIF thumbnail is made again from the labelled picture and its other embedded or appended
 * pictures are removed (`jpeg-previews.ts`; pictures in the XMP of a JPEG, PNG or WebP too,
 * `xmp-previews.ts`), and its
 * implicit label (Labeling Measures Art. 5); given an `implicit` request, the implicit label is
 * written in the same pass, so a file offered for download carries both.
 */
import { embedLabel, readLabels, type EmbedRequest, type LabelOptions } from '../api.js';
import { openInput, type LabelInput } from '../api-io.js';
import { BufferSink, bufferSource } from '../implicit/bytes.js';
import { codecFor } from '../implicit/registry.js';
import type { ImplicitLabel } from '../model.js';
import { ExplicitFormatError, FORMAT_KIND, requireExplicitFormat } from './check-format.js';
import { loadNoticeFont, type NoticeFont } from './font.js';
import { apngFrames, assertTiffKeepable, heifCompression, MultipageTiffError, imageGeometry, openSurface, type ImageFormat, type ImageGeometry, type ImageSurface } from './image-codec.js';
import { openApng } from './image-apng.js';
import { openHeic, type HeifTools } from './image-heic.js';
import { planNotice, renderNotice, type NoticePlan, type RenderedNotice, type SizingOptions } from './image-render.js';
import { chooseStyle, type NoticeStyle, type PixelBox, type PlateMode } from './image-style.js';
import { hasIccProfile, jpegEncoding } from './image-jpeg.js';
import { labelledExifInPlace, labelledPreviews, labelledXmp, type PreviewChange } from './jpeg-previews.js';
import { NotSpliceable, openJpegSplice, type JpegSplice } from './jpeg-splice.js';
import { COMPACT_NOTICE, resolveNotice, type NoticeChoice } from './wording.js';

export interface ImageNoticeOptions extends NoticeChoice, SizingOptions, LabelOptions {
  /** Plate behind the text: when the background needs it (default), always, or never. */
  plate?: PlateMode;
  /** An OpenType/TrueType font file instead of the bundled Noto Sans Hans Bold. */
  fontPath?: string;
  /** Re-encode a JPEG or lossy WebP at this quality instead of the source's (a JPEG is then always re-encoded). */
  quality?: number;
  /**
   * How a JPEG gets its notice: `splice` (default) changes only the DCT blocks under the notice
   * when the file is a plain upright baseline JPEG that allows it (`jpeg-splice.ts`), so every
   * other block keeps its coefficients and the work is entropy coding around the notice (about
   * half the CPU of a whole re-encode on a one-megapixel photo), and re-encodes otherwise (the
   * result's `spliceFallback` says why); `reencode` always decodes and re-encodes the whole
   * picture (libjpeg-turbo).
   */
  jpegMethod?: 'splice' | 'reencode';
  /** Also write this implicit label (one pass, Labeling Measures Art. 5); otherwise the source's label is carried over. */
  implicit?: EmbedRequest;
  /** libheif's tools for HEIC, when not `heif-convert`, `heif-enc` and `heif-info` on PATH. */
  heifTools?: HeifTools;
}

const HEIC_QUALITY = 90;

/** What `labelImage` drew and measured. */
export interface ImageLabelResult {
  bytes: Uint8Array;
  format: ImageFormat;
  /** Displayed size of a frame. */
  width: number;
  height: number;
  frames: number;
  notice: string;
  /** The notice box (plate included) in every frame. */
  box: PixelBox;
  /** The smallest line's measured glyph height, and the 5% figure it meets. */
  textHeightPx: number;
  requiredPx: number;
  lines: string[];
  style: NoticeStyle;
  /** The quality a JPEG or lossy WebP was re-encoded at (a spliced JPEG: the quality its own tables, used for the changed blocks, correspond to). */
  quality?: number;
  /**
   * For a JPEG: `dct-splice` when only the blocks under the notice changed (every other block's
   * coefficients kept), `reencode` when the whole picture was decoded and encoded again.
   */
  method?: 'dct-splice' | 'reencode';
  /** Why a JPEG was re-encoded rather than spliced (with `method: 'reencode'`, unless `jpegMethod: 'reencode'` asked for it). */
  spliceFallback?: string;
  /**
   * The pictures besides the labelled one that were made again from it or removed, so none
   * stays without the notice (`jpeg-previews.ts`): in every format the EXIF thumbnail; in a
   * JPEG also pictures embedded in other APPn segments, MPF pictures, a motion photo's video
   * and other bytes after the end of the picture; in a JPEG, PNG or WebP, XMP thumbnails and
   * other pictures in the XMP. Absent when there were none.
   */
  previews?: PreviewChange[];
  /** The implicit label now in the file, or null when there is none. */
  implicit: ImplicitLabel | null;
}

/** Recent plans and drawings, so a batch of same-sized images lays out and draws once. */
const CACHE_SIZE = 64;
const plans = new Map<string, NoticePlan>();
const drawings = new Map<string, RenderedNotice>();

function remember<T>(cache: Map<string, T>, key: string, make: () => T): T {
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const value = make();
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  cache.set(key, value);
  return value;
}

function plan(notice: string, geometry: ImageGeometry, font: NoticeFont, options: ImageNoticeOptions): NoticePlan {
  const key = JSON.stringify([font.path, notice, geometry.width, geometry.height, options.position, options.heightRatio, options.minTextPx]);
  return remember(plans, key, () => planNotice(notice, geometry, font, options));
}

function draw(notice: NoticePlan, style: NoticeStyle, font: NoticeFont): RenderedNotice {
  const key = JSON.stringify([font.path, notice.lines, notice.fontSize, notice.box.width, notice.box.height, style]);
  return remember(drawings, key, () => renderNotice(notice, style, font));
}

/** Writes `request`, or carries over the source's own label value, into the labelled image. */
async function implicitLabel(source: Uint8Array, output: Uint8Array, options: ImageNoticeOptions): Promise<{ bytes: Uint8Array; label: ImplicitLabel | null }> {
  if (options.implicit) {
    const written = await embedLabel(output, options.implicit, options);
    return { bytes: written.bytes ?? output, label: written.label };
  }
  const report = await readLabels(source, options);
  const carried = report.found.find((entry) => entry.location === report.location && entry.label !== null);
  if (!carried) return { bytes: output, label: null };
  const target = bufferSource(output);
  const sink = new BufferSink();
  await (await codecFor(target)).write(target, carried.value, sink);
  return { bytes: sink.bytes(), label: carried.label };
}

/**
 * A baseline JPEG opened for the DCT-block splice, or why not (`reason`): the splice takes plain
 * upright Y/YCbCr JPEGs without an ICC profile (the files the re-encoding path draws on in
 * pixels; a rotated one is turned upright by re-encoding), and no quality of the caller's.
 */
function spliceFor(bytes: Uint8Array, geometry: ImageGeometry, box: PixelBox, options: ImageNoticeOptions): { open?: JpegSplice; reason?: string } {
  if (options.jpegMethod === 'reencode') return {};
  if (options.quality !== undefined) return { reason: 'a quality was given' };
  if (geometry.orientation !== 1) return { reason: `EXIF orientation ${geometry.orientation} (turned upright by re-encoding)` };
  if ((geometry.space !== 'srgb' && geometry.space !== 'b-w') || hasIccProfile(bytes)) return { reason: 'not a plain sRGB or greyscale JPEG' };
  try {
    // The splice is opened, sampled and composed with no await between (see labelImage): the
    // next file's splice can take its arrays.
    return { open: openJpegSplice(bytes, box, { reuseBuffers: true }) };
  } catch (error) {
    if (error instanceof NotSpliceable) return { reason: error.message };
    throw error;
  }
}

/**
 * Draws the explicit notice on an image and returns the new file.
 *
 * @throws ExplicitFormatError for content that is not a JPEG, PNG, WebP, GIF or TIFF image;
 *   MultipageTiffError for a TIFF of several pages; TiffMetadataError for one with EXIF the encoder would drop;
 *   ImageDecodeError for a corrupt one; ApngFormatError for an APNG whose frames cannot be drawn on unchanged (palette, interlaced); HeicStructureError, HeifToolMissingError for a HEIC; NoticeWordingError, NoticeFontError, NoticeDoesNotFitError.
 *
 * @example
 * const { bytes, textHeightPx } = await labelImage(png);                      // '本内容由…' → 'AI生成' at bottom right
 * await labelImage(jpeg, { language: 'en', position: 'top-left', implicit: { producer, produceId: 'img-7' } });
 */
export async function labelImage(input: LabelInput, options: ImageNoticeOptions = {}): Promise<ImageLabelResult> {
  const { source, dispose } = await openInput(input, options);
  let bytes: Uint8Array;
  try {
    bytes = input instanceof Uint8Array ? input : await source.read(0, source.size);
  } finally {
    await dispose();
  }
  const format = requireExplicitFormat(bytes.subarray(0, 4096), bytes.length <= 4096);
  if (FORMAT_KIND[format] !== 'image') throw new ExplicitFormatError(`the content is ${format}, not a JPEG, PNG, WebP, GIF, TIFF or AVIF image`);
  // An animated PNG is composed and drawn on frame by frame (image-apng.ts): libvips sees one frame.
  const apng = format === 'png' && apngFrames(bytes) > 1 ? openApng(bytes) : undefined;
  const notice = resolveNotice(options, COMPACT_NOTICE);
  const font = loadNoticeFont(options.fontPath);
  // A HEIC is drawn on as the PNG libheif decodes it to, and encoded back (image-heic.ts).
  const heic = format === 'heif' && (await heifCompression(bytes)) === 'hevc' ? await openHeic(bytes, options.heifTools) : undefined;
  const canvas = heic ? heic.png : bytes;
  const geometry: ImageGeometry = apng
    ? { format: 'png', width: apng.width, height: apng.height, frames: apng.frames, palette: false, orientation: 1, space: apng.space, depth: apng.space.endsWith('16') ? 'ushort' : 'uchar', alpha: apng.alpha }
    : await imageGeometry(canvas, heic ? 'png' : (format as ImageFormat));
  if (geometry.format === 'tiff') {
    if (geometry.frames > 1) throw new MultipageTiffError(geometry.frames);
    assertTiffKeepable(bytes);
  }
  const layout = plan(notice, geometry, font, options);
  const splice = geometry.format === 'jpeg' ? spliceFor(bytes, geometry, layout.box, options) : undefined;
  const open = async (): Promise<ImageSurface> =>
    apng
      ? { sample: (box) => Promise.resolve(apng.sample(box)), compose: (overlay, box) => Promise.resolve({ bytes: apng.compose(overlay, box) }) }
      : await openSurface(canvas, geometry);
  // From here to the composed bytes a splice runs without an await: it decodes into arrays
  // shared with the next file's (`reuseBuffers`).
  const surface = splice?.open ? undefined : await open();
  const style = chooseStyle(splice?.open ? splice.open.sample(layout.box) : await (surface as ImageSurface).sample(layout.box), options.plate, layout.inkHeight);
  const drawing = draw(layout, style, font);
  let composed: { bytes: Uint8Array; quality?: number } | undefined;
  let spliced = false;
  if (splice?.open) {
    try {
      const quality = jpegEncoding(bytes).quality;
      composed = { bytes: splice.open.compose(drawing.rgba, layout.box).bytes, ...(quality !== undefined ? { quality } : {}) };
      spliced = true;
    } catch (error) {
      if (!(error instanceof NotSpliceable)) throw error;
      splice.reason = error.message;
    }
  }
  composed ??= await (surface ?? (await open())).compose(drawing.rgba, layout.box, options.quality);
  const method = splice ? (spliced ? 'dct-splice' : 'reencode') : undefined;
  // No thumbnail, preview or secondary picture keeps the picture without its notice.
  let previews: PreviewChange[] = [];
  if (geometry.format === 'jpeg') {
    const relabelled = await labelledPreviews(composed.bytes, bytes);
    composed = { ...composed, bytes: relabelled.bytes };
    previews = relabelled.changes;
  }
  if (heic) {
    // The source's quality is not recorded in the file; 90 keeps it visually the same.
    const quality = options.quality ?? HEIC_QUALITY;
    const encoded = await heic.encode(composed.bytes, quality);
    const relabelled = await labelledExifInPlace(encoded, composed.bytes);
    composed = { bytes: relabelled.bytes, quality };
    previews = relabelled.changes;
  } else if (geometry.format !== 'jpeg') {
    const relabelled = await labelledExifInPlace(composed.bytes, composed.bytes);
    const xmp = await labelledXmp(relabelled.bytes);
    composed = { ...composed, bytes: xmp.bytes };
    previews = [...relabelled.changes, ...xmp.changes];
  }
  const labelled = await implicitLabel(bytes, composed.bytes, options);
  return {
    bytes: labelled.bytes,
    format: heic ? 'heif' : geometry.format,
    width: geometry.width,
    height: geometry.height,
    frames: geometry.frames,
    notice,
    box: layout.box,
    textHeightPx: layout.inkHeight,
    requiredPx: layout.requiredPx,
    lines: layout.lines,
    style,
    ...(composed.quality !== undefined ? { quality: composed.quality } : {}),
    ...(method ? { method } : {}),
    ...(method === 'reencode' && splice?.reason ? { spliceFallback: splice.reason } : {}),
    ...(previews.length > 0 ? { previews } : {}),
    implicit: labelled.label,
  };
}
