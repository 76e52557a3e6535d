/**
 * @module label
 * GB 45438-2025 labels for AI-generated content. Implicit labels: the label model, security
 * data, and the library API that embeds, reads, verifies, propagates and strips labels in
 * every supported container, on bytes and streams. File helpers live in `label/files`.
 */
export * from './errors.js';
export * from './model.js';
export * from './model-provider.js';
export { NO_TIMESTAMPS, checkSignatures, contentDigest, parseSecurityData, payloadDigest, signLabel, stampLabel, type Binding, type CheckOptions, type SecurityRole, type SignatureReport, type SignatureStatus } from './security.js';
export { LabelTimestampError, requestTimestamp, verifyTimestamp, type TimestampOptions, type TimestampReport } from './security-timestamp.js';
export { isCertified, parseCertifiedKey, type CertifiedVerifyKey } from './security-certs.js';
export { generateLabelKeys, parseSigningKey, parseVerifyKey, type LabelSigningKey, type LabelVerifyKey, type SignatureAlgorithm } from './security-keys.js';
export * from './api.js';
export { InputTooLargeError, labelledStream, memorySpool, type LabelInput, type LabelOutput, type Spool, type SpoolFactory } from './api-io.js';
export * from './implicit/index.js';
export * from './explicit/index.js';
