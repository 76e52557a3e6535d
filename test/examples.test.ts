/**
 * The example profiles for issue 10, each checked against the duties written down from the
 * texts in examples/profiles/expected/<name>.yaml, through the CLI a user runs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { ApplicabilityReport } from '../src/rules/index.js';
import { cli } from './helpers/cli.js';

interface Expected {
  on: string;
  instruments: { apply: Record<string, string>; excluded?: Record<string, string> };
  duties: { apply: Record<string, string>; notApplicable?: Record<string, string> };
}

const dir = 'examples/profiles/expected';
const names = readdirSync(dir).filter((n) => n.endsWith('.yaml')).map((n) => n.slice(0, -'.yaml'.length));

describe('example profiles against the duties written down from the texts', () => {
  it('has the five profiles the issue asks for', () => {
    expect(names.sort()).toEqual(['business-api', 'foreign-model-reseller', 'important-data-exporter', 'insurer-service-bot', 'offshore-only']);
  });

  it.each(names)('%s', async (name) => {
    const expected = parse(readFileSync(join(dir, `${name}.yaml`), 'utf8')) as Expected;
    const result = await cli(['obligations', '-p', `examples/profiles/${name}.yaml`, '--on', expected.on, '--format', 'json']);
    expect(result.stderr).toBe('');
    const report = JSON.parse(result.stdout) as ApplicabilityReport;
    // Every example answers every fact that matters, so nothing applies only "on the safe side".
    expect(report.unknownFacts).toEqual([]);
    const duties = new Set(report.obligations.map((o) => o.id));
    const applying = new Set([...report.obligations.map((o) => o.instrument), ...report.withoutItemisedDuties.map((w) => w.instrument)]);
    const excluded = new Set(report.excluded.map((e) => e.instrument));
    for (const [id, why] of Object.entries(expected.instruments.apply)) expect(applying.has(id), `${id} applies: ${why}`).toBe(true);
    for (const [id, why] of Object.entries(expected.instruments.excluded ?? {})) expect(excluded.has(id), `${id} excluded: ${why}`).toBe(true);
    for (const [id, why] of Object.entries(expected.duties.apply)) expect(duties.has(id), `${id} applies: ${why}`).toBe(true);
    for (const [id, why] of Object.entries(expected.duties.notApplicable ?? {})) expect(duties.has(id), `${id} does not apply: ${why}`).toBe(false);
  });

  it('every example profile answers every fact that matters', async () => {
    for (const file of readdirSync('examples/profiles').filter((n) => n.endsWith('.yaml'))) {
      const r = await cli(['profile', 'check', '-p', `examples/profiles/${file}`, '--on', '2026-11-28', '--strict']);
      expect(r.code, `${file}: ${r.stdout}`).toBe(0);
      expect(r.stderr, file).toBe('');
    }
  });

  it('offshore-only gets no duty at all', async () => {
    const result = await cli(['obligations', '-p', 'examples/profiles/offshore-only.yaml', '--on', '2026-11-28', '--format', 'json']);
    const report = JSON.parse(result.stdout) as ApplicabilityReport;
    expect(report.obligations).toEqual([]);
    expect(report.withoutItemisedDuties).toEqual([]);
  });
});
