/**
 * @module gateway
 * The OpenAI-compatible compliance gateway: guards what goes in and out, labels every answer,
 * and records one audit event per request.
 */
export type { AuditSink } from './audit.js';
export { defaultGatewayConfig, gatewayConfigSchema, loadGatewayConfig, parseGatewayConfig, type GatewayConfig, type UpstreamConfig } from './config.js';
export { GatewayAuthError, GatewayBlockedError, GatewayConfigError, GatewayError, GatewayMediaError, GatewayModelError, GatewayRequestError, GatewayUpstreamError, toOpenAIError, type OpenAIErrorBody } from './errors.js';
export { PolicyGuard, type ContentGuard, type Direction, type GuardAction, type GuardFinding, type StreamGuard, type TextVerdict } from './guard.js';
export { API_KEY_PREFIX, ApiKeyResolver, createApiUser, hashApiKey, newApiKey, type Caller, type CallerResolver } from './identity.js';
export { EXAMPLE_PRODUCER, labelHeaders, OutputLabeler } from './labels.js';
export { GatewayUnlabelableError, MediaService } from './media.js';
export { mountGateway } from './mount.js';
export type { GatewayServices } from './pipeline.js';
export { closeGatewayServices, createGatewayServices, loadKeywordLibraries, type GatewaySetup } from './setup.js';
