/**
 * @module label/explicit/xmp-previews
 * The pictures an XMP packet can carry besides the file's own (GB 45438 §5.2: none may show the
 * content without its notice), and the properties that describe data a labelled JPEG no longer
 * holds. Used by `jpeg-previews.ts` (to take them out) and by the checker (to find them).
 *
 * - `xmp:Thumbnails` (XMP Part 2 §8.2.1, an `rdf:Alt` of `xmpGImg` structures whose
 *   `xmpGImg:image` is a base64 JPEG): the whole property.
 * - Any other property whose value is a base64 picture (JPEG, PNG, GIF, WebP, TIFF, an ISO-BMFF
 *   file such as HEIC, AVIF or MP4), e.g. Google's `GImage:Data` (the picture before a lens-blur
 *   edit) and `GDepth:Data`; every property of the `GImage` and `GDepth` namespaces goes with it.
 * - A motion photo's description (`GCamera:MicroVideo*`, `GCamera:MotionPhoto*`) and a
 *   container directory (`Container:Directory`, Ultra HDR's `hdrgm:*`), which point at data after
 *   the end of the picture: a labelled JPEG keeps none (`jpeg-previews.ts`).
 *
 * Properties are taken out through `withoutXmpProperties` (`label/implicit/xmp.ts`), which
 * splices the packet's text and keeps every other byte, the TC260 label included.
 */
import { LabelFormatError } from '../errors.js';
import { scanXml } from '../implicit/xmp-scan.js';
import { withoutXmpProperties, type XmpProperty } from '../implicit/xmp.js';

const XMP_NS = 'http://ns.adobe.com/xap/1.0/';
const XMP_GIMG_NS = 'http://ns.adobe.com/xap/1.0/g/img/';
const XMP_NOTE_NS = 'http://ns.adobe.com/xmp/note/';
const GCAMERA_NS = 'http://ns.google.com/photos/1.0/camera/';
const CONTAINER_NS = 'http://ns.google.com/photos/1.0/container/';
const HDRGM_NS = 'http://ns.adobe.com/hdr-gain-map/1.0/';
/** Google's lens-blur original and depth map: every property of these namespaces describes the picture in `Data`. */
const PICTURE_NAMESPACES = ['http://ns.google.com/photos/1.0/image/', 'http://ns.google.com/photos/1.0/depthmap/'];

/** The kind of picture a base64 text decodes to, from its first bytes; undefined when it is not one. */
export function base64Picture(text: string): string | undefined {
  // Base64 of the first 12 bytes is 16 characters; whitespace may break the lines.
  const head = text.slice(0, 256).replace(/\s+/g, '').slice(0, 16);
  if (head.length < 16 || !/^[A-Za-z0-9+/]+$/.test(head)) return undefined;
  const b = Buffer.from(head, 'base64');
  const ascii = b.toString('latin1');
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'JPEG';
  if (ascii.startsWith('\x89PNG')) return 'PNG';
  if (ascii.startsWith('GIF8')) return 'GIF';
  if (ascii.startsWith('RIFF') && ascii.slice(8, 12) === 'WEBP') return 'WebP';
  if (ascii.startsWith('II*\0') || ascii.startsWith('MM\0*')) return 'TIFF';
  if (ascii.slice(4, 8) === 'ftyp') return ascii.slice(8, 12).trim() || 'ISO-BMFF';
  return undefined;
}

/** What `xmpPreviews` takes out of a packet, by kind. */
export interface XmpPreviewRemoval {
  /** `xmp:Thumbnails` properties. */
  thumbnails: XmpProperty[];
  /** Other properties holding a picture, and the namespaces that go with them (`GImage`, `GDepth`). */
  pictures: XmpProperty[];
  /** `GCamera:MicroVideo*`, `GCamera:MotionPhoto*`. */
  motion: XmpProperty[];
  /** `Container:Directory`, `hdrgm:*`. */
  directory: XmpProperty[];
  /** `xmpNote:HasExtendedXMP` pointing at an extended packet that was removed. */
  extendedLinks: XmpProperty[];
}

type Category = keyof XmpPreviewRemoval;

/** No extended packet removed (`category` outside a removal, and the default). */
const NO_GUIDS: ReadonlySet<string> = new Set();

