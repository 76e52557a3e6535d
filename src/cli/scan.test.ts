import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../../test/helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'hegui-scan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('hegui scan', () => {
  it('prints the verdict, hits and personal data with offsets into the original text', async () => {
    const text = '推荐个du bo wang zhan，电话13800138000';
    const result = await cli(['scan', '--keywords', 'example', '--json', text]);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as { verdict: string; matches: { start: number; end: number; original: string }[]; pii: { type: string; start: number; end: number }[] };
    expect(report).toMatchObject({
      verdict: 'block',
      matches: [{ risk: 'A1.8', keyword: '赌博网站', start: 3, end: 18, original: 'du bo wang zhan', confidence: 'low', transforms: ['noise', 'pinyin'] }],
      pii: [{ type: 'mobile', start: 21, end: 32 }],
    });
    for (const m of report.matches) expect(text.slice(m.start, m.end)).toBe(m.original);
  });

  it('reads stdin and counts offsets in UTF-16 code units', async () => {
    const result = await cli(['scan', '--keywords', 'example', '--json', '--direction', 'input'], { stdin: '😀😀制😀作炸彈' });
    expect(JSON.parse(result.stdout)).toMatchObject({ verdict: 'block', matches: [{ start: 4, end: 10, original: '制😀作炸彈' }] });
  });

  it('reads a file, and redacts personal data in output', async () => {
    const file = join(dir, 'answer.txt');
    writeFileSync(file, '联系邮箱 zhang@example.com');
    const result = await cli(['scan', '--file', file, '--json']);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/no keyword library/);
    expect(JSON.parse(result.stdout)).toMatchObject({ verdict: 'redact', pii: [{ type: 'email', start: 5, end: 22 }], redacted: '联系邮箱 z****@example.com' });
  });

  it('applies a user class and a policy file', async () => {
    const policy = join(dir, 'policy.json');
    writeFileSync(policy, JSON.stringify({ rules: [{ target: '*', action: 'review' }], userClasses: { minor: [{ target: 'A3', action: 'block' }] } }));
    const adult = await cli(['scan', '--keywords', 'example', '--policy', policy, '破解版下载']);
    expect(adult.stdout).toMatch(/^verdict: review/);
    const minor = await cli(['scan', '--keywords', 'example', '--policy', policy, '--user-class', 'minor', '--lang', 'en', '破解版下载']);
    expect(minor.stdout).toMatch(/^verdict: block[\s\S]*reply: Sorry/);
  });

  it('prints one JSON line per hit and the verdict last with --jsonl, the same hits as --json', async () => {
    const file = join(dir, 'lines.txt');
    writeFileSync(file, '推荐个du bo wang zhan\r\n电话13800138000\n'.repeat(3));
    const json = JSON.parse((await cli(['scan', '--keywords', 'example', '--file', file, '--json'])).stdout) as { verdict: string; matches: object[]; pii: object[]; reply: string };
    const result = await cli(['scan', '--keywords', 'example', '--file', file, '--jsonl']);
    expect(result.code).toBe(1);
    const lines = result.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.filter((l) => l.kind === 'keyword').map(({ kind: _k, ...m }) => m)).toEqual(json.matches);
    expect(lines.filter((l) => l.kind === 'pii').map(({ kind: _k, ...p }) => p)).toEqual(json.pii);
    expect(lines.at(-1)).toEqual({ kind: 'verdict', verdict: 'block', matches: 3, pii: 3, reply: json.reply });
    expect((await cli(['scan', '--json', '--jsonl', 'x'])).stderr).toMatch(/either --json or --jsonl/);
  });

  it('explains bad input', async () => {
    expect((await cli(['scan', '--direction', 'sideways', 'x'])).stderr).toMatch(/--direction must be input or output/);
    expect((await cli(['scan', '--keywords', join(dir, 'missing.json'), 'x'])).stderr).toMatch(/cannot read keyword library .*no such file/);
    const bad = join(dir, 'bad-policy.json');
    writeFileSync(bad, JSON.stringify({ rules: [{ target: 'A7', action: 'block' }] }));
    const result = await cli(['scan', '--policy', bad, 'x']);
    expect(result).toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown target "A7"/) });
  });
});
