import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { hotpAt } from '../harness/codes.ts';
import { slapdSource } from '../harness/directory.ts';
import { groupLdif, personLdif, type SlapdProcess, startSlapd } from '../harness/slapd.ts';
import { Api, randomBase32, startTessera, type TesseraHandle } from '../harness/tessera.ts';

describe('directory sources and sync over the admin API (real node, real slapd)', () => {
  let slapd: SlapdProcess;
  let node: TesseraHandle;
  let admin: Api;
  let client: Api;
  const body = (over: Record<string, unknown> = {}) =>
    slapdSource(slapd, { groupFilter: '(objectClass=groupOfNames)', ...over });

  beforeAll(async () => {
    slapd = await startSlapd();
    slapd.ldif(
      [
        personLdif({ uid: 'ann', cn: 'Ann Arbor', mail: 'ann@example.org' }),
        personLdif({ uid: 'ben', cn: 'Ben Bale' }),
        personLdif({ uid: 'cid', cn: 'Cid Cole' }),
        personLdif({ uid: 'dan', cn: 'Dan Dale' }),
        personLdif({ uid: 'eli', cn: 'Eli Egan' }),
        groupLdif('ops', ['ann']),
      ].join('\n'),
    );
    node = await startTessera();
    admin = new Api(node.url, node.adminKey);
    client = new Api(node.url, await admin.createClient('api'));
  }, 120_000);
  afterAll(async () => {
    await node?.stop();
    await slapd?.stop();
  });

  test('add, list and test a source; the bind password is never returned', async () => {
    const created = await admin.call(
      'POST',
      '/v1/admin/directory/sources',
      body({ maxDisableFraction: 0.5 }),
    );
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.name, 'corp');
    const list = await admin.ok('GET', '/v1/admin/directory/sources');
    assert.equal(list.items.length, 1);
    for (const text of [
      JSON.stringify(created.body),
      JSON.stringify(list),
      JSON.stringify(await admin.ok('GET', '/v1/admin/settings')),
    ]) {
      assert.ok(!text.includes(slapd.rootPassword), 'the bind password came back');
      assert.doesNotMatch(text, /bindPassword|directorySources/);
    }
    const probe = await admin.ok('POST', '/v1/admin/directory/sources/corp/test');
    assert.equal(probe.ok, true);
    assert.ok(probe.sampleCount >= 1);
    const dup = await admin.call('POST', '/v1/admin/directory/sources', body());
    assert.equal(dup.status, 409);
  });

  test('test gives a stable code per failure', async () => {
    const cases: [Record<string, unknown>, number, string][] = [
      [{ name: 'badpw', bindPassword: 'nope' }, 422, 'DIRECTORY_BAD_CREDENTIALS'],
      [{ name: 'badbase', baseDn: 'ou=missing,dc=example,dc=org' }, 422, 'DIRECTORY_BAD_BASE_DN'],
      [{ name: 'down', url: 'ldap://127.0.0.1:1', connectTimeoutMs: 1000 }, 422, 'DIRECTORY_UNREACHABLE'],
      [{ name: 'tls', url: slapd.url.replace('ldap:', 'ldaps:') }, 422, 'DIRECTORY_TLS'],
    ];
    for (const [over, status, code] of cases) {
      await admin.ok('POST', '/v1/admin/directory/sources', body(over));
      const r = await admin.call('POST', `/v1/admin/directory/sources/${over.name}/test`);
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.equal(r.body.error.code, code);
      assert.ok(!JSON.stringify(r.body).includes(slapd.rootPassword));
      assert.equal((await admin.call('DELETE', `/v1/admin/directory/sources/${over.name}`)).status, 204);
    }
    assert.equal((await admin.call('DELETE', '/v1/admin/directory/sources/badpw')).status, 404);
    assert.equal((await admin.call('POST', '/v1/admin/directory/sources/none/sync')).status, 404);
  });

  test('a filter that does not parse is refused when the source is added', async () => {
    const r = await admin.call(
      'POST',
      '/v1/admin/directory/sources',
      body({ name: 'badfilter', userFilter: '(uid=a))' }),
    );
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'DIRECTORY_BAD_FILTER');
  });

  test('malformed sources are 400s and store nothing', async () => {
    for (const bad of [
      body({ name: 'Upper' }),
      body({ name: 'x1', url: 'http://127.0.0.1' }),
      body({ name: 'x2', url: 'ldaps://127.0.0.1:1', startTls: true }),
      body({ name: 'x3', preset: 'novell' }),
      body({ name: 'x4', bindPasswordSealed: 'v1:x:y' }),
      body({ name: 'x5', caFile: '/nonexistent/ca.pem' }),
      body({ name: 'x6', maxDisableFraction: 2 }),
      { name: 'x7' },
    ]) {
      const r = await admin.call('POST', '/v1/admin/directory/sources', bad);
      assert.equal(r.status, 400, JSON.stringify(bad));
      assert.ok(['BAD_REQUEST', 'BAD_URL'].includes(r.body.error.code));
    }
    assert.equal((await admin.ok('GET', '/v1/admin/directory/sources')).items.length, 1);
    const q = await admin.call('POST', '/v1/admin/directory/sources/corp/sync?dryRun=maybe');
    assert.equal(q.status, 400);
  });

  test('sync: dry run changes nothing; a real run creates; a removed user is disabled and its token stops at once', async () => {
    const dry = await admin.ok('POST', '/v1/admin/directory/sources/corp/sync?dryRun=true');
    assert.deepEqual(dry, {
      created: 5,
      updated: 0,
      disabled: 0,
      deleted: 0,
      skipped: 0,
      invited: 0,
      dryRun: true,
    });
    assert.equal((await admin.call('GET', '/v1/admin/users/ann')).status, 404);

    const run = await admin.ok('POST', '/v1/admin/directory/sources/corp/sync');
    assert.deepEqual(run, {
      created: 5,
      updated: 0,
      disabled: 0,
      deleted: 0,
      skipped: 0,
      invited: 0,
      dryRun: false,
    });
    const ann = await admin.ok('GET', '/v1/admin/users/ann');
    assert.equal(ann.email, 'ann@example.org');

    const secret = randomBase32();
    await admin.ok('POST', '/v1/admin/users/ben/tokens', { type: 'hotp', secret });
    const v1 = await client.ok('POST', '/v1/validate', { user: 'ben', pass: hotpAt(secret, 0) });
    assert.equal(v1.result, 'accept');

    slapd.ldif(`dn: uid=ben,ou=people,${slapd.suffix}\nchangetype: delete\n`, 'modify');
    const gone = await admin.ok('POST', '/v1/admin/directory/sources/corp/sync');
    assert.deepEqual([gone.disabled, gone.deleted], [1, 0]);
    assert.equal((await admin.ok('GET', '/v1/admin/users/ben')).enabled, false);
    const v2 = await client.ok('POST', '/v1/validate', { user: 'ben', pass: hotpAt(secret, 1) });
    assert.equal(v2.result, 'reject');
    assert.equal(v2.reason, 'USER_DISABLED');

    const audit = (await admin.ok('GET', '/v1/admin/audit?limit=1000')).items as { type: string }[];
    assert.ok(audit.some((e) => e.type === 'directory.user.disable'));
    assert.ok(!JSON.stringify(audit).includes(slapd.rootPassword));
  });

  test('a sync that would disable too many is refused (409) unless forced', async () => {
    for (const uid of ['cid', 'dan', 'eli']) {
      slapd.ldif(`dn: uid=${uid},ou=people,${slapd.suffix}\nchangetype: delete\n`, 'modify');
    }
    const r = await admin.call('POST', '/v1/admin/directory/sources/corp/sync');
    assert.equal(r.status, 409, JSON.stringify(r.body));
    assert.equal(r.body.error.code, 'DIRECTORY_SYNC_LIMIT');
    assert.equal((await admin.ok('GET', '/v1/admin/users/cid')).enabled, true);
    const forced = await admin.ok('POST', '/v1/admin/directory/sources/corp/sync?force=true');
    assert.equal(forced.disabled, 3);
    assert.equal((await admin.ok('GET', '/v1/admin/users/cid')).enabled, false);
  });
});
