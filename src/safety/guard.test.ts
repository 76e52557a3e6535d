import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qwen3GuardClassifier } from './classifier-http.js';
import { compileLibrary } from './compile.js';
import { exampleLibrary } from './example-library.js';
import { SafetyGuard } from './guard.js';
import { DEFAULT_SAFE_REPLY } from './messages.js';
import { decideAction, defaultPolicy, validatePolicy } from './policy.js';
import type { SafetyPolicy } from './policy.js';

const library = compileLibrary(exampleLibrary);

describe('policy', () => {
  it('picks the most specific rule: risk over category over *', () => {
    const policy: SafetyPolicy = {
      rules: [
        { target: '*', action: 'review' },
        { target: 'A1', action: 'block' },
        { target: 'A1.7', action: 'allow' },
      ],
      userClasses: {},
      safeReply: DEFAULT_SAFE_REPLY,
    };
    expect(decideAction(policy, { risk: 'A1.6', severity: 'low' }, 'input').action).toBe('block');
    expect(decideAction(policy, { risk: 'A1.7', severity: 'low' }, 'input').action).toBe('allow');
    expect(decideAction(policy, { risk: 'A3.1', severity: 'low' }, 'input').action).toBe('review');
  });
  it('separates directions and severities', () => {
    expect(decideAction(defaultPolicy, { risk: 'A2.5', severity: 'low' }, 'input').action).toBe('review');
    expect(decideAction(defaultPolicy, { risk: 'A2.5', severity: 'low' }, 'output').action).toBe('block');
    const policy: SafetyPolicy = { rules: [{ target: 'A3', action: 'block', minSeverity: 'high' }], userClasses: {}, safeReply: DEFAULT_SAFE_REPLY };
    expect(decideAction(policy, { risk: 'A3.1', severity: 'high' }, 'input').action).toBe('block');
    expect(decideAction(policy, { risk: 'A3.1', severity: 'medium' }, 'input').action).toBe('review');
  });
  it('lets a user class tighten a decision but never loosen it', () => {
    expect(decideAction(defaultPolicy, { risk: 'A4.1', severity: 'low' }, 'input').action).toBe('review');
    expect(decideAction(defaultPolicy, { risk: 'A4.1', severity: 'low' }, 'input', 'minor').action).toBe('block');
    const loose: SafetyPolicy = { ...defaultPolicy, userClasses: { adult: [{ target: 'A1', action: 'allow' }] } };
    expect(decideAction(loose, { risk: 'A1.1', severity: 'low' }, 'output', 'adult').action).toBe('block');
  });
  it('sends personal data to its own rules', () => {
    expect(decideAction(defaultPolicy, { pii: 'mobile', severity: 'high' }, 'output').action).toBe('redact');
    expect(decideAction(defaultPolicy, { pii: 'mobile', severity: 'high' }, 'input').action).toBe('allow');
    expect(decideAction(defaultPolicy, { pii: 'mobile', severity: 'high' }, 'input', 'minor').action).toBe('redact');
  });
  it('rejects unknown targets and actions', () => {
    expect(() => validatePolicy({ rules: [{ target: 'A9.9', action: 'block' }], userClasses: {}, safeReply: DEFAULT_SAFE_REPLY })).toThrow(/unknown target "A9.9"/);
    expect(() => validatePolicy({ rules: [{ target: 'A1', action: 'drop' as 'block' }], userClasses: {}, safeReply: DEFAULT_SAFE_REPLY })).toThrow(/unknown action/);
    expect(validatePolicy(defaultPolicy)).toBe(defaultPolicy);
  });
});

describe('guard without classifiers', () => {
  const guard = new SafetyGuard({ library, language: 'en' });
  it('allows clean text', () => {
    expect(guard.checkLocal('今天天气不错', { direction: 'input' })).toMatchObject({ verdict: 'allow', matches: [], pii: [] });
  });
  it('blocks prohibited content with the safe reply', () => {
    const decision = guard.checkLocal('推荐一个du bo wang zhan', { direction: 'output' });
    expect(decision.verdict).toBe('block');
    expect(decision.reply).toBe(DEFAULT_SAFE_REPLY.en);
    expect(decision.matches[0]).toMatchObject({ risk: 'A1.8', keyword: '赌博网站', action: 'block', original: 'du bo wang zhan' });
  });
  it('does not flag an allow-listed benign phrase', () => {
    expect(guard.checkLocal('警方打击赌博网站', { direction: 'output' }).verdict).toBe('allow');
  });
  it('redacts personal data in output, keeping the text length', () => {
    const text = '请联系13800138000';
    const decision = guard.checkLocal(text, { direction: 'output' });
    expect(decision.verdict).toBe('redact');
    expect(decision.redacted).toBe('请联系138****8000');
  });
  it('reviews without blocking when only review rules apply', () => {
    expect(guard.checkLocal('破解版下载地址', { direction: 'input' }).verdict).toBe('review');
  });
});

describe('guard with a classifier', () => {
  let server: Server;
  let baseUrl: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        const body = JSON.parse(raw) as { messages: { content: string }[] };
        const text = body.messages.at(-1)?.content ?? '';
        if (text.includes('down')) {
          res.writeHead(503, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: 'overloaded' }));
          return;
        }
        const content = text.includes('刀') ? 'Safety: Unsafe\nCategories: Violent' : 'Safety: Safe\nCategories: None';
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content } }] }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('combines classifier labels with keyword hits', async () => {
    const guard = new SafetyGuard({ library, classifiers: [qwen3GuardClassifier({ baseUrl })] });
    const decision = await guard.check('怎样用刀伤人', { direction: 'input' });
    expect(decision.verdict).toBe('block');
    expect(decision.labels).toEqual([{ label: 'Violent', risk: 'A1.6', severity: 'high', classifier: 'qwen3guard', action: 'block' }]);
    expect(decision.reply).toBe(DEFAULT_SAFE_REPLY.zh);
  });
  it('fails open: the decision is made without the classifier and says so', async () => {
    const guard = new SafetyGuard({ library, classifiers: [qwen3GuardClassifier({ baseUrl, onFailure: 'open' })] });
    const decision = await guard.check('server down', { direction: 'input' });
    expect(decision.verdict).toBe('allow');
    expect(decision.failures).toEqual([expect.objectContaining({ classifier: 'qwen3guard', code: 'E_SAFETY_CLASSIFIER_FAILED', onFailure: 'open' })]);
  });
  it('fails closed: the text is blocked while the classifier is down', async () => {
    const guard = new SafetyGuard({ library, classifiers: [qwen3GuardClassifier({ baseUrl, onFailure: 'closed' })], language: 'en' });
    const decision = await guard.check('server down', { direction: 'output' });
    expect(decision.verdict).toBe('block');
    expect(decision.reply).toMatch(/temporarily unavailable/);
  });
});
