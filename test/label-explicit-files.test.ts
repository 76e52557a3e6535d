/**
 * Files treated with care by every label command (issue 11): temporary files removed when a
 * real child process is killed mid-write (SIGTERM, SIGINT); owner, group, permissions and
 * times kept on in-place rewrites; symbolic links followed and said so; hard links refused
 * rather than broken; every file a folder walk passes over named; `--json` on embed,
 * propagate and strip.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { embedLabelFile, readLabelFile } from '../src/label/files.js';
import { cli } from './helpers/cli.js';
import { systemTool } from './helpers/system.js';
import { rawImage } from './label-explicit-samples.js';
import { PRODUCER, PROPAGATOR } from './label-samples.js';

const root = resolve(import.meta.dirname, '..');
const isRoot = process.getuid?.() === 0;

function leftovers(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((name) => name.includes('.hegui-tmp') || name.includes('hegui-av-') || name.includes('hegui-spool-'));
}

/** Resolves when `child` prints `marker` on stdout, or when `poll` returns true. */
function waitFor(child: ChildProcess, poll: () => boolean, timeoutMs = 60_000): Promise<void> {
  return new Promise((done, fail) => {
    const started = Date.now();
    const timer = setInterval(() => {
      if (poll()) {
        clearInterval(timer);
        done();
      } else if (Date.now() - started > timeoutMs || child.exitCode !== null) {
        clearInterval(timer);
        fail(new Error(`child ended or timed out before the write began (exit ${child.exitCode})`));
      }
    }, 20);
  });
}

const exited = (child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> =>
  new Promise((done) => child.once('exit', (code, signal) => done({ code, signal })));

describe('temporary files on SIGINT and SIGTERM', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('%s mid-write leaves no temporary file and the target untouched', async (signal) => {
    const dir = mkdtempSync(join(tmpdir(), 'hegui-signal-'));
    const target = join(dir, 'big.bin');
    writeFileSync(target, 'original');
    const script = join(dir, 'writer.mts');
    writeFileSync(
      script,
      `import { writeFileAtomic } from ${JSON.stringify(join(root, 'src/label/file-io.ts'))};
await writeFileAtomic(${JSON.stringify(target)}, async (sink) => {
  await sink.write(new Uint8Array(4 << 20));
  process.stdout.write('writing\\n');
  await new Promise(() => setInterval(() => undefined, 1000));
});`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await waitFor(child, () => out.includes('writing'));
    expect(readdirSync(dir).filter((name) => name.endsWith('.hegui-tmp'))).toHaveLength(1);
    const ended = exited(child);
    child.kill(signal);
    expect((await ended).signal).toBe(signal);
    expect(leftovers(dir)).toEqual([]);
    expect(readFileSync(target, 'utf8')).toBe('original');
  });

  it.runIf(systemTool('ffmpeg', 'ffmpeg'))('hegui label visible killed while ffmpeg encodes: no temporary file or folder is left', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hegui-signal-cli-'));
    const scratch = join(dir, 'tmp');
    mkdirSync(scratch);
    const clip = join(dir, 'clip.mp4');
    const made = spawnSync('ffmpeg', ['-v', 'error', '-nostdin', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=960x540:rate=25', '-t', '8', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', clip]);
    expect(made.status).toBe(0);
    const before = readFileSync(clip);
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'label', 'visible', clip, '--in-place'], { cwd: root, env: { ...process.env, TMPDIR: scratch }, stdio: 'ignore' });
    await waitFor(child, () => readdirSync(dir).some((name) => name.endsWith('.hegui-tmp') && statSync(join(dir, name)).size > 0));
    const ended = exited(child);
    child.kill('SIGTERM');
    expect((await ended).signal).toBe('SIGTERM');
    // ffmpeg is killed with it: nothing recreates the temporary file afterwards.
    await new Promise((done) => setTimeout(done, 300));
    expect(leftovers(dir)).toEqual([]);
    expect(readFileSync(clip).equals(before)).toBe(true);
  }, 120_000);
});

