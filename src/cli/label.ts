/**
 * @module cli/label
 * `hegui label embed|read|verify|propagate|strip|keygen`: implicit labels (GB 45438 §6,
 * Labeling Measures Art. 5-6) on files and folders. Every command takes many files and folders
 * (walked recursively), shows a progress bar on stderr for batches when it is a terminal,
 * reports each file, and exits non-zero when any file failed.
 */
import { type Command, Option } from 'commander';
import { readdirSync, statSync, type Stats } from 'node:fs';
import { lstat, mkdir, realpath, stat, utimes, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ExitCode, HeguiError, InvalidInputError } from '../errors.js';
// The label library's modules one by one, not its index: the index also exports the visible
// labels (canvas, image codecs, fonts), which these commands never use and would load for
// every file batch (issue 14).
import { failureRecord, labelRecord, type LabelRecord } from '../label/api.js';
import { UnsupportedFormatError } from '../label/errors.js';
import type { LabelValue } from '../label/model.js';
import { parseCertifiedKey } from '../label/security-certs.js';
import { generateLabelKeys, parseSigningKey, parseVerifyKey, type LabelSigningKey, type LabelVerifyKey, type SignatureAlgorithm } from '../label/security-keys.js';
import type { TimestampReport } from '../label/security-timestamp.js';
import { onInterrupt } from '../label/file-io.js';
import { commitPreparedWrite, embedLabelFile, propagateLabelFile, readLabelFile, stripLabelFile, type FileEmbedOptions, type FileWriteResult, type PreparedEmbed } from '../label/files.js';
import type { EmbedRequest } from '../label/api.js';
import type { EmbedPool } from './label-pool.js';
import { parseProviderCode } from '../label/model-provider.js';
import { readTextFile } from './files.js';
import type { CliIo } from './io.js';
import { setExitCode } from './main.js';

/** A file to process: where it is, how the user named it, and whether a folder walk found it. */
export interface Target {
  path: string;
  display: string;
  /** Path relative to the folder it was found in (for mirroring into an output folder). */
  relative: string;
  fromFolder: boolean;
  /** Why a folder walk passes over this entry (it is named, never processed). */
  skip?: string;
}

/** A walk's entry: a file to process, or one it passes over and why. */
interface Walked {
  path: string;
  /** The path relative to the folder walked. */
  relative: string;
  skip?: string;
}

/**
 * The files under `root`, sorted. Symbolic links to files are followed (the file they name is
 * processed; the link stays), links to folders are not (a link loop would never end), and
 * everything passed over is returned with the reason, so the batch can name it. Only hegui's
 * own temporary files (`.hegui-tmp`) are left out silently.
 *
 * Synchronous: one `readdir` per folder, whose entry types say what each entry is, and a `stat`
 * only for symbolic links. A walk of thousands of files as asynchronous calls would wait on the
 * thread pool once per folder and per link, for calls of a few microseconds each (issue 14).
 */
function walk(root: string, under = '', files: Walked[] = []): Walked[] {
  const entries = readdirSync(root, { withFileTypes: true });
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(root, entry.name);
    const relativePath = under === '' ? entry.name : `${under}${sep}${entry.name}`;
    if (entry.name.endsWith('.hegui-tmp')) continue;
    if (entry.isDirectory()) walk(path, relativePath, files);
    else if (entry.isFile()) files.push({ path, relative: relativePath });
    else if (entry.isSymbolicLink()) {
      const pointed = statOrUndefined(path);
      if (pointed?.isFile()) files.push({ path, relative: relativePath });
      else files.push({ path, relative: relativePath, skip: pointed?.isDirectory() ? 'a symbolic link to a folder (not followed in a walk: links can loop)' : 'a broken symbolic link' });
    } else files.push({ path, relative: relativePath, skip: 'not a regular file (a socket, pipe or device)' });
  }
  return files;
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function targets(io: CliIo, names: readonly string[]): Target[] {
  const out: Target[] = [];
  for (const name of names) {
    const path = resolve(io.cwd, name);
    if (statOrUndefined(path)?.isDirectory()) {
      // What each file is shown as: its path relative to the working directory, built from the
      // folder's (one `relative` per folder, not per file) unless the folder holds the working
      // directory, where only `relative` gives the shortest form.
      const folder = relative(io.cwd, path);
      const prefix = folder.split(sep).includes('..') || isAbsolute(folder) ? undefined : folder;
      for (const file of walk(path)) {
        const display = prefix === undefined ? relative(io.cwd, file.path) || file.path : prefix === '' ? file.relative : `${prefix}${sep}${file.relative}`;
        out.push({ path: file.path, display, relative: file.relative, fromFolder: true, ...(file.skip ? { skip: file.skip } : {}) });
      }
    } else {
      out.push({ path, display: name, relative: name.split(/[\\/]/).pop() ?? name, fromFolder: false });
    }
  }
  return out;
}

