import { describe, expect, it } from 'vitest';
import { unzip } from '../../test/helpers/desk.js';
import { dueAtIntake, dueAtResume, remainingAtPause, workingDaysBetween } from './deadline.js';
import { DEFAULT_DESK_SETTINGS, parseDeskSettings } from './settings.js';
import { CASE_STATES, CLOSED_STATES, TRANSITIONS } from './model.js';
import { rulesPage } from './rules-page.js';
import { checkChallenge, leadingZeroBits, newChallenge, solveChallenge } from './secrets.js';
import { checkEvidence, safeFilename, sniffType } from './sniff.js';
import { fillTemplate, REPLY_TEMPLATES } from './templates.js';
import { zip } from './zip.js';

describe('desk deadlines', () => {
  it('counts China working days from the Beijing date of receipt', () => {
    // 2026-02-09T17:00Z is already Tue 02-10 in Beijing.
    expect(dueAtIntake(new Date('2026-02-09T17:00:00Z'), 15).date).toBe('2026-03-09');
    expect(dueAtIntake(new Date('2026-09-28T01:00:00Z'), 15).date).toBe('2026-10-23');
    expect(dueAtIntake(new Date('2026-09-18T02:00:00Z'), 1).date).toBe('2026-09-20');
  });

  it('pauses and resumes by the working days left', () => {
    expect(workingDaysBetween('2026-09-30', '2026-10-23')).toBe(13);
    expect(remainingAtPause('2026-10-23', new Date('2026-09-30T08:00:00Z'))).toBe(13);
    expect(dueAtResume(new Date('2026-10-09T08:00:00Z'), 13).date).toBe('2026-10-27');
    expect(remainingAtPause('2026-03-01', new Date('2026-03-10T02:00:00Z'))).toBe(0);
    expect(dueAtResume(new Date('2026-03-10T02:00:00Z'), 0).date).toBe('2026-03-10');
  });

  it('marks a due date in a year without a published schedule as estimated', () => {
    expect(dueAtIntake(new Date('2031-12-20T02:00:00Z'), 15).estimated).toBe(true);
  });
});

describe('desk model', () => {
  it('lets closed states go nowhere and every target be a known state', () => {
    for (const s of CLOSED_STATES) expect(TRANSITIONS[s]).toEqual([]);
    for (const targets of Object.values(TRANSITIONS)) for (const t of targets) expect(CASE_STATES).toContain(t);
  });
});

describe('desk secrets', () => {
  it('accepts a solved challenge and refuses forged, expired and unsolved ones', () => {
    const now = new Date('2026-03-01T00:00:00Z');
    const challenge = newChallenge('secret', 8, now);
    const nonce = solveChallenge(challenge, 8);
    expect(checkChallenge('secret', challenge, nonce, 8, now)).toBe('ok');
    expect(checkChallenge('other', challenge, nonce, 8, now)).toBe('malformed');
    expect(checkChallenge('secret', challenge.replace('v1.8.', 'v1.1.'), nonce, 8, now)).toBe('malformed');
    expect(checkChallenge('secret', challenge, nonce, 8, new Date(now.getTime() + 11 * 60_000))).toBe('expired');
    expect(checkChallenge('secret', newChallenge('secret', 4, now), 'x', 8, now)).toBe('weak');
    expect(leadingZeroBits(new Uint8Array([0, 0x10]))).toBe(11);
  });
});

describe('desk evidence', () => {
  const png = Buffer.from('89504e470d0a1a0a0000', 'hex');
  it('sniffs types by their bytes and refuses mismatches', () => {
    expect(sniffType(png)).toBe('image/png');
    expect(sniffType(Buffer.from('%PDF-1.7\n'))).toBe('application/pdf');
    expect(sniffType(Buffer.from('plain words\n中文'))).toBe('text/plain');
    expect(sniffType(Buffer.from([0xff, 0xfe, 0x00]))).toBeUndefined();
    expect(checkEvidence(png, 'image/png; charset=x', 100)).toBe('image/png');
    expect(() => checkEvidence(png, 'image/jpeg', 100)).toThrow(/declared image\/jpeg/);
    expect(() => checkEvidence(png, 'application/x-msdownload', 100)).toThrow(/not accepted/);
    expect(() => checkEvidence(png, 'image/png', 5)).toThrow(/limit is 5/);
  });

  it('keeps file names harmless', () => {
    expect(safeFilename('../../etc/passwd', 'text/plain')).toBe('passwd.txt');
    expect(safeFilename('<b>x</b>.PNG', 'image/png')).toBe('b_.png');
    expect(safeFilename('.hidden.pdf', 'application/pdf')).toBe('hidden.pdf');
    expect(safeFilename('photo.exe', 'image/jpeg')).toBe('photo.jpg');
  });
});

describe('desk files and texts', () => {
  it('writes a ZIP that reads back', () => {
    const files = unzip(zip([{ name: 'a.json', data: new TextEncoder().encode('{"x":"中文"}') }, { name: 'b.html', data: new TextEncoder().encode('<p>hi</p>'.repeat(100)) }]));
    expect(files.get('a.json')).toBe('{"x":"中文"}');
    expect(files.get('b.html')).toHaveLength(900);
  });

  it('fills templates and publishes the rules from the settings', () => {
    for (const t of REPLY_TEMPLATES) expect(fillTemplate(t.text.en, { reference: 'C-2026-000001', due: '2026-03-09', reason: 'r', kind: 'complaint' })).not.toMatch(/\{(reference|due|kind)\}/);
    const settings = parseDeskSettings({ ...DEFAULT_DESK_SETTINGS, limits: { complaint: 7, report: 9, pi: 11 }, channels: [{ zh: '电话 <400>', en: 'Phone <400>' }] });
    const zh = rulesPage(settings, 'zh');
    expect(zh).toContain('投诉：7 个工作日');
    expect(zh).toContain('电话 &#60;400&#62;');
    expect(rulesPage(settings, 'en')).toContain('Personal-information requests: 11 working days');
    expect(() => parseDeskSettings({ ...DEFAULT_DESK_SETTINGS, limits: { complaint: 0, report: 1, pi: 1 } })).toThrow(/limits.complaint/);
  });
});
