/**
 * System parts some suites need (Debian's ffmpeg, exiftool, chromium, ...). When one is
 * absent the suite says so loudly and skips, so `npm test` passes on a bare machine with
 * Node alone; CI sets HEGUI_REQUIRE_ALL=1 after installing everything, and then an absent
 * part fails the run instead of skipping silently.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const seen = new Map<string, boolean>();

/**
 * True when `command` (a name on PATH or an absolute path; or whatever `probe` checks, such as
 * a Perl module) is present. Otherwise warns once,
 * naming the Debian package that brings it, or throws when HEGUI_REQUIRE_ALL is set.
 */
export function systemTool(command: string, debianPackage: string, probe?: () => boolean): boolean {
  const cached = seen.get(command);
  if (cached !== undefined) return cached;
  const present = probe ? probe() : command.startsWith('/') ? existsSync(command) : spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
  seen.set(command, present);
  if (!present) systemPartMissing(`${command} is not installed: install it with \`apt-get install ${debianPackage}\``, 'suites that need');
  return present;
}

/**
 * Reports a system part that is missing or cannot do what a test needs (a codec absent from
 * this ffmpeg build): with HEGUI_REQUIRE_ALL it throws, otherwise it warns loudly that `what`
 * is skipped.
 */
export function systemPartMissing(message: string, what = ''): void {
  if (process.env.HEGUI_REQUIRE_ALL) throw new Error(`HEGUI_REQUIRE_ALL is set and ${message}`);
  console.warn(`\n!!! SKIPPING ${what ? `${what} ` : ''}${message}\n`);
}

/** True when Perl can load `module` (exiftool needs Archive::Zip to read inside DOCX/XLSX/PPTX). */
export function perlModule(module: string, debianPackage: string): boolean {
  return systemTool(`Perl module ${module}`, debianPackage, () => spawnSync('perl', [`-M${module}`, '-e', '1']).status === 0);
}
