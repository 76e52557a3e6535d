/**
 * @module label/implicit/codecs
 * The built-in codecs. To register a codec, add one line here re-exporting its `LabelCodec`
 * object (`export { mp4Codec } from './mp4.js';`); the registry picks up every export that has
 * the codec shape and orders them for detection, so the order of these lines does not matter.
 */
export { gifCodec } from './gif.js';
export { jpegCodec } from './jpeg.js';
export { pngCodec } from './png.js';
export { tiffCodec } from './tiff.js';
export { webpCodec } from './webp.js';
export { mp4Codec } from './mp4.js';
export { mp3Codec } from './mp3.js';
export { flacCodec } from './flac.js';
export { pdfCodec } from './pdf.js';
export { ooxmlCodec } from './ooxml.js';
export { markdownCodec } from './markdown.js';
export { htmlCodec } from './html.js';
export { wavCodec } from './wav.js';
export { oggCodec } from './ogg.js';
export { matroskaCodec } from './matroska.js';
export { heifCodec } from './heif.js';
