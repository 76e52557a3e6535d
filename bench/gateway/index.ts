/**
 * @module bench/gateway
 * The gateway benchmark: an upstream that answers at once, 50 concurrent clients, one run per
 * case; hegui (every guard on: a 10,000-entry keyword library kept in the store and checked
 * for updates, on input and output, with personal-data detection in whole answers and in
 * streams; explicit notice; signed implicit label; API-key lookup; real identity required;
 * per-user and per-key rates, minors' mode (the benchmark user is a minor) and abuse
 * sanctions, counted through the store; an audit event per request in SQLite) against a
 * direct connection and Portkey's gateway on the same upstream. Reports added p50/p99 latency
 * and requests/s for non-stream and stream (time to first token). Portkey runs with a preload
 * (`portkey-fetch.mjs`) without which its streamed answers all fail with HTTP 500 under Node.
 *
 *   npx tsx bench/gateway/index.ts              # BENCH_SECONDS=10 per case by default
 *   npx tsx bench/gateway/index.ts --soak 600   # memory of hegui under load for 600 s
 *   npx tsx bench/gateway/index.ts --one-client # only the one-client table: direct, hegui and Portkey taking turns
 *   npx tsx bench/gateway/index.ts --one-client --rounds 5      # rounds of that table (default 3; medians reported)
 *   npx tsx bench/gateway/index.ts --one-client --cpu-prof DIR  # and a V8 CPU profile of hegui in DIR
 *   npx tsx bench/gateway/index.ts --one-client --base DIR      # and hegui from another checkout (before/after; profiled in DIR/base)
 *   npx tsx bench/gateway/index.ts --one-client --bare          # and a bare node:http proxy (no guards, no framework): the floor
 *   npx tsx bench/gateway/index.ts --one-client --no-portkey    # without Portkey (shorter before/after runs)
 *   npx tsx bench/gateway/index.ts --one-client --spaced 1 --bare  # streams as a model sends them: each event in a write of
 *                                               # its own, 1 ms apart (default: all in one write), so each one costs a read,
 *                                               # a guard step and a write: CPU per streamed request at real event rates
 *   npx tsx bench/gateway/index.ts --one-client --spaced 1 --tls --bare  # and the upstream over https (a self-signed
 *                                               # certificate made with openssl, trusted through NODE_EXTRA_CA_CERTS), as a
 *                                               # hosted model is reached: a new connection costs a TLS handshake
 *   npx tsx bench/gateway/index.ts --one-client --audit-window 5  # this checkout's hegui with audit.commitWindowMs 5 (answers do
 *                                               # not wait for their audit commit; a crash loses the last 5 ms of events)
 *   npx tsx bench/gateway/index.ts --instructions 300 --no-portkey [--base DIR] [--bare]
 *                                               # instructions per request under valgrind (callgrind), for hegui, base and bare:
 *                                               # a count other processes on the machine do not change
 *   npx tsx bench/gateway/index.ts --allocation 300 --no-portkey [--base DIR]
 *                                               # bytes allocated on the V8 heap per request (--trace-gc-nvp), for hegui and base
 *
 * hegui runs from a checkout's build (`bin/hegui.js`, what users run) when `npm run build` has
 * been run there, and refuses a build not made from its sources as they are now; `--sources`
 * runs the sources through tsx instead.
 *
 * Read a profile with `npx tsx bench/gateway/profile-summary.ts DIR/CPU...cpuprofile --from 8
 * --requests N` (N: the requests hegui served, printed at the end of a profiled run).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateLabelKeys } from '../../src/label/index.js';
import { compileLibrary, type KeywordEntry, parseLibrary, scanText } from '../../src/safety/index.js';
import { syntheticKeywords, syntheticText } from '../safety/data.js';
import { autocannon, type LoadResult, round, type Target, type TimedResult, timedRequests } from './load.js';
import { cpuMs, freePort, rssMiB, startProcess, stopProcess, type Started } from './processes.js';
import { buildIsCurrent } from '../../scripts/build-stamp.mjs';
import { usageIfAsked } from '../usage.js';

usageIfAsked(import.meta.url);

const root = fileURLToPath(new URL('../../', import.meta.url));
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = 50;
const soakIndex = process.argv.indexOf('--soak');
const soakSeconds = soakIndex >= 0 ? Number(process.argv[soakIndex + 1] ?? 600) : 0;
const oneClientOnly = process.argv.includes('--one-client');
const profileIndex = process.argv.indexOf('--cpu-prof');
const profileDir = profileIndex >= 0 ? process.argv[profileIndex + 1] : undefined;
const roundsIndex = process.argv.indexOf('--rounds');
const rounds = roundsIndex >= 0 ? Number(process.argv[roundsIndex + 1]) : 3;
if (!(rounds >= 1)) throw new Error('--rounds needs a number of rounds, 1 or more');
const baseIndex = process.argv.indexOf('--base');
/** Another checkout of hegui (with its node_modules), run beside this one as "hegui (base)": before and after in one run. */
const baseRoot = baseIndex >= 0 ? process.argv[baseIndex + 1] : undefined;
if (baseIndex >= 0 && !baseRoot) throw new Error('--base needs the directory of another hegui checkout');
if (profileIndex >= 0 && !profileDir) throw new Error('--cpu-prof needs a directory for the profile');
/** A bare node:http proxy to the same upstream (./bare-proxy): what any Node gateway costs at the least. */
const bare = process.argv.includes('--bare');
const withPortkey = !process.argv.includes('--no-portkey');
const windowIndex = process.argv.indexOf('--audit-window');
/** `audit.commitWindowMs` for this checkout's hegui (not the base's, which may not know it); 0: the default, every answer waits for its event. */
const auditWindowMs = windowIndex >= 0 ? Number(process.argv[windowIndex + 1]) : 0;
if (!(Number.isInteger(auditWindowMs) && auditWindowMs >= 0 && auditWindowMs <= 1000)) throw new Error('--audit-window needs a whole number of milliseconds from 0 to 1000');
const spacedIndex = process.argv.indexOf('--spaced');
/** Milliseconds between the upstream's stream events, each in its own write (./upstream `BENCH_SPACED`); undefined: all in one write. */
const spacedMs = spacedIndex >= 0 ? Number(process.argv[spacedIndex + 1]) : undefined;
if (spacedMs !== undefined && !(Number.isInteger(spacedMs) && spacedMs >= 0 && spacedMs <= 1000)) throw new Error('--spaced needs a whole number of milliseconds from 0 to 1000');
/** The upstream serves https (./upstream `BENCH_TLS_*`); only with `--one-client` (autocannon is not given the certificate). */
const tls = process.argv.includes('--tls');
if (tls && !oneClientOnly) throw new Error('--tls needs --one-client');
const instructionsIndex = process.argv.indexOf('--instructions');
/** Requests per case counted under valgrind (./instructions): machine instructions per request, whatever the load. */
const instructions = instructionsIndex >= 0 ? Number(process.argv[instructionsIndex + 1] ?? 300) : 0;
const allocationIndex = process.argv.indexOf('--allocation');
/** Requests per case whose V8 heap allocation is counted (./allocation). */
const allocation = allocationIndex >= 0 ? Number(process.argv[allocationIndex + 1] ?? 300) : 0;

