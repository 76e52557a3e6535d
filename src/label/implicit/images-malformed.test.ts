/**
 * Hand-made malformed images, one per failure mode the fuzz test looks for at random:
 * every codec answers with a LabelFormatError and leaves its input untouched.
 */
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { LabelFormatError } from '../errors.js';
import type { LabelCodec } from './codec.js';
import { BufferSink, bufferSource } from './bytes.js';
import { gifCodec } from './gif.js';
import { heifCodec } from './heif.js';
import { jpegCodec } from './jpeg.js';
import { crc32 } from './bytes.js';
import { pngCodec } from './png.js';
import { tiffCodec } from './tiff.js';
import { webpCodec } from './webp.js';

const bytes = (...parts: (number[] | string)[]): Uint8Array =>
  new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? Array.from(p, (c) => c.charCodeAt(0)) : p)));

function pngChunk(type: string, data: number[], length = data.length): number[] {
  const body = bytes(type, data);
  const crc = crc32(body);
  return [length >>> 24, (length >>> 16) & 255, (length >>> 8) & 255, length & 255, ...body, crc >>> 24, (crc >>> 16) & 255, (crc >>> 8) & 255, crc & 255];
}

const PNG_SIG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const IHDR = pngChunk('IHDR', [0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]);

/** A HEIF whose only item (the primary image) has one extent at `offset`. */
function heifWithExtent(offset: number): Uint8Array {
  const u32 = (n: number): number[] => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
  const full = (type: string, body: number[]): number[] => [...u32(body.length + 12), ...bytes(type), 0, 0, 0, 0, ...body];
  const infe = [...u32(21), ...bytes('infe'), 2, 0, 0, 0, 0, 1, 0, 0, ...bytes('av01'), 0];
  const iinf = full('iinf', [0, 1, ...infe]);
  const iloc = full('iloc', [0x44, 0x00, 0, 1, 0, 1, 0, 0, 0, 1, ...u32(offset), ...u32(10)]);
  const pitm = full('pitm', [0, 1]);
  const meta = full('meta', [...pitm, ...iinf, ...iloc]);
  return bytes([0, 0, 0, 16], 'ftyp', 'avif', [0, 0, 0, 0], meta);
}

const cases: [string, LabelCodec, Uint8Array][] = [
  ['JPEG segment length 0', jpegCodec, bytes([0xff, 0xd8, 0xff, 0xe1, 0x00, 0x00, 0xff, 0xda])],
  ['JPEG segment past the end', jpegCodec, bytes([0xff, 0xd8, 0xff, 0xe1, 0xff, 0xf0, 0x45])],
  ['JPEG with no scan', jpegCodec, bytes([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x00, 0x00])],
  ['PNG chunk length 2^32-1', pngCodec, bytes(PNG_SIG, IHDR, pngChunk('tEXt', [], 0xffffffff))],
  ['PNG without IEND', pngCodec, bytes(PNG_SIG, IHDR)],
  ['PNG not starting with IHDR', pngCodec, bytes(PNG_SIG, pngChunk('IEND', []))],
  ['PNG compressed iTXt that is not zlib', pngCodec, bytes(PNG_SIG, IHDR, pngChunk('iTXt', [...bytes('XML:com.adobe.xmp'), 0, 1, 0, 0, 0, 0x78, 0x9c, 1, 2, 3]), pngChunk('IEND', []))],
  ['PNG iTXt that inflates to 32 MiB (a compression bomb)', pngCodec, bytes(PNG_SIG, IHDR, pngChunk('iTXt', [...bytes('XML:com.adobe.xmp'), 0, 1, 0, 0, 0, ...deflateSync(new Uint8Array(32 << 20))]), pngChunk('IEND', []))],
  ['WebP RIFF size beyond the file', webpCodec, bytes('RIFF', [0xff, 0xff, 0xff, 0x7f], 'WEBP', 'VP8L', [1, 0, 0, 0, 0x2f, 0])],
  ['WebP chunk past the RIFF end', webpCodec, bytes('RIFF', [20, 0, 0, 0], 'WEBP', 'VP8L', [0xff, 0xff, 0, 0], [0, 0, 0, 0])],
  ['GIF sub-block past the end', gifCodec, bytes('GIF89a', [1, 0, 1, 0, 0, 0, 0], [0x21, 0xff, 11], 'XMP DataXMP', [200, 1, 2])],
  ['GIF unknown block', gifCodec, bytes('GIF89a', [1, 0, 1, 0, 0, 0, 0], [0x99])],
  ['TIFF IFD pointing past the end', tiffCodec, bytes('II', [42, 0], [0xff, 0xff, 0, 0])],
  ['TIFF IFD chain looping on itself', tiffCodec, bytes('II', [42, 0, 8, 0, 0, 0], [1, 0], [0x11, 0x01, 4, 0, 1, 0, 0, 0, 0, 0, 0, 0], [8, 0, 0, 0])],
  ['TIFF with 65535 entries', tiffCodec, bytes('MM', [0, 42, 0, 0, 0, 8], [0xff, 0xff])],
  ['HEIF box larger than the file', heifCodec, bytes([0, 0, 0, 16], 'ftyp', 'avif', [0, 0, 0, 0], [0xff, 0, 0, 0], 'meta')],
  ['HEIF without meta', heifCodec, bytes([0, 0, 0, 16], 'ftyp', 'avif', [0, 0, 0, 0], [0, 0, 0, 8], 'mdat')],
  ['HEIF iloc extent past the end of the file', heifCodec, heifWithExtent(0x7fffffff)],
];

describe('malformed images', () => {
  it.each(cases)('%s: a typed error, input untouched', async (_, codec, input) => {
    const before = input.slice();
    const outcomes = await Promise.allSettled([
      codec.read(bufferSource(input)),
      codec.write(bufferSource(input), '{"Label":"1"}', new BufferSink()),
      codec.remove(bufferSource(input), new BufferSink()),
      codec.payloadRanges(bufferSource(input)),
    ]);
    const errors = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected').map((o) => o.reason as unknown);
    expect(errors.length).toBeGreaterThan(0);
    for (const error of errors) expect(error).toBeInstanceOf(LabelFormatError);
    expect(input).toEqual(before);
  });
});
