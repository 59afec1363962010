import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { type SmtpHandle, smtpEnv, startSmtp } from '../harness/smtp.ts';
import { Api, startTessera, type TesseraHandle } from '../harness/tessera.ts';

describe('a node mails people through a real SMTP server', () => {
  let smtp: SmtpHandle;
  let node: TesseraHandle;
  let admin: Api;
  let client: Api;
  beforeAll(async () => {
    smtp = await startSmtp();
    node = await startTessera({ env: smtpEnv(smtp, { TESSERA_LOG_LEVEL: 'info' }) });
    admin = new Api(node.url, node.adminKey);
    client = new Api(node.url, await admin.createClient('api'));
  });
  afterAll(async () => {
    await node?.stop();
    await smtp?.close();
  });

  test('a user locked by failures gets one mail per lock, and the failures are not slowed by it', async () => {
    await admin.ok('PATCH', '/v1/admin/settings', {
      lockout: { threshold: 3, baseSeconds: 600 },
      throttle: { failuresPerWindow: 100 },
    });
    await admin.createUserWithTotp('m-lock', { user: { email: 'm-lock@example.test' } });
    const reasons: string[] = [];
    for (let i = 0; i < 5; i++)
      reasons.push((await client.ok('POST', '/v1/validate', { user: 'm-lock', pass: '000001' })).reason);
    assert.deepEqual(reasons, ['OTP_INVALID', 'OTP_INVALID', 'OTP_INVALID', 'USER_LOCKED', 'USER_LOCKED']);
    const mail = await smtp.waitForMail('m-lock@example.test', /locked/);
    assert.match(mail.text, /locked until \d{4}-\d\d-\d\d/);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(smtp.mails.filter((m) => m.to.includes('m-lock@example.test')).length, 1);
  });

  test('/metrics counts sent mails and dead letters', async () => {
    const text = await (await fetch(`${node.url}/metrics`)).text();
    assert.match(text, /^tessera_mail_sent_total\{template="account-locked"\} 1$/m);
    assert.match(text, /^# TYPE tessera_mail_dead_letter_total counter$/m);
    assert.match(text, /^tessera_mail_queue_depth 0$/m);
  });
});
