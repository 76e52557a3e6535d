/**
 * @module label/api
 * The library API the gateway, the CLI, the inspect endpoint and platforms call: embed, read,
 * verify, propagate and strip implicit labels (Labeling Measures Art. 5 and 6; GB 45438 §6)
 * on bytes or streams, the format detected from content. Writing functions return the new
 * bytes, or stream them to `output` when given (memory then stays bounded by the codec's
 * chunking, not the file size).
 */
import { LabelKeyError, LabelMissingError } from './errors.js';
import type { ByteSink, ByteSource, FormatId, LabelCodec, LabelLocation } from './implicit/codec.js';
import { BufferSink } from './implicit/bytes.js';
import { findSourceCodec } from './implicit/codec-table.js';
import { createLabel, formatLabel, parseLabel, validatePropagation, type ImplicitLabel, type LabelInit } from './model.js';
import { NO_TIMESTAMPS, bindingOf, checkSignatures, contentDigest, payloadDigest, signLabel, stampLabel, type Binding, type CheckOptions, type SecurityRole, type SignatureReport, type SignatureStatus } from './security.js';
import type { LabelSigningKey, LabelVerifyKey, SignatureAlgorithm } from './security-keys.js';
import { openInput, openOutput, type LabelInput, type LabelOutput, type SourceOptions } from './api-io.js';

export interface LabelOptions extends SourceOptions {
  /** Codecs to use besides (or instead of, for the same format) the built-in ones. */
  codecs?: readonly LabelCodec[];
  /**
   * The input's file name. The format is always detected from content; the name's extension
   * only decides for text that no content check identifies (Markdown without front matter).
   */
  name?: string;
}

export interface WriteOptions extends LabelOptions {
  /** Stream the result here instead of returning bytes. */
  output?: LabelOutput;
}

export interface EmbedRequest extends LabelInit {
  /** Signs ReservedCode1 (and ReservedCode2) when given. */
  key?: LabelSigningKey;
  /**
   * An RFC 3161 time-stamping authority's URL: each signature is then stamped there and the
   * token kept with it (docs/labels.md, "Timestamps"). Needs `key`.
   */
  tsa?: string;
}

export interface PropagateRequest {
  /** The platform's 27-character provider code. */
  propagator: string;
  /** The platform's identifier for this piece of content. */
  propagateId: string;
  /** Signs ReservedCode2 when given; without it ReservedCode2 is cleared (it would no longer match). */
  key?: LabelSigningKey;
  /** An RFC 3161 time-stamping authority's URL for ReservedCode2's signature. Needs `key`. */
  tsa?: string;
}

/** What a writing function did. */
export interface LabelWriteResult {
  format: FormatId;
  /** The label now in the file, or null after stripping. */
  label: ImplicitLabel | null;
  /** The rewritten file, unless it was streamed to `output`. */
  bytes?: Uint8Array;
}

/** One label value found in a file. */
export interface FoundLabelReport {
  location: LabelLocation;
  standard: boolean;
  /** The raw value as stored. */
  value: string;
  /** The parsed label, or null when the value is not a readable label. */
  label: ImplicitLabel | null;
  /** Why the value could not be parsed. */
  error?: string;
}

/**
 * Whether a file holds a label: a readable one (`label`), none at all (`none`), or only values
 * that do not parse as a label (`unreadable`), which is never the same as none: something
 * that looks like a label is there, and a checker must not pass the file as unlabelled.
 */
export type LabelPresence = 'label' | 'none' | 'unreadable';

/** What a file carries: the same facts `hegui label read --json` prints. */
export interface LabelReport extends SignatureReport {
  format: FormatId;
  /** The label that counts: the first readable one, standard places first. */
  label: ImplicitLabel | null;
  location: LabelLocation | null;
  presence: LabelPresence;
  /** Every value found, in the codec's order. */
  found: FoundLabelReport[];
  /**
   * Values found besides the label that counts that say something else: another label, or an
   * unreadable one (GB 45438 §6.1 allows one label per file; a second, different one is either
   * stale or forged). Copies of the same label are not conflicts.
   */
  conflicts: FoundLabelReport[];
}

async function withSource<T>(input: LabelInput, options: LabelOptions, use: (source: ByteSource, codec: LabelCodec) => Promise<T>): Promise<T> {
  const { source, dispose } = await openInput(input, options);
  try {
    return await use(source, await findSourceCodec(source, options.codecs, options.name));
  } finally {
    await dispose();
  }
}

async function emit(options: WriteOptions, write: (sink: ByteSink) => Promise<void>): Promise<Uint8Array | undefined> {
  if (!options.output) {
    const sink = new BufferSink();
    await write(sink);
    return sink.bytes();
  }
  const out = openOutput(options.output);
  try {
    await write(out.sink);
  } catch (error) {
    await out.abort(error);
    throw error;
  }
  await out.close();
  return undefined;
}

