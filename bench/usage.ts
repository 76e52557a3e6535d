/**
 * @module bench/usage
 * `--help` (or `-h`) on any benchmark script prints the script's own header comment (what it
 * measures, its options and how to run it) and exits, instead of starting a run that can take
 * minutes. Each script calls `usageIfAsked(import.meta.url)` before it does any work.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The first documentation comment of the file at `moduleUrl`, without its comment markers. */
export function headerComment(moduleUrl: string): string {
  const text = readFileSync(fileURLToPath(moduleUrl), 'utf8');
  const comment = /\/\*\*([\s\S]*?)\*\//.exec(text)?.[1] ?? '';
  return comment
    .split('\n')
    .map((line) => line.replace(/^\s*\* ?/, ''))
    .join('\n')
    .trim();
}

/** Prints the calling script's header comment and exits when `--help` or `-h` is among its arguments. */
export function usageIfAsked(moduleUrl: string): void {
  if (!process.argv.slice(2).some((arg) => arg === '--help' || arg === '-h')) return;
  process.stdout.write(`${headerComment(moduleUrl) || 'This benchmark has no description.'}\n`);
  process.exit(0);
}
