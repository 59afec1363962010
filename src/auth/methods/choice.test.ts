import assert from 'node:assert/strict';
import { afterAll, beforeEach, describe, test } from 'vitest';
import { createUser, enrolToken, updateToken } from '../../admin/index.ts';
import { type Client, DEFAULT_SETTINGS } from '../../model/index.ts';
import { base32Decode, hotp, timeStep, totpAt } from '../../otp/index.ts';
import { SAMPLE_SECRET, SAMPLE_TOTP, sampleClient, sampleToken } from '../../store/fixtures.ts';
import { validatorBench } from './fixtures.ts';
import {
  BUILTIN_METHODS,
  buildMenu,
  type ChallengeMethod,
  menuPick,
  menuText,
  methodRegistry,
} from './index.ts';

const HOTP_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const HOTP = {
  secret: base32Decode(HOTP_SECRET)!,
  algorithm: 'SHA1' as const,
  digits: 6 as const,
  period: 30 as const,
};
const upstream: Client = sampleClient('up', { kind: 'api', firstFactor: 'upstream', challengeText: 'Code?' });

describe('the menu text', () => {
  test('numbers the default token first, keeps device names on one line, and fits one RADIUS attribute', () => {
    const user = { username: 'u' } as never;
    const tokens = Array.from({ length: 12 }, (_, i) =>
      sampleToken(`S${i}`, 'u', {
        createdAt: i,
        isDefault: i === 5,
        description: `Phone\u0007 of\n${'x'.repeat(60)} ${i}`,
      }),
    );
    const menu = buildMenu(tokens, user, () => BUILTIN_METHODS[0]!);
    assert.equal(menu.length, 9);
    assert.deepEqual(
      menu.slice(0, 3).map((e) => [e.index, e.serial]),
      [
        [1, 'S5'],
        [2, 'S0'],
        [3, 'S1'],
      ],
    );
    assert.ok(menu.every((e) => !/\p{Cc}/u.test(e.label) && [...e.label].length <= 40));
    const text = menuText(menu);
    assert.ok(Buffer.byteLength(text) <= 253, text);
    assert.match(text, /^Choose a method: 1 .*, 9 .*Answer with its number, or enter a code\.$/);
  });

  test('a pick is one or two digits; a code never is', () => {
    assert.equal(menuPick('2'), 2);
    assert.equal(menuPick('07'), 7);
    for (const p of ['', '123456', '12345678', 'a', '1 ', '٣', 'cccccbhkfurkj'])
      assert.equal(menuPick(p), null, p);
  });
});