/** The hash `binding` covers: the signed content (`hegui2`) or the media samples (`hegui1`). */
function bindingDigest(source: ByteSource, codec: LabelCodec, algorithm: SignatureAlgorithm, binding: Binding): Promise<Uint8Array | undefined> {
  return binding === 'content' ? contentDigest(source, codec, algorithm) : payloadDigest(source, codec, algorithm);
}

/** Caches the hash per algorithm and binding: one pass over the file for each. */
function digester(source: ByteSource, codec: LabelCodec): (algorithm: SignatureAlgorithm, binding: Binding) => Promise<Uint8Array | undefined> {
  const cache = new Map<string, Promise<Uint8Array | undefined>>();
  return (algorithm, binding) => {
    const key = `${algorithm}/${binding}`;
    let digest = cache.get(key);
    if (!digest) {
      digest = bindingDigest(source, codec, algorithm, binding);
      cache.set(key, digest);
    }
    return digest;
  };
}

/** `role`'s security data over the file in `source`, which relabelling leaves unchanged. */
async function signFor(label: ImplicitLabel, roles: readonly SecurityRole[], key: LabelSigningKey, source: ByteSource, codec: LabelCodec, tsa?: string): Promise<ImplicitLabel> {
  const digest = (await contentDigest(source, codec, key.algorithm)) ?? (await payloadDigest(source, codec, key.algorithm));
  // Role by role: the propagator's signature covers ReservedCode1 with its timestamp.
  let signed = label;
  for (const role of roles) {
    signed = signLabel(signed, role, key, digest, bindingOf(codec));
    if (tsa !== undefined) signed = await stampLabel(signed, role, tsa);
  }
  return signed;
}

function checkTsa(request: { key?: LabelSigningKey; tsa?: string }): void {
  if (request.tsa !== undefined && !request.key) throw new LabelKeyError('a timestamp (tsa) stamps a signature: give a signing key too');
}

/**
 * Embeds a new label, replacing any label in the file (one label per file, GB 45438 §6.1).
 *
 * @example
 * const { bytes } = await embedLabel(png, { producer: '001191350100M000100Y431A001', produceId: 'img-1', key });
 * await embedLabel(readable, request, { output: res }); // stream in, stream out
 */
export async function embedLabel(input: LabelInput, request: EmbedRequest, options: WriteOptions = {}): Promise<LabelWriteResult> {
  return withSource(input, options, async (source, codec) => {
    checkTsa(request);
    let label = createLabel(request);
    if (request.key) label = await signFor(label, ['producer', 'propagator'], request.key, source, codec, request.tsa);
    const bytes = await emit(options, (sink) => codec.write(source, formatLabel(label), sink));
    return { format: codec.format, label, ...(bytes ? { bytes } : {}) };
  });
}

/**
 * Adds a platform's propagation fields (Labeling Measures Art. 6): the producer's fields and
 * ReservedCode1 are kept, ContentPropagator, PropagateID and ReservedCode2 are set.
 *
 * @throws LabelMissingError when the file carries no readable label to propagate.
 */
export async function propagateLabel(input: LabelInput, request: PropagateRequest, options: WriteOptions = {}): Promise<LabelWriteResult> {
  return withSource(input, options, async (source, codec) => {
    const current = (await inspect(source, codec, [])).label;
    if (!current) throw new LabelMissingError('the file carries no readable AIGC label to propagate; embed one with `hegui label embed`');
    checkTsa(request);
    let label = propagatedLabel(current, request);
    if (request.key) label = await signFor(label, ['propagator'], request.key, source, codec, request.tsa);
    const bytes = await emit(options, (sink) => codec.write(source, formatLabel(label), sink));
    return { format: codec.format, label, ...(bytes ? { bytes } : {}) };
  });
}

/**
 * `current` with the platform's propagation fields (Labeling Measures Art. 6), unsigned: the
 * previous ReservedCode2 is cleared because it vouched for the previous propagator.
 *
 * @throws LabelValueError or ProviderCodeError when the propagation fields are invalid.
 */
export function propagatedLabel(current: ImplicitLabel, request: Pick<PropagateRequest, 'propagator' | 'propagateId'>): ImplicitLabel {
  validatePropagation(request.propagator, request.propagateId, current.ContentProducer);
  return { ...current, ContentPropagator: request.propagator, PropagateID: request.propagateId, ReservedCode2: '' };
}

/** Removes every label, standard or not; everything else in the file is kept. */
export async function stripLabel(input: LabelInput, options: WriteOptions = {}): Promise<LabelWriteResult> {
  return withSource(input, options, async (source, codec) => {
    const bytes = await emit(options, (sink) => codec.remove(source, sink));
    return { format: codec.format, label: null, ...(bytes ? { bytes } : {}) };
  });
}

