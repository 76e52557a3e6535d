import { describe, expect, it } from 'vitest';
import { type AbuseStep, applyBlock, applyRequest, beijingDay, beijingMidnight, checkRequest, formatResetDuration, liftSanctions, type MinorRules, rateStatus, tightestRate, type UsageState, usedTodayMs } from './usage-state.js';

const MIN = 60_000;
/** 2026-11-28 09:00 in Beijing. */
const T0 = Date.parse('2026-11-28T01:00:00Z');

function admit(state: UsageState, at: number, rules: Parameters<typeof checkRequest>[2]): ReturnType<typeof checkRequest> | ReturnType<typeof applyRequest> {
  return checkRequest(state, at, rules) ?? applyRequest(state, at, rules);
}

describe('Beijing days', () => {
  it('turns at 16:00 UTC', () => {
    expect(beijingDay(Date.parse('2026-11-28T15:59:59Z'))).toBe('2026-11-28');
    expect(beijingDay(Date.parse('2026-11-28T16:00:00Z'))).toBe('2026-11-29');
    expect(new Date(beijingMidnight(Date.parse('2026-11-28T15:59:59Z'))).toISOString()).toBe('2026-11-27T16:00:00.000Z');
  });
});

describe('request rate (token bucket)', () => {
  const rules = { rate: { requests: 3, windowMs: MIN } };

  it('admits a burst up to the limit, then one request per window / limit, and says how long to wait', () => {
    const state: UsageState = {};
    for (let i = 0; i < 3; i++) expect(admit(state, T0 + i * 1000, rules)).toMatchObject({ remind: false });
    expect(checkRequest(state, T0 + 10_000, rules)).toEqual({ kind: 'rate', retryAfterMs: 10_000 });
    expect(checkRequest(state, T0 + 20_000, rules)).toBeUndefined();
    applyRequest(state, T0 + 20_000, rules);
    expect(checkRequest(state, T0 + 23_000, rules)).toEqual({ kind: 'rate', retryAfterMs: 17_000 });
    // Idle for a whole window: the full burst again.
    for (let i = 0; i < 3; i++) expect(admit(state, T0 + 5 * MIN, rules)).toMatchObject({ remind: false });
    expect(checkRequest(state, T0 + 5 * MIN, rules)).toMatchObject({ kind: 'rate' });
  });

  it('counts requests reported late, never less than once each', () => {
    const state: UsageState = {};
    applyRequest(state, T0 + 30_000, rules);
    applyRequest(state, T0, rules);
    expect(state.rate).toEqual({ tat: T0 + 30_000 + 40_000 });
  });
});

describe("minors' mode", () => {
  const minor: MinorRules = { dailyRequests: 3, dailyMs: 60 * MIN, reminderMs: 40 * MIN, idleMs: 30 * MIN };

  it('allows a number of requests per Beijing day', () => {
    const state: UsageState = {};
    for (let i = 0; i < 3; i++) expect(admit(state, T0 + i * MIN, { minor })).toMatchObject({ remind: false });
    const refusal = checkRequest(state, T0 + 5 * MIN, { minor });
    expect(refusal).toEqual({ kind: 'daily-requests', retryAfterMs: Date.parse('2026-11-28T16:00:00Z') - (T0 + 5 * MIN) });
    expect(checkRequest(state, Date.parse('2026-11-28T16:00:00Z'), { minor })).toBeUndefined();
  });

  it('counts continuous use and reminds at every reminder period', () => {
    const rules = { minor: { ...minor, dailyRequests: undefined, dailyMs: undefined } as MinorRules };
    const state: UsageState = {};
    const reminders: number[] = [];
    for (let m = 0; m <= 130; m += 10) {
      const result = applyRequest(state, T0 + m * MIN, rules);
      if (result.remind) reminders.push(result.continuousMs / MIN);
    }
    expect(reminders).toEqual([40, 80, 120]);
    // A pause longer than the idle gap starts a new session: no reminder until 40 more minutes.
    expect(applyRequest(state, T0 + 200 * MIN, rules)).toEqual({ remind: false, continuousMs: 0 });
    expect(applyRequest(state, T0 + 230 * MIN, rules).remind).toBe(false);
    expect(applyRequest(state, T0 + 240 * MIN, rules)).toEqual({ remind: true, continuousMs: 40 * MIN });
  });

  it('allows minutes of use per day, closed sessions and the current one together', () => {
    const rules = { minor: { ...minor, dailyRequests: undefined } as MinorRules };
    const state: UsageState = {};
    for (let m = 0; m <= 40; m += 10) admit(state, T0 + m * MIN, rules);
    // 40 minutes in the first session; a second session after a pause.
    for (let m = 100; m <= 115; m += 5) admit(state, T0 + m * MIN, rules);
    expect(usedTodayMs(state, T0 + 115 * MIN, minor.idleMs)).toBe(55 * MIN);
    expect(checkRequest(state, T0 + 119 * MIN, rules)).toBeUndefined();
    expect(checkRequest(state, T0 + 120 * MIN, rules)).toMatchObject({ kind: 'daily-minutes' });
    // A session across midnight counts from midnight on the new day.
    const late: UsageState = {};
    const beforeMidnight = Date.parse('2026-11-28T15:50:00Z');
    for (let m = 0; m <= 20; m += 5) applyRequest(late, beforeMidnight + m * MIN, rules);
    expect(usedTodayMs(late, beforeMidnight + 20 * MIN, minor.idleMs)).toBe(10 * MIN);
  });
});

