/**
 * @module gateway/media
 * Generated images and audio leave the gateway labeled (Labeling Measures Art. 4 and 5):
 * images get the visible notice and the implicit label in one pass; audio gets the audible
 * notice (unless switched off) and the implicit label. An upstream's URL output is fetched, labeled and served
 * from the gateway under a signed, expiring URL, so the unlabeled original never reaches the
 * client. The files live in the store, so any replica can serve a link another handed out.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { labelImage } from '../label/explicit/index.js';
import { embedLabel, type EmbedRequest, type ImplicitLabel, type LabelSigningKey } from '../label/index.js';
import type { Store } from '../store/index.js';
import { GatewayError, GatewayMediaError } from './errors.js';
import { fetchMedia, type OutboundPolicy } from './outbound.js';
import { describeCause } from './upstream.js';

const SECRET_SETTING = 'gateway.mediaUrlSecret';

/** Writes the explicit mark and the implicit label `request` into a generated file, in one pass. */
export type MediaLabeling = (bytes: Uint8Array, request: EmbedRequest) => Promise<Uint8Array>;

export interface MediaOptions {
  urlTtlSeconds: number;
  maxBytes: number;
  key?: LabelSigningKey;
  /** Wording of the visible notice on images (GB 45438 §5.2). */
  notice?: { text?: string; language: 'zh' | 'en' };
  /** Labeling of audio beyond the implicit label (a spoken or rhythmic notice, GB 45438 §5.3). */
  audio?: MediaLabeling;
  /** Where generated files may be fetched from (./outbound). */
  outbound: OutboundPolicy;
}

/** A generated file that cannot carry a label in the format asked for (fail closed: it does not leave). */
export class GatewayUnlabelableError extends GatewayError {
  constructor(message: string) {
    super('E_GATEWAY_UNLABELABLE', message, { status: 400, type: 'invalid_request_error', param: 'response_format' });
  }
}

/** Content type of an image or audio file from its first bytes. */
export function sniffContentType(bytes: Uint8Array): string {
  const ascii = (from: number, to: number): string => String.fromCharCode(...bytes.subarray(from, to));
  if (bytes[0] === 0x89 && ascii(1, 4) === 'PNG') return 'image/png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'image/jpeg';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'image/webp';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WAVE') return 'audio/wav';
  if (ascii(0, 3) === 'GIF') return 'image/gif';
  if (ascii(0, 4) === 'fLaC') return 'audio/flac';
  if (ascii(0, 4) === 'OggS') return 'audio/ogg';
  if (ascii(0, 3) === 'ID3' || (bytes[0] === 0xff && ((bytes[1] ?? 0) & 0xe0) === 0xe0)) return 'audio/mpeg';
  if (ascii(4, 8) === 'ftyp') return 'audio/mp4';
  return 'application/octet-stream';
}

export class MediaService {
  readonly #store: Store;
  readonly #secret: Buffer;
  readonly #options: MediaOptions;

  private constructor(store: Store, secret: Buffer, options: MediaOptions) {
    this.#store = store;
    this.#secret = secret;
    this.#options = options;
  }

  /** Loads (or creates, once for all replicas) the secret that signs media URLs. */
  static async create(store: Store, options: MediaOptions): Promise<MediaService> {
    let stored = await store.settings.get<string>(SECRET_SETTING);
    if (!stored) {
      await store.settings.set(SECRET_SETTING, randomUUID() + randomUUID(), { expectedVersion: 0 }).catch(() => undefined);
      stored = await store.settings.get<string>(SECRET_SETTING);
    }
    return new MediaService(store, Buffer.from(stored?.value ?? randomUUID()), options);
  }

  /**
   * Labels a generated image or audio file (explicit mark and implicit label; the signing key,
   * when configured, signs the implicit label over the marked payload).
   *
   * @throws GatewayUnlabelableError when the format cannot carry a label.
   */
  async label(bytes: Uint8Array, medium: 'image' | 'audio', label: ImplicitLabel): Promise<Uint8Array> {
    const request: EmbedRequest = { producer: label.ContentProducer, produceId: label.ProduceID, ...(this.#options.key ? { key: this.#options.key } : {}) };
    try {
      if (medium === 'image') return (await labelImage(bytes, { ...this.#options.notice, implicit: request })).bytes;
      if (this.#options.audio) return await this.#options.audio(bytes, request);
      const result = await embedLabel(bytes, request);
      return result.bytes ?? bytes;
    } catch (cause) {
      throw new GatewayUnlabelableError(`the generated ${medium} (${sniffContentType(bytes)}) cannot carry an implicit label: ${describeCause(cause)}; ask for a format hegui can label (png, jpeg, webp or gif images; wav, mp3 or flac audio)`);
    }
  }

  /**
   * Fetches a generated file from the upstream's URL, up to the size limit, where the outbound
   * policy allows (https, the upstreams' hosts, no private addresses, redirects checked).
   */
  fetch(url: string, signal: AbortSignal): Promise<Uint8Array> {
    return fetchMedia(url, this.#options.outbound, { signal, maxBytes: this.#options.maxBytes });
  }

  /**
   * Stores labeled bytes, with the user they were made for (so an erasure or an incident can
   * remove them), and returns the signed path (`/v1/media/<id>?exp=...&sig=...`).
   */
  async publish(bytes: Uint8Array, now: Date = new Date(), userId: string | null = null): Promise<string> {
    const id = randomUUID();
    const expires = Math.floor(now.getTime() / 1000) + this.#options.urlTtlSeconds;
    await this.#store.gatewayMedia.put({ id, contentType: sniffContentType(bytes), bytes, expiresAt: new Date(expires * 1000).toISOString(), userId }, now);
    return `/v1/media/${id}?exp=${expires}&sig=${this.#sign(id, expires)}`;
  }

  /**
   * The stored file for a signed link.
   *
   * @throws GatewayMediaError when the signature is wrong, the link expired or the file is gone.
   */
  async open(id: string, exp: string | undefined, sig: string | undefined, now: Date = new Date()): Promise<{ bytes: Uint8Array; contentType: string }> {
    const expires = Number(exp);
    if (!sig || !Number.isInteger(expires) || expires * 1000 <= now.getTime()) throw new GatewayMediaError();
    const expected = Buffer.from(this.#sign(id, expires));
    const given = Buffer.from(sig);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw new GatewayMediaError();
    const media = await this.#store.gatewayMedia.get(id, now);
    if (!media) throw new GatewayMediaError();
    return { bytes: media.bytes, contentType: media.contentType };
  }

  #sign(id: string, expires: number): string {
    return createHmac('sha256', this.#secret).update(`${id}.${expires}`).digest('base64url');
  }
}
