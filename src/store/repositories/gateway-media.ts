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
  /** The gateway user whose request produced it, when known. */
  userId?: string | null;
}

/** A stored file without its bytes, for listings. */
export interface StoredMediaInfo {
  id: string;
  contentType: string;
  size: number;
  createdAt: string;
  expiresAt: string;
  userId: string | null;
}

export class GatewayMediaRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async put(media: StoredMedia, now: Date = new Date()): Promise<void> {
    await this.#db
      .insertInto('gateway_media')
      .values({ id: media.id, content_type: media.contentType, bytes: media.bytes, created_at: now.toISOString(), expires_at: media.expiresAt, user_id: media.userId ?? null })
      .execute();
  }

  /** The media with `id` unless it has expired. */
  async get(id: string, now: Date = new Date()): Promise<StoredMedia | undefined> {
    const row = await this.#db.selectFrom('gateway_media').selectAll().where('id', '=', id).where('expires_at', '>', now.toISOString()).executeTakeFirst();
    return row && { id: row.id, contentType: row.content_type, bytes: new Uint8Array(row.bytes), expiresAt: row.expires_at, userId: row.user_id };
  }

  /** Every file (expired ones too, until purged) produced for `userId`, oldest first, bytes included. */
  async listByUser(userId: string): Promise<(StoredMedia & { createdAt: string })[]> {
    const rows = await this.#db.selectFrom('gateway_media').selectAll().where('user_id', '=', userId).orderBy('created_at').orderBy('id').execute();
    return rows.map((row) => ({ id: row.id, contentType: row.content_type, bytes: new Uint8Array(row.bytes), expiresAt: row.expires_at, userId: row.user_id, createdAt: row.created_at }));
  }

  /** Files by id, without their bytes (unknown ids are left out). */
  async info(ids: readonly string[]): Promise<StoredMediaInfo[]> {
    if (ids.length === 0) return [];
    const rows = await this.#db
      .selectFrom('gateway_media')
      .select((eb) => ['id', 'content_type', 'created_at', 'expires_at', 'user_id', eb.fn<number | string>('length', [eb.ref('bytes')]).as('size')])
      .where('id', 'in', ids)
      .orderBy('created_at')
      .execute();
    return rows.map((row) => ({ id: row.id, contentType: row.content_type, size: Number(row.size), createdAt: row.created_at, expiresAt: row.expires_at, userId: row.user_id }));
  }

  /** Ids of the files produced for `userId`. */
  async idsByUser(userId: string): Promise<string[]> {
    const rows = await this.#db.selectFrom('gateway_media').select('id').where('user_id', '=', userId).orderBy('created_at').execute();
    return rows.map((r) => r.id);
  }

  /** Deletes files by id; returns how many were deleted. */
  async delete(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const result = await this.#db.deleteFrom('gateway_media').where('id', 'in', ids).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Deletes expired media; returns how many were deleted. */
  async purgeExpired(now: Date = new Date()): Promise<number> {
    const result = await this.#db.deleteFrom('gateway_media').where('expires_at', '<=', now.toISOString()).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
