/**
 * Test pictures: raw RGB pixels that JPEG-code like a photograph's (smooth colour with seeded
 * noise), the same for a given size, shading, noise and seed on every run.
 */

/** The smooth part of a test picture: the value (about 0-255) of channel `c` at `x`, `y`. */
export type Shade = (x: number, y: number, c: number) => number;

/**
 * `width * height * 3` bytes of RGB: `shade` plus seeded noise of strength `noise` (a linear
 * congruential sequence from `seed`), rounded and clamped to a byte.
 */
export function shadedField(width: number, height: number, shade: Shade, noise: number, seed: number): Buffer {
  let state = seed;
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
        const value = shade(x, y, c) + (state / 2 ** 32 - 0.5) * noise;
        data[(y * width + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(value)));
      }
    }
  }
  return data;
}

/** A smooth colour field with seeded noise of strength `noise`. */
export function noisyField(width: number, height: number, noise = 20, seed = 3): Buffer {
  return shadedField(width, height, (x, y, c) => 128 + 80 * Math.sin((x * (c + 1)) / 53 + y / 61), noise, seed);
}

/**
 * A notice-like RGBA overlay of `box`'s size: light and dark stripes (sharp edges, as glyphs
 * make) with a half-transparent edge of two pixels at the top and left.
 */
export function stripedOverlay(box: { width: number; height: number }): Buffer {
  const rgba = Buffer.alloc(box.width * box.height * 4);
  for (let y = 0; y < box.height; y++) {
    for (let x = 0; x < box.width; x++) {
      const at = (y * box.width + x) * 4;
      const light = y > box.height / 4 && y < (box.height * 3) / 4 && x % 12 < 6;
      rgba.fill(light ? 250 : 20, at, at + 3);
      rgba[at + 3] = x < 2 || y < 2 ? 128 : 255;
    }
  }
  return rgba;
}
