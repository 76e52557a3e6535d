/**
 * The gateway's configuration file and commands: errors name the field; `hegui users add`
 * prints the key once, alone on the last line, and stores only its hash.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GatewayConfigError, loadGatewayConfig } from '../src/gateway/index.js';
import { openStore } from '../src/store/index.js';
import { cli } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'hegui-gateway-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('gateway config file', () => {
  it('reads a full file, resolving paths against its folder', async () => {
    const path = file(
      'full.yaml',
      [
        'server: { port: 9000, publicUrl: "https://ai.example.cn" }',
        'upstreams:',
        '  - { name: deepseek, url: "https://api.deepseek.com/v1", apiKeyEnv: DEEPSEEK_API_KEY, models: [deepseek-chat, "deepseek-*"] }',
        '  - { name: local, url: "http://127.0.0.1:11434/v1" }',
        'safety:',
        '  keywords: [lists/keywords.json]',
        '  inputBlock: error',
        '  policy: { rules: [{ target: "*", action: block }], userClasses: { minor: [{ target: pii, action: redact }] } }',
        'labels: { producer: "001191350100M000100Y431A001", signingKey: keys/label.pem, notice: { position: end, language: en } }',
        'audit: { content: flagged }',
        'users: { cacheSeconds: 0 }',
        'media: { urlTtlSeconds: 600 }',
        '',
      ].join('\n'),
    );
    const config = await loadGatewayConfig(path);
    expect(config.upstreams[1]).toMatchObject({ name: 'local', models: ['*'], timeoutSeconds: 120, retries: 2 });
    expect(config.safety.keywords).toEqual([join(dir, 'lists/keywords.json')]);
    expect(config.labels.signingKey).toBe(join(dir, 'keys/label.pem'));
    expect(config.labels.notice).toEqual({ position: 'end', language: 'en' });
  });

  it('names every bad field', async () => {
    const path = file('bad.yaml', 'upstreams:\n  - { name: x, url: "not a url", retries: 9 }\nlabels: { notice: { position: top } }\nsafty: {}\n');
    const error = await loadGatewayConfig(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayConfigError);
    const message = (error as Error).message;
    expect(message).toContain('upstreams[0].url');
    expect(message).toContain('upstreams[0].retries');
    expect(message).toContain('labels.notice.position: expected one of start, end, none, got "top"');
    expect(message).toContain('safty: unknown field');
  });

  it('names a bad policy rule and a duplicate upstream', async () => {
    const policy = file('policy.yaml', 'safety:\n  policy: { rules: [{ target: A9, action: block }] }\n');
    await expect(loadGatewayConfig(policy)).rejects.toMatchObject({ name: 'GatewayConfigError', code: 'E_GATEWAY_CONFIG', message: expect.stringMatching(/safety\.policy: rule 1: unknown target "A9"/) });
    const twice = file('twice.yaml', 'upstreams:\n  - { name: a, url: "http://127.0.0.1:1/v1" }\n  - { name: a, url: "http://127.0.0.1:2/v1" }\n');
    await expect(loadGatewayConfig(twice)).rejects.toMatchObject({ name: 'GatewayConfigError', code: 'E_GATEWAY_CONFIG', message: expect.stringMatching(/upstreams\[1\]\.name: "a" is used twice/) });
  });

  it('reads users, limits, minors and abuse, and names what cannot work', async () => {
    const path = file(
      'users.yaml',
      [
        'users:',
        '  requireVerified: true',
        '  jwt: { algorithms: [RS256, EdDSA], jwks: keys/jwks.json, issuer: "https://login.example.cn", audience: [hegui, app] }',
        'limits: { syncMilliseconds: 0, user: { requests: 60, perSeconds: 60 } }',
        'minors: { dailyRequests: 100, dailyMinutes: 90 }',
        'abuse: { risks: [A1, A2.3], steps: [{ blocks: 2, withinMinutes: 10, action: suspend }] }',
        'safety: { libraries: [main], reloadSeconds: 2 }',
        '',
      ].join('\n'),
    );
    const config = await loadGatewayConfig(path);
    expect(config.users.jwt).toMatchObject({ jwks: join(dir, 'keys/jwks.json'), clockToleranceSeconds: 30, claims: { verified: 'real_name_verified', minor: 'minor' } });
    expect(config.minors).toMatchObject({ dailyRequests: 100, dailyMinutes: 90, reminderMinutes: 120, idleMinutes: 30 });
    expect(config.abuse.steps).toEqual([{ blocks: 2, withinMinutes: 10, action: 'suspend', requestsPerMinute: 1 }]);
    const defaults = await loadGatewayConfig(file('defaults.yaml', '{}\n'));
    expect(defaults.abuse.steps.map((s) => s.action)).toEqual(['warn', 'limit', 'suspend']);
    expect(defaults.limits).toMatchObject({ bodyBytes: 16 * 1024 * 1024, jsonDepth: 64, messages: 2048 });
    expect(defaults.media).toMatchObject({ hosts: [], allowLoopback: false });
    const bad = async (name: string, text: string): Promise<string> => {
      const error = await loadGatewayConfig(file(name, text)).catch((e: unknown) => e);
      expect(error, name).toBeInstanceOf(GatewayConfigError);
      return (error as GatewayConfigError).message;
    };
    expect(await bad('hs.yaml', 'users: { jwt: { algorithms: [HS256], issuer: i, audience: a } }\n')).toContain('users.jwt: HS256 needs secretEnv (or secret)');
    expect(await bad('rs.yaml', 'users: { jwt: { algorithms: [ES256], issuer: i, audience: a } }\n')).toContain('users.jwt: ES256 need publicKey or jwks');
    expect(await bad('aud.yaml', 'users: { jwt: { algorithms: [HS256], secretEnv: S, issuer: i } }\n')).toContain('users.jwt.audience');
    expect(await bad('limit.yaml', 'abuse: { steps: [{ blocks: 2, withinMinutes: 10, action: limit }] }\n')).toContain('abuse.steps[0].minutes: a limit needs its duration');
    expect(await bad('risk.yaml', 'abuse: { risks: [B7] }\n')).toContain('abuse.risks[0]: "B7" is not a risk');
    expect(await bad('alg.yaml', 'users: { jwt: { algorithms: [none], issuer: i, audience: a } }\n')).toContain('users.jwt.algorithms[0]');
    expect(await bad('body.yaml', 'limits: { bodyBytes: 10 }\n')).toContain('limits.bodyBytes');
    expect(await bad('hosts.yaml', 'media: { hosts: ["https://cdn.example/x"] }\n')).toContain('media.hosts[0]');
  });

  it('hegui serve stops at a bad config with the field and status 2', async () => {
    const result = await cli(['serve', '--config', file('serve-bad.yaml', 'upstreams: [{ name: x }]\n')], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('upstreams[0].url: required field is missing');
  });
});

describe('hegui users', () => {
  it('adds a user, prints the key alone on the last line, and stores only its hash', async () => {
    const env = { HEGUI_DATABASE_URL: `file:${join(dir, 'users.db')}` };
    const added = await cli(['users', 'add', 'app-1', '--verified', '--minor'], { env });
    expect(added.code).toBe(0);
    const lines = added.stdout.trimEnd().split('\n');
    const key = lines.at(-1) ?? '';
    expect(key).toMatch(/^hg-[A-Za-z0-9_-]{43}$/);
    expect(lines.slice(0, -1).join('\n')).not.toContain(key);
    const store = await openStore(env.HEGUI_DATABASE_URL);
    try {
      const user = await store.gatewayUsers.findByKeyHash(createHash('sha256').update(key).digest('hex'));
      expect(user).toMatchObject({ name: 'app-1', verified: true, minor: true });
    } finally {
      await store.close();
    }
    expect((await cli(['users', 'add', 'app-1'], { env })).code).toBe(2);
    expect(await cli(['users', 'add', 'jwt:someone'], { env })).toMatchObject({ code: 2, stderr: expect.stringContaining('belong to users of the provider') });
    expect((await cli(['users', 'sanctions', 'app-1'], { env })).stdout).toBe('no sanctions against "app-1"\n');
    expect((await cli(['users', 'verify', 'app-1', '--off'], { env })).stdout).toBe('user "app-1": verified off\n');
    expect((await cli(['users', 'list'], { env })).stdout).toContain('app-1\tunverified\tminor\tactive');
    expect((await cli(['users', 'disable', 'app-1'], { env })).code).toBe(0);
    expect((await cli(['users', 'disable', 'nobody'], { env })).code).toBe(2);
  });
});
