/**
 * @module safety/node-require
 * Node's `require` for the optional dependencies the engine loads only when a library needs
 * them (jieba for word-boundary entries, pinyin-pro for pinyin entries), reached without a
 * static `node:` import so the engine still loads in a browser or a worker, where there is
 * none and the caller must supply its own.
 */
import type { createRequire as CreateRequire } from 'node:module';

/** `require` relative to this package, or undefined outside Node. */
export function nodeRequire(): NodeJS.Require | undefined {
  const builtin = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  if (builtin === undefined) return undefined;
  const { createRequire } = builtin('node:module') as { createRequire: typeof CreateRequire };
  return createRequire(import.meta.url);
}
