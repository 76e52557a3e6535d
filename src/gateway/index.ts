/**
 * @module gateway
 * The OpenAI-compatible compliance gateway: guards what goes in and out, labels every answer,
 * and records one audit event per request.
 */
export { AccessControl, type RequestPurpose } from './access.js';
export type { AuditSink } from './audit.js';
export { defaultGatewayConfig, gatewayConfigSchema, loadGatewayConfig, parseGatewayConfig, type GatewayConfig, type UpstreamConfig } from './config.js';
export {
  GatewayAuthError,
  GatewayBlockedError,
  GatewayConfigError,
  GatewayError,
  GatewayMediaError,
  GatewayModelError,
  GatewayPriceUnknownError,
  GatewayRateLimitError,
  GatewayRequestError,
  GatewaySpendError,
  GatewaySuspendedError,
  GatewayUnverifiedError,
  GatewayUpstreamError,
  toOpenAIError,
  type OpenAIErrorBody,
} from './errors.js';
export { PolicyGuard, type ContentGuard, type Direction, type GuardAction, type GuardFinding, type StreamGuard, type TextVerdict } from './guard.js';
export { API_KEY_PREFIX, addApiKey, createApiUser, hashApiKey, JWT_USER_PREFIX, newApiKey, StoreCallerResolver, type Caller, type CallerResolver } from './identity.js';
export { JwtVerifier, type TokenIdentity } from './jwt.js';
export { EXAMPLE_PRODUCER, labelHeaders, OutputLabeler } from './labels.js';
export { GatewayUnlabelableError, MediaService } from './media.js';
export { LiveKeywords, loadKeywordLibraries, mergeLibraries } from './live-keywords.js';
export { gatewayHealth, mountGateway } from './mount.js';
export { batchLines, GatewayObserver, type LineBatch } from './observe.js';
export { ModelGuard } from './model-guard.js';
export { checkAmountMicros, costMicros, formatAmount, MICROS, parseAmount, parseCurrency, PriceTable, type ModelPrice, type TokenUsage } from './spend.js';
export { REQUEST_ID_HEADER, type GatewayServices } from './pipeline.js';
export { closeGatewayServices, createGatewayServices, type GatewaySetup } from './setup.js';
export { imposeUserSanction, liftUserSanctions, type ImposedSanction, type LiftResult } from './sanctions.js';
