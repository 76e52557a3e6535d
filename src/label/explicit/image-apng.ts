/**
 * @module label/explicit/image-apng
 * Visible notices on animated PNG (APNG 1.0: acTL, fcTL, fdAT). libvips decodes only the
 * default image, so hegui decodes the frames itself: each frame's data is inflated and
 * unfiltered (PNG 3rd edition §7.3, §9), composited onto the canvas as a viewer does (blend
 * SOURCE or OVER, then dispose NONE, BACKGROUND or PREVIOUS), the notice is drawn on every
 * composed frame, and each is written back as a full-canvas frame (blend SOURCE, dispose NONE)
 * with the source's delay, so what a viewer shows is the source's animation with the notice
 * on every frame: same frame count, delays, loop count, size, colour type and bit depth. A
 * default image that is not part of the animation gets the notice too. Every other chunk
 * (iCCP, gAMA, cHRM, sRGB, pHYs, eXIf, text) is copied as it is.
 *
 * Refused (`ApngFormatError`): palette and sub-8-bit greyscale images (the notice's colours
 * would need a new palette or depth), interlaced ones, and frames that leave part of an opaque
 * image's canvas transparent (the colour type could not show it).
 */
import { deflateSync, inflateSync } from 'node:zlib';
import { InvalidInputError } from '../../errors.js';
import { crc32 } from '../implicit/bytes.js';
import { MAX_IMAGE_PIXELS } from './image-codec.js';
import { collectLuminance, summarise, type PixelBox, type RegionSample } from './image-style.js';

/** An APNG hegui cannot draw on without changing what it is. */
export class ApngFormatError extends InvalidInputError {
  constructor(detail: string) {
    super('E_LABEL_APNG', `the animated PNG ${detail}, so a notice cannot be drawn on its frames without changing it; convert it to an animated WebP or GIF and label that`);
  }
}

interface RawChunk {
  type: string;
  data: Uint8Array;
}

interface FrameControl {
  width: number;
  height: number;
  x: number;
  y: number;
  delayNum: number;
  delayDen: number;
  dispose: number;
  blend: number;
}

interface Frame {
  control: FrameControl;
  data: Uint8Array[];
}

interface Header {
  width: number;
  height: number;
  depth: number;
  colorType: number;
}

const CHANNELS: Readonly<Record<number, number>> = { 0: 1, 2: 3, 4: 2, 6: 4 };
const MAX_FRAMES = 10_000;

function readChunks(bytes: Uint8Array): RawChunk[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks: RawChunk[] = [];
  for (let at = 8; at + 12 <= bytes.length; ) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (at + 12 + length > bytes.length) throw new ApngFormatError(`has a ${type} chunk that runs past the end of the file`);
    chunks.push({ type, data: bytes.subarray(at + 8, at + 8 + length) });
    at += 12 + length;
    if (type === 'IEND') break;
  }
  return chunks;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

