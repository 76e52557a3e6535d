/**
 * `--help` on a benchmark script prints what it measures and how to run it, and runs nothing:
 * some of them take minutes and write hundreds of megabytes into `.bench-data/`.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { headerComment } from '../bench/usage.js';

const root = join(import.meta.dirname, '..');
const benchDir = join(root, 'bench');

/** Scripts meant to be run: each folder's index.ts and every script whose header says how to run it. */
function entryScripts(): string[] {
  const found = ['run.ts'];
  for (const folder of readdirSync(benchDir, { withFileTypes: true })) {
    if (!folder.isDirectory()) continue;
    for (const name of readdirSync(join(benchDir, folder.name))) {
      if (!name.endsWith('.ts') || name.endsWith('.d.ts')) continue;
      const header = headerComment(pathToFileURL(join(benchDir, folder.name, name)).href);
      if (name === 'index.ts' || /npx tsx bench\/|^Run:/m.test(header)) found.push(`${folder.name}/${name}`);
    }
  }
  return found;
}

function runScript(script: string, ...args: string[]): { status: number | null; stdout: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(benchDir, script), ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout };
}

describe('benchmark scripts: --help', () => {
  it('every script meant to be run answers --help before doing any work', () => {
    const scripts = entryScripts();
    expect(scripts.length).toBeGreaterThan(20);
    const missing = scripts.filter((script) => !readFileSync(join(benchDir, script), 'utf8').includes('usageIfAsked(import.meta.url);'));
    expect(missing).toEqual([]);
    for (const script of scripts) expect(headerComment(pathToFileURL(join(benchDir, script)).href), relative(root, join(benchDir, script))).not.toBe('');
  });

  it('prints the script header without its comment markers and exits 0, with -h too', () => {
    const help = runScript('label/visible.ts', '--help');
    expect(help.status).toBe(0);
    expect(help.stdout.startsWith('@module bench/label/visible\n')).toBe(true);
    expect(help.stdout).toContain('Target: hegui at least 3x faster.');
    expect(help.stdout).not.toMatch(/^\s*\*/m);
    // Nothing ran: no table, no generated inputs reported.
    expect(help.stdout).not.toContain('mogrify / hegui');
    expect(runScript('label/visible.ts', '-h').stdout).toBe(help.stdout);
  });

  it('npm run bench -- --help describes the runner and starts no benchmark', () => {
    const help = runScript('run.ts', '--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('npm run bench');
    expect(help.stdout).not.toContain('=== bench/');
  });

  it('npm run bench checks the names before the first option, and passes the options on', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', join(benchDir, 'run.ts'), 'nosuch', '--spaced', '1'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(result.status).toBe(2);
    // `1` is an option's value, not a benchmark's name.
    expect(result.stderr).toContain('unknown benchmark nosuch;');
    expect(result.stderr).not.toContain('nosuch, 1');
  });
});
