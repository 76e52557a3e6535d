/**
 * @module label/explicit/audio-pcm
 * Raw PCM sample layouts and the conversions the audio notice needs: interleaved samples in
 * one of six encodings (the names are ffmpeg's raw formats, so the same layout describes a WAV
 * data chunk and an ffmpeg pipe), decoded to floats only to measure levels and encoded from
 * floats only for the notice. Content samples are never converted: they pass through as bytes.
 */

/** Interleaved little-endian PCM: unsigned 8-bit, signed 16/24/32-bit integer, 32/64-bit float. */
export type PcmEncoding = 'u8' | 's16le' | 's24le' | 's32le' | 'f32le' | 'f64le';

/** What a run of PCM bytes holds. */
export interface PcmLayout {
  encoding: PcmEncoding;
  /** Frames (one sample per channel) per second. */
  sampleRate: number;
  channels: number;
}

const BYTES: Record<PcmEncoding, number> = { u8: 1, s16le: 2, s24le: 3, s32le: 4, f32le: 4, f64le: 8 };

/** Bytes one sample of `encoding` takes. */
export function bytesPerSample(encoding: PcmEncoding): number {
  return BYTES[encoding];
}

/** Bytes one frame (a sample for every channel) takes. */
export function frameBytes(layout: PcmLayout): number {
  return BYTES[layout.encoding] * layout.channels;
}

/** Reads one sample as a float in [-1, 1). */
function readSample(view: DataView, offset: number, encoding: PcmEncoding): number {
  switch (encoding) {
    case 'u8':
      return (view.getUint8(offset) - 128) / 128;
    case 's16le':
      return view.getInt16(offset, true) / 32768;
    case 's24le':
      return ((view.getInt8(offset + 2) << 16) | view.getUint16(offset, true)) / 8388608;
    case 's32le':
      return view.getInt32(offset, true) / 2147483648;
    case 'f32le':
      return view.getFloat32(offset, true);
    case 'f64le':
      return view.getFloat64(offset, true);
  }
}

function clampInt(value: number, bits: number): number {
  const full = 2 ** (bits - 1);
  return Math.max(-full, Math.min(full - 1, Math.round(value * full)));
}

/** Writes one float sample, clipped to the integer range for integer encodings. */
function writeSample(view: DataView, offset: number, encoding: PcmEncoding, value: number): void {
  switch (encoding) {
    case 'u8':
      view.setUint8(offset, clampInt(value, 8) + 128);
      return;
    case 's16le':
      view.setInt16(offset, clampInt(value, 16), true);
      return;
    case 's24le': {
      const sample = clampInt(value, 24);
      view.setUint16(offset, sample & 0xffff, true);
      view.setInt8(offset + 2, sample >> 16);
      return;
    }
    case 's32le':
      view.setInt32(offset, clampInt(value, 32), true);
      return;
    case 'f32le':
      view.setFloat32(offset, value, true);
      return;
    case 'f64le':
      view.setFloat64(offset, value, true);
      return;
  }
}

/**
 * The mono mix (mean of the channels) of whole frames in `bytes`, as floats.
 *
 * @example
 * decodeMono(new Uint8Array([0, 0x40, 0, 0xc0]), { encoding: 's16le', sampleRate: 8000, channels: 2 }); // Float32Array [0]
 */
export function decodeMono(bytes: Uint8Array, layout: PcmLayout): Float32Array {
  const size = BYTES[layout.encoding];
  const channels = layout.channels;
  const frames = Math.floor(bytes.length / (size * channels));
  const mono = new Float32Array(frames);
  // Fast paths for the common encodings when the bytes are aligned for a typed-array view.
  if (layout.encoding === 's16le' && bytes.byteOffset % 2 === 0) {
    const samples = new Int16Array(bytes.buffer, bytes.byteOffset, frames * channels);
    const scale = 1 / (32768 * channels);
    for (let f = 0, i = 0; f < frames; f++) {
      let sum = 0;
      for (let c = 0; c < channels; c++) sum += samples[i++] ?? 0;
      mono[f] = sum * scale;
    }
    return mono;
  }
  if (layout.encoding === 'f32le' && bytes.byteOffset % 4 === 0) {
    const samples = new Float32Array(bytes.buffer, bytes.byteOffset, frames * channels);
    if (channels === 1) return samples.slice();
    for (let f = 0, i = 0; f < frames; f++) {
      let sum = 0;
      for (let c = 0; c < channels; c++) sum += samples[i++] ?? 0;
      mono[f] = sum / channels;
    }
    return mono;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let f = 0, offset = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++, offset += size) sum += readSample(view, offset, layout.encoding);
    mono[f] = sum / channels;
  }
  return mono;
}

/**
 * Encodes a mono signal as frames of `layout`, the same sample in every channel (the notice is
 * centred: GB 45438 §5.3 asks for a perceivable notice, not a placed one).
 */
export function encodeMono(samples: Float32Array, layout: PcmLayout): Uint8Array {
  const size = BYTES[layout.encoding];
  const bytes = new Uint8Array(samples.length * size * layout.channels);
  const view = new DataView(bytes.buffer);
  let offset = 0;
  for (const sample of samples) {
    for (let c = 0; c < layout.channels; c++, offset += size) writeSample(view, offset, layout.encoding, sample);
  }
  return bytes;
}