/** The model's first words: what "first token" means in every stream. */
const FIRST_TOKEN = 'Sure';
const answer = `${FIRST_TOKEN}, here you go. ${syntheticText(600, [''], 7).replace(/undefined/g, '')}`;
const prompt = syntheticText(400, [''], 11).replace(/undefined/g, '');
const request = (stream: boolean): string => JSON.stringify({ model: 'bench-model', stream, messages: [{ role: 'system', content: 'You are a helpful assistant.' }, { role: 'user', content: prompt }] });

/**
 * 10,000 synthetic keywords, less those that happen to match the benchmark's prompt or answer:
 * the benchmark measures the common case, a request the guard scans in full and lets pass.
 */
function benchKeywords(): KeywordEntry[] {
  let entries: KeywordEntry[] = syntheticKeywords(10_000).map((keyword, i) => ({ keyword, risk: i % 2 ? 'A1.1' : 'A2.1', mode: 'literal', severity: 'medium' }));
  for (;;) {
    const compiled = compileLibrary(parseLibrary({ name: 'bench', entries }));
    const hits = new Set([...scanText(compiled, prompt), ...scanText(compiled, answer)].map((m) => m.keyword));
    if (hits.size === 0) return entries;
    entries = entries.filter((e) => !hits.has(e.keyword));
  }
}
const keywords = benchKeywords();

