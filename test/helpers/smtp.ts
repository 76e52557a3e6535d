/**
 * A real SMTP server on a free local port (smtp-server from npm) that keeps every message it
 * receives, so desk tests read the one-time code the way a requester would.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  to: string[];
  subject: string;
  text: string;
}

export interface LocalSmtp {
  url: string;
  messages: ReceivedMail[];
  /** The last message sent to `to` whose subject contains `subject`, waiting up to `ms` for it. */
  waitFor(to: string, subject?: string, ms?: number): Promise<ReceivedMail>;
  close(): Promise<void>;
}

/** Decodes a single-part message's body by its transfer encoding. */
function decodeBody(headers: string, body: string): string {
  const encoding = /^content-transfer-encoding:\s*(\S+)/im.exec(headers)?.[1]?.toLowerCase();
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') {
    const bytes = body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, hex: string) => `%${hex}`);
    return decodeURIComponent(bytes.replace(/%(?![0-9A-F]{2})/gi, '%25'));
  }
  return body;
}

function decodeSubject(raw: string): string {
  return raw.replace(/=\?utf-8\?([bq])\?([^?]*)\?=\s*/gi, (_, kind: string, text: string) =>
    kind.toLowerCase() === 'b' ? Buffer.from(text, 'base64').toString('utf8') : decodeURIComponent(text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, '%$1')),
  );
}

export async function startSmtp(): Promise<LocalSmtp> {
  const messages: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const split = raw.indexOf('\r\n\r\n');
        const headers = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
        const subject = decodeSubject(/^subject:\s*(.*)$/im.exec(headers)?.[1] ?? '');
        messages.push({ to: session.envelope.rcptTo.map((r) => r.address), subject, text: decodeBody(headers, raw.slice(split + 4)) });
        callback();
      });
    },
  });
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.server.address() as AddressInfo).port)));
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    async waitFor(to, subject = '', ms = 10_000) {
      const until = Date.now() + ms;
      for (;;) {
        const found = messages.filter((m) => m.to.includes(to) && m.subject.includes(subject)).at(-1);
        if (found) return found;
        if (Date.now() > until) throw new Error(`no mail to ${to} with "${subject}" arrived within ${ms} ms (got ${messages.length})`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The six-digit code in a desk message. */
export function codeIn(mail: ReceivedMail): string {
  const code = /(?:Code|验证码)[：:]\s*(\d{6})/.exec(mail.text)?.[1];
  if (!code) throw new Error(`no code in: ${mail.text}`);
  return code;
}
