#!/usr/bin/env node
// Bundles the CLI's start and the commands users run most with esbuild, over the files tsc
// wrote to dist/cli/ (issue 14: start-up). Run by scripts/build.mjs after tsc;
// `node scripts/bundle-cli.mjs` redoes only this step. Entries (src/cli/NAME.ts to dist/cli/NAME.js):
// - main: main.ts, io.ts and commander, the table of commands;
// - label-implicit: label.ts, files.ts and the implicit-label library modules they reach
//   (src/label/**, not src/label/explicit/);
// - workdays: workdays.ts and src/calendar/** with the holiday schedules (the chinese-days
//   JSON goes into the bundle: esbuild drops an external import's `with { type: 'json' }`);
// - scan-command: scan.ts, scan-library.ts, scan-parallel.ts and the safety engine (src/safety/**);
// - rules: rules.ts with the compiled knowledge base's reader (src/rules/compiled.ts); the YAML
//   parser and zod only in the chunk of a stale copy's loader;
// - obligations and profile: their command modules with the rules engine, the YAML parser and zod;
// - the store commands users, operators, incidents, audit, desk, keywords, eval and corpus: each
//   with the store (src/store/**), kysely and what else it reaches (src/audit/**, src/desk/**, the
//   gateway's identity and sanctions, zod for the desk's input), so no command loads kysely's ~260
//   files one by one; the migrations are a chunk of their own, loaded only when a database is
//   behind. eval and corpus reach the store through store-lazy.ts, a chunk loaded by the
//   subcommands that use it: their --help and option errors load no database code.
//
// A dynamic import inside the bundle becomes a chunk beside the entries (dist/cli/bundle-*.js),
// loaded only when it runs: each codec (codec-table.ts), a schedule file's parser (and zod with
// it, workdays --schedule), a library file's reader (zod again, only on a library-cache miss).
// Code several entries share (main.ts: setExitCode; files.ts) is in shared chunks, one copy each.
//
// What stays outside, imported from tsc's output as before: the other command modules (each
// loads when its command runs), npm packages other than commander, kysely, zod and JSON data
// (the database drivers load from node_modules with the dialect they serve), src/errors.ts
// (one HeguiError class for the whole process: errors are told apart with instanceof) and
// version.ts (it reads ../package.json relative to itself). The other commands import commander
// from node_modules, a second copy: commander itself tells its objects and errors apart by their
// fields, not their class, and so does main.ts. The library entry points (hegui/label,
// hegui/safety, ...) are tsc's files, unchanged, and so are the worker threads' modules
// (dist/cli/label-worker.js, scan-worker.js: a thread has its own modules anyway).
//
// Paths: every output file is in dist/cli/, so a bundled module of src/cli/ finds its files
// (scan-worker.js, label-worker.js) by `import.meta.url` as before; a bundled module elsewhere
// has its `import.meta.url` replaced by the URL of tsc's copy of it (withModuleUrl), so a path
// relative to it, or a createRequire from it, still resolves; any other `import.meta.*` in such a
// module fails the build.
//
// The bundle is checked here: it must not reach the visible labels (src/label/explicit/) nor
// heavy packages; a codec must not be in the implicit-label entry file itself; what an entry
// loads before its command runs (the entry and the chunks it imports statically) must not load
// zod or yaml, nor another command's library (--version loads no calendar, safety, label or
// store code); no module outside the bundle may import an entry (it would get a second copy of the
// modules in it: the entries that other code needs are re-exporting files of their own,
// label-implicit.ts and scan-command.ts); and no tsc file a command loads may reach a module or
// package that command's bundle holds (two copies of the store or of kysely in one process).
import { build } from 'esbuild';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const src = join(root, 'src');
const outdir = join(root, 'dist', 'cli');
const quiet = process.argv.includes('--quiet');

/** The command modules that store commands bundle with them (each entry's helpers in src/cli/). */
const storeCommands = ['users', 'operators', 'incidents', 'audit', 'desk', 'keywords', 'eval', 'corpus'];

/**
 * Source modules (relative to src/, without extension) that go into the bundle: the CLI modules
 * listed here, and every other module a bundled one reaches, except errors.ts, version.ts,
 * validation.ts (types only at run time) and the visible labels (src/label/explicit/).
 */
