/**
 * @module label/implicit/codecs
 * The built-in codecs. To register a codec, add one line here re-exporting its `LabelCodec`
 * object (`export { mp4Codec } from './mp4.js';`); the registry picks up every export that has
 * the codec shape and orders them for detection, so the order of these lines does not matter.
 */
export { jpegCodec } from './jpeg.js';
export { pngCodec } from './png.js';
