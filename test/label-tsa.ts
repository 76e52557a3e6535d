/**
 * @module test/label-tsa
 * A real RFC 3161 time-stamping authority for the label tests: `openssl ts -reply` behind a
 * small node:http server, with its own root CA and a TSA certificate (critical extended key
 * usage timeStamping), all made in a fresh folder at run time.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const CONFIG = `
[req]
distinguished_name = dn
[dn]
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[tsa_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[not_ca_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyCertSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[plain_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[tsa]
default_tsa = tsa_config
[tsa_config]
dir = .
serial = ./serial
crypto_device = builtin
signer_cert = ./tsa.crt
signer_key = ./tsa.key
certs = ./chain.pem
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.2
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
`;

export interface TestTsa {
  /** The URL to POST timestamp queries to. */
  url: string;
  /** The TSA's root certificate (PEM), what a verifier trusts. */
  rootPem: string;
  /** Signs `tstInfo` (DER) as a token with this TSA's certificate and key, as `openssl cms` does, whatever the certificate allows. */
  sign(tstInfo: Uint8Array): Uint8Array;
  /** Queries answered so far. */
  readonly answered: number;
  /** Sends the next answers as HTTP `status` with `body` instead of a token, while set. */
  failWith?: { status: number; body?: Uint8Array };
  close(): Promise<void>;
}

/**
 * Starts a TSA. `extension` picks the TSA certificate's extensions: `tsa_ext` (a proper TSA)
 * or `plain_ext` (a certificate without the time-stamping use, which RFC 3161 forbids).
 */
export async function startTestTsa(options: { name?: string; extension?: 'tsa_ext' | 'plain_ext'; issuedByNonCa?: boolean } = {}): Promise<TestTsa> {
  const dir = mkdtempSync(join(tmpdir(), 'hegui-tsa-'));
  const name = options.name ?? 'Test TSA';
  writeFileSync(join(dir, 'tsa.cnf'), CONFIG);
  writeFileSync(join(dir, 'serial'), '01\n');
  const ssl = (args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  };
  ssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', `/CN=${name} Root`, '-days', '30', '-config', 'tsa.cnf', '-extensions', 'ca_ext']);
  ssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'tsa.key', '-out', 'tsa.csr', '-subj', `/CN=${name}`, '-config', 'tsa.cnf']);
  let issuer = 'ca';
  if (options.issuedByNonCa) {
    // A certificate the root issued for something else (CA:FALSE), used to issue the TSA's.
    ssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'mid.key', '-out', 'mid.csr', '-subj', `/CN=${name} not a CA`, '-config', 'tsa.cnf']);
    ssl(['x509', '-req', '-in', 'mid.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'mid.crt', '-days', '30', '-extfile', 'tsa.cnf', '-extensions', 'not_ca_ext']);
    issuer = 'mid';
  }
  ssl(['x509', '-req', '-in', 'tsa.csr', '-CA', `${issuer}.crt`, '-CAkey', `${issuer}.key`, '-CAcreateserial', '-out', 'tsa.crt', '-days', '30', '-extfile', 'tsa.cnf', '-extensions', options.extension ?? 'tsa_ext']);
  writeFileSync(join(dir, 'chain.pem'), readFileSync(join(dir, 'ca.crt'), 'utf8') + (issuer === 'mid' ? readFileSync(join(dir, 'mid.crt'), 'utf8') : ''));
  let answered = 0;
  let queue: Promise<unknown> = Promise.resolve();
  const answer = async (query: Buffer): Promise<Buffer> => {
    const n = answered + 1;
    writeFileSync(join(dir, `q${n}.tsq`), query);
    await run('openssl', ['ts', '-reply', '-config', 'tsa.cnf', '-queryfile', `q${n}.tsq`, '-out', `r${n}.tsr`], { cwd: dir });
    answered = n;
    return readFileSync(join(dir, `r${n}.tsr`));
  };
  const tsa: TestTsa = {
    url: '',
    rootPem: readFileSync(join(dir, 'ca.crt'), 'utf8'),
    sign(tstInfo) {
      writeFileSync(join(dir, 'tst.der'), tstInfo);
      ssl(['cms', '-sign', '-binary', '-nodetach', '-in', 'tst.der', '-econtent_type', '1.2.840.113549.1.9.16.1.4', '-signer', 'tsa.crt', '-inkey', 'tsa.key', '-certfile', 'chain.pem', '-md', 'sha256', '-nosmimecap', '-outform', 'DER', '-out', 'signed.der']);
      return readFileSync(join(dir, 'signed.der'));
    },
    get answered() {
      return answered;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        rmSync(dir, { recursive: true, force: true });
      }),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (tsa.failWith) {
        res.writeHead(tsa.failWith.status, { 'content-type': 'application/timestamp-reply' }).end(tsa.failWith.body ?? Buffer.alloc(0));
        return;
      }
      if (req.method !== 'POST' || req.headers['content-type'] !== 'application/timestamp-query') {
        res.writeHead(400).end();
        return;
      }
      // openssl uses one serial file: one query at a time.
      const next = queue.then(() => answer(Buffer.concat(chunks)));
      queue = next.catch(() => undefined);
      next.then(
        (body) => res.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end(body),
        (error: Error) => res.writeHead(500).end(error.message),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  tsa.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tsa`;
  return tsa;
}
