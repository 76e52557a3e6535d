#!/usr/bin/env node
// Bundles the image pool's thread (src/label/explicit/image-pool-worker.ts) with esbuild into one
// file over tsc's dist/label/explicit/image-pool-worker.js (issue 14: a batch's labelling thread
// is on the critical path from its start: loading some eighty-five modules one by one took it
// about 55 ms, the one file about 20). Run by scripts/build.mjs after tsc;
// `node scripts/bundle-workers.mjs` redoes only this step.
//
// Everything of hegui's that the thread reaches goes into the file, its dynamic imports (the
// codecs, the JPEG splice) too; npm packages and Node's modules stay imports. So a thread holds one
// copy of each module (its error classes are its own anyway: a failure crosses back to the main
// thread as a plain record), and the build refuses an output that imports one of hegui's files.
//
// Paths: a module of src/label/explicit/ keeps its `import.meta` (the file is written in that
// folder, so a path or a package resolved from it is the same); a module elsewhere has its
// `import.meta.url` replaced by the URL of tsc's copy of it, and any other `import.meta.*` there
// fails the build.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const src = join(root, 'src');
const quiet = process.argv.includes('--quiet');

/** The thread entries: source under src/, written over tsc's file of the same name. */
const workers = ['label/explicit/image-pool-worker'];

function withModuleUrl(path, contents, outDir) {
  if (!contents.includes('import.meta') || dirname(path) === outDir) return contents;
  const rel = relative(src, path).split(sep).join('/');
  const other = contents.match(/import\.meta\.(?!url\b)\w+/);
  if (other) throw new Error(`bundle-workers: ${rel} uses ${other[0]}, which the bundle cannot carry over: use import.meta.url`);
  const target = relative(outDir, path).split(sep).join('/').replace(/\.ts$/, '.js');
  return `const __heguiModuleUrl = new URL(${JSON.stringify(target.startsWith('.') ? target : `./${target}`)}, import.meta.url).href;\n${contents.replace(/import\.meta\.url\b/g, '__heguiModuleUrl')}`;
}

const problems = [];
for (const worker of workers) {
  const entry = join(src, `${worker}.ts`);
  const outfile = join(root, 'dist', `${worker}.js`);
  const outDir = dirname(entry);
  const result = await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    metafile: true,
    sourcemap: true,
    allowOverwrite: true,
    legalComments: 'none',
    logLevel: quiet ? 'warning' : 'info',
    plugins: [
      {
        name: 'hegui-module-urls',
        setup(b) {
          b.onLoad({ filter: /\.ts$/ }, (args) => (args.path.startsWith(src + sep) ? { contents: withModuleUrl(args.path, readFileSync(args.path, 'utf8'), outDir), loader: 'ts' } : undefined));
        },
      },
    ],
  });
  for (const output of Object.values(result.metafile.outputs)) {
    for (const imported of output.imports) if (imported.external && imported.path.startsWith('.')) problems.push(`${worker}.js imports ${imported.path}: every module of hegui's must be inside the thread's file`);
  }
}
if (problems.length > 0) {
  console.error(`bundle-workers:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
if (!quiet) console.log(`bundle-workers: ${workers.length} thread file(s)`);
