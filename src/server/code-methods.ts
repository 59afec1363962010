// Builds the mail and SMS code methods from this node's configuration (src/auth/methods).

import type { ChallengeMethod } from '../auth/methods/index.ts';
import { emailMethod, type SentCodeDeps, smsMethod } from '../auth/methods/index.ts';
import { httpGateway, type Notifier, type SmsSender, smtpToSms } from '../notify/index.ts';
import type { Config } from './config.ts';

export function codeMethods(config: Config, notifier: Notifier, deps: SentCodeDeps): ChallengeMethod[] {
  const mailTimeoutMs = config.mail.smtp?.timeoutMs ?? 10_000;
  return [emailMethod(notifier, mailTimeoutMs, deps), smsMethod(smsSender(config, notifier), deps)];
}

function smsSender(config: Config, notifier: Notifier): SmsSender | null {
  const sms = config.sms;
  if (!sms) return null;
  if (sms.provider === 'http') return httpGateway(sms.http);
  return smtpToSms(sms.addressTemplate, (to, data) => notifier.deliver('sms-code', to, data, sms.timeoutMs));
}
