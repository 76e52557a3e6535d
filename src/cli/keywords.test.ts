import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../../test/helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'hegui-keywords-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('hegui keywords', () => {
  const lib = join(dir, 'lib.json');
  // The library the other tests read, made as the import test makes its own.
  beforeAll(async () => {
    writeFileSync(join(dir, 'words.txt'), '赌博网站\tA1.8\n血腥暴力\n坏行\tA9\n');
    writeFileSync(join(dir, 'more.csv'), 'keyword,risk,mode,severity,kind\n制作炸弹,A1.4,pinyin,high,\n打击赌博网站,,,,allow\n');
    await cli(['keywords', 'import', join(dir, 'words.txt'), join(dir, 'more.csv'), '--risk', 'A1.6', '--out', lib, '--name', 'mine', '--lib-version', '2025.11']);
  });

  it('imports plain text and CSV into one library, reporting bad lines', async () => {
    writeFileSync(join(dir, 'words.txt'), '赌博网站\tA1.8\n血腥暴力\n坏行\tA9\n');
    writeFileSync(join(dir, 'more.csv'), 'keyword,risk,mode,severity,kind\n制作炸弹,A1.4,pinyin,high,\n打击赌博网站,,,,allow\n');
    const imported = join(dir, 'imported.json');
    const result = await cli(['keywords', 'import', join(dir, 'words.txt'), join(dir, 'more.csv'), '--risk', 'A1.6', '--out', imported, '--name', 'mine', '--lib-version', '2025.11']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/words\.txt:3: "A9" is not a GB\/T 45654 risk code/);
    expect(result.stdout).toMatch(/3 entries added, 3 in total, 1 allow-list words, 1 lines skipped/);
    const written = JSON.parse(readFileSync(imported, 'utf8')) as { format: string; name: string; version: string; entries: unknown[] };
    expect(written).toMatchObject({ format: 'hegui-keywords/1', name: 'mine', version: '2025.11' });
    const again = await cli(['keywords', 'import', join(dir, 'more.csv'), '--out', imported]);
    expect(again.stdout).toMatch(/0 entries added, 3 in total/);
  });

  it('prints stats', async () => {
    const result = await cli(['keywords', 'stats', lib, '--json']);
    expect(JSON.parse(result.stdout)).toMatchObject({ entries: 3, allow: 1, byCategory: { A1: 3 }, byMode: { literal: 2, pinyin: 1 } });
  });

  it('shows each shortfall against the GB/T 45654 minimums and exits 1', async () => {
    const result = await cli(['keywords', 'coverage', lib]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/A1\.8\s+1\s+200\s+199/);
    expect(result.stdout).toMatch(/A2\.1\s+0\s+100\s+100/);
    expect(result.stdout).toMatch(/total\s+3\s+10000\s+9997/);
    expect(result.stdout).toMatch(/does NOT meet/);
  });

  it('tests a text and shows the normalised form', async () => {
    const result = await cli(['keywords', 'test', lib, 'zhi zuo zha dan 和 打击赌博网站']);
    expect(result.stdout).toContain('normalised: zhizuozhadan和打击赌博网站');
    expect(result.stdout).toContain('A1.4 [0,15) "zhi zuo zha dan" -> "制作炸弹" (pinyin, high, confidence low: noise, pinyin)');
    expect(result.stdout).not.toContain('赌博网站" (');
  });

  it('lists every match in a benign file by line and keyword, and exits 1', async () => {
    const tuned = join(dir, 'tuned.json');
    writeFileSync(tuned, JSON.stringify({ name: 'tuned', entries: [{ keyword: '妈妈', risk: 'A1.8' }, { keyword: '台独', risk: 'A1.3' }, { keyword: '法轮', risk: 'A1.8' }] }));
    const benign = join(dir, 'benign.txt');
    writeFileSync(benign, '我妈说方法，轮流来。\n平台独家新闻\n平台 独家专访\n');
    const result = await cli(['keywords', 'test', tuned, '--benign', benign]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('benign.txt:2:2: "台独" -> "台独" (A1.3, confidence high)');
    expect(result.stdout).toContain('benign.txt:3:2: "台 独" -> "台独" (A1.3, confidence medium: noise)');
    expect(result.stdout).toMatch(/2 matches in 26 characters \(76923\.1 per million\); by keyword:\n\s+2 {2}台独/);
    const json = JSON.parse((await cli(['keywords', 'test', tuned, '--benign', benign, '--json'])).stdout) as { matches: unknown[]; byKeyword: unknown[] };
    expect(json.byKeyword).toEqual([{ keyword: '台独', count: 2 }]);
    expect(json.matches[0]).toMatchObject({ line: 2, column: 2, keyword: '台独', confidence: 'high', transforms: [] });
    writeFileSync(tuned, JSON.stringify({ name: 'tuned', entries: [{ keyword: '台独', risk: 'A1.3', allow: ['平台独家'], words: true }] }));
    const clean = await cli(['keywords', 'test', tuned, '--benign', benign]);
    expect(clean).toMatchObject({ code: 0, stdout: expect.stringMatching(/benign\.txt: no match in 26 characters/) });
    const both = await cli(['keywords', 'test', tuned, 'text', '--benign', benign]);
    expect(both).toMatchObject({ code: 2, stderr: expect.stringMatching(/either --benign FILE or a text/) });
  });

  it('lints a library: single characters, frequent words it spans or sits in, short pinyin', async () => {
    const linted = join(dir, 'linted.json');
    writeFileSync(
      linted,
      JSON.stringify({
        name: 'linted',
        entries: [
          { keyword: '枪', risk: 'A1.6' },
          { keyword: '台独', risk: 'A1.3' },
          { keyword: '妈妈', risk: 'A1.8', mode: 'pinyin' },
          { keyword: '台独', risk: 'A1.3', words: true },
          { keyword: '...', risk: 'A1.8' },
          { keyword: '煽动颠覆国家政权', risk: 'A1.1' },
        ],
      }),
    );
    const result = await cli(['keywords', 'lint', linted]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('entry 1 "枪" [single-character]');
    expect(result.stdout).toMatch(/entry 2 "台独" \[spans-common-words\]: .*平台\|独/);
    expect(result.stdout).toMatch(/entry 3 "妈妈" \[short-pinyin\]: .*mama/);
    expect(result.stdout).toContain('entry 5 "..." [folds-to-nothing]');
    expect(result.stdout).not.toMatch(/entry 4 |entry 6 /);
    const json = JSON.parse((await cli(['keywords', 'lint', linted, '--json'])).stdout) as { warnings: { entry: number; kind: string }[] };
    expect(json.warnings.map((w) => [w.entry, w.kind])).toEqual(expect.arrayContaining([[0, 'single-character'], [1, 'spans-common-words'], [2, 'short-pinyin'], [4, 'folds-to-nothing']]));
    const clean = join(dir, 'clean.json');
    writeFileSync(clean, JSON.stringify({ name: 'clean', entries: [{ keyword: '煽动颠覆国家政权', risk: 'A1.1' }] }));
    expect(await cli(['keywords', 'lint', clean])).toMatchObject({ code: 0, stdout: 'clean: 1 entries, no warnings\n' });
    expect(await cli(['keywords', 'lint', clean, '--min-frequency', 'lots'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--min-frequency must be a whole number/) });
    expect((await cli(['keywords', 'lint', '--help'])).stdout).toMatch(/jieba/);
  });

  it('refuses a broken library file with its name', async () => {
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"name": "x", "entries": [{"keyword": "a", "risk": "B1"}]}');
    const result = await cli(['keywords', 'stats', broken]);
    expect(result).toMatchObject({ code: 2, stderr: expect.stringMatching(/broken\.json: invalid keyword library at entries\.0\.risk/) });
  });
});