/** Batches up to this size draw the progress bar at every file; larger ones at most every `PROGRESS_MS`. */
const PROGRESS_EVERY_FILE = 100;
const PROGRESS_MS = 100;

/**
 * Progress on stderr for a batch: a one-line bar redrawn in place when stderr is a terminal, or
 * with `--progress` when it is not (a log file), a plain line `N/TOTAL` now and then. Large
 * batches redraw at most ten times a second: drawing is not free when files take microseconds.
 */
function progress(io: CliIo, total: number, forced: boolean): { tick: (name: string) => void; done: () => void } {
  const terminal = io.stderr.isTTY === true;
  if ((!terminal && !forced) || total < 2) return { tick: () => undefined, done: () => undefined };
  let count = 0;
  let drawn = 0;
  const width = 24;
  return {
    tick: (name) => {
      count++;
      if (total > PROGRESS_EVERY_FILE && count < total) {
        const now = Date.now();
        if (now - drawn < PROGRESS_MS) return;
        drawn = now;
      }
      if (!terminal) {
        io.stderr.write(`${count}/${total} ${name}\n`);
        return;
      }
      const filled = Math.round((count / total) * width);
      io.stderr.write(`\r\x1b[2K[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${count}/${total} ${name.slice(-40)}`);
    },
    done: () => {
      if (terminal) io.stderr.write('\r\x1b[2K');
    },
  };
}

/** Buffered standard output flushes at this size, and when this long has passed since the last flush. */
const OUTPUT_FLUSH_BYTES = 64 * 1024;
const OUTPUT_FLUSH_MS = 200;

/** A batch gives the event loop a turn at least this often (signals are handled there). */
const YIELD_MS = 50;

/** A `CliIo` whose standard output may be buffered until `flush`. */
interface BatchIo extends CliIo {
  flush?: () => void;
}

/**
 * `io` with its standard output gathered into large writes when it is not a terminal (a pipe or
 * a file): a line per file is otherwise one system call per file. On a terminal lines appear
 * as they are written. `batch` flushes when it ends; a reader following a log sees lines at
 * least every `OUTPUT_FLUSH_MS` while files are written.
 */
export function batchIo(io: CliIo): BatchIo {
  if (io.stdout.isTTY) return io;
  let pending = '';
  let flushed = Date.now();
  const flush = (): void => {
    flushed = Date.now();
    if (pending === '') return;
    const text = pending;
    pending = '';
    io.stdout.write(text);
  };
  return {
    // Not `...io`: that would read `stdin`, which opens the stream (and loads net, tty) for nothing.
    get stdin() {
      return io.stdin;
    },
    stderr: io.stderr,
    env: io.env,
    cwd: io.cwd,
    stdout: {
      write: (text: string) => {
        pending += text;
        if (pending.length >= OUTPUT_FLUSH_BYTES || Date.now() - flushed >= OUTPUT_FLUSH_MS) flush();
        return true;
      },
    },
    flush,
  };
}

export interface BatchOutcome {
  failed: number;
  skipped: number;
  ok: number;
}

/** What a skipped or failed file's JSON record says of the error. */
export function errorRecord(error: Error): { code: string; message: string } {
  return { code: error instanceof HeguiError ? error.code : 'E_UNEXPECTED', message: error.message };
}

