// What a build was made from: a digest of every input's path, size and modification time
// (src/, web/, the build scripts, package.json, package-lock.json, tsconfig.json), kept in dist/.build-stamp by
// scripts/build.mjs. `npm start` skips a build whose stamp matches (--if-stale), and the
// built-CLI tests refuse to run a build that does not match the sources they stand beside.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Every file under `dir`, depth first, skipping build output and dependencies. */
function* filesUnder(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name === 'dist' || entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* filesUnder(path);
    else yield path;
  }
}

/** The digest of the build inputs under `root`. */
export function inputsDigest(root) {
  const hash = createHash('sha256');
  const buildScripts = ['build.mjs', 'bundle-cli.mjs', 'bundle-workers.mjs', 'build-stamp.mjs'].map((name) => join(root, 'scripts', name));
  const inputs = [...filesUnder(join(root, 'src')), ...filesUnder(join(root, 'web')), ...buildScripts, join(root, 'package.json'), join(root, 'package-lock.json'), join(root, 'tsconfig.json')];
  for (const path of inputs) {
    if (!existsSync(path)) continue;
    const { size, mtimeMs } = statSync(path);
    hash.update(`${relative(root, path)}\0${size}\0${mtimeMs}\n`);
  }
  return hash.digest('hex');
}

/** Where a build keeps its stamp. */
export const stampPath = (root) => join(root, 'dist', '.build-stamp');

/** Whether dist/ under `root` was built from the inputs as they are now. */
export function buildIsCurrent(root) {
  const stamp = stampPath(root);
  return existsSync(stamp) && readFileSync(stamp, 'utf8') === inputsDigest(root);
}
