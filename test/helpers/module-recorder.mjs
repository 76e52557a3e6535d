// Loaded with `node --import`: records every module URL the process resolves, one per line,
// in the file named by HEGUI_MODULE_LOG. The hooks run on Node's loader thread, so they write
// the file synchronously there rather than message the main thread (which may exit first).
import { register } from 'node:module';

register('./module-recorder-hooks.mjs', import.meta.url, { data: { file: process.env.HEGUI_MODULE_LOG } });
