/**
 * @module cache-dir
 * The per-user cache directory hegui's caches share: `$HEGUI_CACHE_DIR`, else
 * `$XDG_CACHE_HOME/hegui`, else `~/.cache/hegui` (the compiled example keyword library, the
 * notices' measured and drawn pixels). Nothing here creates it.
 */
// Builtins by process.getBuiltinModule: this module loads in commands that count their start-up (issue 14).
const { join } = process.getBuiltinModule('node:path');
const { homedir } = process.getBuiltinModule('node:os');

/** The per-user cache directory, or undefined when there is no home directory to put it in. */
export function userCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.HEGUI_CACHE_DIR) return env.HEGUI_CACHE_DIR;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'hegui');
  const home = homedir();
  return home ? join(home, '.cache', 'hegui') : undefined;
}