function frameControl(data: Uint8Array): FrameControl {
  if (data.length !== 26) throw new ApngFormatError(`has an fcTL chunk of ${data.length} bytes, not 26`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return {
    width: view.getUint32(4),
    height: view.getUint32(8),
    x: view.getUint32(12),
    y: view.getUint32(16),
    delayNum: view.getUint16(20),
    delayDen: view.getUint16(22),
    dispose: view.getUint8(24),
    blend: view.getUint8(25),
  };
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** The frame's samples, unfiltered (§7.3, §9.2), as 16-bit RGBA with straight alpha. */
function decodeFrame(data: readonly Uint8Array[], width: number, height: number, header: Header, trns: Uint8Array | undefined): Uint16Array {
  const channels = CHANNELS[header.colorType] ?? 0;
  const bpp = (channels * header.depth) / 8;
  const stride = width * bpp;
  let raw: Uint8Array;
  try {
    raw = inflateSync(Buffer.concat(data.map((d) => Buffer.from(d.buffer, d.byteOffset, d.byteLength))), { maxOutputLength: (stride + 1) * height + 1 });
  } catch (error) {
    throw new ApngFormatError(`has frame data that does not inflate to its size (${(error as Error).message})`);
  }
  if (raw.length < (stride + 1) * height) throw new ApngFormatError('has frame data shorter than the frame');
  const rows = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)] ?? 0;
    const from = y * (stride + 1) + 1;
    const row = y * stride;
    for (let i = 0; i < stride; i++) {
      const x = raw[from + i] ?? 0;
      const a = i >= bpp ? (rows[row + i - bpp] ?? 0) : 0;
      const b = y > 0 ? (rows[row - stride + i] ?? 0) : 0;
      const c = i >= bpp && y > 0 ? (rows[row - stride + i - bpp] ?? 0) : 0;
      const predictor = filter === 0 ? 0 : filter === 1 ? a : filter === 2 ? b : filter === 3 ? (a + b) >> 1 : filter === 4 ? paeth(a, b, c) : -1;
      if (predictor < 0) throw new ApngFormatError(`uses filter type ${filter}`);
      rows[row + i] = (x + predictor) & 0xff;
    }
  }
  const out = new Uint16Array(width * height * 4);
  const sixteen = header.depth === 16;
  const sample = (i: number): number => (sixteen ? ((rows[i * 2] ?? 0) << 8) | (rows[i * 2 + 1] ?? 0) : (rows[i] ?? 0) * 257);
  const key = trns && header.colorType !== 3 ? Array.from({ length: trns.length / 2 }, (_, k) => (((trns[k * 2] ?? 0) << 8) | (trns[k * 2 + 1] ?? 0)) * (sixteen ? 1 : 257)) : undefined;
  for (let p = 0; p < width * height; p++) {
    const s = p * channels;
    const grey = channels <= 2;
    const r = sample(s);
    const g = grey ? r : sample(s + 1);
    const b = grey ? r : sample(s + 2);
    let alpha = channels === 2 ? sample(s + 1) : channels === 4 ? sample(s + 3) : 65535;
    if (key && (grey ? r === key[0] : r === key[0] && g === key[1] && b === key[2])) alpha = 0;
    out.set([r, g, b, alpha], p * 4);
  }
  return out;
}

/** The canvas in the source's colour type and depth, filtered per row (the smallest sum wins) and deflated. */
function encodeImage(canvas: Uint16Array, width: number, height: number, header: Header): Uint8Array {
  const channels = CHANNELS[header.colorType] ?? 0;
  const sixteen = header.depth === 16;
  const bpp = (channels * header.depth) / 8;
  const stride = width * bpp;
  const rows = new Uint8Array(stride * height);
  let at = 0;
  const put = (value: number): void => {
    if (sixteen) {
      rows[at++] = value >> 8;
      rows[at++] = value & 0xff;
    } else rows[at++] = Math.round(value / 257);
  };
  for (let p = 0; p < width * height; p++) {
    const [r = 0, g = 0, b = 0, a = 0] = canvas.subarray(p * 4, p * 4 + 4);
    if (channels <= 2) put(Math.round(0.2126 * r + 0.7152 * g + 0.0722 * b));
    else {
      put(r);
      put(g);
      put(b);
    }
    if (channels === 2 || channels === 4) put(a);
  }
  const out = new Uint8Array((stride + 1) * height);
  const candidate = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    let best = Infinity;
    for (let filter = 0; filter <= 4; filter++) {
      let sum = 0;
      for (let i = 0; i < stride; i++) {
        const x = rows[y * stride + i] ?? 0;
        const a = i >= bpp ? (rows[y * stride + i - bpp] ?? 0) : 0;
        const b = y > 0 ? (rows[(y - 1) * stride + i] ?? 0) : 0;
        const c = i >= bpp && y > 0 ? (rows[(y - 1) * stride + i - bpp] ?? 0) : 0;
        const predictor = filter === 0 ? 0 : filter === 1 ? a : filter === 2 ? b : filter === 3 ? (a + b) >> 1 : paeth(a, b, c);
        const v = (x - predictor) & 0xff;
        candidate[i] = v;
        sum += v < 128 ? v : 256 - v;
      }
      if (sum < best) {
        best = sum;
        out[y * (stride + 1)] = filter;
        out.set(candidate, y * (stride + 1) + 1);
      }
    }
  }
  return deflateSync(out, { level: 9 });
}

