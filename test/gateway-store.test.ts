/**
 * The gateway's tables on every dialect: users, API keys by hash, labeled media with expiry.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { StoreConflictError } from '../src/store/index.js';
import { describeEachStore } from './helpers/stores.js';

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

describe('gateway store', () => {
  describeEachStore('gateway users and media', (getStore) => {
    it('creates users with flags, refuses a duplicate name, and finds a user by key hash', async () => {
      const store = getStore();
      const alice = await store.gatewayUsers.create({ name: 'alice', verified: true });
      expect(alice).toMatchObject({ name: 'alice', verified: true, minor: false, disabledAt: null });
      await expect(store.gatewayUsers.create({ name: 'alice' })).rejects.toBeInstanceOf(StoreConflictError);
      await store.gatewayUsers.addKey({ userId: alice.id, keyHash: sha('k1'), prefix: 'hg-abc' });
      expect((await store.gatewayUsers.findByKeyHash(sha('k1')))?.id).toBe(alice.id);
      expect(await store.gatewayUsers.findByKeyHash(sha('unknown'))).toBeUndefined();
      await store.gatewayUsers.setFlags(alice.id, { minor: true });
      expect((await store.gatewayUsers.findById(alice.id))?.minor).toBe(true);
    });

    it('stops finding a revoked key or a disabled user', async () => {
      const store = getStore();
      const bob = await store.gatewayUsers.create({ name: 'bob', minor: true });
      await store.gatewayUsers.addKey({ userId: bob.id, keyHash: sha('k2'), prefix: 'hg-def' });
      await store.gatewayUsers.addKey({ userId: bob.id, keyHash: sha('k3'), prefix: 'hg-ghi' });
      await store.gatewayUsers.revokeKey(sha('k2'));
      expect(await store.gatewayUsers.findByKeyHash(sha('k2'))).toBeUndefined();
      expect((await store.gatewayUsers.findByKeyHash(sha('k3')))?.minor).toBe(true);
      await store.gatewayUsers.disable(bob.id);
      expect(await store.gatewayUsers.findByKeyHash(sha('k3'))).toBeUndefined();
      expect((await store.gatewayUsers.list()).map((u) => u.name)).toEqual(expect.arrayContaining(['alice', 'bob']));
    });

    it('keeps media bytes intact until they expire, then purges them', async () => {
      const store = getStore();
      const bytes = new Uint8Array([0, 1, 2, 255, 128]);
      const now = new Date('2026-12-01T00:00:00Z');
      await store.gatewayMedia.put({ id: 'm1', contentType: 'image/png', bytes, expiresAt: '2026-12-01T01:00:00.000Z' }, now);
      const got = await store.gatewayMedia.get('m1', now);
      expect(got?.contentType).toBe('image/png');
      expect([...(got?.bytes ?? [])]).toEqual([...bytes]);
      expect(await store.gatewayMedia.get('m1', new Date('2026-12-01T02:00:00Z'))).toBeUndefined();
      expect(await store.gatewayMedia.purgeExpired(new Date('2026-12-01T02:00:00Z'))).toBe(1);
    });
  });
});
