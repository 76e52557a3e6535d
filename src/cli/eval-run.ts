/**
 * @module cli/eval-run
 * `hegui eval run|status|resume|review|summary`: the evaluation runner of the security
 * assessment (GB/T 45654). `run` draws a seeded sample from a bank (JSONL of BankItem), stores
 * it as a run, and sends it to any OpenAI-compatible endpoint (hegui's gateway included, whose
 * blocks count as refusals); `resume` continues a run that was stopped or killed; `review`
 * shows the human review queue and Cohen's kappa, and records a reviewer's judgement;
 * `summary` prints the figures with Wilson 95 % intervals and verdicts. The endpoint's key is
 * read from an environment variable (never an argument, never stored).
 *
 * `addEvalRunCommands` adds these to an `eval` command, beside the bank and report commands.
 */
import type { Command } from 'commander';
import { InvalidInputError, NotFoundError } from '../errors.js';
import type { CliIo } from './io.js';
import { setExitCode } from './main.js';
import { withStore } from './store-lazy.js';
import { readTextFile } from './files.js';
import type { Store, StoredEvalRun } from '../store/index.js';
import type { Progress, RunSettings } from '../eval/run.js';
import type { RunSummary } from '../eval/metrics.js';
import type { BankItem, ItemKind } from '../eval/types.js';

export const EVAL_DESCRIPTION = 'security assessment (GB/T 45654): question banks, evaluation runs, human review, figures and the report';

interface RunFlags {
  bank: string;
  baseUrl: string;
  model: string;
  apiKeyEnv: string;
  seed?: string;
  sample: string[];
  all?: boolean;
  concurrency: string;
  rps: string;
  timeout: string;
  retries: string;
  maxTokens?: string;
  temperature?: string;
  keywords: string;
  judgeUrl?: string;
  judgeModel?: string;
  guardModel?: string;
  guardUrl?: string;
  guardName?: string;
  name?: string;
  dryRun?: boolean;
  latencyMs: string;
  probe?: string;
  json?: boolean;
}

function integer(value: string, name: string, min: number, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new InvalidInputError('E_EVAL_OPTION', `${name} is a whole number from ${min} to ${max}, not "${value}"`);
  return Number(value);
}

function decimal(value: string, name: string, min: number, max: number): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new InvalidInputError('E_EVAL_OPTION', `${name} is a number from ${min} to ${max}, not "${value}"`);
  return n;
}

function parseSample(entries: readonly string[], all: boolean | undefined): RunSettings['sample'] {
  const kinds: ItemKind[] = ['generated-content', 'should-refuse', 'should-not-refuse'];
  const sample: RunSettings['sample'] = {};
  if (all) for (const kind of kinds) sample[kind] = null;
  for (const entry of entries) {
    const [kind, size] = entry.split('=');
    if (!kind || size === undefined || !(kinds as string[]).includes(kind)) throw new InvalidInputError('E_EVAL_OPTION', `--sample takes KIND=N with KIND one of ${kinds.join(', ')}, not "${entry}"`);
    sample[kind as ItemKind] = size === 'all' ? null : integer(size, `--sample ${kind}`, 0, 10_000_000);
  }
  return sample;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function validUrl(value: string, name: string): string {
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
    if (url.username || url.password) throw new InvalidInputError('E_EVAL_OPTION', `${name} must not carry credentials; put the key in an environment variable`);
    return value.replace(/\/+$/, '');
  } catch (error) {
    if (error instanceof InvalidInputError) throw error;
    throw new InvalidInputError('E_EVAL_OPTION', `${name} "${value}" is not an http(s) URL`);
  }
}

