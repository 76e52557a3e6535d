/**
 * @module cli/serve
 * `hegui serve`: the HTTP service (dashboard, APIs, the OpenAI-compatible gateway) until
 * interrupted. The flags alone serve the simple case (one upstream for every model, one
 * keyword library, default policies); `--config hegui.config.yaml` covers the rest, and flags
 * given as well win over the file.
 */
import { resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import type { GatewayConfig } from '../gateway/index.js';
import type { CliIo } from './io.js';

interface ServeFlags {
  port?: number;
  host?: string;
  profile?: string;
  database?: string;
  config?: string;
  upstream?: string;
  keywords?: string;
}

/** The gateway settings from the config file (if any) with the flags applied on top. */
async function gatewaySettings(flags: ServeFlags, io: CliIo): Promise<GatewayConfig> {
  // The server and the gateway load when `serve` runs: `hegui serve --help` does not pay for them.
  const { defaultGatewayConfig, loadGatewayConfig } = await import('../gateway/config.js');
  const config = flags.config ? await loadGatewayConfig(resolve(io.cwd, flags.config)) : defaultGatewayConfig();
  if (flags.upstream) {
    let url: URL;
    try {
      url = new URL(flags.upstream);
    } catch {
      throw new InvalidArgumentError(`--upstream ${flags.upstream} is not a URL; give the base URL of an OpenAI-compatible API, e.g. http://127.0.0.1:11434/v1`);
    }
    config.upstreams = [{ name: 'default', url: url.toString().replace(/\/+$/, ''), apiKeyEnv: 'HEGUI_UPSTREAM_API_KEY', models: ['*'], timeoutSeconds: 120, idleTimeoutSeconds: 60, retries: 2, maxRetryWaitSeconds: 5, weight: 1, fallbacks: [] }];
  }
  if (flags.keywords) config.safety.keywords = [resolve(io.cwd, flags.keywords)];
  return config;
}

export function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new InvalidArgumentError('a port is a whole number from 0 to 65535');
  return port;
}

export function registerServe(program: Command, io: CliIo): void {
  program
    .command('serve')
    .description('serve the dashboard and the APIs (http://127.0.0.1:8787 by default)')
    .option('--config <file>', 'gateway config file (YAML): upstreams per model, policies, labels, audit, users; see docs/gateway.md')
    .option('--upstream <url>', 'one OpenAI-compatible upstream for every model (its key from HEGUI_UPSTREAM_API_KEY)')
    .option('--keywords <file>', 'keyword library (hegui-keywords/1 JSON) the gateway guards input and output with')
    .option('--port <port>', 'port to listen on (0 picks a free one; default 8787)', parsePort)
    .option('--host <host>', 'address to listen on (default 127.0.0.1); anything but loopback exposes the service')
    .option('--profile <file>', 'service profile whose obligations the dashboard shows (default: the example public chatbot)', io.env.HEGUI_PROFILE)
    .option('--database <url>', 'file:PATH for SQLite or postgres://... (default: HEGUI_DATABASE_URL, else ./hegui.db)', io.env.HEGUI_DATABASE_URL)
    .action(async (flags: ServeFlags) => {
      const gateway = await gatewaySettings(flags, io);
      const database = flags.database ?? gateway.server.database;
      const profile = flags.profile ? resolve(io.cwd, flags.profile) : gateway.server.profile;
      // Access-log lines leave in batches (at most 50 ms late), flushed before any other line and at exit.
      const { batchLines } = await import('../gateway/observe.js');
      const { startServer } = await import('../server/index.js');
      const access = batchLines((text) => io.stdout.write(text));
      const log = (line: string): void => {
        access.flush();
        io.stdout.write(`${line}\n`);
      };
      process.once('exit', access.flush);
      const server = await startServer({
        host: flags.host ?? gateway.server.host ?? io.env.HEGUI_HOST ?? '127.0.0.1',
        port: flags.port ?? gateway.server.port ?? Number(io.env.HEGUI_PORT ?? 8787),
        ...(database ? { databaseUrl: database } : {}),
        ...(profile ? { profilePath: profile } : {}),
        gateway,
        env: io.env,
        log,
        accessLog: access.line,
      });
      await new Promise<void>((done) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          // Graceful drain (issue 13): running requests and streams finish, or end cleanly at
          // the deadline, and their audit events are written before the process exits.
          log(`stopping: draining running requests (up to ${gateway.server.drainSeconds} s)`);
          void server.close(gateway.server.drainSeconds * 1000).then(() => {
            access.flush();
            done();
          });
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
