/**
 * @module label/implicit/sidecar
 * The `.aigc.json` sidecar, for files whose format has no place for metadata (GB 45438 lets
 * the implicit label travel with the file when it cannot sit inside it). The sidecar sits next
 * to the file as `<file name>.aigc.json` and holds the label in the standalone form, plus the
 * size and SHA-256 of the file it describes, so a sidecar copied next to another file, or left
 * behind after the file changed, is detected:
 *
 *     {
 *       "AIGC": { "Label": "1", "ContentProducer": "...", ... },
 *       "File": { "Name": "scan.raw", "Size": 1048576, "SHA256": "9f86d0..." }
 *     }
 *
 * Everything here is a pure function over bytes or a `ByteSource`; reading and writing the
 * files, atomically, is the job of the label file helpers.
 */
import { createHash } from 'node:crypto';
import { LabelFormatError, LabelValueError } from '../errors.js';
import type { ByteSource, FoundLabel } from './codec.js';
import { COPY_CHUNK, utf8 } from './bytes.js';

export const SIDECAR_SUFFIX = '.aigc.json';
/** A sidecar is a few hundred bytes; a larger file named like one is not read. */
export const SIDECAR_MAX_BYTES = 64 * 1024;

/** What a sidecar records about the file it describes. */
export interface PayloadDigest {
  size: number;
  /** Lower-case hexadecimal SHA-256 of the whole file. */
  sha256: string;
}

export interface Sidecar {
  /** The label's inner object as compact JSON text (the value a codec would store). */
  value: string;
  file: PayloadDigest & { name: string | undefined };
}

/** The sidecar's path or name for `payload` (a path or a file name): `a/scan.raw` → `a/scan.raw.aigc.json`. */
export function sidecarName(payload: string): string {
  return `${payload}${SIDECAR_SUFFIX}`;
}

/** Size and SHA-256 of everything in `source`, read in bounded chunks. */
export async function digestPayload(source: ByteSource): Promise<PayloadDigest> {
  const hash = createHash('sha256');
  for (let at = 0; at < source.size; ) {
    const chunk = await source.read(at, Math.min(COPY_CHUNK, source.size - at));
    if (chunk.length === 0) break;
    hash.update(chunk);
    at += chunk.length;
  }
  return { size: source.size, sha256: hash.digest('hex') };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The inner label object of `value`, given wrapped (`{"AIGC":{...}}`) or as the inner object. */
function innerLabel(value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    throw new LabelValueError('is not JSON', { cause: error });
  }
  if (!isObject(parsed)) throw new LabelValueError('is not a JSON object');
  const keys = Object.keys(parsed);
  const wrapped = keys.length === 1 && keys[0] === 'AIGC' ? parsed.AIGC : parsed;
  if (!isObject(wrapped)) throw new LabelValueError('"AIGC" is not a JSON object');
  return wrapped;
}

/**
 * The sidecar document for the label `value` describing a file with `digest` (and, when
 * given, its `name`, which lets a reader tell which file a stray sidecar belonged to).
 *
 * @example
 * const bytes = buildSidecar(labelJson, { ...(await digestPayload(source)), name: 'scan.raw' });
 */
export function buildSidecar(value: string, digest: PayloadDigest & { name?: string }): Uint8Array {
  const file = { ...(digest.name === undefined ? {} : { Name: digest.name }), Size: digest.size, SHA256: digest.sha256.toLowerCase() };
  return utf8(`${JSON.stringify({ AIGC: innerLabel(value), File: file }, null, 2)}\n`);
}

function fail(detail: string): never {
  throw new LabelFormatError('sidecar', detail);
}

/** Parses a sidecar document. */
export function parseSidecar(bytes: Uint8Array): Sidecar {
  if (bytes.length > SIDECAR_MAX_BYTES) fail(`larger than ${SIDECAR_MAX_BYTES} bytes`);
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new LabelFormatError('sidecar', 'not UTF-8 JSON', { cause: error });
  }
  if (!isObject(doc) || !isObject(doc.AIGC)) fail('no "AIGC" object');
  const file = doc.File;
  if (!isObject(file)) fail('no "File" object');
  const { Size: size, SHA256: sha256, Name: name } = file;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) fail('"File.Size" is not a byte count');
  if (typeof sha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(sha256)) fail('"File.SHA256" is not a SHA-256 in hexadecimal');
  if (name !== undefined && typeof name !== 'string') fail('"File.Name" is not a string');
  return { value: JSON.stringify(doc.AIGC), file: { size, sha256: sha256.toLowerCase(), name } };
}

/** True when `sidecar` describes a file with `digest`: same size, same SHA-256. */
export function sidecarDescribes(sidecar: Sidecar, digest: PayloadDigest): boolean {
  return sidecar.file.size === digest.size && sidecar.file.sha256 === digest.sha256.toLowerCase();
}

/** The label a sidecar carries, as `read` reports labels; `sidecar` names the sidecar file. */
export function sidecarLabel(parsed: Sidecar, sidecar: string): FoundLabel {
  return { value: parsed.value, location: `sidecar:${sidecar}`, standard: true };
}
