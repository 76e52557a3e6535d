/**
 * Helpers of the desk suites: a SubjectData double and a reader for the export ZIP.
 */
import { inflateRawSync } from 'node:zlib';
import type { SubjectData, SubjectRef } from '../../src/desk/index.js';

/** A SubjectData double: what it was asked, and fixed answers. */
export function fakeSubject(): SubjectData & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async collect(subject: SubjectRef) {
      calls.push(`collect ${subject.contact ?? ''} ${subject.gatewayUser ?? ''}`);
      return { subject, collectedAt: '2026-03-01T00:00:00.000Z', sections: [{ id: 'gateway-user', title: { zh: '网关用户', en: 'Gateway user' }, rows: [{ name: subject.gatewayUser ?? null, note: '<b>bold</b>' }] }] };
    },
    async erase(subject: SubjectRef, request) {
      calls.push(`erase ${subject.contact ?? ''} ${request.requestRef}`);
      return { subject, requestRef: request.requestRef, removed: [{ what: 'usage', count: 3 }], pseudonymised: [], kept: [{ what: 'audit events', count: 2, rule: { zh: '网络日志至少保存六个月', en: 'network logs kept at least 6 months' }, until: '2026-09-01' }] };
    },
    async disable(subject: SubjectRef, request) {
      calls.push(`disable ${subject.gatewayUser ?? ''} ${request.reason}`);
    },
  };
}

/** Reads the entries of a ZIP written by desk/zip (deflate, no data descriptors). */
export function unzip(bytes: Uint8Array): Map<string, string> {
  const buf = Buffer.from(bytes);
  const files = new Map<string, string>();
  let at = 0;
  while (buf.readUInt32LE(at) === 0x04034b50) {
    const size = buf.readUInt32LE(at + 18);
    const nameLength = buf.readUInt16LE(at + 26);
    const extra = buf.readUInt16LE(at + 28);
    const name = buf.subarray(at + 30, at + 30 + nameLength).toString('utf8');
    const start = at + 30 + nameLength + extra;
    files.set(name, inflateRawSync(buf.subarray(start, start + size)).toString('utf8'));
    at = start + size;
  }
  return files;
}

