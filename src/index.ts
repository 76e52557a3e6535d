/**
 * @module hegui
 * The whole toolkit, one namespace per capability. Each is also its own subpath export
 * (`hegui/rules`, `hegui/label`, ...), which is what most code should import.
 */
export * as audit from './audit/index.js';
export * as calendar from './calendar/index.js';
export * as gateway from './gateway/index.js';
export * as label from './label/index.js';
export * as rules from './rules/index.js';
export * as safety from './safety/index.js';
export * as store from './store/index.js';
export { ExitCode, HeguiError, InvalidInputError, NotFoundError } from './errors.js';
