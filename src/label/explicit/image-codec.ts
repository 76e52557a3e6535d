/**
 * @module label/explicit/image-codec
 * Decoding and re-encoding images around a drawn notice (GB 45438 §5.2), with sharp (libvips,
 * whose binaries npm installs). What the source was is kept: a JPEG is re-encoded at its
 * estimated quality, chroma subsampling and progressive mode; a lossless WebP stays lossless (a
 * lossy one is written at quality 90: libwebp's per-segment quantisers do not map back to one
 * quality figure); a palette PNG stays a palette PNG; an animated GIF or WebP keeps its frames,
 * delays and loop count; EXIF, ICC profile, XMP and IPTC are carried over without converting
 * the pixels (libvips writes no metadata into GIF; the implicit label is written back
 * separately in every format); `image.ts` then makes the EXIF thumbnail again from the
 * labelled picture or removes it, and removes a JPEG's other embedded or appended pictures
 * (`jpeg-previews.ts`).
 *
 * A plain upright sRGB or greyscale JPEG (no ICC profile, no EXIF rotation: most generated
 * images) takes a cheaper path: decoded once to pixels, sampled and blended there, encoded,
 * and the source's metadata segments put back byte for byte. A libvips composite works on
 * every pixel of the image and the colour sampling needs a decode of its own, which costs
 * about a fifth more CPU (bench/label/explicit.ts); it serves everything else, since it keeps
 * a colour profile without converting the pixels.
 */
import type sharp from 'sharp';
import { InvalidInputError } from '../../errors.js';
import { hasIccProfile, headerSegments, jpegEncoding, withSourceMetadata } from './image-jpeg.js';
import { collectLuminance, summarise, type PixelBox, type RegionSample } from './image-style.js';
import { libvips } from './sharp-lib.js';

/** The image formats that carry explicit notices. */
export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' | 'heif';

/** Largest image decoded, in pixels (all frames together): 16x the 8000x500 panorama class. */
export const MAX_IMAGE_PIXELS = 64_000_000;

/** The image cannot be decoded (corrupt, truncated, or too large). */
export class ImageDecodeError extends InvalidInputError {
  constructor(format: string, detail: string, options?: { cause?: unknown }) {
    super('E_LABEL_IMAGE_DECODE', `cannot decode the ${format} image: ${detail}`, options);
  }
}

/** What the notice is laid out against: the displayed size of one frame, and how many frames. */
export interface ImageGeometry {
  format: ImageFormat;
  /** Displayed width and height of a frame (after EXIF orientation). */
  width: number;
  height: number;
  frames: number;
  /** Frame delays (ms) and loop count of an animation. */
  delay?: number[];
  loop?: number;
  palette: boolean;
  /** EXIF orientation (1 upright). */
  orientation: number;
  /** libvips colour space of the decoded pixels, e.g. `srgb`, `b-w`, `cmyk`, `rgb16`, `grey16`. */
  space: string;
  /** libvips sample format, e.g. `uchar`, or `ushort` for a 16-bit PNG. */
  depth: string;
  /** The source has an alpha channel (compositing adds one; it is removed again when the source had none). */
  alpha: boolean;
}

function decodeFailure(format: ImageFormat, error: unknown): ImageDecodeError {
  const detail = (error as Error).message.replace(/^Input buffer (has|contains) /i, '').replace(/\s+/g, ' ').trim();
  return new ImageDecodeError(format, detail, { cause: error });
}

/** libvips is loaded at the first image that needs it (`sharp-lib.ts`). */
const open = async (bytes: Uint8Array, animated: boolean): Promise<sharp.Sharp> => (await libvips())(bytes, { animated, limitInputPixels: MAX_IMAGE_PIXELS, failOn: 'error' });

/** The compression sharp reports for a HEIF (`av1` for AVIF, `hevc` for HEIC), or undefined when it cannot tell. */
export async function heifCompression(bytes: Uint8Array): Promise<string | undefined> {
  try {
    return (await (await open(bytes, false)).metadata()).compression;
  } catch {
    return undefined;
  }
}

