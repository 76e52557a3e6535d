import { spawnSync } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { evasionSet } from '../../bench/safety/evasion.js';
import { syntheticKeywords } from '../../bench/safety/data.js';
import { assembleCompiled, compileLibrary, compiledParts } from './compile.js';
import type { CompiledLibrary } from './compile.js';
import type { KeywordLibrary } from './library.js';
import { createLibrary, serialiseLibrary } from './library.js';
import { cacheKey, COMPILE_CACHE_FORMAT, decodeCompiled, encodeCompiled, libraryCachePath, exampleCacheName, loadCompiledExample, loadCompiledLibraryFile, readWholeFile } from './library-cache.js';
import { exampleLibrary } from './example-library.js';
import { scanText } from './scanner.js';
import { version } from '../version.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hegui-cache-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const keywords = syntheticKeywords(300, 14);
const evasions = evasionSet(keywords, 4, 14);

/** A library with every kind of entry the compiled form records: pinyin, noise, repeats, exception phrases, allow words. */
function library(): KeywordLibrary {
  const lib = createLibrary('cache-test', { updatedAt: new Date('2026-01-01T00:00:00Z') });
  lib.entries = keywords.map((keyword, i) => ({ keyword, risk: 'A1.8', mode: i % 3 === 0 ? 'pinyin' : 'literal', severity: 'high' }));
  lib.entries.push({ keyword: '台独', risk: 'A1.2', mode: 'literal', severity: 'high', allow: ['平台独家'] });
  lib.entries.push({ keyword: '炸炸弹', risk: 'A1.4', mode: 'literal', severity: 'high', noise: ['space'] });
  lib.entries.push({ keyword: '(代|办)理?\\d*张?发票', risk: 'A1.8', mode: 'regex', severity: 'low' });
  lib.allow = ['打击赌博网站', '𠀋𠀋'];
  return lib;
}

const texts = [...evasions.map((e) => e.text), '平台独家发布，台独', '炸 炸 弹 与 炸，炸弹', '代理3张发票', '𠀋𠀋 emoji 😀 ㎏ ｆｕｌｌ'];

function matches(compiled: CompiledLibrary): unknown[] {
  return texts.map((text) => scanText(compiled, text).map((m) => [m.keyword, m.start, m.end, m.confidence, m.transforms]));
}

/** A library file loaded once, so its cache is written: the cache's bytes and key, and what a scan finds. */
async function cachedLibrary(): Promise<{ path: string; expected: unknown[]; cache: string; good: Buffer; key: string }> {
  const lib = library();
  const path = await writeLibrary(lib);
  await loadCompiledLibraryFile(path);
  const cache = libraryCachePath(path);
  return { path, expected: matches(compileLibrary(lib)), cache, good: await readFile(cache), key: await cacheKey(await readFile(path)) };
}

async function writeLibrary(lib: KeywordLibrary): Promise<string> {
  const path = join(dir, 'lib.json');
  await writeFile(path, serialiseLibrary(lib));
  return path;
}

