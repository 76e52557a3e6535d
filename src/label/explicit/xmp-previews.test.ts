/**
 * A labelled JPEG keeps no picture in its XMP and no motion photo's video (`jpeg-previews.ts`,
 * `xmp-previews.ts`): `xmp:Thumbnails` written by exiftool (in the packet, and moved by exiftool
 * to extended XMP when large) and a hand-built `GImage:Data` in extended XMP are taken out, the
 * extended packet written again under the MD5 of its bytes; a motion photo (JPEG + ffmpeg MP4 +
 * Google's XMP, or Samsung's trailer) loses its video and the XMP describing it; the user's
 * other properties and the implicit label survive. Hostile XMP gives a typed error (a main
 * packet) or is removed whole (extended chunks that cannot be put together or read), and plain
 * XMP comes out byte for byte. The checker fails an XMP thumbnail made before the notice.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { systemTool } from '../../../test/helpers/system.js';
import { embedLabel, readLabels } from '../api.js';
import { LabelFormatError } from '../errors.js';
import { scanXml } from '../implicit/xmp-scan.js';
import { withoutXmpProperties } from '../implicit/xmp.js';
import { checkExplicitLabel } from './check.js';
import { headerSegments } from './image-jpeg.js';
import { labelImage, type ImageLabelResult } from './image.js';
import { labelledPreviews, pictureEnd } from './jpeg-previews.js';
import { base64Picture, xmpPictures } from './xmp-previews.js';
import { noisyField as pixels } from '../../../test/helpers/pixels.js';

const exiftool = systemTool('exiftool', 'libimage-exiftool-perl');
const ffmpeg = systemTool('ffmpeg', 'ffmpeg');
const dir = mkdtempSync(join(tmpdir(), 'hegui-xmp-previews-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PRODUCER = '001191350100M000100Y431A001';
const XMP_ID = 'http://ns.adobe.com/xap/1.0/\0';
const EXTENDED_ID = 'http://ns.adobe.com/xmp/extension/\0';
const RDF = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#';

const jpeg = (width: number, height: number, noise?: number, quality = 85): Promise<Buffer> => sharp(pixels(width, height, noise), { raw: { width, height, channels: 3 } }).jpeg({ quality }).toBuffer();

let files = 0;
function withExiftool(bytes: Uint8Array, args: string[], read = false): Buffer {
  const path = join(dir, `f${files++}.jpg`);
  writeFileSync(path, bytes);
  const out = execFileSync('exiftool', [...args, path], { maxBuffer: 1 << 26 });
  return read ? out : readFileSync(path);
}

function withXmpThumbnail(bytes: Uint8Array, thumb: Uint8Array): Buffer {
  const path = join(dir, `t${files++}.jpg`);
  writeFileSync(path, thumb);
  return withExiftool(bytes, ['-q', '-overwrite_original', `-XMP-xmp:ThumbnailImage<=${path}`, '-XMP-xmp:ThumbnailFormat=JPEG', '-XMP-dc:Title=hello']);
}

const tags = (bytes: Uint8Array, ...names: string[]): string => withExiftool(bytes, ['-a', '-G1', '-s', ...names], true).toString();

function segment(marker: number, ...body: (string | Uint8Array)[]): Buffer {
  const data = Buffer.concat(body.map((b) => (typeof b === 'string' ? Buffer.from(b, 'latin1') : Buffer.from(b))));
  const head = Buffer.from([0xff, marker, 0, 0]);
  head.writeUInt16BE(data.length + 2, 2);
  return Buffer.concat([head, data]);
}

const packet = (inner: string, namespaces = ''): string =>
  `<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="${RDF}"><rdf:Description rdf:about=""${namespaces}>${inner}</rdf:Description></rdf:RDF></x:xmpmeta>\n${' '.repeat(200)}<?xpacket end="w"?>`;

const app1Xmp = (text: string): Buffer => segment(0xe1, XMP_ID, Buffer.from(text, 'utf8'));

/** The APP1 segments of an extended packet, in chunks of `size` bytes, under `guid` (default: its MD5). */
function extendedChunks(text: string, size = 65000, guid?: string): Buffer[] {
  const bytes = Buffer.from(text, 'utf8');
  const id = guid ?? createHash('md5').update(bytes).digest('hex').toUpperCase();
  const out: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += size) {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(bytes.length, 0);
    head.writeUInt32BE(offset, 4);
    out.push(segment(0xe1, EXTENDED_ID, id, head, bytes.subarray(offset, offset + size)));
  }
  return out;
}

