import type { Token, User } from '../../model/index.ts';
import type { DeliveryResult, TemplateData } from '../../notify/index.ts';
import { type SentCodeDeps, sentCodeMethod } from './sent-code.ts';
import type { ChallengeMethod } from './types.ts';

/** Mail now, past the queue (src/notify Notifier.deliver). */
export interface CodeMailer {
  deliver(template: 'email-code', to: string, data: TemplateData, timeoutMs: number): Promise<DeliveryResult>;
}

const ADDRESS = /^[^@\s]+@[^@\s]+$/;

export function emailDestination(token: Token, user: User): string | null {
  const address = (token.destination ?? user.email ?? '').trim().toLowerCase();
  return ADDRESS.test(address) ? address : null;
}

/** `j***@example.org`: enough to know which mailbox to look in. */
export function maskEmail(address: string): string {
  const at = address.lastIndexOf('@');
  return `${address.slice(0, Math.min(1, at))}***${address.slice(at)}`;
}

/** Codes by mail: the `email-code` template, sent at once; the login waits at most `timeoutMs`. */
export function emailMethod(mailer: CodeMailer, timeoutMs: number, deps: SentCodeDeps): ChallengeMethod {
  return sentCodeMethod(
    {
      type: 'email',
      name: 'Email',
      destination: emailDestination,
      mask: maskEmail,
      send: (to, code, ctx, settings) =>
        mailer.deliver(
          'email-code',
          to,
          {
            code,
            issuer: ctx.settings.issuer,
            minutes: Math.max(1, Math.round(settings.lifetimeSeconds / 60)),
          },
          timeoutMs,
        ),
    },
    deps,
  );
}
