import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, test } from 'vitest';
import { createUser, enrolToken } from '../admin/index.ts';
import { KeyRing } from '../crypto/index.ts';
import { DEFAULT_SETTINGS, type Settings } from '../model/index.ts';
import { pairDevice } from '../push/pairing.ts';
import { openEmbeddedStore } from '../store/index.ts';
import type { SelfServiceContext } from './context.ts';
import { listDevices } from './devices.ts';
import { pairingProgress, publicBaseUrl, startOnlineDevice } from './online-devices.ts';

async function phoneKey(): Promise<{ kty: string; crv: string; x: string; y: string }> {
  const pair = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  const jwk = await webcrypto.subtle.exportKey('jwk', pair.publicKey);
  return { kty: jwk.kty!, crv: jwk.crv!, x: jwk.x!, y: jwk.y! };
}

describe('online devices from the portal: add a phone, rescan an offline device', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-online-'));
  const store = openEmbeddedStore(dir);
  const keyring = KeyRing.generate();
  let settings: Settings = DEFAULT_SETTINGS;
  const audit: string[] = [];
  const ctx: SelfServiceContext = {
    store,
    keyring,
    settings: async () => settings,
    audit: (type) => audit.push(type),
    notifier: { send: () => true },
    portalUrl: 'https://mfa.example.test/portal/',
    invitationTtlMs: 3_600_000,
    actor: 'portal:test',
  };
  let n = 0;
  let user = '';
  beforeEach(async () => {
    settings = DEFAULT_SETTINGS;
    user = `o${n++}`;
    await createUser(ctx, { username: user });
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the phone reaches the node at the portal’s public host', () => {
    assert.equal(publicBaseUrl(ctx), 'https://mfa.example.test/');
  });

  test('rescan: same serial, the old seed works until the phone pairs, then it is rotated', async () => {
    const { token } = await enrolToken(ctx, user, { type: 'totp', description: 'Old phone' });
    const sealedBefore = token.secretSealed;
    const startedAt = Date.now();
    const started = await startOnlineDevice(ctx, user, token.serial);
    assert.equal(started.token.serial, token.serial);
    assert.match(started.pairLink, /^https:\/\/mfa\.example\.test\/authenticator\/#pair=[A-Za-z0-9_-]{43}$/);
    const waiting = (await store.getToken(token.serial))!;
    assert.equal(waiting.status, 'active', 'the offline device keeps working while the QR waits');
    assert.equal(waiting.secretSealed, sealedBefore);
    assert.equal(
      (await pairingProgress(ctx, user, token.serial, startedAt, started.expiresAt)).state,
      'waiting',
    );
    assert.equal((await listDevices(ctx, user))[0]?.registration, 'offline');

    const paired = await pairDevice(ctx, {
      pairingToken: started.pairingToken,
      publicKey: await phoneKey(),
      name: 'Pixel',
    });
    assert.equal(paired.deviceId, token.serial);
    const after = (await store.getToken(token.serial))!;
    assert.notEqual(after.secretSealed, sealedBefore, 'the seed was rotated at pairing');
    assert.deepEqual(await pairingProgress(ctx, user, token.serial, startedAt, started.expiresAt), {
      state: 'paired',
      name: 'Pixel',
    });
    const [view] = await listDevices(ctx, user);
    assert.equal(view?.serial, token.serial);
    assert.equal(view?.registration, 'online');
    assert.equal(view?.deviceName, 'Pixel');
    assert.equal(view?.name, 'Old phone', 'the device keeps its name in the list');
    assert.deepEqual(view?.config, {
      methods: ['push', 'totp'],
      numberMatching: true,
      userVerification: false,
    });
  });

  test('add phone: a pending device, not listed until paired, and the pairing works once', async () => {
    const startedAt = Date.now();
    const started = await startOnlineDevice(ctx, user);
    assert.equal(started.token.status, 'pending');
    assert.equal((await store.getToken(started.token.serial))?.enrolledVia, 'portal');
    assert.deepEqual(await listDevices(ctx, user), []);
    const pair = { pairingToken: started.pairingToken, publicKey: await phoneKey(), name: 'iPhone' };
    await pairDevice(ctx, pair);
    assert.equal(
      (await pairingProgress(ctx, user, started.token.serial, startedAt, started.expiresAt)).state,
      'paired',
    );
    await assert.rejects(pairDevice(ctx, pair), /pairing/i, 'a pairing token works once');
    assert.equal((await listDevices(ctx, user))[0]?.registration, 'online');
  });

  test('refused: another user’s device, a disabled device, and a group without online registration', async () => {
    await createUser(ctx, { username: `${user}-other` });
    const { token: theirs } = await enrolToken(ctx, `${user}-other`, { type: 'totp' });
    await assert.rejects(startOnlineDevice(ctx, user, theirs.serial), { code: 'NOT_FOUND' });
    const { token: mine } = await enrolToken(ctx, user, { type: 'totp' });
    await store.putToken({ ...mine, status: 'disabled' });
    await assert.rejects(startOnlineDevice(ctx, user, mine.serial), { code: 'NOT_FOUND' });
    settings = { ...DEFAULT_SETTINGS, push: { onlineRegistration: false } };
    await assert.rejects(startOnlineDevice(ctx, user), { code: 'BAD_REQUEST' });
    settings = {
      ...DEFAULT_SETTINGS,
      push: { onlineRegistration: false, onlineRegistrationGroups: { default: true } },
    };
    const started = await startOnlineDevice(ctx, user);
    // a pairing that ran out says so
    assert.equal(
      (await pairingProgress(ctx, user, started.token.serial, Date.now(), Date.now() - 1)).state,
      'expired',
    );
  });
});
