/**
 * @module label/explicit/notice-cache
 * Notices measured and drawn before, kept on disk in the per-user cache directory
 * (`notices/` in `$HEGUI_CACHE_DIR`, else `$XDG_CACHE_HOME/hegui`, else `~/.cache/hegui`), so a
 * command that labels with a notice it has drawn before never loads the canvas (issue 14). The
 * canvas's first use of any font scans the system's font folders (about 0.15 s on a machine
 * with the CJK font packages, a path built into its native binary): in a batch of 200 JPEGs
 * that was a tenth of the run, and in a command labelling one picture most of its work.
 *
 * What is kept is exactly what the canvas gave: a line's ink box at a font size (the sizing
 * measures it), and a drawn notice's RGBA pixels for its plan and colours. So a labelled file
 * is the same byte for byte whether its notice came from the cache or the canvas.
 *
 * An entry's key names everything its value depends on: this cache's format, a digest of the
 * drawing code (the caller's functions' source text: a change to how notices are drawn misses
 * every entry drawn before it), the canvas package's version, the font file (its path, size,
 * modification time and table directory, whose per-table checksums change with any table) and
 * the entry's own parameters. The file name is a SHA-256 of the key, and the file holds the key
 * itself, which must match, and a CRC-32 of all it holds, which must too: a partly written or
 * damaged entry is drawn again and rewritten. As for the compiled keyword libraries, the
 * checksum guards against accidents, not against someone who can write the cache directory
 * (they could write a valid entry, or change the font beside it).
 *
 * Writes go to a temporary file renamed into place (two processes drawing the same notice
 * write the same bytes). The directory keeps at most `MAX_ENTRIES` entries (past that, the
 * oldest written half is removed), no drawing of more than `MAX_PIXELS_BYTES`, and no file
 * larger than that is read; a temporary file an hour old (its writer killed before the rename)
 * is removed at the next write. Entries are read only from regular files, never through a
 * symbolic link nor from a FIFO or device, and temporary files are created new (`O_EXCL`), so a
 * link planted under a name is neither followed nor written through; `notices/` itself must be a
 * directory of this user's, not a link and not writable by everyone. A directory that cannot be
 * read or written, or is not this user's, just goes without the cache; nothing fails for it, nor
 * for a missing home directory.
 *
 * Layout of an entry: `HGUINC01`, the key's length (uint32 LE), the key (UTF-8), the value,
 * the CRC-32 of everything before it (uint32 LE).
 */
import { CACHE_READ_FLAGS, userCacheDir } from '../../cache-dir.js';

// Builtins by process.getBuiltinModule (no ES module facade to build): this loads in every labelling thread.
const { closeSync, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, statSync, writeFileSync } = process.getBuiltinModule('node:fs');
const { join } = process.getBuiltinModule('node:path');
const { createHash } = process.getBuiltinModule('node:crypto');
const { crc32 } = process.getBuiltinModule('node:zlib');
const { threadId } = process.getBuiltinModule('node:worker_threads');

const MAGIC = Buffer.from('HGUINC01', 'latin1');
/** The most entries the directory keeps; past it, the oldest written half goes. */
export const MAX_ENTRIES = 512;
/** Drawings larger than this are not kept (a notice on a picture of about 8,000 pixels a side). */
export const MAX_PIXELS_BYTES = 4 * 1024 * 1024;
/** The largest entry read: a drawing of `MAX_PIXELS_BYTES` with its key and framing. */
const MAX_ENTRY_BYTES = MAX_PIXELS_BYTES + 64 * 1024;

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The cache directory, made once per process; undefined when there is none or it cannot be made. */
let directory: string | null | undefined;

function cacheDirectory(): string | undefined {
  if (directory !== undefined) return directory ?? undefined;
  directory = null;
  try {
    const base = userCacheDir();
    if (base === undefined) return undefined;
    const dir = join(base, 'notices');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (ownDirectory(dir)) directory = dir;
  } catch {
    // No cache: every notice is drawn.
  }
  return directory ?? undefined;
}

/**
 * Whether `dir` is a directory this cache may use: a directory itself, not a link to one
 * elsewhere, owned by this user, and not writable by everyone (where another user could plant
 * entries or links).
 */
function ownDirectory(dir: string): boolean {
  const stats = lstatSync(dir);
  if (!stats.isDirectory() || (stats.mode & 0o002) !== 0) return false;
  const uid = process.getuid?.();
  return uid === undefined || stats.uid === uid;
}

/** Forgets the directory made (for tests that move `HEGUI_CACHE_DIR`). */
export function resetNoticeCacheDirectory(): void {
  directory = undefined;
}

/** The start of the names of the entries drawn in the font with `fingerprint`. */
const fontPrefix = (fingerprint: string): string => `${fingerprint.slice(0, 12)}-`;

