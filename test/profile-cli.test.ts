/**
 * `hegui profile init`, `hegui profile check` and `hegui obligations --explain`: the interview
 * through piped stdin, flags and a real pseudo-terminal, and what a profile leaves unknown.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseServiceProfile } from '../src/rules/index.js';
import { cli } from './helpers/cli.js';
import { systemTool } from './helpers/system.js';

const dir = mkdtempSync(join(tmpdir(), 'hegui-profile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Answers in interview order for a domestic public chatbot on its own model. */
const answers = [
  'Example Co.', // provider.name
  'yes', // domestic
  'no', // foreignInvested
  'Example Chat', // service.name
  'yes', // servesMainlandChina
  '1', // audience: public
  'text', // modalities
  'own', // model
  'yes', // publicOpinion
  'no', // minors
  '', // ageVerification: unknown
];

describe('hegui profile init', () => {
  it('interviews through piped stdin, explains each question with its article, and writes a valid profile', async () => {
    const out = join(dir, 'piped.yaml');
    const r = await cli(['profile', 'init', '-o', out], { stdin: `${answers.join('\n')}\n` });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/Who is the service offered to\?/);
    expect(r.stderr).toMatch(/AI Measures Arts\. 2 and 22/);
    expect(r.stderr.indexOf('incorporated in mainland China')).toBeLessThan(r.stderr.indexOf('Who is the service offered to'));
    const text = readFileSync(out, 'utf8');
    const p = parseServiceProfile(text);
    expect(p.provider).toMatchObject({ name: 'Example Co.', domestic: true, foreignInvested: false });
    expect(p.service).toMatchObject({ audience: 'public', modalities: ['text'], model: 'own', publicOpinion: true, minors: false });
    // Unanswered facts are written as unknown, never as false, and the file explains each field.
    expect(text).toMatch(/ageVerification: unknown/);
    expect(p.service.ageVerification).toBeUndefined();
    expect(text).toMatch(/# Defined by Art\. 2 of the 2018 security-assessment provisions/);
  });

  it('asks again after an answer it cannot read, and skips questions a previous answer settles', async () => {
    const out = join(dir, 'retry.yaml');
    const r = await cli(['profile', 'init', '-o', out], { stdin: ['Example Co.', 'perhaps', 'yes', 'no', '', 'yes', 'everyone', 'in-house', '', '', 'no', 'no'].join('\n') });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/provider\.domestic: answer yes, no or unknown, not "perhaps"/);
    expect(r.stderr).toMatch(/service\.audience: answer one of public, business-api, in-house, research/);
    const p = parseServiceProfile(readFileSync(out, 'utf8'));
    expect(p.service.audience).toBe('in-house');
    // Age verification only matters for a public service; the in-house profile is not asked.
    expect(readFileSync(out, 'utf8')).not.toMatch(/ageVerification/);
  });

  it('runs without input: --set answers, the rest unknown; refuses a missing name and a bad --set', async () => {
    const out = join(dir, 'flags.yaml');
    const r = await cli(['profile', 'init', '--no-input', '-o', out, '--set', 'provider.name=Flag Co.', '--set', 'service.audience=business-api', '--set', 'service.crossBorderTransfer=no']);
    expect(r.code).toBe(0);
    const p = parseServiceProfile(readFileSync(out, 'utf8'));
    expect(p.service.audience).toBe('business-api');
    expect(p.service.minors).toBeUndefined();
    expect(readFileSync(out, 'utf8')).not.toMatch(/export:/);
    const noName = await cli(['profile', 'init', '--no-input', '-o', join(dir, 'noname.yaml')]);
    expect(noName.code).toBe(2);
    expect(noName.stderr).toMatch(/provider\.name is required: give it with --set provider\.name=/);
    const bad = await cli(['profile', 'init', '--no-input', '-o', join(dir, 'bad.yaml'), '--set', 'service.audiense=public']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--set service\.audiense=public: expected <field>=<answer>/);
    const badValue = await cli(['profile', 'init', '--no-input', '-o', join(dir, 'bad.yaml'), '--set', 'service.minors=sometimes']);
    expect(badValue.code).toBe(2);
    expect(badValue.stderr).toMatch(/service\.minors: answer yes, no or unknown/);
  });

  it('does not overwrite a file without --force, and writes to stdout with -o -', async () => {
    const out = join(dir, 'exists.yaml');
    writeFileSync(out, 'keep me\n');
    const r = await cli(['profile', 'init', '--no-input', '--set', 'provider.name=X', '-o', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/exists; choose another --output or add --force/);
    expect(readFileSync(out, 'utf8')).toBe('keep me\n');
    const stdout = await cli(['profile', 'init', '--no-input', '--set', 'provider.name=X', '-o', '-', '--lang', 'zh']);
    expect(stdout.code).toBe(0);
    expect(parseServiceProfile(stdout.stdout).provider.name).toBe('X');
    expect(stdout.stdout).toMatch(/# 由 hegui profile init 生成/);
  });

  it('runs in a real pseudo-terminal', () => {
    if (!systemTool('script', 'bsdutils')) return;
    const out = join(dir, 'tty.yaml');
    const command = [process.execPath, '--import', 'tsx', resolve('src/cli/main.ts'), 'profile', 'init', '-o', out].map((a) => `'${a}'`).join(' ');
    const r = spawnSync('script', ['-qec', command, '/dev/null'], { input: `${answers.join('\n')}\n`, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Who is the service offered to\?/);
    const p = parseServiceProfile(readFileSync(out, 'utf8'));
    expect(p.service).toMatchObject({ audience: 'public', publicOpinion: true });
  });
});

describe('hegui profile check', () => {
  it('lists the unknown facts with the question, its basis and the duties each decides', async () => {
    const file = join(dir, 'check.yaml');
    writeFileSync(file, 'provider: { name: X, domestic: true }\nservice: { audience: public, servesMainlandChina: true, minors: false }\n');
    const r = await cli(['profile', 'check', '-p', file, '--on', '2026-11-28']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/facts unknown/);
    expect(r.stdout).toMatch(/- service\.ageVerification: Does effective age verification keep minors out\?/);
    expect(r.stdout).toMatch(/decides \d+: .*minors-online-protection/);
    const json = JSON.parse((await cli(['profile', 'check', '-p', file, '--on', '2026-11-28', '--format', 'json'])).stdout) as { unknown: { field: string; decides: string[] }[] };
    expect(json.unknown.find((u) => u.field === 'service.publicOpinion')?.decides).toContain('genai-measures.assessment-and-filing');
    expect((await cli(['profile', 'check', '-p', file, '--strict'])).code).toBe(1);
  });

  it('finds nothing open in a fully answered example', async () => {
    const r = await cli(['profile', 'check', '-p', 'examples/profiles/business-api.yaml', '--strict']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/every relevant fact is answered/);
  });
});

describe('old profiles', () => {
  it('maps audience: internal with a deprecation warning, and refuses enterprise saying what to write', async () => {
    const old = join(dir, 'old.yaml');
    writeFileSync(old, 'provider: { name: X, domestic: true }\nservice: { audience: internal, model: third-party-filed }\n');
    const r = await cli(['obligations', '-p', old, '--on', '2026-11-28', '--format', 'json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: .*service\.audience: "internal" is deprecated; write in-house/);
    expect(r.stderr).toMatch(/third-party-filed" is deprecated; write model: third-party and modelFiled: true/);
    const enterprise = join(dir, 'enterprise.yaml');
    writeFileSync(enterprise, 'provider: { name: X }\nservice: { audience: enterprise }\n');
    const e = await cli(['obligations', '-p', enterprise]);
    expect(e.code).toBe(2);
    expect(e.stderr).toMatch(/"enterprise" is no longer accepted.*write business-api .* or in-house/);
  });
});

describe('hegui obligations --explain', () => {
  it('shows every condition tested, the answers, and the answer that would lift a safe-side duty', async () => {
    const file = join(dir, 'explain.yaml');
    writeFileSync(file, 'provider: { name: X, domestic: true }\nservice: { audience: public, servesMainlandChina: true, model: own }\n');
    const r = await cli(['obligations', '-p', file, '--on', '2026-11-28', '--explain', 'genai-measures.assessment-and-filing']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/AI Measures Art\. 17 \(mandatory; citation: secondary source\)/);
    expect(r.stdout).toMatch(/applies on the safe side/);
    expect(r.stdout).toMatch(/Answers that would lift it: service\.publicOpinion: false/);
    expect(r.stdout).toMatch(/service\.publicOpinion is true -> unknown {2}\(answer: unknown\)/);
    expect(r.stdout).toMatch(/service\.audience is one of public, business-api -> yes {2}\(answer: public\)/);
    const json = JSON.parse((await cli(['obligations', '-p', file, '--on', '2026-11-28', '--explain', 'deep-synthesis.real-identity', '--format', 'json'])).stdout) as { outcome: string };
    expect(json.outcome).toBe('applies');
    const penalty = JSON.parse((await cli(['obligations', '-p', file, '--on', '2026-11-28', '--explain', 'pipl.penalties', '--format', 'json'])).stdout) as { outcome: string };
    expect(penalty.outcome).toBe('applies-assumed');
    const unknown = await cli(['obligations', '-p', file, '--explain', 'genai-measures.nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no duty has the id genai-measures\.nope; ids of that instrument: genai-measures\.core-values/);
  });
});