/**
 * Says a file found in a folder was skipped, and why: a line `skip  FILE  CODE: reason`, or
 * with `--json` a record `{file, status: "skipped", error}` (issue 11: every skipped file is
 * named, never only counted).
 */
export function skipReporter(io: CliIo, json: boolean): (target: Target, error: Error) => void {
  return (target, error) => {
    if (json) io.stdout.write(`${JSON.stringify({ file: target.display, status: 'skipped', error: errorRecord(error) })}\n`);
    else io.stdout.write(`skip  ${target.display}  ${errorText(error)}\n`);
  };
}

/**
 * Runs `each` on every target. A file found by walking a folder whose content no codec
 * recognises is skipped and named through `onSkip`; any other error fails that file
 * (`onError`) and the batch goes on. With `concurrency` above 1, up to that many `each` calls
 * run at once (a worker pool does the work); files are still reported in order: `each` may
 * return a function that prints its line, called when the file's turn comes.
 */
export async function batch(
  io: CliIo,
  command: Command,
  names: readonly string[] | readonly Target[],
  each: (target: Target) => Promise<void | (() => void)>,
  onError: (target: Target, error: HeguiError | Error) => void,
  onSkip: (target: Target, error: Error) => void = skipReporter(io, false),
  options: { concurrency?: number } = {},
): Promise<BatchOutcome> {
  const list = names.length > 0 && typeof names[0] !== 'string' ? (names as readonly Target[]) : targets(io, names as readonly string[]);
  if (list.length === 0) throw new InvalidInputError('E_LABEL_NO_FILES', 'no files to process (the folders given are empty)');
  const bar = progress(io, list.length, (command.opts() as { progress?: boolean }).progress === true);
  const outcome: BatchOutcome = { failed: 0, skipped: 0, ok: 0 };
  const flush = (): void => (io as BatchIo).flush?.();
  // Interrupted, the lines of the files already written are not lost (the batch yields to the
  // event loop now and then, so the signal is seen between two files).
  const forget = onInterrupt(flush);
  try {
    await eachTarget(list, bar, outcome, each, onError, onSkip, Math.max(1, options.concurrency ?? 1));
  } finally {
    forget();
    flush();
  }
  bar.done();
  if (outcome.failed > 0) setExitCode(command, ExitCode.failure);
  return outcome;
}

type Settled = { report?: (() => void) | void; error?: unknown };

async function eachTarget(
  list: readonly Target[],
  bar: { tick: (name: string) => void; done: () => void },
  outcome: BatchOutcome,
  each: (target: Target) => Promise<void | (() => void)>,
  onError: (target: Target, error: HeguiError | Error) => void,
  onSkip: (target: Target, error: Error) => void,
  ahead: number,
): Promise<void> {
  const running = new Map<number, Promise<Settled>>();
  const start = (i: number): void => {
    const target = list[i];
    if (target === undefined || target.skip || running.has(i)) return;
    running.set(i, each(target).then((report) => ({ report }), (error: unknown) => ({ error })));
  };
  let yielded = Date.now();
  for (const [i, target] of list.entries()) {
    // Small files are handled with synchronous calls: let signals and timers in between.
    if (Date.now() - yielded >= YIELD_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      yielded = Date.now();
    }
    for (let j = i; j < Math.min(list.length, i + ahead); j++) start(j);
    bar.tick(target.display);
    if (target.skip) {
      outcome.skipped++;
      bar.done();
      onSkip(target, new HeguiError('E_LABEL_NOT_A_FILE', target.skip));
      continue;
    }
    const settled = await (running.get(i) as Promise<Settled>);
    running.delete(i);
    if (!('error' in settled)) {
      settled.report?.();
      outcome.ok++;
      continue;
    }
    const error = settled.error;
    if (!(error instanceof Error)) throw error;
    bar.done();
    if (target.fromFolder && error instanceof UnsupportedFormatError) {
      outcome.skipped++;
      onSkip(target, error);
      continue;
    }
    outcome.failed++;
    onError(target, error);
  }
}

export function errorText(error: Error): string {
  return error instanceof HeguiError ? `${error.code}: ${error.message}` : `unexpected failure: ${error.message}`;
}