function bundled(rel) {
  if (rel.startsWith('cli/')) {
    const name = rel.slice('cli/'.length);
    return ['main', 'io', 'label-implicit', 'label', 'files', 'label-pool', 'workdays', 'scan-command', 'scan', 'scan-library', 'scan-parallel', 'store', 'store-lazy', 'eval-run', 'user-keys', 'rules', 'obligations', 'profile', ...storeCommands].includes(name);
  }
  return !['errors', 'version', 'validation'].includes(rel) && !rel.startsWith('label/explicit/');
}

/** npm packages that go into the bundle (the others are imported from node_modules). */
const bundledPackages = /^(commander|kysely|zod)(\/|$)/;

/** The entries, under src/cli/; each becomes dist/cli/NAME.js over tsc's file of that name. */
const entries = ['main', 'label-implicit', 'workdays', 'scan-command', 'rules', 'obligations', 'profile', ...storeCommands];

/**
 * A bundled module outside src/cli/ that names a file by `import.meta.url` (data, a worker, a
 * createRequire base) must still find it from dist/cli/: its `import.meta.url` is replaced by
 * the URL tsc's copy of the module has, `new URL('../calendar/x.js', import.meta.url)` in the
 * bundle. The other forms are refused rather than guessed at.
 */
function withModuleUrl(path, contents) {
  const rel = relative(src, path).split(sep).join('/');
  if (rel.startsWith('cli/') || !contents.includes('import.meta')) return contents;
  const other = contents.match(/import\.meta\.(?!url\b)\w+/);
  if (other) throw new Error(`bundle-cli: ${rel} uses ${other[0]}, which the bundle cannot carry over: use import.meta.url or keep the module outside the bundle`);
  const target = relative(join(src, 'cli'), path).split(sep).join('/').replace(/\.ts$/, '.js');
  return `const __heguiModuleUrl = new URL(${JSON.stringify(target)}, import.meta.url).href;\n${contents.replace(/import\.meta\.url\b/g, '__heguiModuleUrl')}`;
}

for (const name of readdirSync(outdir)) if (/^bundle-.*\.js$/.test(name) || (name.endsWith('.js.map') && entries.includes(name.slice(0, -'.js.map'.length)))) rmSync(join(outdir, name));

const result = await build({
  // Not label-worker.ts nor scan-worker.ts: their threads load tsc's files (a thread has its own
  // modules anyway), and more entries would cut the shared code into more chunks.
  entryPoints: entries.map((name) => join(src, 'cli', `${name}.ts`)),
  outdir,
  entryNames: '[name]',
  chunkNames: 'bundle-[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  metafile: true,
  allowOverwrite: true,
  logLevel: quiet ? 'warning' : 'info',
  legalComments: 'none',
  // commander is CommonJS: its require() of Node's modules needs a require in each ESM file.
  // Through process.getBuiltinModule rather than `import ... from 'node:module'`, which has Node
  // build an ES module facade over the module's exports. (Doing the same for every built-in the
  // bundled code imports made a shared chunk of each wrapper, and the label start slower.)
  banner: { js: "const require = process.getBuiltinModule('node:module').createRequire(import.meta.url);" },
  plugins: [
    {
      name: 'hegui-boundaries',
      setup(b) {
        // commander requires child_process at its start, for subcommands that are programs of
        // their own, which hegui has none of: loading it (and net, dgram) is deferred to first use.
        b.onResolve({ filter: /^(node:)?child_process$/ }, (args) => (args.importer.includes(`${sep}node_modules${sep}commander${sep}`) ? { path: 'lazy-child-process', namespace: 'hegui' } : undefined));
        b.onLoad({ filter: /^lazy-child-process$/, namespace: 'hegui' }, () => ({
          contents: "let real; const load = () => (real ??= require('node:child_process')); module.exports = new Proxy({}, { get: (_, name) => load()[name] });",
          loader: 'js',
        }));
        b.onResolve({ filter: /.*/ }, (args) => {
          if (args.kind === 'entry-point' || args.importer.includes(`${sep}node_modules${sep}`)) return undefined;
          // A package's JSON data (the holiday schedules) goes into the bundle: esbuild would
          // drop the import's `with { type: 'json' }`, and Node refuses a JSON import without it.
          if (!args.path.startsWith('.')) return bundledPackages.test(args.path) || args.path.endsWith('.json') ? undefined : { external: true };
          const target = join(dirname(args.importer), args.path).replace(/\.js$/, '.ts');
          const rel = relative(src, target).split(sep).join('/').replace(/\.ts$/, '');
          if (bundled(rel)) return { path: target };
          // Outside the bundle: the compiled module, by its path relative to dist/cli/.
          let path = relative(join(src, 'cli'), target).split(sep).join('/').replace(/\.ts$/, '.js');
          if (!path.startsWith('.')) path = `./${path}`;
          return { path, external: true };
        });
        b.onLoad({ filter: /\.ts$/ }, (args) => (args.path.startsWith(src + sep) ? { contents: withModuleUrl(args.path, readFileSync(args.path, 'utf8')), loader: 'ts' } : undefined));
      },
    },
  ],
});

