/**
 * Preloaded (`--import`) into a server the gateway benchmark counts allocation in
 * (./allocation): on SIGUSR2 a full garbage collection, then a marker line on stdout, where
 * V8's `--trace-gc-nvp` lines go. The `allocated=` fields of the collections between two
 * markers add up to the bytes allocated on the V8 heap in between (the forced collection at
 * the second marker counts what was allocated since the last one before it).
 */
import v8 from 'node:v8';
import vm from 'node:vm';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
process.on('SIGUSR2', () => {
  gc();
  process.stdout.write('\nhegui-bench-gc-mark\n');
});