/** `main` with `segments` inserted after its SOI. */
const withSegments = (main: Uint8Array, ...segments: Uint8Array[]): Buffer => Buffer.concat([main.subarray(0, 2), ...segments, main.subarray(2)]);

/** The main XMP packets and the extended chunks of a JPEG. */
function xmpOf(bytes: Uint8Array): { main: string[]; extended: { guid: string; full: number; offset: number; data: Buffer }[] } {
  const main: string[] = [];
  const extended: { guid: string; full: number; offset: number; data: Buffer }[] = [];
  for (const s of headerSegments(bytes)) {
    const body = Buffer.from(bytes.subarray(s.start + 4, s.end));
    if (s.marker !== 0xe1) continue;
    if (body.subarray(0, XMP_ID.length).toString('latin1') === XMP_ID) main.push(body.subarray(XMP_ID.length).toString('utf8'));
    if (body.subarray(0, EXTENDED_ID.length).toString('latin1') === EXTENDED_ID) {
      const at = EXTENDED_ID.length;
      extended.push({ guid: body.subarray(at, at + 32).toString('latin1'), full: body.readUInt32BE(at + 32), offset: body.readUInt32BE(at + 36), data: body.subarray(at + 40) });
    }
  }
  return { main, extended };
}

/** Every extended packet is complete, named by its MD5, and linked from the main packet. */
function expectConsistentExtended(bytes: Uint8Array): void {
  const { main, extended } = xmpOf(bytes);
  for (const guid of new Set(extended.map((c) => c.guid))) {
    const chunks = extended.filter((c) => c.guid === guid).sort((a, b) => a.offset - b.offset);
    const whole = Buffer.concat(chunks.map((c) => c.data));
    expect(whole.length).toBe(chunks[0]?.full);
    expect(createHash('md5').update(whole).digest('hex').toUpperCase()).toBe(guid);
    scanXml(whole.toString('utf8'));
    expect(main.join('')).toContain(guid);
  }
  for (const text of main) scanXml(text);
}

const changeOf = (result: { previews?: ImageLabelResult['previews'] } | { changes: ImageLabelResult['previews'] }, kind: string): { action: string; detail: string } | undefined =>
  ('changes' in result ? result.changes : result.previews)?.find((p) => p.kind === kind);
const contains = (haystack: Uint8Array, needle: string | Uint8Array): boolean => Buffer.from(haystack).indexOf(typeof needle === 'string' ? Buffer.from(needle, 'latin1') : Buffer.from(needle)) >= 0;
/** Base64 of the last bytes of a picture: what would be left of it in an XMP packet. */
const base64Tail = (picture: Uint8Array): string => Buffer.from(picture.subarray(picture.length - 300)).toString('base64').slice(8, 60);

