/**
 * @module store/migrations/2026-12-04-08-audit-redaction
 * What a personal-information erasure needs (issue 15):
 * - `audit_events.redaction`: the tombstone (JSON: request, by, at, event) that replaces an
 *   event's encrypted content once a request had it removed. The chain hashes the content's
 *   digest, not the content, so the event still verifies; the tombstone names the
 *   `audit.redact` event that vouches for it.
 * - `gateway_media.user_id`: whose request produced a stored file, so an erasure or an incident
 *   can find and remove a person's generated outputs (NULL for files stored before this).
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('audit_events').addColumn('redaction', 'text').execute();
  await db.schema.alterTable('gateway_media').addColumn('user_id', 'text').execute();
  await db.schema.createIndex('gateway_media_user').on('gateway_media').column('user_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('gateway_media_user').execute();
  await db.schema.alterTable('gateway_media').dropColumn('user_id').execute();
  await db.schema.alterTable('audit_events').dropColumn('redaction').execute();
}
