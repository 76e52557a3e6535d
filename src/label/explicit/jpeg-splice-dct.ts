/**
 * @module label/explicit/jpeg-splice-dct
 * The 8x8 DCT of ITU T.81 A.3.3 in floating point, for the few blocks the DCT-block splice
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

/**
 * Dequantises and inverse-transforms the block at `coefficients[base]` (zigzag, `quant` zigzag
 * too) into `plane` at (`x`, `y`) with row length `stride`, level-shifted and clamped to 0-255.
 */
export function inverseBlock(coefficients: Int16Array, base: number, quant: Uint16Array, plane: Float32Array, stride: number, x: number, y: number): void {
  freq.fill(0);
  for (let k = 0; k < 64; k++) {
    const value = coefficients[base + k] as number;
    if (value !== 0) freq[ZIGZAG[k] as number] = value * (quant[k] as number);
  }
  // Rows: work[v * 8 + x] = Σ_u BASIS[x, u] F[v, u]
  for (let v = 0; v < 8; v++) {
    for (let i = 0; i < 8; i++) {
      let sum = 0;
      for (let u = 0; u < 8; u++) sum += (BASIS[i * 8 + u] as number) * (freq[v * 8 + u] as number);
      work[v * 8 + i] = sum;
    }
  }
  // Columns: f[j, i] = Σ_v BASIS[j, v] work[v, i]
  for (let j = 0; j < 8; j++) {
    const row = (y + j) * stride + x;
    for (let i = 0; i < 8; i++) {
      let sum = 0;
      for (let v = 0; v < 8; v++) sum += (BASIS[j * 8 + v] as number) * (work[v * 8 + i] as number);
      const sample = sum + 128;
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
  for (let j = 0; j < 8; j++) {
    const row = (y + j) * stride + x;
    for (let u = 0; u < 8; u++) {
      let sum = 0;
      for (let i = 0; i < 8; i++) sum += (BASIS[i * 8 + u] as number) * ((plane[row + i] as number) - 128);
      work[j * 8 + u] = sum;
    }
  }
  // Columns: F[v, u] = Σ_j BASIS[j, v] work[j, u]
  for (let v = 0; v < 8; v++) {
    for (let u = 0; u < 8; u++) {
      let sum = 0;
      for (let j = 0; j < 8; j++) sum += (BASIS[j * 8 + v] as number) * (work[j * 8 + u] as number);
      freq[v * 8 + u] = sum;
    }
  }
  for (let k = 0; k < 64; k++) {
    const scaled = (freq[ZIGZAG[k] as number] as number) / (quant[k] as number);
    let q = scaled < 0 ? -Math.floor(-scaled + 0.5) : Math.floor(scaled + 0.5);
    if (q > 1023) q = 1023;
    else if (q < -1023) q = -1023;
    coefficients[base + k] = q;
  }
}
