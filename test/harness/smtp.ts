import { readFileSync } from 'node:fs';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { freePort, waitFor } from './ports.ts';

export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  /** Whether the conversation was encrypted (TLS from the start, or STARTTLS). */
  secure: boolean;
  /** The login the client used, when it authenticated. */
  user?: string;
  parsed: ParsedMail;
}

export interface SmtpOptions {
  /** Require this login (AUTH PLAIN/LOGIN). */
  auth?: { user: string; password: string };
  /** Offer TLS with this certificate: `starttls` upgrades, `tls` encrypts from the first byte. */
  tls?: { mode: 'starttls' | 'tls'; certFile: string; keyFile: string };
}

export interface SmtpHandle {
  port: number;
  /** Every mail received so far, in order. */
  mails: ReceivedMail[];
  /** Refuse the next `n` mails with a temporary error (451), as a busy server would. */
  refuseNext(n: number): void;
  /** Waits for a mail to `to` (optionally one whose subject matches). */
  waitForMail(to: string, subject?: RegExp, timeoutMs?: number): Promise<ReceivedMail>;
  close(): Promise<void>;
}

/** A real SMTP server (the `smtp-server` package) on 127.0.0.1; mails are parsed with mailparser. */
export async function startSmtp(opts: SmtpOptions = {}): Promise<SmtpHandle> {
  const port = await freePort();
  const mails: ReceivedMail[] = [];
  let refusals = 0;
  const options: SMTPServerOptions = {
    secure: opts.tls?.mode === 'tls',
    disabledCommands: [...(opts.tls ? [] : ['STARTTLS']), ...(opts.auth ? [] : ['AUTH'])],
    authOptional: !opts.auth,
    allowInsecureAuth: false,
    logger: false,
    ...(opts.tls ? { key: readFileSync(opts.tls.keyFile), cert: readFileSync(opts.tls.certFile) } : {}),
    onAuth(auth, _session, callback) {
      if (opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.password)
        return callback(null, { user: auth.username });
      return callback(new Error('invalid login'));
    },
    onData(stream, session, callback) {
      if (refusals > 0) {
        refusals--;
        stream.resume();
        stream.on('end', () => callback(Object.assign(new Error('try again later'), { responseCode: 451 })));
        return;
      }
      simpleParser(stream)
        .then((parsed) => {
          mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
            html: typeof parsed.html === 'string' ? parsed.html : '',
            secure: session.secure,
            ...(typeof session.user === 'string' ? { user: session.user } : {}),
            parsed,
          });
          callback();
        })
        .catch((err: Error) => callback(err));
    },
  };
  const server = new SMTPServer(options);
  server.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    server.listen(port, '127.0.0.1', () => resolve());
    server.once('error', reject);
  });
  return {
    port,
    mails,
    refuseNext(n) {
      refusals = n;
    },
    async waitForMail(to, subject, timeoutMs = 20_000) {
      let found: ReceivedMail | undefined;
      await waitFor(
        `a mail to ${to}${subject ? ` matching ${subject}` : ''}`,
        async () => {
          found = mails.find((m) => m.to.includes(to) && (!subject || subject.test(m.subject)));
          return found !== undefined;
        },
        timeoutMs,
      );
      return found!;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The TESSERA_* variables that point a node at this server. */
export function smtpEnv(smtp: SmtpHandle, extra: Record<string, string> = {}): Record<string, string> {
  return {
    TESSERA_SMTP_HOST: '127.0.0.1',
    TESSERA_SMTP_PORT: String(smtp.port),
    TESSERA_SMTP_SECURITY: 'none',
    TESSERA_MAIL_FROM: 'Tessera <otp@tessera.test>',
    ...extra,
  };
}

/** A Notifier's SMTP settings for this listener (plain, loopback), for tests that build one in process. */
export function smtpConfigFor(smtp: SmtpHandle, timeoutMs = 2000) {
  return {
    host: '127.0.0.1',
    port: smtp.port,
    security: 'none' as const,
    from: 'otp@tessera.test',
    timeoutMs,
  };
}
