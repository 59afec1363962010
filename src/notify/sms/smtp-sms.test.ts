import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { type SmtpHandle, smtpConfigFor, startSmtp } from '../../../test/harness/smtp.ts';
import { Notifier } from '../notifier.ts';
import { smtpToSms } from './smtp-sms.ts';

describe('SMTP-to-SMS through a real SMTP listener', () => {
  let smtp: SmtpHandle;
  let notifier: Notifier;
  beforeAll(async () => {
    smtp = await startSmtp();
    notifier = new Notifier(
      {
        smtp: smtpConfigFor(smtp),
        disabled: [],
        adminAddresses: [],
      },
      new Registry(),
    );
  });
  afterAll(async () => {
    notifier.close();
    await smtp.close();
  });

  test('the phone number makes the address; the text is the SMS', async () => {
    const sms = smtpToSms('{digits}@sms.example.test', (to, data) =>
      notifier.deliver('sms-code', to, data, 2000),
    );
    assert.deepEqual(
      await sms.send('+41 79 123 45 67', { otp: '123456', text: 'Your ACME code is 123456', issuer: 'ACME' }),
      {
        ok: true,
      },
    );
    const mail = await smtp.waitForMail('41791234567@sms.example.test');
    assert.equal(mail.text.trim(), 'Your ACME code is 123456');
    assert.equal(mail.subject, 'ACME code', 'the subject names the issuer');
  });

  test('a refusing server is a failure the caller sees, at once', async () => {
    smtp.refuseNext(1);
    const sms = smtpToSms('{phone}@sms.example.test', (to, data) =>
      notifier.deliver('sms-code', to, data, 2000),
    );
    const r = await sms.send('+4179000', { otp: '1', text: 'x', issuer: 'ACME' });
    assert.deepEqual(r, { ok: false, why: 'refused', detail: 'SMTP 451' });
  });

  test('no SMTP server: not configured', async () => {
    const none = new Notifier({ disabled: [], adminAddresses: [] }, new Registry());
    const r = await smtpToSms('{phone}@x.test', (to, data) => none.deliver('sms-code', to, data, 500)).send(
      '+4179000',
      { otp: '1', text: 'x', issuer: 'ACME' },
    );
    assert.deepEqual(r, { ok: false, why: 'not-configured', detail: 'no SMTP server' });
  });
});
