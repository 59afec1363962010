// One canonical username on every face, against real nodes: the admin API, the JSON validate face,
// FreeRADIUS + radclient, the CLI, and the migration of names stored before canonical names.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { KeyRing } from '../../src/crypto/index.ts';
import { sampleToken, sampleUser } from '../../src/store/fixtures.ts';
import { openEmbeddedStore } from '../../src/store/index.ts';
import { openRedisStore } from '../../src/store/redis/index.ts';
import { awaitFreshStep, hotpAt, totpNow } from '../harness/codes.ts';
import { type FreeRadiusHandle, startFreeRadius } from '../harness/freeradius.ts';
import { radAuth } from '../harness/radclient.ts';
import { type RedisProcess, startRedis } from '../harness/redis.ts';
import { Api, randomBase32, runCli, startTessera, type TesseraHandle } from '../harness/tessera.ts';

describe('canonical usernames on every face (real node, FreeRADIUS, CLI)', () => {
  let node: TesseraHandle;
  let admin: Api;
  let client: Api;
  let passthrough: Api;
  let fr: FreeRadiusHandle;
  let secret = '';
  const env = () => ({ TESSERA_DATA_DIR: node.dataDir, TESSERA_MASTER_KEY: masterKey });
  const masterKey = randomBytes(32).toString('base64');

  beforeAll(async () => {
    node = await startTessera({ env: { TESSERA_MASTER_KEY: masterKey } });
    admin = new Api(node.url, node.adminKey);
    client = new Api(node.url, await admin.createClient('api'));
    passthrough = new Api(node.url, await admin.createClient('api', { unknownUserPolicy: 'passthrough' }));
    const radius = await admin.ok('POST', '/v1/admin/clients', {
      name: 'fr',
      kind: 'radius',
      rejectDetail: 'reason',
      unknownUserPolicy: 'passthrough',
    });
    await admin.ok('PATCH', '/v1/admin/settings', { throttle: { failuresPerWindow: 0 } });
    fr = await startFreeRadius({ tesseraUrl: node.url, apiKey: radius.apiKey });
    ({ secret } = await admin.createUserWithTotp('Dave'));
  });
  afterAll(async () => {
    await fr?.stop();
    await node?.stop();
  });

  test('the admin API stores, finds and refuses by the canonical name', async () => {
    const dave = await admin.ok('GET', '/v1/admin/users/DAVE');
    assert.equal(dave.username, 'dave');
    assert.equal(dave.tokens.length, 1);
    for (const again of ['dave', 'ｄａｖｅ', 'dave\u200b', '\u202eDave']) {
      const r = await admin.call('POST', '/v1/admin/users', { username: again });
      assert.equal(r.status, 409, JSON.stringify(again));
      assert.equal(r.body.error.code, 'CONFLICT');
    }
    const wide = await admin.call('GET', `/v1/admin/users/${encodeURIComponent('ｄａｖｅ')}`);
    assert.equal(wide.body.username, 'dave');
    const zw = await admin.call('GET', `/v1/admin/users/${encodeURIComponent('Dave\u200b')}/tokens`);
    assert.equal(zw.body.items.length, 1);
    const listed = await admin.ok('GET', '/v1/admin/users?prefix=DA');
    assert.deepEqual(
      listed.items.map((u: { username: string }) => u.username),
      ['dave'],
    );
    const reserved = await admin.call('POST', '/v1/admin/users', { username: 'a／b' });
    assert.equal(reserved.status, 400);
    assert.equal(reserved.body.error.code, 'INVALID_USERNAME');
    assert.equal((await admin.call('POST', '/v1/admin/users', { username: '\u200b\u200c' })).status, 400);
  });

  test('a lone surrogate in any admin field is a 400 INVALID_UNICODE and creates nothing', async () => {
    const bodies = [
      '{"username":"eve\\ud800"}',
      '{"username":"eve","email":"e\\udc00@x.org"}',
      '{"username":"eve","displayName":"Eve \\ud83d"}',
      '{"username":"eve","pin":"12\\ud800\\u0034\\u0035"}',
    ];
    for (const body of bodies) {
      const r = await admin.call('POST', '/v1/admin/users', body);
      assert.equal(r.status, 400, body);
      assert.equal(r.body.error.code, 'INVALID_UNICODE', body);
    }
    const patch = await admin.call('PATCH', '/v1/admin/users/dave', '{"displayName":"x\\udfff"}');
    assert.equal(patch.body.error.code, 'INVALID_UNICODE');
    assert.equal((await admin.call('GET', '/v1/admin/users/eve')).status, 404);
    assert.equal((await admin.ok('GET', '/v1/admin/users/dave')).displayName, undefined);
  });

  test('validate: every spelling is dave; a name with no canonical form is refused, never passed through', async () => {
    await awaitFreshStep();
    const code = totpNow(secret);
    assert.equal(
      (await client.ok('POST', '/v1/validate', { user: 'ＤＡＶＥ', pass: code })).result,
      'accept',
    );
    const again = await passthrough.ok('POST', '/v1/validate', { user: 'dave\u200b', pass: code });
    assert.equal(again.reason, 'OTP_REUSED', 'the same user, the same used code');
    const wrong = await passthrough.ok('POST', '/v1/validate', { user: 'Ｄave', pass: '000000' });
    assert.equal(wrong.result, 'reject');
    assert.equal(wrong.reason, 'OTP_INVALID', 'an enrolled user is never an unknown-user passthrough');
    const lone = await passthrough.call('POST', '/v1/validate', '{"user":"dave\\ud800","pass":"000000"}');
    assert.equal(lone.status, 200);
    assert.equal(lone.body.result, 'reject');
    assert.equal(lone.body.reason, 'USER_INVALID');
    assert.equal(
      (await passthrough.ok('POST', '/v1/validate', { user: '50％', pass: '000000' })).reason,
      'USER_INVALID',
    );
  });

  test('RADIUS through FreeRADIUS: a respelled user is that user, not a passthrough', async () => {
    const hotp = randomBase32();
    await admin.ok('POST', '/v1/admin/users', { username: 'Frank' });
    await admin.ok('POST', '/v1/admin/users/frank/tokens', { type: 'hotp', secret: hotp, counter: 0 });
    await admin.createUserWithTotp('Müller');
    const target = { port: fr.port, secret: fr.secret };
    const auth = (user: string, pass: string) =>
      radAuth(target, { 'User-Name': user, 'User-Password': pass });
    const rejected = async (user: string, pass: string, reason: string) => {
      const r = await auth(user, pass);
      assert.equal(r.code, 'Access-Reject', r.transcript);
      assert.match(
        r.attrs['Reply-Message'] ?? '',
        new RegExp(`\\(${reason}\\)$`),
        `${user}: ${r.transcript}`,
      );
    };
    // a wrong code is that user's failure: the name was resolved, not passed through as a stranger
    await rejected('ＦＲＡＮＫ', '000000', 'OTP_INVALID');
    await rejected('MÜLLER', '000000', 'OTP_INVALID');
    await rejected('müller\u200b', '000000', 'OTP_INVALID');
    await rejected('FRANK ', '000000', 'OTP_INVALID');
    const accept = await auth('ＦＲＡＮＫ', hotpAt(hotp, 0));
    assert.equal(accept.code, 'Access-Accept', accept.transcript);
    await rejected('frank\u200b', hotpAt(hotp, 0), 'OTP_REUSED');
    await rejected('frank／x', '000000', 'USER_INVALID');
    const stranger = await auth('nobody-here', 'x');
    assert.equal(stranger.code, 'Access-Accept', 'the passthrough policy itself still works for strangers');
  });

  test('the CLI adds, shows and lists by the canonical name', async () => {
    const add = await runCli(['user', 'add', 'Ｇｒａｃｅ\u00a0'], env());
    assert.equal(add.code, 0, add.err);
    assert.equal(JSON.parse(add.out).username, 'grace');
    const dup = await runCli(['user', 'add', 'GRACE'], env());
    assert.notEqual(dup.code, 0);
    assert.match(dup.err, /exists already/);
    const show = await runCli(['user', 'show', 'GRACE\u200d'], env());
    assert.equal(show.code, 0, show.err);
    assert.equal(JSON.parse(show.out).username, 'grace');
    const token = await runCli(['token', 'add', 'Grace', '--no-qr'], env());
    assert.equal(token.code, 0, token.err);
    assert.match(token.out, /enrolled for grace/);
    const list = await runCli(['token', 'list', 'ＧＲＡＣＥ'], env());
    assert.equal(list.out.trim().split('\n').length, 1);
    const bad = await runCli(['user', 'show', 'a/b'], env());
    assert.notEqual(bad.code, 0);
    assert.match(bad.err, /not allowed/);
  });
});

