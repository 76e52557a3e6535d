/**
 * @module label/explicit/image-codec
 * Decoding and re-encoding images around a drawn notice (GB 45438 §5.2), with sharp (libvips,
 * whose binaries npm installs). What the source was is kept: a JPEG is re-encoded at its
 * estimated quality, chroma subsampling and progressive mode; a lossless WebP stays lossless (a
 * lossy one is written at quality 90: libwebp's per-segment quantisers do not map back to one
 * quality figure); a palette PNG stays a palette PNG; an animated GIF or WebP keeps its frames,
 * delays and loop count; EXIF, ICC profile, XMP and IPTC are carried over without converting
 * the pixels (libvips writes no metadata into GIF; the implicit label is written back
 * separately in every format).
 */
import sharp from 'sharp';
import { InvalidInputError } from '../../errors.js';
import { jpegEncoding } from './image-jpeg.js';
import { collectLuminance, summarise, type PixelBox, type RegionSample } from './image-style.js';

/** The image formats that carry explicit notices. */
export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif';

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
}

function decodeFailure(format: ImageFormat, error: unknown): ImageDecodeError {
  const detail = (error as Error).message.replace(/^Input buffer (has|contains) /i, '').replace(/\s+/g, ' ').trim();
  return new ImageDecodeError(format, detail, { cause: error });
}

const open = (bytes: Uint8Array, animated: boolean): sharp.Sharp =>
  sharp(bytes, { animated, limitInputPixels: MAX_IMAGE_PIXELS, failOn: 'error' });

/** Reads size, frames and orientation. @throws ImageDecodeError */
export async function imageGeometry(bytes: Uint8Array, format: ImageFormat): Promise<ImageGeometry> {
  let meta: sharp.Metadata;
  try {
    meta = await open(bytes, true).metadata();
  } catch (error) {
    throw decodeFailure(format, error);
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
  };
}

/**
 * The luminance spread under `box` across every frame. Large JPEGs are sampled at 1/8 scale
 * (libjpeg's DCT scaling, nearly free), which keeps the percentiles that choose the colours.
 */
export async function sampleRegion(bytes: Uint8Array, geometry: ImageGeometry, box: PixelBox): Promise<RegionSample> {
  const luminances: number[] = [];
  try {
    if (geometry.frames > 1) {
      const { data, info } = await open(bytes, true).raw().toBuffer({ resolveWithObject: true });
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
    let pipeline = open(bytes, false).autoOrient();
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
  }
}

/**
 * Draws `overlay` (straight RGBA, `box` sized) at `box` in every frame and re-encodes the
 * image as its source was encoded, keeping its metadata. A still image is turned upright first
 * (its EXIF orientation then reads 1), so the notice sits where a viewer sees that edge.
 */
export async function composeNotice(bytes: Uint8Array, geometry: ImageGeometry, overlay: Buffer, box: PixelBox, quality?: number): Promise<{ bytes: Buffer; quality?: number }> {
  const animated = geometry.frames > 1;
  const base = animated ? open(bytes, true) : open(bytes, false).autoOrient();
  const layers = Array.from({ length: geometry.frames }, (_, frame) => ({
    input: overlay,
    raw: { width: box.width, height: box.height, channels: 4 as const },
    left: box.left,
    top: box.top + frame * geometry.height,
  }));
  const encoded = encoder(base.composite(layers).keepMetadata(), bytes, geometry, quality);
  try {
    return { bytes: await encoded.pipeline.toBuffer(), ...(encoded.quality !== undefined ? { quality: encoded.quality } : {}) };
  } catch (error) {
    throw decodeFailure(geometry.format, error);
  }
}