/**
 * The geometry of a plain JPEG from its headers, as libvips reports it, or undefined for one
 * left to libvips: with an EXIF segment (its orientation), a frame other than 8-bit baseline,
 * extended or progressive with 1 or 3 components, headers that do not reach the scan, or more
 * pixels than libvips takes (it refuses them with its own message). A batch of JPEGs on the
 * DCT-splice path then makes no call into libvips for them (issue 14).
 */
export function plainJpegGeometry(bytes: Uint8Array): ImageGeometry | undefined {
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  const segments = headerSegments(bytes);
  const last = segments.at(-1);
  if (!last || bytes[last.end] !== 0xff || bytes[last.end + 1] !== 0xda) return undefined;
  const id = (at: number): string => String.fromCharCode(...bytes.subarray(at, at + 5));
  if (segments.some((s) => s.marker === 0xe1 && id(s.start + 4) === 'Exif\0')) return undefined;
  const frames = segments.filter((s) => s.marker >= 0xc0 && s.marker <= 0xcf && s.marker !== 0xc4 && s.marker !== 0xc8 && s.marker !== 0xcc);
  const frame = frames[0];
  if (frames.length !== 1 || !frame || frame.marker > 0xc2) return undefined;
  const at = frame.start + 4;
  const precision = bytes[at];
  const height = ((bytes[at + 1] ?? 0) << 8) | (bytes[at + 2] ?? 0);
  const width = ((bytes[at + 3] ?? 0) << 8) | (bytes[at + 4] ?? 0);
  const components = bytes[at + 5] ?? 0;
  if (precision !== 8 || (components !== 1 && components !== 3) || frame.end < at + 6 + components * 3) return undefined;
  if (width === 0 || height === 0 || width * height > MAX_IMAGE_PIXELS) return undefined;
  return { format: 'jpeg', width, height, frames: 1, palette: false, orientation: 1, space: components === 1 ? 'b-w' : 'srgb', depth: 'uchar', alpha: false };
}

/** Reads size, frames and orientation. @throws ImageDecodeError */
export async function imageGeometry(bytes: Uint8Array, format: ImageFormat): Promise<ImageGeometry> {
  const plain = format === 'jpeg' ? plainJpegGeometry(bytes) : undefined;
  if (plain) return plain;
  let meta: sharp.Metadata;
  try {
    meta = await (await open(bytes, true)).metadata();
  } catch (error) {
    throw decodeFailure(format, error);
  }
  // The libvips npm ships decodes and encodes AV1 (AVIF) but not HEVC (HEIC, which labelImage
  // takes through libheif's tools before it gets here): say so, rather than fail on decoding.
  if (format === 'heif' && meta.compression !== 'av1') {
    throw new ImageDecodeError('heif', `it is HEIF coded as ${meta.compression ?? 'unknown'}, which hegui cannot decode (only AVIF and HEIC); convert it to AVIF, JPEG or PNG to add a visible notice`);
  }
  const frames = meta.pages ?? 1;
  const frameHeight = meta.pageHeight ?? meta.height;
  const turned = frames === 1 && (meta.orientation ?? 1) >= 5;
  return {
    format,
    width: turned ? frameHeight : meta.width,
    height: turned ? meta.width : frameHeight,
    frames,
    ...(meta.delay ? { delay: meta.delay } : {}),
    ...(meta.loop !== undefined ? { loop: meta.loop } : {}),
    palette: meta.isPalette ?? false,
    orientation: meta.orientation ?? 1,
    space: meta.space ?? 'srgb',
    depth: meta.depth ?? 'uchar',
    alpha: meta.hasAlpha ?? false,
  };
}

/** A TIFF with several pages: the notice would go on the first and the others be lost. */
export class MultipageTiffError extends InvalidInputError {
  constructor(pages: number) {
    super('E_LABEL_MULTIPAGE_TIFF', `the TIFF has ${pages} pages: labelling would keep only the first, so it is refused; split it into one file per page (e.g. tiffsplit) and label each`);
  }
}