describe('XMP properties', () => {
  it('are taken out by element or attribute, every other byte kept', () => {
    const text = packet(
      '<xmp:Thumbnails><rdf:Alt><rdf:li rdf:parseType="Resource"><xmpGImg:image>/9j/4AAQSkZJRgABAQAAAQABAAD</xmpGImg:image></rdf:li></rdf:Alt></xmp:Thumbnails><dc:format>image/jpeg</dc:format><TC260:AIGC>{"Label":"1"}</TC260:AIGC>',
      ` xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:xmpGImg="http://ns.adobe.com/xap/1.0/g/img/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:TC260="http://www.tc260.org.cn/ns/AIGC/1.0/" xmlns:GCamera="http://ns.google.com/photos/1.0/camera/" GCamera:MicroVideo="1" GCamera:Other="2"`,
    );
    const { packet: out, removed } = withoutXmpProperties(text, (p) => p.local === 'Thumbnails' || p.local === 'MicroVideo');
    expect(removed.map((p) => p.name)).toEqual(['GCamera:MicroVideo', 'xmp:Thumbnails']);
    expect(out).toBe(text.replace(' GCamera:MicroVideo="1"', '').replace(/<xmp:Thumbnails>.*<\/xmp:Thumbnails>/, ''));
    expect(withoutXmpProperties(text, () => false).packet).toBe(text);
    expect(() => withoutXmpProperties('<x:xmpmeta xmlns:x="adobe:ns:meta/"><a></b></x:xmpmeta>', () => true)).toThrow(LabelFormatError);
  });

  it('recognise base64 pictures by their first bytes', () => {
    expect(base64Picture('/9j/4AAQSkZJRgABAQ')).toBe('JPEG');
    expect(base64Picture('  iVBORw0K\n GgoAAAANSUhEUg')).toBe('PNG');
    expect(base64Picture('AAAAGGZ0eXBtcDQyAAAAAG1wNDE=')).toBe('mp42');
    expect(base64Picture('hello world, not base64')).toBeUndefined();
    expect(base64Picture('QUJDREVGR0hJSktMTU5PUA==')).toBeUndefined();
  });
});

describe.runIf(exiftool)('XMP thumbnails', () => {
  for (const jpegMethod of ['splice', 'reencode'] as const) {
    it(`are removed from the XMP packet, the rest and the implicit label kept (${jpegMethod})`, async () => {
      const main = await jpeg(640, 480);
      const thumb = await sharp(main).resize(256, 192).jpeg({ quality: 80 }).toBuffer();
      const source = (await embedLabel(withXmpThumbnail(main, thumb), { producer: PRODUCER, produceId: 'xmp-thumb-1' })).bytes as Uint8Array;
      expect(tags(source, '-XMP-xmp:ThumbnailImage')).toContain('Binary data');
      const result = await labelImage(source, { jpegMethod });
      expect(changeOf(result, 'xmp-thumbnail')).toEqual({ kind: 'xmp-thumbnail', action: 'removed', detail: 'xmp:Thumbnails in the XMP packet' });
      const after = tags(result.bytes, '-XMP:all', '-Warning');
      expect(after).not.toMatch(/Thumbnail|Warning/);
      expect(after).toMatch(/Title\s+: hello/);
      expect(contains(result.bytes, base64Tail(thumb))).toBe(false);
      expect((await readLabels(result.bytes)).found.map((f) => f.label?.ProduceID)).toContain('xmp-thumb-1');
      expectConsistentExtended(result.bytes);
    });
  }

  it('are removed from extended XMP (exiftool moves a large one there), and the link to it', async () => {
    const main = await jpeg(640, 480);
    const thumb = await sharp(pixels(400, 300, 255), { raw: { width: 400, height: 300, channels: 3 } }).jpeg({ quality: 95 }).toBuffer();
    const source = withXmpThumbnail(main, thumb);
    expect(xmpOf(source).extended.length).toBeGreaterThan(1);
    const result = await labelImage(source);
    expect(changeOf(result, 'xmp-thumbnail')).toEqual({ kind: 'xmp-thumbnail', action: 'removed', detail: 'xmp:Thumbnails in the extended XMP' });
    expect(xmpOf(result.bytes).extended).toEqual([]);
    const after = tags(result.bytes, '-XMP:all', '-Warning');
    expect(after).not.toMatch(/Thumbnail|Warning|HasExtendedXMP/);
    expect(after).toMatch(/Title\s+: hello/);
    expect(contains(result.bytes, base64Tail(thumb))).toBe(false);
    expectConsistentExtended(result.bytes);
  });

  it('take a GImage:Data out of extended XMP, which is written again under its new MD5 with the rest', async () => {
    const main = await jpeg(640, 480);
    const original = await jpeg(640, 480, 120, 95);
    expect(original.length).toBeGreaterThan(70000); // two chunks
    const description = 'x'.repeat(3000);
    const ext = `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="${RDF}"><rdf:Description rdf:about="" xmlns:GImage="http://ns.google.com/photos/1.0/image/" xmlns:dc="http://purl.org/dc/elements/1.1/" GImage:Mime="image/jpeg"><GImage:Data>${original.toString('base64')}</GImage:Data><dc:description><rdf:Alt><rdf:li xml:lang="x-default">${description}</rdf:li></rdf:Alt></dc:description></rdf:Description></rdf:RDF></x:xmpmeta>`;
    const guid = createHash('md5').update(ext).digest('hex').toUpperCase();
    const mainPacket = packet('<dc:format>image/jpeg</dc:format>', ` xmlns:xmpNote="http://ns.adobe.com/xmp/note/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmpNote:HasExtendedXMP="${guid}"`);
    const source = withSegments(main, app1Xmp(mainPacket), ...extendedChunks(ext));
    expect(tags(source, '-XMP:Description', '-Warning')).toContain('xxxx');
    for (const jpegMethod of ['splice', 'reencode'] as const) {
      const result = await labelImage(source, { jpegMethod });
      expect(changeOf(result, 'xmp-picture')).toEqual({ kind: 'xmp-picture', action: 'removed', detail: 'GImage:Mime, GImage:Data in the extended XMP' });
      expectConsistentExtended(result.bytes);
      const { extended } = xmpOf(result.bytes);
      expect(extended.length).toBe(1);
      expect(extended[0]?.guid).not.toBe(guid);
      const after = tags(result.bytes, '-XMP:all', '-Warning');
      expect(after).toContain(description);
      expect(after).not.toMatch(/GImage|Warning|Image Data/);
      expect(contains(result.bytes, base64Tail(original))).toBe(false);
    }
  });
});