// Names stored by an older version (as they came) are renamed when a writable node starts.
for (const kind of ['embedded', 'redis'] as const) {
  describe(`stored names are migrated at start (${kind} store)`, () => {
    let redis: RedisProcess | undefined;
    let node: TesseraHandle | undefined;
    let dataDir = '';
    afterAll(async () => {
      await node?.stop();
      await redis?.stop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    test('Dave with his token and lock becomes dave; a colliding name is left, listed and logged', async () => {
      const masterKey = randomBytes(32).toString('base64');
      const env: Record<string, string> = { TESSERA_MASTER_KEY: masterKey, TESSERA_LOG_LEVEL: 'info' };
      if (kind === 'redis') {
        redis = await startRedis();
        env.TESSERA_REDIS_URL = redis.url;
      }
      node = await startTessera({ env });
      dataDir = node.dataDir;
      await node.stop({ keepData: true });
      const store = kind === 'redis' ? await openRedisStore({ url: redis!.url }) : openEmbeddedStore(dataDir);
      try {
        await store.createUser(sampleUser('Dave', { createdAt: 1 }));
        // sealed with the node's key, as a real enrolment was: a node that cannot open its seeds is not ready
        const ring = KeyRing.loadOrCreate(join(dataDir, 'master.key'), masterKey);
        const secretSealed = ring.seal(randomBytes(20), 'T-OLD-DAVE');
        await store.putToken(sampleToken('T-OLD-DAVE', 'Dave', { secretSealed }));
        const lock = { lockout: { threshold: 1, baseSeconds: 600, maxSeconds: 600 }, windowMs: 60_000 };
        await store.reserveAttempt('Dave', Date.now(), { ...lock, failuresPerWindow: 0 });
        await store.commitFailure('Dave', Date.now(), lock);
        await store.createUser(sampleUser('DAVE', { createdAt: 2 }));
      } finally {
        await store.close();
      }
      node = await startTessera({ env, dataDir });
      const admin = new Api(node.url, node.adminKey);
      const dave = await admin.ok('GET', '/v1/admin/users/Dave');
      assert.equal(dave.username, 'dave');
      assert.deepEqual(
        dave.tokens.map((t: { serial: string }) => t.serial),
        ['T-OLD-DAVE'],
      );
      assert.equal(dave.locked, true, 'the lock moved with him');
      const names = (await admin.ok('GET', '/v1/admin/users')).items.map(
        (u: { username: string }) => u.username,
      );
      assert.deepEqual(names.sort(), ['DAVE', 'dave']);
      assert.match(
        node.output(),
        /"username":"DAVE","kept":"dave","msg":"two users share the canonical name/,
      );
      // the left-over record is deletable by its exact name, the kept user stays
      await admin.ok('DELETE', '/v1/admin/users/DAVE');
      assert.deepEqual(
        (await admin.ok('GET', '/v1/admin/users')).items.map((u: { username: string }) => u.username),
        ['dave'],
      );
    });
  });
}
