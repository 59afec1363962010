// Choosing a method over RADIUS: the menu is the Access-Challenge Reply-Message, a digit sent back
// with the State picks, a new State binds the second round to the chosen token. Real FreeRADIUS
// (rlm_rest) in front of a real Tessera, driven by radclient.
import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { awaitFreshStep, hotpAt, totpNow } from '../harness/codes.ts';
import { type FreeRadiusHandle, startFreeRadius } from '../harness/freeradius.ts';
import { type AttrValue, type RadiusReply, radAuth } from '../harness/radclient.ts';
import { Api, randomBase32, startTessera, type TesseraHandle } from '../harness/tessera.ts';

describe('a method menu over FreeRADIUS + radclient', () => {
  let node: TesseraHandle;
  let admin: Api;
  let clientId: string;
  let fr: FreeRadiusHandle;

  beforeAll(async () => {
    node = await startTessera();
    admin = new Api(node.url, node.adminKey);
    const created = await admin.ok('POST', '/v1/admin/clients', {
      name: 'radius-choice',
      kind: 'radius',
      rejectDetail: 'reason',
      challengeText: 'Enter the code',
    });
    clientId = created.id;
    fr = await startFreeRadius({ tesseraUrl: node.url, apiKey: created.apiKey });
  });
  afterAll(async () => {
    await fr?.stop();
    await node?.stop();
  });

  const auth = (attrs: Record<string, AttrValue>) => radAuth({ port: fr.port, secret: fr.secret }, attrs);
  const expect = (r: RadiusReply, code: RadiusReply['code'], message?: string | RegExp) => {
    assert.equal(r.code, code, r.transcript);
    if (typeof message === 'string') assert.equal(r.attrs['Reply-Message'], message, r.transcript);
    else if (message) assert.match(r.attrs['Reply-Message'] ?? '', message, r.transcript);
  };
  const answer = (user: string, pass: string, state: string) =>
    auth({ 'User-Name': user, 'User-Password': pass, State: { raw: state } });

  /** A PIN user with an authenticator app (its name holds template syntax) and a code token. */
  async function twoTokens(username: string) {
    const app = await admin.createUserWithTotp(username, {
      pin: '4711',
      token: { description: '%{exec:/bin/id}' },
    });
    const hotpSecret = randomBase32();
    await admin.ok('POST', `/v1/admin/users/${username}/tokens`, { type: 'hotp', secret: hotpSecret });
    return { totp: app.secret, hotp: hotpSecret };
  }
  const MENU =
    'Choose a method: 1 Authenticator app (%{exec:/bin/id}), 2 Code token. Answer with its number, or enter a code.';

  test('PIN alone: the menu comes as the Reply-Message; a digit picks, a new State takes that code', async () => {
    const s = await twoTokens('rc-pick');
    const menu = await auth({ 'User-Name': 'rc-pick', 'User-Password': '4711' });
    expect(menu, 'Access-Challenge', MENU);
    const picked = await answer('rc-pick', '2', menu.attrs.State!);
    expect(picked, 'Access-Challenge', 'Enter the code');
    assert.notEqual(picked.attrs.State, menu.attrs.State);
    expect(await answer('rc-pick', hotpAt(s.hotp, 0), picked.attrs.State!), 'Access-Accept');
    // the menu was picked from once
    expect(await answer('rc-pick', '1', menu.attrs.State!), 'Access-Reject', /\(CHALLENGE_UNKNOWN\)$/);
  });

  test('a code answers the menu at once, as before there was a menu', async () => {
    const s = await twoTokens('rc-code');
    await awaitFreshStep();
    const menu = await auth({ 'User-Name': 'rc-code', 'User-Password': '4711' });
    expect(await answer('rc-code', totpNow(s.totp), menu.attrs.State!), 'Access-Accept');
  });

  test("attacker: a digit not on the menu is rejected with its reason; a pick takes no other token's code", async () => {
    const s = await twoTokens('rc-bad');
    await awaitFreshStep();
    let menu = await auth({ 'User-Name': 'rc-bad', 'User-Password': '4711' });
    expect(await answer('rc-bad', '3', menu.attrs.State!), 'Access-Reject', /\(METHOD_CHOICE_INVALID\)$/);
    menu = await auth({ 'User-Name': 'rc-bad', 'User-Password': '4711' });
    const picked = await answer('rc-bad', '2', menu.attrs.State!);
    expect(picked, 'Access-Challenge');
    expect(await answer('rc-bad', totpNow(s.totp), picked.attrs.State!), 'Access-Reject', /\(OTP_INVALID\)$/);
    // another user's menu
    await twoTokens('rc-other');
    menu = await auth({ 'User-Name': 'rc-bad', 'User-Password': '4711' });
    expect(await answer('rc-other', '1', menu.attrs.State!), 'Access-Reject', /\(CHALLENGE_USER_MISMATCH\)$/);
  });

  test('per client: allowed methods narrow the menu away; challenges off leave PIN+code only', async () => {
    const s = await twoTokens('rc-client');
    await awaitFreshStep();
    await admin.ok('PATCH', `/v1/admin/clients/${clientId}`, { allowedMethods: ['hotp'] });
    try {
      expect(
        await auth({ 'User-Name': 'rc-client', 'User-Password': `4711${totpNow(s.totp)}` }),
        'Access-Reject',
        /\(OTP_INVALID\)$/,
      );
      const ch = await auth({ 'User-Name': 'rc-client', 'User-Password': '4711' });
      expect(ch, 'Access-Challenge', 'Enter the code');
      expect(await answer('rc-client', hotpAt(s.hotp, 0), ch.attrs.State!), 'Access-Accept');
      await admin.ok('PATCH', `/v1/admin/clients/${clientId}`, {
        allowedMethods: null,
        challenge: 'disabled',
      });
      expect(
        await auth({ 'User-Name': 'rc-client', 'User-Password': '4711' }),
        'Access-Reject',
        /\(CHALLENGE_DISABLED\)$/,
      );
      expect(
        await auth({ 'User-Name': 'rc-client', 'User-Password': `4711${totpNow(s.totp)}` }),
        'Access-Accept',
      );
    } finally {
      await admin.ok('PATCH', `/v1/admin/clients/${clientId}`, {
        allowedMethods: null,
        challenge: 'enabled',
      });
    }
  });
});