/** A short MP4 from ffmpeg's test source. */
function mp4(): Buffer {
  const path = join(dir, `v${files++}.mp4`);
  execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10', '-t', '1', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', path]);
  return readFileSync(path);
}

const GOOGLE_NS = ' xmlns:GCamera="http://ns.google.com/photos/1.0/camera/" xmlns:Container="http://ns.google.com/photos/1.0/container/" xmlns:Item="http://ns.google.com/photos/1.0/container/item/" xmlns:dc="http://purl.org/dc/elements/1.1/"';

/** A Pixel-style motion photo: `main` with Google's XMP (attributes and a container directory) and `video` after its end. */
function motionPhoto(main: Uint8Array, video: Uint8Array): Buffer {
  const text = packet(
    `<Container:Directory><rdf:Seq><rdf:li rdf:parseType="Resource"><Container:Item Item:Mime="image/jpeg" Item:Semantic="Primary" Item:Length="0" Item:Padding="0"/></rdf:li><rdf:li rdf:parseType="Resource"><Container:Item Item:Mime="video/mp4" Item:Semantic="MotionPhoto" Item:Length="${video.length}"/></rdf:li></rdf:Seq></Container:Directory><dc:format>image/jpeg</dc:format>`,
    `${GOOGLE_NS} GCamera:MotionPhoto="1" GCamera:MotionPhotoVersion="1" GCamera:MotionPhotoPresentationTimestampUs="0" GCamera:MicroVideo="1" GCamera:MicroVideoOffset="${video.length}"`,
  );
  return Buffer.concat([withSegments(main, app1Xmp(text)), video]);
}

