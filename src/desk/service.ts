/**
 * @module desk/service
 * The compliance desk's case workflow: public intake with proof of control of the contact,
 * the reviewer's queue, legal state transitions with a working-day clock that pauses while the
 * desk waits on the requester, assignment, internal notes, replies, escalation near the due
 * date, feedback at the end, and personal-information requests carried out through the
 * `SubjectData` port. Every change is a row of the case's history and an audit event.
 */
import { createHash } from 'node:crypto';
import type { AuditLog, JsonObject } from '../audit/index.js';
import { addDays, chinaCalendar, chinaDateOf, type WorkCalendar } from '../calendar/index.js';
import type { DeskCasePatch, DeskCaseRow, DeskQueueFilter, Store } from '../store/index.js';
import { dueAtIntake, dueAtResume, remainingAtPause } from './deadline.js';
import { DeskCodeError, DeskInputError, DeskNotFoundError, DeskPreconditionError, DeskRateLimitError, DeskTransitionError, DeskUploadError } from './errors.js';
import { exportFiles } from './export.js';
import { CATEGORY_NAMES, categoriesOf, type CaseKind, type CaseState, isCaseState, isClosed, KIND_NAMES, REFERENCE_PREFIX, STATE_NAMES, TRANSITIONS } from './model.js';
import type { Outbox } from './outbox.js';
import { checkChallenge, codeHash, contactHash, newChallenge, newCode, newStatusToken, normaliseContact, sameHash, tokenHash } from './secrets.js';
import { type DeskSettings, readDeskSettings, updateDeskSettings } from './settings.js';
import { checkEvidence, safeFilename } from './sniff.js';
import type { ErasureReport, SubjectData, SubjectRef } from './subject-port.js';
import { fillTemplate } from './templates.js';

export type Lang = 'zh' | 'en';

export interface DeskServiceOptions {
  store: Store;
  outbox: Outbox;
  audit?: AuditLog;
  /** What hegui holds on a person; without it PI requests are tracked but not carried out. */
  subject?: SubjectData;
  now?: () => Date;
  /** Base of the status links in messages, e.g. `https://ai.example.cn`. */
  publicUrl?: string;
  calendar?: WorkCalendar;
}

export interface IntakeInput {
  kind: CaseKind;
  category: string;
  /** the content's link or the request id the case is about */
  subject?: string;
  text: string;
  contact: string;
  language: Lang;
  /** a gateway API key, to prove control of that account (never stored) */
  apiKey?: string;
  pow?: { challenge: string; nonce: string };
}

export interface IntakeResult {
  reference: string;
  token: string;
  dueDate: string;
  dueEstimated: boolean;
  statusUrl: string;
}

/** A case as the queue lists it. */
export interface CaseSummary {
  reference: string;
  kind: string;
  category: string;
  state: string;
  receivedAt: string;
  dueDate: string;
  dueEstimated: boolean;
  paused: boolean;
  escalation: number;
  assigneeId: string | null;
  contactVerified: boolean;
  account: string | null;
}

export const MAX_TEXT = 10_000;
export const MAX_SUBJECT = 2_000;
const EMAIL = /^[^\s@<>()[\]\\,;:"]{1,64}@[^\s@<>()[\]\\,;:"]{1,190}\.[^\s@<>()[\]\\,;:".]{2,63}$/u;
/** Characters never accepted in what people type: controls other than tab and line ends, bidi overrides. */
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u202a-\u202e\u2066-\u2069]/u;

function cleanText(value: string, field: string, max: number, required = true): string {
  const text = value.normalize('NFC').replace(/\r\n?/g, '\n').trim();
  if (required && text === '') throw new DeskInputError('E_DESK_INPUT', `${field} is required`);
  if (text.length > max) throw new DeskInputError('E_DESK_INPUT', `${field} has ${text.length} characters; at most ${max}`);
  if (FORBIDDEN.test(text)) throw new DeskInputError('E_DESK_INPUT', `${field} contains control or direction-override characters`);
  return text;
}

/** Counts hits per key over a sliding hour, in this replica's memory (bounded). */
class HourlyLimiter {
  readonly #hits = new Map<string, number[]>();

