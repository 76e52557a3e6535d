/**
 * @module bench/safety
 * `npx tsx bench/safety/index.ts [--mb 50] [--keywords 20000]`: hegui's keyword matcher
 * against the npm peers, in one run, on the same synthetic 20,000-keyword library and the same
 * 50 MB of mixed Chinese and English text (generated from a seed into `.bench-data/`):
 * - throughput of each tool over every line of the text, in CPU time (user + system; this VM
 *   is shared, so CPU time is steadier than wall time), as MB/s of UTF-8 and as a ratio to
 *   the fastest peer;
 * - build time of each tool for the library, and of hegui for 100,000 keywords;
 * - recall of each tool on the evasion set, per transform.
 * Prints a Markdown report for bench/RESULTS.md. Runs `cli.ts` (the whole-process scan
 * against the peers' commands) and `cache.ts` (loading a 100,000-word library from its
 * compiled cache) first, each in its own process.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { compileLibrary } from '../../src/safety/index.js';
import { cached, numberOption, syntheticKeywords, syntheticText } from './data.js';
import { evasionSet } from './evasion.js';
import { benchLibrary, tools } from './peers.js';
import type { Matcher } from './peers.js';
import { usageIfAsked } from '../usage.js';

usageIfAsked(import.meta.url);

// Whole-process first (issue 14): `hegui scan --file` against the peers as commands, in its own process.
console.log('=== bench/safety/cli.ts (whole process; needs npm run build)');
const wholeProcess = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'cli.ts'), ...process.argv.slice(2)], { stdio: 'inherit' });
if (wholeProcess.status !== 0) console.error(`bench/safety/cli.ts failed with status ${wholeProcess.status}`);
console.log('\n=== bench/safety/cache.ts (compiled-library cache load)');
const cacheLoad = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'cache.ts')], { stdio: 'inherit' });
if (cacheLoad.status !== 0) console.error(`bench/safety/cache.ts failed with status ${cacheLoad.status}`);
console.log('\n=== in-process matchers');

const megabytes = numberOption('mb', 50);
const keywordCount = numberOption('keywords', 20_000);
const root = join(import.meta.dirname, '..', '..');

/** CPU and wall milliseconds of `work`. */
function measure<T>(work: () => T): { value: T; cpu: number; wall: number } {
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  const value = work();
  const used = process.cpuUsage(cpu0);
  return { value, cpu: (used.user + used.system) / 1000, wall: performance.now() - wall0 };
}

const fmt = (n: number, digits = 1): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

console.log(`generating or reading ${keywordCount} keywords and ${megabytes} MB of text in .bench-data/ ...`);
const keywords = (await cached(root, `safety-keywords-${keywordCount}.txt`, () => syntheticKeywords(keywordCount).join('\n'))).split('\n');
const text = await cached(root, `safety-text-${megabytes}mb.txt`, () => syntheticText(megabytes * 1_000_000, keywords));
const lines = text.split('\n');
const bytes = Buffer.byteLength(text);
console.log(`${keywords.length} keywords; ${fmt(bytes / 1e6)} MB, ${text.length.toLocaleString('en-US')} UTF-16 units, ${lines.length.toLocaleString('en-US')} lines (each line is one scan)`);

interface Row {
  name: string;
  kind: string;
  buildCpu: number;
  scanCpu: number;
  scanWall: number;
  hits: number;
  recall: Map<string, number>;
}

