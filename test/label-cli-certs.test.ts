/**
 * `hegui label verify` with certified keys (issue 11): a key bound to a unified social credit
 * code by an X.509 chain that openssl issues here, checked against the roots the verifier
 * trusts. A certified key vouches only for labels of the code its certificate names.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from './helpers/cli.js';
import { systemTool } from './helpers/system.js';
import { PRODUCER } from './label-samples.js';

/** A producer code of another company (another credit code), same service type and model code. */
const OTHER_PRODUCER = `${PRODUCER.slice(0, 4)}91110108MA01KP2T5U${PRODUCER.slice(22)}`;

describe.runIf(systemTool('openssl', 'openssl'))('hegui label verify with certified keys', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hegui-cli-certs-'));
  const openssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const hegui = (...args: string[]) => cli(args, { cwd: dir });

  beforeAll(async () => {
    openssl('req', '-x509', '-newkey', 'ed25519', '-keyout', 'root.key', '-out', 'root.pem', '-subj', '/CN=Provider root/O=Example', '-days', '2', '-nodes');
    openssl('req', '-x509', '-newkey', 'ed25519', '-keyout', 'stranger.key', '-out', 'stranger.pem', '-subj', '/CN=Someone else', '-days', '2', '-nodes');
    openssl('genpkey', '-algorithm', 'ed25519', '-out', 'signer.key');
    openssl('req', '-new', '-key', 'signer.key', '-subj', `/CN=label signer/organizationIdentifier=NTRCN-${PRODUCER.slice(4, 22)}`, '-out', 'signer.csr');
    openssl('x509', '-req', '-in', 'signer.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-CAcreateserial', '-days', '2', '-out', 'signer.pem');
    writeFileSync(join(dir, 'own.md'), '# own\n');
    writeFileSync(join(dir, 'foreign.md'), '# foreign\n');
    expect((await hegui('label', 'embed', 'own.md', '--producer', PRODUCER, '--id', 'own-1', '--key', 'signer.key', '--in-place')).code).toBe(0);
    expect((await hegui('label', 'embed', 'foreign.md', '--producer', OTHER_PRODUCER, '--id', 'foreign-1', '--key', 'signer.key', '--in-place')).code).toBe(0);
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('passes a label of the credit code the certificate names', async () => {
    const result = await hegui('label', 'verify', 'own.md', '--cert', 'signer.pem', '--trust', 'root.pem');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('signature=valid');
  });

  it('fails a label the same key signed for another company', async () => {
    const result = await hegui('label', 'verify', 'foreign.md', '--cert', 'signer.pem', '--trust', 'root.pem');
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('signature=invalid');
  });

  it('refuses a chain that does not end at a trusted root, or a --cert without --trust, as usage errors', async () => {
    const untrusted = await hegui('label', 'verify', 'own.md', '--cert', 'signer.pem', '--trust', 'stranger.pem');
    expect(untrusted).toMatchObject({ code: 2, stderr: expect.stringMatching(/does not end at a trusted root/) });
    const alone = await hegui('label', 'verify', 'own.md', '--cert', 'signer.pem');
    expect(alone).toMatchObject({ code: 2, stderr: expect.stringMatching(/--cert needs at least one --trust/) });
    const none = await hegui('label', 'verify', 'own.md');
    expect(none).toMatchObject({ code: 2, stderr: expect.stringMatching(/verify needs a key/) });
  });
});
