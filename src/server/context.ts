/**
 * @module server/context
 * What the HTTP app is built from. Everything is passed in, so tests build an app over a
 * throwaway store and the CLI over the configured one.
 */
import type { AuditLog } from '../audit/index.js';
import type { DeskService } from '../desk/index.js';
import type { GatewayServices } from '../gateway/index.js';
import type { LabelVerifyKey } from '../label/index.js';
import type { Instrument, ServiceProfile } from '../rules/index.js';
import type { Operator, Store } from '../store/index.js';

export interface AppDeps {
  store: Store;
  instruments: readonly Instrument[];
  profile: ServiceProfile;
  /** Where the profile came from, shown on the dashboard. */
  profileSource: string;
  /** Folder of the built dashboard (web/dist); absent means "not built". */
  webRoot: string;
  version: string;
  /** The OpenAI-compatible gateway's services; its `/v1` routes are mounted when given. */
  gateway?: GatewayServices;
  /** The audit log the dashboard reads (every gateway request, desk action, label batch). */
  audit?: AuditLog;
  /** Public keys that label signatures are checked against on `/api/labels/inspect`. */
  labelVerifyKeys?: readonly LabelVerifyKey[];
  /** Mark the session cookie `Secure` (the server listens beyond loopback, so it is reached over HTTPS). */
  secureCookies?: boolean;
  /** The compliance desk (its outbox, the SubjectData port); a desk without mail delivery when absent. */
  desk?: DeskService;
  /** The clock; tests pass a fixed one. */
  now?: () => Date;
}

export interface AppEnv {
  Variables: { operator: Operator; sessionTokenHash: string };
}