export function summary(io: CliIo, outcome: BatchOutcome, verb: string): void {
  const total = outcome.ok + outcome.failed + outcome.skipped;
  if (total < 2) return;
  const skipped = outcome.skipped > 0 ? `, ${outcome.skipped} skipped (named above)` : '';
  io.stderr.write(`${total} files: ${outcome.ok} ${verb}, ${outcome.failed} failed${skipped}\n`);
}

export async function loadSigningKey(io: CliIo, file: string | undefined): Promise<LabelSigningKey | undefined> {
  return file === undefined ? undefined : parseSigningKey(await readTextFile(io, file, 'signing key'));
}

/**
 * The keys to verify with: plain public keys (`--pub`), and certified keys (`--cert`, an X.509
 * chain leaf first) checked against the roots the verifier trusts (`--trust`). A certified key
 * vouches only for labels of the credit code its certificate names.
 */
async function loadVerifyKeys(io: CliIo, flags: { pub: readonly string[]; cert: readonly string[]; trust: readonly string[] }): Promise<LabelVerifyKey[]> {
  if (flags.cert.length > 0 && flags.trust.length === 0) {
    throw new InvalidInputError('E_LABEL_TRUST', '--cert needs at least one --trust ROOT.pem: a certificate chain is only as good as the roots it is checked against');
  }
  if (flags.trust.length > 0 && flags.cert.length === 0) throw new InvalidInputError('E_LABEL_TRUST', '--trust checks certificate chains given with --cert; none was given');
  const roots = await Promise.all(flags.trust.map((file) => readTextFile(io, file, 'trusted root certificate')));
  const plain = await Promise.all(flags.pub.map(async (file) => parseVerifyKey(await readTextFile(io, file, 'public key'))));
  const certified = await Promise.all(flags.cert.map(async (file) => parseCertifiedKey(await readTextFile(io, file, 'certificate chain'), roots)));
  return [...plain, ...certified];
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Where a file's output goes: `-o` names a file for one input, a folder for several. */
export function outputFor(io: CliIo, target: Target, out: string | undefined, many: boolean): string | undefined {
  if (out === undefined) return undefined;
  return many ? join(resolve(io.cwd, out), target.relative) : resolve(io.cwd, out);
}

/** `{name}` and `{n}` in an identifier, so a batch can give each file its own ID. */
export function expandId(template: string, target: Target, n: number): string {
  return template.replaceAll('{name}', target.relative.replace(/\\/g, '/')).replaceAll('{n}', String(n));
}

/**
 * The file a symbolic link at `path` points to, when `path` is one: label commands follow
 * links (the link stays, the file it names is labelled) and say so.
 */
export async function followedLink(io: CliIo, path: string): Promise<string | undefined> {
  const info = await lstat(path).catch(() => undefined);
  if (!info?.isSymbolicLink()) return undefined;
  const real = await realpath(path);
  return relative(io.cwd, real) || real;
}

/**
 * `--touch`: the written file's access and modification times set to now. By default an
 * in-place write keeps them (`file-io.ts`, as exiftool -P does); a label patched into padding
 * also keeps the size, so a copy that compares size and time (rsync's quick check) would not
 * see the change: `--touch` is for such copies.
 */
export async function touchIfAsked(touch: boolean | undefined, path: string): Promise<void> {
  if (!touch) return;
  const now = new Date();
  await utimes(path, now, now);
}

function writeReport(io: CliIo, target: Target, result: FileWriteResult, verb: string, json: boolean): void {
  const written = result.via ?? result.path;
  // A file found in a folder and written where it was is shown as it was found (the same relative path).
  const output = written === target.path && target.fromFolder ? target.display : relative(io.cwd, written) || written;
  const real = result.via ? relative(io.cwd, result.path) || result.path : undefined;
  if (json) {
    const record = { file: target.display, status: 'ok', output, format: result.format, method: result.method, label: result.label, ...(real ? { symlinkTarget: real } : {}) };
    io.stdout.write(`${JSON.stringify(record)}\n`);
    return;
  }
  const where = written === target.path ? '' : ` -> ${output}`;
  io.stdout.write(`ok    ${target.display}${where}  ${result.format}  ${verb} (${result.method})${real ? `  (symlink followed: wrote ${real})` : ''}\n`);
}

function failReport(io: CliIo, json: boolean) {
  return (target: Target, error: Error): void => {
    if (json) io.stdout.write(`${JSON.stringify({ file: target.display, status: 'failed', error: errorRecord(error) })}\n`);
    else io.stdout.write(`FAIL  ${target.display}  ${errorText(error)}\n`);
  };
}

interface WriteFlags {
  out?: string;
  inPlace?: boolean;
  key?: string;
  tsa?: string;
  touch?: boolean;
  id: string;
}

/** `--tsa URL`: checked before any file is touched (it stamps a signature, so it needs --key). */
function tsaRequest(flags: WriteFlags): { tsa?: string } {
  if (flags.tsa === undefined) return {};
  if (flags.key === undefined) throw new InvalidInputError('E_LABEL_KEY', '--tsa stamps a signature: give --key too');
  if (!/^https?:\/\/./i.test(flags.tsa)) throw new InvalidInputError('E_LABEL_KEY', `--tsa must be an http or https URL, not ${JSON.stringify(flags.tsa)}`);
  return { tsa: flags.tsa };
}

function registerEmbed(label: Command, io: CliIo): void {
  label
    .command('embed')
    .description('write an implicit label into files (replaces any label already there)')
    .argument('<files...>', 'files or folders (walked recursively)')
    .requiredOption('--producer <code>', '27-character provider code of the producing service')
    .requiredOption('--id <id>', 'ProduceID; {name} and {n} are replaced per file')
    .option('--label <value>', '1 AI-generated, 2 possibly, 3 suspected', '1')
    .option('--key <key.pem>', 'sign ReservedCode1/2 with this Ed25519 or SM2 private key')
    .option('--tsa <url>', 'stamp each signature at this RFC 3161 time-stamping authority (needs --key; a failing TSA fails the file)')
    .option('-o, --out <path>', 'output file (one input) or folder (several)')
    .option('--in-place', 'replace the input files')
    .option('--touch', 'set the modification time of files written in place to now (by default in-place writes keep their times, as exiftool -P does)')
    .option('--json', 'one JSON object per line: {file, status, output, format, method, label} or {file, status, error}')
    .option('--progress', 'show progress on stderr even when it is not a terminal (a line now and then; on a terminal a bar is drawn anyway)')
    .option('--threads <n>', 'worker threads that read and prepare the files while this one writes them (default 1: no threads); not with --key or --tsa')
    .addOption(
      new Option('--sidecar [when]', 'write FILE.aigc.json beside files that cannot carry a label inside (fallback), or beside every file, leaving it unchanged (always)')
        .choices(['fallback', 'always'])
        .preset('fallback'),
    )
    .action(async (files: string[], flags: WriteFlags & { producer: string; label: string; sidecar?: 'fallback' | 'always'; json?: boolean; threads?: string }, command: Command) => {
      if (!['1', '2', '3'].includes(flags.label)) throw new InvalidInputError('E_LABEL_VALUE', `--label must be 1, 2 or 3, not ${flags.label}`);
      if (!flags.out === !flags.inPlace) throw new InvalidInputError('E_LABEL_NO_OUTPUT', 'give exactly one of -o/--out or --in-place');
      if (flags.threads !== undefined && !/^[1-9][0-9]?$/.test(flags.threads)) throw new InvalidInputError('E_LABEL_THREADS', `--threads must be a number from 1 to 99, not ${flags.threads}`);
      // A wrong code is the caller's mistake, the same for every file: a usage error before any file is touched.
      parseProviderCode(flags.producer);
      const stamp = tsaRequest(flags);
      const key = await loadSigningKey(io, flags.key);
      const many = files.length > 1 || (await stat(resolve(io.cwd, files[0] ?? '')).then((s) => s.isDirectory(), () => false));
      let n = 0;
      const json = flags.json === true;
      const list = targets(io, files);
      // Threads only when asked: on the 2-core machine of bench/RESULTS.md they cost more CPU
      // (each thread loads and compiles the codecs; every file crosses threads twice) than they
      // saved. Never with a key (a signing key does not cross threads).
      const threads = Math.min(list.length, flags.threads !== undefined ? Number(flags.threads) : 1);
      if (threads > 1 && (key || flags.tsa !== undefined)) throw new InvalidInputError('E_LABEL_THREADS', '--threads cannot be used with --key or --tsa: signing keys stay in the main thread');
      const pool = threads > 1 && flags.sidecar !== 'always' ? (await import('./label-pool.js')).openEmbedPool(threads) : undefined;
      try {
        const outcome = await batch(
          io,
          command,
          list,
          async (target) => {
            const out = outputFor(io, target, flags.out, many);
            if (out) await mkdir(dirname(out), { recursive: true });
            const request = { label: flags.label as LabelValue, producer: flags.producer, produceId: expandId(flags.id, target, ++n), ...(key ? { key } : {}), ...stamp };
            // A file met while walking a folder gets a sidecar only when asked for every file.
            const sidecar = flags.sidecar === 'always' || (flags.sidecar === 'fallback' && !target.fromFolder) ? flags.sidecar : 'never';
            const options = { ...(out ? { out } : { inPlace: true }), sidecar } as const;
            const result = pool ? await embedThroughPool(pool, target.path, request, options) : await embedLabelFile(target.path, request, options);
            await touchIfAsked(flags.touch, result.path);
            return () => writeReport(io, target, result, 'labelled', json);
          },
          failReport(io, json),
          skipReporter(io, json),
          // Files in flight at once: enough to keep every thread busy; lines still print in order.
          pool ? { concurrency: pool.threads * 8 } : {},
        );
        summary(io, outcome, 'labelled');
      } finally {
        await pool?.close();
      }
    });
}

/**
 * Embeds through the pool: a thread reads and prepares the file; the bytes it made are written
 * here, atomically. What the threads leave (large files, sidecars) is done here as without a
 * pool, and so is a sidecar fallback for a file no codec recognises.
 */
async function embedThroughPool(pool: EmbedPool, path: string, request: EmbedRequest, options: FileEmbedOptions): Promise<FileWriteResult> {
  let prepared: PreparedEmbed;
  try {
    prepared = await pool.prepare(path, request, options);
  } catch (error) {
    if (options.sidecar === 'fallback' && error instanceof UnsupportedFormatError) return embedLabelFile(path, request, options);
    throw error;
  }
  if (prepared.kind === 'done') return prepared.result;
  if (prepared.kind === 'prepared') return commitPreparedWrite(prepared);
  return embedLabelFile(path, request, options);
}

function registerPropagate(label: Command, io: CliIo): void {
  label
    .command('propagate')
    .description("add a platform's propagation fields, keeping the producer's (in place unless -o)")
    .argument('<files...>', 'files or folders (walked recursively)')
    .requiredOption('--propagator <code>', "27-character provider code of the propagating platform")
    .requiredOption('--id <id>', 'PropagateID; {name} and {n} are replaced per file')
    .option('--key <key.pem>', 'sign ReservedCode2 with this Ed25519 or SM2 private key')
    .option('--tsa <url>', 'stamp the signature at this RFC 3161 time-stamping authority (needs --key; a failing TSA fails the file)')
    .option('-o, --out <path>', 'output file (one input) or folder (several)')
    .option('--touch', 'set the modification time of files written in place to now (by default in-place writes keep their times, as exiftool -P does)')
    .option('--json', 'one JSON object per line: {file, status, output, format, method, label} or {file, status, error}')
    .option('--progress', 'show progress on stderr even when it is not a terminal (a line now and then; on a terminal a bar is drawn anyway)')
    .action(async (files: string[], flags: WriteFlags & { propagator: string; json?: boolean }, command: Command) => {
      parseProviderCode(flags.propagator);
      const stamp = tsaRequest(flags);
      const key = await loadSigningKey(io, flags.key);
      let n = 0;
      const outcome = await batch(io, command, files, async (target) => {
        const out = outputFor(io, target, flags.out, files.length > 1 || target.fromFolder);
        if (out) await mkdir(dirname(out), { recursive: true });
        const request = { propagator: flags.propagator, propagateId: expandId(flags.id, target, ++n), ...(key ? { key } : {}), ...stamp };
        const result = await propagateLabelFile(target.path, request, out ? { out } : { inPlace: true });
        await touchIfAsked(flags.touch, result.path);
        writeReport(io, target, result, 'propagated', flags.json === true);
      }, failReport(io, flags.json === true), skipReporter(io, flags.json === true));
      summary(io, outcome, 'propagated');
    });
}

function registerStrip(label: Command, io: CliIo): void {
  label
    .command('strip')
    .description('remove every label from files (in place unless -o)')
    .argument('<files...>', 'files or folders (walked recursively)')
    .option('-o, --out <path>', 'output file (one input) or folder (several)')
    .option('--touch', 'set the modification time of files written in place to now (by default in-place writes keep their times, as exiftool -P does)')
    .option('--json', 'one JSON object per line: {file, status, output, format, method} or {file, status, error}')
    .option('--progress', 'show progress on stderr even when it is not a terminal (a line now and then; on a terminal a bar is drawn anyway)')
    .action(async (files: string[], flags: { out?: string; json?: boolean; touch?: boolean }, command: Command) => {
      const outcome = await batch(io, command, files, async (target) => {
        const out = outputFor(io, target, flags.out, files.length > 1 || target.fromFolder);
        if (out) await mkdir(dirname(out), { recursive: true });
        const result = await stripLabelFile(target.path, out ? { out } : { inPlace: true });
        await touchIfAsked(flags.touch, result.path);
        writeReport(io, target, result, 'stripped', flags.json === true);
      }, failReport(io, flags.json === true), skipReporter(io, flags.json === true));
      summary(io, outcome, 'stripped');
    });
}

function registerReadVerify(label: Command, io: CliIo, name: 'read' | 'verify'): void {
  const command = label
    .command(name)
    .description(name === 'read' ? 'print the labels of files and where they were found' : 'verify the security data of labels against public keys')
    .argument('<files...>', 'files or folders (walked recursively)')
    .option('--json', 'one JSON object per line: {file, format, label, location, presence, signature, signatures, timestamps, conflicts}')
    .option('--progress', 'show progress on stderr even when it is not a terminal (a line now and then; on a terminal a bar is drawn anyway)')
    .option('--pub <key.pem>', `${name === 'read' ? 'also verify with' : 'verify with'} this public key of a producer or propagator (repeatable)`, collect, [])
    .option('--cert <chain.pem>', 'a certified key: X.509 chain, leaf first, whose leaf names the credit code it signs for (repeatable; needs --trust)', collect, [])
    .option('--trust <root.pem>', 'a root certificate trusted to certify keys (repeatable)', collect, [])
    .option('--tsa-trust <root.pem>', 'a root certificate of a time-stamping authority whose timestamps are trusted (repeatable)', collect, []);
  command.action(async (files: string[], flags: { json?: boolean; pub: string[]; cert: string[]; trust: string[]; tsaTrust: string[] }, cmd: Command) => {
    if (name === 'verify' && flags.pub.length === 0 && flags.cert.length === 0) {
      throw new InvalidInputError('E_LABEL_KEY', 'verify needs a key: --pub KEY.pem, or --cert CHAIN.pem with --trust ROOT.pem');
    }
    const keys = await loadVerifyKeys(io, flags);
    const tsaTrust = await Promise.all(flags.tsaTrust.map((file) => readTextFile(io, file, 'trusted TSA root certificate')));
    const outcome = await batch(io, cmd, files, async (target) => {
      const report = await readLabelFile(target.path, { keys, tsaTrust });
      const record = labelRecord(target.display, report);
      if (flags.json) io.stdout.write(`${JSON.stringify(record)}\n`);
      else {
        io.stdout.write(`${target.display}  ${record.format}  ${labelText(record)}\n`);
      }
      if (name === 'verify' && record.signature !== 'valid') {
        throw new HeguiError('E_LABEL_NOT_VERIFIED', `signature ${record.signature}`);
      }
    }, (target, error) => {
      if (error instanceof HeguiError && error.code === 'E_LABEL_NOT_VERIFIED') return;
      const code = error instanceof HeguiError ? error.code : 'E_UNEXPECTED';
      if (flags.json) io.stdout.write(`${JSON.stringify(failureRecord(target.display, { code, message: error.message }))}\n`);
      else io.stdout.write(`FAIL  ${target.display}  ${errorText(error)}\n`);
    }, (target, error) => {
      if (flags.json) io.stdout.write(`${JSON.stringify({ ...failureRecord(target.display, errorRecord(error)), status: 'skipped' })}\n`);
      else io.stdout.write(`skip  ${target.display}  ${errorText(error)}\n`);
    });
    summary(io, outcome, name === 'read' ? 'read' : 'valid');
  });
}

/**
 * One file's label as a line of text: the fields, where they were found, each party's signature
 * status, and every other label the file holds. An unreadable label is said to be one, never
 * shown as "no label" (the JSON record's `presence`).
 */
function labelText(record: LabelRecord): string {
  const l = record.label;
  const fields = l
    ? `label=${l.Label} producer=${l.ContentProducer} id=${l.ProduceID} propagator=${l.ContentPropagator} propagate-id=${l.PropagateID} at ${record.location}`
    : record.presence === 'unreadable'
      ? `unreadable label${record.location ? ` at ${record.location}` : ''}`
      : 'no label';
  const { producer, propagator } = record.signatures;
  const conflicts = record.conflicts.length > 0 ? `  conflicts: ${record.conflicts.map((c) => `${c.location}${c.label ? '' : ' (unreadable)'}`).join(', ')}` : '';
  const stamp = (t: TimestampReport): string => `${t.status}${t.time ? `@${t.time}` : ''}`;
  const { producer: tp, propagator: tg } = record.timestamps;
  const timestamps = tp.status === 'none' && tg.status === 'none' ? '' : `  timestamp=${stamp(tp)} (propagator ${stamp(tg)})`;
  return `${fields}  signature=${record.signature} (producer ${producer}, propagator ${propagator})${timestamps}${conflicts}`;
}

function registerKeygen(label: Command, io: CliIo): void {
  label
    .command('keygen')
    .description('create a key pair for signing labels: PREFIX.key.pem (private) and PREFIX.pub.pem')
    .option('--alg <algorithm>', 'ed25519 or sm2 (SM2 with SM3, GB/T 32918)', 'ed25519')
    .option('--out <prefix>', 'path prefix of the two files', 'hegui-label')
    .option('--force', 'overwrite existing files')
    .action(async (flags: { alg: string; out: string; force?: boolean }) => {
      if (flags.alg !== 'ed25519' && flags.alg !== 'sm2') throw new InvalidInputError('E_LABEL_KEY', `--alg must be ed25519 or sm2, not ${flags.alg}`);
      const keys = generateLabelKeys(flags.alg as SignatureAlgorithm);
      const prefix = resolve(io.cwd, flags.out);
      const mode = flags.force ? 'w' : 'wx';
      try {
        await writeFile(`${prefix}.key.pem`, keys.privateKeyPem, { mode: 0o600, flag: mode });
        await writeFile(`${prefix}.pub.pem`, keys.publicKeyPem, { mode: 0o644, flag: mode });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new InvalidInputError('E_LABEL_KEY_EXISTS', `${flags.out}.key.pem or .pub.pem exists; use --force to overwrite`);
        throw error;
      }
      io.stdout.write(`${flags.alg} key ${keys.keyId}\nprivate: ${flags.out}.key.pem (keep it secret)\npublic:  ${flags.out}.pub.pem\n`);
    });
}

export function registerLabel(program: Command, io: CliIo): void {
  const label = program.command('label').description('AIGC labels (GB 45438): implicit labels in file metadata, visible notices and their check');
  // Per-file lines are buffered when stdout is not a terminal; `batch` flushes them.
  const out = batchIo(io);
  registerEmbed(label, out);
  registerReadVerify(label, out, 'read');
  registerReadVerify(label, out, 'verify');
  registerPropagate(label, out);
  registerStrip(label, out);
  registerKeygen(label, io);
}
