/**
 * @module label/sidecar-files
 * Labels for files whose format has no place for metadata: the label travels in
 * `<file>.aigc.json` beside the file (`implicit/sidecar.ts` defines the document). The sidecar
 * records the file's size and SHA-256, and its security data signs the whole file, so a
 * sidecar left next to a changed file, or copied next to another one, is detected.
 */
import { readFile, rm, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { LabelFormatError, LabelKeyError } from './errors.js';
import { propagatedLabel, type EmbedRequest, type LabelReport, type PropagateRequest } from './api.js';
import type { ByteSource } from './implicit/codec.js';
import { copyRange } from './implicit/bytes.js';
import { buildSidecar, digestPayload, parseSidecar, SIDECAR_MAX_BYTES, sidecarDescribes, sidecarLabel, sidecarName } from './implicit/sidecar.js';
import { createLabel, formatLabel, parseLabel, type ImplicitLabel } from './model.js';
import { NO_TIMESTAMPS, checkSignatures, payloadDigest, signLabel, stampLabel, type CheckOptions, type SignatureReport } from './security.js';
import type { LabelSigningKey, LabelVerifyKey } from './security-keys.js';
import { openSource, writeFileAtomic } from './file-io.js';

/** What a sidecar's security data signs: the whole file. */
const wholeFile = { payloadRanges: (source: ByteSource) => Promise.resolve([{ start: 0, end: source.size }]) };

export interface SidecarWriteResult {
  format: 'sidecar';
  label: ImplicitLabel | null;
  /** The sidecar file written or removed. */
  path: string;
  method: 'rewritten' | 'removed';
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

/** Copies `from` to `to` atomically (for `-o`: the payload goes to its new place with its sidecar). */
async function copyFile(from: string, to: string): Promise<void> {
  const { source, close } = await openSource(from);
  try {
    await writeFileAtomic(to, (sink) => copyRange(source, 0, source.size, sink));
  } finally {
    await close();
  }
}

/** Signs `label` over the whole of `path` and writes `path.aigc.json` atomically. */
async function writeSidecar(path: string, label: ImplicitLabel, sign: (label: ImplicitLabel, source: ByteSource) => Promise<ImplicitLabel>): Promise<SidecarWriteResult> {
  const { source, close } = await openSource(path);
  try {
    const signed = await sign(label, source);
    const document = buildSidecar(formatLabel(signed), { ...(await digestPayload(source)), name: basename(path) });
    const target = sidecarName(path);
    await writeFileAtomic(target, (sink) => sink.write(document));
    return { format: 'sidecar', label: signed, path: target, method: 'rewritten' };
  } finally {
    await close();
  }
}

function signer(key: LabelSigningKey | undefined, roles: readonly ('producer' | 'propagator')[], tsa?: string) {
  if (tsa !== undefined && !key) throw new LabelKeyError('a timestamp (tsa) stamps a signature: give a signing key too');
  return async (label: ImplicitLabel, source: ByteSource): Promise<ImplicitLabel> => {
    if (!key) return label;
    const digest = await payloadDigest(source, wholeFile, key.algorithm);
    // Role by role: the propagator's signature covers ReservedCode1 with its timestamp.
    let signed = label;
    for (const role of roles) {
      signed = signLabel(signed, role, key, digest);
      if (tsa !== undefined) signed = await stampLabel(signed, role, tsa);
    }
    return signed;
  };
}

/**
 * Labels `path` with a sidecar `path.aigc.json` (or, with `out`, copies the file to `out` and
 * labels the copy). The file itself is not changed.
 *
 * @example
 * await embedSidecarFile('scan.raw', { producer, produceId: 'scan-1', key });
 */
export async function embedSidecarFile(path: string, request: EmbedRequest, options: { out?: string } = {}): Promise<SidecarWriteResult> {
  const label = createLabel(request);
  const target = options.out ?? path;
  if (options.out) await copyFile(path, options.out);
  return writeSidecar(target, label, signer(request.key, ['producer', 'propagator'], request.tsa));
}

async function readSidecarDocument(path: string): Promise<{ name: string; value: ReturnType<typeof parseSidecar> } | undefined> {
  const name = sidecarName(path);
  if (!(await exists(name))) return undefined;
  if ((await stat(name)).size > SIDECAR_MAX_BYTES) throw new LabelFormatError('sidecar', `${basename(name)} is larger than ${SIDECAR_MAX_BYTES} bytes`);
  return { name, value: parseSidecar(new Uint8Array(await readFile(name))) };
}

/**
 * The label in `path.aigc.json`, verified against the file, or undefined when there is no
 * sidecar. A sidecar whose recorded size or SHA-256 differs from the file reports
 * `payload-changed`: the file changed after it was labelled, or the sidecar belongs elsewhere.
 */
export async function readSidecarFile(path: string, keys: readonly LabelVerifyKey[] = [], options: CheckOptions = {}): Promise<LabelReport | undefined> {
  const document = await readSidecarDocument(path);
  if (!document) return undefined;
  const found = sidecarLabel(document.value, basename(document.name));
  const { source, close } = await openSource(path);
  try {
    const label = parseLabel(found.value);
    const matches = sidecarDescribes(document.value, await digestPayload(source));
    const signatures: SignatureReport = matches
      ? await checkSignatures(label, keys, (algorithm) => payloadDigest(source, wholeFile, algorithm), options)
      : { status: 'payload-changed', producer: 'payload-changed', propagator: 'payload-changed', timestamps: NO_TIMESTAMPS };
    const error = matches ? {} : { error: 'the sidecar records another size or SHA-256: the file changed after labelling, or the sidecar belongs to another file' };
    return { format: 'sidecar', label, location: found.location, presence: 'label', found: [{ ...found, label, ...error }], conflicts: [], ...signatures };
  } finally {
    await close();
  }
}

/** Adds a platform's propagation fields to the label in `path.aigc.json`. */
export async function propagateSidecarFile(path: string, request: PropagateRequest, options: { out?: string } = {}): Promise<SidecarWriteResult | undefined> {
  const document = await readSidecarDocument(path);
  if (!document) return undefined;
  const label = propagatedLabel(parseLabel(document.value.value), request);
  const target = options.out ?? path;
  if (options.out) await copyFile(path, options.out);
  return writeSidecar(target, label, signer(request.key, ['propagator'], request.tsa));
}

/** Deletes `path.aigc.json`; undefined when there was none. */
export async function removeSidecarFile(path: string): Promise<SidecarWriteResult | undefined> {
  const name = sidecarName(path);
  if (!(await exists(name))) return undefined;
  await rm(name);
  return { format: 'sidecar', label: null, path: name, method: 'removed' };
}

