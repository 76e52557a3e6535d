/**
 * @module gateway/access
 * What a user may do, decided before a request reaches the model, and what follows a blocked
 * one:
 * - real identity required (Deep Synthesis Provisions Art. 9; Cybersecurity Law Art. 24): an
 *   unverified user is refused with 403;
 * - request rates per user and per API key, shared by every replica (429 with Retry-After), and
 *   where the tightest stands, for the `x-ratelimit-*-requests` headers (./budgets);
 * - minors' mode (AI Measures Art. 10; Minors Regulations Art. 43): daily allowances of
 *   requests and minutes (Beijing days) and a reminder in the answer after continuous use;
 * - abuse (AI Measures Art. 14): blocked requests are counted per user, and as they accumulate
 *   the user is warned (a notice in the answer), limited (429) or suspended (403); each step
 *   is kept in the user's sanction record and as a `user.sanction` audit event.
 */
import type { Store } from '../store/index.js';
import type { AuditSink, Exchange } from './audit.js';
import type { GatewayConfig } from './config.js';
import { GatewayRateLimitError, GatewaySuspendedError, GatewayUnverifiedError } from './errors.js';
import type { Caller } from './identity.js';
import { type Language, refusals, reminderNotice, sanctionNotice } from './messages.js';
import { type SubjectRequest, UsageLedger } from './usage-ledger.js';
import type { AbuseStep, MinorRules, RateRule, Refusal, SubjectRules } from './usage-state.js';

/** What a request is for: generating (minors' allowances count it) or listing models. */
export type RequestPurpose = 'generate' | 'list';

const MINUTE = 60_000;

export interface AccessOptions {
  config: GatewayConfig;
  store: Store;
  audit: AuditSink;
  /** Time source (ms since the epoch); tests pass their own. */
  now: () => number;
}

/**
 * Admits requests and answers blocks for the gateway.
 *
 * @example
 * await access.admit(exchange, 'generate');          // throws a 403 or 429 error, or notes a reminder
 * const notice = await access.noteBlock(exchange);   // after a block: a warning or sanction notice
 */
export class AccessControl {
  readonly #audit: AuditSink;
  readonly #now: () => number;
  readonly #ledger: UsageLedger;
  readonly #requireVerified: boolean;
  readonly #userRate: RateRule | undefined;
  readonly #keyRate: RateRule | undefined;
  readonly #minor: MinorRules;
  readonly #steps: AbuseStep[];
  readonly #risks: readonly string[];
  readonly #language: Language;
  readonly #reminder: string | undefined;
  /** What a user's state is checked against, for an adult and for a minor's generating request. */
  readonly #adultRules: SubjectRules;
  readonly #minorRules: SubjectRules;
  readonly #keyRules: SubjectRules | undefined;