describe('hegui keywords save and load', () => {
  it('moves a library between a file and the database', async () => {
    const env = { HEGUI_DATABASE_URL: `file:${join(dir, 'hegui.db')}` };
    const saved = await cli(['keywords', 'save', 'example'], { env });
    expect(saved.stdout).toMatch(/saved "hegui-example" \(8 entries\) to sqlite:.*hegui\.db, revision 1/);
    expect((await cli(['keywords', 'save', 'example'], { env })).stdout).toMatch(/revision 2/);
    const out = join(dir, 'from-db.json');
    const loaded = await cli(['keywords', 'load', 'hegui-example', '--out', out], { env });
    expect(loaded.stdout).toMatch(/revision 2, 8 entries/);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({ name: 'hegui-example', entries: expect.any(Array), allow: ['打击赌博网站', '拒绝代开发票'] });
    const precise = join(dir, 'precise.json');
    writeFileSync(precise, JSON.stringify({ name: 'precise', noise: ['space'], entries: [{ keyword: '台独', risk: 'A1.3', allow: ['平台独家'], words: true }] }));
    expect((await cli(['keywords', 'save', precise], { env })).stderr).toBe('');
    const preciseOut = join(dir, 'precise-from-db.json');
    expect((await cli(['keywords', 'load', 'precise', '--out', preciseOut], { env })).code).toBe(0);
    expect(JSON.parse(readFileSync(preciseOut, 'utf8'))).toMatchObject({ noise: ['space'], entries: [{ keyword: '台独', risk: 'A1.3', allow: ['平台独家'], words: true }] });
    const missing = await cli(['keywords', 'load', 'nope', '--out', out], { env });
    expect(missing).toMatchObject({ code: 2, stderr: expect.stringMatching(/no keyword library "nope" .*\(stored: hegui-example, precise\)/) });
  });
});
