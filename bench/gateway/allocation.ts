/**
 * @module bench/gateway/allocation
 * Bytes allocated on the V8 heap per request, in the serving process: a figure the machine's
 * load does not change. Each server runs with `--trace-gc-nvp` and ./gc-mark.mjs preloaded
 * (./index, `--allocation N`); after a warm-up, a marker (a forced full collection) is set, N
 * requests of one case are sent one at a time, and another marker is set. The `allocated=`
 * fields of the collections in between add up to what those requests allocated (young and old
 * space alike); `promoted=` is what scavenges moved to old space.
 */
import type { ChildProcess } from 'node:child_process';
import type { Target } from './load.js';
import { sendMany } from './instructions.js';

const MARK = 'hegui-bench-gc-mark';

/** The server's stdout from now on (V8's GC trace and the markers). */
function record(child: ChildProcess): { text: () => string } {
  let text = '';
  child.stdout?.on('data', (part: Buffer) => (text += part.toString('utf8')));
  return { text: () => text };
}

/** Sets a marker and waits until the server has written it. */
async function mark(child: ChildProcess, log: { text: () => string }): Promise<void> {
  const before = log.text().split(MARK).length;
  child.kill('SIGUSR2');
  for (let waited = 0; log.text().split(MARK).length === before; waited += 20) {
    if (waited > 30_000) throw new Error('the server did not answer the allocation marker (is bench/gateway/gc-mark.mjs preloaded?)');
    await new Promise((done) => setTimeout(done, 20));
  }
}

/** Bytes allocated and promoted by scavenges, from the `--trace-gc-nvp` lines in `text`, and the number of scavenges. */
function sum(text: string): { allocated: number; promoted: number; scavenges: number } {
  let allocated = 0;
  let promoted = 0;
  let scavenges = 0;
  for (const line of text.split('\n')) {
    const a = / allocated=(\d+)/.exec(line);
    if (!a) continue;
    allocated += Number(a[1]);
    if (/ gc=s /.test(line)) {
      scavenges++;
      promoted += Number(/ promoted=(\d+)/.exec(line)?.[1] ?? 0);
    }
  }
  return { allocated, promoted, scavenges };
}

/**
 * Counts each gateway target (all but the first, the direct connection): `warmup` requests of
 * each case first, then `n` measured ones per case.
 */
export async function countAllocation(targets: readonly Target[], children: ReadonlyMap<string, ChildProcess>, request: (stream: boolean) => string, n: number, warmup = 2 * n): Promise<string> {
  const lines = [`### V8 heap allocation per request (--trace-gc-nvp between two forced collections), ${n} requests per case after ${warmup} of each`, '', '| target | non-stream: KiB allocated / request | scavenges | stream: KiB allocated / request | scavenges |', '|---|---|---|---|---|'];
  for (const target of targets.slice(1)) {
    const child = children.get(target.name);
    if (!child) throw new Error(`no process for ${target.name}`);
    const log = record(child);
    await sendMany(target, request(false), warmup);
    await sendMany(target, request(true), warmup);
    const cells: string[] = [];
    for (const stream of [false, true]) {
      await mark(child, log);
      const from = log.text().length;
      await sendMany(target, request(stream), n);
      await mark(child, log);
      const between = log.text().slice(from);
      const counted = sum(between.slice(0, between.lastIndexOf(MARK)));
      cells.push(`${(counted.allocated / n / 1024).toFixed(1)}`, `${counted.scavenges} (promoted ${(counted.promoted / n / 1024).toFixed(1)} KiB/request)`);
    }
    lines.push(`| ${target.name} | ${cells.join(' | ')} |`);
    console.error(lines.at(-1));
  }
  return lines.join('\n');
}