  constructor(options: AccessOptions) {
    const { config } = options;
    this.#audit = options.audit;
    this.#now = options.now;
    this.#ledger = new UsageLedger(options.store, { syncMs: config.limits.syncMilliseconds, now: options.now });
    this.#requireVerified = config.users.requireVerified;
    const rate = (r: { requests: number; perSeconds: number } | undefined): RateRule | undefined => r && { requests: r.requests, windowMs: r.perSeconds * 1000 };
    this.#userRate = rate(config.limits.user);
    this.#keyRate = rate(config.limits.key);
    const m = config.minors;
    this.#minor = {
      ...(m.dailyRequests !== undefined ? { dailyRequests: m.dailyRequests } : {}),
      ...(m.dailyMinutes !== undefined ? { dailyMs: m.dailyMinutes * MINUTE } : {}),
      reminderMs: m.reminderMinutes * MINUTE,
      idleMs: m.idleMinutes * MINUTE,
    };
    this.#reminder = m.reminder;
    this.#steps = config.abuse.steps.map((s) => ({ blocks: s.blocks, windowMs: s.withinMinutes * MINUTE, action: s.action, ...(s.minutes !== undefined ? { durationMs: s.minutes * MINUTE } : {}), requestsPerMinute: s.requestsPerMinute }));
    this.#risks = config.abuse.risks;
    this.#language = config.safety.language;
    this.#adultRules = this.#userRate ? { rate: this.#userRate } : {};
    this.#minorRules = { ...this.#adultRules, minor: this.#minor };
    this.#keyRules = this.#keyRate && { rate: this.#keyRate };
  }

  /**
   * Lets the caller's request go ahead, or refuses it: 403 for an unverified identity where
   * one is required or a suspended user, 429 (with Retry-After) for a limit. A minor whose
   * continuous use just passed the reminder period gets the reminder in `exchange.notices`.
   */
  async admit(exchange: Exchange, purpose: RequestPurpose): Promise<void> {
    const caller = exchange.caller as Caller;
    if (this.#requireVerified && !caller.verified) throw new GatewayUnverifiedError(refusals.unverified);
    const userRules = caller.minor && purpose === 'generate' ? this.#minorRules : this.#adultRules;
    const requests: SubjectRequest[] = [];
    // The user's state is consulted whenever it can refuse: a sanction, a rate, a minor's allowance.
    if (this.#steps.length > 0 || userRules.rate || userRules.minor) requests.push({ subject: `user:${caller.user.id}`, rules: userRules });
    if (this.#keyRules && caller.keyId) requests.push({ subject: `key:${caller.keyId}`, rules: this.#keyRules });
    if (requests.length === 0) return;
    const admission = await this.#ledger.admit(requests, this.#now());
    exchange.requestRate = admission.rate;
    if (admission.refusal) throw this.#refusal(admission.refusal, admission.refusedBy?.startsWith('key:') ? 'key' : 'user');
    if (admission.remind) {
      exchange.notices.push(reminderNotice(this.#language, admission.continuousMs / MINUTE, this.#reminder));
      exchange.actions.push('minor-reminder');
    }
  }

  /**
   * Counts a blocked request against its user, once per request, when a blocked risk is one
   * `abuse.risks` counts. Resolves to the notice for the user when a step fired (it has been
   * recorded in the store and the audit log by then).
   */
  async noteBlock(exchange: Exchange): Promise<string | undefined> {
    const caller = exchange.caller;
    if (!caller || exchange.blockNoted || this.#steps.length === 0) return undefined;
    exchange.blockNoted = true;
    const blocked = [...exchange.inputFindings, ...exchange.outputFindings].filter((f) => f.action === 'block').map((f) => f.risk);
    if (!blocked.some((risk) => this.#risks.some((r) => r === '*' || r === risk || r === risk.slice(0, 2)))) return undefined;
    const at = this.#now();
    let sanctionId = '';
    const fired = await this.#ledger.block(`user:${caller.user.id}`, at, this.#steps, async (f, tx) => {
      const minutes = Math.round(f.step.windowMs / MINUTE);
      const sanction = await tx.gatewaySanctions.add({
        userId: caller.user.id,
        action: f.step.action,
        reason: `${f.blocks} blocked requests within ${minutes} minutes`,
        blocks: f.blocks,
        windowSeconds: f.step.windowMs / 1000,
        until: f.until === null ? null : new Date(f.until).toISOString(),
        now: new Date(at),
      });
      sanctionId = sanction.id;
    });
    if (!fired) return undefined;
    await this.#audit.append({
      type: 'user.sanction',
      actor: 'system:gateway',
      outcome: fired.step.action,
      risks: [...new Set(blocked)].sort(),
      payload: {
        user: caller.pseudonym,
        action: fired.step.action,
        blocks: fired.blocks,
        windowMinutes: Math.round(fired.step.windowMs / MINUTE),
        until: fired.until === null ? null : new Date(fired.until).toISOString(),
        sanction: sanctionId,
        requestId: exchange.id,
      },
    });
    exchange.actions.push(`user-${fired.step.action}`);
    return sanctionNotice(this.#language, fired.step.action, fired.until);
  }

  /** Writes the usage counted so far to the store now (otherwise it goes every sync interval). */
  flush(): Promise<void> {
    return this.#ledger.flush();
  }

  /** Stops syncing usage (at shutdown). */
  stop(): void {
    this.#ledger.stop();
  }

  #refusal(refusal: Refusal, scope: 'user' | 'key'): Error {
    const seconds = (ms: number): number => ms / 1000;
    switch (refusal.kind) {
      case 'suspended':
        return new GatewaySuspendedError(refusals.suspended(refusal.until));
      case 'limited':
        return new GatewayRateLimitError('E_GATEWAY_USER_LIMITED', refusals.limited(refusal.perMinute, refusal.until), seconds(refusal.retryAfterMs));
      case 'daily-requests':
        return new GatewayRateLimitError('E_GATEWAY_DAILY_LIMIT', refusals.dailyRequests(this.#minor.dailyRequests ?? 0), seconds(refusal.retryAfterMs));
      case 'daily-minutes':
        return new GatewayRateLimitError('E_GATEWAY_DAILY_LIMIT', refusals.dailyMinutes((this.#minor.dailyMs ?? 0) / MINUTE), seconds(refusal.retryAfterMs));
      case 'rate': {
        const rule = scope === 'user' ? this.#userRate : this.#keyRate;
        return new GatewayRateLimitError('E_GATEWAY_RATE_LIMITED', refusals.rate(scope, rule?.requests ?? 0, (rule?.windowMs ?? 0) / 1000), seconds(refusal.retryAfterMs));
      }
    }
  }
}