describe.runIf(exiftool && ffmpeg)('motion photos', () => {
  for (const jpegMethod of ['splice', 'reencode'] as const) {
    it(`lose their video and the XMP describing it (${jpegMethod})`, async () => {
      const main = await jpeg(640, 480);
      const video = mp4();
      const source = (await embedLabel(motionPhoto(main, video), { producer: PRODUCER, produceId: 'motion-1' })).bytes as Uint8Array;
      expect(tags(source, '-XMP:all')).toMatch(/MotionPhoto/);
      const result = await labelImage(source, { jpegMethod });
      expect(changeOf(result, 'motion-photo')).toEqual({
        kind: 'motion-photo',
        action: 'removed',
        detail: `the video after the picture (${video.length} bytes); the XMP properties that described it (GCamera:MotionPhoto, GCamera:MotionPhotoVersion, GCamera:MotionPhotoPresentationTimestampUs, GCamera:MicroVideo, GCamera:MicroVideoOffset, Container:Directory) removed`,
      });
      expect(changeOf(result, 'trailing-data')).toBeUndefined();
      expect(pictureEnd(result.bytes)).toBe(result.bytes.length);
      expect(contains(result.bytes, 'ftyp')).toBe(false);
      const after = tags(result.bytes, '-XMP:all', '-Warning');
      expect(after).not.toMatch(/MotionPhoto|MicroVideo|Directory|Warning/);
      expect(after).toMatch(/Format\s+: image\/jpeg/);
      expect((await readLabels(result.bytes)).found.map((f) => f.label?.ProduceID)).toContain('motion-1');
    });
  }

  it('of Samsung (a MotionPhoto_Data trailer, no XMP) lose their video', async () => {
    const main = await jpeg(320, 240);
    const video = mp4();
    const result = await labelImage(Buffer.concat([main, Buffer.from('MotionPhoto_Data', 'latin1'), video, Buffer.from('SEFHxxxxSEFT', 'latin1')]));
    expect(changeOf(result, 'motion-photo')?.detail).toMatch(/^the video after the picture \(\d+ bytes\)$/);
    expect(result.bytes.length).toBe(pictureEnd(result.bytes));
  });

  it('whose video is already gone lose the XMP that described it', async () => {
    const main = await jpeg(320, 240);
    const source = motionPhoto(main, Buffer.alloc(0));
    const { bytes, changes } = await labelledPreviews(source, source);
    expect(changeOf({ changes }, 'motion-photo')?.detail).toMatch(/^no video after the picture; the XMP properties that described it \(GCamera:MotionPhoto, .*Container:Directory\) removed$/);
    expect(Buffer.from(bytes).toString('latin1')).not.toMatch(/GCamera:M|Container:Directory/);
  });
});

describe('container directories', () => {
  it('(Ultra HDR: hdrgm and Container:Directory) go with the gain map after the picture', async () => {
    const main = await jpeg(320, 240);
    const gainMap = await jpeg(160, 120);
    const text = packet(
      '<Container:Directory><rdf:Seq><rdf:li rdf:parseType="Resource"><Container:Item Item:Semantic="Primary" Item:Mime="image/jpeg"/></rdf:li><rdf:li rdf:parseType="Resource"><Container:Item Item:Semantic="GainMap" Item:Mime="image/jpeg" Item:Length="' +
        `${gainMap.length}"/></rdf:li></rdf:Seq></Container:Directory>`,
      `${GOOGLE_NS} xmlns:hdrgm="http://ns.adobe.com/hdr-gain-map/1.0/" hdrgm:Version="1.0"`,
    );
    const source = Buffer.concat([withSegments(main, app1Xmp(text)), gainMap]);
    const { bytes, changes } = await labelledPreviews(main, source);
    expect(changes).toEqual([{ kind: 'trailing-data', action: 'removed', detail: `${gainMap.length} bytes after the end of the picture` }]);
    expect(bytes).toBe(main);
    const labelled = withSegments(main, app1Xmp(text));
    const again = await labelledPreviews(labelled, source);
    expect(again.changes).toEqual([
      { kind: 'trailing-data', action: 'removed', detail: `${gainMap.length} bytes after the end of the picture` },
      { kind: 'xmp-directory', action: 'removed', detail: 'hdrgm:Version, Container:Directory in the XMP packet, which described pictures after the primary one, not carried over' },
    ]);
    expect(xmpOf(again.bytes).main).toEqual([text.replace(' hdrgm:Version="1.0"', '').replace(/<Container:Directory>.*<\/Container:Directory>/, '')]);
  });
});