async function inspect(source: ByteSource, codec: LabelCodec, keys: readonly LabelVerifyKey[], check: CheckOptions = {}): Promise<LabelReport> {
  const found: FoundLabelReport[] = (await codec.read(source)).map((entry) => {
    try {
      return { ...entry, label: parseLabel(entry.value) };
    } catch (error) {
      return { ...entry, label: null, error: (error as Error).message };
    }
  });
  const first = [...found].sort((a, b) => Number(b.standard) - Number(a.standard)).find((entry) => entry.label !== null);
  const label = first?.label ?? null;
  const signatures: SignatureReport = label
    ? await checkSignatures(label, keys, digester(source, codec), check)
    : { status: 'absent', producer: 'absent', propagator: 'absent', timestamps: NO_TIMESTAMPS };
  const presence: LabelPresence = label ? 'label' : found.length > 0 ? 'unreadable' : 'none';
  const same = (entry: FoundLabelReport): boolean => entry.label !== null && label !== null && formatLabel(entry.label) === formatLabel(label);
  const conflicts = found.filter((entry) => entry !== first && !same(entry));
  // A second, different label is left out of the signed content like every label, so it cannot
  // break the signature; yet another reader may show it first. Such a file is never valid as a
  // whole (docs/labels.md, "Verification results"; issue 11); the fields say what the label that
  // counts is worth.
  const status = conflicts.length > 0 && (signatures.status === 'valid' || signatures.status === 'payload-only') ? 'invalid' : signatures.status;
  return { format: codec.format, label, location: first?.location ?? null, presence, found, conflicts, ...signatures, status };
}

/**
 * Reads every label in the file and, when `keys` are given, verifies the security data.
 *
 * @example
 * const report = await readLabels(bytes);
 * report.label?.ContentProducer; report.location; // e.g. 'xmp:APP1'
 */
export async function readLabels(input: LabelInput, options: LabelOptions & CheckOptions & { keys?: readonly LabelVerifyKey[] } = {}): Promise<LabelReport> {
  return withSource(input, options, (source, codec) => inspect(source, codec, options.keys ?? [], options));
}

/**
 * Verifies the label's security data with `keys`: `valid`, `invalid` (signature does not
 * match the fields), `payload-changed` (signed, but the media changed since), `absent`, or
 * `unverified` (signed by a key not given).
 */
export async function verifyLabel(input: LabelInput, keys: readonly LabelVerifyKey[], options: LabelOptions & CheckOptions = {}): Promise<LabelReport> {
  return readLabels(input, { ...options, keys });
}

/** The record `hegui label read --json` prints and `POST /api/labels/inspect` returns for one file. */
export interface LabelRecord {
  file: string;
  format: FormatId | null;
  label: ImplicitLabel | null;
  location: LabelLocation | null;
  /** `unreadable` when something label-like is there but does not parse; `null` when the file could not be read. */
  presence: LabelPresence | null;
  /** The overall verdict, the worse of the two below. */
  signature: SignatureStatus;
  /** The producer's (ReservedCode1) and the propagator's (ReservedCode2) security data, each on its own. */
  signatures: { producer: SignatureStatus; propagator: SignatureStatus };
  /** Each signature's RFC 3161 timestamp: `none`, `valid` (with its time and TSA), `untrusted` or `invalid`. */
  timestamps: SignatureReport['timestamps'];
  /** Every other value found that disagrees with `label`: where it is, and why it is unreadable if it is. */
  conflicts: { location: LabelLocation; label: ImplicitLabel | null; error?: string }[];
  /** Present only when the file could not be read: the error's code and message. */
  error?: { code: string; message: string };
}

/** The per-file JSON record for a report. */
export function labelRecord(file: string, report: LabelReport): LabelRecord {
  return {
    file,
    format: report.format,
    label: report.label,
    location: report.location,
    presence: report.presence,
    signature: report.status,
    signatures: { producer: report.producer, propagator: report.propagator },
    timestamps: report.timestamps,
    conflicts: report.conflicts.map(({ location, label, error }) => ({ location, label, ...(error === undefined ? {} : { error }) })),
  };
}

/** The per-file JSON record for a file that failed. */
export function failureRecord(file: string, error: { code?: string; message: string }): LabelRecord {
  return {
    file,
    format: null,
    label: null,
    location: null,
    presence: null,
    signature: 'absent',
    signatures: { producer: 'absent', propagator: 'absent' },
    timestamps: NO_TIMESTAMPS,
    conflicts: [],
    error: { code: error.code ?? 'E_UNEXPECTED', message: error.message },
  };
}
