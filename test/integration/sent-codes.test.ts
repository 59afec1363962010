// Mail and SMS codes through a real node: a real SMTP listener, a real HTTP gateway on loopback,
// and FreeRADIUS + radclient for the two-round RADIUS flow (PIN → code sent → code).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { type FreeRadiusHandle, startFreeRadius } from '../harness/freeradius.ts';
import { type RadiusReply, radAuth } from '../harness/radclient.ts';
import { SmsGateway } from '../harness/sms-gateway.ts';
import { type SmtpHandle, smtpEnv, startSmtp } from '../harness/smtp.ts';
import { Api, startTessera, type TesseraHandle } from '../harness/tessera.ts';

const GATEWAY_PASSWORD = 'gw-pass-5f1c9e';

describe('mail and SMS codes through a node (SMTP listener, HTTP gateway, FreeRADIUS)', () => {
  const gateway = new SmsGateway();
  const secrets = mkdtempSync(join(tmpdir(), 'tessera-sms-secret-'));
  let smtp: SmtpHandle;
  let node: TesseraHandle;
  let admin: Api;
  let client: Api;
  let fr: FreeRadiusHandle;

  beforeAll(async () => {
    smtp = await startSmtp();
    await gateway.listen();
    const passwordFile = join(secrets, 'sms-password');
    writeFileSync(passwordFile, `${GATEWAY_PASSWORD}\n`, { mode: 0o600 });
    node = await startTessera({
      env: smtpEnv(smtp, {
        TESSERA_LOG_LEVEL: 'info',
        TESSERA_SMS_PROVIDER: 'http',
        TESSERA_SMS_URL: `http://${gateway.address}/v1/send?sender=tessera`,
        TESSERA_SMS_BODY_FORMAT: 'form',
        TESSERA_SMS_BODY: JSON.stringify({ to: '{phone}', text: '{message}' }),
        TESSERA_SMS_USER: 'acct-1',
        TESSERA_SMS_PASSWORD_FILE: passwordFile,
        TESSERA_SMS_SUCCESS_MATCH: '"status":"queued"',
        TESSERA_SMS_TIMEOUT_MS: '800',
      }),
    });
    admin = new Api(node.url, node.adminKey);
    client = new Api(node.url, await admin.createClient('api', { firstFactor: 'upstream' }));
    const radius = await admin.ok('POST', '/v1/admin/clients', {
      name: 'freeradius-codes',
      kind: 'radius',
      rejectDetail: 'reason',
    });
    fr = await startFreeRadius({ tesseraUrl: node.url, apiKey: radius.apiKey });
  });
  afterAll(async () => {
    await fr?.stop();
    await node?.stop();
    await smtp?.close();
    await gateway.close();
    rmSync(secrets, { recursive: true, force: true });
  });

  const enrol = (user: string, body: Record<string, unknown>) =>
    admin.call('POST', `/v1/admin/users/${user}/tokens`, body);
  const smsText = () => new URLSearchParams(gateway.received.at(-1)?.body).get('text') ?? '';
  const smsCode = () => /code is (\d{6})/.exec(smsText())?.[1] ?? '';
  const metric = async (channel: string, result: string): Promise<number> => {
    const text = await (await fetch(`${node.url}/metrics`)).text();
    const m = new RegExp(
      `^tessera_code_delivery_total\\{channel="${channel}",result="${result}"\\} (\\d+)$`,
      'm',
    ).exec(text);
    return Number(m?.[1] ?? 0);
  };

  test('admin API: email and SMS tokens, bound to the user or to a destination of their own; bad ones refused', async () => {
    await admin.ok('POST', '/v1/admin/users', { username: 'i-mail', email: 'i-mail@example.test' });
    const mail = await enrol('i-mail', { type: 'email' });
    assert.equal(mail.status, 201, JSON.stringify(mail.body));
    assert.equal(mail.body.type, 'email');
    assert.equal(mail.body.secretSealed, undefined);
    assert.equal(mail.body.otpauthUri, undefined);
    const own = await enrol('i-mail', { type: 'sms', destination: '+41 79 000 00 01' });
    assert.equal(own.status, 201, JSON.stringify(own.body));
    assert.equal(own.body.destination, '+41 79 000 00 01');
    await admin.ok('POST', '/v1/admin/users', { username: 'i-nophone' });
    const none = await enrol('i-nophone', { type: 'sms' });
    assert.deepEqual([none.status, none.body.error.code], [400, 'BAD_REQUEST']);
    const bad = await enrol('i-nophone', { type: 'email', secret: 'JBSWY3DPEHPK3PXP' });
    assert.equal(bad.status, 400);
    const detail = await admin.ok('GET', '/v1/admin/users/i-mail');
    assert.deepEqual(detail.tokens.map((t: { type: string }) => t.type).sort(), ['email', 'sms']);
  });

  test('validate API: the SMS goes through the gateway as a form with basic auth; the code is accepted once', async () => {
    await admin.ok('POST', '/v1/admin/users', { username: 'i-sms', phone: '+41 79 555 00 01' });
    assert.equal((await enrol('i-sms', { type: 'sms' })).status, 201);
    const sent = await metric('sms', 'sent');
    const ch = await client.ok('POST', '/v1/validate', { user: 'i-sms', pass: '' });
    assert.equal(ch.result, 'challenge');
    assert.match(ch.message, /\+41 \*\*\*01/);
    const got = gateway.received.at(-1)!;
    assert.equal(got.url, '/v1/send?sender=tessera');
    assert.equal(got.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(
      got.headers.authorization,
      `Basic ${Buffer.from(`acct-1:${GATEWAY_PASSWORD}`).toString('base64')}`,
    );
    assert.equal(new URLSearchParams(got.body).get('to'), '+41795550001');
    const code = smsCode();
    assert.match(code, /^\d{6}$/);
    const ok = await client.ok('POST', '/v1/validate', {
      user: 'i-sms',
      pass: code,
      transactionId: ch.transactionId,
    });
    assert.equal(ok.result, 'accept');
    const again = await client.ok('POST', '/v1/validate', {
      user: 'i-sms',
      pass: code,
      transactionId: ch.transactionId,
    });
    assert.equal(again.reason, 'CHALLENGE_UNKNOWN');
    assert.equal(await metric('sms', 'sent'), sent + 1);
  });

  test('validate API: the mail code arrives through SMTP and works', async () => {
    await admin.ok('POST', '/v1/admin/users', { username: 'i-mail2', email: 'i-mail2@example.test' });
    await enrol('i-mail2', { type: 'email' });
    const ch = await client.ok('POST', '/v1/validate', { user: 'i-mail2', pass: '' });
    assert.match(ch.message, /i\*\*\*@example\.test/);
    const mail = await smtp.waitForMail('i-mail2@example.test', /sign-in code/);
    const code = /is (\d{6})/.exec(mail.text)?.[1] ?? '';
    const ok = await client.ok('POST', '/v1/validate', {
      user: 'i-mail2',
      pass: code,
      transactionId: ch.transactionId,
    });
    assert.equal(ok.result, 'accept');
  });

  test('a gateway that fails, answers without the success match, or hangs: DELIVERY_FAILED (200, never 5xx), bounded, counted, no attempt spent', async () => {
    await admin.ok('POST', '/v1/admin/users', { username: 'i-down', phone: '+41795550002' });
    await enrol('i-down', { type: 'sms' });
    const answers: [string, (res: import('node:http').ServerResponse) => void][] = [
      ['refused', (res) => res.writeHead(500).end('internal')],
      ['refused', (res) => res.writeHead(200).end('{"status":"failed"}')],
      ['timeout', () => {}],
    ];
    for (const [result, answer] of answers) {
      gateway.answer = answer;
      const before = await metric('sms', result);
      const t0 = Date.now();
      const r = await client.call('POST', '/v1/validate', { user: 'i-down', pass: '' });
      assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
      assert.equal(r.status, 200);
      assert.deepEqual(
        [r.body.result, r.body.reason, r.body.transactionId],
        ['reject', 'DELIVERY_FAILED', undefined],
      );
      assert.equal(await metric('sms', result), before + 1);
    }
    gateway.answer = (res) => res.writeHead(200).end('{"status":"queued"}');
    const user = await admin.ok('GET', '/v1/admin/users/i-down');
    assert.equal(user.failures, 0);
  });

  test('the gateway password and the codes never reach the log', () => {
    const out = node.output();
    assert.equal(out.includes(GATEWAY_PASSWORD), false);
    assert.equal(out.includes(Buffer.from(`acct-1:${GATEWAY_PASSWORD}`).toString('base64')), false);
    const code = smsCode();
    assert.ok(code);
    assert.equal(out.includes(code), false);
  });

  test('RADIUS: PIN → Access-Challenge naming where the code went → the code is Access-Accept; a wrong code is a reject', async () => {
    await admin.ok('POST', '/v1/admin/users', { username: 'r-sms', phone: '+41795550003', pin: '4711' });
    await enrol('r-sms', { type: 'sms' });
    const auth = (attrs: Record<string, string | { raw: string }>) =>
      radAuth({ port: fr.port, secret: fr.secret }, attrs);
    const expectCode = (r: RadiusReply, code: RadiusReply['code']) =>
      assert.equal(r.code, code, r.transcript);
    const ch = await auth({ 'User-Name': 'r-sms', 'User-Password': '4711' });
    expectCode(ch, 'Access-Challenge');
    assert.match(ch.attrs['Reply-Message'] ?? '', /A code was sent to \+41 \*\*\*03/);
    const code = smsCode();
    expectCode(
      await auth({ 'User-Name': 'r-sms', 'User-Password': code, State: { raw: ch.attrs.State ?? '' } }),
      'Access-Accept',
    );
    const ch2 = await auth({ 'User-Name': 'r-sms', 'User-Password': '4711' });
    expectCode(ch2, 'Access-Challenge');
    const wrong = smsCode() === '000000' ? '000001' : '000000';
    const r = await auth({
      'User-Name': 'r-sms',
      'User-Password': wrong,
      State: { raw: ch2.attrs.State ?? '' },
    });
    expectCode(r, 'Access-Reject');
    assert.match(r.attrs['Reply-Message'] ?? '', /OTP_INVALID/);
  });

  test('RADIUS menu: an app and SMS; the digit of SMS sends the code in a new challenge; the code answers it', async () => {
    await admin.createUserWithTotp('r-menu', { pin: '4711' });
    await admin.ok('PATCH', '/v1/admin/users/r-menu', { phone: '+41795550005' });
    await enrol('r-menu', { type: 'sms' });
    const auth = (attrs: Record<string, string | { raw: string }>) =>
      radAuth({ port: fr.port, secret: fr.secret }, attrs);
    const before = gateway.received.length;
    const menu = await auth({ 'User-Name': 'r-menu', 'User-Password': '4711' });
    assert.equal(menu.code, 'Access-Challenge', menu.transcript);
    const text = menu.attrs['Reply-Message'] ?? '';
    const pick = /(\d) SMS to \+41 \*\*\*05/.exec(text)?.[1];
    assert.ok(pick, text);
    assert.equal(gateway.received.length, before, 'nothing is sent before the pick');
    const sent = await auth({
      'User-Name': 'r-menu',
      'User-Password': pick,
      State: { raw: menu.attrs.State ?? '' },
    });
    assert.equal(sent.code, 'Access-Challenge', sent.transcript);
    assert.match(sent.attrs['Reply-Message'] ?? '', /A code was sent/);
    assert.notEqual(sent.attrs.State, menu.attrs.State);
    assert.equal(gateway.received.length, before + 1);
    const ok = await auth({
      'User-Name': 'r-menu',
      'User-Password': smsCode(),
      State: { raw: sent.attrs.State ?? '' },
    });
    assert.equal(ok.code, 'Access-Accept', ok.transcript);
  });

  test('RADIUS: a gateway that is down gives Access-Reject with DELIVERY_FAILED, in time', async () => {
    await admin.ok('POST', '/v1/admin/users', { username: 'r-down', phone: '+41795550004', pin: '4711' });
    await enrol('r-down', { type: 'sms' });
    gateway.answer = (res) => res.writeHead(503).end();
    const r = await radAuth(
      { port: fr.port, secret: fr.secret },
      { 'User-Name': 'r-down', 'User-Password': '4711' },
    );
    gateway.answer = (res) => res.writeHead(200).end('{"status":"queued"}');
    assert.equal(r.code, 'Access-Reject', r.transcript);
    assert.match(r.attrs['Reply-Message'] ?? '', /DELIVERY_FAILED/);
  });
});
