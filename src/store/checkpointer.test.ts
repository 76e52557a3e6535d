import { setTimeout as sleep } from 'node:timers/promises';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../audit/index.js';
import { openStore } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'hegui-checkpoint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const walSize = (path: string): number => (existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0);

describe('WAL checkpoints on a worker thread (SQLite)', () => {
  it('keeps the WAL bounded under steady appends, loses nothing, and ends with the store', async () => {
    const path = join(dir, 'steady.db');
    const store = await openStore(`file:${path}`, { checkpointInBackground: true, checkpointMs: 20, walTruncateBytes: 1 << 20 });
    const log = new AuditLog(store);
    let largest = 0;
    for (let i = 0; i < 3000; i++) {
      await log.append({ type: 'gateway.request', actor: 'user:steady', payload: { i, text: 'x'.repeat(200) } });
      if (i % 100 === 0) {
        largest = Math.max(largest, walSize(path));
        // A server does other work between commits; a loop of nothing but commits would keep
        // the write lock so busy that the truncation waits (it retries, but the test would be slow).
        await sleep(10);
      }
    }
    // Without the worker (and with SQLite's own checkpoint off) the WAL would hold every page
    // written: several MiB here. The worker truncates it past 1 MiB.
    expect(largest).toBeLessThan(6 << 20);
    expect((await log.verify()).ok).toBe(true);
    await store.close();
    expect(walSize(path)).toBe(0);
    const again = await openStore(`file:${path}`);
    const report = await new AuditLog(again).verify();
    expect(report).toMatchObject({ ok: true });
    expect((await again.audit.head()).seq).toBe(3000);
    await again.close();
  });
});
