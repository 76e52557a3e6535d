import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { jpegEncoding } from './image-jpeg.js';

describe('JPEG encoder settings from headers', () => {
  it('estimates the IJG quality libjpeg encoded at, and reads subsampling and progressive mode', async () => {
    const raw = sharp({ create: { width: 48, height: 32, channels: 3, background: '#8040c0' } });
    for (const quality of [10, 35, 50, 62, 75, 85, 90, 95, 100]) {
      expect(jpegEncoding(await raw.clone().jpeg({ quality }).toBuffer()).quality, `quality ${quality}`).toBe(quality);
    }
    const full = jpegEncoding(await raw.clone().jpeg({ quality: 80, chromaSubsampling: '4:4:4', progressive: true }).toBuffer());
    expect(full).toEqual({ quality: 80, chromaSubsampling: '4:4:4', progressive: true });
    expect(jpegEncoding(await raw.clone().jpeg({ quality: 80 }).toBuffer()).chromaSubsampling).toBe('4:2:0');
  });

  it('gives each file its own tables\' quality when files of different qualities alternate (estimates kept by table contents)', async () => {
    const raw = sharp({ create: { width: 16, height: 16, channels: 3, background: '#336699' } });
    const files = await Promise.all([20, 85, 85, 97].map((quality) => raw.clone().jpeg({ quality }).toBuffer()));
    const grey = await raw.clone().greyscale().jpeg({ quality: 85 }).toBuffer();
    for (let round = 0; round < 3; round++) {
      expect(files.map((bytes) => jpegEncoding(bytes).quality)).toEqual([20, 85, 85, 97]);
      expect(jpegEncoding(grey).quality).toBe(85);
    }
  });

  it('gives no quality when the file has no quantisation tables', () => {
    expect(jpegEncoding(Uint8Array.from([0xff, 0xd8, 0xff, 0xd9])).quality).toBeUndefined();
  });
});
