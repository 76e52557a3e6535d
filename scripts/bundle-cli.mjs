#!/usr/bin/env node
// Bundles the CLI's start (src/cli/main.ts with commander) and the implicit-label commands'
// entry point (src/cli/label-implicit.ts) with esbuild into dist/cli/main.js and
// dist/cli/label-implicit.js, over the files tsc wrote there (issue 14: start-up). Run by
// scripts/build.mjs after tsc; `node scripts/bundle-cli.mjs` redoes only this step.
//
// What goes into the bundle: main.ts, io.ts and commander; label.ts, files.ts and the
// implicit-label library modules they reach (src/label/**, not src/label/explicit/). Every
// codec module stays behind its dynamic import (codec-table.ts), so esbuild splits it into its
// own chunk beside the entries (dist/cli/bundle-*.js), loaded only when a file of that format
// is met; code both entries use (main.ts: setExitCode) is in one shared chunk, so there is one
// copy of it. What stays outside, imported from tsc's output as before: the other command
// modules (each loads when its command runs, as in the source), npm packages other than
// commander, src/errors.ts (one HeguiError class for the whole process: errors are told apart
// with instanceof) and version.ts (it reads ../package.json relative to itself). The other
// commands import commander from node_modules, a second copy: commander itself tells its
// objects and errors apart by their fields, not their class, and so does main.ts. The library
// entry points (hegui/label, ...) are tsc's files, unchanged.
//
// The bundle is checked here: it must not reach the visible labels (src/label/explicit/) nor
// heavy packages; a codec must not be in the entry file itself.
import { build } from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const src = join(root, 'src');
const outdir = join(root, 'dist', 'cli');
const quiet = process.argv.includes('--quiet');

/** Source modules (relative to src/, without extension) that go into the bundle. */
function bundled(rel) {
  if (['cli/main', 'cli/io', 'cli/label-implicit', 'cli/label', 'cli/files', 'cli/label-pool'].includes(rel)) return true;
  return rel.startsWith('label/') && !rel.startsWith('label/explicit/');
}

for (const name of readdirSync(outdir)) if (/^(bundle-.*\.js|(main|label-implicit)\.js\.map)$/.test(name)) rmSync(join(outdir, name));

const result = await build({
  // Not label-worker.ts: `--threads` threads load tsc's dist/cli/label-worker.js (a thread has
  // its own modules anyway), and a third entry would cut the shared code into more chunks.
  entryPoints: [join(src, 'cli', 'main.ts'), join(src, 'cli', 'label-implicit.ts')],
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
  banner: { js: "import { createRequire as __heguiCreateRequire } from 'node:module';\nconst require = __heguiCreateRequire(import.meta.url);" },
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
          if (!args.path.startsWith('.')) return args.path === 'commander' ? undefined : { external: true };
          const target = join(dirname(args.importer), args.path).replace(/\.js$/, '.ts');
          const rel = relative(src, target).split(sep).join('/').replace(/\.ts$/, '');
          if (bundled(rel)) return { path: target };
          // Outside the bundle: the compiled module, by its path relative to dist/cli/.
          let path = relative(join(src, 'cli'), target).split(sep).join('/').replace(/\.ts$/, '.js');
          if (!path.startsWith('.')) path = `./${path}`;
          return { path, external: true };
        });
      },
    },
  ],
});

const heavy = /^(sharp|@napi-rs\/canvas|@embedpdf\/|better-sqlite3|pg|kysely|opencc-js|pinyin-pro|hono)/;
const problems = [];
for (const [file, output] of Object.entries(result.metafile.outputs)) {
  for (const input of Object.keys(output.inputs)) if (input.includes('src/label/explicit/')) problems.push(`${file} holds ${input}`);
  for (const imported of output.imports) if (imported.external && heavy.test(imported.path)) problems.push(`${file} imports ${imported.path}`);
  if (file.endsWith('/main.js')) {
    for (const input of Object.keys(output.inputs)) if (input.includes('src/label/')) problems.push(`the CLI's start holds ${input}`);
  }
  if (file.endsWith('/label-implicit.js')) {
    for (const input of Object.keys(output.inputs)) if (/src\/label\/implicit\/(jpeg|png|mp4|pdf|ooxml|matroska)\.ts$/.test(input)) problems.push(`the entry itself holds the codec ${input}`);
  }
}
if (problems.length > 0) {
  console.error(`bundle-cli: the label bundle crosses its boundaries:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
if (!quiet) console.log(`bundle-cli: ${Object.keys(result.metafile.outputs).length} files in dist/cli/`);
