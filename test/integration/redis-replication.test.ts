import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { awaitFreshStep, hotpAt, totpNow } from '../harness/codes.ts';
import { type RedisProcess, startRedis } from '../harness/redis.ts';
import { Api, randomBase32, startTessera, type TesseraHandle } from '../harness/tessera.ts';

// Two real Tessera nodes over a real Redis master and its replica: the pair forms with no other
// setting than each node's TESSERA_REDIS_URL.
describe('master/slave over Redis replication (real Tessera nodes)', () => {
  let master: RedisProcess;
  let replica: RedisProcess;
  let replica2: RedisProcess;
  let nodeC: TesseraHandle;
  let clientC: Api;
  let nodeA: TesseraHandle;
  let nodeB: TesseraHandle;
  let adminA: Api;
  let adminB: Api;
  let clientA: Api;
  let clientB: Api;
  const masterKey = randomBytes(32).toString('base64');

  beforeAll(async () => {
    master = await startRedis();
    replica = await startRedis({ replicaOf: master.port });
    nodeA = await startTessera({ env: { TESSERA_REDIS_URL: master.url, TESSERA_MASTER_KEY: masterKey } });
    nodeB = await startTessera({
      env: { TESSERA_REDIS_URL: replica.url, TESSERA_MASTER_KEY: masterKey },
      expectAdminKey: false,
    });
    replica2 = await startRedis({ replicaOf: master.port });
    nodeC = await startTessera({
      env: { TESSERA_REDIS_URL: replica2.url, TESSERA_MASTER_KEY: masterKey },
      expectAdminKey: false,
    });
    adminA = new Api(nodeA.url, nodeA.adminKey);
    adminB = new Api(nodeB.url, nodeA.adminKey);
    const key = await adminA.createClient('api');
    clientA = new Api(nodeA.url, key);
    clientB = new Api(nodeB.url, key);
    clientC = new Api(nodeC.url, key);
  });

  afterAll(async () => {
    await nodeC?.stop();
    await nodeB?.stop();
    await nodeA?.stop();
    await replica2?.stop();
    await replica?.stop();
    await master?.stop();
  });

  test('each node learns its role from its Redis', async () => {
    const a = await new Api(nodeA.url, '').call('GET', '/readyz');
    const b = await new Api(nodeB.url, '').call('GET', '/readyz');
    assert.equal(a.body.role, 'master');
    assert.equal(b.body.role, 'slave');
    assert.equal((await new Api(nodeC.url, '').call('GET', '/readyz')).body.role, 'slave');
  });

  test('a user and token created on the master validate on the slave, and the code is then used on both', async () => {
    const { secret } = await adminA.createUserWithTotp('r-alice');
    await awaitFreshStep();
    const code = totpNow(secret);
    const onSlave = await clientB.ok('POST', '/v1/validate', { user: 'r-alice', pass: code });
    assert.equal(onSlave.result, 'accept', JSON.stringify(onSlave));
    const againOnMaster = await clientA.ok('POST', '/v1/validate', { user: 'r-alice', pass: code });
    assert.equal(againOnMaster.result, 'reject');
    assert.equal(againOnMaster.reason, 'OTP_REUSED');
    const againOnSlave = await clientB.ok('POST', '/v1/validate', { user: 'r-alice', pass: code });
    assert.equal(againOnSlave.reason, 'OTP_REUSED');
  });

  test('the same code sent 60 times to three nodes at once is accepted exactly once', async () => {
    const { secret } = await adminA.createUserWithTotp('r-race');
    await awaitFreshStep();
    const code = totpNow(secret);
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        [clientA, clientB, clientC][i % 3]!.ok('POST', '/v1/validate', { user: 'r-race', pass: code }),
      ),
    );
    assert.equal(answers.filter((a) => a.result === 'accept').length, 1);
    // The others are refused as used, or unevaluated once the throttle window is full.
    assert.ok(answers.every((a) => ['OK', 'OTP_REUSED', 'USER_THROTTLED'].includes(a.reason)));
  });

  test('HOTP counters advance across nodes', async () => {
    const secret = randomBase32();
    await adminA.ok('POST', '/v1/admin/users', { username: 'r-hotp' });
    await adminA.ok('POST', '/v1/admin/users/r-hotp/tokens', { type: 'hotp', secret, counter: 0 });
    assert.equal(
      (await clientB.ok('POST', '/v1/validate', { user: 'r-hotp', pass: hotpAt(secret, 0) })).result,
      'accept',
    );
    assert.equal(
      (await clientA.ok('POST', '/v1/validate', { user: 'r-hotp', pass: hotpAt(secret, 0) })).reason,
      'OTP_REUSED',
    );
    assert.equal(
      (await clientA.ok('POST', '/v1/validate', { user: 'r-hotp', pass: hotpAt(secret, 1) })).result,
      'accept',
    );
    assert.equal(
      (await clientB.ok('POST', '/v1/validate', { user: 'r-hotp', pass: hotpAt(secret, 1) })).reason,
      'OTP_REUSED',
    );
    // a second slave works the same way
    const onC = await clientC.ok('POST', '/v1/validate', { user: 'r-hotp', pass: hotpAt(secret, 2) });
    assert.equal(onC.result, 'accept');
    const againOnB = await clientB.ok('POST', '/v1/validate', { user: 'r-hotp', pass: hotpAt(secret, 2) });
    assert.equal(againOnB.reason, 'OTP_REUSED');
  });

  test('the slave refuses configuration writes with 409 READ_ONLY_REPLICA naming the master', async () => {
    const r = await adminB.call('POST', '/v1/admin/users', { username: 'r-on-slave' });
    assert.equal(r.status, 409);
    assert.equal(r.body.error.code, 'READ_ONLY_REPLICA');
    assert.match(r.body.error.message, new RegExp(`127\\.0\\.0\\.1:${master.port}`));
    assert.equal((await adminA.call('GET', '/v1/admin/users/r-on-slave')).status, 404);
    const c = await adminB.call('POST', '/v1/admin/clients', { name: 'x', kind: 'api' });
    assert.equal(c.status, 409);
    assert.equal(c.body.error.code, 'READ_ONLY_REPLICA');
  });

  test('a challenge opened on one node is answered on the other', async () => {
    const { secret } = await adminA.createUserWithTotp('r-chal', { pin: '4711' });
    await awaitFreshStep();
    const first = await clientA.ok('POST', '/v1/validate', { user: 'r-chal', pass: '4711' });
    assert.equal(first.result, 'challenge');
    const second = await clientB.ok('POST', '/v1/validate', {
      user: 'r-chal',
      transactionId: first.transactionId,
      pass: totpNow(secret),
    });
    assert.equal(second.result, 'accept', JSON.stringify(second));
  });
});
