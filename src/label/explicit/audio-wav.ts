/**
 * @module label/explicit/audio-wav
 * WAV read and written natively, for the audio label (GB 45438 §5.3): RIFF, RF64 and BW64
 * (EBU Tech 3306 / ITU-R BS.2088, whose `ds64` chunk holds 64-bit sizes), PCM 8/16/24/32-bit
 * integer and 32/64-bit float, plain or WAVE_FORMAT_EXTENSIBLE, any channel count and rate.
 * Only the header is held in memory: the data chunk streams from the `ByteSource`, and every
 * other chunk (LIST, bext, iXML, the implicit label's `AIGC` chunk, ...) is copied verbatim.
 * The output switches to RF64 when it no longer fits the 32-bit RIFF sizes.
 */
import { LabelFormatError } from '../errors.js';
import type { ByteSink, ByteSource } from '../implicit/codec.js';
import { COPY_CHUNK, ascii, copyRange, readExact, viewOf } from '../implicit/bytes.js';
import { UnsupportedMediaError } from './audio-video-errors.js';
import { bytesPerSample, type PcmEncoding, type PcmLayout } from './audio-pcm.js';

/** A chunk of the file: its four-character id, where its 8-byte header starts, its payload size. */
export interface WavChunk {
  id: string;
  offset: number;
  size: number;
}

export interface WavInfo {
  /** `RIFF`, `RF64` or `BW64`. */
  form: string;
  layout: PcmLayout;
  /** Every chunk in file order, the data chunk included. */
  chunks: WavChunk[];
  data: WavChunk;
}

const RIFF_MAX = 0xffffffff;
const WAVE_FORMAT_PCM = 0x0001;
const WAVE_FORMAT_IEEE_FLOAT = 0x0003;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

/** True when `head` starts a RIFF, RF64 or BW64 WAVE file. */
export function isWav(head: Uint8Array): boolean {
  return ['RIFF', 'RF64', 'BW64'].includes(ascii(head, 0, 4)) && ascii(head, 8, 12) === 'WAVE';
}

function encodingOf(tag: number, bits: number): PcmEncoding | undefined {
  if (tag === WAVE_FORMAT_PCM) return ({ 8: 'u8', 16: 's16le', 24: 's24le', 32: 's32le' } as const)[bits];
  if (tag === WAVE_FORMAT_IEEE_FLOAT) return ({ 32: 'f32le', 64: 'f64le' } as const)[bits];
  return undefined;
}

function parseFormat(fmt: Uint8Array, offset: number): PcmLayout {
  if (fmt.length < 16) throw new LabelFormatError('wav', `fmt chunk has ${fmt.length} bytes, at least 16 expected`, { offset });
  const view = viewOf(fmt);
  let tag = view.getUint16(0, true);
  const channels = view.getUint16(2, true);
  const sampleRate = view.getUint32(4, true);
  const blockAlign = view.getUint16(12, true);
  const bits = view.getUint16(14, true);
  // WAVE_FORMAT_EXTENSIBLE: the real format tag is the first two bytes of the SubFormat GUID.
  if (tag === WAVE_FORMAT_EXTENSIBLE && fmt.length >= 26) tag = view.getUint16(24, true);
  const encoding = encodingOf(tag, bits);
  if (!encoding) {
    throw new UnsupportedMediaError(`WAV with format tag 0x${tag.toString(16).padStart(4, '0')} and ${bits}-bit samples`);
  }
  if (channels === 0 || sampleRate === 0) throw new LabelFormatError('wav', `fmt chunk declares ${channels} channels at ${sampleRate} Hz`, { offset });
  if (blockAlign !== channels * bytesPerSample(encoding)) {
    throw new LabelFormatError('wav', `block align ${blockAlign} does not match ${channels} channels of ${bits}-bit samples`, { offset });
  }
  return { encoding, sampleRate, channels };
}

/**
 * The layout and chunk list of a WAV file, read from its headers only.
 *
 * @throws LabelFormatError for a malformed or truncated file, UnsupportedMediaError for a
 * compressed WAV (ADPCM, A-law, MP3-in-WAV, ...).
 */
export async function readWavInfo(source: ByteSource): Promise<WavInfo> {
  const head = await readExact(source, 0, 12, 'wav');
  if (!isWav(head)) throw new LabelFormatError('wav', 'no RIFF/RF64 WAVE header', { offset: 0 });
  const form = ascii(head, 0, 4);
  const chunks: WavChunk[] = [];
  let ds64DataSize: number | undefined;
  let layout: PcmLayout | undefined;
  let data: WavChunk | undefined;
  for (let at = 12; at + 8 <= source.size; ) {
    const header = await readExact(source, at, 8, 'wav');
    const id = ascii(header, 0, 4);
    let size = viewOf(header).getUint32(4, true);
    if (id === 'ds64') {
      const ds64 = await readExact(source, at + 8, Math.min(size, 28), 'wav');
      if (ds64.length < 16) throw new LabelFormatError('wav', 'ds64 chunk too short', { offset: at });
      ds64DataSize = Number(viewOf(ds64).getBigUint64(8, true));
    }
    if (id === 'data') {
      if (size === RIFF_MAX) size = form === 'RIFF' ? source.size - at - 8 : (ds64DataSize ?? -1);
      if (size < 0) throw new LabelFormatError('wav', `${form} file without a ds64 chunk before its data`, { offset: at });
    }
    if (at + 8 + size > source.size) {
      throw new LabelFormatError('wav', `${id} chunk declares ${size} bytes but the file ends after ${source.size - at - 8}`, { offset: at });
    }
    const chunk = { id, offset: at, size };
    chunks.push(chunk);
    if (id === 'fmt ') layout = parseFormat(await readExact(source, at + 8, Math.min(size, 40), 'wav'), at);
    if (id === 'data') data = chunk;
    at += 8 + size + (size % 2);
  }
  if (!layout) throw new LabelFormatError('wav', 'no fmt chunk');
  if (!data) throw new LabelFormatError('wav', 'no data chunk');
  if (chunks.indexOf(data) < chunks.findIndex((c) => c.id === 'fmt ')) throw new LabelFormatError('wav', 'data chunk before the fmt chunk', { offset: data.offset });
  return { form, layout, chunks, data };
}

