#!/usr/bin/env node
// Builds the package: TypeScript to dist/, every non-TypeScript file under src/ (rules data,
// fonts, ...) copied beside it, the CLI bundle (scripts/bundle-cli.mjs) over dist/cli/main.js
// and dist/cli/label-implicit.js, the image pool's thread as one file
// (scripts/bundle-workers.mjs), and the dashboard to web/dist/.
//
// --if-stale skips the build when its inputs are the ones the last build saw (`npm start`
// then starts at once): the stamp in dist/ holds a digest of every input's path, size and
// modification time (scripts/build-stamp.mjs), so an edited, added or removed file triggers a
// rebuild.
// --quiet prints only warnings, errors and the one line that says what was done.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { inputsDigest, stampPath } from './build-stamp.mjs';
import { dirname, join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const bin = (name) => join(root, 'node_modules', '.bin', name);
const quiet = process.argv.includes('--quiet');
const ifStale = process.argv.includes('--if-stale');
const log = (line) => quiet || console.log(line);
const stampFile = stampPath(root);
const started = performance.now();

const digest = inputsDigest(root);
const seconds = () => ((performance.now() - started) / 1000).toFixed(2);
if (ifStale && existsSync(stampFile) && existsSync(join(root, 'web', 'dist', 'index.html')) && readFileSync(stampFile, 'utf8') === digest) {
  console.log(`build: up to date (checked in ${seconds()} s)`);
  process.exit(0);
}

rmSync(join(root, 'dist'), { recursive: true, force: true });
log('build: tsc');
execFileSync(bin('tsc'), ['-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });

function copyAssets(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) copyAssets(path);
    else if (!/\.(ts|tsx)$/.test(name)) cpSync(path, join(root, 'dist', relative(join(root, 'src'), path)));
  }
}
copyAssets(join(root, 'src'));
// The notice cache's digest of how notices are drawn: a SHA-256 of image-render.ts, which the
// module reads itself when the sources run; tsc's copy and the thread bundle differ as code, so
// the build writes the digest of their source beside them (src/label/explicit/notice-cache.ts).
const drawing = join(root, 'src', 'label', 'explicit', 'image-render.ts');
writeFileSync(join(root, 'dist', 'label', 'explicit', 'notice-drawing.sha256'), `${createHash('sha256').update(readFileSync(drawing, 'utf8')).digest('hex')}\n`);
// The CLI's start and the implicit-label commands as one esbuild bundle each, over tsc's files
// (issue 14: a command then loads a handful of files, not some eighty modules).
log('build: CLI bundle');
execFileSync(process.execPath, [join(root, 'scripts', 'bundle-cli.mjs'), '--quiet'], { cwd: root, stdio: 'inherit' });
// The image pool's thread as one file (scripts/bundle-workers.mjs): a batch waits for it to start.
log('build: worker bundle');
execFileSync(process.execPath, [join(root, 'scripts', 'bundle-workers.mjs'), '--quiet'], { cwd: root, stdio: 'inherit' });
log('build: rules data');
execFileSync(process.execPath, ['--input-type=module', '-e', "const { writeCompiledInstruments } = await import(process.argv[1]); writeCompiledInstruments();", join(root, 'dist', 'rules', 'load.js')], { cwd: root, stdio: 'inherit' });

log('build: dashboard');
execFileSync(bin('vite'), ['build', 'web', '--logLevel', quiet ? 'warn' : 'info'], { cwd: root, stdio: 'inherit' });
writeFileSync(stampFile, digest);
console.log(`build: done in ${seconds()} s`);
