/**
 * @module label/errors
 * The typed errors of the label capability. Every codec throws `LabelFormatError` for a
 * malformed container, so callers (CLI, gateway, inspect endpoint) report the file as failed
 * and leave it untouched, whatever the format.
 */
import { HeguiError, InvalidInputError } from '../errors.js';

/**
 * A container is malformed or truncated where a codec needs to read or rewrite it.
 *
 * @example
 * throw new LabelFormatError('png', 'chunk length 4294967295 runs past the end of the file', { offset: 33 });
 * // message: "malformed png file at byte 33: chunk length 4294967295 runs past the end of the file"
 */
export class LabelFormatError extends InvalidInputError {
  /** The container format whose parser failed, e.g. `png`. */
  readonly format: string;
  /** Byte offset in the source where the problem was found, when known. */
  readonly offset: number | undefined;

  constructor(format: string, detail: string, options?: { offset?: number; cause?: unknown }) {
    const where = options?.offset === undefined ? '' : ` at byte ${options.offset}`;
    super('E_LABEL_FORMAT', `malformed ${format} file${where}: ${detail}`, { cause: options?.cause });
    this.format = format;
    this.offset = options?.offset;
  }
}

/** No registered codec recognises the content (detection is by content, never by file name). */
export class UnsupportedFormatError extends InvalidInputError {
  constructor(detail = 'the content matches no supported container format') {
    super(
      'E_LABEL_UNSUPPORTED_FORMAT',
      `${detail}; supported: JPEG, PNG, WebP, GIF, TIFF, HEIF/AVIF, MP4/MOV/M4A, MP3, WAV, FLAC, OGG, MKV/WebM, PDF, DOCX/XLSX/PPTX, Markdown, HTML (or write a .aigc.json sidecar beside the file: hegui label embed --sidecar)`,
    );
  }
}

/** A label value is not a valid GB 45438 implicit label (bad JSON, missing or invalid field). */
export class LabelValueError extends InvalidInputError {
  /** The field at fault, e.g. `ContentProducer`, when one is. */
  readonly field: string | undefined;

  constructor(detail: string, options?: { field?: string; cause?: unknown }) {
    const prefix = options?.field === undefined ? 'invalid AIGC label' : `invalid AIGC label field ${options.field}`;
    super('E_LABEL_VALUE', `${prefix}: ${detail}`, { cause: options?.cause });
    this.field = options?.field;
  }
}

/** A provider code (ContentProducer / ContentPropagator) does not have the 27-character structure. */
export class ProviderCodeError extends InvalidInputError {
  constructor(code: string, detail: string) {
    super(
      'E_LABEL_PROVIDER_CODE',
      `invalid provider code ${JSON.stringify(code)}: ${detail} (expected 27 characters: "00" + subject code "11" + 18-character unified social credit code + service type "1" or "2" + 4-character model/app code)`,
    );
  }
}

/** A signing or verification key cannot be used (wrong format, wrong algorithm, unreadable). */
export class LabelKeyError extends InvalidInputError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super('E_LABEL_KEY', `unusable label key: ${detail}`, options);
  }
}

/** An operation needs a label that the file does not carry (e.g. propagating an unlabeled file). */
export class LabelMissingError extends HeguiError {
  constructor(detail: string) {
    super('E_LABEL_MISSING', detail);
  }
}
