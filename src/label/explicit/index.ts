/**
 * @module label/explicit
 * Explicit labels (GB 45438 §5; Labeling Measures Art. 4): visible notices on text and subtitles (§5.1),
 * images (§5.2), audio (§5.3) and video (§5.4), and the checker that measures a file's notice
 * against §5 and reports each rule with its figures. Text and images work on bytes or streams;
 * audio and video on files, bytes or streams through ffmpeg in bounded memory. Every writer
 * keeps (or, given a request, writes) the implicit label in the same pass.
 */
export * from './wording.js';
export { detectTextFormat, paragraphBoundaries, visibleText, type TextFormat } from './text-format.js';
export * from './text.js';
export { labelSubtitles, type SubtitleFormat, type SubtitleLabelResult, type SubtitleNoticeOptions } from './subtitle.js';
export { NoticeFontError, assertFontCovers, loadNoticeFont, noticeFontPath, type NoticeFont } from './font.js';
export { IMAGE_POSITIONS, MIN_HEIGHT_RATIO, NoticeDoesNotFitError, type ImagePosition, type SizingOptions } from './image-render.js';
export { contrastRatio, relativeLuminance, type NoticeStyle, type PixelBox, type PlateMode } from './image-style.js';
export { ImageDecodeError, MultipageTiffError, TiffMetadataError, MAX_IMAGE_PIXELS, type ImageFormat } from './image-codec.js';
export { ApngFormatError } from './image-apng.js';
export { HeicStructureError, HeifToolMissingError, type HeifTools } from './image-heic.js';
export { jpegEncoding, type JpegEncoding } from './image-jpeg.js';
export * from './image.js';
export { labelPdf, type PdfLabelResult, type PdfNoticeOptions } from './pdf.js';
export { labelDocx, type DocxLabelResult, type DocxNoticeOptions } from './docx.js';
export { labelAudio, labelAudioFile, type AudioFormat, type AudioLabelOptions, type AudioLabelResult, type AudioPosition } from './audio.js';
export { createVoiceLabeler, type VoiceLabeler, type VoiceLabelOptions } from './audio-voice.js';
export { DEFAULT_RHYTHM, synthesizeRhythm, type RhythmTiming } from './audio-rhythm.js';
export type { NoticeKind } from './audio-notice.js';
export { labelVideo, labelVideoFile, MIN_VIDEO_NOTICE_SECONDS, type VideoExtraPosition, type VideoLabelOptions, type VideoLabelResult, type VideoNoticeWindow } from './video.js';
export { MediaLabelOptionError, MediaToolError, MediaToolMissingError, UnsupportedMediaError } from './audio-video-errors.js';
export type { MediaTools } from './audio-video-tools.js';
export * from './check-types.js';
export { ExplicitFormatError, FORMAT_KIND, detectExplicitFormat, requireExplicitFormat } from './check-format.js';
export { builtinCheckers, checkExplicitLabel, checkExplicitLabelFile, type ExplicitCheckOptions } from './check.js';
export { checkText, textChecker } from './check-text.js';
export { documentChecker } from './check-document.js';
export { MIN_CONTRAST, checkImage, imageChecker } from './check-image.js';
export { audioChecker, checkAudio, scanAudioRhythm, type RhythmScan } from './audio-check.js';
export { checkVideo, measureVideoNotices, videoChecker, type VideoMeasurement } from './video-check.js';
export { openImageLabelPool, poolable, type ImageLabelPool, type ImageLabelPoolOptions } from './image-pool.js';
