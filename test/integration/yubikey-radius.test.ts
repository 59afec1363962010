// YubiKey OTPs (made by ykgenerate) through FreeRADIUS 3.2 + rlm_rest + Tessera, driven by radclient.
import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { type FreeRadiusHandle, startFreeRadius } from '../harness/freeradius.ts';
import { type AttrValue, type RadiusReply, radAuth } from '../harness/radclient.ts';
import { Api, startTessera, type TesseraHandle } from '../harness/tessera.ts';
import { ensureYkgenerate, newTestYubikey, type TestYubikey, ykgenerate } from '../harness/ykgenerate.ts';

describe('YubiKey over RADIUS, end to end with FreeRADIUS and radclient', () => {
  let node: TesseraHandle;
  let admin: Api;
  let fr: FreeRadiusHandle;

  beforeAll(async () => {
    ensureYkgenerate();
    node = await startTessera();
    admin = new Api(node.url, node.adminKey);
    const created = await admin.ok('POST', '/v1/admin/clients', {
      name: 'freeradius-yubikey',
      kind: 'radius',
      rejectDetail: 'reason',
      challengeText: 'Touch your YubiKey',
    });
    await admin.ok('PATCH', '/v1/admin/settings', { throttle: { failuresPerWindow: 0 } });
    fr = await startFreeRadius({ tesseraUrl: node.url, apiKey: created.apiKey });
  });
  afterAll(async () => {
    await fr?.stop();
    await node?.stop();
  });

  const auth = (attrs: Record<string, AttrValue>) => radAuth({ port: fr.port, secret: fr.secret }, attrs);
  const expect = (r: RadiusReply, code: RadiusReply['code'], message?: RegExp) => {
    assert.equal(r.code, code, r.transcript);
    if (message) assert.match(r.attrs['Reply-Message'] ?? '', message, r.transcript);
  };
  const enrol = async (user: string, key: TestYubikey, pin?: string) => {
    await admin.ok('POST', '/v1/admin/users', { username: user, ...(pin ? { pin } : {}) });
    await admin.ok('POST', `/v1/admin/users/${user}/tokens`, { type: 'yubikey', ...key });
  };

  test('PIN + OTP in one Access-Request; a replayed or older OTP is rejected as reused', async () => {
    const key = newTestYubikey();
    await enrol('ryk-pin', key, '4711');
    expect(
      await auth({ 'User-Name': 'ryk-pin', 'User-Password': `4711${ykgenerate(key, 2, 5)}` }),
      'Access-Accept',
    );
    expect(
      await auth({ 'User-Name': 'ryk-pin', 'User-Password': `4711${ykgenerate(key, 2, 5)}` }),
      'Access-Reject',
      /\(OTP_REUSED\)$/,
    );
    expect(
      await auth({ 'User-Name': 'ryk-pin', 'User-Password': `4711${ykgenerate(key, 1, 9)}` }),
      'Access-Reject',
      /\(OTP_REUSED\)$/,
    );
    expect(
      await auth({ 'User-Name': 'ryk-pin', 'User-Password': `4711${ykgenerate(key, 3, 0)}` }),
      'Access-Accept',
    );
  });

  test('the PIN alone gets a challenge; the OTP typed by the key answers it', async () => {
    const key = newTestYubikey();
    await enrol('ryk-chal', key, '2468');
    const ch = await auth({ 'User-Name': 'ryk-chal', 'User-Password': '2468' });
    expect(ch, 'Access-Challenge', /Touch your YubiKey/);
    const state = { raw: ch.attrs['State'] ?? '' };
    expect(
      await auth({ 'User-Name': 'ryk-chal', 'User-Password': ykgenerate(key, 1, 0), State: state }),
      'Access-Accept',
    );
  });

  test('a malformed OTP is rejected with its own reason', async () => {
    const key = newTestYubikey();
    await enrol('ryk-bad', key);
    const good = ykgenerate(key, 4, 0);
    expect(
      await auth({ 'User-Name': 'ryk-bad', 'User-Password': good.slice(2) }),
      'Access-Reject',
      /\(YUBIKEY_BAD_LENGTH\)$/,
    );
    expect(
      await auth({ 'User-Name': 'ryk-bad', 'User-Password': `${good.slice(0, -1)}z` }),
      'Access-Reject',
      /\(YUBIKEY_BAD_MODHEX\)$/,
    );
    expect(
      await auth({ 'User-Name': 'ryk-bad', 'User-Password': ykgenerate(newTestYubikey(), 4, 0) }),
      'Access-Reject',
      /\(YUBIKEY_UNKNOWN\)$/,
    );
    expect(
      await auth({
        'User-Name': 'ryk-bad',
        'User-Password': ykgenerate({ ...newTestYubikey(), publicId: key.publicId }, 4, 0),
      }),
      'Access-Reject',
      /\(YUBIKEY_CRC\)$/,
    );
    expect(await auth({ 'User-Name': 'ryk-bad', 'User-Password': good }), 'Access-Accept');
  });
});
