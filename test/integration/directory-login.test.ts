import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { hotpAt } from '../harness/codes.ts';
import { type DirectoryNode, startDirectoryNode } from '../harness/directory.ts';
import type { SlapdProcess } from '../harness/slapd.ts';
import { Api, type Json, randomBase32, type TesseraHandle } from '../harness/tessera.ts';

const PW = 'Correct horse 1';
const DIGIT_PW = 'pw-123456';

describe('firstFactor "ldap": directory password + code over /v1/validate (real node, real slapd)', () => {
  let dir: DirectoryNode;
  let slapd: SlapdProcess;
  let node: TesseraHandle;
  let admin: Api;
  let client: Api;
  let pinClient: Api;
  const secrets: Record<string, string> = {};
  let counter: Record<string, number> = {};
  const next = (u: string) => hotpAt(secrets[u]!, counter[u]!);
  const spent = (u: string) => {
    counter[u] = counter[u]! + 1;
  };
  const validate = async (api: Api, body: Record<string, unknown>): Promise<Json> => {
    const r = await api.call('POST', '/v1/validate', body);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  };

  beforeAll(async () => {
    dir = await startDirectoryNode({
      people: [
        { uid: 'hal', cn: 'Hal Hill', password: PW },
        { uid: 'ivy', cn: 'Ivy Ives', password: DIGIT_PW },
      ],
      source: { timeoutMs: 2000, connectTimeoutMs: 1000 },
    });
    ({ slapd, node, admin } = dir);
    await admin.ok('POST', '/v1/admin/users', { username: 'local-lee' });
    counter = { hal: 0, ivy: 0, 'local-lee': 0 };
    for (const u of Object.keys(counter)) {
      secrets[u] = randomBase32();
      await admin.ok('POST', `/v1/admin/users/${u}/tokens`, { type: 'hotp', secret: secrets[u] });
    }
    // the refusals below are many on purpose: throttle and lockout come back for the outage test
    await admin.ok('PATCH', '/v1/admin/settings', {
      throttle: { failuresPerWindow: 0 },
      lockout: { threshold: 1000 },
    });
    client = new Api(node.url, await admin.createClient('radius', { firstFactor: 'ldap' }));
    pinClient = new Api(node.url, await admin.createClient('radius'));
  }, 120_000);
  afterAll(async () => {
    await dir?.stop();
  });

  test('password + code in one pass is accepted, and the code only once', async () => {
    const pass = `${PW}${next('hal')}`;
    assert.deepEqual(await validate(client, { user: 'hal', pass }), { result: 'accept', reason: 'OK' });
    spent('hal');
    assert.equal((await validate(client, { user: 'hal', pass })).reason, 'OTP_REUSED');
  });

  test('a wrong password is refused without spending the code', async () => {
    const code = next('hal');
    const wrong = await validate(client, { user: 'hal', pass: `wrong-password${code}` });
    assert.deepEqual([wrong.result, wrong.reason], ['reject', 'PASSWORD_INVALID']);
    // the PIN of the old first factor, the code alone, or an empty pass prove nothing either
    for (const pass of [code, '', PW.slice(0, -1) + code]) {
      const r = await validate(client, { user: 'hal', pass });
      assert.equal(r.result, 'reject', JSON.stringify(pass));
      assert.equal(r.reason, 'PASSWORD_INVALID');
    }
    assert.equal((await validate(client, { user: 'hal', pass: `${PW}${code}` })).result, 'accept');
    spent('hal');
  });

  test('the password alone gives a challenge that the code answers; the code alone does not start one', async () => {
    const first = await validate(client, { user: 'hal', pass: PW });
    assert.equal(first.result, 'challenge');
    const done = await validate(client, {
      user: 'hal',
      transactionId: first.transactionId,
      pass: next('hal'),
    });
    assert.deepEqual(done, { result: 'accept', reason: 'OK' });
    spent('hal');
    // a challenge made for a PIN client cannot be answered through the ldap client
    const other = await validate(pinClient, { user: 'hal', pass: '' });
    assert.equal(other.result, 'challenge');
    const cross = await validate(client, {
      user: 'hal',
      transactionId: other.transactionId,
      pass: next('hal'),
    });
    assert.equal(cross.result, 'reject');
  });

  test('a password that ends in digits works alone and with a code', async () => {
    const alone = await validate(client, { user: 'ivy', pass: DIGIT_PW });
    assert.equal(alone.result, 'challenge');
    assert.equal(
      (await validate(client, { user: 'ivy', pass: `${DIGIT_PW}${next('ivy')}` })).result,
      'accept',
    );
    spent('ivy');
  });

  test('a user that is not from the directory has no directory password', async () => {
    const r = await validate(client, { user: 'local-lee', pass: `anything${next('local-lee')}` });
    assert.deepEqual([r.result, r.reason], ['reject', 'PASSWORD_INVALID']);
  });

  test('a password change in the directory takes effect at once (nothing cached)', async () => {
    slapd.ldif(
      `dn: uid=hal,ou=people,${slapd.suffix}\nchangetype: modify\nreplace: userPassword\nuserPassword: New pw 2\n`,
      'modify',
    );
    assert.equal(
      (await validate(client, { user: 'hal', pass: `${PW}${next('hal')}` })).reason,
      'PASSWORD_INVALID',
    );
    assert.equal((await validate(client, { user: 'hal', pass: `New pw 2${next('hal')}` })).result, 'accept');
    spent('hal');
  });

  test('parallel wrong passwords: only the throttle window reaches the directory, the rest are refused unevaluated', async () => {
    await admin.ok('PATCH', '/v1/admin/settings', { throttle: { failuresPerWindow: 5 } });
    try {
      const answers = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          validate(client, { user: 'ivy', pass: `guess-${i}${next('ivy')}` }),
        ),
      );
      const reasons = answers.map((a) => a.reason as string);
      assert.equal(reasons.filter((r) => r === 'PASSWORD_INVALID').length, 5, reasons.join(','));
      assert.equal(reasons.filter((r) => r === 'USER_THROTTLED').length, 55);
      // the right password and code are refused too while the window is full
      const right = await validate(client, { user: 'ivy', pass: `${DIGIT_PW}${next('ivy')}` });
      assert.equal(right.reason, 'USER_THROTTLED');
    } finally {
      await admin.ok('PATCH', '/v1/admin/settings', { throttle: { failuresPerWindow: 0 } });
      await admin.ok('POST', '/v1/admin/users/ivy/unlock');
    }
  });

  test('a directory that is down is DIRECTORY_UNAVAILABLE, never a wrong password, and counts no failure', async () => {
    await admin.ok('PATCH', '/v1/admin/settings', {
      throttle: { failuresPerWindow: 5 },
      lockout: { threshold: 10 },
    });
    const before = await admin.ok('GET', '/v1/admin/users/ivy');
    await slapd.stop();
    for (let i = 0; i < 12; i++) {
      const r = await validate(client, { user: 'ivy', pass: `${DIGIT_PW}${next('ivy')}` });
      assert.deepEqual([r.result, r.reason], ['reject', 'DIRECTORY_UNAVAILABLE']);
    }
    const after = await admin.ok('GET', '/v1/admin/users/ivy');
    assert.equal(after.enabled, before.enabled);
    // twelve outages would have locked or throttled a user whose failures counted
    const r = await validate(pinClient, { user: 'ivy', pass: next('ivy') });
    assert.equal(r.result, 'accept', JSON.stringify(r));
    spent('ivy');
    assert.ok(!node.output().includes(PW) && !node.output().includes(DIGIT_PW), 'a password in the log');
    const audit = JSON.stringify(await admin.ok('GET', '/v1/admin/audit?limit=1000'));
    assert.ok(!audit.includes(PW) && !audit.includes(DIGIT_PW), 'a password in the audit trail');
  });
});