describe.runIf(exiftool)('XMP thumbnails in PNG and WebP', () => {
  for (const format of ['png', 'webp'] as const) {
    it(`are removed from a ${format}'s XMP chunk, the rest and the implicit label kept`, async () => {
      const main = await sharp(pixels(320, 240), { raw: { width: 320, height: 240, channels: 3 } }).toFormat(format).toBuffer();
      const thumb = await sharp(main).resize(160, 120).jpeg({ quality: 80 }).toBuffer();
      const path = join(dir, `x${files++}.${format}`);
      const thumbPath = join(dir, `t${files++}.jpg`);
      writeFileSync(path, main);
      writeFileSync(thumbPath, thumb);
      execFileSync('exiftool', ['-q', '-overwrite_original', `-XMP-xmp:ThumbnailImage<=${thumbPath}`, '-XMP-dc:Title=hello', path]);
      const source = (await embedLabel(readFileSync(path), { producer: PRODUCER, produceId: `${format}-1` })).bytes as Uint8Array;
      const result = await labelImage(source);
      expect(changeOf(result, 'xmp-thumbnail')).toEqual({ kind: 'xmp-thumbnail', action: 'removed', detail: 'xmp:Thumbnails in the XMP packet' });
      writeFileSync(path, result.bytes);
      const after = execFileSync('exiftool', ['-a', '-G1', '-s', '-XMP:all', '-Warning', path]).toString();
      // (sharp's WebP EXIF chunk has a header exiftool calls improper, labelled or not.)
      expect(after.split('\n').filter((line) => !line.includes('Improper EXIF header')).join('\n')).not.toMatch(/Thumbnail|Warning/);
      expect(after).toMatch(/Title\s+: hello/);
      expect(contains(result.bytes, base64Tail(thumb))).toBe(false);
      expect((await readLabels(result.bytes)).found.map((f) => f.label?.ProduceID)).toContain(`${format}-1`);
      await sharp(result.bytes).stats(); // chunks and CRCs as a decoder wants them
      // Without pictures in the XMP, nothing changes.
      const again = await labelImage(result.bytes);
      expect(again.previews).toBeUndefined();
    });
  }
});

