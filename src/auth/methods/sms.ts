import type { Token, User } from '../../model/index.ts';
import { type DeliveryResult, normalPhone, type SmsSender } from '../../notify/index.ts';
import { type SentCodeDeps, sentCodeMethod } from './sent-code.ts';
import type { ChallengeMethod } from './types.ts';

export function smsDestination(token: Token, user: User): string | null {
  return normalPhone(token.destination ?? user.phone ?? '');
}

/** `+41 *** 67`: the last two digits only. */
export function maskPhone(phone: string): string {
  return `${phone.startsWith('+') ? `${phone.slice(0, 3)} ` : ''}***${phone.slice(-2)}`;
}

const NOT_CONFIGURED: DeliveryResult = {
  ok: false,
  why: 'not-configured',
  detail: 'no SMS provider (TESSERA_SMS_PROVIDER)',
};

/** Codes by SMS through the configured sender (HTTP gateway or SMTP-to-SMS); none configured: DELIVERY_FAILED. */
export function smsMethod(sender: SmsSender | null, deps: SentCodeDeps): ChallengeMethod {
  return sentCodeMethod(
    {
      type: 'sms',
      name: 'SMS',
      destination: smsDestination,
      mask: maskPhone,
      async send(phone, code, ctx, settings) {
        if (!sender) return NOT_CONFIGURED;
        const minutes = String(Math.max(1, Math.round(settings.lifetimeSeconds / 60)));
        const text = settings.smsText
          .replaceAll('{otp}', code)
          .replaceAll('{issuer}', ctx.settings.issuer)
          .replaceAll('{minutes}', minutes);
        return sender.send(phone, { otp: code, text, issuer: ctx.settings.issuer });
      },
    },
    deps,
  );
}
