/**
 * Usage shared through the store by several replicas (each a `UsageLedger` on its own
 * connection): decided in the store, a limit holds exactly; decided on each replica's copy,
 * it holds within the documented staleness and converges once copies are read again; blocks
 * and the sanctions they lead to are decided in the store.
 */
import { describe, expect, it } from 'vitest';
import { UsageLedger } from '../src/gateway/usage-ledger.js';
import type { AbuseStep, SubjectRules } from '../src/gateway/usage-state.js';
import { openStore, type Store } from '../src/store/index.js';
import { describeEachStore } from './helpers/stores.js';

const T0 = Date.parse('2026-11-28T01:00:30Z');
const rules: SubjectRules = { rate: { requests: 5, windowMs: 60_000 } };

describe('usage ledger', () => {
  describeEachStore('two replicas on one database', (getStore, getDatabase) => {
    /** A second connection on PostgreSQL; on SQLite one connection serves both (one process). */
    async function replicaStores(): Promise<[Store, Store, () => Promise<void>]> {
      const store = getStore();
      if (getDatabase().dialect !== 'postgres') return [store, store, async () => undefined];
      const other = await openStore(getDatabase().url);
      return [store, other, () => other.close()];
    }

    it('holds a limit exactly when every request is decided in the store', async () => {
      const [a, b, close] = await replicaStores();
      try {
        const clock = (): number => T0;
        const ledgers = [new UsageLedger(a, { syncMs: 0, now: clock }), new UsageLedger(b, { syncMs: 0, now: clock })];
        const results = await Promise.all(Array.from({ length: 12 }, (_, i) => (ledgers[i % 2] as UsageLedger).admit([{ subject: 'user:exact', rules }], T0)));
        expect(results.filter((r) => !r.refusal)).toHaveLength(5);
        expect(results.filter((r) => r.refusal)[0]).toMatchObject({ refusal: { kind: 'rate' }, refusedBy: 'user:exact' });
      } finally {
        await close();
      }
    });

    it('decides on copies between syncs, and converges once a stale copy is read again', async () => {
      const [a, b, close] = await replicaStores();
      try {
        let now = T0;
        const clock = (): number => now;
        const first = new UsageLedger(a, { syncMs: 100, now: clock });
        const second = new UsageLedger(b, { syncMs: 100, now: clock });
        const admitted = async (ledger: UsageLedger, n: number): Promise<number> => {
          let count = 0;
          for (let i = 0; i < n; i++) if (!(await ledger.admit([{ subject: 'user:batched', rules }], now)).refusal) count++;
          return count;
        };
        expect(await admitted(first, 3)).toBe(3);
        await first.flush();
        // The second replica reads the subject on first use: it knows the three.
        expect(await admitted(second, 5)).toBe(2);
        await second.flush();
        // The first replica's copy is fresh (younger than two syncs): it does not know the two yet.
        expect(await admitted(first, 1)).toBe(1);
        await first.flush();
        now += 250;
        expect(await admitted(first, 1)).toBe(0);
        expect(await admitted(second, 1)).toBe(0);
        // Six requests counted in the store: the bucket is full again six intervals (6 x 12 s) after T0.
        const state = JSON.parse((await a.gatewayUsage.read(['user:batched'])).get('user:batched') ?? '{}') as { rate: { tat: number } };
        expect(state.rate.tat).toBe(T0 + 72_000);
        first.stop();
        second.stop();
      } finally {
        await close();
      }
    });

    it('decides blocks in the store: a suspension taken on one replica refuses on the other', async () => {
      const [a, b, close] = await replicaStores();
      try {
        let now = T0;
        const clock = (): number => now;
        const first = new UsageLedger(a, { syncMs: 100, now: clock });
        const second = new UsageLedger(b, { syncMs: 100, now: clock });
        const steps: AbuseStep[] = [{ blocks: 2, windowMs: 3_600_000, action: 'suspend', requestsPerMinute: 1 }];
        const recorded: string[] = [];
        const record = async (): Promise<void> => void recorded.push('suspend');
        expect(await second.admit([{ subject: 'user:abuser', rules: {} }], now)).toMatchObject({ remind: false });
        expect(await first.block('user:abuser', now, steps, record)).toBeUndefined();
        expect(await second.block('user:abuser', now + 1, steps, record)).toMatchObject({ blocks: 2, until: null });
        expect(recorded).toEqual(['suspend']);
        now += 250;
        expect((await first.admit([{ subject: 'user:abuser', rules: {} }], now)).refusal).toEqual({ kind: 'suspended', until: null });
        expect((await second.admit([{ subject: 'user:abuser', rules: {} }], now)).refusal).toEqual({ kind: 'suspended', until: null });
        first.stop();
        second.stop();
      } finally {
        await close();
      }
    });
  });
});
