import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { imageGeometry, MAX_IMAGE_PIXELS, plainJpegGeometry, type ImageGeometry } from './image-codec.js';

/** The geometry as libvips reports it (what `imageGeometry` made of sharp's metadata before the header path). */
async function libvipsGeometry(bytes: Buffer): Promise<ImageGeometry> {
  const meta = await sharp(bytes, { animated: true }).metadata();
  const turned = (meta.orientation ?? 1) >= 5;
  return {
    format: 'jpeg',
    width: turned ? meta.height : meta.width,
    height: turned ? meta.width : meta.height,
    frames: meta.pages ?? 1,
    palette: meta.isPalette ?? false,
    orientation: meta.orientation ?? 1,
    space: meta.space ?? 'srgb',
    depth: meta.depth ?? 'uchar',
    alpha: meta.hasAlpha ?? false,
  };
}

/** `jpeg` with an APP1 segment holding `body` inserted after its start of image. */
function withApp1(jpeg: Buffer, body: string): Buffer {
  const payload = Buffer.from(body, 'latin1');
  const header = Buffer.from([0xff, 0xe1, (payload.length + 2) >> 8, (payload.length + 2) & 0xff]);
  return Buffer.concat([jpeg.subarray(0, 2), header, payload, jpeg.subarray(2)]);
}

describe('JPEG geometry from the headers', () => {
  const picture = (): sharp.Sharp => sharp({ create: { width: 123, height: 45, channels: 3, background: '#8040c0' } });

  it('reads what libvips reads for plain JPEGs: colour and grey, baseline and progressive, with XMP or an ICC profile', async () => {
    const samples = {
      baseline: await picture().jpeg({ quality: 85 }).toBuffer(),
      progressive444: await picture().jpeg({ quality: 80, progressive: true, chromaSubsampling: '4:4:4' }).toBuffer(),
      grey: await picture().greyscale().jpeg().toBuffer(),
      xmp: withApp1(await picture().jpeg().toBuffer(), 'http://ns.adobe.com/xap/1.0/\0<x:xmpmeta xmlns:x="adobe:ns:meta/"/>'),
      icc: await picture().withIccProfile('srgb').jpeg().toBuffer(),
    };
    for (const [name, bytes] of Object.entries(samples)) {
      const fromHeaders = plainJpegGeometry(bytes);
      expect(fromHeaders, name).toBeDefined();
      expect(fromHeaders, name).toEqual(await libvipsGeometry(bytes));
      expect(await imageGeometry(bytes, 'jpeg'), name).toEqual(fromHeaders);
    }
  });

  it('leaves to libvips a JPEG with EXIF, CMYK, headers cut short, or more pixels than it takes', async () => {
    const turned = await picture().withMetadata({ orientation: 6 }).jpeg().toBuffer();
    expect(plainJpegGeometry(turned)).toBeUndefined();
    expect(await imageGeometry(turned, 'jpeg')).toMatchObject({ width: 45, height: 123, orientation: 6 });
    const cmyk = await picture().toColourspace('cmyk').jpeg().toBuffer();
    expect(plainJpegGeometry(cmyk)).toBeUndefined();
    expect((await imageGeometry(cmyk, 'jpeg')).space).toBe('cmyk');
    const whole = await picture().jpeg().toBuffer();
    expect(plainJpegGeometry(whole.subarray(0, 100))).toBeUndefined();
    // 9000x9000 in the frame header: over the limit, so libvips says no, in its words.
    const huge = Buffer.from(whole);
    const sof = huge.indexOf(Buffer.from([0xff, 0xc0]));
    huge.writeUInt16BE(9000, sof + 5);
    huge.writeUInt16BE(9000, sof + 7);
    expect(9000 * 9000).toBeGreaterThan(MAX_IMAGE_PIXELS);
    expect(plainJpegGeometry(huge)).toBeUndefined();
    await expect(imageGeometry(huge, 'jpeg')).rejects.toMatchObject({ code: 'E_LABEL_IMAGE_DECODE' });
  });
});