// opencc-js's character tables (opencc-js/dict/*Characters, *VariantsRev: 60 KB of strings, the
// traditional-to-simplified fold of the scanner) are not heavy; its converters and phrase tables are.
const heavy = /^(sharp|@napi-rs\/canvas|@embedpdf\/|better-sqlite3|pg|kysely|opencc-js(?!\/dict\/(ST|TS)Characters$|\/dict\/(HK|TW)VariantsRev$)|pinyin-pro|@node-rs\/jieba|hono)/;
const outputs = result.metafile.outputs;
/** The files `file` loads before it runs: itself and its static imports, transitively (not its dynamic imports). */
function staticClosure(file, seen = new Set()) {
  if (seen.has(file) || !outputs[file]) return seen;
  seen.add(file);
  for (const imported of outputs[file].imports) if (!imported.external && imported.kind === 'import-statement') staticClosure(imported.path, seen);
  return seen;
}
const entryFile = (name) => Object.keys(outputs).find((file) => file.endsWith(`/cli/${name}.js`));
const problems = [];
for (const [file, output] of Object.entries(outputs)) {
  for (const input of Object.keys(output.inputs)) if (input.includes('src/label/explicit/')) problems.push(`${file} holds ${input}`);
  // The database drivers load with the dialect they serve (store/open.ts imports them when it opens one).
  for (const imported of output.imports) if (imported.external && heavy.test(imported.path) && !(imported.kind === 'dynamic-import' && /^(better-sqlite3|pg)$/.test(imported.path))) problems.push(`${file} imports ${imported.path}`);
  if (file.endsWith('/main.js')) {
    for (const input of Object.keys(output.inputs)) if (/src\/(label|calendar)\//.test(input)) problems.push(`the CLI's start holds ${input}`);
  }
  if (file.endsWith('/label-implicit.js')) {
    for (const input of Object.keys(output.inputs)) if (/src\/label\/implicit\/(jpeg|png|mp4|pdf|ooxml|matroska)\.ts$/.test(input)) problems.push(`the entry itself holds the codec ${input}`);
  }
}
// What an entry loads before its command runs: no schema library (zod: about 120 ms of CPU to
// load), no YAML, and, but for the store commands, no query builder (kysely) nor the store;
// workdays reaches zod only through --schedule, scan only on a library-cache miss, rules only
// when the compiled knowledge base is stale (dynamic imports of their own chunks). The desk and
// incident commands validate their input with zod at their start, as the dashboard does.
const light = /^(zod|yaml|kysely)$/;
const startRules = [
  ['main', light, /src\/(calendar|safety|store|audit|rules|desk|gateway)\//],
  ['workdays', light, /src\/(safety|store)\//],
  ['label-implicit', light, /src\/(calendar|safety|store)\//],
  ['scan-command', light, /src\/(calendar|store)\//],
  ['rules', light, /src\/(safety|store)\/|src\/calendar\/(?!dates\.ts)/],
  ['users', /^(zod|yaml)$/, /src\/(label|safety|rules)\//],
  ['operators', /^(zod|yaml)$/, /src\/(label|safety|rules)\//],
  ['audit', /^(zod|yaml)$/, /src\/(label|safety|rules)\//],
  ['incidents', /^yaml$/, /src\/(label|rules)\//],
  ['desk', /^yaml$/, /src\/(label|rules)\//],
  ['keywords', /^yaml$/, /src\/(label|rules)\//],
  ['eval', light, /src\/(label|rules|store|audit|calendar|gateway)\/|src\/safety\/(?!taxonomy(-text)?\.ts$)/],
  ['corpus', light, /src\/(label|rules|store|audit|calendar|gateway|safety)\//],
  ['obligations', /^$/, /src\/(label|safety|store)\//],
  ['profile', /^$/, /src\/(label|safety|store)\//],
];
for (const name of entries) if (!startRules.some(([ruled]) => ruled === name)) problems.push(`bundle-cli: no start-up rule for the entry ${name}`);
for (const [name, banned, sources] of startRules) {
  const entry = entryFile(name);
  if (!entry) {
    problems.push(`no entry dist/cli/${name}.js`);
    continue;
  }
  for (const file of staticClosure(entry)) {
    for (const imported of outputs[file].imports) if (imported.external && imported.kind === 'import-statement' && banned.test(imported.path)) problems.push(`${name}.js loads ${imported.path} at its start (through ${file})`);
    for (const input of Object.keys(outputs[file].inputs)) {
      const pkg = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//)?.[1];
      if ((pkg !== undefined && banned.test(pkg)) || sources.test(input)) problems.push(`${name}.js loads ${input} at its start (through ${file})`);
    }
  }
}
// A bundled entry has its own copy of the modules bundled into it (the safety engine, the
// calendar): a module outside the bundle that imported it would mix that copy with tsc's, whose
// classes its instanceof checks would not recognise. Only the bundle itself may load an entry.
const bundleFiles = new Set(Object.keys(outputs).map((file) => join(root, file)));
function* compiledFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* compiledFiles(path);
    else if (entry.name.endsWith('.js') && !bundleFiles.has(path)) yield path;
  }
}
const entryPaths = new Set(entries.filter((name) => name !== 'main').map((name) => join(outdir, `${name}.js`)));
for (const path of compiledFiles(join(root, 'dist'))) {
  for (const [, specifier] of readFileSync(path, 'utf8').matchAll(/['"](\.{1,2}\/[^'"\s]*\.js)['"]/g)) {
    if (entryPaths.has(join(dirname(path), specifier))) problems.push(`${relative(root, path)} imports the bundled entry ${specifier}: import the module it re-exports instead`);
  }
}
// One copy of each module in a process: the modules of tsc's output that a command's bundle
// loads (errors.js, version.js, validation.js) must not reach, through their own imports, a
// module or an npm package the bundle holds a copy of (the store and kysely above all: two
// copies of Store or of kysely's classes would mix in instanceof checks). A command's files are
// its entry and every chunk it reaches, not through the command table of main.ts (each of its
// dynamic imports is another command, another process).
const tableModules = new Set([...readFileSync(join(src, 'cli', 'main.ts'), 'utf8').matchAll(/import\('\.\/([\w-]+)\.js'\)/g)].map((m) => m[1]));
const entryOutputs = new Set(entries.map(entryFile));
const packageOf = (specifier) => specifier.match(/^(@[^/]+\/[^/]+|[^/]+)/)?.[1];
function tscClosure(path, files, packages) {
  if (files.has(path)) return;
  files.add(path);
  let text;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return;
  }
  for (const [, specifier] of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"\s]+)['"]/g)) {
    if (specifier.startsWith('.')) tscClosure(join(dirname(path), specifier), files, packages);
    else if (!specifier.startsWith('node:')) packages.add(packageOf(specifier));
  }
}
for (const name of entries) {
  const start = entryFile(name);
  if (!start) continue;
  const files = new Set();
  const pending = [start];
  const tscFiles = new Set();
  const tscPackages = new Set();
  while (pending.length > 0) {
    const file = pending.pop();
    if (files.has(file)) continue;
    files.add(file);
    for (const imported of outputs[file].imports) {
      if (!imported.external) {
        if (!entryOutputs.has(imported.path) || imported.path === start) pending.push(imported.path);
      } else if (imported.path.startsWith('.')) {
        const table = imported.kind === 'dynamic-import' && tableModules.has(imported.path.match(/^\.\/([\w-]+)\.js$/)?.[1]);
        if (!table) tscClosure(join(root, dirname(file), imported.path), tscFiles, tscPackages);
      }
    }
  }
  const bundledSources = new Set();
  const bundledPackageNames = new Set();
  for (const file of files) {
    for (const input of Object.keys(outputs[file].inputs)) {
      const pkg = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//)?.[1];
      if (pkg !== undefined) bundledPackageNames.add(pkg);
      else if (input.startsWith('src/')) bundledSources.add(join(root, 'dist', input.slice('src/'.length).replace(/\.ts$/, '.js')));
    }
  }
  for (const path of tscFiles) if (bundledSources.has(path)) problems.push(`${name}.js: ${relative(root, path)} is both in the bundle and loaded from tsc's output (a second copy)`);
  for (const pkg of tscPackages) if (bundledPackageNames.has(pkg)) problems.push(`${name}.js: the package ${pkg} is both in the bundle and imported by tsc's output (a second copy)`);
}
if (problems.length > 0) {
  console.error(`bundle-cli: the CLI bundle crosses its boundaries:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
if (!quiet) console.log(`bundle-cli: ${Object.keys(result.metafile.outputs).length} files in dist/cli/`);
