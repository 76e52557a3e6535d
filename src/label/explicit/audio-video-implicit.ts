/**
 * @module label/explicit/audio-video-implicit
 * A file labelled explicitly keeps, or gets, its implicit label in the same pass (Labeling
 * Measures Art. 5; GB 45438 §6.1). After the audio or video has been rewritten: with an
 * `implicit` request, a new label is embedded through the label library; otherwise a label the
 * source carried is written into the output unless it already arrived intact (ffmpeg's
 * `-map_metadata`, or the WAV writer's verbatim chunks, usually carry it).
 */
import { UnsupportedFormatError } from '../errors.js';
import { embedLabelFile, readLabelFile } from '../files.js';
import type { EmbedRequest } from '../api.js';
import { formatLabel, type ImplicitLabel } from '../model.js';

/** What happened to the implicit label. */
export interface ImplicitOutcome {
  /**
   * `embedded`: a new label from the request; `carried`: the source's label, now in the output;
   * `none`: the source had none and none was requested; `unsupported`: hegui has no implicit
   * codec for this container yet, so the source's label (if any) is only what ffmpeg copied.
   */
  action: 'embedded' | 'carried' | 'none' | 'unsupported';
  label: ImplicitLabel | null;
  /**
   * True when a carried label holds security data: its signature covers the media payload,
   * which the explicit label changed, so it verifies as `payload-changed` until re-signed (pass
   * `implicit` with the `key`).
   */
  signatureStale: boolean;
}

async function labelOf(path: string): Promise<ImplicitLabel | null | undefined> {
  try {
    return (await readLabelFile(path)).label;
  } catch (error) {
    if (error instanceof UnsupportedFormatError) return undefined;
    throw error;
  }
}

/**
 * Gives `outputPath` the implicit label: embeds `request` when given, else carries the label
 * `sourcePath` holds. Rewrites `outputPath` in place (atomically).
 *
 * @example
 * const outcome = await applyImplicitLabel('in.m4a', tempOut, { producer, produceId: 'a-1' });
 */
export async function applyImplicitLabel(sourcePath: string, outputPath: string, request?: EmbedRequest): Promise<ImplicitOutcome> {
  if (request) {
    const result = await embedLabelFile(outputPath, request, { inPlace: true });
    return { action: 'embedded', label: result.label, signatureStale: false };
  }
  const label = await labelOf(sourcePath);
  if (label === undefined) return { action: 'unsupported', label: null, signatureStale: false };
  if (label === null) return { action: 'none', label: null, signatureStale: false };
  const signatureStale = label.ReservedCode1 !== '' || label.ReservedCode2 !== '';
  const present = await labelOf(outputPath);
  if (present === undefined) return { action: 'unsupported', label: null, signatureStale: false };
  if (present === null || formatLabel(present) !== formatLabel(label)) {
    await embedLabelFile(
      outputPath,
      {
        label: label.Label as '1' | '2' | '3',
        producer: label.ContentProducer,
        produceId: label.ProduceID,
        propagator: label.ContentPropagator,
        propagateId: label.PropagateID,
        reservedCode1: label.ReservedCode1,
        reservedCode2: label.ReservedCode2,
      },
      { inPlace: true },
    );
  }
  return { action: 'carried', label, signatureStale };
}