/** Draws frame `data` of `control` onto the canvas (blend SOURCE or OVER, §APNG 4.2). */
function blendFrame(canvas: Uint16Array, canvasWidth: number, frame: Uint16Array, control: FrameControl): void {
  for (let y = 0; y < control.height; y++) {
    for (let x = 0; x < control.width; x++) {
      const from = (y * control.width + x) * 4;
      const to = ((control.y + y) * canvasWidth + control.x + x) * 4;
      const sa = (frame[from + 3] ?? 0) / 65535;
      if (control.blend === 0 || sa === 1) {
        canvas.set(frame.subarray(from, from + 4), to);
        continue;
      }
      if (sa === 0) continue;
      const da = (canvas[to + 3] ?? 0) / 65535;
      const oa = sa + da * (1 - sa);
      for (let c = 0; c < 3; c++) canvas[to + c] = Math.round(((frame[from + c] ?? 0) * sa + (canvas[to + c] ?? 0) * da * (1 - sa)) / oa);
      canvas[to + 3] = Math.round(oa * 65535);
    }
  }
}

/** Alpha-blends the straight 8-bit RGBA `overlay` at `box` into a 16-bit RGBA canvas. */
function drawOverlay(canvas: Uint16Array, width: number, overlay: Uint8Array, box: PixelBox): void {
  for (let y = 0; y < box.height; y++) {
    for (let x = 0; x < box.width; x++) {
      const from = (y * box.width + x) * 4;
      const sa = (overlay[from + 3] ?? 0) / 255;
      if (sa === 0) continue;
      const to = ((box.top + y) * width + box.left + x) * 4;
      const da = (canvas[to + 3] ?? 0) / 65535;
      const oa = sa + da * (1 - sa);
      for (let c = 0; c < 3; c++) canvas[to + c] = Math.round(((overlay[from + c] ?? 0) * 257 * sa + (canvas[to + c] ?? 0) * da * (1 - sa)) / oa);
      canvas[to + 3] = Math.round(oa * 65535);
    }
  }
}

/** A parsed APNG: its header, chunks, and the composed picture of every displayed frame. */
export interface Apng {
  width: number;
  height: number;
  frames: number;
  /** `rgb16`/`grey16` for 16-bit sources, `srgb`/`b-w` otherwise (as libvips names them). */
  space: string;
  alpha: boolean;
  /** Luminance spread under `box` across every displayed frame. */
  sample(box: PixelBox): RegionSample;
  /** The APNG with `overlay` drawn at `box` on every displayed frame (and the default image). */
  compose(overlay: Uint8Array, box: PixelBox): Uint8Array;
}

/**
 * Decodes an APNG's frames as a viewer composes them.
 *
 * @throws ApngFormatError for what cannot be drawn on without change (see the module comment).
 */
