/**
 * `hegui eval` at its edges: bad banks and options are input errors that name the line or the
 * option; a dry run estimates time and tokens exactly from its inputs and stores nothing; a
 * run held by a live process is not resumed beside it; unknown runs are named.
 */
import { hostname } from 'node:os';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRun } from '../src/eval/run.js';
import { openStore, type Store } from '../src/store/index.js';
import { cli } from './helpers/cli.js';
import { Readable } from 'node:stream';
import { spawn } from 'node:child_process';
import { run as heguiRun } from '../src/cli/main.js';
import { UpstreamDouble } from './gateway-upstream-double.js';
import { describeEachDatabase } from './helpers/stores.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';

describeEachDatabase('hegui eval at its edges', (getDatabase) => {
  let dir: string;
  let env: Record<string, string>;
  let store: Store;
  const line = (o: Record<string, unknown>): string => JSON.stringify({ id: 'x', prompt: '你好', kind: 'should-refuse', risk: 'A1.1', language: 'zh-CN', source: 't', ...o });
  const bankFile = (lines: string[]): string => {
    const file = join(dir, `bank-${Math.random().toString(36).slice(2)}.jsonl`);
    writeFileSync(file, lines.join('\n'));
    return file;
  };
  const run = (file: string, ...more: string[]) => cli(['eval', 'run', '--bank', file, '--base-url', 'http://127.0.0.1:9/v1', '--model', 'm', ...more], { env });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hegui-eval-cli-'));
    env = { HEGUI_DATABASE_URL: getDatabase().url };
    store = await openStore(getDatabase().url);
  });
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('names the bad line of a bank, and refuses unknown kinds and risks', async () => {
    const broken = await run(bankFile([line({ id: 'a' }), '{not json']));
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/bank line 2 is not JSON/);
    expect((await run(bankFile([line({ kind: 'maybe' })]))).stderr).toMatch(/bank line 1: kind "maybe"/);
    expect((await run(bankFile([line({ risk: 'A9.9' })]))).stderr).toMatch(/"A9\.9" is not a GB\/T 45654 risk code/);
    expect((await run(bankFile([line({ id: 'a' }), line({ id: 'a' })]))).stderr).toMatch(/item id a occurs twice/);
    expect((await run(bankFile([line({ prompt: '' })]))).stderr).toMatch(/"prompt" must be a non-empty string/);
  });

  it('refuses bad options before storing anything', async () => {
    const before = (await store.evalRuns.list()).length;
    const file = bankFile([line({})]);
    const secret = await cli(['eval', 'run', '--bank', file, '--base-url', 'http://user:pw@127.0.0.1:9/v1', '--model', 'm'], { env });
    expect(secret.code).toBe(2);
    expect(secret.stderr).toMatch(/must not carry credentials/);
    expect((await run(file, '--concurrency', '0')).stderr).toMatch(/--concurrency is a whole number from 1/);
    expect((await run(file, '--sample', 'everything=3')).stderr).toMatch(/--sample takes KIND=N/);
    expect((await run(file, '--guard-model', 'magic', '--guard-url', 'http://x')).stderr).toMatch(/--guard-model is one of/);
    expect((await run(file, '--judge-url', 'http://x')).stderr).toMatch(/needs both --judge-url and --judge-model/);
    expect((await run(file, '--seed', '-1')).code).toBe(2);
    expect(await store.evalRuns.list()).toHaveLength(before);
  });

  it('a dry run estimates time and tokens from the sample and stores nothing', async () => {
    const before = (await store.evalRuns.list()).length;
    const lines = Array.from({ length: 10 }, (_, i) => line({ id: `q${i}`, prompt: '你好世界' }));
    const result = await run(bankFile(lines), '--dry-run', '--concurrency', '4', '--latency-ms', '1000', '--max-tokens', '100', '--seed', '5', '--json');
    expect(result.code, result.stderr).toBe(0);
    // ceil(10 / 4) x 1 s; 4 CJK characters + 8 tokens of framing per prompt; 100 out each.
    expect(JSON.parse(result.stdout)).toMatchObject({ seed: 5, items: 10, latencyMs: 1000, measured: false, seconds: 3, promptTokens: 120, completionTokens: 1000 });
    const limited = JSON.parse((await run(bankFile(lines), '--dry-run', '--concurrency', '4', '--rps', '0.5', '--json')).stdout);
    expect(limited.seconds).toBe(20);
    const text = await run(bankFile(lines), '--dry-run');
    expect(text.stdout).toMatch(/10 items: generated-content 0 \(of 0, 1000 asked\); should-refuse 10 \(of 10, 300 asked\)/);
    expect(text.stdout).toMatch(/assumed; --probe N measures it/);
    expect(await store.evalRuns.list()).toHaveLength(before);
  });

  it('does not resume a run that a live process holds, names unknown runs, and lists runs', async () => {
    const bank = [{ id: 'a', prompt: 'p', risk: 'A1.1' as const, kind: 'should-refuse' as const, language: 'zh-CN', source: 't' }];
    const { run: created } = await createRun({ store, bank, endpoint: 'http://127.0.0.1:9/v1', model: 'm', seed: 1, settings: { concurrency: 1, requestsPerSecond: 0, timeoutMs: 100, retries: 0, backoffMs: 1, sample: { 'should-refuse': null }, judges: {}, bank: { source: 't', items: 1 } } });
    const now = new Date();
    // This test process is alive: its lease holds.
    expect(await store.evalRuns.claim(created.id, `${hostname()}:${process.pid}:test`, now.toISOString(), new Date(now.getTime() + 60_000).toISOString(), () => false)).toBe(true);
    const busy = await cli(['eval', 'resume', created.id], { env });
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/being worked on by another process .*--force/);
    // A holder on this host that no longer exists is taken over at once.
    await store.evalRuns.release(created.id, `${hostname()}:${process.pid}:test`);
    expect(await store.evalRuns.claim(created.id, `${hostname()}:999999999:gone`, now.toISOString(), new Date(now.getTime() + 60_000).toISOString(), () => false)).toBe(true);
    const resumed = await cli(['eval', 'resume', created.id, '--json'], { env });
    expect(resumed.stderr).not.toMatch(/being worked on/);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ runId: created.id, errors: 1 });
    expect((await store.evalRuns.get(created.id))?.leaseOwner).toBeNull();
    const unknown = await cli(['eval', 'summary', 'run_nope'], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/there is no run run_nope/);
    expect((await cli(['eval', 'status'], { env })).stdout).toContain(created.id);
  });

  it('shows a progress bar on a terminal and plain lines otherwise', async () => {
    const double = await new UpstreamDouble().start();
    double.behaviour = () => ({ text: '好的，这是回答。' });
    try {
      const file = bankFile(Array.from({ length: 12 }, (_, i) => line({ id: `p${i}`, prompt: `问题${i}`, kind: 'should-not-refuse', risk: null })));
      const args = ['eval', 'run', '--bank', file, '--base-url', `${double.url}/v1`, '--model', 'm', '--all', '--concurrency', '3'];
      for (const tty of [true, false]) {
        let stderr = '';
        let stdout = '';
        const code = await heguiRun(args, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t), isTTY: tty }, stdin: Readable.from([]), env: { ...process.env, ...env }, cwd: dir });
        expect(code, stderr).toBe(0);
        expect(stdout).toMatch(/should-not-refuse, refusal rate\s+0\.0%/);
        if (tty) {
          expect(stderr).toMatch(/\r\[#{30}\] 12\/12, \d+\.\d\/s, 0s left/);
        } else {
          expect(stderr).not.toContain('\r');
          expect(stderr).toMatch(/^eval: 12\/12, \d+\.\d\/s, 0s left$/m);
        }
      }
    } finally {
      await double.stop();
    }
  });

  it('records a review from the command line, for reviewers and admins only', async () => {
    const bank = [{ id: 'r', prompt: 'p', risk: 'A1.1' as const, kind: 'should-refuse' as const, language: 'zh-CN', source: 't' }];
    const { run: created } = await createRun({ store, bank, endpoint: 'http://127.0.0.1:9/v1', model: 'm', seed: 1, settings: { concurrency: 1, requestsPerSecond: 0, timeoutMs: 100, retries: 0, backoffMs: 1, sample: { 'should-refuse': null }, judges: {}, bank: { source: 't', items: 1 } } });
    await store.evalRuns.complete(created.id, 0, { status: 'done', attempts: 1, request: {}, answer: '嗯', answerMeta: null, refused: 'uncertain', safe: 'yes', judges: null, error: null, completedAt: new Date().toISOString(), reviewStatus: 'open' });
    const tag = created.id.slice(-6);
    await store.operators.create({ name: `rev-${tag}`, role: 'reviewer' });
    await store.operators.create({ name: `aud-${tag}`, role: 'auditor' });
    const review = (who: string, judgement = 'refused') => cli(['eval', 'review', created.id, '--reviewer', who, '--item', '0', '--judgement', judgement], { env });
    const auditor = await review(`aud-${tag}`);
    expect(auditor.code).toBe(2);
    expect(auditor.stderr).toMatch(/is auditor; reviews need the reviewer or admin role/);
    expect((await review(`nobody-${tag}`)).stderr).toMatch(/no active operator/);
    expect((await review(`rev-${tag}`, 'perhaps')).stderr).toMatch(/judgement is one of refused, safe, unsafe/);
    const first = await review(`rev-${tag}`);
    expect(first.stdout).toBe('item 0: review 1 recorded; open\n');
    const again = await review(`rev-${tag}`, 'safe');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already reviewed item 0/);
    expect((await cli(['eval', 'review', created.id], { env })).stdout).toMatch(/^review: 1 open, 0 disputed, 0 resolved; kappa — over 0 items reviewed twice\n0\topen\tshould-refuse\tr\tp\n$/);
  });

  it('SIGTERM stops a run cleanly: exit 1, a hint to resume, items in flight left pending, the lease released', async () => {
    const double = await new UpstreamDouble().start();
    double.behaviour = () => ({ headersDelayMs: 150, text: '好的，这是回答。' });
    try {
      const file = bankFile(Array.from({ length: 40 }, (_, i) => line({ id: `s${i}`, prompt: `停止${i}`, kind: 'should-not-refuse', risk: null })));
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'eval', 'run', '--bank', file, '--base-url', `${double.url}/v1`, '--model', 'm', '--all', '--concurrency', '2'], { cwd: join(import.meta.dirname, '..'), env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exit = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
      let id = '';
      for (let i = 0; i < 600 && !id; i++) {
        id = /run (run_\w+) created/.exec(stderr)?.[1] ?? '';
        if (!id) await new Promise((done) => setTimeout(done, 50));
      }
      for (let i = 0; i < 600 && (await store.evalRuns.counts(id)).done < 4; i++) await new Promise((done) => setTimeout(done, 50));
      child.kill('SIGTERM');
      expect(await exit).toBe(1);
      expect(stderr).toMatch(new RegExp(`run ${id} stopped with items left; continue it with \`hegui eval resume ${id}\``));
      const items = await store.evalRuns.items(id);
      expect(items.filter((i) => i.status === 'pending').length).toBeGreaterThan(0);
      expect(items.every((i) => (i.status === 'pending' ? i.answer === null && i.refused === null : i.answer !== null))).toBe(true);
      expect(await store.evalRuns.get(id)).toMatchObject({ status: 'running', leaseOwner: null });
    } finally {
      await double.stop();
    }
  });

  it('wires a guard model and a judge model from the command line, keys from the environment', async () => {
    const double = await new UpstreamDouble().start();
    double.behaviour = (_path, body) => (body.model === 'guard-model' ? { text: 'unsafe\nS1' } : body.model === 'judge-model' ? { text: 'REFUSED' } : { text: '当然可以：北京的秋天晴朗干燥，适合旅游。' });
    try {
      const file = bankFile([line({ id: 'g1', prompt: '北京秋天怎么样？', kind: 'generated-content', risk: 'A1.6' })]);
      const result = await cli(['eval', 'run', '--bank', file, '--base-url', `${double.url}/v1`, '--model', 'm', '--all', '--guard-model', 'llamaguard', '--guard-url', `${double.url}/v1`, '--guard-name', 'guard-model', '--judge-url', `${double.url}/v1`, '--judge-model', 'judge-model', '--json'], { env: { ...env, HEGUI_EVAL_GUARD_API_KEY: 'sk-guard', HEGUI_EVAL_JUDGE_API_KEY: 'sk-judge' } });
      expect(result.code, result.stderr).toBe(0);
      const summary = JSON.parse(result.stdout);
      const [item] = await store.evalRuns.items(summary.runId);
      // The rules say "answered", the judge model "refused"; the keyword library finds nothing, the guard model "unsafe": both to review.
      expect(item).toMatchObject({ refused: 'uncertain', safe: 'uncertain', reviewStatus: 'open', judges: { judgeModel: { verdict: 'yes' }, safety: { labels: [{ classifier: 'llama-guard', label: 'S1' }] } } });
      expect(summary.uncertain).toBe(1);
      expect(summary.passRate.unresolved).toBe(1);
      const auth = (model: string) => double.seen.find((s) => s.body.model === model)?.authorization;
      expect([auth('guard-model'), auth('judge-model'), auth('m')]).toEqual(['Bearer sk-guard', 'Bearer sk-judge', undefined]);
      expect(JSON.stringify((await store.evalRuns.get(summary.runId))?.settings)).not.toMatch(/sk-/);
    } finally {
      await double.stop();
    }
  });

  it('a dry run with --probe measures the latency on a few sampled items', async () => {
    const double = await new UpstreamDouble().start();
    double.behaviour = () => ({ headersDelayMs: 120, text: '好的。' });
    try {
      const file = bankFile(Array.from({ length: 8 }, (_, i) => line({ id: `d${i}`, prompt: `探测${i}` })));
      const result = await cli(['eval', 'run', '--bank', file, '--base-url', `${double.url}/v1`, '--model', 'm', '--all', '--dry-run', '--probe', '3', '--concurrency', '8', '--json'], { env });
      expect(result.code, result.stderr).toBe(0);
      const estimate = JSON.parse(result.stdout);
      expect(estimate).toMatchObject({ items: 8, measured: true });
      expect(estimate.latencyMs).toBeGreaterThanOrEqual(120);
      expect(estimate.seconds).toBeCloseTo(estimate.latencyMs / 1000, 6);
      expect(double.seen.length).toBe(3);
      double.behaviour = () => ({ status: 401 });
      const refused = await cli(['eval', 'run', '--bank', file, '--base-url', `${double.url}/v1`, '--model', 'm', '--dry-run', '--probe', '2'], { env });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/none of the 2 probe requests .* was answered; check the URL, the model and HEGUI_EVAL_API_KEY/);
    } finally {
      await double.stop();
    }
  });
});
