/**
 * `hegui label ...` run in-process, as a user would: folders, many files, JSON lines, exit
 * statuses and per-file reports.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../src/cli/io.js';
import { run } from '../src/cli/main.js';
import { PRODUCER, PROPAGATOR, imageSamples } from './label-samples.js';

interface Captured {
  status: number;
  stdout: string;
  stderr: string;
}

async function hegui(cwd: string, ...args: string[]): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text), isTTY: true },
    stdin: Readable.from([]),
    env: {},
    cwd,
  };
  const status = await run(args, io);
  return { status, stdout, stderr };
}

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hegui-cli-'));
  const samples = await imageSamples();
  mkdirSync(join(dir, 'in', 'nested'), { recursive: true });
  writeFileSync(join(dir, 'in', 'a.jpg'), samples['plain.jpg'] ?? new Uint8Array());
  writeFileSync(join(dir, 'in', 'b.png'), samples['rgba.png'] ?? new Uint8Array());
  writeFileSync(join(dir, 'in', 'nested', 'c.webp'), samples['animated.webp'] ?? new Uint8Array());
  writeFileSync(join(dir, 'in', 'nested', 'readme.bin'), new Uint8Array([0, 1, 2, 3]));
  // Signed, labeled copies every test may read (each test writes only into its own folder).
  await hegui(dir, 'label', 'keygen', '--out', 'producer');
  await hegui(dir, 'label', 'embed', 'in', '--producer', PRODUCER, '--id', 'gen-{n}', '--key', 'producer.key.pem', '-o', 'out');
}, 60_000);

describe('hegui label', () => {
  it('keygen, embed a folder into another, read --json, verify', async () => {
    expect((await hegui(dir, 'label', 'keygen', '--out', 'first')).status).toBe(0);
    expect((await hegui(dir, 'label', 'keygen', '--out', 'first')).status).toBe(2);
    const embed = await hegui(dir, 'label', 'embed', 'in', '--producer', PRODUCER, '--id', 'gen-{n}', '--key', 'first.key.pem', '-o', 'first-out');
    expect(embed.status).toBe(0);
    expect(embed.stdout.split('\n').filter((l) => l.startsWith('ok')).length).toBe(3);
    expect(embed.stderr).toContain('3 labelled, 0 failed, 1 skipped');
    expect(embed.stderr).toContain('3/4');

    const read = await hegui(dir, 'label', 'read', 'first-out', '--json');
    const records = read.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.map((r) => [r.file, r.format, r.location, r.signature])).toEqual([
      ['first-out/a.jpg', 'jpeg', 'xmp:APP1', 'unverified'],
      ['first-out/b.png', 'png', 'xmp:iTXt', 'unverified'],
      ['first-out/nested/c.webp', 'webp', 'xmp:XMP', 'unverified'],
    ]);
    expect(Object.keys(records[0] ?? {})).toEqual(['file', 'format', 'label', 'location', 'presence', 'signature', 'signatures', 'timestamps', 'conflicts']);

    const verify = await hegui(dir, 'label', 'verify', 'first-out', '--pub', 'first.pub.pem', '--json');
    expect(verify.status).toBe(0);
    expect(verify.stdout.match(/"signature":"valid"/g)?.length).toBe(3);
  });

  it('propagates and strips in place, and fails the batch when one file fails', async () => {
    cpSync(join(dir, 'out'), join(dir, 'work'), { recursive: true });
    const propagate = await hegui(dir, 'label', 'propagate', 'work/a.jpg', 'work/b.png', '--propagator', PROPAGATOR, '--id', 'plat-{n}');
    expect(propagate.status).toBe(0);
    const read = await hegui(dir, 'label', 'read', 'work/a.jpg', '--json');
    expect(JSON.parse(read.stdout)).toMatchObject({ label: { ContentProducer: PRODUCER, ContentPropagator: PROPAGATOR, PropagateID: 'plat-1' } });

    writeFileSync(join(dir, 'work', 'bad.png'), readFileSync(join(dir, 'work', 'b.png')).subarray(0, 50));
    const strip = await hegui(dir, 'label', 'strip', 'work/a.jpg', 'work/bad.png');
    expect(strip.status).toBe(1);
    expect(strip.stdout).toMatch(/^ok {4}work\/a\.jpg/m);
    expect(strip.stdout).toMatch(/^FAIL {2}work\/bad\.png {2}E_LABEL_FORMAT/m);
    expect(JSON.parse((await hegui(dir, 'label', 'read', 'work/a.jpg', '--json')).stdout)).toMatchObject({ label: null, signature: 'absent' });
  });

  it('verify exits non-zero when a signature does not check out', async () => {
    expect((await hegui(dir, 'label', 'keygen', '--alg', 'sm2', '--out', 'other')).status).toBe(0);
    const verify = await hegui(dir, 'label', 'verify', 'out/a.jpg', '--pub', 'other.pub.pem');
    expect(verify.status).toBe(1);
    expect(verify.stdout).toContain('signature=unverified');
  });

  it('read says a malformed label is unreadable, never "no label", and shows each party\'s signature', async () => {
    const file = join(dir, 'broken-label.md');
    writeFileSync(file, '---\nAIGC: "{broken json"\n---\n# hello\n');
    const read = await hegui(dir, 'label', 'read', 'broken-label.md');
    expect(read.stdout).toContain('unreadable label');
    expect(read.stdout).not.toContain('no label');
    expect(read.stdout).toContain('(producer absent, propagator absent)');
    expect(read.stdout).toContain('conflicts: markdown:front-matter/AIGC (unreadable)');
  });

  it('refuses bad arguments with a usage error, before touching any file', async () => {
    expect((await hegui(dir, 'label', 'embed', 'in/a.jpg', '--producer', PRODUCER, '--id', 'x')).status).toBe(2);
    const producer = await hegui(dir, 'label', 'embed', 'in', '--producer', 'doubao', '--id', 'x', '-o', 'bad-out');
    expect(producer.status).toBe(2);
    expect(producer.stderr).toMatch(/^error: invalid provider code "doubao"/);
    expect(existsSync(join(dir, 'bad-out'))).toBe(false);
    const propagator = await hegui(dir, 'label', 'propagate', 'in/a.jpg', '--propagator', 'weibo', '--id', 'x', '-o', 'bad.jpg');
    expect(propagator.status).toBe(2);
    expect(existsSync(join(dir, 'bad.jpg'))).toBe(false);
  });
});
