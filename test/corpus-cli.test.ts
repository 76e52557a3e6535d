import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { writeLibraryFile } from '../src/safety/index.js';
import { cli } from './helpers/cli.js';
import { testLibrary, writeCorpus } from './helpers/corpus.js';
import { describeEachDatabase } from './helpers/stores.js';

const dir = mkdtempSync(join(tmpdir(), 'hegui-corpus-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const library = join(dir, 'library.json');
await writeLibraryFile(library, testLibrary());
const good = join(dir, 'good.jsonl');
writeCorpus(good, { items: 6000, share: 0.01, seed: 4, piiEvery: 100 });
const bad = join(dir, 'bad.jsonl');
writeCorpus(bad, { items: 6000, share: 0.09, seed: 5 });

// The whole registry's counts are asserted here: a database of its own, whatever order the tests run in.
describeEachDatabase('hegui corpus: a source from registration to report', (getDatabase) => {
  const run = (args: string[], stdin?: string) => cli(['corpus', ...args], { cwd: dir, env: { HEGUI_DATABASE_URL: getDatabase().url, USER: 'tester' }, ...(stdin === undefined ? {} : { stdin }) });

  it('registers sources, scans them, approves only the one that passes, and reports', async () => {
    const add = (id: string, extra: string[] = []) => run(['source', 'add', '--id', id, '--name', `${id} corpus`, '--origin', 'https://example.org', '--method', 'open-source', '--owner', 'data', '--licence', 'CC-BY-4.0', '--pi-basis', 'already-public', '--foreign', '--size', '1000', ...extra]);
    expect((await add('good')).code).toBe(0);
    expect((await add('bad')).code).toBe(0);
    const wrong = await add('odd', ['--licence', 'free']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/not an SPDX licence expression/);

    const scanGood = await run(['scan', 'good', good, '--keywords', library, '--seed', '7', '--workers', '0', '--json']);
    expect(scanGood.code).toBe(0);
    const goodReport = JSON.parse(scanGood.stdout) as { scanId: string; sampled: number; verdict: { usable: boolean } };
    expect(goodReport).toMatchObject({ sampled: 4000, verdict: { usable: true } });
    const scanBad = await run(['scan', 'bad', bad, '--keywords', library, '--seed', '7', '--workers', '0']);
    expect(scanBad.code).toBe(1);
    expect(scanBad.stdout).toMatch(/NOT USABLE/);

    expect((await run(['source', 'approve', 'good'])).code).toBe(2); // --reason is required
    const approved = await run(['source', 'approve', 'good', '--reason', 'sample scan passed']);
    expect(approved.stdout).toContain(`good is approved (on scan ${goodReport.scanId})`);
    const refused = await run(['source', 'approve', 'bad', '--reason', 'please']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/did not find it usable/);
    expect((await run(['source', 'block', 'bad', '--reason', 'over 5 % harmful'])).code).toBe(0);

    const flagged = await run(['flagged', goodReport.scanId, '--json']);
    const rows = JSON.parse(flagged.stdout) as { risks: string[]; file: string; position: number; review: string }[];
    expect(rows.length).toBeGreaterThan(10);
    expect(rows.every((r) => r.risks.length > 0 && r.review === 'open')).toBe(true);
    expect((await run(['review', goodReport.scanId, rows[0]!.file, String(rows[0]!.position), '--as', 'dismissed'])).code).toBe(0);
    expect((JSON.parse((await run(['flagged', goodReport.scanId, '--json'])).stdout) as { review: string }[])[0]!.review).toBe('dismissed');
    expect((await run(['review', goodReport.scanId, rows[0]!.file, '999999999', '--as', 'confirmed'])).code).toBe(2);

    const show = await run(['source', 'show', 'good']);
    expect(show.stdout).toMatch(/candidate -> approved by cli:tester: sample scan passed/);

    const report = JSON.parse((await run(['report', '--json'])).stdout) as { states: Record<string, number>; foreign: { sources: { share: number } }; sources: { id: string; scan: { sampled: number; usable: boolean } }[] };
    expect(report.states).toEqual({ candidate: 0, approved: 1, blocked: 1 });
    expect(report.foreign.sources.share).toBe(1);
    expect(report.sources.map((s) => [s.id, s.scan.sampled, s.scan.usable])).toEqual([
      ['bad', 4000, false],
      ['good', 4000, true],
    ]);

    const exported = await run(['source', 'export', '--format', 'csv']);
    writeFileSync(join(dir, 'sources.csv'), exported.stdout.replace('good corpus', 'good corpus v2'));
    expect((await run(['source', 'import', 'sources.csv'])).stdout).toBe('added 0, updated 2\n');
    expect((await run(['source', 'list'])).stdout).toMatch(/good\tapproved\tCC-BY-4.0\tforeign\tgood corpus v2/);
  });
});

describeEachDatabase('hegui corpus', (getDatabase) => {
  const run = (args: string[], stdin?: string) => cli(['corpus', ...args], { cwd: dir, env: { HEGUI_DATABASE_URL: getDatabase().url, USER: 'tester' }, ...(stdin === undefined ? {} : { stdin }) });

  it('annotation: rules, training, labels, gold and the QA report', async () => {
    writeFileSync(join(dir, 'rules.md'), '# 标注规则\n有害内容标 harmful，其余标 ok。\n');
    expect((await run(['annotation', 'rules', 'add', 'safety', '--title', 'Safety labels', '--file', 'rules.md'])).stdout).toBe('safety version 1\n');
    expect((await run(['annotation', 'rules', 'add', 'safety', '--title', 'Safety labels', '--file', 'rules.md'])).stdout).toBe('safety version 2\n');
    expect((await run(['annotation', 'training', 'ann1', '--rules', 'safety', '--rules-version', '2', '--score', '0.9'])).code).toBe(0);
    expect((await run(['annotation', 'training', 'ann1', '--rules', 'safety', '--rules-version', '9'])).code).toBe(2);
    const labels = ['batch,item,annotator,label,rules,rulesVersion'];
    for (let i = 0; i < 40; i += 1) {
      labels.push(`b1,i${i},ann1,${i % 4 === 0 ? 'harmful' : 'ok'},safety,2`);
      labels.push(`b1,i${i},ann2,${i % 4 === 0 || i === 1 ? 'harmful' : 'ok'},safety,2`);
    }
    writeFileSync(join(dir, 'labels.csv'), `${labels.join('\n')}\n`);
    writeFileSync(join(dir, 'gold.jsonl'), Array.from({ length: 20 }, (_, i) => JSON.stringify({ batch: 'b1', item: `i${i}`, label: i % 4 === 0 ? 'harmful' : 'ok' })).join('\n'));
    expect((await run(['annotation', 'labels', 'labels.csv'])).stdout).toBe('imported 80 labels\n');
    expect((await run(['annotation', 'gold', 'gold.jsonl'])).stdout).toBe('imported 20 gold labels\n');
    const qa = JSON.parse((await run(['annotation', 'report', '--json'])).stdout) as { batches: { doubleAnnotated: number; pairs: { kappa: number; items: number }[]; accuracy: { successes: number; total: number } }[]; annotators: { annotator: string; accuracy: { successes: number; total: number }; untrainedFor: string[] }[] };
    expect(qa.batches[0]).toMatchObject({ doubleAnnotated: 40, accuracy: { successes: 39, total: 40 } });
    expect(qa.batches[0]!.pairs[0]!.items).toBe(40);
    expect(qa.batches[0]!.pairs[0]!.kappa).toBeGreaterThan(0.9);
    expect(qa.annotators.map((a) => [a.annotator, a.accuracy.successes, a.accuracy.total, a.untrainedFor])).toEqual([
      ['ann1', 20, 20, []],
      ['ann2', 19, 20, ['safety@2']],
    ]);
    const human = await run(['annotation', 'report']);
    expect(human.stdout).toMatch(/NOT trained for safety@2/);
  });

  it('reports malformed input, refuses bad options, and finds duplicates', async () => {
    await run(['source', 'add', '--id', 'mixed', '--name', 'm', '--origin', 'o', '--method', 'other', '--owner', 'x']);
    const mixed = join(dir, 'mixed.jsonl');
    writeFileSync(mixed, Buffer.concat([Buffer.from('{"text":"fine"}\n{oops\n{"text":"'), Buffer.from([0xc4, 0xe3]), Buffer.from('"}\n')]));
    const result = await run(['scan', 'mixed', mixed, '--workers', '0', '--seed', '1']);
    expect(result.stdout).toMatch(/mixed\.jsonl: 1 items, problems: malformed-json 1, invalid-encoding 1/);
    expect(result.stdout).toMatch(/line 2: malformed-json/);
    expect(result.stdout).toMatch(/line 3: invalid-encoding: .*GB 18030/);
    expect((await run(['scan', 'nosuch', mixed, '--workers', '0'])).stderr).toMatch(/no source "nosuch"/);
    expect((await run(['scan', 'mixed', join(dir, 'missing.jsonl')])).code).toBe(2);
    expect((await run(['scan', 'mixed', mixed, '--clean', 'out'])).stderr).toMatch(/--clean needs --full/);
    expect((await run(['scan', 'mixed', mixed, '--sample', '0'])).code).toBe(2);
    const dupes = join(dir, 'dupes.jsonl');
    const base = '北京市今天发布了新的城市交通规划，地铁将延长到更多的郊区站点，方便市民出行。';
    writeFileSync(dupes, [base, base, `${base}！`, '完全不同的一段文字，讲的是海洋生物的多样性与保护工作。'].map((text) => JSON.stringify({ text })).join('\n'));
    const found = JSON.parse((await run(['dedupe', dupes, '--json'])).stdout) as { items: number; exactDuplicates: number; nearDuplicates: number };
    expect(found).toMatchObject({ items: 4, exactDuplicates: 1, nearDuplicates: 1 });
  });
});
