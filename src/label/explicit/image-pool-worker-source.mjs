// Image pool threads running from the TypeScript source (tests, `npm run dev`): Node 20 does
// not pass `--import tsx` on to worker threads, so the thread registers tsx itself and then
// loads the TypeScript module. The built package runs image-pool-worker.js directly.
import { register } from 'tsx/esm/api';

register();
await import('./image-pool-worker.ts');
