/**
 * @module cache-dir
 * The per-user cache directory hegui's caches share: `$HEGUI_CACHE_DIR`, else
 * `$XDG_CACHE_HOME/hegui`, else `~/.cache/hegui` (the compiled example keyword library, the
 * notices' measured and drawn pixels). Nothing here creates it. A relative `XDG_CACHE_HOME` is
 * ignored, as the XDG base directory rules say; with no home directory either (a container run
 * under a user id the system does not know, with no `HOME`) there is none, and the caches are
 * simply not used.
 */
// Builtins by process.getBuiltinModule: this module loads in commands that count their start-up (issue 14).
const { isAbsolute, join } = process.getBuiltinModule('node:path');
const { homedir } = process.getBuiltinModule('node:os');
const { constants } = process.getBuiltinModule('node:fs');

/**
 * How a cache file is opened for reading: never through a symbolic link, and never waiting (a
 * FIFO planted under a cache file's name would block the read for ever). What is opened must
 * then be a regular file (a link to /dev/zero would report no size and never end), which the
 * reader checks with `fstat`.
 */
export const CACHE_READ_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/** The per-user cache directory, or undefined when there is no home directory to put it in. */
export function userCacheDir(env: NodeJS.ProcessEnv = process.env, home: () => string = homedir): string | undefined {
  if (env.HEGUI_CACHE_DIR) return env.HEGUI_CACHE_DIR;
  if (env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME)) return join(env.XDG_CACHE_HOME, 'hegui');
  let folder: string;
  try {
    // os.homedir() throws when HOME is unset and the user id has no passwd entry.
    folder = home();
  } catch {
    return undefined;
  }
  return folder ? join(folder, '.cache', 'hegui') : undefined;
}
