/**
 * @module cli/scan-command
 * The entry point `hegui` loads for `hegui scan`. In the source tree it only re-exports
 * `scan.ts`; the build replaces its compiled file with an esbuild bundle of `scan.ts` and the
 * safety modules it reaches (scripts/bundle-cli.mjs), so the command does not resolve and
 * compile some sixty modules one by one at every start (issue 14). It is a file of its own,
 * not `scan.js` itself, because other commands (keywords, eval) import `scan.js` together with
 * tsc's safety modules: loading the bundle there would give them a second copy of the engine,
 * whose classes (FoldTable, the errors) their `instanceof` checks would not recognise.
 */
export { registerScan } from './scan.js';
