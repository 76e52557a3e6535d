import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * HEGUI_TEST_SEED runs files and the tests in each file in an order shuffled by that seed
 * (CI sets a fresh one each run and prints it), so a test that passes only after another fails
 * there; the same seed replays the same order.
 */
const seed = process.env.HEGUI_TEST_SEED;
if (seed !== undefined && !/^\d+$/.test(seed)) throw new Error(`HEGUI_TEST_SEED must be a whole number, not "${seed}"`);

/**
 * Commands the tests run cache compiled keyword libraries in the user's cache directory unless
 * told otherwise; the suite gives them one of its own, so it never reads or leaves a cache in
 * the home directory of whoever runs it.
 */
const cacheDir = process.env.HEGUI_CACHE_DIR ?? mkdtempSync(join(tmpdir(), 'hegui-test-cache-'));

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    env: { HEGUI_CACHE_DIR: cacheDir },
    ...(seed ? { sequence: { shuffle: { files: true, tests: true }, seed: Number(seed) } } : {}),
  },
});
