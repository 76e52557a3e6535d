/**
 * @module version
 * hegui's version, from the package.json two levels above this module (in src/ and dist/ alike).
 */
import { readFileSync } from 'node:fs';

export const version: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