describe('choosing a method in a challenge', () => {
  const starts: string[] = [];
  const mail: ChallengeMethod = {
    type: 'email',
    label: () => 'Mail to t***@example.org',
    start: async (ctx) => {
      starts.push(ctx.token.serial);
      return { message: 'A code went to your mail', state: { code: '4711' } };
    },
    answer: async (ctx) => (ctx.pass === ctx.state.code ? { kind: 'accept' } : { kind: 'wrong' }),
  };
  const b = validatorBench('choice', methodRegistry([...BUILTIN_METHODS, mail]));
  const { store, keyring, admin, validator } = b;
  const totp = () => totpAt(SAMPLE_TOTP, timeStep(b.clock, 30));
  let n = 0;
  let user = '';
  let totpSerial = '';
  let hotpSerial = '';

  async function addMail(username: string, over: { isDefault?: boolean; secret?: Uint8Array } = {}) {
    const serial = `MAIL${username.toUpperCase()}`;
    const seed = over.secret ?? HOTP.secret;
    await store.putToken(
      sampleToken(serial, username, {
        type: 'email',
        createdAt: Date.now() + 10,
        isDefault: over.isDefault ?? false,
        secretSealed: keyring.seal(seed, serial),
      }),
    );
    return serial;
  }
  const failures = async (u: string) => (await store.loadAuthView(u))?.userState.failures;
  const ask = (pass: string, transactionId?: string, client: Client = upstream, who = user) =>
    validator.validate({ user: who, pass, client, ...(transactionId ? { transactionId } : {}) });

  beforeEach(async () => {
    b.settings = { ...DEFAULT_SETTINGS, methods: { ...DEFAULT_SETTINGS.methods, email: 'enabled' } };
    user = `c${n++}`;
    await createUser(admin, { username: user });
    totpSerial = (
      await enrolToken(admin, user, { type: 'totp', secret: SAMPLE_SECRET, description: 'Pixel' })
    ).token.serial;
    hotpSerial = (await enrolToken(admin, user, { type: 'hotp', secret: HOTP_SECRET })).token.serial;
    starts.length = 0;
  });
  afterAll(async () => {
    await b.close();
  });

  test('several tokens: the challenge is a menu, by name and number, in text and as data', async () => {
    const ch = await ask('');
    assert.equal(ch.result, 'challenge');
    assert.deepEqual(ch.methods, [
      { index: 1, type: 'totp', label: 'Authenticator app (Pixel)' },
      { index: 2, type: 'hotp', label: 'Code token' },
    ]);
    assert.equal(
      ch.message,
      'Choose a method: 1 Authenticator app (Pixel), 2 Code token. Answer with its number, or enter a code.',
    );
    assert.equal(ch.serial, undefined);
  });

  test('a number starts that token in a new challenge bound to it; its code then signs in', async () => {
    const menu = await ask('');
    const picked = await ask('2', menu.transactionId);
    assert.deepEqual([picked.result, picked.serial, picked.message], ['challenge', hotpSerial, 'Code?']);
    assert.notEqual(picked.transactionId, menu.transactionId);
    assert.equal(await failures(user), 0, 'a pick on the menu counts nothing');
    const r = await ask(hotp(HOTP, 0), picked.transactionId);
    assert.deepEqual([r.result, r.serial], ['accept', hotpSerial]);
  });

  test('a code answers the menu at once, tried against every eligible token, as before the menu', async () => {
    const menu = await ask('');
    const r = await ask(totp(), menu.transactionId);
    assert.deepEqual([r.result, r.serial], ['accept', totpSerial]);
  });

  test("attacker: after picking one token, another token's right code is refused", async () => {
    const menu = await ask('');
    const picked = await ask('2', menu.transactionId);
    const r = await ask(totp(), picked.transactionId);
    assert.deepEqual([r.result, r.reason], ['reject', 'OTP_INVALID']);
    assert.equal(await failures(user), 1);
  });

  test('a number not on the menu is its own counted reject, and ends the menu', async () => {
    for (const pick of ['3', '0', '09']) {
      const menu = await ask('');
      const r = await ask(pick, menu.transactionId);
      assert.deepEqual([r.result, r.reason], ['reject', 'METHOD_CHOICE_INVALID'], pick);
      assert.equal((await ask('1', menu.transactionId)).reason, 'CHALLENGE_UNKNOWN');
    }
    assert.equal(await failures(user), 3);
  });

  test('attacker: a menu is picked from once: replayed or raced, one pick starts one method', async () => {
    await addMail(user);
    const menu = await ask('');
    assert.equal(menu.methods?.at(-1)?.type, 'email');
    assert.deepEqual(starts, [], 'nothing is sent before the pick');
    const picks = await Promise.all([1, 2, 3, 4].map(() => ask('3', menu.transactionId)));
    assert.equal(picks.filter((p) => p.result === 'challenge').length, 1);
    assert.ok(picks.filter((p) => p.result !== 'challenge').every((p) => p.reason === 'CHALLENGE_UNKNOWN'));
    assert.equal(starts.length, 1);
    assert.equal((await ask('3', menu.transactionId)).reason, 'CHALLENGE_UNKNOWN');
    const bound = picks.find((p) => p.result === 'challenge')!;
    assert.equal(bound.message, 'A code went to your mail');
    assert.equal((await ask('4711', bound.transactionId)).result, 'accept');
  });

  test("attacker: another user's menu cannot be picked from, and starts nothing", async () => {
    await addMail(user);
    const menu = await ask('');
    const other = `${user}-other`;
    await createUser(admin, { username: other });
    await enrolToken(admin, other, { type: 'totp', secret: SAMPLE_SECRET });
    const r = await ask('3', menu.transactionId, upstream, other);
    assert.deepEqual([r.result, r.reason], ['reject', 'CHALLENGE_USER_MISMATCH']);
    const fromOtherClient = await ask('3', (await ask('')).transactionId, {
      ...upstream,
      id: 'other-client',
    });
    assert.equal(fromOtherClient.reason, 'CHALLENGE_USER_MISMATCH');
    assert.deepEqual(starts, []);
  });

  test('a locked user picks nothing: no method starts', async () => {
    b.settings = { ...b.settings, lockout: { threshold: 1, baseSeconds: 60, maxSeconds: 60 } };
    await addMail(user);
    const menu = await ask('');
    assert.equal((await ask('000000', (await ask('')).transactionId)).reason, 'OTP_INVALID');
    const r = await ask('3', menu.transactionId);
    assert.equal(r.reason, 'USER_LOCKED');
    assert.deepEqual(starts, []);
    b.clock += 61_000;
  });

  test('a PIN user: the menu needs the PIN, and so does the challenge a pick opens', async () => {
    const pinned = `${user}-pin`;
    await createUser(admin, { username: pinned, pin: '8642' });
    await enrolToken(admin, pinned, { type: 'totp', secret: SAMPLE_SECRET });
    await enrolToken(admin, pinned, { type: 'hotp', secret: HOTP_SECRET });
    const pinClient = { ...upstream, firstFactor: 'pin' as const };
    assert.equal((await ask('', undefined, pinClient, pinned)).reason, 'PIN_INVALID');
    const menu = await ask('8642', undefined, pinClient, pinned);
    assert.equal(menu.methods?.length, 2);
    const picked = await ask('1', menu.transactionId, pinClient, pinned);
    assert.equal(picked.result, 'challenge');
    const stored = await store.takeChallenge(picked.transactionId!);
    assert.equal(stored?.firstFactor, 'pin');
  });

  test('a client set to use the default starts the default token at once; without one, the menu', async () => {
    const defaults = { ...upstream, methodChoice: 'default' as const };
    const serial = await addMail(user, { isDefault: true });
    await updateToken(admin, user, totpSerial, { isDefault: false });
    const ch = await ask('', undefined, defaults);
    assert.deepEqual([ch.result, ch.serial, ch.methods], ['challenge', serial, undefined]);
    assert.deepEqual(starts, [serial]);
    await updateToken(admin, user, serial, { isDefault: false });
    assert.equal((await ask('', undefined, defaults)).methods?.length, 3);
  });

  test('one-shot: a token that proves itself (sent codes) is never matched as a device code', async () => {
    await addMail(user, { secret: HOTP.secret });
    await updateToken(admin, user, hotpSerial, { status: 'disabled' });
    const r = await ask(hotp(HOTP, 0), undefined, { ...upstream, firstFactor: 'pin' });
    assert.deepEqual([r.result, r.reason], ['reject', 'OTP_INVALID']);
  });
});