describe('in-place rewrites keep what the file system knows', () => {
  async function photo(dir: string, name = 'photo.png'): Promise<string> {
    const path = join(dir, name);
    writeFileSync(path, await rawImage(320, 240, 'busy').png().toBuffer());
    return path;
  }

  it('owner, group, permissions and times survive embed, strip and visible', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hegui-keep-'));
    const path = await photo(dir);
    chmodSync(path, 0o640);
    if (isRoot) chownSync(path, 4321, 4322);
    const when = new Date('2021-06-01T08:00:00Z');
    utimesSync(path, when, when);
    const check = (step: string): void => {
      const info = statSync(path);
      expect(info.mode & 0o7777, step).toBe(0o640);
      expect(info.mtime.toISOString(), step).toBe(when.toISOString());
      if (isRoot) expect([info.uid, info.gid], step).toEqual([4321, 4322]);
    };
    const steps: string[][] = [
      ['label', 'embed', 'photo.png', '--producer', PRODUCER, '--id', 'k-1', '--in-place'],
      ['label', 'propagate', 'photo.png', '--propagator', PROPAGATOR, '--id', 'share-1'],
      ['label', 'strip', 'photo.png'],
      ['label', 'visible', 'photo.png', '--in-place'],
    ];
    for (const args of steps) {
      const result = await cli(args, { cwd: dir });
      expect(result.code, result.stdout + result.stderr).toBe(0);
      check(args[1] ?? '');
    }
    expect(leftovers(dir)).toEqual([]);
  });

  it('`all` keeps them too; with --touch every writing command sets the modification time to now instead', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hegui-touch-'));
    const path = await photo(dir);
    const when = new Date('2021-06-01T08:00:00Z');
    utimesSync(path, when, when);
    const all = await cli(['label', 'all', 'photo.png', '--in-place', '--producer', PRODUCER, '--id', 'a-1'], { cwd: dir });
    expect(all.code, all.stdout + all.stderr).toBe(0);
    expect(statSync(path).mtime.toISOString()).toBe(when.toISOString());
    const steps: string[][] = [
      ['label', 'embed', 'photo.png', '--producer', PRODUCER, '--id', 't-1', '--in-place', '--touch'],
      ['label', 'propagate', 'photo.png', '--propagator', PROPAGATOR, '--id', 'share-1', '--touch'],
      ['label', 'strip', 'photo.png', '--touch'],
      ['label', 'visible', 'photo.png', '--in-place', '--touch'],
      ['label', 'all', 'photo.png', '--in-place', '--producer', PRODUCER, '--id', 'a-2', '--touch'],
    ];
    for (const args of steps) {
      utimesSync(path, when, when);
      const started = Date.now() - 2000;
      const result = await cli(args, { cwd: dir });
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(statSync(path).mtimeMs, args[1]).toBeGreaterThan(started);
    }
    expect(leftovers(dir)).toEqual([]);
  });

  it('a large file (streamed rewrite) keeps them too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hegui-keep-large-'));
    const path = join(dir, 'large.png');
    writeFileSync(path, await sharp({ create: { width: 1400, height: 1400, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 60 } } }).png({ compressionLevel: 0 }).toBuffer());
    expect(statSync(path).size).toBeGreaterThan(1 << 20);
    chmodSync(path, 0o600);
    const when = new Date('2020-01-02T03:04:05Z');
    utimesSync(path, when, when);
    const result = await embedLabelFile(path, { producer: PRODUCER, produceId: 'big-1' }, { inPlace: true });
    expect(result.method).toBe('rewritten');
    expect(statSync(path).mode & 0o7777).toBe(0o600);
    expect(statSync(path).mtime.toISOString()).toBe(when.toISOString());
  });
});

