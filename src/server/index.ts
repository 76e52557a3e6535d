/**
 * @module server
 * Composes the HTTP service: gateway, desk API, tracker API and dashboard assets.
 */
export { createApp, type HeguiApp } from './app.js';
export { hashPassword, hashToken, MIN_PASSWORD_LENGTH, newToken, PasswordHasher, PasswordQueueFullError, passwords, verifyPassword } from './auth/secrets.js';
export { SESSION_COOKIE } from './auth/sessions.js';
export type { AppDeps, AppEnv } from './context.js';
export { defaultProfile, defaultWebRoot, isLoopback, packageRoot, startServer, type RunningServer, type ServeOptions } from './serve.js';