/** Where the entry for `key`, drawn in the font with `fingerprint`, lives; undefined without a cache directory. */
export function entryPath(fingerprint: string, key: string): string | undefined {
  const dir = cacheDirectory();
  return dir === undefined ? undefined : join(dir, `${fontPrefix(fingerprint)}${sha256(key).slice(0, 40)}.notice`);
}

/** Whether the cache holds anything drawn in the font with `fingerprint` (a labelling thread then need not get the canvas ready ahead). */
export function hasEntriesFor(fingerprint: string): boolean {
  const dir = cacheDirectory();
  if (dir === undefined) return false;
  try {
    const prefix = fontPrefix(fingerprint);
    return readdirSync(dir).some((name) => name.startsWith(prefix) && name.endsWith('.notice'));
  } catch {
    return false;
  }
}

/** The value stored for `key`, or undefined when there is none or it is not whole and this key's. */
export function readEntry(fingerprint: string, key: string): Buffer | undefined {
  const path = entryPath(fingerprint, key);
  if (path === undefined) return undefined;
  const data = readRegularFile(path);
  if (data === undefined) return undefined;
  const keyBytes = Buffer.from(key, 'utf8');
  const valueAt = MAGIC.length + 4 + keyBytes.length;
  if (data.length < valueAt + 4 || !data.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  if (data.readUInt32LE(MAGIC.length) !== keyBytes.length || !data.subarray(MAGIC.length + 4, valueAt).equals(keyBytes)) return undefined;
  if (crc32(data.subarray(0, data.length - 4)) !== data.readUInt32LE(data.length - 4)) return undefined;
  // Read into memory of its own (`readRegularFile`), never Node's shared pool: the value can be a view into it.
  return data.subarray(valueAt, data.length - 4);
}

/**
 * The bytes of the regular file at `path`, or undefined when it is missing, not a regular
 * file, a link, larger than any entry this cache writes (a link to /dev/zero reports no size),
 * or cannot be read whole.
 */
function readRegularFile(path: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, CACHE_READ_FLAGS);
  } catch {
    return undefined;
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile() || stats.size > MAX_ENTRY_BYTES) return undefined;
    // Its own memory, not a slice of Node's shared pool, which other buffers of the thread share.
    const data = Buffer.allocUnsafeSlow(stats.size);
    let filled = 0;
    while (filled < data.length) {
      const read = readSync(fd, data, filled, data.length - filled, filled);
      if (read === 0) return undefined;
      filled += read;
    }
    return data;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Stores `value` for `key` (temporary file, then rename); a failure only means no entry. */
export function writeEntry(fingerprint: string, key: string, value: Uint8Array): void {
  const path = entryPath(fingerprint, key);
  if (path === undefined) return;
  const keyBytes = Buffer.from(key, 'utf8');
  const head = Buffer.alloc(MAGIC.length + 4);
  MAGIC.copy(head);
  head.writeUInt32LE(keyBytes.length, MAGIC.length);
  const body = Buffer.concat([head, keyBytes, value]);
  const tail = Buffer.alloc(4);
  tail.writeUInt32LE(crc32(body));
  const temporary = `${path}.${process.pid}.${threadId}.tmp`;
  let created = false;
  try {
    // A new file or none: never through a link or over a file someone else put under this name.
    const fd = openSync(temporary, 'wx', 0o600);
    created = true;
    try {
      writeFileSync(fd, Buffer.concat([body, tail]));
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch {
    if (created) {
      try {
        rmSync(temporary, { force: true });
      } catch {
        // Left for the next write's clean-up of stale temporary files.
      }
    }
    return;
  }
  prune(path);
}

/** A temporary file older than this is left over from a writer that was killed (a write takes milliseconds). */
const STALE_TEMPORARY_MS = 60 * 60 * 1000;

/**
 * Keeps the directory at `MAX_ENTRIES` entries at most: past it, the oldest written half is
 * removed (never `kept`, the entry just written). Temporary files left by killed writers go too.
 */
function prune(kept: string): void {
  const dir = directory;
  if (!dir) return;
  try {
    const all = readdirSync(dir);
    // A temporary file an hour old is one whose writer was killed before its rename.
    const stale = Date.now() - STALE_TEMPORARY_MS;
    for (const name of all) {
      if (!name.endsWith('.tmp')) continue;
      const path = join(dir, name);
      if ((statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? Infinity) < stale) removeQuietly(path);
    }
    const names = all.filter((name) => name.endsWith('.notice'));
    if (names.length <= MAX_ENTRIES) return;
    const aged = names
      .map((name) => join(dir, name))
      .filter((path) => path !== kept)
      .map((path) => ({ path, time: statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0 }))
      .sort((a, b) => a.time - b.time);
    for (const { path } of aged.slice(0, aged.length - Math.floor(MAX_ENTRIES / 2))) removeQuietly(path);
  } catch {
    // Another process pruning at the same time: what is left is still a cache.
  }
}

/** Removes `path`; one that cannot be removed (a folder under an entry's name) does not stop the others. */
function removeQuietly(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch {
    // Left as it is.
  }
}
