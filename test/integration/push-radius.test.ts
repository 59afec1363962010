// Push through FreeRADIUS 3.2 + rlm_rest (the shipped config) and radclient, the phone simulated
// by a Node client that signs its requests: poll, hold and code-to-phone modes, and a deny.
import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { DeviceClient, fetchTransport } from '../harness/device-client.ts';
import { type FreeRadiusHandle, startFreeRadius } from '../harness/freeradius.ts';
import { type AttrValue, type RadiusReply, radAuth } from '../harness/radclient.ts';
import { type SmtpHandle, smtpEnv, startSmtp } from '../harness/smtp.ts';
import { Api, type Json, startTessera, type TesseraHandle } from '../harness/tessera.ts';

describe('push over RADIUS (FreeRADIUS + radclient, a simulated phone)', () => {
  let node: TesseraHandle;
  let admin: Api;
  let clientId: string;
  let fr: FreeRadiusHandle;
  let smtp: SmtpHandle;
  const phones: Record<string, DeviceClient> = {};

  beforeAll(async () => {
    smtp = await startSmtp();
    node = await startTessera({ env: smtpEnv(smtp, { TESSERA_MAIL_ADMINS: 'ops@example.test' }) });
    admin = new Api(node.url, node.adminKey);
    const created = await admin.ok('POST', '/v1/admin/clients', {
      name: 'vpn',
      kind: 'radius',
      rejectDetail: 'reason',
    });
    clientId = created.id;
    for (const username of ['rp-poll', 'rp-hold', 'rp-code', 'rp-deny']) {
      await admin.ok('POST', '/v1/admin/users', { username, pin: '1357' });
      const enrol = await admin.ok('POST', `/v1/admin/users/${username}/tokens`, { type: 'push' });
      const phone = await DeviceClient.create(fetchTransport(node.url));
      assert.equal((await phone.pair(enrol.pairing.pairingToken)).status, 201);
      phones[username] = phone;
    }
    fr = await startFreeRadius({ tesseraUrl: node.url, apiKey: created.apiKey });
  });

  afterAll(async () => {
    await fr?.stop();
    await node?.stop();
    await smtp?.close();
  });

  const auth = (attrs: Record<string, AttrValue>) => radAuth({ port: fr.port, secret: fr.secret }, attrs);
  const mode = (pushMode: string, extra: Record<string, unknown> = {}) =>
    admin.ok('PATCH', `/v1/admin/clients/${clientId}`, { pushMode, ...extra });
  const pushFor = async (user: string): Promise<Json> => {
    for (let i = 0; i < 100; i++) {
      const list = await phones[user]!.pushes();
      if (list.body.items.length > 0) return list.body.items.at(-1);
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('no push');
  };
  const expect = (r: RadiusReply, code: RadiusReply['code'], message?: RegExp) => {
    assert.equal(r.code, code, r.transcript);
    if (message) assert.match(r.attrs['Reply-Message'] ?? '', message, r.transcript);
  };

  test('poll: Access-Challenge "approve on your phone"; the next request is accepted once approved, once', async () => {
    await mode('poll');
    const ch = await auth({ 'User-Name': 'rp-poll', 'User-Password': '1357' });
    expect(ch, 'Access-Challenge', /^Approve the sign-in on your phone: pick \d\d\.$/);
    const state = { raw: ch.attrs.State ?? '' };
    const number = Number(/pick (\d+)/.exec(ch.attrs['Reply-Message'] ?? '')?.[1]);
    const waiting = await auth({ 'User-Name': 'rp-poll', 'User-Password': 'x', State: state });
    expect(waiting, 'Access-Challenge', /Approve/);
    assert.equal(waiting.attrs.State, ch.attrs.State);
    const push = await pushFor('rp-poll');
    assert.deepEqual((await phones['rp-poll']!.answer(push.id, { decision: 'approve', number })).body, {
      state: 'approved',
    });
    // the NAS asks again with an empty password
    expect(await auth({ 'User-Name': 'rp-poll', 'User-Password': '', State: state }), 'Access-Accept');
    expect(await auth({ 'User-Name': 'rp-poll', 'User-Password': '', State: state }), 'Access-Reject');
  });

  test('no push without the PIN: a wrong PIN is rejected and the phone sees nothing', async () => {
    expect(await auth({ 'User-Name': 'rp-poll', 'User-Password': '9999' }), 'Access-Reject');
    assert.deepEqual((await phones['rp-poll']!.pushes()).body.items, []);
  });

  test('hold: the first request waits and is accepted when the phone approves (no number to match)', async () => {
    await mode('hold', { pushHoldSeconds: 2 });
    const pending = auth({ 'User-Name': 'rp-hold', 'User-Password': '1357' });
    const push = await pushFor('rp-hold');
    assert.equal(push.numberMatching, false);
    const approvedAt = Date.now();
    assert.equal((await phones['rp-hold']!.answer(push.id, { decision: 'approve' })).status, 200);
    const r = await pending;
    expect(r, 'Access-Accept');
    const ms = Date.now() - approvedAt;
    console.log(`# hold mode: approve → Access-Accept (radclient exit included) in ${ms} ms`);
    assert.ok(ms < 1500, `${ms} ms`);
  });

  test('hold, unanswered: after the hold the NAS gets the challenge and can poll', async () => {
    await mode('hold', { pushHoldSeconds: 1 });
    const started = Date.now();
    const ch = await auth({ 'User-Name': 'rp-hold', 'User-Password': '1357' });
    expect(ch, 'Access-Challenge', /Approve/);
    assert.ok(Date.now() - started >= 900, 'it was held');
  });

  test('code to phone: the phone shows a code, typed at the prompt it is accepted once', async () => {
    await mode('code');
    const ch = await auth({ 'User-Name': 'rp-code', 'User-Password': '1357' });
    expect(ch, 'Access-Challenge', /^Enter the code shown on your phone\.$/);
    const push = await pushFor('rp-code');
    assert.match(push.code, /^[0-9]{6}$/);
    const state = { raw: ch.attrs.State ?? '' };
    expect(await auth({ 'User-Name': 'rp-code', 'User-Password': push.code, State: state }), 'Access-Accept');
    expect(await auth({ 'User-Name': 'rp-code', 'User-Password': push.code, State: state }), 'Access-Reject');
  });

  test('a deny on the phone rejects the login with its reason', async () => {
    await mode('poll');
    const ch = await auth({ 'User-Name': 'rp-deny', 'User-Password': '1357' });
    expect(ch, 'Access-Challenge', /Approve/);
    const push = await pushFor('rp-deny');
    await phones['rp-deny']!.answer(push.id, { decision: 'deny' });
    const r = await auth({
      'User-Name': 'rp-deny',
      'User-Password': '',
      State: { raw: ch.attrs.State ?? '' },
    });
    expect(r, 'Access-Reject', /denied on the phone/);
    // a security event: the admins get a mail naming the user and where the login came from
    const mail = await smtp.waitForMail('ops@example.test', /push login denied for rp-deny/);
    assert.match(mail.text, /rp-deny to vpn \(client vpn, from 127\.0\.0\.1\)/);
  });
});
