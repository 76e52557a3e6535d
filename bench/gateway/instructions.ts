/**
 * @module bench/gateway/instructions
 * Machine instructions per request, counted by valgrind's callgrind in the serving process (all
 * its threads): a figure other processes on a shared machine do not change, unlike CPU time.
 * Each server runs under `valgrind --tool=callgrind --instr-atstart=no` (./index, `--instructions
 * N`); it is warmed up uncounted, then counting is switched on, zeroed, N requests of one case
 * are sent one at a time, and the counts are dumped. Under valgrind the JIT sees far fewer
 * requests per second, so the figures compare gateways run the same way, not absolute speed.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { join } from 'node:path';
import type { Target } from './load.js';

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

/** One request, read to its end; rejects unless the status is 200. */
function send(target: Target, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(target.url, { method: 'POST', agent, headers: { ...target.headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${target.name}: HTTP ${res.statusCode}: ${Buffer.concat(parts).toString('utf8').slice(0, 300)}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export async function sendMany(target: Target, body: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await send(target, body);
}

function control(args: string[]): void {
  const done = spawnSync('callgrind_control', args, { encoding: 'utf8' });
  if (done.status !== 0) throw new Error(`callgrind_control ${args.join(' ')} failed: ${done.stderr || done.stdout}`);
}

/** The instructions (Ir) of the newest dump of process `pid` in `dir`. */
function lastDumpTotal(dir: string, pid: number): number {
  const dumps = readdirSync(dir).filter((f) => f.startsWith(`callgrind.${pid}.`)).sort((a, b) => Number(a.split('.').at(-1)) - Number(b.split('.').at(-1)));
  const file = dumps.at(-1);
  if (!file) throw new Error(`no callgrind dump of ${pid} in ${dir}`);
  const text = readFileSync(join(dir, file), 'utf8');
  const line = /^(?:summary|totals):\s+(\d+)/m.exec(text);
  if (!line) throw new Error(`no totals in ${file}`);
  return Number(line[1]);
}

/**
 * Counts each gateway target (all but the first, the direct connection, which runs natively):
 * `warmup` uncounted requests of each case, then `n` counted ones per case.
 */
export async function countInstructions(targets: readonly Target[], request: (stream: boolean) => string, n: number, dir: string, warmup = 2 * n): Promise<string> {
  const lines = [`### Instructions per request (valgrind callgrind, whole serving process), ${n} requests per case after ${warmup} of each uncounted`, '', '| target | non-stream: instructions / request | stream: instructions / request |', '|---|---|---|'];
  for (const target of targets.slice(1)) {
    const pid = target.pid as number;
    await sendMany(target, request(false), warmup);
    await sendMany(target, request(true), warmup);
    control(['--instr=on', String(pid)]);
    const counts: number[] = [];
    for (const stream of [false, true]) {
      control(['--zero', String(pid)]);
      await sendMany(target, request(stream), n);
      control(['--dump', String(pid)]);
      counts.push(lastDumpTotal(dir, pid) / n);
    }
    control(['--instr=off', String(pid)]);
    const million = (v: number): string => `${(v / 1e6).toFixed(3)} M`;
    lines.push(`| ${target.name} | ${million(counts[0] as number)} | ${million(counts[1] as number)} |`);
    console.error(lines.at(-1));
  }
  return lines.join('\n');
}
