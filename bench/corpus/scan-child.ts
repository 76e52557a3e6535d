/**
 * One full-pass scan with a pool of N threads, as its own process, so its peak resident memory
 * is its own: prints {"workers", "seconds", "bytes", "items", "flagged", "withPii", "maxRssMb", "threadRssMb"}.
 */
import { runLocalScan } from '../../src/corpus/run.js';
import { defaultReadOptions } from '../../src/corpus/read.js';

const [corpus, library, workersText, shardMbText] = process.argv.slice(2);
const workers = Number(workersText);
const started = performance.now();
const { report } = await runLocalScan({
  paths: [corpus!],
  settings: { mode: 'full', sampleSize: 4000, seed: 1, stratify: false, read: defaultReadOptions, keepFlagged: 100 },
  library,
  pii: true,
  workers,
  shardBytes: Number(shardMbText) * 1024 * 1024,
});
const seconds = (performance.now() - started) / 1000;
const bytes = report.files.reduce((a, f) => a + f.bytes, 0);
// maxRSS is the peak of the whole process: the main thread plus the pool's threads.
const maxRssMb = process.resourceUsage().maxRSS / 1024;
console.log(JSON.stringify({ workers, seconds, bytes, items: report.sampled, flagged: report.flagged, withPii: report.pii.successes, problems: report.problems, maxRssMb }));
