import { fill } from './placeholders.ts';
import { type CodeMessage, type DeliveryResult, normalPhone, type SmsSender } from './types.ts';

/** Hands a mail to SMTP and says how it went (src/notify/notifier.ts `deliver`). */
export type MailDelivery = (to: string, data: Record<string, string>) => Promise<DeliveryResult>;

/**
 * SMTP-to-SMS: the code goes as a mail to an address made from the phone number
 * (`{phone}@sms.example`, `{digits}@gw.example`), through the node's own SMTP server.
 */
export function smtpToSms(addressTemplate: string, mail: MailDelivery): SmsSender {
  return {
    kind: 'smtp',
    async send(phone: string, message: CodeMessage): Promise<DeliveryResult> {
      const normal = normalPhone(phone);
      if (!normal) return { ok: false, why: 'refused', detail: 'not a phone number' };
      const to = fill(addressTemplate, {
        phone: normal,
        digits: normal.replace(/^\+/, ''),
        otp: '',
        message: '',
      });
      return mail(to, { code: message.otp, text: message.text, issuer: message.issuer });
    },
  };
}