const evasion = evasionSet(keywords, 100);
const transforms = [...new Set(evasion.map((e) => e.transform))];
const rows: Row[] = [];
for (const tool of tools) {
  const built = measure(() => tool.build(keywords));
  const matcher: Matcher = built.value;
  // Warm-up on the first thousand lines, then one timed pass over all of them.
  for (const line of lines.slice(0, 1000)) matcher.count(line);
  const scanned = measure(() => {
    let hits = 0;
    for (const line of lines) hits += matcher.count(line);
    return hits;
  });
  const recall = new Map<string, number>();
  for (const transform of transforms) {
    const items = evasion.filter((e) => e.transform === transform);
    recall.set(transform, items.filter((e) => matcher.finds(e.text, e.keyword)).length / items.length);
  }
  rows.push({ name: tool.name, kind: tool.kind, buildCpu: built.cpu, scanCpu: scanned.cpu, scanWall: scanned.wall, hits: scanned.value, recall });
  console.log(`${tool.name}: build ${fmt(built.cpu, 0)} ms, scan ${fmt(scanned.cpu, 0)} ms CPU (${fmt(scanned.wall, 0)} ms wall), ${scanned.value} hits`);
}

const peers = rows.filter((r) => !r.name.startsWith('hegui'));
const fastestPeer = peers.reduce((a, b) => (a.scanCpu <= b.scanCpu ? a : b));
const throughput = (r: Row): number => bytes / 1e6 / (r.scanCpu / 1000);

// Build time of 100,000 keywords: hegui from nothing (fold table included), median of 5.
const hundredThousand = syntheticKeywords(100_000, 100_000);
const buildRuns = Array.from({ length: 5 }, () => measure(() => compileLibrary(benchLibrary(hundredThousand, false))));
const buildCpu = buildRuns.map((r) => r.cpu).sort((a, b) => a - b)[2] as number;
const buildWall = buildRuns.map((r) => r.wall).sort((a, b) => a - b)[2] as number;
const nodes = buildRuns[0]?.value.automaton.size ?? 0;

const out: string[] = [];
out.push(`Library: ${keywords.length.toLocaleString('en-US')} synthetic keywords (80% Chinese, 2-6 characters; 20% English, 4-10 letters). Text: ${fmt(bytes / 1e6)} MB of mixed Chinese and English (${text.length.toLocaleString('en-US')} UTF-16 units), scanned line by line (${lines.length.toLocaleString('en-US')} lines, one scan each). Times are CPU time (user + system) of one pass after a warm-up.`);
out.push('');
out.push('| tool | matches on | build (CPU) | scan (CPU) | scan (wall) | MB/s (CPU) | vs fastest peer | hits |');
out.push('|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  out.push(`| ${r.name} | ${r.kind} | ${fmt(r.buildCpu, 0)} ms | ${fmt(r.scanCpu, 0)} ms | ${fmt(r.scanWall, 0)} ms | ${fmt(throughput(r))} | **${fmt(fastestPeer.scanCpu / r.scanCpu, 2)}x** | ${r.hits.toLocaleString('en-US')} |`);
}
out.push('');
out.push(`Fastest peer: ${fastestPeer.name}. hegui's hit count is higher with normalisation on because it also finds keywords across noise (spaces, punctuation) and repeats, which literal matchers cannot see.`);
out.push('');
out.push(`Build of 100,000 keywords (hegui, every transform on, literal entries; ${nodes.toLocaleString('en-US')} automaton nodes; median of 5): **${fmt(buildCpu, 0)} ms CPU**, ${fmt(buildWall, 0)} ms wall.`);
out.push('');
out.push(`Recall on the evasion set (${evasion.length} items: ${transforms.map((t) => `${t} ${evasion.filter((e) => e.transform === t).length}`).join(', ')}):`);
out.push('');
out.push(`| tool | ${transforms.join(' | ')} | all |`);
out.push(`|---|${transforms.map(() => '---').join('|')}|---|`);
for (const r of rows) {
  const all = transforms.reduce((s, t) => s + (r.recall.get(t) ?? 0) * evasion.filter((e) => e.transform === t).length, 0) / evasion.length;
  out.push(`| ${r.name} | ${transforms.map((t) => `${fmt((r.recall.get(t) ?? 0) * 100, 0)}%`).join(' | ')} | ${fmt(all * 100, 0)}% |`);
}
console.log(`\n${out.join('\n')}`);