/** The data chunk's bytes, streamed in bounded pieces. */
export async function* wavData(source: ByteSource, info: WavInfo): AsyncGenerator<Uint8Array> {
  const end = info.data.offset + 8 + info.data.size;
  for (let at = info.data.offset + 8; at < end; ) {
    const chunk = await source.read(at, Math.min(COPY_CHUNK, end - at));
    if (chunk.length === 0) throw new LabelFormatError('wav', 'data chunk ends early', { offset: at });
    yield chunk;
    at += chunk.length;
  }
}

function chunkHeader(id: string, size: number): Uint8Array {
  const bytes = new Uint8Array(8);
  for (let i = 0; i < 4; i++) bytes[i] = id.charCodeAt(i);
  viewOf(bytes).setUint32(4, Math.min(size, RIFF_MAX), true);
  return bytes;
}

function ds64Payload(riffSize: number, dataSize: number, frames: number): Uint8Array {
  const bytes = new Uint8Array(28);
  const view = viewOf(bytes);
  view.setBigUint64(0, BigInt(riffSize), true);
  view.setBigUint64(8, BigInt(dataSize), true);
  view.setBigUint64(16, BigInt(frames), true);
  return bytes;
}

const padded = (size: number): number => size + (size % 2);

/** Copies a chunk with its header, and a zero pad byte after an odd size (even where the source lacks it). */
async function copyChunk(source: ByteSource, chunk: WavChunk, sink: ByteSink): Promise<void> {
  await copyRange(source, chunk.offset, chunk.offset + 8 + chunk.size, sink);
  if (chunk.size % 2) await sink.write(new Uint8Array(1));
}

/**
 * Writes `info`'s file with a new data chunk of `dataSize` bytes taken from `data`: every other
 * chunk copied verbatim, `fact` and `ds64` updated, RF64 when a size passes 32 bits (or
 * `rf64Limit`, lowered only by tests).
 */
export async function writeWav(
  source: ByteSource,
  info: WavInfo,
  dataSize: number,
  data: AsyncIterable<Uint8Array>,
  sink: ByteSink,
  rf64Limit = RIFF_MAX,
): Promise<void> {
  const frames = Math.floor(dataSize / (bytesPerSample(info.layout.encoding) * info.layout.channels));
  const before = info.chunks.slice(0, info.chunks.indexOf(info.data)).filter((c) => c.id !== 'ds64');
  const after = info.chunks.slice(info.chunks.indexOf(info.data) + 1);
  const chunkBytes = (list: readonly WavChunk[]): number => list.reduce((n, c) => n + 8 + padded(c.size), 0);
  const riffWithoutDs64 = 4 + chunkBytes(before) + 8 + padded(dataSize) + chunkBytes(after);
  const rf64 = info.form !== 'RIFF' || riffWithoutDs64 > rf64Limit || dataSize > rf64Limit;
  const riffSize = riffWithoutDs64 + (rf64 ? 8 + 28 : 0);
  const form = info.form === 'RIFF' ? (rf64 ? 'RF64' : 'RIFF') : info.form;

  await sink.write(chunkHeader(form, rf64 ? RIFF_MAX : riffSize));
  await sink.write(new Uint8Array([0x57, 0x41, 0x56, 0x45]));
  if (rf64) {
    await sink.write(chunkHeader('ds64', 28));
    await sink.write(ds64Payload(riffSize, dataSize, frames));
  }
  for (const chunk of before) {
    if (chunk.id === 'fact' && chunk.size >= 4) {
      // The fact chunk counts sample frames; it must follow the new length.
      const fact = await readExact(source, chunk.offset, 8 + padded(chunk.size), 'wav');
      viewOf(fact).setUint32(8, Math.min(frames, RIFF_MAX), true);
      await sink.write(fact);
    } else {
      await copyChunk(source, chunk, sink);
    }
  }
  await sink.write(chunkHeader('data', rf64 ? RIFF_MAX : dataSize));
  let written = 0;
  for await (const chunk of data) {
    written += chunk.length;
    await sink.write(chunk);
  }
  if (written !== dataSize) throw new LabelFormatError('wav', `wrote ${written} data bytes where ${dataSize} were planned`);
  if (dataSize % 2) await sink.write(new Uint8Array(1));
  for (const chunk of after) await copyChunk(source, chunk, sink);
}