const tsx = (script: string, from = root): string[] => ['--import', 'tsx', join(from, script)];

/**
 * How `hegui` runs from a checkout: its built `bin/hegui.js` when `npm run build` has been run
 * there (what users run; tsx's loader wraps every closure for names, about 2% of the server's
 * busy time), its sources through tsx otherwise. A build not made from the sources as they are
 * now (its stamp, scripts/build-stamp.mjs) is refused: it would measure other code.
 */
function heguiCommand(from = root): string[] {
  const built = join(from, 'dist', 'cli', 'main.js');
  if (!existsSync(built) || process.argv.includes('--sources')) return tsx('src/cli/main.ts', from);
  if (!buildIsCurrent(from)) throw new Error(`${from}: the build in dist/ is not of the sources as they are now: run npm run build there (or pass --sources)`);
  return [join(from, 'bin', 'hegui.js')];
}

/** How a measured server is started: under valgrind (callgrind, instrumentation off until counted) with `--instructions`. */
function launch(args: string[], dir: string): [string, string[]] {
  if (allocation > 0) return [process.execPath, ['--trace-gc-nvp', '--import', pathToFileURL(join(root, 'bench', 'gateway', 'gc-mark.mjs')).href, ...args]];
  if (instructions === 0) return [process.execPath, args];
  return ['valgrind', ['--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${join(dir, 'callgrind.%p')}`, process.execPath, ...args]];
}
/** Start-up under valgrind takes minutes. */
const startTimeoutMs = (): number => (instructions > 0 ? 900_000 : 60_000);

/** Limits high enough never to refuse the benchmark, so their checks run on every request. */
const NEVER = 1_000_000_000;

/** A self-signed P-256 certificate for 127.0.0.1 (openssl), for `--tls`: the key's and the certificate's files. */
function selfSigned(dir: string): { key: string; cert: string } {
  const key = join(dir, 'upstream-key.pem');
  const cert = join(dir, 'upstream-cert.pem');
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`--tls: openssl could not make a certificate (is openssl installed?): ${made.stderr ?? made.error?.message}`);
  return { key, cert };
}

async function prepareHegui(dir: string, upstreamUrl: string, from = root): Promise<{ config: string; database: string; key: string }> {
  const library = join(dir, 'keywords.json');
  writeFileSync(library, JSON.stringify({ format: 'hegui-keywords/1', name: 'bench', entries: keywords }));
  const database = `file:${join(dir, 'hegui.db')}`;
  const env = { ...process.env, HEGUI_DATABASE_URL: database };
  const saved = spawnSync(process.execPath, [...heguiCommand(from), 'keywords', 'save', library], { env, encoding: 'utf8' });
  if (saved.status !== 0) throw new Error(`hegui keywords save failed: ${saved.stderr}`);
  const keyFile = join(dir, 'label-key.pem');
  writeFileSync(keyFile, generateLabelKeys('ed25519').privateKeyPem);
  const config = join(dir, 'hegui.config.yaml');
  writeFileSync(
    config,
    [
      'upstreams:',
      `  - { name: bench, url: "${upstreamUrl}/v1", models: ["*"] }`,
      'safety:',
      '  libraries: [bench]',
      // Under valgrind a request is ~50 times slower: timed work (the library check, the usage
      // sync) is spaced out as much, so it falls on as many requests as in a native run.
      ...(instructions > 0 ? ['  reloadSeconds: 300'] : []),
      'labels:',
      '  producer: "001191350100M000100Y431A001"',
      `  signingKey: ${JSON.stringify(keyFile)}`,
      '  notice: { position: start }',
      'users: { requireVerified: true }',
      `limits: { user: { requests: ${NEVER}, perSeconds: 60 }, key: { requests: ${NEVER}, perSeconds: 60 }${instructions > 0 ? ', syncMilliseconds: 10000' : ''} }`,
      `minors: { dailyRequests: ${NEVER}, dailyMinutes: 1440, reminderMinutes: 120 }`,
      ...(auditWindowMs > 0 && from === root ? [`audit: { commitWindowMs: ${auditWindowMs} }`] : []),
      '',
    ].join('\n'),
  );
  const added = spawnSync(process.execPath, [...heguiCommand(from), 'users', 'add', 'bench', '--verified', '--minor'], { env, encoding: 'utf8' });
  const key = added.stdout.trim().split('\n').at(-1) ?? '';
  if (added.status !== 0 || !key.startsWith('hg-')) throw new Error(`hegui users add failed: ${added.stderr}`);
  return { config, database, key };
}

interface CaseResult {
  target: string;
  load: LoadResult;
  timed: TimedResult;
  /** CPU time the serving process spent per request, ms (less noisy than latency on a shared machine). */
  cpuPerRequest: number | undefined;
}

async function measure(target: Target, stream: boolean): Promise<CaseResult> {
  // A short warm-up (JIT, connection pools, SQLite pages), then the measured runs.
  await timedRequests(target, request(stream), FIRST_TOKEN, connections, 2);
  const cpuBefore = target.pid ? await cpuMs(target.pid) : 0;
  const timed = await timedRequests(target, request(stream), FIRST_TOKEN, connections, seconds);
  const cpuPerRequest = target.pid ? round((await cpuMs(target.pid)) - cpuBefore) / Math.max(1, timed.count + timed.failures) : undefined;
  const load = await autocannon(target, request(stream), connections, seconds);
  if (timed.firstFailure) console.log(`${target.name}: ${timed.failures} failed; first: ${timed.firstFailure}`);
  return { target: target.name, load, timed, cpuPerRequest };
}

/** A latency for the tables; NaN (no request succeeded) reads as "failed". */
const ms = (value: number): string => (Number.isFinite(value) ? String(value) : 'failed');

function table(title: string, results: CaseResult[], stream: boolean): string {
  const direct = results.find((r) => r.target === 'direct');
  const lines = [`### ${title}`, ''];
  lines.push(stream ? '| target | TTFT p50 ms | TTFT p99 ms | added TTFT p50 | added TTFT p99 | whole p50 ms | whole p99 ms | req/s mean | req/s max | CPU ms/req | errors |' : '| target | p50 ms | p99 ms | added p50 | added p99 | req/s mean | req/s max | CPU ms/req | errors |');
  lines.push(stream ? '|---|---|---|---|---|---|---|---|---|---|---|' : '|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    const added = (a: number, b: number | undefined): string => (direct && r !== direct && b !== undefined && Number.isFinite(a - b) ? `${round(a - b)}` : '—');
    const errors = r.load.errors + r.load.non2xx + r.timed.failures;
    const cpu = r.cpuPerRequest === undefined ? '—' : r.cpuPerRequest.toFixed(3);
    if (stream) {
      lines.push(`| ${r.target} | ${ms(r.timed.firstP50)} | ${ms(r.timed.firstP99)} | ${added(r.timed.firstP50, direct?.timed.firstP50)} | ${added(r.timed.firstP99, direct?.timed.firstP99)} | ${ms(r.timed.p50)} | ${ms(r.timed.p99)} | ${Math.round(r.load.rpsMean)} | ${r.load.rpsMax} | ${cpu} | ${errors} |`);
    } else {
      lines.push(`| ${r.target} | ${ms(r.timed.p50)} | ${ms(r.timed.p99)} | ${added(r.timed.p50, direct?.timed.p50)} | ${added(r.timed.p99, direct?.timed.p99)} | ${Math.round(r.load.rpsMean)} | ${r.load.rpsMax} | ${cpu} | ${errors} |`);
    }
  }
  return lines.join('\n');
}

/** The median of some numbers (NaN when there are none or one is NaN: a failed run). */
function median(values: readonly number[]): number {
  if (values.length === 0 || values.some((v) => !Number.isFinite(v))) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Requests each target served during the one-client table, warm-ups included (to read a CPU profile per request). */
const served = new Map<string, number>();

/**
 * One client at a time: no queueing, so the difference to the direct connection is the time
 * the gateway itself adds to a request (with 50 clients on 2 cores, queueing dominates). The
 * targets take turns: each round runs every target (non-stream, then stream) before the next
 * round starts, so a noisy stretch of the machine hits them all alike; each figure is the
 * median over the rounds, and "added" is taken per round against that round's direct run.
 */
async function oneClient(targets: readonly Target[]): Promise<string> {
  const lines = [
    `### One client (time each gateway adds, without queueing), median of ${rounds} alternating rounds of ${seconds} s`,
    '',
    '| target | non-stream p50 ms | p99 ms | added p50 | added p99 | CPU ms/req | stream TTFT p50 ms | p99 ms | added p50 | added p99 | CPU ms/req |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  /** One timed run, with the CPU time the serving process spent per request (less noisy than latency on a shared VM). */
  const run = async (target: Target, stream: boolean): Promise<{ timed: TimedResult; cpu: number }> => {
    const before = target.pid ? await cpuMs(target.pid) : 0;
    const timed = await timedRequests(target, request(stream), FIRST_TOKEN, 1, seconds);
    const cpu = target.pid ? ((await cpuMs(target.pid)) - before) / Math.max(1, timed.count + timed.failures) : Number.NaN;
    count(target, timed);
    return { timed, cpu };
  };
  const count = (target: Target, timed: TimedResult): void => void served.set(target.name, (served.get(target.name) ?? 0) + timed.count + timed.failures);
  for (const target of targets) {
    // Warm up as the 50-client cases do (JIT, pools, SQLite pages), so this table measures a warm server in either mode.
    count(target, await timedRequests(target, request(false), FIRST_TOKEN, connections, 3));
    count(target, await timedRequests(target, request(true), FIRST_TOKEN, connections, 2));
    count(target, await timedRequests(target, request(false), FIRST_TOKEN, 1, 1));
  }
  const results = new Map<string, { whole: TimedResult; stream: TimedResult; wholeCpu: number; streamCpu: number }[]>();
  for (let round = 0; round < rounds; round++) {
    for (const target of targets) {
      const whole = await run(target, false);
      const stream = await run(target, true);
      results.set(target.name, [...(results.get(target.name) ?? []), { whole: whole.timed, stream: stream.timed, wholeCpu: whole.cpu, streamCpu: stream.cpu }]);
    }
  }
  const direct = results.get(targets[0]?.name ?? '') ?? [];
  const cpu = (value: number): string => (Number.isFinite(value) ? value.toFixed(3) : '—');
  const roundsLog: string[] = [];
  for (const target of targets) {
    const runs = results.get(target.name) ?? [];
    const pick = (f: (r: (typeof runs)[number]) => number): number => round(median(runs.map(f)));
    const added = (f: (r: (typeof runs)[number]) => number): string => {
      if (target === targets[0]) return '—';
      const value = round(median(runs.map((r, i) => f(r) - f(direct[i] as (typeof runs)[number]))));
      return Number.isFinite(value) ? String(value) : '—';
    };
    lines.push(
      `| ${target.name} | ${ms(pick((r) => r.whole.p50))} | ${ms(pick((r) => r.whole.p99))} | ${added((r) => r.whole.p50)} | ${added((r) => r.whole.p99)} | ${cpu(median(runs.map((r) => r.wholeCpu)))} | ${ms(pick((r) => r.stream.firstP50))} | ${ms(pick((r) => r.stream.firstP99))} | ${added((r) => r.stream.firstP50)} | ${added((r) => r.stream.firstP99)} | ${cpu(median(runs.map((r) => r.streamCpu)))} |`,
    );
    roundsLog.push(`${target.name}: non-stream p50 ${runs.map((r) => ms(r.whole.p50)).join(' / ')} ms, CPU ${runs.map((r) => cpu(r.wholeCpu)).join(' / ')}; stream TTFT p50 ${runs.map((r) => ms(r.stream.firstP50)).join(' / ')} ms, CPU ${runs.map((r) => cpu(r.streamCpu)).join(' / ')}`);
  }
  for (const target of targets) {
    const failed = (results.get(target.name) ?? []).flatMap((r) => [r.whole, r.stream]).find((t) => t.firstFailure);
    if (failed) roundsLog.push(`${target.name}: ${failed.failures} failed in one run; first: ${failed.firstFailure}`);
  }
  return `${lines.join('\n')}\n\nEach round:\n${roundsLog.map((l) => `- ${l}`).join('\n')}`;
}

async function soak(target: Target, pid: number): Promise<void> {
  const samples: { at: number; rss: number }[] = [];
  const started = performance.now();
  const sampler = setInterval(() => {
    void rssMiB(pid).then((rss) => samples.push({ at: Math.round((performance.now() - started) / 1000), rss }));
  }, 10_000);
  let requests = 0;
  for (let at = 0; at < soakSeconds; at += 60) {
    const round = await autocannon(target, request(at % 120 === 0), connections, Math.min(60, soakSeconds - at));
    requests += Math.round(round.rpsMean * Math.min(60, soakSeconds - at));
  }
  clearInterval(sampler);
  const first = samples.filter((s) => s.at <= 60).map((s) => s.rss);
  const last = samples.filter((s) => s.at >= soakSeconds - 60).map((s) => s.rss);
  const max = (values: number[]): number => Math.max(...values);
  console.log(`soak: ${soakSeconds} s, ~${requests} requests (stream and non-stream minutes alternating), 50 clients`);
  console.log(`RSS MiB every 10 s: ${samples.map((s) => s.rss).join(' ')}`);
  console.log(`max RSS first minute ${max(first)} MiB, last minute ${max(last)} MiB`);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hegui-bench-gateway-'));
  const started: Started[] = [];
  try {
    const certificate = tls ? selfSigned(dir) : undefined;
    const upstream = await startProcess(process.execPath, tsx('bench/gateway/upstream.ts'), /listening (\d+)/, { BENCH_ANSWER: answer, ...(spacedMs === undefined ? {} : { BENCH_SPACED: String(spacedMs) }), ...(certificate ? { BENCH_TLS_KEY: certificate.key, BENCH_TLS_CERT: certificate.cert } : {}) });
    started.push(upstream);
    const upstreamUrl = `${tls ? 'https' : 'http'}://127.0.0.1:${upstream.match[1]}`;
    // Every gateway trusts the benchmark's certificate as users add their own CA.
    if (certificate) process.env.NODE_EXTRA_CA_CERTS = certificate.cert;
    const hegui = await prepareHegui(dir, upstreamUrl);
    const heguiPort = await freePort();
    const profile = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
    const server = await startProcess(...launch([...profile, ...heguiCommand(), 'serve', '--config', hegui.config, '--port', String(heguiPort), '--database', hegui.database], dir), /hegui listening on (http:\/\/\S+)/, {}, startTimeoutMs());
    started.push(server);
    const heguiTarget: Target = { name: auditWindowMs > 0 ? `hegui (every guard on, audit window ${auditWindowMs} ms)` : 'hegui (every guard on)', url: `${server.match[1]}/v1/chat/completions`, headers: { authorization: `Bearer ${hegui.key}` }, pid: server.child.pid as number };
    if (soakSeconds > 0) {
      await soak(heguiTarget, server.child.pid as number);
      return;
    }
    const direct: Target = { name: 'direct', url: `${upstreamUrl}/v1/chat/completions`, headers: {}, pid: upstream.child.pid as number, ...(certificate ? { ca: readFileSync(certificate.cert, 'utf8') } : {}) };
    const targets: Target[] = [direct, heguiTarget];
    if (withPortkey) {
      const portkeyPort = await freePort();
      // The preload mends a bug of Portkey's under Node that fails every streamed request (portkey-fetch.mjs).
      const portkey = await startProcess(process.execPath, ['--import', pathToFileURL(join(root, 'bench/gateway/portkey-fetch.mjs')).href, join(root, 'node_modules/@portkey-ai/gateway/build/start-server.js'), `--port=${portkeyPort}`, '--headless'], /Ready for connections/);
      started.push(portkey);
      targets.push({ name: 'Portkey 1.15.2', url: `http://127.0.0.1:${portkeyPort}/v1/chat/completions`, headers: { authorization: 'Bearer sk-bench', 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `${upstreamUrl}/v1` }, pid: portkey.child.pid as number });
    }
    if (bare) {
      const proxy = await startProcess(...launch(tsx('bench/gateway/bare-proxy.ts'), dir), /listening (\d+)/, { UPSTREAM: upstreamUrl }, startTimeoutMs());
      started.push(proxy);
      targets.push({ name: 'bare node:http proxy', url: `http://127.0.0.1:${proxy.match[1]}/v1/chat/completions`, headers: {}, pid: proxy.child.pid as number });
    }
    if (baseRoot) {
      const baseDir = join(dir, 'base');
      mkdirSync(baseDir);
      const base = await prepareHegui(baseDir, upstreamUrl, baseRoot);
      const basePort = await freePort();
      const baseProfile = profileDir ? ['--cpu-prof', '--cpu-prof-dir', join(profileDir, 'base')] : [];
      const baseServer = await startProcess(...launch([...baseProfile, ...heguiCommand(baseRoot), 'serve', '--config', base.config, '--port', String(basePort), '--database', base.database], dir), /hegui listening on (http:\/\/\S+)/, {}, startTimeoutMs());
      started.push(baseServer);
      targets.splice(2, 0, { name: `hegui base (${baseRoot})`, url: `${baseServer.match[1]}/v1/chat/completions`, headers: { authorization: `Bearer ${base.key}` }, pid: baseServer.child.pid as number });
    }
    if (allocation > 0) {
      const { countAllocation } = await import('./allocation.js');
      const children = new Map(targets.map((t) => [t.name, started.find((p) => p.child.pid === t.pid)?.child] as const).filter((e): e is [string, NonNullable<(typeof e)[1]>] => e[1] !== undefined));
      console.log(await countAllocation(targets, children, request, allocation));
      return;
    }
    if (instructions > 0) {
      const { countInstructions } = await import('./instructions.js');
      console.log(await countInstructions(targets, request, instructions, dir));
      return;
    }
    if (oneClientOnly) {
      console.log(`one client: ${rounds} rounds of ${seconds} s, answer ${answer.length} characters${spacedMs === undefined ? '' : ` (stream events in writes of their own, ${spacedMs} ms apart)`}${tls ? ', upstream over https' : ''}, ${keywords.length} keywords, Node ${process.version}, load average before ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
      console.log(`\n${await oneClient(targets)}`);
      console.log(`\nload average after ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
      if (profileDir) console.log(`requests served while profiled (for profile-summary.ts --requests): ${[...served].map(([name, n]) => `${name} ${n}`).join(', ')}`);
      return;
    }
    console.log(`gateway benchmark: ${connections} clients, ${seconds} s per case, answer ${answer.length} characters, ${keywords.length} keywords, Node ${process.version}`);
    for (const stream of [false, true]) {
      const results: CaseResult[] = [];
      for (const target of targets) results.push(await measure(target, stream));
      console.log(`\n${table(stream ? 'Stream (time to first token), 50 clients' : 'Non-stream, 50 clients', results, stream)}`);
    }
    console.log(`\n${await oneClient(targets)}`);
  } finally {
    for (const process of started.reverse()) await stopProcess(process.child);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
