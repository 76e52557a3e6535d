/**
 * @module label/explicit/audio-video-errors
 * Typed errors of the audio and video explicit labels. A malformed file raises the label
 * capability's `LabelFormatError`; these cover what is specific to media: an encoding hegui
 * does not label, a missing ffmpeg, ffmpeg failing, and options that cannot be honoured.
 */
import { HeguiError, InvalidInputError } from '../../errors.js';

/** What the audio and video labels accept, for error messages. */
export const SUPPORTED_MEDIA =
  'audio: WAV/RF64 PCM (8/16/24/32-bit integer, 32/64-bit float) natively, MP3, M4A (AAC, ALAC), FLAC and OGG (Vorbis, Opus) through ffmpeg; video: MP4/MOV (H.264, H.265, MPEG-4), WebM/MKV (VP8, VP9, AV1, H.264) through ffmpeg';

/**
 * The file is readable but its encoding is not one the audio or video label handles.
 *
 * @example
 * throw new UnsupportedMediaError('WAV with format tag 0x0011 (IMA ADPCM)');
 * // message: "WAV with format tag 0x0011 (IMA ADPCM) cannot be labelled; supported: audio: ..."
 */
export class UnsupportedMediaError extends InvalidInputError {
  constructor(what: string) {
    super('E_LABEL_UNSUPPORTED_MEDIA', `${what} cannot be labelled; supported: ${SUPPORTED_MEDIA}`);
  }
}

/** ffmpeg or ffprobe is needed and not installed. */
export class MediaToolMissingError extends HeguiError {
  /** The program that was not found, e.g. `ffmpeg`. */
  readonly tool: string;

  constructor(tool: string, debianPackage = 'ffmpeg') {
    super('E_LABEL_TOOL_MISSING', `${tool} is not installed; audio other than WAV, and all video, need it: install the Debian package ${debianPackage} (apt-get install ${debianPackage})`);
    this.tool = tool;
  }
}

/** ffmpeg failed on a file it could read (an encoder or muxer refused the settings). */
export class MediaToolError extends HeguiError {
  constructor(tool: string, detail: string, options?: { cause?: unknown }) {
    super('E_LABEL_MEDIA_TOOL', `${tool} failed: ${detail}`, options);
  }
}

/** An option of the audio or video label cannot be honoured (bad position, unusable notice file). */
export class MediaLabelOptionError extends InvalidInputError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super('E_LABEL_MEDIA_OPTION', detail, options);
  }
}