describe('per-client challenge switch and allowed methods', () => {
  const b = validatorBench('client-methods');
  const { admin, validator } = b;
  const totp = () => totpAt(SAMPLE_TOTP, timeStep(b.clock, 30));
  let n = 0;
  let user = '';
  const ask = (client: Client, pass: string, transactionId?: string, who = user) =>
    validator.validate({ user: who, pass, client, ...(transactionId ? { transactionId } : {}) });

  beforeEach(async () => {
    user = `k${n++}`;
    await createUser(admin, { username: user, pin: '2468' });
    await enrolToken(admin, user, { type: 'totp', secret: SAMPLE_SECRET });
    await enrolToken(admin, user, { type: 'hotp', secret: HOTP_SECRET });
  });
  afterAll(async () => {
    await b.close();
  });

  test('challenges off: PIN alone is its own reject, PIN+code still signs in', async () => {
    const off = sampleClient('off', { kind: 'radius', challenge: 'disabled' });
    assert.deepEqual(
      [(await ask(off, '2468')).result, (await ask(off, '2468')).reason],
      ['reject', 'CHALLENGE_DISABLED'],
    );
    assert.equal((await ask(off, '1357')).reason, 'PIN_INVALID');
    assert.equal((await ask(off, `2468${totp()}`)).result, 'accept');
  });

  test('challenges off: an upstream client sends the code itself; an empty pass opens nothing', async () => {
    const off = { ...upstream, challenge: 'disabled' as const };
    assert.equal((await ask(off, '')).reason, 'CHALLENGE_DISABLED');
    assert.equal((await ask(off, '000000')).reason, 'OTP_INVALID');
    assert.equal((await ask(off, totp())).result, 'accept');
  });

  test('challenges switched off between the rounds: the open challenge cannot be answered', async () => {
    const on = sampleClient('sw', { kind: 'radius' });
    const ch = await ask(on, '2468');
    assert.equal(ch.result, 'challenge');
    const r = await ask({ ...on, challenge: 'disabled' }, totp(), ch.transactionId);
    assert.equal(r.reason, 'CHALLENGE_DISABLED');
  });

  test('allowed methods: tokens of other types are not eligible, one-shot or in a challenge', async () => {
    const hotpOnly = sampleClient('ho', { kind: 'radius', allowedMethods: ['hotp'] });
    assert.equal((await ask(hotpOnly, `2468${totp()}`)).reason, 'OTP_INVALID');
    const ch = await ask(hotpOnly, '2468');
    assert.deepEqual([ch.result, ch.methods], ['challenge', undefined], 'one eligible token: no menu');
    assert.equal((await ask(hotpOnly, totp(), ch.transactionId)).reason, 'OTP_INVALID');
    assert.equal((await ask(hotpOnly, `2468${hotp(HOTP, 0)}`)).result, 'accept');
    const mailOnly = sampleClient('mo', { kind: 'radius', allowedMethods: ['email'] });
    assert.deepEqual([(await ask(mailOnly, `2468${totp()}`)).reason], ['METHOD_NOT_ALLOWED']);
  });

  test('allowed methods narrowed between the rounds: a menu pick of a method no longer allowed is refused', async () => {
    const all = sampleClient('all', { kind: 'radius' });
    const menu = await ask(all, '2468');
    const r = await ask({ ...all, allowedMethods: ['hotp'] }, '1', menu.transactionId);
    assert.deepEqual([r.result, r.reason], ['reject', 'METHOD_UNAVAILABLE']);
  });
});
