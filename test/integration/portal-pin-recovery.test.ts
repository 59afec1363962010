// PIN ‖ recovery code in one pass, as with PIN ‖ OTP: over /v1/validate and through FreeRADIUS.
import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { awaitFreshStep, totpNow } from '../harness/codes.ts';
import { type FreeRadiusHandle, startFreeRadius } from '../harness/freeradius.ts';
import { radAuth } from '../harness/radclient.ts';
import { Api, startTessera, type TesseraHandle } from '../harness/tessera.ts';
import { recoveryCodesFromPortal } from './portal-visitor.ts';

describe('PIN followed by a recovery code in one pass (real node, FreeRADIUS + radclient)', () => {
  let node: TesseraHandle;
  let admin: Api;
  let client: Api;
  let fr: FreeRadiusHandle;

  beforeAll(async () => {
    node = await startTessera();
    admin = new Api(node.url, node.adminKey);
    client = new Api(node.url, await admin.createClient('api'));
    const radius = await admin.ok('POST', '/v1/admin/clients', { name: 'fr', kind: 'radius' });
    fr = await startFreeRadius({ tesseraUrl: node.url, apiKey: radius.apiKey });
  }, 180_000);
  afterAll(async () => {
    await fr?.stop();
    await node?.stop();
  });

  async function userWithCodes(username: string, pin: string): Promise<string[]> {
    const { secret } = await admin.createUserWithTotp(username, { pin });
    await awaitFreshStep();
    return recoveryCodesFromPortal(node.url, username, pin, totpNow(secret));
  }
  test('/v1/validate: accepted once; a wrong PIN with a valid code is refused and spends nothing', async () => {
    const codes = await userWithCodes('pr-api', '4711');
    const [a, b] = codes;
    const wrong = await client.ok('POST', '/v1/validate', { user: 'pr-api', pass: `4712${a}` });
    assert.equal(wrong.result, 'reject');
    assert.equal(wrong.reason, 'PIN_INVALID');
    const ok = await client.ok('POST', '/v1/validate', { user: 'pr-api', pass: `4711${a}` });
    assert.equal(ok.result, 'accept', JSON.stringify(ok));
    assert.equal(ok.reason, 'OK');
    const again = await client.ok('POST', '/v1/validate', { user: 'pr-api', pass: `4711${a}` });
    assert.equal(again.result, 'reject', 'a recovery code works once');
    assert.equal(again.reason, 'OTP_INVALID');
    const bare = await client.ok('POST', '/v1/validate', {
      user: 'pr-api',
      pass: `4711${b!.replace(/-/g, '')}`,
    });
    assert.equal(bare.result, 'accept', 'typed without the dashes');
    const alone = await client.ok('POST', '/v1/validate', { user: 'pr-api', pass: codes[2] });
    assert.equal(alone.result, 'reject', 'the code without the PIN is no login');
  });

  test('RADIUS: PIN ‖ recovery code is Access-Accept once; a wrong PIN is Access-Reject and the code still works', async () => {
    const [a, b] = await userWithCodes('pr-rad', '2468');
    const auth = (pass: string) =>
      radAuth({ port: fr.port, secret: fr.secret }, { 'User-Name': 'pr-rad', 'User-Password': pass });
    const wrong = await auth(`2469${a}`);
    assert.equal(wrong.code, 'Access-Reject', wrong.transcript);
    const ok = await auth(`2468${a}`);
    assert.equal(ok.code, 'Access-Accept', ok.transcript);
    const again = await auth(`2468${a}`);
    assert.equal(again.code, 'Access-Reject', again.transcript);
    const other = await auth(`2468${b}`);
    assert.equal(other.code, 'Access-Accept', other.transcript);
  });
});
