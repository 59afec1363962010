import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { freePort } from '../harness/ports.ts';
import { type RedisProcess, startRedis } from '../harness/redis.ts';
import { type SmtpHandle, smtpEnv, startSmtp } from '../harness/smtp.ts';
import { Api, startTessera, type TesseraHandle } from '../harness/tessera.ts';

describe('a node mails people through a real SMTP server', () => {
  let smtp: SmtpHandle;
  let node: TesseraHandle;
  let admin: Api;
  let client: Api;
  beforeAll(async () => {
    smtp = await startSmtp();
    node = await startTessera({
      env: smtpEnv(smtp, { TESSERA_LOG_LEVEL: 'info', TESSERA_MAIL_ADMINS: 'ops@example.test' }),
    });
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

  test('a directory sync that fails is mailed to the admins', async () => {
    const closed = await freePort();
    const created = await admin.call('POST', '/v1/admin/directory/sources', {
      name: 'gone',
      url: `ldap://127.0.0.1:${closed}`,
      bindDn: 'cn=admin,dc=example,dc=test',
      bindPassword: 'x-bind-pass',
      baseDn: 'dc=example,dc=test',
      preset: 'openldap',
      connectTimeoutMs: 500,
      timeoutMs: 500,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const sync = await admin.call('POST', '/v1/admin/directory/sources/gone/sync');
    assert.ok(sync.status >= 400, JSON.stringify(sync.body));
    const mail = await smtp.waitForMail('ops@example.test', /directory sync problem/);
    assert.match(mail.text, new RegExp(sync.body.error.code));
    assert.equal(mail.text.includes('x-bind-pass'), false);
  });
});

// The Redis store settles a code-only login in one script (settleAttempt): its locks are mailed too.
describe('a lock on the Redis store is mailed once', () => {
  let smtp: SmtpHandle;
  let redis: RedisProcess;
  let node: TesseraHandle;
  beforeAll(async () => {
    [smtp, redis] = await Promise.all([startSmtp(), startRedis()]);
    node = await startTessera({ env: smtpEnv(smtp, { TESSERA_REDIS_URL: redis.url }) });
  });
  afterAll(async () => {
    await node?.stop();
    await redis?.stop();
    await smtp?.close();
  });

  test('the failure that locks sends one mail; the refusals after it send none', async () => {
    const admin = new Api(node.url, node.adminKey);
    const client = new Api(node.url, await admin.createClient('api'));
    await admin.ok('PATCH', '/v1/admin/settings', {
      lockout: { threshold: 3, baseSeconds: 600 },
      throttle: { failuresPerWindow: 100 },
    });
    await admin.createUserWithTotp('r-lock', { user: { email: 'r-lock@example.test' } });
    const reasons: string[] = [];
    for (let i = 0; i < 5; i++)
      reasons.push((await client.ok('POST', '/v1/validate', { user: 'r-lock', pass: '000001' })).reason);
    assert.deepEqual(reasons, ['OTP_INVALID', 'OTP_INVALID', 'OTP_INVALID', 'USER_LOCKED', 'USER_LOCKED']);
    await smtp.waitForMail('r-lock@example.test', /locked/);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(smtp.mails.filter((m) => m.to.includes('r-lock@example.test')).length, 1);
  });
});
