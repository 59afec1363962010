import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeEach, describe, test } from 'vitest';
import { createUser, enrolToken, updateToken } from '../../admin/index.ts';
import { type Client, DEFAULT_SETTINGS } from '../../model/index.ts';
import { timeStep, totpAt } from '../../otp/index.ts';
import { SAMPLE_SECRET, SAMPLE_TOTP, sampleClient, sampleToken } from '../../store/fixtures.ts';
import { validatorBench } from './fixtures.ts';
import {
  BUILTIN_METHODS,
  type ChallengeMethod,
  type MethodAnswer,
  type MethodStart,
  methodFor,
  methodRegistry,
} from './index.ts';

const client: Client = sampleClient('c1', { kind: 'api', challengeText: 'Code?', firstFactor: 'upstream' });

/** A test-only method with a scripted start and answer, standing in for mail, SMS or push. */
function scripted() {
  const calls: { start: string[]; answer: { pass: string; state: Record<string, unknown> }[] } = {
    start: [],
    answer: [],
  };
  let next: { start: MethodStart; answer: MethodAnswer } = {
    start: { message: 'A code went to your mail', state: { sent: 1 } },
    answer: { kind: 'accept' },
  };
  const method: ChallengeMethod = {
    type: 'email',
    label: () => 'Mail to t***@example.org',
    start: async (ctx) => {
      calls.start.push(ctx.transactionId);
      return next.start;
    },
    answer: async (ctx) => {
      calls.answer.push({ pass: ctx.pass, state: ctx.state });
      return next.answer;
    },
  };
  return { method, calls, script: (n: Partial<typeof next>) => (next = { ...next, ...n }) };
}

describe('the method registry', () => {
  test('TOTP and HOTP are built in: nothing to send, the client prompt is the message, no own answer', async () => {
    for (const type of ['totp', 'hotp'] as const) {
      const m = methodFor(type);
      assert.ok(m);
      assert.equal(m.answer, undefined);
      const token = sampleToken('S1', 'u', { type, description: 'Pixel 8' });
      assert.match(m.label(token, { username: 'u' } as never), /Pixel 8/);
      const started = await m.start({ client } as never);
      assert.deepEqual(started, { message: 'Code?' });
    }
    assert.deepEqual(
      BUILTIN_METHODS.map((m) => m.type),
      ['totp', 'hotp'],
    );
  });

  test('a registry answers for the methods it was given; a later one for a type wins', () => {
    const a = scripted().method;
    const b = { ...scripted().method };
    const r = methodRegistry([...BUILTIN_METHODS, a, b]);
    assert.equal(r.methodFor('email'), b);
    assert.equal(r.methodFor('sms'), undefined);
    assert.equal(r.methodFor('totp'), methodFor('totp'));
  });
});

