/**
 * @module gateway/mount
 * Puts the OpenAI-compatible API on an app: `/v1/chat/completions`, `/v1/completions`,
 * `/v1/responses`, `/v1/images/generations`, `/v1/audio/speech`, `/v1/models`, and
 * `/v1/media/:id` for labeled images handed out as URLs.
 */
import type { Env, Hono } from 'hono';
import { mountChat } from './chat.js';
import { mountCompletions } from './completions.js';
import { mountMedia } from './media-routes.js';
import { mountModels } from './models.js';
import type { GatewayServices } from './pipeline.js';
import { mountResponses } from './responses.js';

/**
 * Mounts the gateway's routes on `app`.
 *
 * @example
 * const services = await createGatewayServices({ config, store, audit });
 * mountGateway(app, services);
 */
export function mountGateway<E extends Env>(app: Hono<E>, services: GatewayServices): void {
  mountChat(app, services);
  mountCompletions(app, services);
  mountResponses(app, services);
  mountMedia(app, services);
  mountModels(app, services);
}
