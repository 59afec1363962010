import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, test } from 'vitest';
import { SmsGateway } from '../../../test/harness/sms-gateway.ts';
import { type SmtpHandle, smtpConfigFor, startSmtp } from '../../../test/harness/smtp.ts';
import type { AdminContext } from '../../admin/context.ts';
import { createUser, enrolCodeToken, enrolToken } from '../../admin/index.ts';
import { KeyRing } from '../../crypto/index.ts';
import { type Client, DEFAULT_CODE_DELIVERY, DEFAULT_SETTINGS, type Settings } from '../../model/index.ts';
import { httpGateway, Notifier } from '../../notify/index.ts';
import { hotp } from '../../otp/index.ts';
import { SAMPLE_SECRET, sampleClient } from '../../store/fixtures.ts';
import { openEmbeddedStore } from '../../store/index.ts';
import { Validator } from '../validator.ts';
import { BUILTIN_METHODS, type DeliveryOutcome, emailMethod, methodRegistry, smsMethod } from './index.ts';

const client: Client = sampleClient('c1', { kind: 'api', challengeText: 'Code?', firstFactor: 'upstream' });
const pinClient: Client = sampleClient('c2', { kind: 'radius', challengeText: 'Code?', firstFactor: 'pin' });

describe('mail and SMS codes in a challenge (real SMTP listener, real HTTP gateway on loopback)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-sent-code-'));
  const store = openEmbeddedStore(dir);
  const keyring = KeyRing.generate();
  let settings: Settings = DEFAULT_SETTINGS;
  let clock = Date.now();
  const admin: AdminContext = { store, keyring, settings: async () => settings, audit: () => {} };
  const gateway = new SmsGateway();
  let smtp: SmtpHandle;
  let notifier: Notifier;
  let validator: Validator;
  const outcomes: string[] = [];
  let n = 0;

  beforeAll(async () => {
    smtp = await startSmtp();
    await gateway.listen();
    notifier = new Notifier(
      {
        smtp: smtpConfigFor(smtp),
        disabled: [],
        adminAddresses: [],
      },
      new Registry(),
    );
    const deps = {
      store,
      keyring,
      observe: (channel: string, outcome: DeliveryOutcome) => outcomes.push(`${channel}:${outcome}`),
    };
    const sms = httpGateway({
      url: `http://${gateway.address}/sms`,
      method: 'POST',
      headers: {},
      body: { format: 'json', template: { to: '{phone}', code: '{otp}' } },
      successStatus: [],
      timeoutMs: 400,
      tlsVerify: true,
    });
    validator = new Validator({
      store,
      keyring,
      settings: async () => settings,
      audit: { record() {} },
      now: () => clock,
      methods: methodRegistry([...BUILTIN_METHODS, emailMethod(notifier, 2000, deps), smsMethod(sms, deps)]),
    });
  });
  afterAll(async () => {
    notifier.close();
    await smtp.close();
    await gateway.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  let user = '';
  beforeEach(async () => {
    settings = DEFAULT_SETTINGS;
    clock = Date.now();
    gateway.answer = (res) => res.writeHead(200).end('{"status":"queued"}');
    user = `sc${n++}`;
  });

  async function smsUser(phone = `+4179555${String(n).padStart(4, '0')}`): Promise<string> {
    await createUser(admin, { username: user, phone });
    return (await enrolCodeToken(admin, user, { type: 'sms' })).serial;
  }
  async function mailUser(): Promise<string> {
    await createUser(admin, { username: user, email: `${user}@example.test` });
    return (await enrolCodeToken(admin, user, { type: 'email' })).serial;
  }
  const failures = async (u = user) => (await store.loadAuthView(u))?.userState.failures;
  const start = (u = user) => validator.validate({ user: u, pass: '', client });
  const answer = (transactionId: string, pass: string, u = user) =>
    validator.validate({ user: u, pass, transactionId, client });

  test('SMS: a fresh code goes to the gateway, the message names the masked number, the code is accepted once', async () => {
    const serial = await smsUser('+41 79 555 12 34');
    const sent = gateway.received.length;
    const ch = await start();
    assert.deepEqual([ch.result, ch.serial, ch.method], ['challenge', serial, 'sms']);
    assert.match(ch.message ?? '', /A code was sent to \+41 \*\*\*34/);
    assert.equal(gateway.received.length, sent + 1);
    const body = JSON.parse(gateway.received.at(-1)?.body ?? '');
    assert.equal(body.to, '+41795551234');
    assert.match(body.code, /^\d{6}$/);
    const ok = await answer(ch.transactionId!, body.code);
    assert.deepEqual([ok.result, ok.serial], ['accept', serial]);
    const again = await answer(ch.transactionId!, body.code);
    assert.equal(again.reason, 'CHALLENGE_UNKNOWN');
  });

  test('the challenge keeps a keyed hash, never the code', async () => {
    await smsUser();
    const ch = await start();
    const code = gateway.lastCode();
    const stored = await store.takeChallenge(ch.transactionId!);
    assert.ok(stored?.method);
    assert.equal(JSON.stringify(stored).includes(code), false);
    assert.equal(typeof stored.method.state.h, 'string');
  });

  test('mail: the code arrives by SMTP with the configured length and lifetime, and works', async () => {
    settings = {
      ...DEFAULT_SETTINGS,
      codeDelivery: { ...DEFAULT_CODE_DELIVERY, length: 8, lifetimeSeconds: 120 },
    };
    await mailUser();
    const ch = await start();
    assert.match(ch.message ?? '', /A code was sent to s\*\*\*@example\.test/);
    const mail = await smtp.waitForMail(`${user}@example.test`, /sign-in code/);
    const code = /is (\d+)/.exec(mail.text)?.[1] ?? '';
    assert.equal(code.length, 8);
    assert.match(mail.text, /for 2 minutes/);
    assert.equal((await answer(ch.transactionId!, code)).result, 'accept');
  });

  test("attacker: one login's code does not open another login", async () => {
    await smsUser();
    const a = await start();
    const codeA = gateway.lastCode();
    const b = await start();
    const r = await answer(b.transactionId!, codeA);
    assert.deepEqual([r.result, r.reason], ['reject', 'OTP_INVALID']);
    // and a wrong guess ends that login: its own right code is refused after it
    const codeB = gateway.lastCode();
    assert.equal((await answer(b.transactionId!, codeB)).reason, 'CHALLENGE_UNKNOWN');
    assert.equal((await answer(a.transactionId!, codeA)).result, 'accept');
  });

  test('attacker: parallel guesses on one login get one evaluation in all', async () => {
    settings = { ...DEFAULT_SETTINGS, throttle: { failuresPerWindow: 100, windowSeconds: 60 } };
    await smsUser();
    const ch = await start();
    const guesses = Array.from({ length: 20 }, (_, i) => String(100000 + i));
    const results = await Promise.all(guesses.map((g) => answer(ch.transactionId!, g)));
    const evaluated = results.filter((r) => r.reason !== 'CHALLENGE_UNKNOWN');
    assert.equal(evaluated.length, 1);
    assert.equal(await failures(), 1);
  });

  test('attacker: a code after its lifetime is refused even inside the challenge', async () => {
    settings = {
      ...DEFAULT_SETTINGS,
      challengeTtlSeconds: 600,
      codeDelivery: { ...DEFAULT_CODE_DELIVERY, lifetimeSeconds: 30 },
    };
    await smsUser();
    const ch = await start();
    const code = gateway.lastCode();
    clock += 31_000;
    const r = await answer(ch.transactionId!, code);
    assert.deepEqual([r.result, r.reason], ['reject', 'CHALLENGE_EXPIRED']);
  });

  test('resend: an empty answer sends a new code (the old one stops working), up to the limit, counting nothing', async () => {
    settings = { ...DEFAULT_SETTINGS, codeDelivery: { ...DEFAULT_CODE_DELIVERY, resendLimit: 1 } };
    await smsUser();
    const ch = await start();
    const first = gateway.lastCode();
    const before = gateway.received.length;
    const resent = await answer(ch.transactionId!, '');
    assert.deepEqual([resent.result, resent.transactionId], ['challenge', ch.transactionId]);
    assert.equal(gateway.received.length, before + 1);
    const second = gateway.lastCode();
    const noMore = await answer(ch.transactionId!, '');
    assert.equal(noMore.result, 'challenge');
    assert.match(noMore.message ?? '', /No more codes/);
    assert.equal(gateway.received.length, before + 1);
    assert.equal(await failures(), 0);
    if (first !== second) {
      const old = await answer(ch.transactionId!, first);
      assert.equal(old.reason, 'OTP_INVALID');
    } else {
      assert.equal((await answer(ch.transactionId!, second)).result, 'accept');
    }
  });

  test('attacker: flooding logins stops at the per-user limit; nothing sent, nothing counted', async () => {
    settings = {
      ...DEFAULT_SETTINGS,
      codeDelivery: { ...DEFAULT_CODE_DELIVERY, perUser: { count: 3, windowSeconds: 600 } },
    };
    await smsUser();
    const before = gateway.received.length;
    const results = await Promise.all(Array.from({ length: 8 }, () => start()));
    assert.equal(results.filter((r) => r.result === 'challenge').length, 3);
    assert.ok(
      results.filter((r) => r.result === 'reject').every((r) => r.reason === 'DELIVERY_RATE_LIMITED'),
    );
    assert.equal(gateway.received.length, before + 3);
    assert.equal(await failures(), 0);
    assert.ok(outcomes.includes('sms:rate_limited'));
  });

  test('attacker: one phone number behind many users is limited as one destination', async () => {
    settings = {
      ...DEFAULT_SETTINGS,
      codeDelivery: { ...DEFAULT_CODE_DELIVERY, perDestination: { count: 2, windowSeconds: 600 } },
    };
    const phone = '+4179000111';
    const users = [`${user}a`, `${user}b`, `${user}c`];
    for (const u of users) {
      await createUser(admin, { username: u, phone });
      await enrolCodeToken(admin, u, { type: 'sms' });
    }
    const reasons = [];
    for (const u of users) reasons.push((await start(u)).reason);
    assert.deepEqual(reasons, ['CHALLENGE_SENT', 'CHALLENGE_SENT', 'DELIVERY_RATE_LIMITED']);
  });

  test('attacker: an unknown user causes no send', async () => {
    const before = gateway.received.length;
    const sentMails = smtp.mails.length;
    const r = await start('nobody-here');
    assert.equal(r.reason, 'USER_UNKNOWN');
    assert.equal(gateway.received.length, before);
    assert.equal(smtp.mails.length, sentMails);
  });

  test('a wrong PIN sends nothing; the right PIN alone sends the code', async () => {
    await createUser(admin, { username: user, phone: '+4179333444', pin: '4711' });
    await enrolCodeToken(admin, user, { type: 'sms' });
    const before = gateway.received.length;
    const wrong = await validator.validate({ user, pass: '0000', client: pinClient });
    assert.equal(wrong.reason, 'PIN_INVALID');
    assert.equal(gateway.received.length, before);
    const ch = await validator.validate({ user, pass: '4711', client: pinClient });
    assert.equal(ch.result, 'challenge');
    assert.equal(gateway.received.length, before + 1);
    const ok = await validator.validate({
      user,
      pass: gateway.lastCode(),
      transactionId: ch.transactionId!,
      client: pinClient,
    });
    assert.equal(ok.result, 'accept');
  });

  for (const [name, answerWith] of [
    ['answers 500', (res: import('node:http').ServerResponse) => res.writeHead(500).end('down')],
    ['hangs', () => {}],
  ] as const) {
    test(`a gateway that ${name}: DELIVERY_FAILED within the timeout, no challenge, no attempt spent`, async () => {
      await smsUser();
      gateway.answer = answerWith;
      const t0 = Date.now();
      const r = await start();
      assert.ok(Date.now() - t0 < 1500, `took ${Date.now() - t0} ms`);
      assert.deepEqual([r.result, r.reason, r.transactionId], ['reject', 'DELIVERY_FAILED', undefined]);
      assert.equal(await failures(), 0);
    });
  }

  test('a mail server that is down: DELIVERY_FAILED, counted, no attempt spent', async () => {
    const down = await startSmtp();
    const port = down.port;
    await down.close();
    const dead = new Notifier(
      {
        smtp: { host: '127.0.0.1', port, security: 'none', from: 'otp@tessera.test', timeoutMs: 500 },
        disabled: [],
        adminAddresses: [],
      },
      new Registry(),
    );
    const seen: string[] = [];
    const v = new Validator({
      store,
      keyring,
      settings: async () => settings,
      audit: { record() {} },
      methods: methodRegistry([
        emailMethod(dead, 500, { store, keyring, observe: (c, o) => seen.push(`${c}:${o}`) }),
      ]),
    });
    await mailUser();
    const r = await v.validate({ user, pass: '', client });
    assert.deepEqual([r.result, r.reason], ['reject', 'DELIVERY_FAILED']);
    assert.deepEqual(seen, ['email:unreachable']);
    assert.equal(await failures(), 0);
    dead.close();
  });

  test('email and SMS tokens never match as OTP codes (their key is no seed)', async () => {
    await createUser(admin, { username: user, phone: '+4179333555' });
    const sms = await enrolCodeToken(admin, user, { type: 'sms' });
    await enrolToken(admin, user, { type: 'totp', secret: SAMPLE_SECRET });
    // the code its key would give as an HOTP seed, in an unbound challenge (several tokens)
    const key = keyring.open(sms.secretSealed, sms.serial)!;
    const asHotp = hotp({ secret: key, algorithm: sms.algorithm, digits: 6 }, 0);
    const ch = await start();
    assert.equal(ch.result, 'challenge');
    const r = await answer(ch.transactionId!, asHotp);
    assert.equal(r.reason, 'OTP_INVALID');
  });

  test('a user without a phone number: DESTINATION_MISSING, nothing sent', async () => {
    await createUser(admin, { username: user });
    await assert.rejects(enrolCodeToken(admin, user, { type: 'sms' }), /has no phone/);
    await enrolCodeToken(admin, user, { type: 'email', destination: 'x@example.test' });
    const token = (await store.listTokens(user))[0]!;
    await store.putToken({ ...token, type: 'sms', destination: 'not a number' });
    const r = await start();
    assert.equal(r.reason, 'DESTINATION_MISSING');
  });
});
