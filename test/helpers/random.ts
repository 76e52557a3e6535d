/**
 * Deterministic pseudo-random numbers for tests, fuzzing and benchmark data: the same seed
 * gives the same sequence, so a failing case can be replayed from its seed.
 */

export { seededRandom } from '../../src/stats/index.js';