describe('compiled-library cache', () => {
  it('writes a cache beside the library and restores a library that matches as the uncompiled one does', async () => {
    const lib = library();
    const path = await writeLibrary(lib);
    const expected = matches(compileLibrary(lib));
    expect(expected.flat().length).toBeGreaterThan(evasions.length / 2);
    const first = await loadCompiledLibraryFile(path);
    expect(matches(first)).toEqual(expected);
    const cache = libraryCachePath(path);
    expect((await stat(cache)).size).toBeGreaterThan(0);
    const bytes = await readFile(cache);
    const restored = await decodeCompiled(bytes, await cacheKey(await readFile(path)));
    expect(restored).toBeDefined();
    expect(matches(restored as CompiledLibrary)).toEqual(expected);
    // The arrays the cache leaves out and derives again are the compiled ones, and so are the entries.
    const compiled = compileLibrary(lib);
    for (const name of ['fail', 'reports', 'report', 'depth', 'failFlagged', 'childCount', 'firstChild', 'terminal'] as const) {
      expect(Array.from(restored?.automaton[name] ?? []), name).toEqual(Array.from(compiled.automaton[name]));
    }
    expect(restored?.entries).toEqual(compiled.entries);
    expect(matches(await loadCompiledLibraryFile(path))).toEqual(expected);
    // The restored library is what the cache file says: a second load rewrites nothing.
    expect((await readFile(cache)).equals(bytes)).toBe(true);
    expect((await readdir(dir)).sort()).toEqual(['lib.json', 'lib.json.hegui-cache']);
  });

  it('a changed library misses the cache and is recompiled', async () => {
    const lib = library();
    const path = await writeLibrary(lib);
    await loadCompiledLibraryFile(path);
    lib.entries.push({ keyword: '新加的词', risk: 'A1.8', mode: 'literal', severity: 'high' });
    await writeFile(path, serialiseLibrary(lib));
    const reloaded = await loadCompiledLibraryFile(path);
    expect(scanText(reloaded, '这里有新加的词').map((m) => m.keyword)).toEqual(['新加的词']);
    expect(await decodeCompiled(await readFile(libraryCachePath(path)), await cacheKey(await readFile(path)))).toBeDefined();
  });

  it('ignores a corrupted, truncated, empty or forged cache and rebuilds it', async () => {
    const { path, expected, cache, good, key } = await cachedLibrary();

    const flipped = Buffer.from(good);
    const at = Math.floor(flipped.length * 0.7);
    flipped[at] = (flipped[at] as number) ^ 0x55;
    const other = createLibrary('other');
    other.entries = [{ keyword: '别的', risk: 'A1.8', mode: 'literal', severity: 'high' }];
    // A valid cache of another library under this library's name.
    const forged = await encodeCompiled(compileLibrary(other), await cacheKey(Buffer.from(serialiseLibrary(other))));
    // A cache whose key was rewritten to this library's: the checksum no longer holds.
    const rekeyed = Buffer.from(forged.toString('latin1').replace(/"key":"[^"]+"/, `"key":"${key}"`), 'latin1');
    // One bit flipped in the header, the keywords, the automaton, the padding or the checksum.
    const flips = Object.fromEntries([0.001, 0.02, 0.3, 0.5, 0.9, 0.999].map((share) => {
      const copy = Buffer.from(good);
      const i = Math.min(copy.length - 1, Math.max(12, Math.floor(copy.length * share)));
      copy[i] = (copy[i] as number) ^ 0x01;
      return [`bit flipped at ${share}`, copy];
    }));
    const bad = { flipped, ...flips, truncated: good.subarray(0, Math.floor(good.length / 2)), 'last byte cut': good.subarray(0, good.length - 1), 'one byte more': Buffer.concat([good, Buffer.alloc(1)]), empty: Buffer.alloc(0), garbage: Buffer.from('HGUICL02 not a cache at all, padded out to be longer than a digest'), forged, rekeyed };
    for (const [name, bytes] of Object.entries(bad)) {
      expect(await decodeCompiled(bytes, key), name).toBeUndefined();
      await writeFile(cache, bytes);
      expect(matches(await loadCompiledLibraryFile(path)), name).toEqual(expected);
      expect(await decodeCompiled(await readFile(cache), key), name).toBeDefined();
    }
  });

  it('reads no cache through a link, nor from a FIFO or a device: the library is compiled and its cache written anew', async () => {
    const { path, expected, cache, key } = await cachedLibrary();
    const elsewhere = join(dir, 'elsewhere.hegui-cache');
    await writeFile(elsewhere, await readFile(cache));
    // A link to a good cache elsewhere, to /dev/zero (no size, no end), and a FIFO (a read would wait for ever).
    const planted: [string, () => Promise<void>][] = [
      ['a link to a cache', () => symlink(elsewhere, cache)],
      ['a link to /dev/zero', () => symlink('/dev/zero', cache)],
      ...(spawnSync('mkfifo', ['--help']).status === 0 ? [['a FIFO', async () => void spawnSync('mkfifo', [cache])] as [string, () => Promise<void>]] : []),
    ];
    for (const [name, plant] of planted) {
      await rm(cache, { force: true });
      await plant();
      expect(matches(await loadCompiledLibraryFile(path)), name).toEqual(expected);
      // The cache written anew is a file of its own, in place of what was planted.
      expect((await lstat(cache)).isFile(), name).toBe(true);
      expect(await decodeCompiled(await readFile(cache), key), name).toBeDefined();
    }
  });

  it('makes a restored entry only when asked, the same object each time, as the compiled one', async () => {
    const lib = library();
    const path = await writeLibrary(lib);
    await loadCompiledLibraryFile(path);
    const restored = (await loadCompiledLibraryFile(path)) as CompiledLibrary;
    const last = lib.entries.length - 1;
    for (const i of [last, 0, 1, last - 1, last - 2]) expect(restored.entry(i), String(i)).toEqual(lib.entries[i]);
    expect(restored.entry(0)).toBe(restored.entry(0));
    expect(restored.entries[last]).toBe(restored.entry(last));
    for (const i of [-1, lib.entries.length, 1.5, Number.NaN]) expect(restored.entry(i), String(i)).toBeUndefined();
    expect(restored.entries).toEqual(lib.entries);
    expect(restored.regexes.map((r) => r.entry)).toEqual([lib.entries.length - 1]);
  });

  it('rejects a cache whose checksum holds but whose arrays do not fit (more bytes, broken entry columns, an older format)', async () => {
    const { crc32 } = await import('node:zlib');
    const { path, expected, cache, good, key } = await cachedLibrary();
    /** `body` closed with a checksum that holds. */
    const close = (body: Buffer): Buffer => {
      const check = Buffer.alloc(4);
      check.writeUInt32LE(crc32(body));
      return Buffer.concat([body, check]);
    };
    const body = good.subarray(0, good.length - 4);
    expect(close(Buffer.from(body)).equals(good)).toBe(true);
    const headerLength = good.readUInt32LE(8);
    const header = JSON.parse(good.subarray(12, 12 + headerLength).toString('utf8')) as { arrays: [string, string, number, number?][]; risks: string[] };
    /** The header rewritten by `edit`, padded with spaces to its old length so the arrays stay where they are. */
    const withHeader = (edit: (text: string) => string): Buffer => {
      const text = edit(good.subarray(12, 12 + headerLength).toString('utf8'));
      const bytes = Buffer.from(text, 'utf8');
      expect(bytes.length).toBeLessThanOrEqual(headerLength);
      return close(Buffer.concat([body.subarray(0, 12), bytes, Buffer.alloc(headerLength - bytes.length, 0x20), body.subarray(12 + headerLength)]));
    };
    // Where an array starts in the file.
    const offsetOf = (name: string): number => {
      let offset = 12 + headerLength;
      for (const [n, type, length, fill] of header.arrays) {
        // An array of one value is not stored.
        if (fill !== undefined) continue;
        offset += (8 - (offset % 8)) % 8;
        if (n === name) return offset;
        offset += length * ({ i32: 4, u16: 2, u8: 1 } as Record<string, number>)[type]!;
      }
      throw new Error(name);
    };
    const patched = (name: string, at: number, value: number, bytes: 1 | 4): Buffer => {
      const copy = Buffer.from(body);
      if (bytes === 1) copy[offsetOf(name) + at] = value;
      else copy.writeInt32LE(value, offsetOf(name) + at * 4);
      return close(copy);
    };
    expect(header.arrays.find(([n]) => n === 'repeat.variant')?.[2]).toBeGreaterThan(1);
    const bad = {
      'eight bytes more': close(Buffer.concat([body, Buffer.alloc(8)])),
      'a risk out of range': patched('entry.risk', 3, header.risks.length, 1),
      'a mode out of range': patched('entry.mode', 3, 9, 1),
      'a mode just out of range': patched('entry.mode', header.arrays.find(([n]) => n === 'entry.mode')![2] - 1, 3, 1),
      'a severity out of range': patched('entry.severity', 0, 3, 1),
      'keyword ends going back': patched('entry.keywordEnd', 5, 0, 4),
      'keyword ends going back near the last': patched('entry.keywordEnd', header.arrays.find(([n]) => n === 'entry.keywordEnd')![2] - 2, 0, 4),
      'a keyword ending before the text begins': patched('entry.keywordEnd', 0, -1, 4),
      'repeats out of order': patched('repeat.from', 1, 1 << 30, 4),
      'a variant with repeats listed twice': patched('repeat.variant', 1, good.readInt32LE(offsetOf('repeat.variant')), 4),
      'the last keyword cut short': withHeader((text) => text.replace(/"entry\.keywordText","u16",(\d+)/, (_, n: string) => `"entry.keywordText","u16",${Number(n) - 1}`)),
      // Room made by shortening the library's name, so the arrays stay where they are.
      'an array of one value its type cannot hold': withHeader((text) => text.replace('"name":"cache-test"', '"name":""').replace(/("variantWords","u8",\d+),0\]/, '$1,256]')),
      'an array of one value, of a fractional length': withHeader((text) => text.replace('"name":"cache-test"', '"name":""').replace(/("variantWords","u8",)(\d+),0\]/, '$1$2.5,0]')),
      'format 3': close(Buffer.concat([Buffer.from('HGUICL03', 'latin1'), body.subarray(8)])),
      'format 2': close(Buffer.concat([Buffer.from('HGUICL02', 'latin1'), body.subarray(8)])),
    };
    for (const [name, bytes] of Object.entries(bad)) {
      expect(await decodeCompiled(bytes, key), name).toBeUndefined();
      await writeFile(cache, bytes);
      expect(matches(await loadCompiledLibraryFile(path)), name).toEqual(expected);
      expect((await readFile(cache)).equals(good), name).toBe(true);
    }
  });

  it('stores an array of one value as that value, and rejects a cache whose one value is out of range', async () => {
    const { crc32 } = await import('node:zlib');
    const lib = library();
    lib.entries = lib.entries.filter((entry) => entry.risk === 'A1.8' && entry.severity === 'high');
    const key = await cacheKey(Buffer.from(serialiseLibrary(lib)));
    const good = await encodeCompiled(compileLibrary(lib), key);
    const headerLength = good.readUInt32LE(8);
    const text = good.subarray(12, 12 + headerLength).toString('utf8');
    const header = JSON.parse(text) as { arrays: [string, string, number, number?][] };
    const fills = Object.fromEntries(header.arrays.filter((a) => a[3] !== undefined).map(([name, , , fill]) => [name, fill]));
    expect(fills).toMatchObject({ 'entry.risk': 0, 'entry.severity': 2, variantWords: 0 });
    const restored = (await decodeCompiled(good, key)) as CompiledLibrary;
    expect(restored.entries).toEqual(lib.entries);
    expect(matches(restored)).toEqual(matches(compileLibrary(lib)));
    for (const [column, value] of [['entry.risk', 1], ['entry.severity', 9]] as const) {
      const edited = Buffer.from(text.replace(new RegExp(`("${column.replace('.', '\\.')}","u\\d+",\\d+),\\d\\]`), `$1,${value}]`), 'utf8');
      expect(edited.length, column).toBe(headerLength);
      expect(edited.equals(good.subarray(12, 12 + headerLength)), column).toBe(false);
      const body = Buffer.concat([good.subarray(0, 12), edited, good.subarray(12 + headerLength, good.length - 4)]);
      const check = Buffer.alloc(4);
      check.writeUInt32LE(crc32(body));
      expect(await decodeCompiled(Buffer.concat([body, check]), key), column).toBeUndefined();
    }
    // A one-value array longer than the file's bytes (a header that would have it allocate a gigabyte) is refused.
    const huge = text.replace(/("variantWords","u8",)\d+,0\]/, '$1999999999,0]');
    expect(huge).not.toBe(text);
    const headerBytes = Buffer.from(huge, 'utf8');
    const lengthField = Buffer.alloc(4);
    lengthField.writeUInt32LE(headerBytes.length);
    const padded = Buffer.concat([good.subarray(0, 8), lengthField, headerBytes]);
    // The arrays keep their 8-byte alignment: pad the header's end as the original's offset was.
    const pad = Buffer.alloc((((12 + headerLength) % 8) - (padded.length % 8) + 8) % 8);
    const body = Buffer.concat([padded, pad, good.subarray(12 + headerLength, good.length - 4)]);
    const check = Buffer.alloc(4);
    check.writeUInt32LE(crc32(body));
    expect(await decodeCompiled(Buffer.concat([body, check]), key)).toBeUndefined();
  });

  it('keeps lengths and depths in 8 bits when they fit and in 16 when a keyword is longer than 255 characters', async () => {
    const short = library();
    const long = library();
    // 300 characters, none the same as the one before it (repeats would collapse).
    const word = Array.from({ length: 300 }, (_, i) => '长词短句'[i % 4]).join('');
    long.entries.push({ keyword: word, risk: 'A1.8', mode: 'literal', severity: 'high' });
    for (const [lib, Type] of [[short, Uint8Array], [long, Uint16Array]] as const) {
      const compiled = compileLibrary(lib);
      const key = await cacheKey(Buffer.from(serialiseLibrary(lib)));
      const restored = (await decodeCompiled(await encodeCompiled(compiled, key), key)) as CompiledLibrary;
      for (const library of [compiled, restored]) {
        for (const array of [library.patternLength, library.variantLength, library.automaton.keywordLive]) expect(array).toBeInstanceOf(Type);
      }
      expect(Array.from(restored.automaton.keywordLive)).toEqual(Array.from(compiled.automaton.keywordLive));
      expect(matches(restored)).toEqual(matches(compiled));
    }
    const text = `前面${word}后面`;
    expect(scanText(compileLibrary(long), text).map((m) => [m.keyword, m.start, m.end])).toEqual([[word, 2, 302]]);
  });

  it('a library rewritten with the same size and times still misses the cache', async () => {
    const lib = library();
    const path = await writeLibrary(lib);
    // Whole seconds, so that setting the time again gives the very same time.
    const time = new Date('2026-01-01T00:00:00Z');
    await utimes(path, time, time);
    await loadCompiledLibraryFile(path);
    const before = await stat(path);
    // The same length: one keyword's character swapped for another of the same UTF-8 length.
    const text = serialiseLibrary(lib).replace('"炸炸弹"', '"炸炸药"');
    expect(Buffer.byteLength(text)).toBe(before.size);
    await writeFile(path, text);
    await utimes(path, time, time);
    const after = await stat(path);
    expect([after.size, after.mtimeMs, after.ino]).toEqual([before.size, before.mtimeMs, before.ino]);
    const reloaded = await loadCompiledLibraryFile(path);
    expect(scanText(reloaded, '炸 炸 药').map((m) => m.keyword)).toEqual(['炸炸药']);
    expect(scanText(reloaded, '炸炸弹')).toEqual([]);
  });

  it('keys a library file larger than one hashing chunk by all of its bytes', async () => {
    const lib = library();
    const path = join(dir, 'lib.json');
    // 3 MB of trailing white space (still JSON), so the keyword edited below lies past the first chunks.
    const text = (library: KeywordLibrary): string => `${' '.repeat(3 << 20)}${serialiseLibrary(library)}`;
    await writeFile(path, text(lib));
    const cache = libraryCachePath(path);
    await loadCompiledLibraryFile(path);
    const written = await stat(cache);
    expect(written.size).toBeGreaterThan(0);
    // A hit: the cache is used, not written again (a rewrite renames a new file into place).
    expect(matches(await loadCompiledLibraryFile(path))).toEqual(matches(compileLibrary(lib)));
    expect((await stat(cache)).ino).toBe(written.ino);
    expect(await decodeCompiled(await readFile(cache), await cacheKey(await readFile(path)))).toBeDefined();
    // The same size, one keyword changed far into the file: a miss.
    const edited = structuredClone(lib);
    (edited.entries.find((e) => e.keyword === '炸炸弹') as KeywordLibrary['entries'][number]).keyword = '炸炸药';
    expect(Buffer.byteLength(text(edited))).toBe(Buffer.byteLength(text(lib)));
    await writeFile(path, text(edited));
    expect(scanText(await loadCompiledLibraryFile(path), '炸 炸 药').map((m) => m.keyword)).toEqual(['炸炸药']);
    expect((await stat(cache)).ino).not.toBe(written.ino);
    expect(await decodeCompiled(await readFile(cache), await cacheKey(await readFile(path)))).toBeDefined();
  });

  it('reads a whole file in one go, an empty one, and refuses a folder', async () => {
    const path = join(dir, 'bytes');
    const content = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));
    await writeFile(path, content);
    const own = (size: number): Buffer => Buffer.allocUnsafeSlow(size);
    expect((await readWholeFile(path, own)).equals(content)).toBe(true);
    const shared = await readWholeFile(path, (size) => new Uint8Array(new SharedArrayBuffer(size)));
    expect(shared.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(Buffer.from(shared).equals(content)).toBe(true);
    await writeFile(path, '');
    expect((await readWholeFile(path, own)).length).toBe(0);
    await mkdir(join(dir, 'folder'));
    await expect(readWholeFile(join(dir, 'folder'), own)).rejects.toMatchObject({ code: 'EISDIR' });
    await expect(readWholeFile(join(dir, 'missing'), own)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a cache whose scan short-cut tables do not fit its automaton, though its checksum holds', async () => {
    const lib = library();
    const key = await cacheKey(Buffer.from(serialiseLibrary(lib)));
    const parts = compiledParts(compileLibrary(lib));
    if (parts === undefined) throw new Error('no parts');
    expect(await decodeCompiled(await encodeCompiled(assembleCompiled(parts), key), key)).toBeDefined();
    const bad = {
      'filter not a power of two': { ...parts, pairFilter: new Int32Array(33) },
      'filter empty': { ...parts, pairFilter: new Int32Array(0) },
      'filter too large': { ...parts, pairFilter: new Int32Array(1 << 18) },
      'glued table short': { ...parts, leftGlued: parts.leftGlued.subarray(1) },
    };
    for (const [name, broken] of Object.entries(bad)) expect(await decodeCompiled(await encodeCompiled(assembleCompiled(broken), key), key), name).toBeUndefined();
  });

  it('misses a cache written for another hegui compile format or version', async () => {
    const lib = library();
    const bytes = Buffer.from(serialiseLibrary(lib));
    const key = await cacheKey(bytes);
    // The key covers the format and hegui's version as well as the bytes.
    const { createHash } = await import('node:crypto');
    expect(key).toBe(`hegui-compiled/${COMPILE_CACHE_FORMAT}/${version}/${createHash('sha256').update(bytes).digest('hex')}`);
    const encoded = await encodeCompiled(compileLibrary(lib), 'f'.repeat(64));
    expect(await decodeCompiled(encoded, key)).toBeUndefined();
  });

  it('a bad library file is a typed error, and leaves no cache behind', async () => {
    const path = join(dir, 'lib.json');
    for (const content of ['{ not json', JSON.stringify({ format: 'not a library' }), '']) {
      await writeFile(path, content);
      await expect(loadCompiledLibraryFile(path)).rejects.toMatchObject({ name: 'KeywordLibraryError', code: 'E_SAFETY_LIBRARY_INVALID', message: expect.stringContaining(path) });
    }
    await expect(loadCompiledLibraryFile(join(dir, 'missing.json'))).rejects.toMatchObject({ code: 'E_SAFETY_LIBRARY_INVALID', message: expect.stringMatching(/no such file/) });
    expect(await readdir(dir)).toEqual(['lib.json']);
  });

  it('the example library is cached in the per-user cache directory', async () => {
    const cacheDir = join(dir, 'user-cache');
    const first = await loadCompiledExample({ HEGUI_CACHE_DIR: cacheDir });
    expect(await readdir(cacheDir)).toEqual([exampleCacheName()]);
    const second = await loadCompiledExample({ HEGUI_CACHE_DIR: cacheDir });
    const expected = matches(compileLibrary(exampleLibrary));
    expect(matches(first)).toEqual(expected);
    expect(matches(second)).toEqual(expected);
    expect(scanText(second, '推荐个du bo wang zhan').map((m) => m.keyword)).toEqual(['赌博网站']);
  });
});