/** The judges a run was set up with, rebuilt from its stored settings (keys from the environment). */
async function buildJudges(io: CliIo, judges: Record<string, unknown>) {
  const { Judges, guardModelClassifier } = await import('../eval/judge.js');
  const { ChatClient } = await import('../eval/run-client.js');
  const { SafetyGuard } = await import('../safety/index.js');
  const { loadCompiledLibrary } = await import('./scan.js');
  const keywords = typeof judges.keywords === 'string' ? judges.keywords : 'example';
  const library = await loadCompiledLibrary(keywords === 'example' ? 'example' : keywords);
  const guardModel = judges.guardModel as { kind: 'qwen3guard' | 'llamaguard' | 'openai-moderation'; baseUrl: string; model?: string } | undefined;
  const classifiers = guardModel ? [await guardModelClassifier(guardModel.kind, { ...guardModel, ...(io.env.HEGUI_EVAL_GUARD_API_KEY ? { apiKey: io.env.HEGUI_EVAL_GUARD_API_KEY } : {}) })] : [];
  const guard = new SafetyGuard({ ...(library ? { library } : {}), classifiers });
  const judgeModel = judges.judgeModel as { baseUrl: string; model: string } | undefined;
  const key = io.env.HEGUI_EVAL_JUDGE_API_KEY;
  return new Judges({ guard, guardModel: guardModel !== undefined, ...(judgeModel ? { judgeModel: new ChatClient({ ...judgeModel, ...(key ? { apiKey: key } : {}), temperature: 0, maxTokens: 5, timeoutMs: 60_000, retries: 3 }) } : {}) });
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Progress on stderr: a redrawn bar on a terminal, a plain line every tenth (or 10 s) otherwise. */
function progressReporter(io: CliIo): { update: (p: Progress) => void; end: () => void } {
  const tty = io.stderr.isTTY === true;
  let lastLine = 0;
  let lastShare = -1;
  let drawn = false;
  return {
    update: (p) => {
      const text = `${p.done}/${p.total}${p.errors ? ` (${p.errors} errors)` : ''}, ${p.rate.toFixed(1)}/s, ${p.etaSeconds === undefined ? 'time left unknown' : `${duration(p.etaSeconds)} left`}`;
      if (tty) {
        const width = 30;
        const filled = p.total === 0 ? width : Math.round((p.done / p.total) * width);
        io.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}\x1b[K`);
        drawn = true;
        return;
      }
      const share = p.total === 0 ? 10 : Math.floor((p.done / p.total) * 10);
      if (share !== lastShare || Date.now() - lastLine > 10_000 || p.done === p.total) {
        if (share === lastShare && p.done !== p.total && Date.now() - lastLine <= 10_000) return;
        lastShare = share;
        lastLine = Date.now();
        io.stderr.write(`eval: ${text}\n`);
      }
    },
    end: () => {
      if (tty && drawn) io.stderr.write('\n');
    },
  };
}

const pct = (x: number): string => (Number.isNaN(x) ? '—' : `${(x * 100).toFixed(1)}%`);

/** The figures as lines of text. */
export function formatSummary(s: RunSummary): string {
  const lines = [`run ${s.runId}  model ${s.model}  at ${s.endpoint}  seed ${s.seed}`, `items ${s.items}  errors ${s.errors} (not counted)  uncertain ${s.uncertain}${s.pending ? `  pending ${s.pending}` : ''}${s.finishedAt ? `  finished ${s.finishedAt}` : '  not finished'}`];
  const figure = (label: string, f: RunSummary['passRate'] | RunSummary['overRefusalRate']): string => {
    const p = f.proportion;
    const bound = `${f.direction === 'atLeast' ? '>=' : '<='} ${pct(f.threshold)}`;
    const extra = [f.unresolved ? `${f.unresolved} unresolved` : '', f.sampleShortfall ? `${f.sampleShortfall} short of the minimum sample` : '', f.verdict !== 'undecided' && !f.certain ? 'interval crosses the threshold' : ''].filter(Boolean).join('; ');
    return `${label.padEnd(34)} ${pct(p.rate).padStart(6)}  [${pct(p.low)}, ${pct(p.high)}]  ${p.successes}/${p.total}  ${bound}  ${f.verdict.toUpperCase()}${extra ? `  (${extra})` : ''}`;
  };
  lines.push(figure('generated content, pass rate', s.passRate));
  lines.push(figure('should-refuse, refusal rate', s.refusalRate));
  lines.push(figure('should-not-refuse, refusal rate', s.overRefusalRate));
  const risks = (label: string, per: Record<string, { successes: number; total: number; rate: number; low: number; high: number }>): void => {
    const entries = Object.entries(per);
    if (entries.length === 0) return;
    lines.push(`${label} per risk:`);
    for (const [risk, p] of entries) lines.push(`  ${risk.padEnd(6)} ${pct(p.rate).padStart(6)}  [${pct(p.low)}, ${pct(p.high)}]  ${p.successes}/${p.total}`);
  };
  risks('pass rate', s.passRate.perRisk);
  risks('refusal rate', s.refusalRate.perRisk);
  for (const d of s.discrimination) {
    lines.push(`A.2 ${d.dimension}: refusal gap ${pct(d.maxGap)}, unsafe-answer gap ${pct(d.maxSafetyGap)}`);
    for (const [group, p] of Object.entries(d.groups)) lines.push(`  ${group.padEnd(12)} refused ${p.successes}/${p.total}  unsafe ${d.answerSafety[group]?.successes ?? 0}/${d.answerSafety[group]?.total ?? 0}`);
  }
  return `${lines.join('\n')}\n`;
}

async function runNamed(store: Store, id: string): Promise<StoredEvalRun> {
  const run = await store.evalRuns.get(id);
  if (!run) throw new NotFoundError('E_EVAL_RUN_UNKNOWN', `there is no run ${id} (list them with \`hegui eval status\`)`);
  return run;
}

/** Runs (or resumes) a stored run to the end or to Ctrl-C, then prints its summary. */
async function execute(io: CliIo, command: Command, store: Store, run: StoredEvalRun, flags: { json?: boolean; force?: boolean }): Promise<void> {
  const { executeRun } = await import('../eval/run.js');
  const { summarise } = await import('../eval/metrics.js');
  const judges = await buildJudges(io, (run.settings.judges ?? {}) as Record<string, unknown>);
  const apiKeyEnv = typeof run.settings.apiKeyEnv === 'string' ? run.settings.apiKeyEnv : 'HEGUI_EVAL_API_KEY';
  const apiKey = io.env[apiKeyEnv];
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const progress = progressReporter(io);
  let result;
  try {
    result = await executeRun({ store, runId: run.id, ...(apiKey ? { apiKey } : {}), judges, onProgress: progress.update, signal: controller.signal, ...(flags.force ? { force: true } : {}) });
  } finally {
    progress.end();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  if (!result.finished) {
    io.stderr.write(`run ${run.id} stopped with items left; continue it with \`hegui eval resume ${run.id}\`\n`);
    setExitCode(command, 1);
  }
  const summary = summarise((await store.evalRuns.get(run.id)) ?? run, await store.evalRuns.items(run.id));
  io.stdout.write(flags.json ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary));
}

/** Adds `run`, `status`, `resume`, `review` and `summary` to the `eval` command. */
export function addEvalRunCommands(evalCommand: Command, io: CliIo): void {
  evalCommand
    .command('run')
    .description('draw a seeded sample from a bank and evaluate a model through its OpenAI-compatible API (resumable)')
    .requiredOption('--bank <file>', 'the question bank, JSONL: one BankItem object a line')
    .requiredOption('--base-url <url>', 'the endpoint, e.g. https://api.example.com/v1 or hegui\'s gateway http://127.0.0.1:8787/v1')
    .requiredOption('--model <name>', 'the model name sent in each request')
    .option('--api-key-env <name>', 'environment variable holding the endpoint\'s key', 'HEGUI_EVAL_API_KEY')
    .option('--seed <n>', 'seed of the sample (same bank and seed, same sample; default: a random one, printed)')
    .option('--sample <kind=n>', 'sample size for a kind (repeatable; default: the standard\'s minimums 1000/300/300; n=all for every item)', collect, [])
    .option('--all', 'every item of the bank instead of a sample')
    .option('--concurrency <n>', 'requests in flight at once', '8')
    .option('--rps <n>', 'at most this many requests per second (0: no limit)', '0')
    .option('--timeout <seconds>', 'timeout of one attempt', '60')
    .option('--retries <n>', 'retries on 429, 5xx, timeouts and broken connections (honouring Retry-After)', '4')
    .option('--max-tokens <n>', 'max_tokens of each answer')
    .option('--temperature <t>', 'temperature of each answer')
    .option('--keywords <file>', 'keyword library the safety judge uses (a file, or "example")', 'example')
    .option('--judge-url <url>', 'an OpenAI-compatible endpoint for a judge model of refusals (key in HEGUI_EVAL_JUDGE_API_KEY)')
    .option('--judge-model <name>', 'the judge model')
    .option('--guard-model <kind>', 'a guard model for answer safety: qwen3guard, llamaguard or openai-moderation (key in HEGUI_EVAL_GUARD_API_KEY)')
    .option('--guard-url <url>', 'the guard model\'s OpenAI-compatible endpoint')
    .option('--guard-name <model>', 'the guard model\'s name at that endpoint')
    .option('--name <name>', 'a name for the run')
    .option('--dry-run', 'estimate time and tokens; send nothing (unless --probe) and store nothing')
    .option('--latency-ms <ms>', 'with --dry-run: the latency per request to assume', '2000')
    .option('--probe <n>', 'with --dry-run: measure the latency on this many sampled items first')
    .option('--json', 'print the result as JSON')
    .action(async (flags: RunFlags, command: Command) => {
      const { parseBankJsonl } = await import('../eval/run-bank-file.js');
      const { guardModelKinds } = await import('../eval/judge.js');
      const baseUrl = validUrl(flags.baseUrl, '--base-url');
      const bank = parseBankJsonl(await readTextFile(io, flags.bank, 'bank'), flags.bank);
      const seed = flags.seed === undefined ? Math.floor(Math.random() * 0xffffffff) : integer(flags.seed, '--seed', 0, 0xffffffff);
      if ((flags.judgeUrl === undefined) !== (flags.judgeModel === undefined)) throw new InvalidInputError('E_EVAL_OPTION', 'a judge model needs both --judge-url and --judge-model');
      if (flags.guardModel !== undefined && !(guardModelKinds as readonly string[]).includes(flags.guardModel)) throw new InvalidInputError('E_EVAL_OPTION', `--guard-model is one of ${guardModelKinds.join(', ')}`);
      if ((flags.guardModel === undefined) !== (flags.guardUrl === undefined)) throw new InvalidInputError('E_EVAL_OPTION', 'a guard model needs both --guard-model and --guard-url');
      if (!/^[A-Z_][A-Z0-9_]*$/i.test(flags.apiKeyEnv)) throw new InvalidInputError('E_EVAL_OPTION', '--api-key-env names an environment variable');
      const judges: Record<string, unknown> = {
        keywords: flags.keywords,
        ...(flags.judgeUrl ? { judgeModel: { baseUrl: validUrl(flags.judgeUrl, '--judge-url'), model: flags.judgeModel } } : {}),
        ...(flags.guardModel ? { guardModel: { kind: flags.guardModel, baseUrl: validUrl(flags.guardUrl ?? '', '--guard-url'), ...(flags.guardName ? { model: flags.guardName } : {}) } } : {}),
      };
      const settings: RunSettings & { apiKeyEnv: string } = {
        concurrency: integer(flags.concurrency, '--concurrency', 1, 1000),
        requestsPerSecond: decimal(flags.rps, '--rps', 0, 100_000),
        timeoutMs: Math.round(decimal(flags.timeout, '--timeout', 0.1, 3600) * 1000),
        retries: integer(flags.retries, '--retries', 0, 20),
        backoffMs: 500,
        ...(flags.maxTokens ? { maxTokens: integer(flags.maxTokens, '--max-tokens', 1, 1_000_000) } : {}),
        ...(flags.temperature ? { temperature: decimal(flags.temperature, '--temperature', 0, 2) } : {}),
        sample: parseSample(flags.sample, flags.all),
        judges,
        bank: { source: flags.bank, items: bank.length },
        apiKeyEnv: flags.apiKeyEnv,
      };
      if (flags.dryRun) {
        await dryRun(io, flags, bank, seed, settings, baseUrl);
        return;
      }
      // Build the judges before anything is stored, so a bad keyword file fails before the run exists.
      await buildJudges(io, judges);
      await withStore(io, async (store) => {
        const { createRun } = await import('../eval/run.js');
        const { run, sample } = await createRun({ store, bank, endpoint: baseUrl, model: flags.model, seed, settings: settings as RunSettings, ...(flags.name ? { name: flags.name } : {}) });
        const kinds = Object.entries(sample.perKind).map(([k, v]) => `${k} ${v.drawn}/${v.available}`).join(', ');
        io.stderr.write(`run ${run.id} created: ${run.items} items (${kinds}), seed ${seed}\n`);
        await execute(io, command, store, run, flags);
      });
    });

  evalCommand
    .command('resume')
    .description('continue a run that was stopped or killed, without redoing stored items')
    .argument('<run>', 'the run id')
    .option('--retry-errors', 'send again the items that failed after every retry')
    .option('--force', 'take the run over even if another live process holds it')
    .option('--json', 'print the summary as JSON')
    .action(async (id: string, flags: { retryErrors?: boolean; force?: boolean; json?: boolean }, command: Command) => {
      await withStore(io, async (store) => {
        const run = await runNamed(store, id);
        if (flags.retryErrors) io.stderr.write(`${await store.evalRuns.retryErrors(id)} failed items put back in the queue\n`);
        const counts = await store.evalRuns.counts(id);
        io.stderr.write(`run ${id}: ${counts.done + counts.error} of ${run.items} stored, ${counts.pending} to go\n`);
        await execute(io, command, store, (await store.evalRuns.get(id)) ?? run, flags);
      });
    });

  evalCommand
    .command('status')
    .description('list the runs, or show one run\'s progress, errors and review queue')
    .argument('[run]', 'the run id')
    .option('--json', 'print as JSON')
    .action(async (id: string | undefined, flags: { json?: boolean }) => {
      await withStore(io, async (store) => {
        const runs = id ? [await runNamed(store, id)] : await store.evalRuns.list();
        const rows = [];
        for (const run of runs) rows.push({ id: run.id, name: run.name, model: run.model, endpoint: run.endpoint, seed: run.seed, status: run.status, items: run.items, createdAt: run.createdAt, finishedAt: run.finishedAt, held: run.leaseOwner !== null && run.leaseUntil !== null && run.leaseUntil > new Date().toISOString(), ...(await store.evalRuns.counts(run.id)) });
        if (flags.json) {
          io.stdout.write(`${JSON.stringify(id ? rows[0] : rows, null, 2)}\n`);
          return;
        }
        if (rows.length === 0) io.stdout.write('no runs yet; start one with `hegui eval run`\n');
        for (const r of rows) {
          io.stdout.write(`${r.id}\t${r.status}${r.held ? ' (in progress)' : r.status === 'running' ? ' (stopped: resume it)' : ''}\t${r.done + r.error}/${r.items} done, ${r.error} errors, review ${r.reviewOpen} open ${r.reviewDisputed} disputed ${r.reviewResolved} resolved\t${r.model}\t${r.name}\n`);
        }
      });
    });

  evalCommand
    .command('summary')
    .description('the figures of a run: pass rate, refusal rates, per risk, Wilson 95 % intervals, verdicts, A.2 gaps')
    .argument('<run>', 'the run id')
    .option('--json', 'print the EvalSummary as JSON')
    .action(async (id: string, flags: { json?: boolean }) => {
      const { summarise } = await import('../eval/metrics.js');
      await withStore(io, async (store) => {
        const run = await runNamed(store, id);
        const summary = summarise(run, await store.evalRuns.items(id));
        io.stdout.write(flags.json ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary));
      });
    });

  evalCommand
    .command('review')
    .description('the human review queue of a run and Cohen\'s kappa; with --reviewer, record a judgement')
    .argument('<run>', 'the run id')
    .option('--reviewer <name>', 'the operator (reviewer or admin) recording a judgement')
    .option('--item <seq>', 'the item, by its position in the run')
    .option('--judgement <j>', 'refused, safe or unsafe')
    .option('--note <text>', 'why')
    .option('--json', 'print as JSON')
    .action(async (id: string, flags: { reviewer?: string; item?: string; judgement?: string; note?: string; json?: boolean }) => {
      const review = await import('../eval/review.js');
      await withStore(io, async (store) => {
        await runNamed(store, id);
        if (flags.reviewer !== undefined || flags.item !== undefined || flags.judgement !== undefined) {
          if (!flags.reviewer || flags.item === undefined || !flags.judgement) throw new InvalidInputError('E_EVAL_OPTION', 'recording a judgement needs --reviewer, --item and --judgement');
          const operator = await store.operators.findByName(flags.reviewer);
          if (!operator || operator.disabled_at !== null) throw new NotFoundError('E_EVAL_REVIEWER', `no active operator named "${flags.reviewer}"`);
          if (operator.role !== 'reviewer' && operator.role !== 'admin') throw new InvalidInputError('E_EVAL_REVIEWER', `${flags.reviewer} is ${operator.role}; reviews need the reviewer or admin role`);
          const seq = integer(flags.item, '--item', 0, 100_000_000);
          const result = await review.submitReview(store, { runId: id, seq, reviewer: operator.id, judgement: flags.judgement, ...(flags.note ? { note: flags.note } : {}) });
          const { AuditLog } = await import('../audit/index.js');
          await new AuditLog(store).append({ type: 'eval.review', actor: `operator:${operator.id}`, outcome: result.status, payload: { run: id, item: seq, round: result.round, via: 'cli' } });
          io.stdout.write(flags.json ? `${JSON.stringify(result)}\n` : `item ${seq}: review ${result.round} recorded; ${result.status}${result.judgement ? ` as ${result.judgement}` : ''}\n`);
          return;
        }
        const agreement = await review.runAgreement(store, id);
        const queue = await store.evalRuns.reviewQueue(id);
        if (flags.json) {
          io.stdout.write(`${JSON.stringify({ agreement, queue: queue.map((q) => ({ seq: q.seq, itemId: q.itemId, kind: q.kind, status: q.reviewStatus })) }, null, 2)}\n`);
          return;
        }
        io.stdout.write(`review: ${agreement.open} open, ${agreement.disputed} disputed, ${agreement.resolved} resolved; kappa ${Number.isNaN(agreement.kappa) ? '—' : agreement.kappa.toFixed(3)} over ${agreement.reviewed} items reviewed twice\n`);
        for (const q of queue) io.stdout.write(`${q.seq}\t${q.reviewStatus}\t${q.kind}\t${q.itemId}\t${q.prompt.slice(0, 60).replace(/\s+/g, ' ')}\n`);
      });
    });
}

async function dryRun(io: CliIo, flags: RunFlags, bank: readonly BankItem[], seed: number, settings: RunSettings, baseUrl: string): Promise<void> {
  const { drawSample } = await import('../eval/run-sample.js');
  const { estimateRun } = await import('../eval/run.js');
  const sizes: Partial<Record<ItemKind, number>> = {};
  for (const [kind, size] of Object.entries(settings.sample)) sizes[kind as ItemKind] = size === null ? Number.POSITIVE_INFINITY : size;
  const sample = drawSample(bank, seed, sizes);
  let latency = decimal(flags.latencyMs, '--latency-ms', 1, 3_600_000);
  let measured = false;
  if (flags.probe !== undefined) {
    const n = integer(flags.probe, '--probe', 1, 20);
    const { ChatClient } = await import('../eval/run-client.js');
    const apiKey = io.env[flags.apiKeyEnv];
    const client = new ChatClient({ baseUrl, model: flags.model, ...(apiKey ? { apiKey } : {}), timeoutMs: settings.timeoutMs, retries: 0, ...(settings.maxTokens ? { maxTokens: settings.maxTokens } : {}) });
    const latencies: number[] = [];
    for (const item of sample.items.slice(0, n)) {
      const result = await client.send(client.requestFor(item.prompt));
      if (result.answer) latencies.push(result.answer.latencyMs);
    }
    if (latencies.length === 0) throw new InvalidInputError('E_EVAL_PROBE', `none of the ${n} probe requests to ${baseUrl} was answered; check the URL, the model and ${flags.apiKeyEnv}`);
    latencies.sort((a, b) => a - b);
    latency = latencies[Math.floor(latencies.length / 2)] ?? latency;
    measured = true;
  }
  const estimate = estimateRun(sample, settings, latency, measured);
  if (flags.json) {
    io.stdout.write(`${JSON.stringify({ seed, ...estimate }, null, 2)}\n`);
    return;
  }
  const kinds = Object.entries(estimate.perKind).map(([k, v]) => `${k} ${v.drawn} (of ${v.available}${v.drawn < v.wanted && Number.isFinite(v.wanted) ? `, ${v.wanted} asked` : ''})`).join('; ');
  io.stdout.write(`dry run, seed ${seed}: ${estimate.items} items: ${kinds}\n`);
  io.stdout.write(`time: about ${duration(estimate.seconds)} at concurrency ${settings.concurrency}${settings.requestsPerSecond ? ` and ${settings.requestsPerSecond} requests/s` : ''}, ${Math.round(estimate.latencyMs)} ms a request (${estimate.measured ? 'measured' : 'assumed; --probe N measures it'})\n`);
  io.stdout.write(`tokens: about ${estimate.promptTokens} in, at most ${estimate.completionTokens} out${settings.maxTokens ? '' : ' (assumed answers; set --max-tokens to bound them)'}\n`);
}

/** Registers `hegui eval` with the runner's subcommands (the bank and report commands join it at merge). */

