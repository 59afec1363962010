// Choosing a method through the validate API (the menu as data), and the client fields that
// steer it through the admin API and the CLI.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { awaitFreshStep, hotpAt, totpNow } from '../harness/codes.ts';
import { Api, randomBase32, runCli, startTessera, type TesseraHandle } from '../harness/tessera.ts';

describe('method choice over the validate and admin APIs', () => {
  let node: TesseraHandle;
  let admin: Api;
  let api: Api;
  let clientId: string;

  beforeAll(async () => {
    node = await startTessera();
    admin = new Api(node.url, node.adminKey);
    const created = await admin.ok('POST', '/v1/admin/clients', {
      name: 'portal-app',
      kind: 'api',
      firstFactor: 'upstream',
      challengeText: 'Code, please',
    });
    clientId = created.id;
    api = new Api(node.url, created.apiKey);
  });
  afterAll(async () => {
    await node?.stop();
  });

  test('the challenge carries the menu as data; the index picks; the new challenge takes that code', async () => {
    const { secret } = await admin.createUserWithTotp('va-menu', { token: { description: 'Work phone' } });
    const hotpSecret = randomBase32();
    await admin.ok('POST', '/v1/admin/users/va-menu/tokens', { type: 'hotp', secret: hotpSecret });
    const menu = await api.ok('POST', '/v1/validate', { user: 'va-menu', pass: '' });
    assert.equal(menu.result, 'challenge');
    assert.deepEqual(menu.methods, [
      { index: 1, type: 'totp', label: 'Authenticator app (Work phone)' },
      { index: 2, type: 'hotp', label: 'Code token' },
    ]);
    const picked = await api.ok('POST', '/v1/validate', {
      user: 'va-menu',
      pass: '2',
      transactionId: menu.transactionId,
    });
    assert.deepEqual(
      [picked.result, picked.message, picked.methods],
      ['challenge', 'Code, please', undefined],
    );
    await awaitFreshStep();
    const wrongToken = await api.ok('POST', '/v1/validate', {
      user: 'va-menu',
      pass: totpNow(secret),
      transactionId: picked.transactionId,
    });
    assert.deepEqual([wrongToken.result, wrongToken.reason], ['reject', 'OTP_INVALID']);
    const again = await api.ok('POST', '/v1/validate', { user: 'va-menu', pass: '' });
    const picked2 = await api.ok('POST', '/v1/validate', {
      user: 'va-menu',
      pass: '2',
      transactionId: again.transactionId,
    });
    const ok = await api.ok('POST', '/v1/validate', {
      user: 'va-menu',
      pass: hotpAt(hotpSecret, 0),
      transactionId: picked2.transactionId,
    });
    assert.equal(ok.result, 'accept');
  });

  test('client fields: set, shown, cleared; malformed values are a 400 that changes nothing', async () => {
    const path = `/v1/admin/clients/${clientId}`;
    const set = await admin.ok('PATCH', path, {
      challenge: 'disabled',
      allowedMethods: ['totp', 'email'],
      methodChoice: 'default',
    });
    assert.deepEqual(
      [set.challenge, set.allowedMethods, set.methodChoice],
      ['disabled', ['totp', 'email'], 'default'],
    );
    for (const bad of [
      { allowedMethods: [] },
      { allowedMethods: ['totp', 'totp'] },
      { allowedMethods: ['sms', 'carrier-pigeon'] },
      { allowedMethods: 'totp' },
      { challenge: 'off' },
      { methodChoice: 'first' },
    ]) {
      const r = await admin.call('PATCH', path, bad);
      assert.equal(r.status, 400, JSON.stringify(bad));
    }
    assert.deepEqual((await admin.ok('GET', path)).allowedMethods, ['totp', 'email']);
    const cleared = await admin.ok('PATCH', path, {
      allowedMethods: null,
      challenge: 'enabled',
      methodChoice: 'menu',
    });
    assert.equal('allowedMethods' in cleared, false);
    const created = await admin.ok('POST', '/v1/admin/clients', {
      name: 'hotp-only',
      kind: 'radius',
      allowedMethods: ['hotp'],
      challenge: 'disabled',
    });
    assert.deepEqual([created.allowedMethods, created.challenge], [['hotp'], 'disabled']);
  });
});

describe('tessera client: challenge and methods from the command line', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-cli-choice-'));
  const tessera = (...args: string[]) => runCli(args, { TESSERA_DATA_DIR: dataDir });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  test('add and set write the fields; a bad value is a usage error that changes nothing', async () => {
    const add = await tessera('client', 'add', '--name', 'vpn', '--kind', 'radius', '--methods', 'totp,hotp');
    assert.equal(add.code, 0, add.err);
    const id = /client (\S+) /.exec(add.out)![1]!;
    const set = await tessera('client', 'set', id, '--challenge', 'disabled', '--method-choice', 'default');
    assert.equal(set.code, 0, set.err);
    assert.deepEqual(
      [JSON.parse(set.out).challenge, JSON.parse(set.out).methodChoice, JSON.parse(set.out).allowedMethods],
      ['disabled', 'default', ['totp', 'hotp']],
    );
    const bad = await tessera('client', 'set', id, '--methods', 'totp,fax');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /"fax" is not a method/);
    const all = await tessera('client', 'set', id, '--methods', 'all');
    assert.equal(all.code, 0, all.err);
    assert.equal(JSON.parse(all.out).allowedMethods, undefined);
  });
});
