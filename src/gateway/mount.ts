/**
 * @module gateway/mount
 * Puts the OpenAI-compatible API on an app: `/v1/chat/completions`, `/v1/completions`,
 * `/v1/responses`, `/v1/images/generations`, `/v1/audio/speech`, `/v1/models`, and
 * `/v1/media/:id` for labeled images handed out as URLs.
 */
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, Env, Hono } from 'hono';
import { mountChat } from './chat.js';
import { mountCompletions } from './completions.js';
import { mountMedia } from './media-routes.js';
import { mountModels } from './models.js';
import { clientAddresses, type GatewayServices } from './pipeline.js';
import { mountResponses } from './responses.js';

/**
 * Mounts the gateway's routes on `app`.
 *
 * @example
 * const services = await createGatewayServices({ config, store, audit });
 * mountGateway(app, services);
 */
export function mountGateway<E extends Env>(app: Hono<E>, services: GatewayServices): void {
  app.use('/v1/*', async (c, next) => {
    clientAddresses.set(c.req.raw, clientAddress(c));
    await next();
  });
  mountChat(app, services);
  mountCompletions(app, services);
  mountResponses(app, services);
  mountMedia(app, services);
  mountModels(app, services);
}

/** The client's address as the socket saw it (a proxy's forwarding headers are not trusted). */
function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
