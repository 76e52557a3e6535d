/**
 * @module gateway/labels
 * Labels on every answer the gateway relays. Implicit (Labeling Measures Art. 5; GB 45438
 * Annex E): each response gets its own label, whose seven fields travel in `X-AIGC-*`
 * headers and in a `hegui` object in the body; with a signing key, ReservedCode1/2 carry a
 * signature over the fields and a hash of the text. Explicit (Labeling Measures Art. 4;
 * GB 45438 §5.1): a text notice at the start or end of every text answer, in streams as the
 * first or last delta. Where the output must stay machine-readable (JSON mode, structured
 * outputs, tool-call turns) the notice is not written into the text: it travels in the `hegui`
 * object and the `x-hegui-notice` header beside the signed label instead. Each choice has its
 * own label, signed over exactly the text the client receives for it, notices included.
 */
import { createHash, type Hash, hash as oneShotHash, randomUUID } from 'node:crypto';
import { labelText, streamNotice } from '../label/explicit/text.js';
import { createLabel, LABEL_FIELDS, signLabel, type ImplicitLabel, type LabelSigningKey } from '../label/index.js';
import type { NoticePosition } from './config.js';

/**
 * Example provider code used while none is configured; `hegui serve` warns about it, because
 * a provider must write its own code (GB 45438 Annex E).
 */
export const EXAMPLE_PRODUCER = '001191350100M000100Y431A001';

export interface LabelSettings {
  /** 27-character provider code (ContentProducer). */
  producer: string;
  key?: LabelSigningKey;
  notice: { position: NoticePosition; text?: string; language: 'zh' | 'en' };
}

/** The `hegui` object added to response bodies. */
export interface HeguiBodyData {
  /** The implicit label of this answer (GB 45438 Annex E fields); absent on a refusal hegui wrote itself. */
  aigc?: ImplicitLabel;
  /** Set when the guard stopped or changed the answer. */
  guard?: { action: string; risks: string[] };
  /** The gateway's own notices to the user (a minor's reminder, a warning), also in the text. */
  notices?: string[];
  /** The explicit notice, and whether it is in the text (`content`) or only here (`metadata`). */
  notice?: { text: string; placement: NoticePlacement };
  /** With several choices (`n > 1`): each choice's own label; `aigc` is choice 0's. */
  choices?: { index: number; aigc: ImplicitLabel }[];
}

/** Where the explicit notice of an answer went: into its text, or beside it (JSON, tool calls). */
export type NoticePlacement = 'content' | 'metadata';

/** Labels answers: one label per response, the notice text, and the header and body forms. */
export class OutputLabeler {
  readonly producer: string;
  readonly key: LabelSigningKey | undefined;
  readonly position: NoticePosition;
  /** Stream prefix/suffix (empty when the position is `none`). */
  readonly streamPrefix: string;
  readonly streamSuffix: string;
  /** The notice's wording alone (empty when the position is `none`). */
  readonly noticeText: string;
  /** The notice as the `X-Hegui-Notice` header (percent-encoded), or no header without one. */
  readonly noticeHeaders: Readonly<Record<string, string>>;
  readonly #notice: { text?: string; language: 'zh' | 'en' };

