import { expect, it } from 'vitest';
import type { AuditEventInput } from '../audit/index.js';
import { type AuditSink, committedLater } from './audit.js';

const event: AuditEventInput = { type: 'gateway.request', actor: 'user:u1', payload: { requestId: 'r1' } };

it('committedLater: the request goes on before the commit, and a failed commit is reported with its event', async () => {
  let commit: (() => void) | undefined;
  let fail: ((error: Error) => void) | undefined;
  const appended: AuditEventInput[] = [];
  const sink: AuditSink = {
    contentPolicy: 'none',
    append: (e) => {
      appended.push(e);
      return new Promise<void>((resolve, reject) => {
        commit = resolve;
        fail = reject;
      });
    },
  };
  const lost: { error: unknown; event: AuditEventInput }[] = [];
  const later = committedLater(sink, (error, e) => lost.push({ error, event: e }));
  expect(later.contentPolicy).toBe('none');
  // Resolves although the log has not committed yet.
  await later.append(event);
  expect(appended).toEqual([event]);
  commit?.();
  await later.append(event);
  fail?.(new Error('disk full'));
  await new Promise((resolve) => setImmediate(resolve));
  expect(lost).toHaveLength(1);
  expect((lost[0]?.error as Error).message).toBe('disk full');
  expect(lost[0]?.event).toBe(event);
  // A sink that throws at once (a malformed event) is reported the same way, never thrown at the request.
  const throwing = committedLater({ contentPolicy: 'none', append: () => { throw new Error('malformed'); } }, (error) => lost.push({ error, event }));
  await expect(throwing.append(event)).resolves.toBeUndefined();
  await new Promise((resolve) => setImmediate(resolve));
  expect((lost[1]?.error as Error).message).toBe('malformed');
});