/** TIFF Compression tag values (TIFF 6.0 §3, Adobe and libtiff registrations) and sharp's names for them. */
const TIFF_COMPRESSION: Readonly<Record<number, 'none' | 'lzw' | 'jpeg' | 'deflate' | 'packbits' | 'zstd' | 'webp'>> = {
  1: 'none',
  5: 'lzw',
  7: 'jpeg',
  8: 'deflate',
  32946: 'deflate',
  32773: 'packbits',
  50000: 'zstd',
  50001: 'webp',
};

/** The tags of a TIFF's first IFD, each with its first SHORT value (enough for Compression). */
function tiffTags(bytes: Uint8Array): Map<number, number> {
  const tags = new Map<number, number>();
  if (bytes.length < 8) return tags;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const little = bytes[0] === 0x49;
  const ifd = view.getUint32(4, little);
  if (ifd + 2 > bytes.length) return tags;
  const count = view.getUint16(ifd, little);
  for (let i = 0; i < count && ifd + 2 + i * 12 + 12 <= bytes.length; i++) {
    const at = ifd + 2 + i * 12;
    tags.set(view.getUint16(at, little), view.getUint16(at + 8, little));
  }
  return tags;
}

/** The Compression tag (259) of a TIFF's first IFD, or 0 when it cannot be read. */
const tiffCompressionTag = (bytes: Uint8Array): number => tiffTags(bytes).get(259) ?? 0;

/**
 * TIFF tags libvips does not write back (EXIF and GPS IFDs, and IFD0's descriptive tags): a
 * labelled copy would lose them, so such a TIFF is refused rather than stripped.
 */
const TIFF_DROPPED_TAGS: Readonly<Record<number, string>> = {
  0x8769: 'EXIF IFD',
  0x8825: 'GPS IFD',
  0x8298: 'Copyright',
  0x013b: 'Artist',
  0x010e: 'ImageDescription',
  0x010f: 'Make',
  0x0110: 'Model',
  0x0132: 'DateTime',
};

/** A TIFF carries metadata the encoder would drop. */
export class TiffMetadataError extends InvalidInputError {
  constructor(tags: readonly string[]) {
    super('E_LABEL_TIFF_METADATA', `the TIFF carries ${tags.join(', ')}, which the TIFF encoder does not write back; it is refused rather than returned without them (convert it to JPEG or PNG to label it, or draw the notice with another tool)`);
  }
}

/** @throws TiffMetadataError when a TIFF holds tags a labelled copy would lose. */
export function assertTiffKeepable(bytes: Uint8Array): void {
  const tags = tiffTags(bytes);
  const dropped = Object.entries(TIFF_DROPPED_TAGS).filter(([tag]) => tags.has(Number(tag))).map(([, name]) => name);
  if (dropped.length > 0) throw new TiffMetadataError(dropped);
}

/**
 * The frame count an APNG declares (its `acTL` chunk, which must come before the first `IDAT`),
 * or 0 for a still PNG.
 */
export function apngFrames(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 8; at + 12 <= bytes.length; ) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (type === 'acTL' && length >= 8 && at + 16 <= bytes.length) return view.getUint32(at + 8);
    if (type === 'IDAT' || type === 'IEND') return 0;
    at += 12 + length;
  }
  return 0;
}

/**
 * Colour spaces libvips would convert to 8-bit sRGB when compositing: the result is turned back
 * into the source's space, so a CMYK JPEG stays CMYK and a greyscale PNG greyscale, and 16-bit
 * images are composited in 16 bits (pixels away from the notice come out as they went in).
 */
const KEPT_SPACES: Readonly<Record<string, 'cmyk' | 'b-w' | 'rgb16' | 'grey16'>> = { cmyk: 'cmyk', 'b-w': 'b-w', rgb16: 'rgb16', grey16: 'grey16' };

/**
 * The luminance spread under `box` across every frame. Large JPEGs are sampled at 1/8 scale
 * (libjpeg's DCT scaling, nearly free), which keeps the percentiles that choose the colours.
 */
