/**
 * @module rules/status
 * What an instrument is on a given date: not yet issued, a draft, promulgated but not yet in
 * force, in force (and which version of its text), superseded, or repealed.
 */
import type { Instrument } from './schema.js';

export const instrumentStatuses = ['not-issued', 'draft', 'promulgated-not-yet-in-force', 'in-force', 'superseded', 'repealed'] as const;
export type InstrumentStatus = (typeof instrumentStatuses)[number];

export interface StatusOnDate {
  status: InstrumentStatus;
  /** The version of the text in force (`original` or an amendment id), when in force. */
  version?: string;
}

/** Dates are `YYYY-MM-DD`, so text comparison is date comparison. */
export function statusOn(instrument: Instrument, date: string): StatusOnDate {
  if (instrument.repealed !== undefined && instrument.repealed <= date) return { status: 'repealed' };
  if (instrument.superseded !== undefined && instrument.superseded.on <= date) return { status: 'superseded' };
  if (instrument.draft) return { status: instrument.promulgated <= date ? 'draft' : 'not-issued' };
  if (date < instrument.promulgated) {
    return { status: instrument.draftPublished !== undefined && instrument.draftPublished <= date ? 'draft' : 'not-issued' };
  }
  if (instrument.effective === undefined || date < instrument.effective) return { status: 'promulgated-not-yet-in-force' };
  return { status: 'in-force', version: versionOn(instrument, date) };
}

/** The latest version in effect on `date` (the original text until the first amendment takes effect). */
export function versionOn(instrument: Instrument, date: string): string {
  let current = { id: 'original', effective: instrument.effective ?? instrument.promulgated };
  for (const amendment of instrument.amendments) {
    if (amendment.effective <= date && amendment.effective >= current.effective) current = amendment;
  }
  return current.id;
}

/** Amendments that take effect after `date`, soonest first. */
export function upcomingVersions(instrument: Instrument, date: string): { id: string; effective: string }[] {
  return instrument.amendments.filter((a) => a.effective > date).sort((a, b) => a.effective.localeCompare(b.effective));
}
