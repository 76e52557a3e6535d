/**
 * @module cli/audit
 * `hegui audit verify|export|purge|keygen`: the audit log from the command line. Verify names
 * every altered, inserted or deleted event and exits 1 when it finds any; export writes the
 * package an authority asks for; purge deletes what the retention period (>= 6 months,
 * Cybersecurity Law Art. 21(3)) no longer requires, under a signed checkpoint; keygen creates
 * the checkpoint signing key and the content key. Keys come from `HEGUI_AUDIT_CONTENT_KEY` and
 * `HEGUI_AUDIT_SIGNING_KEY` (see `src/audit/config.ts`).
 */
import type { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  auditEnvironment,
  AuditContentKeyring,
  AuditLog,
  describeFinding,
  generateAuditSigningKey,
  parseAuditTime,
  resolveAuditSubject,
  type AuditEnvironment,
  type AuditPurgeResult,
  type AuditVerifyReport,
} from '../audit/index.js';
import { ExitCode, InvalidInputError } from '../errors.js';
import type { Store } from '../store/index.js';
import { withStore } from './store.js';
import { readTextFile } from './files.js';
import type { CliIo } from './io.js';
import { setExitCode } from './main.js';

/** Who the CLI records as exporting or purging: the operator at the terminal is not signed in. */
const CLI_ACTOR = 'system:cli';

async function withLog<T>(io: CliIo, work: (log: AuditLog, env: AuditEnvironment, store: Store) => Promise<T>): Promise<T> {
  const env = auditEnvironment(io.env, io.cwd);
  return withStore(io, async (store) => {
    const log = new AuditLog(store, { contentKeys: env.contentKeys, signingKey: env.signingKey, retentionMonths: env.retentionMonths });
    const result = await work(log, env, store);
    await log.flush();
    return result;
  });
}

/**
 * A date from the command line: `YYYY-MM-DD`, a day in Beijing time (UTC+8; with `endOfDay`,
 * the Beijing midnight after it, so `--to 2026-01-31` includes that day), or an ISO 8601 time
 * with a zone. The dashboard reads days the same way (audit/range).
 */
export function parseCliDate(text: string, option: string, endOfDay = false): Date {
  return parseAuditTime(text, option, endOfDay);
}

function printVerify(io: CliIo, report: AuditVerifyReport): void {
  const span = report.firstSeq === null ? 'no events' : `${report.events} events (${report.firstSeq}-${report.lastSeq})`;
  io.stdout.write(report.ok ? `audit log OK: ${span}, chain head at event ${report.head.seq}\n` : `audit log DAMAGED: ${report.findings.length} finding(s) in ${span}\n`);
  for (const finding of report.findings) io.stdout.write(`  ${describeFinding(finding)}\n`);
  for (const [request, count] of Object.entries(report.redactions.byRequest)) {
    io.stdout.write(`${count} event(s) redacted by request ${request}: content replaced by a tombstone, chain intact\n`);
  }
  for (const c of report.checkpoints) {
    const trust = c.trusted === null ? 'key not checked against a trusted one (use --trust)' : c.trusted ? 'trusted key' : 'UNTRUSTED key';
    io.stdout.write(`checkpoint at event ${c.seq} (events ${c.firstSeq}-${c.seq} purged, before ${c.purgedBefore}): signature ${c.signatureValid ? 'valid' : 'INVALID'}, key ${c.keyId ?? 'unreadable'}, ${trust}\n`);
  }
}

function registerVerify(audit: Command, io: CliIo): void {
  audit
    .command('verify')
    .description('walk the hash chain; name every altered, inserted or deleted event (exit 1 when any)')
    .option('--json', 'print the report as JSON')
    .option('--trust <pem...>', 'public key files whose checkpoints are trusted (the key of HEGUI_AUDIT_SIGNING_KEY is trusted too)')
    .action(async (flags: { json?: boolean; trust?: string[] }, command: Command) => {
      const trusted = await Promise.all((flags.trust ?? []).map((file) => readTextFile(io, file, 'trusted key')));
      const report = await withLog(io, (log, env) => {
        if (env.signingKey) trusted.push(env.signingKey.publicKeyPem);
        return log.verify(trusted.length > 0 ? { trustedKeys: trusted } : {});
      });
      if (flags.json) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else printVerify(io, report);
      if (!report.ok) setExitCode(command, ExitCode.failure);
    });
}