describe.runIf(exiftool)('the checker on XMP pictures and motion photos', () => {
  const previews = async (bytes: Uint8Array): Promise<{ status: string; message: string } | undefined> => {
    const found = (await checkExplicitLabel(bytes, { ocr: false })).rules.find((r) => r.rule === 'image.previews');
    return found && { status: found.status, message: found.message };
  };

  it('fails an XMP thumbnail made before the notice, passes one made after it', async () => {
    const main = await jpeg(640, 480);
    const labelled = (await labelImage(main, { plate: 'always' })).bytes;
    expect(await previews(labelled)).toBeUndefined();
    const before = await sharp(main).resize(256, 192).jpeg({ quality: 90 }).toBuffer();
    const stale = await previews(withXmpThumbnail(labelled, before));
    expect(stale?.status).toBe('fail');
    expect(stale?.message).toMatch(/^the XMP thumbnail \(xmp:Thumbnails\) differs from the picture in one place/);
    const after = await sharp(labelled).resize(256, 192).jpeg({ quality: 90 }).toBuffer();
    expect((await previews(withXmpThumbnail(labelled, after)))?.status).toBe('pass');
    const listed = xmpPictures(xmpOf(withXmpThumbnail(labelled, after)).main[0] ?? '');
    expect(listed.pictures.map((p) => [p.property, p.thumbnail, p.format])).toEqual([['xmp:Thumbnails', true, 'JPEG']]);
  });

  it('fails an XMP thumbnail made before the notice in a PNG', async () => {
    const main = await sharp(pixels(640, 480), { raw: { width: 640, height: 480, channels: 3 } }).png().toBuffer();
    const labelled = (await labelImage(main, { plate: 'always' })).bytes;
    const path = join(dir, `c${files++}.png`);
    const thumbPath = join(dir, `t${files++}.jpg`);
    writeFileSync(path, labelled);
    writeFileSync(thumbPath, await sharp(main).resize(256, 192).jpeg({ quality: 90 }).toBuffer());
    execFileSync('exiftool', ['-q', '-overwrite_original', `-XMP-xmp:ThumbnailImage<=${thumbPath}`, path]);
    expect((await previews(readFileSync(path)))?.status).toBe('fail');
    expect(await previews(labelled)).toBeUndefined();
  });

  it.runIf(ffmpeg)('leaves a motion photo video after the labelled picture unverified', async () => {
    const labelled = (await labelImage(await jpeg(640, 480), { plate: 'always' })).bytes;
    const result = await previews(Buffer.concat([labelled, mp4()]));
    expect(result?.status).toBe('unverified');
    expect(result?.message).toMatch(/bytes after the picture \(a motion photo's video\), not checked/);
  });
});

describe.runIf(exiftool)('hostile XMP', () => {
  const thumbPacket = async (): Promise<{ main: Buffer; source: Buffer; thumb: Buffer }> => {
    const main = await jpeg(320, 240);
    const thumb = await sharp(pixels(400, 300, 255), { raw: { width: 400, height: 300, channels: 3 } }).jpeg({ quality: 95 }).toBuffer();
    return { main, source: withXmpThumbnail(main, thumb), thumb };
  };

  it('refuses a main packet that is not well-formed XML, writing nothing', async () => {
    const main = await jpeg(320, 240);
    const thumb = await sharp(main).resize(160, 120).jpeg().toBuffer();
    const broken = packet(`<xmp:Thumbnails><xmpGImg:image>${thumb.toString('base64')}</xmpGImg:image></xmp:Thumbnail>`, ' xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:xmpGImg="http://ns.adobe.com/xap/1.0/g/img/"');
    const source = withSegments(main, app1Xmp(broken));
    await expect(labelledPreviews(source, source)).rejects.toBeInstanceOf(LabelFormatError);
    await expect(labelImage(source)).rejects.toMatchObject({ code: 'E_LABEL_FORMAT' });
  });

  it('removes extended XMP with a chunk missing, a wrong length or a packet that is not XML, and the link to it', async () => {
    const { source, thumb } = await thumbPacket();
    const segments = headerSegments(source);
    const chunks = segments.filter((s) => s.marker === 0xe1 && Buffer.from(source.subarray(s.start + 4, s.start + 4 + EXTENDED_ID.length)).toString('latin1') === EXTENDED_ID);
    expect(chunks.length).toBeGreaterThan(1);
    const first = chunks[0] as { start: number; end: number };
    const variants: Record<string, Buffer> = {
      'a chunk missing': Buffer.concat([source.subarray(0, first.start), source.subarray(first.end)]),
      'a wrong length': (() => {
        const copy = Buffer.from(source);
        copy.writeUInt32BE(copy.readUInt32BE(first.start + 4 + EXTENDED_ID.length + 32) + 1, first.start + 4 + EXTENDED_ID.length + 32);
        return copy;
      })(),
      'a short chunk': Buffer.concat([source.subarray(0, first.start), segment(0xe1, EXTENDED_ID, 'ABC'), source.subarray(first.end)]),
    };
    for (const [name, bytes] of Object.entries(variants)) {
      const result = await labelImage(bytes);
      expect(changeOf(result, 'xmp-extended'), name).toMatchObject({ action: 'removed', detail: expect.stringMatching(/cannot be put together/) as unknown });
      expect(xmpOf(result.bytes).extended, name).toEqual([]);
      expect(contains(result.bytes, base64Tail(thumb)), name).toBe(false);
      expect(tags(result.bytes, '-XMP:all', '-Warning'), name).not.toMatch(/HasExtendedXMP|Thumbnail|Warning/);
    }
    // Complete, but not XML.
    const main = await jpeg(320, 240);
    const ext = `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="${RDF}"><rdf:Description><a>${thumb.toString('base64')}</b></rdf:Description></rdf:RDF></x:xmpmeta>`;
    const guid = createHash('md5').update(ext).digest('hex').toUpperCase();
    const notXml = withSegments(main, app1Xmp(packet('', ` xmlns:xmpNote="http://ns.adobe.com/xmp/note/" xmpNote:HasExtendedXMP="${guid}"`)), ...extendedChunks(ext));
    const { bytes, changes } = await labelledPreviews(notXml, notXml);
    expect(changeOf({ changes }, 'xmp-extended')?.detail).toMatch(/is not well-formed XML/);
    expect(xmpOf(bytes).extended).toEqual([]);
    expect(xmpOf(bytes).main[0]).not.toContain(guid);
  });

  it('never keeps the thumbnail and never writes an inconsistent extended packet, whatever header byte of a chunk changes', async () => {
    const { source, thumb } = await thumbPacket();
    const chunks = headerSegments(source).filter((s) => s.marker === 0xe1 && Buffer.from(source.subarray(s.start + 4, s.start + 4 + EXTENDED_ID.length)).toString('latin1') === EXTENDED_ID);
    let state = 7;
    for (let round = 0; round < 60; round++) {
      const copy = Buffer.from(source);
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      const chunk = chunks[state % chunks.length] as { start: number };
      // The GUID, the full length or the offset (after the 35-byte namespace).
      const at = chunk.start + 4 + EXTENDED_ID.length + ((state >>> 8) % 40);
      copy[at] = (copy[at] ?? 0) ^ (1 + ((state >>> 16) % 255));
      const { bytes } = await labelledPreviews(copy, copy);
      expect(contains(bytes, base64Tail(thumb))).toBe(false);
      expectConsistentExtended(bytes);
    }
  });

  it('leaves plain XMP, and extended XMP without pictures, byte for byte', async () => {
    const main = await jpeg(320, 240);
    const plain = (await embedLabel(withExiftool(main, ['-q', '-overwrite_original', '-XMP-dc:Title=plain', '-XMP-dc:Creator=me']), { producer: PRODUCER, produceId: 'plain-1' })).bytes as Uint8Array;
    const checked = await labelledPreviews(plain, plain);
    expect(checked.changes).toEqual([]);
    expect(Buffer.from(checked.bytes).equals(Buffer.from(plain))).toBe(true);
    const result = await labelImage(plain);
    expect(result.previews).toBeUndefined();
    expect(xmpOf(result.bytes).main).toEqual(xmpOf(plain).main);
    const ext = `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="${RDF}"><rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:description>${'y'.repeat(70000)}</dc:description></rdf:Description></rdf:RDF></x:xmpmeta>`;
    const guid = createHash('md5').update(ext).digest('hex').toUpperCase();
    const extended = withSegments(main, app1Xmp(packet('', ` xmlns:xmpNote="http://ns.adobe.com/xmp/note/" xmpNote:HasExtendedXMP="${guid}"`)), ...extendedChunks(ext));
    const again = await labelledPreviews(extended, extended);
    expect(again.changes).toEqual([]);
    expect(Buffer.from(again.bytes).equals(extended)).toBe(true);
  });
});
