/**
 * @module version
 * hegui's version, from the package.json two levels above this module (in src/ and dist/ alike).
 */
// process.getBuiltinModule, not `import ... from 'node:fs'`: Node builds an ES module facade
// over all of fs's exports for an import (about 10 ms of CPU), and every command loads this
// module at its start (issue 14).
const { readFileSync } = process.getBuiltinModule('node:fs');

export const version: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
