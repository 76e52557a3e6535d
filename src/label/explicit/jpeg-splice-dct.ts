/**
 * @module label/explicit/jpeg-splice-dct
 * The 8x8 DCT of ITU T.81 A.3.3 in floating point (separable, each 8-point pass split into its
 * even and odd halves), for the few blocks the DCT-block splice
 * (`jpeg-splice.ts`) changes: dequantise and inverse-transform a block of zigzag-ordered
 * coefficients into samples, and transform and quantise samples back (rounding half away from
 * zero, as libjpeg does).
 */

/** Natural (row-major) index of each zigzag position. */
export const ZIGZAG = Uint8Array.from([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30,
  37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
]);

/** BASIS[x * 8 + u] = C(u)/2 cos((2x+1)uπ/16). */
const BASIS = new Float64Array(64);
for (let x = 0; x < 8; x++) {
  for (let u = 0; u < 8; u++) BASIS[x * 8 + u] = ((u === 0 ? Math.SQRT1_2 : 1) / 2) * Math.cos(((2 * x + 1) * u * Math.PI) / 16);
}

const work = new Float64Array(64);
const freq = new Float64Array(64);

// The basis is symmetric: BASIS[7 - x, u] = (-1)^u BASIS[x, u]. Each 8-point transform is
// then an even half (u even) and an odd half (u odd) of 4x4 products each, 32 multiplications
// instead of 64: out[x] = even + odd and out[7 - x] = even - odd.
const E = new Float64Array(16);
const O = new Float64Array(16);
for (let x = 0; x < 4; x++) {
  for (let j = 0; j < 4; j++) {
    E[x * 4 + j] = BASIS[x * 8 + 2 * j] as number;
    O[x * 4 + j] = BASIS[x * 8 + 2 * j + 1] as number;
  }
}

/** One inverse 8-point transform: `src[at + u * step]` (u = 0-7) to `dst[to + x * out]` (x = 0-7). */
function inverse8(src: Float64Array, at: number, step: number, dst: Float64Array, to: number, out: number): void {
  const f0 = src[at] as number;
  const f1 = src[at + step] as number;
  const f2 = src[at + 2 * step] as number;
  const f3 = src[at + 3 * step] as number;
  const f4 = src[at + 4 * step] as number;
  const f5 = src[at + 5 * step] as number;
  const f6 = src[at + 6 * step] as number;
  const f7 = src[at + 7 * step] as number;
  for (let x = 0; x < 4; x++) {
    const e = (E[x * 4] as number) * f0 + (E[x * 4 + 1] as number) * f2 + (E[x * 4 + 2] as number) * f4 + (E[x * 4 + 3] as number) * f6;
    const o = (O[x * 4] as number) * f1 + (O[x * 4 + 1] as number) * f3 + (O[x * 4 + 2] as number) * f5 + (O[x * 4 + 3] as number) * f7;
    dst[to + x * out] = e + o;
    dst[to + (7 - x) * out] = e - o;
  }
}

/** One forward 8-point transform: `src[at + x * step]` (x = 0-7, minus `shift`) to `dst[to + u * out]` (u = 0-7). */
function forward8(src: Float64Array | Float32Array, at: number, step: number, shift: number, dst: Float64Array, to: number, out: number): void {
  const a0 = (src[at] as number) - shift;
  const a1 = (src[at + step] as number) - shift;
  const a2 = (src[at + 2 * step] as number) - shift;
  const a3 = (src[at + 3 * step] as number) - shift;
  const a4 = (src[at + 4 * step] as number) - shift;
  const a5 = (src[at + 5 * step] as number) - shift;
  const a6 = (src[at + 6 * step] as number) - shift;
  const a7 = (src[at + 7 * step] as number) - shift;
  const s0 = a0 + a7;
  const s1 = a1 + a6;
  const s2 = a2 + a5;
  const s3 = a3 + a4;
  const d0 = a0 - a7;
  const d1 = a1 - a6;
  const d2 = a2 - a5;
  const d3 = a3 - a4;
  for (let j = 0; j < 4; j++) {
    dst[to + 2 * j * out] = (E[j] as number) * s0 + (E[4 + j] as number) * s1 + (E[8 + j] as number) * s2 + (E[12 + j] as number) * s3;
    dst[to + (2 * j + 1) * out] = (O[j] as number) * d0 + (O[4 + j] as number) * d1 + (O[8 + j] as number) * d2 + (O[12 + j] as number) * d3;
  }
}

/**
 * Dequantises and inverse-transforms the block at `coefficients[base]` (zigzag, `quant` zigzag
 * too) into `plane` at (`x`, `y`) with row length `stride`, level-shifted and clamped to 0-255.
 */
export function inverseBlock(coefficients: Int16Array, base: number, quant: Uint16Array, plane: Float32Array, stride: number, x: number, y: number): void {
  freq.fill(0);
  // Rows of frequencies with a non-zero coefficient (the others transform to zeros).
  let rows = 0;
  for (let k = 0; k < 64; k++) {
    const value = coefficients[base + k] as number;
    if (value === 0) continue;
    const at = ZIGZAG[k] as number;
    freq[at] = value * (quant[k] as number);
    rows |= 1 << (at >> 3);
  }
  // Rows: work[v * 8 + x] = Σ_u BASIS[x, u] F[v, u]
  for (let v = 0; v < 8; v++) {
    if ((rows & (1 << v)) === 0) work.fill(0, v * 8, v * 8 + 8);
    else inverse8(freq, v * 8, 1, work, v * 8, 1);
  }
  // Columns: f[j, i] = Σ_v BASIS[j, v] work[v, i]
  for (let i = 0; i < 8; i++) inverse8(work, i, 8, freq, i, 8);
  for (let j = 0; j < 8; j++) {
    const row = (y + j) * stride + x;
    for (let i = 0; i < 8; i++) {
      const sample = (freq[j * 8 + i] as number) + 128;
      plane[row + i] = sample < 0 ? 0 : sample > 255 ? 255 : sample;
    }
  }
}

/**
 * Transforms the 8x8 samples of `plane` at (`x`, `y`) and quantises them with `quant` (zigzag)
 * into `coefficients[base]` (zigzag).
 */
export function forwardBlock(plane: Float32Array, stride: number, x: number, y: number, quant: Uint16Array, coefficients: Int16Array, base: number): void {
  // Rows: work[j * 8 + u] = Σ_i BASIS[i, u] (f[j, i] - 128)
  for (let j = 0; j < 8; j++) forward8(plane, (y + j) * stride + x, 1, 128, work, j * 8, 1);
  // Columns: F[v, u] = Σ_j BASIS[j, v] work[j, u]
  for (let u = 0; u < 8; u++) forward8(work, u, 8, 0, freq, u, 8);
  for (let k = 0; k < 64; k++) {
    const scaled = (freq[ZIGZAG[k] as number] as number) / (quant[k] as number);
    let q = scaled < 0 ? -Math.floor(-scaled + 0.5) : Math.floor(scaled + 0.5);
    if (q > 1023) q = 1023;
    else if (q < -1023) q = -1023;
    coefficients[base + k] = q;
  }
}
