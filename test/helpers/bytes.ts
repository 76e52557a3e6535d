/**
 * Byte surgery for tests that forge files: find a marker, and patch bytes at an offset on a
 * copy (the original stays as it was).
 */
import { expect } from 'vitest';

/** Where `needle` (bytes, or a string read as Latin-1) first stands at or after `from`; fails the test when absent. */
export function find(bytes: Uint8Array, needle: Uint8Array | string, from = 0): number {
  const at = Buffer.from(bytes).indexOf(typeof needle === 'string' ? Buffer.from(needle, 'latin1') : Buffer.from(needle), from);
  expect(at, `no ${String(needle)} in the file`).toBeGreaterThanOrEqual(0);
  return at;
}

/** A copy of `bytes` with `patch` written at `at`. */
export function patched(bytes: Uint8Array, at: number, patch: readonly number[]): Uint8Array {
  const out = Uint8Array.from(bytes);
  out.set(patch, at);
  return out;
}
