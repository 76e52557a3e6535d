/**
 * @module gateway/sanctions
 * An operator lifting a user's sanctions (AI Measures Art. 14: the provider decides, and keeps
 * records): limits and suspensions still in force are marked lifted in the user's record, the
 * user's shared usage state forgets them and the blocks counted so far, and a `user.sanction`
 * event with outcome `lift` goes into the audit log. Replicas see the lift within two sync
 * intervals (`limits.syncMilliseconds`).
 */
import type { JsonObject } from '../audit/index.js';
import type { GatewaySanction, GatewayUser, SanctionAction, Store } from '../store/index.js';
import type { AuditSink } from './audit.js';
import { liftSanctions, parseUsageState } from './usage-state.js';

export interface LiftResult {
  /** The limits and suspensions that were in force and are now lifted. */
  lifted: GatewaySanction[];
}

/**
 * Lifts every limit and suspension of `user`, as `by` (an audit actor such as `system:cli`).
 *
 * @example
 * const { lifted } = await liftUserSanctions(store, log, user, 'system:cli');
 */
export async function liftUserSanctions(store: Store, audit: Pick<AuditSink, 'append'>, user: GatewayUser, by: string, now: Date = new Date()): Promise<LiftResult> {
  const subject = `user:${user.id}`;
  const lifted = await store.transaction(async (tx) => {
    const lifted = await tx.gatewaySanctions.liftActive(user.id, by, now);
    await tx.gatewayUsage.update(
      [subject],
      (current) => {
        const state = parseUsageState(current.get(subject));
        liftSanctions(state);
        return new Map([[subject, JSON.stringify(state)]]);
      },
      now,
    );
    return lifted;
  });
  await audit.append({ type: 'user.sanction', actor: by, outcome: 'lift', payload: { user: user.id, lifted: lifted.map((s) => s.id), actions: lifted.map((s) => s.action) } });
  return { lifted };
}

export interface ImposedSanction {
  action: SanctionAction;
  /** When a limit or suspension ends (ms since the epoch); null: a warning, or a suspension until lifted. */
  until: number | null;
  /** Requests per minute a limit allows. */
  perMinute?: number;
  reason: string;
}

/**
 * An operator warns, limits or suspends a user by hand (AI Measures Art. 14), e.g. from an
 * incident: the sanction goes into the user's record and, for a limit or suspension, into the
 * shared usage state every replica refuses by (within two sync intervals), in one transaction;
 * then a `user.sanction` event (with `context` in its payload) goes into the audit log. The
 * gateway consults a user's state when abuse steps, a user rate or minors' rules are configured
 * (`abuse.steps` is on by default).
 *
 * @example
 * await imposeUserSanction(store, log, user, { action: 'suspend', until: null, reason: 'incident INC-2026-000001' }, 'operator:7');
 */
export async function imposeUserSanction(
  store: Store,
  audit: Pick<AuditSink, 'append'>,
  user: GatewayUser,
  sanction: ImposedSanction,
  by: string,
  now: Date = new Date(),
  context: JsonObject = {},
): Promise<GatewaySanction> {
  if (sanction.action === 'limit' && (sanction.until === null || !sanction.perMinute)) throw new Error('a limit needs an end and a rate per minute');
  const subject = `user:${user.id}`;
  const added = await store.transaction(async (tx) => {
    const record = await tx.gatewaySanctions.add({ userId: user.id, action: sanction.action, reason: sanction.reason, blocks: 0, windowSeconds: 0, until: sanction.until === null ? null : new Date(sanction.until).toISOString(), now });
    if (sanction.action !== 'warn') {
      await tx.gatewayUsage.update(
        [subject],
        (current) => {
          const state = parseUsageState(current.get(subject));
          if (sanction.action === 'suspend') state.suspended = { until: sanction.until };
          else state.limited = { until: sanction.until as number, perMinute: sanction.perMinute as number };
          return new Map([[subject, JSON.stringify(state)]]);
        },
        now,
      );
    }
    return record;
  });
  await audit.append({
    type: 'user.sanction',
    actor: by,
    outcome: sanction.action,
    payload: { ...context, user: user.id, action: sanction.action, until: added.until, perMinute: sanction.action === 'limit' ? (sanction.perMinute ?? null) : null, sanction: added.id, reason: sanction.reason },
  });
  return added;
}
