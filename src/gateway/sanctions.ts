/**
 * @module gateway/sanctions
 * An operator lifting a user's sanctions (AI Measures Art. 14: the provider decides, and keeps
 * records): limits and suspensions still in force are marked lifted in the user's record, the
 * user's shared usage state forgets them and the blocks counted so far, and a `user.sanction`
 * event with outcome `lift` goes into the audit log. Replicas see the lift within two sync
 * intervals (`limits.syncMilliseconds`).
 */
import type { GatewaySanction, GatewayUser, Store } from '../store/index.js';
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
