/**
 * The desk's case workflow on every store: intake with a code read from a real local SMTP
 * server, legal transitions, the working-day clock across the 2026 Spring Festival and National
 * Day (make-up days included) with pause and resume, escalation, assignment, notes, feedback,
 * PI requests carried out through the SubjectData port, and the audit trail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../src/audit/index.js';
import { DeskCodeError, DeskInputError, DeskNotFoundError, DeskPreconditionError, DeskRateLimitError, DeskService, DeskTransitionError, Outbox, smtpTransport, solveChallenge, updateDeskSettings } from '../src/desk/index.js';
import { type Store } from '../src/store/index.js';
import { fakeSubject, unzip } from './helpers/desk.js';
import { codeIn, type LocalSmtp, startSmtp } from './helpers/smtp.js';
import { describeEachStore } from './helpers/stores.js';

describeEachStore('desk workflow', (getStore) => {
  let smtp: LocalSmtp;
  let clock: Date;
  let store: Store;
  let desk: DeskService;
  let audit: AuditLog;
  let subject: ReturnType<typeof fakeSubject>;
  let transport: Awaited<ReturnType<typeof smtpTransport>>;
  let mailbox = 0;
  const reviewer = { id: 'operator:rev', operatorId: '' };

  beforeAll(async () => {
    smtp = await startSmtp();
    store = getStore();
    clock = new Date('2026-02-10T02:00:00Z');
    audit = new AuditLog(store);
    subject = fakeSubject();
    transport = await smtpTransport(smtp.url);
    desk = new DeskService({ store, audit, subject, outbox: new Outbox(store, { transport, now: () => clock }), now: () => clock, publicUrl: 'https://desk.example.cn' });
    const op = await store.operators.create({ name: `rev-${Math.random().toString(36).slice(2, 8)}`, role: 'reviewer' });
    reviewer.id = `operator:${op.id}`;
    reviewer.operatorId = op.id;
    await updateDeskSettings(store, { perContactPerHour: 1000, perAddressPerHour: 1000 }, clock);
  });

  afterAll(async () => {
    transport?.close();
    await audit?.flush();
    await smtp?.close();
  });

  /** A fresh mailbox per filing, so tests never read each other's mail. */
  function address(): string {
    mailbox += 1;
    return `person${mailbox}.${Math.random().toString(36).slice(2, 7)}@example.cn`;
  }

  async function fileAndVerify(input: Partial<Parameters<DeskService['file']>[0]> = {}) {
    const contact = input.contact ?? address();
    const filed = await desk.file({ kind: 'complaint', category: 'harmful-content', text: 'the answer insulted me', contact, language: 'en', ...input }, { address: '127.0.0.1' });
    await desk.outbox.flush();
    const mail = await smtp.waitFor(contact, filed.reference);
    expect(mail.text).toContain(`https://desk.example.cn/desk/status#${filed.token}`);
    await desk.verify(filed.token, codeIn(mail));
    return { ...filed, contact };
  }

  it('files a complaint: reference, due date over the Spring Festival (make-up days counted), code by SMTP, verified contact', async () => {
    clock = new Date('2026-02-10T02:00:00Z');
    const filed = await fileAndVerify();
    expect(filed.reference).toMatch(/^C-2026-\d{6}$/);
    // 15 working days from Tue 2026-02-10: 11-13, Sat 14 (make-up), holiday 15-23, 24-27, Sat 28 (make-up), 2-6 Mar, 9 Mar.
    expect(filed.dueDate).toBe('2026-03-09');
    const view = await desk.requesterView(filed.token);
    expect(view.contactVerified).toBe(true);
    expect(view.state).toBe('received');
    // The code reached the requester through the local SMTP server (fileAndVerify read it there);
    // the outbox's global counts include other tests' mail, in whatever order they ran.
  });

  it('pauses the clock while waiting on the requester and moves the due date by the pause, across the Spring Festival', async () => {
    clock = new Date('2026-02-10T02:00:00Z');
    const filed = await fileAndVerify();
    await desk.transition(filed.reference, 'in-progress', 'looking into it', reviewer);
    clock = new Date('2026-02-13T03:00:00Z'); // Fri: 12 working days left (14 Feb, 24-28 Feb, 2-6 and 9 Mar)
    await desk.transition(filed.reference, 'waiting-on-requester', 'need the conversation id', reviewer);
    let detail = await desk.detail(filed.reference);
    expect(detail.paused).toBe(true);
    expect(detail.history.find((h) => h.action === 'pause')?.reason).toContain('12 working day(s) left');
    clock = new Date('2026-02-26T03:00:00Z'); // Thu: 12 working days after: 27, Sat 28 (make-up), 2-6, 9-13 Mar
    await desk.requesterMessage(filed.token, 'the id is req_123');
    detail = await desk.detail(filed.reference);
    expect(detail.state).toBe('in-progress');
    expect(detail.paused).toBe(false);
    expect(detail.dueDate).toBe('2026-03-13');
    const resume = detail.history.find((h) => h.action === 'resume')!;
    expect(resume.reason).toContain('from 2026-03-09 to 2026-03-13');
    expect(resume.actor).toBe(`requester:${filed.reference}`);
  });

  it('counts the 2026 National Day holiday and its make-up days, with pause and resume', async () => {
    clock = new Date('2026-09-28T01:00:00Z'); // Mon 09:00 Beijing
    const filed = await fileAndVerify({ kind: 'pi', category: 'access' });
    expect(filed.reference).toMatch(/^PI-2026-\d{6}$/);
    expect(filed.dueDate).toBe('2026-10-23'); // 29-30 Sep, holiday 1-7 Oct, 8-9, Sat 10 (make-up), 12-16, 19-23
    clock = new Date('2026-09-30T08:00:00Z');
    await desk.transition(filed.reference, 'waiting-on-requester', 'please send the account name', reviewer); // 13 left
    clock = new Date('2026-10-09T08:00:00Z');
    await desk.transition(filed.reference, 'in-progress', 'the requester phoned in the account name', reviewer);
    const detail = await desk.detail(filed.reference);
    expect(detail.dueDate).toBe('2026-10-27'); // 10 (make-up), 12-16, 19-23, 26-27
  });

  it('counts a Sunday make-up working day (2026-09-20) as a working day', async () => {
    await updateDeskSettings(store, { limits: { report: 1 } }, clock);
    try {
      clock = new Date('2026-09-18T02:00:00Z'); // Fri
      const filed = await desk.file({ kind: 'report', category: 'illegal-content', text: 'x', contact: address(), language: 'zh' }, { address: '127.0.0.2' });
      expect(filed.reference).toMatch(/^R-2026-/);
      expect(filed.dueDate).toBe('2026-09-20');
    } finally {
      await updateDeskSettings(store, { limits: { report: 15 } }, clock);
    }
  });

  it('allows only legal transitions, asks for a refusal reason and a resolution, and never reopens a closed case', async () => {
    clock = new Date('2026-03-02T02:00:00Z');
    const filed = await fileAndVerify();
    await expect(desk.transition(filed.reference, 'resolved', 'done', reviewer, { resolution: 'x' })).rejects.toBeInstanceOf(DeskTransitionError);
    await expect(desk.transition(filed.reference, 'refused', '', reviewer)).rejects.toMatchObject({ code: 'E_DESK_REASON' });
    await expect(desk.transition(filed.reference, 'flying', 'x', reviewer)).rejects.toBeInstanceOf(DeskInputError);
    await desk.transition(filed.reference, 'in-progress', undefined, reviewer);
    await expect(desk.transition(filed.reference, 'resolved', 'done', reviewer)).rejects.toMatchObject({ code: 'E_DESK_RESOLUTION' });
    await desk.transition(filed.reference, 'refused', 'the content is lawful satire', reviewer);
    const error = await desk.transition(filed.reference, 'in-progress', 'reopen', reviewer).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeskTransitionError);
    expect((error as DeskTransitionError).code).toBe('E_DESK_TRANSITION');
    const view = await desk.requesterView(filed.token);
    expect(view.state).toBe('refused');
    expect(view.resolution).toBe('the content is lawful satire');
    expect(view.messages.at(-1)?.text).toContain('the content is lawful satire');
    await desk.outbox.flush();
    const feedback = await smtp.waitFor(filed.contact, `[${filed.reference}] refused`);
    expect(feedback.text).toContain('lawful satire');
  });

  it('keeps internal notes and assignees away from the requester', async () => {
    clock = new Date('2026-03-02T02:00:00Z');
    const filed = await fileAndVerify();
    await desk.note(filed.reference, 'INTERNAL: probably a troll', reviewer);
    await desk.assign(filed.reference, reviewer.operatorId, reviewer);
    const view = JSON.stringify(await desk.requesterView(filed.token));
    expect(view).not.toContain('INTERNAL');
    expect(view).not.toContain(reviewer.operatorId);
    const detail = await desk.detail(filed.reference);
    expect(detail.notes[0]?.text).toBe('INTERNAL: probably a troll');
    expect(detail.assigneeId).toBe(reviewer.operatorId);
    const auditor = await store.operators.create({ name: `aud-${Math.random().toString(36).slice(2, 8)}`, role: 'auditor' });
    await expect(desk.assign(filed.reference, auditor.id, reviewer)).rejects.toMatchObject({ code: 'E_DESK_ASSIGNEE' });
  });

  it('checks one-time codes: wrong codes count, the last attempt exhausts the code, an expired code is refused', async () => {
    clock = new Date('2026-03-03T02:00:00Z');
    const contact = address();
    const filed = await desk.file({ kind: 'complaint', category: 'other', text: 't', contact, language: 'zh' }, { address: '127.0.0.3' });
    await desk.outbox.flush();
    const code = codeIn(await smtp.waitFor(contact, filed.reference));
    const wrong = code === '000000' ? '000001' : '000000';
    for (let i = 0; i < 4; i += 1) await expect(desk.verify(filed.token, wrong)).rejects.toMatchObject({ code: 'E_DESK_CODE_WRONG' });
    await expect(desk.verify(filed.token, wrong)).rejects.toMatchObject({ code: 'E_DESK_CODE_EXHAUSTED' });
    await expect(desk.verify(filed.token, code)).rejects.toBeInstanceOf(DeskCodeError);
    clock = new Date('2026-03-03T02:05:00Z');
    await desk.resend(filed.token, {});
    await expect(desk.resend(filed.token, {})).rejects.toBeInstanceOf(DeskRateLimitError);
    await desk.outbox.flush();
    const fresh = codeIn(smtp.messages.filter((m) => m.to.includes(contact)).at(-1)!);
    clock = new Date('2026-03-03T03:00:00Z');
    await expect(desk.verify(filed.token, fresh)).rejects.toMatchObject({ code: 'E_DESK_CODE_EXPIRED' });
    expect((await desk.requesterView(filed.token)).contactVerified).toBe(false);
    const stored = await store.desk.code((await store.desk.caseByReference(filed.reference))!.id);
    expect(stored?.code_hash).not.toContain(fresh);
  });

  it('refuses bad intake: unknown category, no e-mail, control characters, unknown API key, rate limits, proof of work', async () => {
    clock = new Date('2026-03-04T02:00:00Z');
    const base = { kind: 'complaint' as const, category: 'other', text: 'x', contact: address(), language: 'en' as const };
    await expect(desk.file({ ...base, category: 'delete' }, { address: '10.0.0.1' })).rejects.toBeInstanceOf(DeskInputError);
    await expect(desk.file({ ...base, contact: 'not-an-address' }, { address: '10.0.0.1' })).rejects.toBeInstanceOf(DeskInputError);
    await expect(desk.file({ ...base, text: 'a\u202eb' }, { address: '10.0.0.1' })).rejects.toBeInstanceOf(DeskInputError);
    await expect(desk.file({ ...base, text: ' ' }, { address: '10.0.0.1' })).rejects.toBeInstanceOf(DeskInputError);
    await expect(desk.file({ ...base, apiKey: 'sk-nobody' }, { address: '10.0.0.1' })).rejects.toMatchObject({ code: 'E_DESK_ACCOUNT' });
    await updateDeskSettings(store, { perAddressPerHour: 2, powBits: 8 }, clock);
    try {
      await expect(desk.file(base, { address: '10.0.0.2' })).rejects.toBeInstanceOf(DeskRateLimitError);
      const { challenge, bits } = (await desk.challenge())!;
      const pow = { challenge, nonce: solveChallenge(challenge, bits) };
      await desk.file({ ...base, pow }, { address: '10.0.0.2' });
      await expect(desk.file({ ...base, pow }, { address: '10.0.0.2' })).rejects.toMatchObject({ message: expect.stringContaining('already used') });
      const second = (await desk.challenge())!;
      await desk.file({ ...base, pow: { challenge: second.challenge, nonce: solveChallenge(second.challenge, second.bits) } }, { address: '10.0.0.2' });
      const third = (await desk.challenge())!;
      await expect(desk.file({ ...base, pow: { challenge: third.challenge, nonce: solveChallenge(third.challenge, third.bits) } }, { address: '10.0.0.2' })).rejects.toMatchObject({ code: 'E_DESK_RATE_LIMITED' });
    } finally {
      await updateDeskSettings(store, { perAddressPerHour: 1000, powBits: 0 }, clock);
    }
  });

  it('escalates open cases near their due date and again when overdue, skipping paused ones, once per level', async () => {
    clock = new Date('2026-04-01T02:00:00Z');
    await updateDeskSettings(store, { limits: { complaint: 2 } }, clock);
    try {
      const near = await fileAndVerify();
      const paused = await fileAndVerify();
      await desk.transition(paused.reference, 'waiting-on-requester', 'need more', reviewer);
      const first = await desk.escalate();
      expect(first.find((e) => e.reference === near.reference)?.level).toBe(1);
      expect(first.find((e) => e.reference === paused.reference)).toBeUndefined();
      expect((await desk.escalate()).find((e) => e.reference === near.reference)).toBeUndefined();
      clock = new Date('2026-04-10T02:00:00Z');
      const later = await desk.escalate();
      expect(later.find((e) => e.reference === near.reference)?.level).toBe(2);
      const detail = await desk.detail(near.reference);
      expect(detail.escalation).toBe(2);
      expect(detail.history.filter((h) => h.action === 'escalate').map((h) => h.reason)).toEqual([expect.stringContaining('within 3 working day(s)'), expect.stringContaining('overdue')]);
      const queue = await desk.queue({ dueBy: '2026-04-09' });
      expect(queue.cases.map((c) => c.reference)).toContain(near.reference);
    } finally {
      await updateDeskSettings(store, { limits: { complaint: 15 } }, clock);
    }
  });

  it('carries out a copy request: a ZIP with JSON and escaped HTML, built from SubjectRecords and the person\'s own cases', async () => {
    clock = new Date('2026-05-11T02:00:00Z');
    const contact = address();
    const complaint = await fileAndVerify({ contact, text: '<script>alert(1)</script> rude answer' });
    const copy = await fileAndVerify({ contact, kind: 'pi', category: 'copy', text: 'send me my data' });
    await expect(desk.carryOut(copy.reference, reviewer)).rejects.toBeInstanceOf(DeskPreconditionError);
    await desk.transition(copy.reference, 'in-progress', undefined, reviewer);
    const done = await desk.carryOut(copy.reference, reviewer);
    const file = await desk.requesterFile(copy.token, done.fileId!);
    const files = unzip(file.bytes);
    const records = JSON.parse(files.get('records.json')!) as { deskCases: { reference: string; text: string }[]; sections: unknown[] };
    expect(records.deskCases.map((c) => c.reference).sort()).toEqual([complaint.reference, copy.reference].sort());
    expect(records.sections).toHaveLength(1);
    const html = files.get('index.html')!;
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<b>bold</b>');
    // another requester's link cannot read it
    await expect(desk.requesterFile(complaint.token, done.fileId!)).rejects.toBeInstanceOf(DeskNotFoundError);
  });

  it('carries out a delete request: the port erases, the person\'s desk cases lose their content, the reply says what is kept', async () => {
    clock = new Date('2026-05-12T02:00:00Z');
    const contact = address();
    const complaint = await fileAndVerify({ contact, text: 'private words 7f3a' });
    const del = await fileAndVerify({ contact, kind: 'pi', category: 'delete', text: 'delete everything 7f3a' });
    await desk.transition(del.reference, 'in-progress', undefined, reviewer);
    const done = await desk.carryOut(del.reference, reviewer);
    expect(done.summary.en).toContain('network logs kept at least 6 months');
    expect(subject.calls).toContain(`erase ${contact} ${del.reference}`);
    await desk.transition(del.reference, 'resolved', undefined, reviewer, { resolution: done.summary.en });
    await desk.outbox.flush();
    const mail = await smtp.waitFor(contact, `[${del.reference}] resolved`);
    expect(mail.text).toContain('until 2026-09-01');
    const rows = await store.desk.casesOfSubject({ contactHash: undefined, account: undefined });
    expect(rows).toEqual([]);
    for (const ref of [complaint.reference, del.reference]) {
      const row = (await store.desk.caseByReference(ref))!;
      expect(row.contact).toBeNull();
      expect(row.text).toBe('');
      expect(row.erased_at).not.toBeNull();
    }
    const view = await desk.requesterView(del.token);
    expect(view.erased).toBe(true);
    expect(view.history.some((h) => h.text?.includes('6 months'))).toBe(true);
  });

  it('records every change in the audit log, which verifies', async () => {
    clock = new Date('2026-05-13T02:00:00Z');
    const filed = await fileAndVerify();
    await desk.transition(filed.reference, 'in-progress', 'checking', reviewer);
    await audit.flush();
    const page = await audit.list({ type: 'desk.action', limit: 500 });
    const mine = page.events.filter((e) => e.payload.case === filed.reference).map((e) => e.payload.action);
    expect(mine).toEqual(expect.arrayContaining(['intake', 'verify', 'transition']));
    expect(JSON.stringify(page.events)).not.toContain(filed.contact);
    expect((await audit.verify()).ok).toBe(true);
  });

  it('lets two reviewers race on one case: one move wins, the other is refused', async () => {
    clock = new Date('2026-05-14T02:00:00Z');
    const filed = await fileAndVerify();
    // Two closing moves: whichever lands second fails, by the version check when they overlap
    // and as an illegal move when they do not (a closed case stays closed).
    const results = await Promise.allSettled([desk.transition(filed.reference, 'refused', 'a', reviewer), desk.transition(filed.reference, 'withdrawn', 'b', reviewer)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const detail = await desk.detail(filed.reference);
    expect(detail.history.filter((h) => h.action === 'transition')).toHaveLength(1);
  });
});

describe('desk without the SubjectData port', () => {
  it('is typed: carrying out says the port is missing', async () => {
    expect(new DeskPreconditionError('E_DESK_NO_SUBJECT_PORT', 'x').httpStatus).toBe(409);
  });
});
