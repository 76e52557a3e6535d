/**
 * Who may use the gateway: users of the provider's login by signed JWT (created in the store
 * when first seen), API-key users, the real-identity requirement (Deep Synthesis Provisions
 * Art. 9) answered with an OpenAI-shaped 403, and minors by claim or stored flag (AI Measures
 * Art. 10). `hegui users verify|minor` change a user for the running gateway.
 */
import { SignJWT } from 'jose';
import OpenAI from 'openai';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApiUser } from '../src/gateway/index.js';
import { BLOCK_MESSAGE, type GatewayHarness, KEYWORDS, startGateway } from './gateway-harness.js';
import { cli } from './helpers/cli.js';
import { describeEachDatabase } from './helpers/stores.js';

const SECRET = 'the-login-service-shares-this-secret!';
const START = Date.parse('2026-11-28T04:00:00Z');

describeEachDatabase('gateway identity', (getDatabase) => {
  let h: GatewayHarness;
  let now = START;

  async function token(sub: string, claims: Record<string, unknown> = {}, expiresIn = 600): Promise<string> {
    const seconds = Math.floor(now / 1000);
    return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuer('https://login.example.cn').setAudience('hegui').setIssuedAt(seconds).setExpirationTime(seconds + expiresIn).sign(new TextEncoder().encode(SECRET));
  }
  const client = (bearer: string): OpenAI => new OpenAI({ apiKey: bearer, baseURL: `${h.server.url}/v1`, maxRetries: 0 });
  const ask = (bearer: string, content = 'hello') => client(bearer).chat.completions.create({ model: 'double-chat', messages: [{ role: 'user', content }] });

  beforeAll(async () => {
    h = await startGateway({
      databaseUrl: getDatabase().url,
      now: () => now,
      env: { LOGIN_JWT_SECRET: SECRET },
      config: {
        users: {
          cacheSeconds: 0,
          requireVerified: true,
          jwt: { algorithms: ['HS256'], secretEnv: 'LOGIN_JWT_SECRET', issuer: 'https://login.example.cn', audience: 'hegui', claims: { verified: 'rnv', minor: 'is_minor' } },
        },
      },
    });
    h.double.behaviour = () => ({ text: 'fine' });
  });
  afterAll(async () => h?.close());

  it('refuses a user without verified real identity with an OpenAI-shaped 403', async () => {
    const { key } = await createApiUser(h.server.store, { name: 'anonymous-app' });
    const seen = h.double.seen.length;
    const error = await ask(key).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(error).toMatchObject({ status: 403, code: 'E_GATEWAY_IDENTITY_UNVERIFIED', type: 'permission_error', message: expect.stringContaining('real-name verification') });
    expect(h.double.seen.length).toBe(seen);
    const [event] = await h.events();
    expect(event).toMatchObject({ outcome: 'error', payload: { status: 403, error: 'E_GATEWAY_IDENTITY_UNVERIFIED', auth: 'key' } });
    expect((await ask(h.key)).choices[0]?.message.content).toContain('fine');
  });

  it('accepts a login token, creating its user once, and records it by pseudonym', async () => {
    const answer = await ask(await token('alice', { rnv: true }));
    expect(answer.choices[0]?.message.content).toContain('fine');
    const alice = await h.server.store.gatewayUsers.findByName('jwt:alice');
    expect(alice).toMatchObject({ verified: false, minor: false });
    const [event] = await h.events();
    expect(event).toMatchObject({ actor: `user:${alice?.id}`, payload: { auth: 'jwt', status: 200 } });
    now += 1000;
    await ask(await token('alice', { rnv: 'true' }));
    expect((await h.server.store.gatewayUsers.list()).filter((u) => u.name === 'jwt:alice')).toHaveLength(1);
  });

  it('refuses a token without the verified claim until an operator verifies the user', async () => {
    await expect(ask(await token('bob'))).rejects.toMatchObject({ status: 403, code: 'E_GATEWAY_IDENTITY_UNVERIFIED' });
    const verified = await cli(['users', 'verify', 'jwt:bob'], { env: { HEGUI_DATABASE_URL: h.databaseUrl } });
    expect(verified).toMatchObject({ code: 0, stdout: 'user "jwt:bob": verified on\n' });
    expect((await ask(await token('bob'))).choices[0]?.finish_reason).toBe('stop');
  });

  it('refuses expired and foreign tokens with 401', async () => {
    const expired = await token('carol', { rnv: true }, 60);
    now += 120_000;
    await expect(ask(expired)).rejects.toMatchObject({ status: 401, code: 'E_GATEWAY_AUTH', message: expect.stringContaining('expired') });
    const foreign = await new SignJWT({ rnv: true }).setProtectedHeader({ alg: 'HS256' }).setSubject('carol').setIssuer('https://login.example.cn').setAudience('someone-else').setExpirationTime(Math.floor(now / 1000) + 60).sign(new TextEncoder().encode(SECRET));
    await expect(ask(foreign)).rejects.toMatchObject({ status: 401, message: expect.stringContaining('"aud"') });
    await expect(ask('not-a-key')).rejects.toMatchObject({ status: 401, message: expect.stringContaining('Bearer <jwt>') });
  });

  it('puts a minor (by claim or by stored flag) under the stricter policy', async () => {
    const prompt = `what is ${KEYWORDS.discrimination}?`;
    expect((await ask(await token('dave', { rnv: true }), prompt)).choices[0]?.finish_reason).toBe('stop');
    expect((await ask(await token('erin', { rnv: true, is_minor: true }), prompt)).choices[0]).toMatchObject({ finish_reason: 'content_filter', message: { content: BLOCK_MESSAGE } });
    expect((await cli(['users', 'minor', 'jwt:dave'], { env: { HEGUI_DATABASE_URL: h.databaseUrl } })).code).toBe(0);
    expect((await ask(await token('dave', { rnv: true }), prompt)).choices[0]?.finish_reason).toBe('content_filter');
  });
});
