#!/usr/bin/env node
// Builds the package: TypeScript to dist/, every non-TypeScript file under src/ (rules data,
// fonts, ...) copied beside it, and the dashboard to web/dist/.
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const bin = (name) => join(root, 'node_modules', '.bin', name);
const quiet = process.argv.includes('--quiet');
const log = (line) => quiet || console.log(line);

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

log('build: dashboard');
execFileSync(bin('vite'), ['build', 'web', '--logLevel', quiet ? 'warn' : 'info'], { cwd: root, stdio: 'inherit' });
