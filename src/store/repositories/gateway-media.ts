/**
 * @module store/repositories/gateway-media
 * Generated media the gateway labeled and serves itself under signed, expiring URLs. Kept in
 * the store, not in one process, so that any replica behind a load balancer can serve a URL
 * another replica handed out.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';

export interface StoredMedia {
  id: string;
  contentType: string;
  bytes: Uint8Array;
  expiresAt: string;
}

export class GatewayMediaRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async put(media: StoredMedia, now: Date = new Date()): Promise<void> {
    await this.#db
      .insertInto('gateway_media')
      .values({ id: media.id, content_type: media.contentType, bytes: media.bytes, created_at: now.toISOString(), expires_at: media.expiresAt })
      .execute();
  }

  /** The media with `id` unless it has expired. */
  async get(id: string, now: Date = new Date()): Promise<StoredMedia | undefined> {
    const row = await this.#db.selectFrom('gateway_media').selectAll().where('id', '=', id).where('expires_at', '>', now.toISOString()).executeTakeFirst();
    return row && { id: row.id, contentType: row.content_type, bytes: new Uint8Array(row.bytes), expiresAt: row.expires_at };
  }

  /** Deletes expired media; returns how many were deleted. */
  async purgeExpired(now: Date = new Date()): Promise<number> {
    const result = await this.#db.deleteFrom('gateway_media').where('expires_at', '<=', now.toISOString()).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
