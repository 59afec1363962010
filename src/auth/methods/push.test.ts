import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { type AdminContext, createClient, createUser, updateUser } from '../../admin/index.ts';
import { KeyRing } from '../../crypto/index.ts';
import {
  type AuditEvent,
  type Client,
  DEFAULT_SETTINGS,
  type Settings,
  type Token,
} from '../../model/index.ts';
import { base32Decode, timeStep, totpAt } from '../../otp/index.ts';
import { PushService, pairDevice, startPairing } from '../../push/index.ts';
import { openEmbeddedStore } from '../../store/index.ts';
import { Validator } from '../validator.ts';
import { BUILTIN_METHODS, methodRegistry, pushMethod } from './index.ts';

describe('push as a challenge method: created after the first factor, accepted once when approved', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-pushm-'));
  const store = openEmbeddedStore(dir);
  const keyring = KeyRing.generate();
  const audited: AuditEvent[] = [];
  const audit = { record: (e: AuditEvent) => void audited.push(e) };
  const settings: Settings = { ...DEFAULT_SETTINGS, push: { maxPending: 2 } };
  const admin: AdminContext = { store, keyring, settings: async () => settings, audit: () => {} };
  const push = new PushService({ store, settings: async () => settings, audit });
  const validator = new Validator({
    store,
    keyring,
    settings: async () => settings,
    audit,
    methods: methodRegistry([...BUILTIN_METHODS, pushMethod({ push })]),
  });
  let vpn: Client;
  let codeClient: Client;
  const phones: Record<string, { token: Token; secret: Uint8Array }> = {};

  const paired = async (username: string) => {
    await createUser(admin, { username, pin: '4711' });
    const start = await startPairing(admin, username, { baseUrl: 'https://x/' });
    const jwk = (await crypto.subtle.exportKey(
      'jwk',
      (
        await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign'])
      ).publicKey,
    )) as { x: string; y: string };
    const p = await pairDevice(admin, {
      pairingToken: start.pairingToken,
      publicKey: { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y },
      name: `${username}'s phone`,
    });
    phones[username] = { token: p.token, secret: base32Decode(p.totp.secret) as Uint8Array };
  };
  const login = (user: string, pass: string, client = vpn, transactionId?: string) =>
    validator.validate({
      user,
      pass,
      client,
      ...(transactionId ? { transactionId } : {}),
      sourceIp: '198.51.100.4',
    });
  const pushOf = async (user: string) => (await store.push.pendingPushes(user, Date.now())).at(-1)!;

  beforeAll(async () => {
    ({ client: vpn } = await createClient(admin, { name: 'vpn', kind: 'radius' }));
    ({ client: codeClient } = await createClient(admin, {
      name: 'vpn-code',
      kind: 'radius',
      pushMode: 'code',
    }));
    for (const u of ['ann', 'ben', 'cat', 'dan', 'eve', 'fay']) await paired(u);
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('no push without the PIN; with it, approve → accept exactly once', async () => {
    const wrong = await login('ann', '0000');
    assert.equal(wrong.result, 'reject');
    assert.deepEqual(await store.push.pendingPushes('ann', Date.now()), []);
    const first = await login('ann', '4711');
    assert.equal(first.result, 'challenge');
    const p = await pushOf('ann');
    assert.equal(first.message, `Approve the sign-in on your phone: pick ${p.number}.`);
    assert.deepEqual(p.context, {
      client: 'vpn',
      system: 'vpn',
      sourceIp: '198.51.100.4',
      time: p.createdAt,
    });
    const waiting = await login('ann', '', vpn, first.transactionId);
    assert.equal(waiting.result, 'challenge');
    assert.equal(waiting.transactionId, first.transactionId);
    await push.answer(phones.ann!.token, p.id, { decision: 'approve', number: p.number });
    const [a, b] = await Promise.all([
      login('ann', '', vpn, first.transactionId),
      login('ann', 'anything', vpn, first.transactionId),
    ]);
    assert.deepEqual([a.result, b.result].sort(), ['accept', 'reject']);
    assert.equal((await login('ann', '', vpn, first.transactionId)).result, 'reject');
  });

  test('a user with no PIN gets no push from an empty pass (the username alone proves nothing)', async () => {
    await paired('gus');
    await updateUser(admin, 'gus', { pin: null });
    const r = await login('gus', '');
    assert.deepEqual([r.result, r.reason], ['reject', 'PIN_REQUIRED']);
    assert.deepEqual(await store.push.pendingPushes('gus', Date.now()), [], 'no push was made');
    // nor by a menu pick: the pick starts the method with the same (absent) proof
    const picked = await Promise.all([login('gus', ''), login('gus', '')]);
    assert.ok(picked.every((p) => p.result === 'reject'));
    assert.deepEqual(await store.push.pendingPushes('gus', Date.now()), []);
    // the phone's own TOTP code still works for it, one-shot, as for any device
    const code = totpAt(
      { secret: phones.gus!.secret, algorithm: 'SHA1', digits: 6, period: 30 },
      timeStep(Date.now(), 30),
    );
    assert.equal((await login('gus', code)).result, 'accept');
  });

  test('denied → PUSH_DENIED; expired → PUSH_EXPIRED', async () => {
    const first = await login('ben', '4711');
    const p = await pushOf('ben');
    await push.answer(phones.ben!.token, p.id, { decision: 'deny' });
    const r = await login('ben', '', vpn, first.transactionId);
    assert.deepEqual([r.result, r.reason], ['reject', 'PUSH_DENIED']);
    const short = new PushService({
      store,
      settings: async () => ({ ...settings, push: { timeoutSeconds: 1 } }),
      audit,
    });
    const v2 = new Validator({
      store,
      keyring,
      settings: async () => settings,
      audit,
      methods: methodRegistry([pushMethod({ push: short })]),
    });
    const again = await v2.validate({ user: 'ben', pass: '4711', client: vpn });
    await new Promise((res) => setTimeout(res, 1100));
    const late = await v2.validate({
      user: 'ben',
      pass: '',
      client: vpn,
      transactionId: again.transactionId!,
    });
    assert.deepEqual([late.result, late.reason], ['reject', 'PUSH_EXPIRED']);
  });

  test('at most maxPending pushes wait at once: the next login is refused, no push made', async () => {
    assert.equal((await login('cat', '4711')).result, 'challenge');
    assert.equal((await login('cat', '4711')).result, 'challenge');
    const third = await login('cat', '4711');
    assert.deepEqual([third.result, third.reason], ['reject', 'PUSH_LIMIT']);
    assert.equal((await store.push.pendingPushes('cat', Date.now())).length, 2);
  });

  test('code to phone: the typed code is accepted once; a wrong one is not', async () => {
    const first = await login('dan', '4711', codeClient);
    assert.equal(first.message, 'Enter the code shown on your phone.');
    const p = await pushOf('dan');
    assert.match(p.code ?? '', /^[0-9]{6}$/);
    assert.equal(p.numbers, undefined);
    const wrongCode = p.code === '000000' ? '000001' : '000000';
    const bad = await login('dan', wrongCode, codeClient, first.transactionId);
    assert.equal(bad.result, 'reject');
    const second = await login('dan', '4711', codeClient);
    const q = await pushOf('dan');
    const ok = await login('dan', q.code!, codeClient, second.transactionId);
    assert.equal(ok.result, 'accept');
    assert.equal((await push.get(q.id))?.consumed, true);
  });

  test("the phone's offline TOTP code answers a push challenge, once, even in parallel", async () => {
    const code = totpAt(
      { secret: phones.eve!.secret, algorithm: 'SHA1', digits: 6, period: 30 },
      timeStep(Date.now(), 30),
    );
    // two logins waiting for the same phone, answered with the same code at once
    const rounds = [await login('eve', '4711'), await login('eve', '4711')];
    const answers = await Promise.all(rounds.map((r) => login('eve', code, vpn, r.transactionId)));
    assert.deepEqual(answers.map((a) => a.result).sort(), ['accept', 'reject']);
    assert.equal(answers.find((a) => a.result === 'reject')?.reason, 'OTP_REUSED');
    // nor one-shot as PIN + code: the phone's code is spent for every path
    const replay = await login('eve', `4711${code}`);
    assert.deepEqual([replay.result, replay.reason], ['reject', 'OTP_REUSED']);
  });

  test('an approval without the PIN round is worth nothing: a forged transaction id is unknown', async () => {
    const first = await login('fay', '4711');
    const p = await pushOf('fay');
    await push.answer(phones.fay!.token, p.id, { decision: 'approve', number: p.number });
    const other = await login('fay', '', vpn, 'x'.repeat(24));
    assert.deepEqual([other.result, other.reason], ['reject', 'CHALLENGE_UNKNOWN']);
    const stranger = await login('ann', '', vpn, first.transactionId);
    assert.equal(stranger.result, 'reject');
  });
});
