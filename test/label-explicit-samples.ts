/**
 * @module test/label-explicit-samples
 * Deterministic images for the explicit-label tests and benchmark: every format and size class
 * GB 45438 §5.2 notices must handle (16x16, landscape, portrait, an 8000x500 panorama,
 * animated GIF and WebP), over busy, light, dark and mid-grey backgrounds, made with sharp.
 */
import sharp from 'sharp';

export type Background = 'busy' | 'light' | 'dark' | 'grey';

/** A seeded pseudo-random sequence (so every run draws the same pictures). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Raw RGB pixels: smooth colour fields plus noise (busy), or a flat tone with slight noise. */
export function pixels(width: number, height: number, background: Background, seed = 1): Buffer {
  const next = random(seed);
  const data = Buffer.alloc(width * height * 3);
  const flat = background === 'light' ? 235 : background === 'dark' ? 20 : 128;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) {
        const value =
          background === 'busy'
            ? 128 + 90 * Math.sin((x * (c + 1)) / 37 + y / 53 + seed) * Math.cos(y / (29 + c * 7)) + (next() - 0.5) * 70
            : flat + (next() - 0.5) * 10;
        data[at + c] = Math.max(0, Math.min(255, Math.round(value)));
      }
    }
  }
  return data;
}

export function rawImage(width: number, height: number, background: Background, seed = 1): sharp.Sharp {
  return sharp(pixels(width, height, background, seed), { raw: { width, height, channels: 3 } });
}

/** An animation of `frames` frames, each a different busy picture. */
export function animated(format: 'gif' | 'webp', width: number, height: number, frames = 3): Promise<Buffer> {
  const strip = Buffer.concat(Array.from({ length: frames }, (_, i) => pixels(width, height, i % 2 === 0 ? 'busy' : 'light', i + 3)));
  const base = sharp(strip, { raw: { width, height: height * frames, channels: 3, pageHeight: height } as sharp.CreateRaw });
  const delay = Array.from({ length: frames }, () => 120);
  return format === 'gif' ? base.gif({ loop: 0, delay }).toBuffer() : base.webp({ loop: 0, delay, quality: 85 }).toBuffer();
}

/** One named sample per format and size class. */
export async function explicitImageSamples(): Promise<Record<string, Buffer>> {
  return {
    'tiny-16x16.png': await rawImage(16, 16, 'busy').png().toBuffer(),
    'tiny-16x16.jpg': await rawImage(16, 16, 'light').jpeg({ quality: 90 }).toBuffer(),
    'landscape-1024x768-busy.jpg': await rawImage(1024, 768, 'busy').jpeg({ quality: 78 }).toBuffer(),
    'landscape-800x600-dark.png': await rawImage(800, 600, 'dark').png().toBuffer(),
    'landscape-640x480-grey.webp': await rawImage(640, 480, 'grey').webp({ quality: 80 }).toBuffer(),
    'portrait-600x1600-light.jpg': await rawImage(600, 1600, 'light').jpeg({ quality: 92 }).toBuffer(),
    'portrait-500x900-busy.webp': await rawImage(500, 900, 'busy').webp({ lossless: true }).toBuffer(),
    'panorama-8000x500-busy.jpg': await rawImage(8000, 500, 'busy').jpeg({ quality: 85 }).toBuffer(),
    'panorama-8000x500-light.png': await rawImage(8000, 500, 'light').png().toBuffer(),
    'still-320x240-busy.gif': await rawImage(320, 240, 'busy').gif().toBuffer(),
    'animated-200x150.gif': await animated('gif', 200, 150),
    'animated-240x180.webp': await animated('webp', 240, 180),
  };
}