function category(p: XmpProperty, removedExtended: ReadonlySet<string>): Category | undefined {
  if (p.ns === XMP_NS && p.local === 'Thumbnails') return 'thumbnails';
  if (p.ns === XMP_GIMG_NS && p.local === 'image') return 'thumbnails';
  if (PICTURE_NAMESPACES.includes(p.ns)) return 'pictures';
  if (p.ns === GCAMERA_NS && (p.local.startsWith('MicroVideo') || p.local.startsWith('MotionPhoto'))) return 'motion';
  if ((p.ns === CONTAINER_NS && p.local === 'Directory') || p.ns === HDRGM_NS) return 'directory';
  if (p.ns === XMP_NOTE_NS && p.local === 'HasExtendedXMP' && removedExtended.has((p.text ?? '').trim())) return 'extendedLinks';
  if (p.text !== undefined && base64Picture(p.text) !== undefined) return 'pictures';
  return undefined;
}

/**
 * `packet` without its pictures, motion-photo and container descriptions (see the module), and
 * without a link to an extended packet in `removedExtended` (GUIDs); `removed` says what went
 * (all lists empty: the packet is returned as it was).
 *
 * @throws LabelFormatError when the packet is not well-formed XML.
 * @example
 * const { packet: cleaned, removed } = withoutXmpPreviews(packet);
 */
export function withoutXmpPreviews(packet: string, removedExtended: ReadonlySet<string> = NO_GUIDS): { packet: string; removed: XmpPreviewRemoval } {
  const removed: XmpPreviewRemoval = { thumbnails: [], pictures: [], motion: [], directory: [], extendedLinks: [] };
  const result = withoutXmpProperties(packet, (p) => {
    const kind = category(p, removedExtended);
    if (kind) removed[kind].push(p);
    return kind !== undefined;
  });
  return { packet: result.packet, removed };
}

/** One picture found in an XMP packet: the property that holds it (the outermost one for a thumbnail), its kind and bytes. */
export interface XmpPicture {
  property: string;
  thumbnail: boolean;
  format: string;
  bytes: Uint8Array;
}

/**
 * The pictures in a packet (`xmp:Thumbnails` images and other base64 pictures), and whether it
 * describes a motion photo's video or a container directory.
 *
 * @throws LabelFormatError when the packet is not well-formed XML.
 */
export function xmpPictures(packet: string): { pictures: XmpPicture[]; motion: boolean; directory: boolean } {
  const pictures: XmpPicture[] = [];
  let motion = false;
  let directory = false;
  // Which `xmp:Thumbnails` element we are in, if any (its depth).
  let depth = 0;
  let thumbnailsDepth = -1;
  const take = (property: string, text: string, thumbnail: boolean): void => {
    const format = base64Picture(text);
    if (format) pictures.push({ property, thumbnail, format, bytes: Buffer.from(text.replace(/\s+/g, ''), 'base64') });
  };
  const tokens = scanXml(packet);
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (!token) continue;
    if (token.kind === 'end') {
      depth--;
      if (depth < thumbnailsDepth) thumbnailsDepth = -1;
      continue;
    }
    if (token.kind !== 'start') continue;
    const inThumbnails = thumbnailsDepth >= 0;
    if (token.ns === XMP_NS && token.local === 'Thumbnails' && !inThumbnails) thumbnailsDepth = depth + 1;
    const p = { name: token.name, ns: token.ns, local: token.local, attribute: false };
    const kind = category(p, NO_GUIDS);
    if (kind === 'motion') motion = true;
    if (kind === 'directory') directory = true;
    for (const attr of token.attributes) {
      const a = { name: attr.name, ns: attr.ns, local: attr.local, text: attr.value, attribute: true };
      const k = category(a, NO_GUIDS);
      if (k === 'motion') motion = true;
      else if (k === 'directory') directory = true;
      else if (!attr.name.startsWith('xmlns')) take(inThumbnails ? 'xmp:Thumbnails' : attr.name, attr.value, inThumbnails || k === 'thumbnails');
    }
    const next = tokens[i + 1];
    if (!token.selfClosing && next?.kind === 'text' && tokens[i + 2]?.kind === 'end') take(inThumbnails ? 'xmp:Thumbnails' : token.name, next.text, inThumbnails || kind === 'thumbnails');
    if (!token.selfClosing) depth++;
  }
  return { pictures, motion, directory };
}

/** `xmpPictures`, or undefined when the packet is not well-formed XML. */
export function xmpPicturesIfReadable(packet: string): ReturnType<typeof xmpPictures> | undefined {
  try {
    return xmpPictures(packet);
  } catch (error) {
    if (error instanceof LabelFormatError) return undefined;
    throw error;
  }
}
