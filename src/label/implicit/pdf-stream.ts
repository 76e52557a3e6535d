/**
 * @module label/implicit/pdf-stream
 * Decoding of the two stream kinds the label codec must read: cross-reference streams and
 * object streams (ISO 32000-1 §7.5.7, §7.5.8). Both are in practice FlateDecode with an
 * optional PNG predictor (§7.4.4.4); anything else is reported, not guessed. Inflated output
 * is capped, so a small "zip bomb" stream cannot exhaust memory.
 */
import { constants, inflateSync } from 'node:zlib';
import { LabelFormatError } from '../errors.js';
import { dictGet, dictInteger, type PdfDict, type PdfValue } from './pdf-lexer.js';

/** Largest decoded xref or object stream hegui accepts (a 10-million-object file needs ~70 MB). */
export const MAX_DECODED_STREAM = 128 * 1024 * 1024;

function fail(detail: string, offset?: number): never {
  throw new LabelFormatError('pdf', detail, offset === undefined ? undefined : { offset });
}

function asArray(value: PdfValue | undefined): (PdfValue | undefined)[] {
  if (value === undefined || value.kind === 'null') return [];
  return value.kind === 'array' ? value.items : [value];
}

/**
 * Decodes `data`, the raw bytes of the stream whose dictionary is `dict` at file offset
 * `offset`, through its /Filter chain.
 */
export function decodeStream(dict: PdfDict, data: Uint8Array, offset: number): Uint8Array {
  const filters = asArray(dictGet(dict, 'Filter'));
  const parms = asArray(dictGet(dict, 'DecodeParms'));
  let out = data;
  filters.forEach((filter, i) => {
    if (filter?.kind !== 'name') fail('a stream /Filter is not a name', offset);
    if (filter.name !== 'FlateDecode') fail(`a cross-reference or object stream uses /${filter.name}, which hegui does not decode`, offset);
    out = inflate(out, offset);
    const parm = parms[i];
    if (parm?.kind === 'dict') out = unpredict(out, parm, offset);
  });
  return out;
}

function inflate(data: Uint8Array, offset: number): Uint8Array {
  try {
    // Z_SYNC_FLUSH accepts a stream whose final checksum is missing, as viewers do.
    return inflateSync(data, { maxOutputLength: MAX_DECODED_STREAM, finishFlush: constants.Z_SYNC_FLUSH });
  } catch (error) {
    const detail = error instanceof RangeError ? `inflates past ${MAX_DECODED_STREAM} bytes` : 'is not valid FlateDecode data';
    throw new LabelFormatError('pdf', `a cross-reference or object stream ${detail}`, { offset, cause: error });
  }
}

/** Undoes a TIFF (2) or PNG (10-15) predictor (§7.4.4.4, Table 8). */
function unpredict(data: Uint8Array, parms: PdfDict, offset: number): Uint8Array {
  const predictor = dictInteger(parms, 'Predictor') ?? 1;
  if (predictor === 1) return data;
  const colors = dictInteger(parms, 'Colors') ?? 1;
  const bits = dictInteger(parms, 'BitsPerComponent') ?? 8;
  const columns = dictInteger(parms, 'Columns') ?? 1;
  if (colors < 1 || colors > 32 || ![1, 2, 4, 8, 16].includes(bits) || columns < 1 || columns > 1 << 24) {
    fail('a stream predictor has out-of-range /Colors, /BitsPerComponent or /Columns', offset);
  }
  const rowBytes = Math.ceil((columns * colors * bits) / 8);
  const pixelBytes = Math.max(1, Math.ceil((colors * bits) / 8));
  if (predictor === 2) {
    if (bits !== 8) fail('TIFF predictor with other than 8 bits per component', offset);
    const out = data.slice();
    for (let row = 0; row < out.length; row += rowBytes) {
      for (let i = row + pixelBytes; i < Math.min(row + rowBytes, out.length); i++) {
        out[i] = ((out[i] ?? 0) + (out[i - pixelBytes] ?? 0)) & 0xff;
      }
    }
    return out;
  }
  if (predictor < 10 || predictor > 15) fail(`unknown stream predictor ${predictor}`, offset);
  return unpredictPng(data, rowBytes, pixelBytes, offset);
}

/** PNG filters per row (each row starts with its filter type byte), as in ISO/IEC 15948 §9. */
function unpredictPng(data: Uint8Array, rowBytes: number, pixelBytes: number, offset: number): Uint8Array {
  const rows = Math.floor(data.length / (rowBytes + 1));
  const out = new Uint8Array(rows * rowBytes);
  for (let row = 0; row < rows; row++) {
    const type = data[row * (rowBytes + 1)];
    const src = row * (rowBytes + 1) + 1;
    const dst = row * rowBytes;
    for (let i = 0; i < rowBytes; i++) {
      const raw = data[src + i] ?? 0;
      const left = i >= pixelBytes ? (out[dst + i - pixelBytes] ?? 0) : 0;
      const up = row > 0 ? (out[dst + i - rowBytes] ?? 0) : 0;
      const upLeft = row > 0 && i >= pixelBytes ? (out[dst + i - rowBytes - pixelBytes] ?? 0) : 0;
      out[dst + i] = (raw + pngPredict(type, left, up, upLeft, offset)) & 0xff;
    }
  }
  return out;
}

function pngPredict(type: number | undefined, left: number, up: number, upLeft: number, offset: number): number {
  switch (type) {
    case 0:
      return 0;
    case 1:
      return left;
    case 2:
      return up;
    case 3:
      return Math.floor((left + up) / 2);
    case 4: {
      const p = left + up - upLeft;
      const pa = Math.abs(p - left);
      const pb = Math.abs(p - up);
      const pc = Math.abs(p - upLeft);
      return pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
    }
    default:
      return fail(`a PNG-predicted stream row has unknown filter type ${String(type)}`, offset);
  }
}
