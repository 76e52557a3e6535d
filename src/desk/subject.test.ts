/**
 * What hegui holds on a person, collected, erased and disabled, on both stores; the database is
 * read directly afterwards (a raw connection) to prove the content is gone, not just hidden.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { rawDatabase } from '../../test/helpers/raw-database.js';
import { describeEachStore } from '../../test/helpers/stores.js';
import { AuditContentKeyring, AuditLog } from '../audit/index.js';
import { createApiUser, hashApiKey } from '../gateway/index.js';
import type { GatewayUser } from '../store/index.js';
import { createSubjectData, erasedName, SubjectInputError, SubjectNotFoundError } from './subject.js';

const keys = AuditContentKeyring.parse(AuditContentKeyring.generateKey());
const PROMPT = '我的身份证号是 110101199003074512';

describeEachStore(
  'desk subject data',
  (getStore, getDatabase) => {
    let clock: Date;
    let log: AuditLog;
    let alice: GatewayUser;
    let aliceKey: string;
    let bob: GatewayUser;
    const tick = (): Date => (clock = new Date(clock.getTime() + 60_000));

    beforeEach(async () => {
      clock = new Date('2026-03-01T00:00:00.000Z');
      const store = getStore();
      log = new AuditLog(store, { contentPolicy: 'all', contentKeys: keys, clock: tick });
      ({ user: alice, key: aliceKey } = await createApiUser(store, { name: 'alice-app', verified: true, minor: true }));
      ({ user: bob } = await createApiUser(store, { name: 'bob-app', verified: true }));
      await log.append({ type: 'gateway.request', actor: `user:${alice.id}`, outcome: 'block', risks: ['A.1.1'], payload: { model: 'm' }, content: { input: PROMPT } });
      await log.append({ type: 'gateway.request', actor: `user:${alice.id}`, outcome: 'pass', payload: { model: 'm' } });
      await log.append({ type: 'gateway.request', actor: `user:${bob.id}`, outcome: 'pass', payload: { model: 'm' }, content: { input: 'bob says hi' } });
      await log.append({ type: 'user.sanction', actor: 'system:gateway', outcome: 'warn', payload: { user: alice.id } });
      // Names alice's id inside a longer string: not about her.
      await log.append({ type: 'desk.action', actor: 'operator:o1', payload: { note: `x${alice.id}y` } });
      await log.append({ type: 'desk.action', actor: 'operator:o1', payload: { contact: 'alice@example.cn' }, content: { text: 'call alice@example.cn' } });
      await store.gatewaySanctions.add({ userId: alice.id, action: 'warn', reason: '3 blocked requests within 60 minutes', blocks: 3, windowSeconds: 3600, until: null, now: clock });
      await store.gatewayUsage.update([`user:${alice.id}`, `key:${hashApiKey(aliceKey).slice(0, 16)}`], () => new Map([[`user:${alice.id}`, '{"blocks":[1]}'], [`key:${hashApiKey(aliceKey).slice(0, 16)}`, '{"n":2}']]));
      await store.gatewayMedia.put({ id: 'media-alice', contentType: 'image/png', bytes: new Uint8Array([1, 2, 3]), expiresAt: '2026-03-02T00:00:00.000Z', userId: alice.id });
      await store.gatewayMedia.put({ id: 'media-bob', contentType: 'image/png', bytes: new Uint8Array([4]), expiresAt: '2026-03-02T00:00:00.000Z', userId: bob.id });
    });
    afterEach(async () => log.flush());

    const section = (records: { sections: readonly { id: string; rows: readonly Record<string, unknown>[] }[] }, id: string) => records.sections.find((s) => s.id === id)?.rows ?? [];

    it('collects everything held on the person, with titles in Chinese and English, and nothing of others', async () => {
      const subjects = createSubjectData(getStore(), { audit: log, clock: () => clock });
      const records = await subjects.collect({ gatewayUser: 'alice-app' });
      expect(records.sections.map((s) => s.id)).toEqual(['gateway-user', 'gateway-api-keys', 'gateway-usage', 'gateway-sanctions', 'audit-events', 'gateway-media']);
      for (const s of records.sections) expect(s.title.zh.length * s.title.en.length).toBeGreaterThan(0);
      expect(section(records, 'gateway-user')).toEqual([expect.objectContaining({ id: alice.id, name: 'alice-app', verified: true, minor: true })]);
      expect(section(records, 'gateway-api-keys')).toEqual([expect.objectContaining({ prefix: aliceKey.slice(0, 8), revokedAt: null })]);
      expect(JSON.stringify(records)).not.toContain(hashApiKey(aliceKey));
      expect(section(records, 'gateway-usage').map((r) => r.subject).sort()).toEqual([`key:${hashApiKey(aliceKey).slice(0, 16)}`, `user:${alice.id}`].sort());
      expect(section(records, 'gateway-sanctions')).toEqual([expect.objectContaining({ action: 'warn' })]);
      const events = section(records, 'audit-events');
      expect(events.map((e) => e.seq)).toEqual([1, 2, 4]);
      expect(events[0]).toMatchObject({ contentStatus: 'kept', content: { input: PROMPT } });
      expect(events[1]).toMatchObject({ contentStatus: 'none', content: null });
      expect(section(records, 'gateway-media')).toEqual([expect.objectContaining({ id: 'media-alice', size: 3, base64: 'AQID' })]);
      expect(JSON.stringify(records)).not.toContain('bob');

      const byContact = await subjects.collect({ contact: 'alice@example.cn' });
      expect(byContact.sections.map((s) => s.id)).toEqual(['audit-events']);
      expect(section(byContact, 'audit-events')).toEqual([expect.objectContaining({ seq: 6, content: { text: 'call alice@example.cn' } })]);
    });

    it('says kept content is unreadable without the key, never that there is none', async () => {
      const keyless = new AuditLog(getStore());
      const records = await createSubjectData(getStore(), { audit: keyless }).collect({ gatewayUser: 'alice-app' });
      expect(section(records, 'audit-events')[0]).toMatchObject({ contentStatus: 'unreadable', content: null, contentProblem: expect.stringContaining('HEGUI_AUDIT_CONTENT_KEY') });
    });

    it('erases: content becomes tombstones, rows go or are pseudonymised, the log verifies, and it says what is kept under which rule', async () => {
      const store = getStore();
      const subjects = createSubjectData(store, { audit: log, clock: () => clock });
      const report = await subjects.erase({ gatewayUser: 'alice-app', contact: 'alice@example.cn' }, { requestRef: 'PI-2026-000123', actor: 'operator:o1' });
      expect(report.requestRef).toBe('PI-2026-000123');
      expect(report.removed).toEqual(
        expect.arrayContaining([
          { what: 'audit event content (replaced by a tombstone)', count: 2 },
          { what: 'stored generated files', count: 1 },
          { what: 'usage state', count: 2 },
          { what: 'API keys', count: 1 },
        ]),
      );
      expect(report.pseudonymised).toEqual([expect.objectContaining({ count: 1 })]);
      const logKept = report.kept.find((k) => k.what.startsWith('audit events'));
      expect(logKept).toMatchObject({ count: 4, until: '2026-09-01' });
      expect(logKept?.rule.zh).toContain('六个月');
      expect(logKept?.rule.en).toContain('Cybersecurity Law');
      expect(report.kept.find((k) => k.what === 'sanction records')).toMatchObject({ count: 1 });

      // Straight from the database: the content bytes are gone, the tombstones name the request.
      const raw = rawDatabase(getDatabase());
      try {
        const rows = await raw.selectFrom('audit_events').select(['seq', 'content', 'redaction']).where('seq', 'in', [1, 3, 6]).orderBy('seq').execute();
        expect(rows.map((r) => [Number(r.seq), r.content === null, r.redaction === null ? null : JSON.parse(r.redaction).request])).toEqual([
          [1, true, 'PI-2026-000123'],
          [3, false, null],
          [6, true, 'PI-2026-000123'],
        ]);
        const user = await raw.selectFrom('gateway_users').selectAll().where('id', '=', alice.id).executeTakeFirstOrThrow();
        expect(user).toMatchObject({ name: erasedName(alice.id), verified: 0, minor: 0 });
        expect(user.disabled_at).not.toBeNull();
        expect(await raw.selectFrom('gateway_users').select('name').where('name', 'like', '%alice%').execute()).toEqual([]);
        expect(await raw.selectFrom('gateway_api_keys').select('key_hash').where('user_id', '=', alice.id).execute()).toEqual([]);
        expect((await raw.selectFrom('gateway_media').select('id').execute()).map((r) => r.id)).toEqual(['media-bob']);
        expect(await raw.selectFrom('gateway_usage').select('subject').where('subject', 'like', `%${alice.id}%`).execute()).toEqual([]);
        expect(await raw.selectFrom('gateway_sanctions').select('id').where('user_id', '=', alice.id).execute()).toHaveLength(1);
      } finally {
        await raw.destroy();
      }
      await log.flush();
      const verified = await log.verify();
      expect(verified).toMatchObject({ ok: true, findings: [], redactions: { events: 2, byRequest: { 'PI-2026-000123': 2 } } });
      expect(await log.readContent(1)).toBeUndefined();
      expect(await log.readContent(3)).toEqual({ input: 'bob says hi' });

      // Again (a retry after a crash): nothing more to remove, nothing broken.
      const again = await subjects.erase({ gatewayUser: erasedName(alice.id) }, { requestRef: 'PI-2026-000123', actor: 'operator:o1' });
      expect(again.removed.find((r) => r.what.startsWith('audit event content'))).toBeUndefined();
      await log.flush();
      expect(await log.verify()).toMatchObject({ ok: true, redactions: { events: 2 } });
      const types = (await log.list({ limit: 50 })).events.map((e) => e.type);
      expect(types.filter((t) => t === 'audit.redact')).toHaveLength(1);
      expect(types.filter((t) => t === 'desk.erase')).toHaveLength(2);
    });

    it('deletes a gateway user nothing refers to', async () => {
      const store = getStore();
      await createApiUser(store, { name: 'carol-app' });
      const report = await createSubjectData(store, { audit: log }).erase({ gatewayUser: 'carol-app' }, { requestRef: 'PI-2026-000124', actor: 'system:desk' });
      expect(report.removed).toEqual(expect.arrayContaining([{ what: 'gateway user', count: 1 }, { what: 'API keys', count: 1 }]));
      expect(report.pseudonymised).toEqual([]);
      expect(report.kept).toEqual([]);
      expect(await store.gatewayUsers.findByName('carol-app')).toBeUndefined();
    });

    it('disables the user: its key no longer resolves, and the action is in the audit log', async () => {
      const store = getStore();
      const subjects = createSubjectData(store, { audit: log, clock: () => clock });
      await subjects.disable({ gatewayUser: 'alice-app' }, { requestRef: 'PI-2026-000125', actor: 'operator:o1', reason: '撤回同意 <script>alert(1)</script>' });
      expect(await store.gatewayUsers.findByKeyHash(hashApiKey(aliceKey))).toBeUndefined();
      expect((await store.gatewayUsers.findByName('alice-app'))?.disabledAt).not.toBeNull();
      await log.flush();
      const [event] = (await log.list({ type: 'desk.disable' })).events;
      expect(event?.payload).toMatchObject({ request: 'PI-2026-000125', user: alice.id, keysRevoked: 1 });
      await expect(subjects.disable({ gatewayUser: 'nobody' }, { requestRef: 'PI-2026-1', actor: 'operator:o1', reason: 'r' })).rejects.toBeInstanceOf(SubjectNotFoundError);
      await expect(subjects.disable({ contact: 'a@b.cn' }, { requestRef: 'PI-2026-1', actor: 'operator:o1', reason: 'r' })).rejects.toBeInstanceOf(SubjectNotFoundError);
    });

    it('refuses bad input with typed errors and changes nothing', async () => {
      const subjects = createSubjectData(getStore(), { audit: log });
      await expect(subjects.collect({})).rejects.toBeInstanceOf(SubjectInputError);
      await expect(subjects.erase({ gatewayUser: 'alice-app' }, { requestRef: "x'; drop table audit_events; --", actor: 'operator:o1' })).rejects.toMatchObject({ code: 'E_DESK_SUBJECT_INVALID' });
      await expect(subjects.erase({ gatewayUser: 'alice-app' }, { requestRef: 'PI-1', actor: 'nobody' })).rejects.toMatchObject({ code: 'E_DESK_SUBJECT_INVALID' });
      await expect(subjects.disable({ gatewayUser: 'alice-app' }, { requestRef: 'PI-1', actor: 'operator:o1', reason: ' ' })).rejects.toBeInstanceOf(SubjectInputError);
      // A contact full of LIKE wildcards finds nothing it should not.
      const records = await subjects.collect({ contact: '%_%' });
      expect(section(records, 'audit-events')).toEqual([]);
      expect((await getStore().gatewayUsers.findByName('alice-app'))?.disabledAt).toBeNull();
      expect(await log.readContent(1)).toEqual({ input: PROMPT });
    });
  },
  { perTest: true },
);
