/**
 * @module label/implicit
 * Implicit labels in file metadata: the codec port, the registry that detects formats from
 * content, the built-in codecs and the TC260 XMP property.
 */
export type { ByteRange, BytePatch, ByteSink, ByteSource, FormatId, FoundLabel, LabelCodec, LabelLocation } from './codec.js';
export { BufferSink, bufferSource } from './bytes.js';
export { builtinCodecs, codecByFormat, codecFor, codecList, detectCodec } from './registry.js';
export * from './codecs.js';
export { AIGC_PROPERTY, TC260_NS, TC260_PREFIX, buildXmpPacket, readXmpLabels, setXmpLabel } from './xmp.js';
