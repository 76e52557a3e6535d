/**
 * @module cli/label-implicit
 * The entry point `hegui` loads for the implicit-label subcommands (`label embed|read|verify|
 * propagate|strip|keygen`). In the source tree it only re-exports `label.ts`; the build replaces
 * its compiled file with an esbuild bundle of `label.ts` and the label library modules it
 * reaches (one file, plus one chunk per codec that is imported only when a file of that format
 * is met), so the command does not resolve and compile some forty modules one by one at every
 * start (issue 14; `scripts/build.mjs`, docs/architecture.md "CLI bundle").
 */
export { registerLabel } from './label.js';