  /** Seconds to wait, or 0 after counting the hit. */
  hit(key: string, limit: number, now: number): number {
    const since = now - 3_600_000;
    const hits = (this.#hits.get(key) ?? []).filter((t) => t > since);
    if (hits.length >= limit) return Math.max(1, Math.ceil((hits[0]! + 3_600_000 - now) / 1000));
    hits.push(now);
    this.#hits.delete(key);
    this.#hits.set(key, hits);
    if (this.#hits.size > 10_000) this.#hits.delete(this.#hits.keys().next().value!);
    return 0;
  }
}

interface Actor {
  /** `operator:<id>`, `requester:<reference>`, `system:<part>` */
  id: string;
}

export class DeskService {
  readonly #store: Store;
  readonly #outbox: Outbox;
  readonly #audit: AuditLog | undefined;
  readonly #subject: SubjectData | undefined;
  readonly #now: () => Date;
  /** Base of status links in mail; when unset, the origin of the request that caused the mail. */
  publicUrl: string | undefined;
  readonly #calendar: WorkCalendar;
  readonly #limiter = new HourlyLimiter();
  readonly #usedChallenges = new Map<string, number>();

  constructor(options: DeskServiceOptions) {
    this.#store = options.store;
    this.#outbox = options.outbox;
    this.#audit = options.audit;
    this.#subject = options.subject;
    this.#now = options.now ?? (() => new Date());
    this.publicUrl = options.publicUrl?.replace(/\/+$/, '');
    this.#calendar = options.calendar ?? chinaCalendar;
  }

  get outbox(): Outbox {
    return this.#outbox;
  }

  get carriesOut(): boolean {
    return this.#subject !== undefined;
  }

  async settings(): Promise<DeskSettings> {
    return (await readDeskSettings(this.#store)).settings;
  }

  async updateSettings(patch: Record<string, unknown>, actor: Actor): Promise<DeskSettings> {
    const next = await updateDeskSettings(this.#store, patch, this.#now());
    await this.#record(actor, 'settings', null, { changed: Object.keys(patch).sort() });
    return next;
  }

  /** A proof-of-work challenge, or null when the intake asks for none. */
  async challenge(): Promise<{ challenge: string; bits: number } | null> {
    const { powBits } = await this.settings();
    if (powBits === 0) return null;
    return { challenge: newChallenge(await this.#powSecret(), powBits, this.#now()), bits: powBits };
  }

  async #powSecret(): Promise<string> {
    const stored = await this.#store.settings.get<string>('desk.pow-secret');
    if (stored) return stored.value;
    const secret = newStatusToken();
    await this.#store.settings.set('desk.pow-secret', secret, { expectedVersion: 0 }).catch(() => undefined);
    return (await this.#store.settings.get<string>('desk.pow-secret'))!.value;
  }

  #statusUrl(token: string, base?: string): string {
    return `${this.publicUrl ?? base ?? ''}/desk/status#${token}`;
  }

  // ---- public intake -------------------------------------------------------------------

  /** Files a complaint, report or PI request; sends the one-time code to the contact. */
  async file(input: IntakeInput, client: { address: string; baseUrl?: string }): Promise<IntakeResult> {
    const settings = await this.settings();
    const now = this.#now();
    if (!(categoriesOf(input.kind) as readonly string[]).includes(input.category)) {
      throw new DeskInputError('E_DESK_INPUT', `category must be one of ${categoriesOf(input.kind).join(', ')} for a ${input.kind}`);
    }
    const text = cleanText(input.text, 'text', MAX_TEXT);
    const subject = input.subject === undefined ? '' : cleanText(input.subject, 'subject', MAX_SUBJECT, false);
    const contact = normaliseContact(input.contact);
    if (!EMAIL.test(contact) || contact.length > 254) throw new DeskInputError('E_DESK_INPUT', 'contact must be an e-mail address you can read: the one-time code is sent there');
    if (settings.powBits > 0) await this.#checkPow(input.pow, settings.powBits, now);
    const wait = this.#limiter.hit(`addr:${client.address}`, settings.perAddressPerHour, now.getTime()) || this.#limiter.hit(`contact:${contactHash(contact)}`, settings.perContactPerHour, now.getTime());
    if (wait > 0) throw new DeskRateLimitError(`too many filings from this address or for this contact; try again in ${Math.ceil(wait / 60)} minutes`, wait);
    let account: string | null = null;
    if (input.apiKey !== undefined && input.apiKey !== '') {
      const user = await this.#store.gatewayUsers.findByKeyHash(createHash('sha256').update(input.apiKey).digest('hex'));
      if (!user) throw new DeskInputError('E_DESK_ACCOUNT', 'the API key does not belong to an active account; leave it out to file with your e-mail address only');
      account = user.name;
    }
    const limit = settings.limits[input.kind];
    const due = dueAtIntake(now, limit, this.#calendar);
    const token = newStatusToken();
    const code = newCode();
    const at = now.toISOString();
    const year = chinaDateOf(now).slice(0, 4);
    const result = await this.#store.transaction(async (store) => {
      const number = await store.desk.nextNumber(`${REFERENCE_PREFIX[input.kind]}-${year}`);
      const reference = `${REFERENCE_PREFIX[input.kind]}-${year}-${String(number).padStart(6, '0')}`;
      const row = await store.desk.insertCase({
        reference,
        kind: input.kind,
        category: input.category,
        state: 'received',
        open: 1,
        subject: subject === '' ? null : subject,
        text,
        contact,
        contact_hash: contactHash(contact),
        contact_verified_at: null,
        account,
        language: input.language,
        status_token_hash: tokenHash(token),
        assignee_id: null,
        received_at: at,
        limit_days: limit,
        due_date: due.date,
        due_estimated: due.estimated ? 1 : 0,
        paused_at: null,
        paused_remaining: null,
        escalation: 0,
        resolution: null,
        closed_at: null,
        feedback_at: null,
        erased_at: null,
        updated_at: at,
      });
      await store.desk.addEvent({
        case_id: row.id,
        at,
        actor: `requester:${reference}`,
        action: 'intake',
        from_state: null,
        to_state: 'received',
        reason: `due ${due.date}: ${limit} working days after receipt${due.estimated ? ' (estimated: a year on the way has no published holiday schedule)' : ''}`,
        public: true,
        details: { dueDate: due.date, limitDays: limit, account: account !== null },
      });
      await store.desk.putCode({ case_id: row.id, code_hash: code.hash, salt: code.salt, expires_at: new Date(now.getTime() + settings.codeMinutes * 60_000).toISOString(), attempts: 0, sent_at: at, used_at: null });
      const statusUrl = this.#statusUrl(token, client.baseUrl);
      await store.desk.enqueueMail({ caseId: row.id, to: contact, subject: `[${reference}] ${input.language === 'zh' ? '验证码' : 'Your code'}`, body: codeMail(input.language, reference, code.code, statusUrl, due.date, settings), now: at });
      return { reference, token, dueDate: due.date, dueEstimated: due.estimated, statusUrl };
    });
    await this.#record({ id: `requester:${result.reference}` }, 'intake', result.reference, { kind: input.kind, category: input.category, dueDate: result.dueDate, account: account !== null });
    void this.#outbox.deliver().catch(() => undefined);
    return result;
  }

  async #checkPow(pow: IntakeInput['pow'], bits: number, now: Date): Promise<void> {
    if (!pow) throw new DeskRateLimitError(`this form asks for a proof of work: GET /api/desk/public/challenge and send {challenge, nonce} as "pow"`, 1);
    const check = checkChallenge(await this.#powSecret(), pow.challenge, pow.nonce, bits, now);
    for (const [c, exp] of this.#usedChallenges) if (exp < now.getTime()) this.#usedChallenges.delete(c);
    if (check !== 'ok' || this.#usedChallenges.has(pow.challenge)) throw new DeskRateLimitError(`the proof of work is ${check === 'ok' ? 'already used' : check}; fetch a new challenge`, 1);
    this.#usedChallenges.set(pow.challenge, now.getTime() + 11 * 60_000);
  }

  async #byToken(token: string): Promise<DeskCaseRow> {
    if (typeof token !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(token)) throw new DeskNotFoundError();
    const row = await this.#store.desk.caseByTokenHash(tokenHash(token));
    if (!row) throw new DeskNotFoundError();
    return row;
  }

  /** What the requester sees through the status link: never notes, assignees or internal history. */
  async requesterView(token: string) {
    const row = await this.#byToken(token);
    const [events, messages, files] = await Promise.all([this.#store.desk.events(row.id, { publicOnly: true }), this.#store.desk.messages(row.id), this.#store.desk.attachments(row.id)]);
    return {
      reference: row.reference,
      kind: row.kind,
      category: row.category,
      state: row.state,
      stateName: isCaseState(row.state) ? STATE_NAMES[row.state] : { zh: row.state, en: row.state },
      language: row.language,
      receivedAt: row.received_at,
      dueDate: row.due_date,
      dueEstimated: row.due_estimated === 1,
      paused: row.paused_at !== null,
      contactVerified: row.contact_verified_at !== null,
      account: row.account,
      subject: row.subject,
      text: row.text,
      resolution: row.resolution,
      closedAt: row.closed_at,
      erased: row.erased_at !== null,
      history: events.map((e) => ({ at: e.at, action: e.action, toState: e.to_state, text: (JSON.parse(e.details) as { publicText?: string }).publicText ?? null })),
      messages: messages.map((m) => ({ at: m.at, direction: m.direction, text: m.text })),
      files: files.map((f) => ({ id: f.id, kind: f.kind, filename: f.filename, contentType: f.content_type, size: f.size })),
    };
  }

  /** Checks the one-time code; the contact counts as proven from then on. */
  async verify(token: string, code: string): Promise<{ verified: true }> {
    const row = await this.#byToken(token);
    if (row.contact_verified_at !== null) return { verified: true };
    const stored = await this.#store.desk.code(row.id);
    const { codeAttempts } = await this.settings();
    if (!stored || stored.used_at !== null) throw new DeskCodeError('E_DESK_CODE_EXPIRED', 'no code is waiting for this case; ask for a new one');
    if (stored.expires_at < this.#now().toISOString()) throw new DeskCodeError('E_DESK_CODE_EXPIRED', 'the code has expired; ask for a new one');
    if (!(await this.#store.desk.spendCodeAttempt(row.id, codeAttempts))) throw new DeskCodeError('E_DESK_CODE_EXHAUSTED', 'too many wrong codes; ask for a new one');
    const clean = String(code).replace(/\s+/g, '');
    if (!/^\d{6}$/.test(clean) || !sameHash(codeHash(clean, stored.salt), stored.code_hash)) {
      const left = codeAttempts - stored.attempts - 1;
      if (left <= 0) throw new DeskCodeError('E_DESK_CODE_EXHAUSTED', 'that was the last attempt for this code; ask for a new one');
      throw new DeskCodeError('E_DESK_CODE_WRONG', `wrong code; ${left} attempt(s) left`);
    }
    const at = this.#now().toISOString();
    if (!(await this.#store.desk.useCode(row.id, at))) return { verified: true };
    await this.#change(row, { id: `requester:${row.reference}` }, { contact_verified_at: at }, { action: 'verify', reason: 'the requester proved control of the contact address', publicText: 'contact verified / 联系方式已验证' });
    return { verified: true };
  }

  /** Sends a new code (at most one a minute, and within the contact's hourly limit). */
  async resend(token: string, client: { baseUrl?: string }): Promise<void> {
    const row = await this.#byToken(token);
    if (row.contact_verified_at !== null || row.contact === null) return;
    const settings = await this.settings();
    const now = this.#now();
    const stored = await this.#store.desk.code(row.id);
    if (stored && now.getTime() - Date.parse(stored.sent_at) < 60_000) throw new DeskRateLimitError('a code was sent less than a minute ago; check your mailbox', 60);
    const wait = this.#limiter.hit(`contact:${row.contact_hash}`, settings.perContactPerHour, now.getTime());
    if (wait > 0) throw new DeskRateLimitError(`too many codes for this contact; try again in ${Math.ceil(wait / 60)} minutes`, wait);
    const code = newCode();
    const at = now.toISOString();
    await this.#store.transaction(async (store) => {
      await store.desk.putCode({ case_id: row.id, code_hash: code.hash, salt: code.salt, expires_at: new Date(now.getTime() + settings.codeMinutes * 60_000).toISOString(), attempts: 0, sent_at: at, used_at: null });
      await store.desk.enqueueMail({ caseId: row.id, to: row.contact!, subject: `[${row.reference}] ${row.language === 'zh' ? '验证码' : 'Your code'}`, body: codeMail(row.language as Lang, row.reference, code.code, `${this.publicUrl ?? client.baseUrl ?? ''}/desk/status`, row.due_date, settings), now: at });
    });
    void this.#outbox.deliver().catch(() => undefined);
  }

  /** A message from the requester; while the desk waits on them it resumes the clock. */
  async requesterMessage(token: string, text: string): Promise<void> {
    const row = await this.#byToken(token);
    if (isClosed(row.state)) throw new DeskPreconditionError('E_DESK_CLOSED', 'the case is closed; file a new one');
    const body = cleanText(text, 'text', MAX_TEXT);
    const actor = { id: `requester:${row.reference}` };
    await this.#store.desk.addMessage({ case_id: row.id, at: this.#now().toISOString(), direction: 'in', author: actor.id, language: row.language, text: body });
    if (row.state === 'waiting-on-requester') await this.transition(row.reference, 'in-progress', 'the requester answered', actor);
    else await this.#change(row, actor, {}, { action: 'message', reason: 'the requester wrote' });
  }

  async withdraw(token: string): Promise<void> {
    const row = await this.#byToken(token);
    await this.transition(row.reference, 'withdrawn', 'withdrawn by the requester', { id: `requester:${row.reference}` });
  }

  /** Adds an evidence file to an open case. */
  async addEvidence(token: string, file: { bytes: Uint8Array; contentType: string; filename: string }): Promise<{ id: string; filename: string; contentType: string; size: number }> {
    const row = await this.#byToken(token);
    if (isClosed(row.state)) throw new DeskPreconditionError('E_DESK_CLOSED', 'the case is closed; file a new one');
    const settings = await this.settings();
    const type = checkEvidence(file.bytes, file.contentType, settings.uploadMaxBytes);
    const existing = (await this.#store.desk.attachments(row.id)).filter((f) => f.kind === 'evidence').length;
    if (existing >= settings.uploadMaxFiles) throw new DeskUploadError('E_DESK_UPLOAD_COUNT', `a case takes at most ${settings.uploadMaxFiles} evidence files`);
    const filename = safeFilename(file.filename, type);
    const stored = await this.#store.desk.addAttachment({
      case_id: row.id,
      kind: 'evidence',
      filename,
      content_type: type,
      size: file.bytes.length,
      sha256: createHash('sha256').update(file.bytes).digest('hex'),
      bytes: file.bytes,
      created_at: this.#now().toISOString(),
    });
    await this.#change(row, { id: `requester:${row.reference}` }, {}, { action: 'evidence', reason: `evidence file ${stored.sha256.slice(0, 12)} (${type}, ${file.bytes.length} bytes)`, publicText: `evidence file (${type})` });
    return { id: stored.id, filename, contentType: type, size: file.bytes.length };
  }

  /** The export ZIP of a copy or access request, for its requester. */
  async requesterFile(token: string, id: string): Promise<{ filename: string; contentType: string; bytes: Uint8Array }> {
    const row = await this.#byToken(token);
    const file = await this.#store.desk.attachment(row.id, id);
    if (!file || file.bytes === null) throw new DeskNotFoundError('file');
    return { filename: file.filename, contentType: file.content_type, bytes: file.bytes };
  }

  // ---- the reviewer's side -------------------------------------------------------------

  async queue(filter: Omit<DeskQueueFilter, 'after'> & { cursor?: string }) {
    let after: DeskQueueFilter['after'];
    if (filter.cursor) {
      try {
        const [dueDate, reference] = JSON.parse(Buffer.from(filter.cursor, 'base64url').toString('utf8')) as [string, string];
        if (typeof dueDate !== 'string' || typeof reference !== 'string') throw new Error('shape');
        after = { dueDate, reference };
      } catch {
        throw new DeskInputError('E_DESK_INPUT', 'cursor is not one this server gave');
      }
    }
    const { cursor: _cursor, ...rest } = filter;
    const { rows, total, totalCapped } = await this.#store.desk.queue({ ...rest, ...(after ? { after } : {}) });
    const limit = Math.min(Math.max(1, filter.limit ?? 50), 200);
    const last = rows.at(-1);
    return {
      cases: rows.map(summary),
      total,
      /** true when more than `total` cases match (the count stops at 1,000) */
      totalCapped,
      nextCursor: rows.length === limit && last ? Buffer.from(JSON.stringify([last.due_date, last.reference])).toString('base64url') : null,
    };
  }

  async #byReference(reference: string): Promise<DeskCaseRow> {
    const row = typeof reference === 'string' && reference.length <= 40 ? await this.#store.desk.caseByReference(reference) : undefined;
    if (!row) throw new DeskNotFoundError();
    return row;
  }

  /** Everything about one case, for operators. */
  async detail(reference: string) {
    const row = await this.#byReference(reference);
    const [events, notes, messages, files] = await Promise.all([this.#store.desk.events(row.id), this.#store.desk.notes(row.id), this.#store.desk.messages(row.id), this.#store.desk.attachments(row.id)]);
    return {
      ...summary(row),
      subject: row.subject,
      text: row.text,
      language: row.language,
      limitDays: row.limit_days,
      resolution: row.resolution,
      closedAt: row.closed_at,
      feedbackAt: row.feedback_at,
      erasedAt: row.erased_at,
      allowed: isCaseState(row.state) ? TRANSITIONS[row.state] : [],
      history: events.map((e) => ({ at: e.at, actor: e.actor, action: e.action, from: e.from_state, to: e.to_state, reason: e.reason, public: e.public === 1, details: JSON.parse(e.details) as JsonObject })),
      notes: notes.map((n) => ({ at: n.at, authorId: n.author_id, text: n.text })),
      messages: messages.map((m) => ({ at: m.at, direction: m.direction, author: m.author, text: m.text })),
      files: files.map((f) => ({ id: f.id, kind: f.kind, filename: f.filename, contentType: f.content_type, size: f.size, sha256: f.sha256 })),
    };
  }

  async operatorFile(reference: string, id: string): Promise<{ filename: string; contentType: string; bytes: Uint8Array }> {
    const row = await this.#byReference(reference);
    const file = await this.#store.desk.attachment(row.id, id);
    if (!file || file.bytes === null) throw new DeskNotFoundError('file');
    return { filename: file.filename, contentType: file.content_type, bytes: file.bytes };
  }

  /**
   * Moves a case to `to`. Refusal needs a reason, resolution a message for the requester.
   * Entering waiting-on-requester stops the clock; leaving it moves the due date by the
   * working days of the pause. Closing sends the feedback (status page and mail).
   */
  async transition(reference: string, to: string, reason: string | undefined, actor: Actor, options: { resolution?: string } = {}): Promise<void> {
    const row = await this.#byReference(reference);
    if (!isCaseState(to)) throw new DeskInputError('E_DESK_INPUT', `state must be one of ${Object.keys(TRANSITIONS).join(', ')}`);
    const from = row.state as CaseState;
    const allowed = TRANSITIONS[from] ?? [];
    if (!allowed.includes(to)) throw new DeskTransitionError(from, to, allowed);
    const why = reason === undefined ? '' : cleanText(reason, 'reason', 2000, false);
    const resolution = options.resolution === undefined ? '' : cleanText(options.resolution, 'resolution', MAX_TEXT, false);
    if (to === 'refused' && why === '') throw new DeskInputError('E_DESK_REASON', 'a refusal needs its reason: it is told to the requester (PIPL Art. 50)');
    if (to === 'resolved' && resolution === '') throw new DeskInputError('E_DESK_RESOLUTION', 'resolving needs the answer for the requester ("resolution")');
    const now = this.#now();
    const at = now.toISOString();
    const patch: DeskCasePatch = { state: to };
    const extra: { action: string; reason: string; publicText?: string; details?: JsonObject }[] = [];
    if (to === 'waiting-on-requester') {
      const remaining = remainingAtPause(row.due_date, now, this.#calendar);
      patch.paused_at = at;
      patch.paused_remaining = remaining;
      extra.push({ action: 'pause', reason: `clock paused on ${chinaDateOf(now)} with ${remaining} working day(s) left: waiting on the requester`, publicText: `时限暂停 clock paused (${remaining})`, details: { remaining, dueDate: row.due_date } });
    }
    if (from === 'waiting-on-requester' && row.paused_at !== null) {
      const due = dueAtResume(now, row.paused_remaining ?? 0, this.#calendar);
      patch.paused_at = null;
      patch.paused_remaining = null;
      patch.due_date = due.date;
      patch.due_estimated = due.estimated || row.due_estimated === 1 ? 1 : 0;
      if (due.date !== row.due_date) patch.escalation = 0;
      extra.push({
        action: 'resume',
        reason: `clock resumed on ${chinaDateOf(now)} after the pause from ${chinaDateOf(new Date(row.paused_at))}: due date moved from ${row.due_date} to ${due.date} (${row.paused_remaining ?? 0} working day(s) left)`,
        publicText: `${row.due_date} → ${due.date}`,
        details: { from: row.due_date, to: due.date, remaining: row.paused_remaining ?? 0 },
      });
    }
    if (isClosed(to)) {
      patch.open = 0;
      patch.closed_at = at;
      patch.resolution = to === 'resolved' ? resolution : to === 'refused' ? why : null;
    }
    const publicText = to === 'refused' ? why : to === 'withdrawn' ? why : undefined;
    await this.#change(row, actor, patch, { action: 'transition', reason: why || `moved to ${to}`, from, to, ...(publicText ? { publicText } : {}) }, extra);
    if (isClosed(to)) await this.#feedback((await this.#store.desk.caseById(row.id))!, actor);
  }

  /** Feedback at the end: a message on the status page and by mail. A delete request's own data goes first. */
  async #feedback(row: DeskCaseRow, actor: Actor): Promise<void> {
    const lang = row.language as Lang;
    const state = row.state as CaseState;
    const erasure = row.kind === 'pi' && row.category === 'delete' && state === 'resolved' ? await this.#erasedBefore(row.id) : false;
    const text = [`${KIND_NAMES[row.kind as CaseKind]?.[lang] ?? row.kind} ${row.reference}: ${STATE_NAMES[state][lang]}`, row.resolution ?? ''].filter(Boolean).join('\n\n');
    const contact = row.contact;
    const at = this.#now().toISOString();
    if (erasure) await this.#store.desk.eraseCases([row.id], at, { keepResolution: true });
    await this.#store.transaction(async (store) => {
      await store.desk.addMessage({ case_id: row.id, at, direction: 'out', author: actor.id, language: lang, text });
      if (contact !== null && row.contact_verified_at !== null) {
        const body = `${text}\n\n${lang === 'zh' ? '状态页面（使用首次邮件中的链接）' : 'Status page (use the link from the first message)'}: ${this.publicUrl ?? ''}/desk/status`;
        await store.desk.enqueueMail({ caseId: row.id, to: contact, subject: `[${row.reference}] ${STATE_NAMES[state][lang]}`, body, now: at });
      }
      const fresh = (await store.desk.caseById(row.id))!;
      await store.desk.updateCase(row.id, { state: fresh.state, updatedAt: fresh.updated_at }, { feedback_at: at, updated_at: at > fresh.updated_at ? at : bump(fresh.updated_at) });
      await store.desk.addEvent({ case_id: row.id, at, actor: actor.id, action: 'feedback', from_state: null, to_state: null, reason: erasure ? 'feedback sent; the request\'s own contact and text erased' : 'feedback sent', public: true, details: { mailed: contact !== null && row.contact_verified_at !== null } });
    });
    await this.#record(actor, 'feedback', row.reference, { state });
    void this.#outbox.deliver().catch(() => undefined);
  }

  async #erasedBefore(caseId: string): Promise<boolean> {
    return (await this.#store.desk.events(caseId)).some((e) => e.action === 'carry-out' && (JSON.parse(e.details) as { erased?: boolean }).erased === true);
  }

  async assign(reference: string, operatorId: string | null, actor: Actor): Promise<void> {
    const row = await this.#byReference(reference);
    if (operatorId !== null) {
      const operator = await this.#store.operators.findById(operatorId);
      if (!operator || operator.disabled_at !== null || operator.role === 'auditor') throw new DeskInputError('E_DESK_ASSIGNEE', 'assign to an active admin or reviewer');
    }
    await this.#change(row, actor, { assignee_id: operatorId }, { action: 'assign', reason: operatorId === null ? 'unassigned' : `assigned to operator ${operatorId}`, details: { assignee: operatorId } });
  }

  /** An internal note: operators only, never shown to the requester. */
  async note(reference: string, text: string, actor: Actor & { operatorId: string }): Promise<void> {
    const row = await this.#byReference(reference);
    const body = cleanText(text, 'note', MAX_TEXT);
    await this.#store.desk.addNote({ case_id: row.id, author_id: actor.operatorId, at: this.#now().toISOString(), text: body });
    await this.#change(row, actor, {}, { action: 'note', reason: 'internal note added' });
  }

  /** A reply to the requester: on the status page, and by mail once the contact is proven. */
  async reply(reference: string, text: string, actor: Actor): Promise<void> {
    const row = await this.#byReference(reference);
    if (row.erased_at !== null) throw new DeskPreconditionError('E_DESK_ERASED', 'the requester\'s data was erased; no reply can reach them');
    const body = cleanText(text, 'reply', MAX_TEXT);
    const at = this.#now().toISOString();
    await this.#store.transaction(async (store) => {
      await store.desk.addMessage({ case_id: row.id, at, direction: 'out', author: actor.id, language: row.language, text: body });
      if (row.contact !== null && row.contact_verified_at !== null) {
        await store.desk.enqueueMail({ caseId: row.id, to: row.contact, subject: `[${row.reference}] ${row.language === 'zh' ? '答复' : 'Reply'}`, body, now: at });
      }
    });
    await this.#change(row, actor, {}, { action: 'reply', reason: 'reply sent to the requester', publicText: row.language === 'zh' ? '收到答复' : 'reply received' });
    void this.#outbox.deliver().catch(() => undefined);
  }

  /** The template texts for a case, filled in. */
  async templateValues(reference: string): Promise<Record<string, string>> {
    const row = await this.#byReference(reference);
    const lang = row.language as Lang;
    return { reference: row.reference, due: row.due_date, kind: KIND_NAMES[row.kind as CaseKind]?.[lang] ?? row.kind, provider: (await this.settings()).providerName };
  }

  /**
   * Carries out a PI request through the `SubjectData` port: a copy or access request builds
   * the export ZIP; a delete request erases what hegui holds (and the person's other desk
   * cases) and records what is kept under which rule; withdrawing consent or closing the
   * account disables the gateway user. The contact must be proven first.
   */
  async carryOut(reference: string, actor: Actor): Promise<{ summary: { zh: string; en: string }; fileId?: string; erasure?: ErasureReport }> {
    const row = await this.#byReference(reference);
    if (row.kind !== 'pi') throw new DeskPreconditionError('E_DESK_NOT_PI', 'only personal-information requests are carried out');
    if (row.state !== 'in-progress') throw new DeskPreconditionError('E_DESK_STATE', `move the case to in-progress first (it is ${row.state})`);
    if (row.contact_verified_at === null) throw new DeskPreconditionError('E_DESK_UNVERIFIED', 'the requester has not proven control of the contact yet');
    const port = this.#subject;
    if (!port) throw new DeskPreconditionError('E_DESK_NO_SUBJECT_PORT', 'this server cannot reach the personal data (no SubjectData configured); carry it out by hand');
    const subject: SubjectRef = { ...(row.account ? { gatewayUser: row.account } : {}), ...(row.contact ? { contact: row.contact } : {}) };
    const ownCases = await this.#store.desk.casesOfSubject({ ...(row.contact_hash ? { contactHash: row.contact_hash } : {}), ...(row.account ? { account: row.account } : {}) });
    const at = this.#now().toISOString();
    switch (row.category) {
      case 'access':
      case 'copy': {
        const records = await port.collect(subject);
        const cases = await Promise.all(ownCases.map(async (c) => ({ ...(await this.#requesterViewOf(c)) })));
        const bytes = exportFiles(records, cases, row.reference, at);
        await this.#store.desk.deleteAttachments(row.id, 'export');
        const file = await this.#store.desk.addAttachment({
          case_id: row.id,
          kind: 'export',
          filename: `${row.reference}-personal-information.zip`,
          content_type: 'application/zip',
          size: bytes.length,
          sha256: createHash('sha256').update(bytes).digest('hex'),
          bytes,
          created_at: at,
        });
        const count = records.sections.reduce((n, s) => n + s.rows.length, 0);
        const summary = { zh: `已生成个人信息副本：${records.sections.length} 类 ${count} 条记录，另含 ${cases.length} 件工单`, en: `export ready: ${count} records in ${records.sections.length} sections, and ${cases.length} desk case(s)` };
        await this.#change(row, actor, {}, { action: 'carry-out', reason: summary.en, publicText: summary[row.language as Lang], details: { fileId: file.id, sections: records.sections.length, records: count, cases: cases.length } });
        return { summary, fileId: file.id };
      }
      case 'delete': {
        const erasure = await port.erase(subject, { requestRef: row.reference, actor: actor.id });
        const others = ownCases.filter((c) => c.id !== row.id).map((c) => c.id);
        const desk = await this.#store.desk.eraseCases(others, at);
        const summary = erasureSummary(erasure, desk);
        await this.#change(row, actor, {}, { action: 'carry-out', reason: summary.en, publicText: summary[row.language as Lang], details: { erased: true, removed: erasure.removed.length, kept: erasure.kept.length, deskCases: desk.cases } });
        return { summary, erasure };
      }
      case 'withdraw-consent':
      case 'close-account': {
        if (!row.account) throw new DeskPreconditionError('E_DESK_NO_ACCOUNT', 'the requester did not prove control of a gateway account (file with an API key); nothing to disable');
        await port.disable(subject, { requestRef: row.reference, actor: actor.id, reason: row.category });
        const summary = { zh: '网关账号已停用', en: 'gateway account disabled' };
        await this.#change(row, actor, {}, { action: 'carry-out', reason: summary.en, publicText: summary[row.language as Lang], details: { disabled: true } });
        return { summary };
      }
      default:
        throw new DeskPreconditionError('E_DESK_MANUAL', `a ${row.category} request is handled by hand: reply to the requester and resolve the case`);
    }
  }

  /** One of the person's own cases as it goes into their export. */
  async #requesterViewOf(row: DeskCaseRow) {
    const messages = await this.#store.desk.messages(row.id);
    const events = await this.#store.desk.events(row.id, { publicOnly: true });
    return {
      reference: row.reference,
      kind: row.kind,
      category: row.category,
      state: row.state,
      receivedAt: row.received_at,
      dueDate: row.due_date,
      subject: row.subject,
      text: row.text,
      resolution: row.resolution,
      messages: messages.map((m) => ({ at: m.at, direction: m.direction, text: m.text })),
      history: events.map((e) => ({ at: e.at, action: e.action, toState: e.to_state })),
    };
  }

  /**
   * Escalates open, running cases near their due date (within the published number of working
   * days) and again once overdue; each escalation is a case event and an audit event.
   */
  async escalate(actor: Actor = { id: 'system:desk' }): Promise<{ reference: string; level: number; dueDate: string }[]> {
    const settings = await this.settings();
    const now = this.#now();
    const today = chinaDateOf(now);
    const threshold = this.#calendar.workingDaysAfter(today, settings.escalateDaysBefore, { allowEstimate: true }).date;
    const escalated: { reference: string; level: number; dueDate: string }[] = [];
    const yesterday = addDays(today, -1);
    for (const [dueBy, level] of [[yesterday, 2], [threshold, 1]] as const) {
      for (const row of await this.#store.desk.toEscalate(dueBy, level)) {
        const overdue = row.due_date < today;
        const reason = overdue ? `overdue: due ${row.due_date}` : `due ${row.due_date}, within ${settings.escalateDaysBefore} working day(s)`;
        try {
          await this.#change(row, actor, { escalation: overdue ? 2 : 1 }, { action: 'escalate', reason, details: { level: overdue ? 2 : 1, dueDate: row.due_date } });
          escalated.push({ reference: row.reference, level: overdue ? 2 : 1, dueDate: row.due_date });
        } catch {
          // changed meanwhile: the next run sees it again
        }
      }
    }
    return escalated;
  }

  /** Every case matching `filter`, page by page (the CLI's export). */
  async *all(filter: Omit<DeskQueueFilter, 'after' | 'limit'>): AsyncGenerator<DeskCaseRow> {
    let after: DeskQueueFilter['after'];
    for (;;) {
      const { rows } = await this.#store.desk.queue({ ...filter, limit: 200, ...(after ? { after } : {}) });
      yield* rows;
      if (rows.length < 200) return;
      const last = rows.at(-1)!;
      after = { dueDate: last.due_date, reference: last.reference };
    }
  }

  /** One change of a case: the row (compare-and-set), its history, and the audit event. */
  async #change(
    row: DeskCaseRow,
    actor: Actor,
    patch: DeskCasePatch,
    event: { action: string; reason: string; from?: string; to?: string; publicText?: string; details?: JsonObject },
    extra: { action: string; reason: string; publicText?: string; details?: JsonObject }[] = [],
  ): Promise<void> {
    const at = this.#now().toISOString();
    await this.#store.transaction(async (store) => {
      await store.desk.updateCase(row.id, { state: row.state, updatedAt: row.updated_at }, { ...patch, updated_at: at > row.updated_at ? at : bump(row.updated_at) });
      for (const e of [event, ...extra]) {
        const isPublic = e.publicText !== undefined || e === event && event.to !== undefined;
        await store.desk.addEvent({
          case_id: row.id,
          at,
          actor: actor.id,
          action: e.action,
          from_state: e === event ? (event.from ?? null) : null,
          to_state: e === event ? (event.to ?? null) : null,
          reason: e.reason,
          public: isPublic,
          details: { ...(e.details ?? {}), ...(e.publicText !== undefined ? { publicText: e.publicText } : {}) },
        });
      }
    });
    for (const e of [event, ...extra]) {
      await this.#record(actor, e.action, row.reference, { ...(event.from && e === event ? { from: event.from } : {}), ...(event.to && e === event ? { to: event.to } : {}), reason: e.reason.slice(0, 300) });
    }
  }

  async #record(actor: Actor, action: string, reference: string | null, payload: JsonObject): Promise<void> {
    await this.#audit?.append({ type: 'desk.action', actor: actor.id, outcome: action.replace(/-/g, '_'), payload: { action, ...(reference ? { case: reference } : {}), ...payload } });
  }
}

/** A later time than `at` by a millisecond: two changes in one millisecond still differ. */
function bump(at: string): string {
  return new Date(Date.parse(at) + 1).toISOString();
}

function summary(row: DeskCaseRow): CaseSummary {
  return {
    reference: row.reference,
    kind: row.kind,
    category: row.category,
    state: row.state,
    receivedAt: row.received_at,
    dueDate: row.due_date,
    dueEstimated: row.due_estimated === 1,
    paused: row.paused_at !== null,
    escalation: row.escalation,
    assigneeId: row.assignee_id,
    contactVerified: row.contact_verified_at !== null,
    account: row.account,
  };
}

function erasureSummary(report: ErasureReport, desk: { cases: number }): { zh: string; en: string } {
  const list = (items: ReadonlyArray<{ what: string; count: number }>): string => items.map((i) => `${i.what} ×${i.count}`).join(', ') || '—';
  const kept = report.kept.map((k) => ({ zh: `${k.what} ×${k.count}（依据：${k.rule.zh}${k.until ? `，保存至 ${k.until}` : ''}）`, en: `${k.what} ×${k.count} (rule: ${k.rule.en}${k.until ? `, until ${k.until}` : ''})` }));
  return {
    zh: `已删除：${list(report.removed)}；已去标识化：${list(report.pseudonymised)}；其他工单 ${desk.cases} 件已清除个人内容。依法保留：${kept.map((k) => k.zh).join('；') || '无'}。`,
    en: `Removed: ${list(report.removed)}; pseudonymised: ${list(report.pseudonymised)}; personal content cleared from ${desk.cases} other desk case(s). Kept by law: ${kept.map((k) => k.en).join('; ') || 'nothing'}.`,
  };
}

function codeMail(lang: Lang, reference: string, code: string, statusUrl: string, due: string, settings: DeskSettings): string {
  return lang === 'zh'
    ? `您好，\n\n您向 ${settings.providerName} 提交的事项编号为 ${reference}。\n验证码：${code}（${settings.codeMinutes} 分钟内有效）\n\n请在私密状态链接中输入验证码并查看进度：\n${statusUrl}\n\n答复期限：${due}。\n请勿转发此邮件。`
    : `Hello,\n\nYour filing with ${settings.providerName} has the reference ${reference}.\nCode: ${code} (valid for ${settings.codeMinutes} minutes)\n\nEnter the code on your private status page and follow the case there:\n${statusUrl}\n\nWe answer by ${due}.\nDo not forward this message.`;
}

export { fillTemplate, CATEGORY_NAMES };
