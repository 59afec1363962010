import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { hotpAt } from '../harness/codes.ts';
import { type DirectoryNode, startDirectoryNode } from '../harness/directory.ts';
import type { Api, Json, TesseraHandle } from '../harness/tessera.ts';
import { randomBase32 } from '../harness/tessera.ts';
import { csrfOf, Visitor } from './portal-visitor.ts';

const PW = 'Correct horse 1';

describe('portal sign-in of a directory user: directory password + code (real node, real slapd)', () => {
  let dir: DirectoryNode;
  let node: TesseraHandle;
  let admin: Api;
  const secret = randomBase32();

  beforeAll(async () => {
    dir = await startDirectoryNode({ people: [{ uid: 'dora', cn: 'Dora Dee', password: PW }] });
    ({ node, admin } = dir);
    await admin.ok('POST', '/v1/admin/users/dora/tokens', { type: 'hotp', secret });
  }, 120_000);
  afterAll(async () => {
    await dir?.stop();
  });

  async function signIn(v: Visitor, password: string, code: string) {
    const page = await v.get('/portal/');
    return v.post('/portal/signin', { _csrf: csrfOf(page.html), username: 'dora', password, code });
  }

  test('the code alone, or a wrong password, does not sign in, and does not spend the code', async () => {
    const v = new Visitor(node.url);
    assert.equal((await signIn(v, '', hotpAt(secret, 0))).status, 401);
    assert.equal((await signIn(v, 'wrong password', hotpAt(secret, 0))).status, 401);
    const ok = await signIn(v, PW, hotpAt(secret, 0));
    assert.equal(ok.status, 303, ok.html);
    assert.match((await v.get('/portal/')).html, /My sign-in devices/);
    const audit = (await admin.ok('GET', '/v1/admin/audit?limit=50')).items as Json[];
    const reasons = audit
      .filter((e) => e.username === 'dora' && e.actor === 'client:portal')
      .map((e) => e.reason);
    assert.ok(reasons.includes('PASSWORD_INVALID'), reasons.join());
  });

  test('the same code does not sign in twice', async () => {
    const v = new Visitor(node.url);
    assert.equal((await signIn(v, PW, hotpAt(secret, 0))).status, 401);
    assert.equal((await signIn(v, PW, hotpAt(secret, 1))).status, 303);
  });
});