describe('links', () => {
  it('a symbolic link is followed: the link stays, the file it names is labelled, and the report says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hegui-symlink-'));
    mkdirSync(join(dir, 'real'));
    writeFileSync(join(dir, 'real', 'a.png'), await rawImage(160, 120, 'light').png().toBuffer());
    symlinkSync(join('real', 'a.png'), join(dir, 'link.png'));
    const result = await cli(['label', 'embed', 'link.png', '--producer', PRODUCER, '--id', 's-1', '--in-place'], { cwd: dir });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/ok +link\.png +png +labelled \(rewritten\) +\(symlink followed: wrote real\/a\.png\)/);
    expect(lstatSync(join(dir, 'link.png')).isSymbolicLink()).toBe(true);
    expect((await readLabelFile(join(dir, 'real', 'a.png'))).label?.ProduceID).toBe('s-1');
    const visible = await cli(['label', 'visible', 'link.png', '--in-place', '--json'], { cwd: dir });
    expect(JSON.parse(visible.stdout)).toMatchObject({ file: 'link.png', status: 'ok', symlinkTarget: 'real/a.png' });
    expect(lstatSync(join(dir, 'link.png')).isSymbolicLink()).toBe(true);
  });

  it('propagate, strip and all follow a symbolic link the same way and name the file written, in text and --json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hegui-symlink-all-'));
    mkdirSync(join(dir, 'real'));
    writeFileSync(join(dir, 'real', 'a.png'), await rawImage(160, 120, 'light').png().toBuffer());
    symlinkSync(join('real', 'a.png'), join(dir, 'link.png'));
    const commands: string[][] = [
      ['label', 'all', 'link.png', '--in-place', '--producer', PRODUCER, '--id', 'l-1'],
      ['label', 'propagate', 'link.png', '--propagator', PROPAGATOR, '--id', 'l-2'],
      ['label', 'strip', 'link.png'],
      ['label', 'embed', 'link.png', '--producer', PRODUCER, '--id', 'l-3', '--in-place'],
    ];
    for (const args of commands) {
      const text = await cli(args, { cwd: dir });
      expect(text.code, text.stdout + text.stderr).toBe(0);
      expect(text.stdout, args[1]).toMatch(/symlink followed: wrote real\/a\.png/);
      expect(lstatSync(join(dir, 'link.png')).isSymbolicLink(), args[1]).toBe(true);
      const json = await cli([...args, '--json'], { cwd: dir });
      expect(json.code, json.stdout + json.stderr).toBe(0);
      expect(JSON.parse(json.stdout), args[1]).toMatchObject({ file: 'link.png', status: 'ok', symlinkTarget: 'real/a.png' });
      expect(lstatSync(join(dir, 'link.png')).isSymbolicLink(), args[1]).toBe(true);
    }
    expect((await readLabelFile(join(dir, 'real', 'a.png'))).label?.ProduceID).toBe('l-3');
    expect(leftovers(dir)).toEqual([]);
  });

  it('a file with two hard links is refused, not split, and left as it was', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hegui-hardlink-'));
    const path = await photo(dir);
    linkSync(path, join(dir, 'other-name.png'));
    const before = readFileSync(path);
    for (const args of [
      ['label', 'embed', 'photo.png', '--producer', PRODUCER, '--id', 'h-1', '--in-place'],
      ['label', 'strip', 'photo.png'],
      ['label', 'visible', 'photo.png', '--in-place'],
    ]) {
      const result = await cli(args, { cwd: dir });
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stdout).toMatch(/FAIL +photo\.png +E_LABEL_HARD_LINK: .*has 2 hard links/);
    }
    expect(statSync(path).nlink).toBe(2);
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(leftovers(dir)).toEqual([]);
  });

  async function photo(dir: string): Promise<string> {
    const path = join(dir, 'photo.png');
    writeFileSync(path, await rawImage(200, 150, 'busy').png().toBuffer());
    return path;
  }
});

describe('batches name what they skip and speak JSON', () => {
  it('every entry a walk passes over is named, with the reason, in text and --json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hegui-walk-'));
    mkdirSync(join(dir, 'in', 'sub'), { recursive: true });
    writeFileSync(join(dir, 'in', 'a.png'), await rawImage(64, 48, 'busy').png().toBuffer());
    writeFileSync(join(dir, 'in', 'notes.bin'), Buffer.from([0, 1, 2, 3, 0, 9]));
    symlinkSync(join(dir, 'in', 'sub'), join(dir, 'in', 'loop'));
    symlinkSync(join(dir, 'missing.png'), join(dir, 'in', 'broken.png'));
    const text = await cli(['label', 'embed', 'in', '--producer', PRODUCER, '--id', 'w-{n}', '--in-place'], { cwd: dir });
    expect(text.code, text.stdout + text.stderr).toBe(0);
    expect(text.stdout).toMatch(/skip +in\/broken\.png +E_LABEL_NOT_A_FILE: a broken symbolic link/);
    expect(text.stdout).toMatch(/skip +in\/loop +E_LABEL_NOT_A_FILE: a symbolic link to a folder/);
    expect(text.stdout).toMatch(/skip +in\/notes\.bin +E_LABEL_UNSUPPORTED_FORMAT/);
    expect(text.stderr).toMatch(/4 files: 1 labelled, 0 failed, 3 skipped/);
    for (const command of [
      ['label', 'embed', 'in', '--producer', PRODUCER, '--id', 'w-{n}', '--in-place', '--json'],
      ['label', 'propagate', 'in', '--propagator', PROPAGATOR, '--id', 'p-{n}', '--json'],
      ['label', 'strip', 'in', '--json'],
      ['label', 'read', 'in', '--json'],
    ]) {
      const result = await cli(command, { cwd: dir });
      const records = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { file: string; status?: string; format?: string; error?: { code: string } });
      expect(records.map((r) => r.file), command[1]).toEqual(['in/a.png', 'in/broken.png', 'in/loop', 'in/notes.bin']);
      expect(records.slice(1).map((r) => [r.status, r.error?.code]), command[1]).toEqual([
        ['skipped', 'E_LABEL_NOT_A_FILE'],
        ['skipped', 'E_LABEL_NOT_A_FILE'],
        ['skipped', 'E_LABEL_UNSUPPORTED_FORMAT'],
      ]);
      if (command[1] !== 'read') expect(records[0], command[1]).toMatchObject({ file: 'in/a.png', status: 'ok', format: 'png' });
    }
  });
});
