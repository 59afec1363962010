import { readFileSync } from 'node:fs';
import nodemailer from 'nodemailer';
import type { OutgoingMail } from './queue.ts';

/** How mail leaves this node (TESSERA_SMTP_*; see src/server/config.ts). */
export interface SmtpConfig {
  host: string;
  port: number;
  /** `tls`: TLS from the first byte (465); `starttls`: must upgrade; `none`: plain (loopback relays only). */
  security: 'tls' | 'starttls' | 'none';
  user?: string;
  password?: string;
  from: string;
  /** PEM of the CA(s) that sign the SMTP server's certificate, when it is not a public one. */
  caFile?: string;
  /** Give up on one try after this long. */
  timeoutMs: number;
}

/** Sends one mail over SMTP; throws on any refusal, so the queue retries. */
export function smtpSender(config: SmtpConfig): { send(mail: OutgoingMail): Promise<void>; close(): void } {
  const transport = nodemailer.createTransport({
    host: config.host,
    port: config.port,
    secure: config.security === 'tls',
    requireTLS: config.security === 'starttls',
    ignoreTLS: config.security === 'none',
    connectionTimeout: config.timeoutMs,
    greetingTimeout: config.timeoutMs,
    socketTimeout: config.timeoutMs,
    ...(config.user ? { auth: { user: config.user, pass: config.password ?? '' } } : {}),
    ...(config.caFile ? { tls: { ca: readFileSync(config.caFile, 'utf8') } } : {}),
    // nodemailer's own logger would print the conversation, bodies with links and codes included.
    logger: false,
    debug: false,
  });
  return {
    async send(mail) {
      await transport.sendMail({
        from: config.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
      });
    },
    close: () => transport.close(),
  };
}