async function sampleRegion(bytes: Uint8Array, geometry: ImageGeometry, box: PixelBox): Promise<RegionSample> {
  const luminances: number[] = [];
  try {
    if (geometry.frames > 1) {
      const { data, info } = await (await open(bytes, true)).raw().toBuffer({ resolveWithObject: true });
      const step = Math.max(1, Math.floor(Math.sqrt((box.width * box.height * geometry.frames) / 200_000)));
      for (let frame = 0; frame < geometry.frames; frame++) {
        collectLuminance(data, info.width, info.channels, { ...box, top: box.top + frame * geometry.height }, luminances, step);
      }
      return summarise(luminances);
    }
    const scale = geometry.format === 'jpeg' && Math.min(geometry.width, geometry.height) >= 512 ? 8 : 1;
    const scaled = {
      left: Math.floor(box.left / scale),
      top: Math.floor(box.top / scale),
      width: Math.max(1, Math.ceil(box.width / scale)),
      height: Math.max(1, Math.ceil(box.height / scale)),
    };
    let pipeline = (await open(bytes, false)).autoOrient();
    if (scale > 1) pipeline = pipeline.resize({ width: Math.max(1, Math.round(geometry.width / scale)), height: Math.max(1, Math.round(geometry.height / scale)), fit: 'fill', fastShrinkOnLoad: true });
    const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
    const clipped = { ...scaled, width: Math.min(scaled.width, info.width - scaled.left), height: Math.min(scaled.height, info.height - scaled.top) };
    collectLuminance(data, info.width, info.channels, clipped, luminances);
  } catch (error) {
    throw decodeFailure(geometry.format, error);
  }
  return summarise(luminances);
}

function lossless(bytes: Uint8Array): boolean {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 4096)).toString('latin1');
  return text.includes('VP8L') && !text.includes('VP8 ');
}

function encoder(pipeline: sharp.Sharp, bytes: Uint8Array, geometry: ImageGeometry, quality: number | undefined): { pipeline: sharp.Sharp; quality?: number } {
  switch (geometry.format) {
    case 'jpeg': {
      const source = jpegEncoding(bytes);
      const q = quality ?? source.quality ?? 90;
      return { pipeline: pipeline.jpeg({ quality: q, chromaSubsampling: source.chromaSubsampling, progressive: source.progressive }), quality: q };
    }
    case 'png':
      return { pipeline: pipeline.png({ palette: geometry.palette }) };
    case 'webp': {
      const animation = geometry.frames > 1 ? { loop: geometry.loop ?? 0, ...(geometry.delay ? { delay: geometry.delay } : {}) } : {};
      if (quality === undefined && lossless(bytes)) return { pipeline: pipeline.webp({ lossless: true, ...animation }) };
      const q = quality ?? 90;
      return { pipeline: pipeline.webp({ quality: q, ...animation }), quality: q };
    }
    case 'gif':
      return { pipeline: pipeline.gif({ loop: geometry.loop ?? 0, ...(geometry.delay ? { delay: geometry.delay } : {}) }) };
    case 'heif': {
      // AVIF: the source's quality is not recorded in the file; 80 keeps it visually the same.
      const q = quality ?? 80;
      return { pipeline: pipeline.avif({ quality: q }), quality: q };
    }
    case 'tiff': {
      // The source's compression (a JPEG-compressed TIFF at the given or a high quality); LZW when unknown.
      const compression = TIFF_COMPRESSION[tiffCompressionTag(bytes)] ?? 'lzw';
      const q = compression === 'jpeg' ? (quality ?? 90) : undefined;
      return { pipeline: pipeline.tiff({ compression, ...(q !== undefined ? { quality: q } : {}) }), ...(q !== undefined ? { quality: q } : {}) };
    }
  }
}

/**
 * Draws `overlay` (straight RGBA, `box` sized) at `box` in every frame and re-encodes the
 * image as its source was encoded, keeping its metadata. A still image is turned upright first
 * (its EXIF orientation then reads 1), so the notice sits where a viewer sees that edge.
 */
