#!/usr/bin/env node
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  // What commander prints for these, without loading it and the command table (issue 14:
  // start-up): `hegui --version` is what scripts and installers run to check hegui is there.
  const { version } = await import('../dist/version.js');
  process.stdout.write(`${version}\n`);
} else {
  const { run } = await import('../dist/cli/main.js');
  process.exitCode = await run(argv);
}
