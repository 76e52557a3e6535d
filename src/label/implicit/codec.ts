/**
 * @module label/implicit/codec
 * The port every container codec implements (Kysely style: every codec file exports the
 * same shape, so a reader knows where to look). A codec never opens files: it reads from a
 * `ByteSource` (random access over bytes, a buffer or a file handle) and writes to a
 * `ByteSink`, copying the media payload through untouched in bounded chunks.
 */

/** Random-access, read-only bytes: a buffer, or a file opened by the file helpers. */
export interface ByteSource {
  readonly size: number;
  /** Reads up to `length` bytes at `offset`; fewer only at the end of the source. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /**
   * Optional: reads up to `target.length` bytes at `offset` into `target` and returns how many
   * were read. Large copies use it to reuse two buffers instead of allocating per chunk.
   */
  readInto?(offset: number, target: Uint8Array): Promise<number>;
}


/** Where a codec writes its output, in order. It must not keep a chunk after its write settles. */
export interface ByteSink {
  write(chunk: Uint8Array): Promise<void>;
  /**
   * Optional: takes `[start, end)` of `source` as the next output bytes without them passing
   * through this process (`copyRange` asks first). The file writer uses it to record the
   * output as ranges, so bytes that stay where they were are copied by the kernel
   * (`fs.copyFile`) and never read at all (`label/file-copy.ts`). Resolves false when it
   * cannot take this source; the caller then writes the bytes.
   */
  copyFrom?(source: ByteSource, start: number, end: number): Promise<boolean>;
}

/** A byte range `[start, end)` of a source. */
export interface ByteRange {
  start: number;
  end: number;
}

/** An overwrite of bytes at a fixed offset: an in-place edit that keeps the file's size. */
export interface BytePatch {
  offset: number;
  bytes: Uint8Array;
}

/** Where in a container a label was found, e.g. `xmp:APP1`, `png:tEXt:AIGC`, `mp4:moov/udta/meta/ilst`. */
export type LabelLocation = string;

/** A label value as found in a file, before the label model parses it. */
export interface FoundLabel {
  /** The raw value: the JSON text (wrapped `{"AIGC":{...}}` or the inner object). */
  value: string;
  location: LabelLocation;
  /** True for the place GB 45438 and the TC260 guides name for this container. */
  standard: boolean;
}

export type FormatId =
  | 'jpeg'
  | 'png'
  | 'webp'
  | 'gif'
  | 'tiff'
  | 'heif'
  | 'mp4'
  | 'mp3'
  | 'wav'
  | 'flac'
  | 'ogg'
  | 'matroska'
  | 'pdf'
  | 'ooxml'
  | 'markdown'
  | 'html'
  | 'xmp'
  /** Not a container: the label travels in a `.aigc.json` file beside the payload. */
  | 'sidecar';

export interface LabelCodec {
  readonly format: FormatId;
  /** Media types this codec handles, e.g. `image/jpeg`. */
  readonly mediaTypes: readonly string[];
  /** Usual file extensions, lower case without the dot; a hint only, detection is by content. */
  readonly extensions: readonly string[];
  /** True when the first bytes (up to 4096) identify this container. */
  detect(head: Uint8Array): boolean;
  /** Every label present, standard place first. Throws `LabelFormatError` on a malformed container. */
  read(source: ByteSource): Promise<FoundLabel[]>;
  /**
   * Writes the container with `value` (the JSON text to store) in the standard place, replacing
   * any label already there and removing labels in non-standard places; everything else is kept.
   */
  write(source: ByteSource, value: string, sink: ByteSink): Promise<void>;
  /** Writes the container with every label removed and everything else kept. */
  remove(source: ByteSource, sink: ByteSink): Promise<void>;
  /**
   * The ranges that hold the media payload (pixels, samples, frames, document body), hashed for
   * the security data in ReservedCode1/2 so that a changed payload is detected. Metadata, and the
   * label itself, are outside these ranges.
   */
  payloadRanges(source: ByteSource): Promise<ByteRange[]>;
  /**
   * Writes the signed content of `hegui2` security data (docs/labels.md): the file as a person
   * perceives it, everything but the label itself. Stripping, writing or replacing a label must
   * leave it unchanged; any other change (a header field, a colour profile, a matrix, an
   * appended revision) must change it. Codecs without it sign with the older `hegui1` scheme,
   * which covers `payloadRanges` only.
   */
  signedContent?(source: ByteSource, sink: ByteSink): Promise<void>;
  /**
   * Patches that store `value` without changing the file's size (the label fits in existing
   * padding or in a label of equal or greater length), or `undefined` when that is not possible.
   */
  planInPlace?(source: ByteSource, value: string): Promise<BytePatch[] | undefined>;
  /**
   * Writes the container with each of its XMP packets replaced by `map(packet)`, every other
   * byte kept (a packet `map` returns unchanged stays as it was). Used by the visible notice to
   * take pictures out of the XMP (`label/explicit/xmp-previews.ts`); PNG and WebP only (a JPEG's
   * XMP, extended XMP included, is handled by `label/explicit/jpeg-previews.ts`).
   */
  mapXmp?(source: ByteSource, map: (packet: string) => string, sink: ByteSink): Promise<void>;
}
