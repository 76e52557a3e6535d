/**
 * @module label/explicit/image-jpeg
 * How a JPEG was encoded, read from its headers, so that drawing a notice (GB 45438 §5.2)
 * re-encodes it the same way: the quality (estimated from the quantisation tables against the
 * IJG reference tables that libjpeg and nearly every encoder scale), the chroma subsampling and
 * whether it was progressive.
 */

/** The encoder settings a JPEG's headers reveal. */
export interface JpegEncoding {
  /** 1-100, the IJG quality whose tables are nearest to the file's; undefined without DQT. */
  quality: number | undefined;
  /** `4:4:4` when every component has the same sampling factors, `4:2:0` otherwise. */
  chromaSubsampling: '4:4:4' | '4:2:0';
  progressive: boolean;
}

/** ITU T.81 Annex K tables in zigzag order, as DQT stores them. */
const LUMA = [
  16, 11, 12, 14, 12, 10, 16, 14, 13, 14, 18, 17, 16, 19, 24, 40, 26, 24, 22, 22, 24, 49, 35, 37, 29, 40, 58, 51, 61, 60, 57, 51, 56, 55, 64, 72, 92, 78, 64, 68,
  87, 69, 55, 56, 80, 109, 81, 87, 95, 98, 103, 104, 103, 62, 77, 113, 121, 112, 100, 120, 92, 101, 103, 99,
];
const CHROMA = [
  17, 18, 18, 24, 21, 24, 47, 26, 26, 47, 99, 66, 56, 66, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
  99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
];

function scaled(base: readonly number[], quality: number): number[] {
  const scale = quality < 50 ? 5000 / quality : 200 - quality * 2;
  return base.map((value) => Math.min(255, Math.max(1, Math.floor((value * scale + 50) / 100))));
}

/** The reference tables at every quality 1-100 (index quality - 1), made on first use. */
let references: { luma: number[][]; chroma: number[][] } | undefined;

function distance(table: readonly number[], reference: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < 64; i++) sum += Math.abs((table[i] ?? 0) - (reference[i] ?? 0));
  return sum;
}

/** Recent estimates by table contents: a batch's files mostly share their encoder's tables. */
const estimates = new Map<string, number>();
const ESTIMATES_KEPT = 64;

/** The IJG quality whose scaled tables are nearest to `tables` (id 0 luma, id 1 chroma). */
function estimateQuality(tables: Map<number, number[]>): number | undefined {
  const luma = tables.get(0);
  if (!luma) return undefined;
  const chroma = tables.get(1);
  const key = `${luma.join(',')}/${chroma?.join(',') ?? ''}`;
  const known = estimates.get(key);
  if (known !== undefined) return known;
  references ??= {
    luma: Array.from({ length: 100 }, (_, i) => scaled(LUMA, i + 1)),
    chroma: Array.from({ length: 100 }, (_, i) => scaled(CHROMA, i + 1)),
  };
  let best = { quality: 0, error: Infinity };
  for (let quality = 1; quality <= 100; quality++) {
    const error = distance(luma, references.luma[quality - 1] as number[]) + (chroma ? distance(chroma, references.chroma[quality - 1] as number[]) : 0);
    if (error < best.error) best = { quality, error };
  }
  if (estimates.size >= ESTIMATES_KEPT) estimates.clear();
  estimates.set(key, best.quality);
  return best.quality;
}

function readTables(data: Uint8Array, start: number, end: number, tables: Map<number, number[]>): void {
  let at = start;
  while (at < end) {
    const info = data[at] ?? 0;
    const precision = info >> 4;
    const values: number[] = [];
    for (let i = 0; i < 64; i++) {
      values.push(precision ? ((data[at + 1 + i * 2] ?? 0) << 8) | (data[at + 2 + i * 2] ?? 0) : (data[at + 1 + i] ?? 0));
    }
    tables.set(info & 0x0f, values);
    at += 1 + 64 * (precision ? 2 : 1);
  }
}