async function composeNotice(bytes: Uint8Array, geometry: ImageGeometry, overlay: Buffer, box: PixelBox, quality?: number): Promise<{ bytes: Buffer; quality?: number }> {
  const animated = geometry.frames > 1;
  const opened = animated ? await open(bytes, true) : (await open(bytes, false)).autoOrient();
  const space = KEPT_SPACES[geometry.space];
  const base = space === 'rgb16' || space === 'grey16' ? opened.pipelineColourspace(space) : opened;
  const layers = Array.from({ length: geometry.frames }, (_, frame) => ({
    input: overlay,
    raw: { width: box.width, height: box.height, channels: 4 as const },
    left: box.left,
    top: box.top + frame * geometry.height,
  }));
  const drawn = base.composite(layers).keepMetadata();
  const composed = geometry.alpha ? drawn : drawn.removeAlpha();
  const encoded = encoder(space ? composed.toColourspace(space) : composed, bytes, geometry, quality);
  try {
    return { bytes: await encoded.pipeline.toBuffer(), ...(encoded.quality !== undefined ? { quality: encoded.quality } : {}) };
  } catch (error) {
    throw decodeFailure(geometry.format, error);
  }
}

/** An image being labelled: sample the region under the notice, then draw it and encode. */
export interface ImageSurface {
  sample(box: PixelBox): Promise<RegionSample>;
  compose(overlay: Buffer, box: PixelBox, quality?: number): Promise<{ bytes: Uint8Array; quality?: number }>;
}

/** Alpha-blends straight RGBA `overlay` into interleaved pixels (1 or 3 channels) at `box`. */
function blend(pixels: Buffer, width: number, channels: number, overlay: Buffer, box: PixelBox): void {
  for (let y = 0; y < box.height; y++) {
    for (let x = 0; x < box.width; x++) {
      const from = (y * box.width + x) * 4;
      const alpha = (overlay[from + 3] ?? 0) / 255;
      if (alpha === 0) continue;
      const to = ((box.top + y) * width + box.left + x) * channels;
      if (channels === 1) {
        const grey = 0.2126 * (overlay[from] ?? 0) + 0.7152 * (overlay[from + 1] ?? 0) + 0.0722 * (overlay[from + 2] ?? 0);
        pixels[to] = Math.round(grey * alpha + (pixels[to] ?? 0) * (1 - alpha));
      } else {
        for (let c = 0; c < 3; c++) pixels[to + c] = Math.round((overlay[from + c] ?? 0) * alpha + (pixels[to + c] ?? 0) * (1 - alpha));
      }
    }
  }
}

/** The one-decode path for plain upright sRGB or greyscale JPEGs (see the module comment). */
async function pixelSurface(bytes: Uint8Array, geometry: ImageGeometry): Promise<ImageSurface> {
  let decoded: { data: Buffer; info: sharp.OutputInfo };
  try {
    decoded = await (await open(bytes, false)).raw().toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw decodeFailure(geometry.format, error);
  }
  const { data, info } = decoded;
  return {
    sample: (box) => {
      const luminances: number[] = [];
      collectLuminance(data, info.width, info.channels, box, luminances);
      return Promise.resolve(summarise(luminances));
    },
    compose: async (overlay, box, quality) => {
      blend(data, info.width, info.channels, overlay, box);
      const source = jpegEncoding(bytes);
      const q = quality ?? source.quality ?? 90;
      const encoded = await (await libvips())(data, { raw: { width: info.width, height: info.height, channels: info.channels } })
        .jpeg({ quality: q, chromaSubsampling: source.chromaSubsampling, progressive: source.progressive })
        .toBuffer();
      return { bytes: withSourceMetadata(encoded, bytes), quality: q };
    },
  };
}

/**
 * The surface to label an image on: the one-decode pixel path for plain upright sRGB or
 * greyscale JPEGs, the libvips composite otherwise.
 */
export async function openSurface(bytes: Uint8Array, geometry: ImageGeometry): Promise<ImageSurface> {
  const plain = geometry.format === 'jpeg' && geometry.orientation === 1 && (geometry.space === 'srgb' || geometry.space === 'b-w') && !hasIccProfile(bytes);
  if (plain) return pixelSurface(bytes, geometry);
  return {
    sample: (box) => sampleRegion(bytes, geometry, box),
    compose: (overlay, box, quality) => composeNotice(bytes, geometry, overlay, box, quality),
  };
}