function registerExport(audit: Command, io: CliIo): void {
  audit
    .command('export')
    .description('write events.jsonl and manifest.json for an authority into a new folder')
    .requiredOption('--from <date>', 'first day (YYYY-MM-DD, Beijing time) or time with zone')
    .requiredOption('--to <date>', 'last day, included (YYYY-MM-DD, Beijing time), or an exclusive time with zone')
    .option('--user <name>', 'only the events about this user (name, pseudonym or user:<pseudonym>; operator:<name> for an operator), whoever wrote them')
    .option('--with-content', 'decrypt and include kept content (needs HEGUI_AUDIT_CONTENT_KEY)')
    .requiredOption('-o, --out <dir>', 'folder to create')
    .action(async (flags: { from: string; to: string; user?: string; withContent?: boolean; out: string }, command: Command) => {
      const from = parseCliDate(flags.from, '--from');
      const to = parseCliDate(flags.to, '--to', true);
      const { manifest } = await withLog(io, async (log, _env, store) => {
        const subject = flags.user === undefined ? undefined : await resolveAuditSubject(store, flags.user);
        return log.export({ from, to, ...(subject ? { user: subject.subject } : {}) }, resolve(io.cwd, flags.out), { includeContent: flags.withContent ?? false, exportedBy: CLI_ACTOR });
      });
      const file = manifest.files['events.jsonl'];
      io.stdout.write(
        `exported ${manifest.events.count} event(s) from ${manifest.range.from} to ${manifest.range.to}${manifest.user ? ` for ${manifest.user}` : ''}, content ${manifest.content}, to ${flags.out}\n` +
          `  events.jsonl  sha256 ${file?.sha256 ?? '-'}\n` +
          `  chain ${manifest.chain.firstSeq ?? '-'}-${manifest.chain.lastSeq ?? '-'}, ends at hash ${manifest.chain.hashAtEnd ?? '-'}\n`,
      );
      if (manifest.user !== null && manifest.events.count === 0) io.stderr.write(`note: no event about ${manifest.user} in this range (the package records the range and the chain)\n`);
      if (manifest.chain.findings.length > 0) {
        io.stderr.write(`warning: the exported range is damaged (recorded in manifest.json):\n${manifest.chain.findings.map((f) => `  ${f}\n`).join('')}`);
        setExitCode(command, ExitCode.failure);
      }
    });
}

function describePurge(result: AuditPurgeResult): string {
  if (!result.plan) return `no events recorded before ${result.before}; nothing to purge\n`;
  const { firstSeq, lastSeq, count } = result.plan;
  if (result.dryRun) return `would delete ${count} event(s) (${firstSeq}-${lastSeq}) recorded before ${result.before}; nothing deleted (dry run)\n`;
  return `deleted ${result.deleted} event(s) (${firstSeq}-${lastSeq}) recorded before ${result.before}\ncheckpoint at event ${lastSeq} signed with key ${result.checkpoint?.keyId ?? '-'}\n`;
}

function registerPurge(audit: Command, io: CliIo): void {
  audit
    .command('purge')
    .description('delete events older than --before (never younger than the retention period), under a signed checkpoint')
    .requiredOption('--before <date>', 'delete events recorded before this day (YYYY-MM-DD, Beijing time) or time with zone')
    .option('--dry-run', 'show what would be deleted; delete nothing')
    .action(async (flags: { before: string; dryRun?: boolean }) => {
      const before = parseCliDate(flags.before, '--before');
      const result = await withLog(io, (log) => log.purge({ before, dryRun: flags.dryRun ?? false, actor: CLI_ACTOR }));
      io.stdout.write(describePurge(result));
    });
}

function registerKeygen(audit: Command, io: CliIo): void {
  audit
    .command('keygen')
    .description('create the checkpoint signing key (PREFIX.key.pem, PREFIX.pub.pem) and the content key (PREFIX.content-key)')
    .option('--out <prefix>', 'path prefix of the files', 'hegui-audit')
    .option('--force', 'overwrite existing files')
    .action(async (flags: { out: string; force?: boolean }) => {
      const signing = generateAuditSigningKey();
      const contentKey = AuditContentKeyring.generateKey();
      const contentKeyId = AuditContentKeyring.parse(contentKey).currentKeyId;
      const prefix = resolve(io.cwd, flags.out);
      const flag = flags.force ? 'w' : 'wx';
      try {
        await writeFile(`${prefix}.key.pem`, signing.privateKeyPem, { mode: 0o600, flag });
        await writeFile(`${prefix}.pub.pem`, signing.publicKeyPem, { mode: 0o644, flag });
        await writeFile(`${prefix}.content-key`, `${contentKey}\n`, { mode: 0o600, flag });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
          throw new InvalidInputError('E_AUDIT_KEY_EXISTS', `${flags.out}.key.pem, .pub.pem or .content-key exists; use --force to overwrite (content sealed with the old key then needs it kept)`);
        }
        throw error;
      }
      io.stdout.write(
        `checkpoint signing key ${signing.keyId} (Ed25519)\n` +
          `  private: ${flags.out}.key.pem  keep it secret; set HEGUI_AUDIT_SIGNING_KEY to its path\n` +
          `  public:  ${flags.out}.pub.pem  for verifiers: hegui audit verify --trust ${flags.out}.pub.pem\n` +
          `content key ${contentKeyId} (AES-256-GCM)\n` +
          `  ${flags.out}.content-key  keep it secret; HEGUI_AUDIT_CONTENT_KEY="$(cat ${flags.out}.content-key)"\n`,
      );
    });
}

export function registerAudit(program: Command, io: CliIo): void {
  const audit = program.command('audit').description('the tamper-evident audit log: verify, export for authorities, purge, keys');
  registerVerify(audit, io);
  registerExport(audit, io);
  registerPurge(audit, io);
  registerKeygen(audit, io);
}