  /** @throws NoticeWordingError when the configured wording lacks an element GB 45438 §5 requires. */
  constructor(settings: LabelSettings) {
    this.producer = settings.producer;
    this.key = settings.key;
    this.position = settings.notice.position;
    this.#notice = { language: settings.notice.language, ...(settings.notice.text ? { text: settings.notice.text } : {}) };
    const stream = this.position === 'none' ? { prefix: '', suffix: '' } : streamNotice({ ...this.#notice, position: this.position });
    this.streamPrefix = stream.prefix;
    this.streamSuffix = stream.suffix;
    this.noticeText = (stream.prefix || stream.suffix).trim();
    const headers: Record<string, string> = this.noticeText ? { 'x-hegui-notice': encodeURIComponent(this.noticeText) } : {};
    this.noticeHeaders = Object.freeze(headers);
    // Fails at start, not on the first answer, when the provider code is not a valid one.
    createLabel({ producer: this.producer, produceId: 'start-up-check' });
  }

  /** A fresh label for one response; ProduceID is unique and is what the audit event records. */
  newLabel(): ImplicitLabel {
    const produceId = `hegui-${randomUUID()}`;
    return { Label: '1', ContentProducer: this.producer, ProduceID: produceId, ReservedCode1: '', ContentPropagator: this.producer, PropagateID: produceId, ReservedCode2: '' };
  }

  /**
   * A running hash of an answer's text for the security data (SHA-256 for Ed25519, SM3 for
   * SM2), or undefined without a signing key.
   */
  textHash(): TextDigest | undefined {
    return this.key && new TextDigest(this.key.algorithm === 'sm2' ? 'sm3' : 'sha256');
  }

  /**
   * The label with the producer's security data (ReservedCode1) over the answer's hash;
   * unchanged without a key. ReservedCode2 is left to a platform that propagates the text
   * (Labeling Measures Art. 6): on first write it would only repeat ReservedCode1's claim, and
   * one signature keeps the hot path short.
   */
  sign(label: ImplicitLabel, hash: TextDigest | undefined): ImplicitLabel {
    if (!this.key || !hash) return label;
    return signLabel(label, 'producer', this.key, hash.digest());
  }

  /** Signs a whole text (hashed in one call, without a running `Hash` object). */
  signText(label: ImplicitLabel, text: string): ImplicitLabel {
    if (!this.key) return label;
    return signLabel(label, 'producer', this.key, oneShotHash(this.key.algorithm === 'sm2' ? 'sm3' : 'sha256', text, 'buffer'));
  }

  /** A whole text answer with the explicit notice in place. */
  labelWholeText(text: string): string {
    if (this.position === 'none' || text === '') return text;
    return labelText(text, { ...this.#notice, position: this.position }).text;
  }
}

/** Text gathered before it is hashed: up to this many UTF-16 code units, then one `update`. */
const DIGEST_BATCH_CHARS = 16 * 1024;

/**
 * The running hash of a streamed answer's text. A stream's text comes in small deltas (a few
 * characters each); rather than one native `update` per delta, the text is gathered and
 * hashed in batches of DIGEST_BATCH_CHARS, and a short answer is hashed in one call at the end,
 * without a `Hash` object. The digest is that of the UTF-8 of the whole text, as with one
 * `update` per delta (a batch never ends between the two halves of a surrogate pair, so a
 * character split across two deltas is hashed whole, as the client reads it).
 */
export class TextDigest {
  readonly #algorithm: string;
  #hash: Hash | undefined;
  #pending = '';

  constructor(algorithm: string) {
    this.#algorithm = algorithm;
  }

  update(text: string): this {
    this.#pending += text;
    const size = this.#pending.length;
    if (size >= DIGEST_BATCH_CHARS) {
      const last = this.#pending.charCodeAt(size - 1);
      // A high surrogate waits for its other half.
      const cut = last >= 0xd800 && last <= 0xdbff ? size - 1 : size;
      (this.#hash ??= createHash(this.#algorithm)).update(this.#pending.slice(0, cut));
      this.#pending = this.#pending.slice(cut);
    }
    return this;
  }

  /** The digest of everything given; call once. */
  digest(): Buffer {
    if (!this.#hash) return oneShotHash(this.#algorithm, this.#pending, 'buffer');
    if (this.#pending !== '') this.#hash.update(this.#pending);
    return this.#hash.digest();
  }
}

/** The `hegui` object of a labeled answer. */
export function heguiData(
  label: ImplicitLabel | undefined,
  exchange: { inputFindings: readonly { risk: string }[]; outputFindings: readonly { risk: string }[]; notices: readonly string[]; sanctionNotice: string | undefined },
  action?: string,
): HeguiBodyData {
  const risks = [...new Set([...exchange.inputFindings, ...exchange.outputFindings].map((f) => f.risk))].sort();
  const notices = exchange.sanctionNotice ? [...exchange.notices, exchange.sanctionNotice] : exchange.notices;
  return { ...(label ? { aigc: label } : {}), ...(action ? { guard: { action, risks } } : {}), ...(notices.length > 0 ? { notices: [...notices] } : {}) };
}

/**
 * The explicit notice as a header, percent-encoded (header values are ASCII): how a client
 * whose answer carries the notice only in metadata (JSON, tool calls) can still show it.
 */
export function noticeHeaders(labeler: OutputLabeler): Readonly<Record<string, string>> {
  return labeler.noticeHeaders;
}

/** The `hegui` fields that place the notice and give each of several choices its label. */
export function choiceLabelData(labeler: OutputLabeler, placement: NoticePlacement, labels: readonly { index: number; aigc: ImplicitLabel }[]): Pick<HeguiBodyData, 'notice' | 'choices'> {
  return { ...(labeler.noticeText ? { notice: { text: labeler.noticeText, placement } } : {}), ...(labels.length > 1 ? { choices: [...labels] } : {}) };
}

/** `X-AIGC-<Field>` in lower case, for each of `LABEL_FIELDS` in order. */
const LABEL_HEADER_NAMES: readonly string[] = LABEL_FIELDS.map((field) => `x-aigc-${field.toLowerCase()}`);

/** The label as `X-AIGC-<Field>` headers (values are printable ASCII, GB 45438 Annex E). */
export function labelHeaders(label: ImplicitLabel): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let i = 0; i < LABEL_FIELDS.length; i++) headers[LABEL_HEADER_NAMES[i] as string] = label[LABEL_FIELDS[i] as (typeof LABEL_FIELDS)[number]];
  return headers;
}
