/**
 * @module desk/settings
 * What the provider publishes (time limits, channels) and the desk's operating limits. Stored
 * as one setting (`desk.settings`) so every replica reads the same; the rules page and the
 * intake's due dates are generated from it.
 */
import { z } from 'zod';
import type { Store } from '../store/index.js';
import { DeskInputError } from './errors.js';
import type { CaseKind } from './model.js';

export const DESK_SETTINGS_KEY = 'desk.settings';

const limit = z.number().int().min(1).max(60);

export const deskSettingsSchema = z
  .object({
    /** Published time limits in China working days (DESIGN: default 15). */
    limits: z.object({ complaint: limit, report: limit, pi: limit }).strict(),
    /** Escalate a case this many working days before its due date (and again once overdue). */
    escalateDaysBefore: z.number().int().min(0).max(30),
    /** The provider's name, as the rules page shows it. */
    providerName: z.string().min(1).max(200),
    /** Other channels the rules page lists (an address, a telephone number), zh and en. */
    channels: z.array(z.object({ zh: z.string().min(1).max(300), en: z.string().min(1).max(300) }).strict()).max(10),
    /** Evidence files: the largest one, and how many per case. */
    uploadMaxBytes: z.number().int().min(1024).max(50 * 1024 * 1024),
    uploadMaxFiles: z.number().int().min(0).max(20),
    /** One-time codes: minutes valid and attempts allowed. */
    codeMinutes: z.number().int().min(1).max(24 * 60),
    codeAttempts: z.number().int().min(1).max(20),
    /** Proof of work asked of the intake: leading zero bits of SHA-256 (0 = off). */
    powBits: z.number().int().min(0).max(28),
    /** Filings per client address per hour, and per contact address per hour. */
    perAddressPerHour: z.number().int().min(1).max(100_000),
    perContactPerHour: z.number().int().min(1).max(100_000),
  })
  .strict();

export type DeskSettings = z.infer<typeof deskSettingsSchema>;

export const DEFAULT_DESK_SETTINGS: DeskSettings = {
  limits: { complaint: 15, report: 15, pi: 15 },
  escalateDaysBefore: 3,
  providerName: 'hegui',
  channels: [],
  uploadMaxBytes: 5 * 1024 * 1024,
  uploadMaxFiles: 5,
  codeMinutes: 30,
  codeAttempts: 5,
  powBits: 0,
  perAddressPerHour: 20,
  perContactPerHour: 5,
};

export function limitFor(settings: DeskSettings, kind: CaseKind): number {
  return settings.limits[kind];
}

/** Checks a whole settings object; a message naming the field otherwise. */
export function parseDeskSettings(value: unknown): DeskSettings {
  const parsed = deskSettingsSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new DeskInputError('E_DESK_SETTINGS', `desk settings: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

/** The stored settings over the defaults (a field added later gets its default). */
export async function readDeskSettings(store: Store): Promise<{ settings: DeskSettings; version: number }> {
  const stored = await store.settings.get<Partial<DeskSettings>>(DESK_SETTINGS_KEY);
  if (!stored) return { settings: DEFAULT_DESK_SETTINGS, version: 0 };
  return { settings: parseDeskSettings({ ...DEFAULT_DESK_SETTINGS, ...stored.value, limits: { ...DEFAULT_DESK_SETTINGS.limits, ...stored.value.limits } }), version: stored.version };
}

/** Merges `patch` into the stored settings and saves them (optimistic: a concurrent edit conflicts). */
export async function updateDeskSettings(store: Store, patch: Record<string, unknown>, now: Date): Promise<DeskSettings> {
  const { settings, version } = await readDeskSettings(store);
  const limits = typeof patch.limits === 'object' && patch.limits !== null ? { ...settings.limits, ...(patch.limits as object) } : settings.limits;
  const next = parseDeskSettings({ ...settings, ...patch, limits });
  await store.settings.set(DESK_SETTINGS_KEY, next, { expectedVersion: version, now });
  return next;
}
