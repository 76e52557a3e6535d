/**
 * @module bench/gateway/profile-summary
 * Summarises a V8 CPU profile (`.cpuprofile`, as `--cpu-prof` writes it) by self time: the
 * functions and the files (or packages) where the process spent its own time, and the busy
 * share of each (idle, program and garbage-collector time are listed apart).
 *
 *   npx tsx bench/gateway/profile-summary.ts PROFILE.cpuprofile [--top 30] [--requests N] [--from S] [--callers NAME]
 *
 * With `--requests N` (the requests the profiled process served) each row also gives its
 * microseconds per request. `--from S` skips the first S seconds (start-up: module loading and
 * compiling). `--callers NAME` lists the call paths (up to 6 frames) that reach functions named NAME.
 */
import { readFileSync } from 'node:fs';
import { usageIfAsked } from '../usage.js';

usageIfAsked(import.meta.url);

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const file = args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
if (!file) throw new Error('usage: profile-summary.ts PROFILE.cpuprofile [--top 30] [--requests N]');
const top = Number(option('--top') ?? 30);
const requests = option('--requests') === undefined ? undefined : Number(option('--requests'));
const fromUs = Number(option('--from') ?? 0) * 1e6;
const callersOf = option('--callers');
const depth = Number(option('--depth') ?? 6);

const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const self = new Map<number, number>();
let at = profile.startTime;
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i] as number;
  at += profile.timeDeltas[i] ?? 0;
  if (at - profile.startTime < fromUs) continue;
  // Each sample's time is the delta to the next one.
  const delta = profile.timeDeltas[i + 1] ?? 0;
  self.set(id, (self.get(id) ?? 0) + delta);
}

/** Where a frame lives: the package under node_modules, the project file, or node's own. */
function place(url: string): string {
  if (url === '') return '(native)';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return `npm:${rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  const src = url.indexOf('/src/');
  if (src >= 0) return url.slice(src + 1);
  if (url.startsWith('node:')) return url;
  return url.replace(/^file:\/\//, '');
}

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);
const functions = new Map<string, number>();
const files = new Map<string, number>();
const special = new Map<string, number>();
let busy = 0;
for (const [id, time] of self) {
  const frame = (byId.get(id) as ProfileNode).callFrame;
  if (SPECIAL.has(frame.functionName)) {
    special.set(frame.functionName, (special.get(frame.functionName) ?? 0) + time);
    if (frame.functionName === '(idle)') continue;
  }
  busy += time;
  if (SPECIAL.has(frame.functionName)) continue;
  const where = place(frame.url);
  const name = `${frame.functionName || '(anonymous)'} ${where}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
  functions.set(name, (functions.get(name) ?? 0) + time);
  files.set(where, (files.get(where) ?? 0) + time);
}

const total = profile.endTime - profile.startTime - fromUs;
const ms = (us: number): string => (us / 1000).toFixed(1);
const share = (us: number): string => ((100 * us) / busy).toFixed(1);
const perRequest = (us: number): string => (requests ? ` | ${(us / requests).toFixed(1)}` : '');
const head = requests ? ' | µs/req' : '';
console.log(`profile ${file}: ${ms(total)} ms, busy ${ms(busy)} ms (${((100 * busy) / total).toFixed(1)} %)${requests ? `, ${requests} requests: ${(busy / requests / 1000).toFixed(3)} ms busy per request` : ''}`);
console.log(`special: ${[...special].map(([k, v]) => `${k} ${ms(v)} ms`).join(', ')}`);
const print = (title: string, rows: Map<string, number>): void => {
  console.log(`\n| ${title} | self ms | % of busy${head} |\n|---|---|---|${requests ? '---|' : ''}`);
  for (const [name, time] of [...rows].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`| ${name} | ${ms(time)} | ${share(time)}${perRequest(time)} |`);
};
print('file or package', files);
print('function', functions);

if (callersOf) {
  const paths = new Map<string, number>();
  for (const [id, time] of self) {
    if ((byId.get(id) as ProfileNode).callFrame.functionName !== callersOf) continue;
    const names: string[] = [];
    for (let up = parent.get(id); up !== undefined && names.length < depth; up = parent.get(up)) {
      const frame = (byId.get(up) as ProfileNode).callFrame;
      names.push(`${frame.functionName || '(anonymous)'} ${place(frame.url)}`);
    }
    const key = names.join(' < ');
    paths.set(key, (paths.get(key) ?? 0) + time);
  }
  print(`callers of ${callersOf}`, paths);
}

/** `--inclusive a,b,c`: the time spent in each named function and everything it called (each sample counted once per name). */
const inclusive = option('--inclusive');
if (inclusive) {
  const names = inclusive.split(',');
  const totals = new Map<string, number>(names.map((n) => [n, 0]));
  for (const [id, time] of self) {
    const seen = new Set<string>();
    for (let up: number | undefined = id; up !== undefined; up = parent.get(up)) {
      const name = (byId.get(up) as ProfileNode).callFrame.functionName;
      if (totals.has(name) && !seen.has(name)) {
        seen.add(name);
        totals.set(name, (totals.get(name) as number) + time);
      }
    }
  }
  print('inclusive', totals);
}

/** `--under NAME`: self time by function of the samples whose stack passes through NAME. */
const under = option('--under');
if (under) {
  const rows = new Map<string, number>();
  for (const [id, time] of self) {
    let inside = false;
    for (let up: number | undefined = id; up !== undefined && !inside; up = parent.get(up)) inside = (byId.get(up) as ProfileNode).callFrame.functionName === under;
    if (!inside) continue;
    const frame = (byId.get(id) as ProfileNode).callFrame;
    const name = `${frame.functionName || '(anonymous)'} ${place(frame.url)}`;
    rows.set(name, (rows.get(name) ?? 0) + time);
  }
  print(`self time under ${under}`, rows);
}