/**
 * Reads the encoder settings from a JPEG's headers (up to the first scan). Values default to
 * what libjpeg does (4:2:0, baseline) where a header is missing.
 *
 * @example
 * const { quality } = jpegEncoding(bytes); // e.g. 85
 */
export function jpegEncoding(data: Uint8Array): JpegEncoding {
  const tables = new Map<number, number[]>();
  let chromaSubsampling: JpegEncoding['chromaSubsampling'] = '4:2:0';
  let progressive = false;
  let at = 2;
  while (at + 4 <= data.length && data[at] === 0xff) {
    const marker = data[at + 1] ?? 0;
    if (marker === 0xff) {
      at++;
      continue;
    }
    const length = ((data[at + 2] ?? 0) << 8) | (data[at + 3] ?? 0);
    const body = at + 4;
    if (marker === 0xdb) readTables(data, body, Math.min(data.length, at + 2 + length), tables);
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      progressive = marker === 0xc2 || marker === 0xc6 || marker === 0xca || marker === 0xce;
      const components = data[body + 5] ?? 0;
      const factors = new Set<number>();
      for (let i = 0; i < components; i++) factors.add(data[body + 6 + i * 3 + 1] ?? 0);
      chromaSubsampling = factors.size <= 1 ? '4:4:4' : '4:2:0';
    }
    if (marker === 0xda) break;
    at += 2 + length;
  }
  return { quality: estimateQuality(tables), chromaSubsampling, progressive };
}

/** A marker segment of a JPEG header: `[start, end)` including its marker bytes. */
export interface Segment {
  marker: number;
  start: number;
  end: number;
}

/** The marker segments before the first scan (SOS), in order; the last one may be cut short by the end of the data. */
export function headerSegments(data: Uint8Array): Segment[] {
  const segments: Segment[] = [];
  let at = 2;
  while (at + 4 <= data.length && data[at] === 0xff) {
    const marker = data[at + 1] ?? 0;
    if (marker === 0xda) break;
    const end = at + 2 + (((data[at + 2] ?? 0) << 8) | (data[at + 3] ?? 0));
    segments.push({ marker, start: at, end: Math.min(end, data.length) });
    at = end;
  }
  return segments;
}

/**
 * APP1-APP15 and COM: EXIF, XMP (with the implicit label), ICC, IPTC, comments. Not APP14
 * (Adobe), which states the colour transform of the old encoding, not of the new one.
 */
const isMetadata = (marker: number): boolean => ((marker >= 0xe1 && marker <= 0xef) || marker === 0xfe) && marker !== 0xee;

/** True when the JPEG embeds an ICC profile (APP2 `ICC_PROFILE`). */
export function hasIccProfile(data: Uint8Array): boolean {
  return headerSegments(data).some((s) => s.marker === 0xe2 && Buffer.from(data.subarray(s.start + 4, s.start + 15)).toString('latin1') === 'ICC_PROFILE');
}

/**
 * `encoded` (a JPEG written without metadata) with the metadata segments of `source` put
 * back, in their order, right after the start of image (and after a JFIF APP0, if any).
 */
export function withSourceMetadata(encoded: Uint8Array, source: Uint8Array): Uint8Array {
  const kept = headerSegments(source).filter((s) => isMetadata(s.marker));
  const own = headerSegments(encoded);
  const jfif = own.find((s) => s.marker === 0xe0);
  const after = jfif ? jfif.end : 2;
  const drop = own.filter((s) => isMetadata(s.marker));
  const parts: Uint8Array[] = [encoded.subarray(0, after), ...kept.map((s) => source.subarray(s.start, s.end))];
  let at = after;
  for (const s of drop) {
    parts.push(encoded.subarray(at, s.start));
    at = s.end;
  }
  parts.push(encoded.subarray(at));
  return Buffer.concat(parts);
}
