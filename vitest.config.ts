import { defineConfig } from 'vitest/config';

/**
 * HEGUI_TEST_SEED runs files and the tests in each file in an order shuffled by that seed
 * (CI sets a fresh one each run and prints it), so a test that passes only after another fails
 * there; the same seed replays the same order.
 */
const seed = process.env.HEGUI_TEST_SEED;
if (seed !== undefined && !/^\d+$/.test(seed)) throw new Error(`HEGUI_TEST_SEED must be a whole number, not "${seed}"`);

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    ...(seed ? { sequence: { shuffle: { files: true, tests: true }, seed: Number(seed) } } : {}),
  },
});
