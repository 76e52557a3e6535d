/**
 * @module cli/serve
 * `hegui serve`: the HTTP service (dashboard, APIs) until interrupted.
 */
import { resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { startServer } from '../server/index.js';
import type { CliIo } from './io.js';

export function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new InvalidArgumentError('a port is a whole number from 0 to 65535');
  return port;
}

export function registerServe(program: Command, io: CliIo): void {
  program
    .command('serve')
    .description('serve the dashboard and the APIs (http://127.0.0.1:8787 by default)')
    .option('--port <port>', 'port to listen on (0 picks a free one)', parsePort, Number(io.env.HEGUI_PORT ?? 8787))
    .option('--host <host>', 'address to listen on; anything but loopback exposes the service', io.env.HEGUI_HOST ?? '127.0.0.1')
    .option('--profile <file>', 'service profile whose obligations the dashboard shows (default: the example public chatbot)', io.env.HEGUI_PROFILE)
    .option('--database <url>', 'file:PATH for SQLite or postgres://... (default: HEGUI_DATABASE_URL, else ./hegui.db)', io.env.HEGUI_DATABASE_URL)
    .action(async (flags: { port: number; host: string; profile?: string; database?: string }) => {
      const server = await startServer({
        host: flags.host,
        port: flags.port,
        ...(flags.database ? { databaseUrl: flags.database } : {}),
        ...(flags.profile ? { profilePath: resolve(io.cwd, flags.profile) } : {}),
        log: (line) => io.stdout.write(`${line}\n`),
      });
      await new Promise<void>((done) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          io.stdout.write('stopping\n');
          void server.close().then(done);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
