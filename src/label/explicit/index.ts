/**
 * @module label/explicit
 * Explicit labels (GB 45438 §5; Labeling Measures Art. 4): visible notices on text (§5.1) and
 * images (§5.2), and the checker that measures a file's notice against §5 and reports each
 * rule with its figures. Everything here works on bytes or streams; files are read and
 * written by the CLI through the atomic helpers of `label/files`.
 */
export * from './wording.js';
export { detectTextFormat, paragraphBoundaries, visibleText, type TextFormat } from './text-format.js';
export * from './text.js';
export { NoticeFontError, assertFontCovers, loadNoticeFont, noticeFontPath, type NoticeFont } from './font.js';
export { IMAGE_POSITIONS, MIN_HEIGHT_RATIO, NoticeDoesNotFitError, type ImagePosition, type SizingOptions } from './image-render.js';
export { contrastRatio, relativeLuminance, type NoticeStyle, type PixelBox, type PlateMode } from './image-style.js';
export { ImageDecodeError, MAX_IMAGE_PIXELS, type ImageFormat } from './image-codec.js';
export { jpegEncoding, type JpegEncoding } from './image-jpeg.js';
export * from './image.js';
export * from './check-types.js';
export { ExplicitFormatError, FORMAT_KIND, detectExplicitFormat, requireExplicitFormat } from './check-format.js';
export { builtinCheckers, checkExplicitLabel, checkExplicitLabelFile, type ExplicitCheckOptions } from './check.js';
export { checkText, textChecker } from './check-text.js';
export { MIN_CONTRAST, checkImage, imageChecker } from './check-image.js';