describe('challenges bound to one token', () => {
  const mail = scripted();
  const b = validatorBench('methods', methodRegistry([...BUILTIN_METHODS, mail.method]));
  const { store, keyring, admin, validator } = b;
  const code = (offset = 0) => totpAt(SAMPLE_TOTP, timeStep(b.clock, 30) + offset);
  let n = 0;
  let user = '';

  async function addMailToken(username: string): Promise<string> {
    const serial = `MAIL${n}${randomBytes(3).toString('hex')}`;
    await store.putToken(
      sampleToken(serial, username, { type: 'email', secretSealed: keyring.seal(randomBytes(20), serial) }),
    );
    return serial;
  }
  const failures = async (u: string) => (await store.loadAuthView(u))?.userState.failures;

  beforeEach(async () => {
    b.settings = { ...DEFAULT_SETTINGS, methods: { ...DEFAULT_SETTINGS.methods, email: 'enabled' } };
    mail.script({
      start: { message: 'A code went to your mail', state: { sent: 1 } },
      answer: { kind: 'accept' },
    });
    user = `m${n++}`;
    await createUser(admin, { username: user });
  });
  afterAll(async () => {
    await b.close();
  });

  test('one TOTP token: the challenge is bound to it, says the client prompt and takes its code', async () => {
    const { serial } = (await enrolToken(admin, user, { type: 'totp', secret: SAMPLE_SECRET })).token;
    const ch = await validator.validate({ user, pass: '', client });
    assert.equal(ch.result, 'challenge');
    assert.equal(ch.message, 'Code?');
    assert.equal(ch.serial, serial);
    const stored = await store.takeChallenge(ch.transactionId!);
    assert.deepEqual(stored?.method, { serial, type: 'totp', state: {} });
    await store.putChallenge(stored!, 600_000);
    const r = await validator.validate({ user, pass: code(), transactionId: ch.transactionId!, client });
    assert.deepEqual([r.result, r.serial], ['accept', serial]);
  });

  test('a method with its own answer: started once, its state comes back, the accept is committed once', async () => {
    const serial = await addMailToken(user);
    const ch = await validator.validate({ user, pass: '', client });
    assert.deepEqual(
      [ch.result, ch.message, ch.serial, ch.method],
      ['challenge', 'A code went to your mail', serial, 'email'],
    );
    assert.deepEqual(mail.calls.start.at(-1), ch.transactionId);
    const before = await store.getTokenState(serial);
    const answers = await Promise.all(
      [1, 2, 3].map(() =>
        validator.validate({ user, pass: '123456', transactionId: ch.transactionId!, client }),
      ),
    );
    assert.equal(answers.filter((a) => a.result === 'accept').length, 1);
    assert.ok(answers.filter((a) => a.result !== 'accept').every((a) => a.reason === 'CHALLENGE_UNKNOWN'));
    assert.deepEqual(mail.calls.answer.at(-1), { pass: '123456', state: { sent: 1 } });
    assert.equal((await store.getTokenState(serial)).counter, before.counter + 1);
    assert.equal(await failures(user), 0);
  });

  test('a wrong answer is a counted failure; a refusal is one with its reason', async () => {
    await addMailToken(user);
    mail.script({ answer: { kind: 'wrong' } });
    let ch = await validator.validate({ user, pass: '', client });
    let r = await validator.validate({ user, pass: '1', transactionId: ch.transactionId!, client });
    assert.deepEqual([r.result, r.reason], ['reject', 'OTP_INVALID']);
    assert.equal(await failures(user), 1);
    mail.script({ answer: { kind: 'refused', reason: 'CHALLENGE_EXPIRED' } });
    ch = await validator.validate({ user, pass: '', client });
    r = await validator.validate({ user, pass: '', transactionId: ch.transactionId!, client });
    assert.deepEqual([r.result, r.reason], ['reject', 'CHALLENGE_EXPIRED']);
    assert.equal(await failures(user), 2);
  });

  test('a pending answer keeps the challenge open under the same id and counts nothing', async () => {
    await addMailToken(user);
    mail.script({ answer: { kind: 'pending', message: 'Waiting for your phone' } });
    const ch = await validator.validate({ user, pass: '', client });
    const waiting = await validator.validate({ user, pass: '', transactionId: ch.transactionId!, client });
    assert.deepEqual(
      [waiting.result, waiting.message, waiting.transactionId],
      ['challenge', 'Waiting for your phone', ch.transactionId],
    );
    assert.equal(await failures(user), 0);
    mail.script({ answer: { kind: 'accept' } });
    const done = await validator.validate({ user, pass: '', transactionId: ch.transactionId!, client });
    assert.equal(done.result, 'accept');
  });

  test('a start that fails is a reject with its reason, opens no challenge and counts nothing', async () => {
    await addMailToken(user);
    mail.script({ start: { message: '', failure: 'SERVER_BUSY' } });
    const r = await validator.validate({ user, pass: '', client });
    assert.deepEqual([r.result, r.reason, r.transactionId], ['reject', 'SERVER_BUSY', undefined]);
    assert.equal(await failures(user), 0);
  });

  test('the bound token alone answers: disabled between the rounds, the challenge is refused', async () => {
    const { serial } = (await enrolToken(admin, user, { type: 'totp', secret: SAMPLE_SECRET })).token;
    const ch = await validator.validate({ user, pass: '', client });
    await updateToken(admin, user, serial, { status: 'disabled' });
    await enrolToken(admin, user, { type: 'totp', secret: SAMPLE_SECRET });
    const r = await validator.validate({ user, pass: code(), transactionId: ch.transactionId!, client });
    assert.deepEqual([r.result, r.reason], ['reject', 'METHOD_UNAVAILABLE']);
  });

  test("a method's answer runs only inside a reserved attempt: a locked user is refused unevaluated", async () => {
    b.settings = { ...b.settings, lockout: { threshold: 1, baseSeconds: 60, maxSeconds: 60 } };
    await addMailToken(user);
    const first = await validator.validate({ user, pass: '', client });
    const second = await validator.validate({ user, pass: '', client });
    mail.script({ answer: { kind: 'wrong' } });
    await validator.validate({ user, pass: 'x', transactionId: first.transactionId!, client });
    const asked = mail.calls.answer.length;
    mail.script({ answer: { kind: 'accept' } });
    const r = await validator.validate({ user, pass: 'x', transactionId: second.transactionId!, client });
    assert.deepEqual([r.result, r.reason], ['reject', 'USER_LOCKED']);
    assert.equal(mail.calls.answer.length, asked);
    b.clock += 61_000;
  });
});