export function openApng(bytes: Uint8Array): Apng {
  const chunks = readChunks(bytes);
  const ihdr = chunks[0];
  if (ihdr?.type !== 'IHDR' || ihdr.data.length !== 13) throw new ApngFormatError('has no IHDR chunk first');
  const hv = new DataView(ihdr.data.buffer, ihdr.data.byteOffset, 13);
  const header: Header = { width: hv.getUint32(0), height: hv.getUint32(4), depth: hv.getUint8(8), colorType: hv.getUint8(9) };
  if (header.colorType === 3) throw new ApngFormatError('is a palette image (its frames share one palette, which the notice colours would not fit)');
  if (!(header.colorType in CHANNELS) || (header.depth !== 8 && header.depth !== 16)) throw new ApngFormatError(`has colour type ${header.colorType} at ${header.depth} bits`);
  if (hv.getUint8(12) !== 0) throw new ApngFormatError('is interlaced');
  const trns = chunks.find((c) => c.type === 'tRNS')?.data;
  // Frames in order: each fcTL, then its IDAT (the first frame) or fdAT chunks.
  const frames: Frame[] = [];
  let defaultImage: Uint8Array[] | undefined;
  let current: Frame | undefined;
  for (const c of chunks) {
    if (c.type === 'fcTL') {
      if (frames.length >= MAX_FRAMES) throw new ApngFormatError(`has more than ${MAX_FRAMES} frames`);
      current = { control: frameControl(c.data), data: [] };
      frames.push(current);
    } else if (c.type === 'IDAT') {
      if (current) current.data.push(c.data);
      else (defaultImage ??= []).push(c.data);
    } else if (c.type === 'fdAT') {
      if (!current) throw new ApngFormatError('has an fdAT chunk before any fcTL');
      if (c.data.length < 4) throw new ApngFormatError('has an fdAT chunk without a sequence number');
      current.data.push(c.data.subarray(4));
    }
  }
  if (frames.length === 0) throw new ApngFormatError('has no frames');
  if (header.width * header.height * (frames.length + 1) > MAX_IMAGE_PIXELS) throw new ApngFormatError(`has ${frames.length} frames of ${header.width}x${header.height}, more than ${MAX_IMAGE_PIXELS} pixels in all`);
  for (const frame of frames) {
    const c = frame.control;
    if (c.width === 0 || c.height === 0 || c.x + c.width > header.width || c.y + c.height > header.height) throw new ApngFormatError('has a frame outside its canvas');
    if (frame.data.length === 0) throw new ApngFormatError('has a frame without data');
  }
  const hasAlpha = header.colorType === 4 || header.colorType === 6 || trns !== undefined;
  const pixels = header.width * header.height * 4;
  // The displayed pictures (§APNG 4.3: the canvas starts fully transparent black).
  const shown: Uint16Array[] = [];
  let canvas = new Uint16Array(pixels);
  for (const [i, frame] of frames.entries()) {
    const c = frame.control;
    const before = c.dispose === 2 && i > 0 ? canvas.slice() : undefined;
    blendFrame(canvas, header.width, decodeFrame(frame.data, c.width, c.height, header, trns), c);
    shown.push(canvas.slice());
    if (c.dispose === 1 || (c.dispose === 2 && i === 0)) {
      for (let y = c.y; y < c.y + c.height; y++) canvas.fill(0, (y * header.width + c.x) * 4, (y * header.width + c.x + c.width) * 4);
    } else if (before) canvas = before;
  }
  if (!hasAlpha && shown.some((s) => s.some((v, k) => k % 4 === 3 && v !== 65535))) throw new ApngFormatError('leaves part of its opaque canvas transparent in a frame');
  const still = defaultImage ? decodeFrame(defaultImage, header.width, header.height, header, trns) : undefined;
  const sixteen = header.depth === 16;
  const grey = header.colorType === 0 || header.colorType === 4;
  return {
    width: header.width,
    height: header.height,
    frames: frames.length,
    space: grey ? (sixteen ? 'grey16' : 'b-w') : sixteen ? 'rgb16' : 'srgb',
    alpha: hasAlpha,
    sample(box) {
      const luminances: number[] = [];
      const step = Math.max(1, Math.floor(Math.sqrt((box.width * box.height * shown.length) / 200_000)));
      const rgb = new Uint8Array(box.width * box.height * 3);
      for (const picture of [...shown, ...(still ? [still] : [])]) {
        for (let y = 0; y < box.height; y++) {
          for (let x = 0; x < box.width; x++) {
            const from = ((box.top + y) * header.width + box.left + x) * 4;
            for (let c = 0; c < 3; c++) rgb[(y * box.width + x) * 3 + c] = Math.round((picture[from + c] ?? 0) / 257);
          }
        }
        collectLuminance(rgb, box.width, 3, { left: 0, top: 0, width: box.width, height: box.height }, luminances, step);
      }
      return summarise(luminances);
    },
    compose(overlay, box) {
      const out: Uint8Array[] = [bytes.subarray(0, 8)];
      let sequence = 0;
      let written = false;
      const writeFrames = (): void => {
        if (still) {
          const picture = still.slice();
          drawOverlay(picture, header.width, overlay, box);
          out.push(chunk('IDAT', encodeImage(picture, header.width, header.height, header)));
        }
        for (const [i, composed] of shown.entries()) {
          const control = frames[i]?.control as FrameControl;
          const picture = composed.slice();
          drawOverlay(picture, header.width, overlay, box);
          const fctl = new Uint8Array(26);
          const view = new DataView(fctl.buffer);
          view.setUint32(0, sequence++);
          view.setUint32(4, header.width);
          view.setUint32(8, header.height);
          view.setUint16(20, control.delayNum);
          view.setUint16(22, control.delayDen);
          out.push(chunk('fcTL', fctl));
          const data = encodeImage(picture, header.width, header.height, header);
          if (i === 0 && !still) out.push(chunk('IDAT', data));
          else {
            const fdat = new Uint8Array(4 + data.length);
            new DataView(fdat.buffer).setUint32(0, sequence++);
            fdat.set(data, 4);
            out.push(chunk('fdAT', fdat));
          }
        }
      };
      for (const c of chunks) {
        if (c.type === 'fcTL' || c.type === 'IDAT' || c.type === 'fdAT') {
          if (!written) writeFrames();
          written = true;
          continue;
        }
        out.push(chunk(c.type, c.data));
      }
      return new Uint8Array(Buffer.concat(out));
    },
  };
}
