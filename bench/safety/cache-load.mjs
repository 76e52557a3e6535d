#!/usr/bin/env node
/**
 * `node bench/safety/cache-load.mjs ROOT LIB [--print]`: imports `ROOT/dist/safety/library-cache.js`
 * (a built checkout: this one or a baseline) and loads the keyword library LIB once through its
 * compiled-library cache, in a fresh process. For instruction counts of the cache load, whole
 * process: run once to write the cache, then
 * `valgrind --tool=callgrind node bench/safety/cache-load.mjs ROOT LIB` (see bench/RESULTS.md).
 * With `--print`, prints the load's wall time in milliseconds.
 */
import { performance } from 'node:perf_hooks';

const [root, library] = process.argv.slice(2);
if (root === undefined || library === undefined) {
  process.stderr.write('usage: cache-load.mjs ROOT LIB [--print]\n');
  process.exit(2);
}
const { loadCompiledLibraryFile } = await import(`${root}/dist/safety/library-cache.js`);
const start = performance.now();
await loadCompiledLibraryFile(library);
if (process.argv.includes('--print')) console.log((performance.now() - start).toFixed(1));
