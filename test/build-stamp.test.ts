/**
 * The build stamp (scripts/build-stamp.mjs) changes with every build input, the build scripts
 * included: a build made before an edit of the bundler is stale, so `npm start` rebuilds and the
 * built-CLI tests refuse it.
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inputsDigest } from '../scripts/build-stamp.mjs';

const root = mkdtempSync(join(tmpdir(), 'hegui-stamp-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function write(path: string, text: string, seconds: number): void {
  const full = join(root, path);
  mkdirSync(join(full, '..'), { recursive: true });
  writeFileSync(full, text);
  utimesSync(full, seconds, seconds);
}

describe('build stamp', () => {
  write('src/a.ts', 'export const a = 1;\n', 1_000);
  write('web/index.html', '<!doctype html>\n', 1_000);
  write('package.json', '{}\n', 1_000);
  for (const name of ['build.mjs', 'bundle-cli.mjs', 'build-stamp.mjs']) write(`scripts/${name}`, '// build\n', 1_000);

  it.each(['src/a.ts', 'scripts/bundle-cli.mjs', 'scripts/build.mjs', 'scripts/build-stamp.mjs', 'package.json'])('changes when %s changes', (path) => {
    const before = inputsDigest(root);
    write(path, '// changed\n', 2_000);
    expect(inputsDigest(root)).not.toBe(before);
  });

  it('does not change for a script that is not a build input', () => {
    const before = inputsDigest(root);
    write('scripts/fuzz-labels.ts', '// fuzz\n', 3_000);
    expect(inputsDigest(root)).toBe(before);
  });
});