describe('abuse steps (AI Measures Art. 14)', () => {
  const steps: AbuseStep[] = [
    { blocks: 2, windowMs: 60 * MIN, action: 'warn', requestsPerMinute: 1 },
    { blocks: 3, windowMs: 60 * MIN, action: 'limit', durationMs: 30 * MIN, requestsPerMinute: 2 },
    { blocks: 5, windowMs: 24 * 60 * MIN, action: 'suspend', requestsPerMinute: 1 },
  ];

  it('warns, limits, then suspends as blocks accumulate, each step once per window', () => {
    const state: UsageState = {};
    const taken = [1, 2, 3, 4, 5].map((i) => applyBlock(state, T0 + i * MIN, steps)?.step.action ?? null);
    expect(taken).toEqual([null, 'warn', 'limit', null, 'suspend']);
    expect(state.limited).toEqual({ until: T0 + 3 * MIN + 30 * MIN, perMinute: 2 });
    expect(checkRequest(state, T0 + 6 * MIN, {})).toEqual({ kind: 'suspended', until: null });
    liftSanctions(state);
    expect(checkRequest(state, T0 + 6 * MIN, {})).toBeUndefined();
    expect(applyBlock(state, T0 + 7 * MIN, steps)).toBeUndefined();
  });

  it('limits a user to the step rate until the limit ends', () => {
    const state: UsageState = {};
    for (let i = 0; i < 3; i++) applyBlock(state, T0 + i, steps);
    const at = Math.floor(T0 / MIN) * MIN + 5 * MIN;
    expect(admit(state, at, {})).toMatchObject({ remind: false });
    expect(admit(state, at + 1000, {})).toMatchObject({ remind: false });
    expect(checkRequest(state, at + 2000, {})).toMatchObject({ kind: 'limited', perMinute: 2 });
    expect(checkRequest(state, T0 + 31 * MIN, {})).toBeUndefined();
  });

  it('ends a timed suspension by itself', () => {
    const state: UsageState = {};
    const timed: AbuseStep[] = [{ blocks: 1, windowMs: MIN, action: 'suspend', durationMs: 10 * MIN, requestsPerMinute: 1 }];
    expect(applyBlock(state, T0, timed)).toMatchObject({ until: T0 + 10 * MIN, blocks: 1 });
    expect(checkRequest(state, T0 + 9 * MIN, {})).toEqual({ kind: 'suspended', until: T0 + 10 * MIN });
    expect(checkRequest(state, T0 + 10 * MIN, {})).toBeUndefined();
  });
});

describe('rate status for the x-ratelimit-*-requests headers', () => {
  const rule = { requests: 3, windowMs: MIN };

  it('counts down as requests are counted and tells when the bucket is full again', () => {
    const state: UsageState = {};
    expect(rateStatus(state.rate, T0, rule)).toEqual({ limit: 3, remaining: 3, resetMs: 0 });
    applyRequest(state, T0, { rate: rule });
    expect(rateStatus(state.rate, T0, rule)).toEqual({ limit: 3, remaining: 2, resetMs: 20_000 });
    applyRequest(state, T0, { rate: rule });
    applyRequest(state, T0, { rate: rule });
    expect(rateStatus(state.rate, T0, rule)).toEqual({ limit: 3, remaining: 0, resetMs: 60_000 });
    // Remaining is what checkRequest admits: none until one interval has passed.
    expect(rateStatus(state.rate, T0 + 19_999, rule).remaining).toBe(0);
    expect(checkRequest(state, T0 + 19_999, { rate: rule })).toMatchObject({ kind: 'rate' });
    expect(rateStatus(state.rate, T0 + 20_000, rule)).toEqual({ limit: 3, remaining: 1, resetMs: 40_000 });
    expect(checkRequest(state, T0 + 20_000, { rate: rule })).toBeUndefined();
    expect(rateStatus(state.rate, T0 + 5 * MIN, rule)).toEqual({ limit: 3, remaining: 3, resetMs: 0 });
  });

  it('takes the rate a client meets first', () => {
    expect(tightestRate([{ limit: 10, remaining: 4, resetMs: 1 }, { limit: 3, remaining: 2, resetMs: 5 }, { limit: 5, remaining: 2, resetMs: 9 }])).toEqual({ limit: 5, remaining: 2, resetMs: 9 });
    expect(tightestRate([])).toBeUndefined();
  });

  it("writes durations as OpenAI's headers do", () => {
    expect([0, 17, 999, 1000, 1500, 8640, 59_999, 60_000, 360_000, 90_500, 3_600_000, 3_723_000].map(formatResetDuration)).toEqual(['0s', '17ms', '999ms', '1s', '1.5s', '8.64s', '59.999s', '1m0s', '6m0s', '1m30.5s', '1h0m0s', '1h2m3s']);
  });
});
