// firstFactor "ldap" behind FreeRADIUS: the directory password and the code typed at a VPN prompt.
import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { hotpAt } from '../harness/codes.ts';
import { type DirectoryNode, startDirectoryNode } from '../harness/directory.ts';
import { type FreeRadiusHandle, startFreeRadius } from '../harness/freeradius.ts';
import { type AttrValue, radAuth } from '../harness/radclient.ts';
import { randomBase32 } from '../harness/tessera.ts';

const PW = 'Vpn pass 7';

describe('FreeRADIUS + radclient with a directory password (real slapd, real node)', () => {
  let dir: DirectoryNode;
  let fr: FreeRadiusHandle;
  const secret = randomBase32();

  beforeAll(async () => {
    dir = await startDirectoryNode({ people: [{ uid: 'rae', cn: 'Rae Ross', password: PW }] });
    const { admin, node } = dir;
    await admin.ok('POST', '/v1/admin/users/rae/tokens', { type: 'hotp', secret });
    const created = await admin.ok('POST', '/v1/admin/clients', {
      name: 'vpn',
      kind: 'radius',
      firstFactor: 'ldap',
      rejectDetail: 'reason',
    });
    fr = await startFreeRadius({ tesseraUrl: node.url, apiKey: created.apiKey });
  }, 180_000);
  afterAll(async () => {
    await fr?.stop();
    await dir?.stop();
  });

  const auth = (attrs: Record<string, AttrValue>) => radAuth({ port: fr.port, secret: fr.secret }, attrs);

  test('password + code → Access-Accept; a wrong password → Access-Reject without spending the code', async () => {
    const wrong = await auth({ 'User-Name': 'rae', 'User-Password': `not-the-password${hotpAt(secret, 0)}` });
    assert.equal(wrong.code, 'Access-Reject', wrong.transcript);
    const ok = await auth({ 'User-Name': 'rae', 'User-Password': `${PW}${hotpAt(secret, 0)}` });
    assert.equal(ok.code, 'Access-Accept', ok.transcript);
    const again = await auth({ 'User-Name': 'rae', 'User-Password': `${PW}${hotpAt(secret, 0)}` });
    assert.equal(again.code, 'Access-Reject', again.transcript);
  });

  test('the password alone → Access-Challenge, answered by the code', async () => {
    const ch = await auth({ 'User-Name': 'rae', 'User-Password': PW });
    assert.equal(ch.code, 'Access-Challenge', ch.transcript);
    const done = await auth({
      'User-Name': 'rae',
      'User-Password': hotpAt(secret, 1),
      State: { raw: ch.attrs.State ?? '' },
    });
    assert.equal(done.code, 'Access-Accept', done.transcript);
  });
});
