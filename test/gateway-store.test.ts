/**
 * The gateway's tables on every dialect: users, API keys by hash, labeled media with expiry,
 * the usage state replicas share (no update lost between concurrent writers), sanctions.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openStore, StoreConflictError } from '../src/store/index.js';
import { describeEachStore } from './helpers/stores.js';

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

describe('gateway store', () => {
  describeEachStore('gateway users and media', (getStore, getDatabase) => {
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
      expect((await store.gatewayUsers.list()).map((u) => u.name)).toContain('bob');
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

    it('creates a user once however many replicas ensure it at the same time', async () => {
      const store = getStore();
      const users = await Promise.all(Array.from({ length: 5 }, () => store.gatewayUsers.ensure('jwt:sub-1', { verified: true })));
      expect(new Set(users.map((u) => u.id)).size).toBe(1);
      expect(users[0]).toMatchObject({ name: 'jwt:sub-1', verified: true, minor: false });
    });

    it('updates usage states under a lock: concurrent writers on two connections lose no update', async () => {
      const store = getStore();
      const database = getDatabase();
      // Two pools on PostgreSQL; one SQLite connection serialises its own transactions.
      const other = database.dialect === 'postgres' ? await openStore(database.url) : store;
      try {
        const count = (state: string | undefined): number => (state === undefined ? 0 : (JSON.parse(state) as { n: number }).n);
        const bump = (s: typeof store) => s.gatewayUsage.update(['user:a', 'key:b'], (states) => new Map(['user:a', 'key:b'].map((k) => [k, JSON.stringify({ n: count(states.get(k)) + 1 })])));
        await Promise.all(Array.from({ length: 20 }, (_, i) => bump(i % 2 ? store : other)));
        const states = await store.gatewayUsage.read(['user:a', 'key:b', 'user:none']);
        expect([...states.entries()].sort()).toEqual([['key:b', '{"n":20}'], ['user:a', '{"n":20}']]);
        const unchanged = await store.gatewayUsage.update(['user:a'], () => new Map());
        expect(unchanged.get('user:a')).toBe('{"n":20}');
      } finally {
        if (other !== store) await other.close();
      }
    });

    it('records sanctions and lifts those still in force', async () => {
      const store = getStore();
      const carol = await store.gatewayUsers.create({ name: 'carol' });
      const at = (iso: string): Date => new Date(iso);
      await store.gatewaySanctions.add({ userId: carol.id, action: 'warn', reason: '3 blocked requests within 60 minutes', blocks: 3, windowSeconds: 3600, until: null, now: at('2026-11-28T01:00:00Z') });
      await store.gatewaySanctions.add({ userId: carol.id, action: 'limit', reason: 'r', blocks: 5, windowSeconds: 3600, until: '2026-11-28T01:30:00.000Z', now: at('2026-11-28T01:10:00Z') });
      await store.gatewaySanctions.add({ userId: carol.id, action: 'suspend', reason: 'r', blocks: 10, windowSeconds: 86400, until: null, now: at('2026-11-28T02:00:00Z') });
      expect((await store.gatewaySanctions.list(carol.id)).map((s) => s.action)).toEqual(['suspend', 'limit', 'warn']);
      const lifted = await store.gatewaySanctions.liftActive(carol.id, 'system:cli', at('2026-11-28T03:00:00Z'));
      expect(lifted.map((s) => s.action)).toEqual(['suspend']);
      expect((await store.gatewaySanctions.list(carol.id))[0]).toMatchObject({ action: 'suspend', liftedBy: 'system:cli', liftedAt: '2026-11-28T03:00:00.000Z' });
      expect(await store.gatewaySanctions.liftActive(carol.id, 'system:cli', at('2026-11-28T03:00:00Z'))).toEqual([]);
    });
  });
});
