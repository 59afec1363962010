import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { hotpAt } from '../harness/codes.ts';
import { slapdSource } from '../harness/directory.ts';
import { waitFor } from '../harness/ports.ts';
import { type RedisProcess, startRedis, waitForReplicaLink } from '../harness/redis.ts';
import { personLdif, type SlapdProcess, startSlapd } from '../harness/slapd.ts';
import { Api, type Json, randomBase32, startTessera, type TesseraHandle } from '../harness/tessera.ts';

type Role = 'superadmin' | 'helpdesk' | 'auditor';
const ROLES: Role[] = ['superadmin', 'helpdesk', 'auditor'];

/** What one call needs to exist before it runs; made fresh for every role with the superadmin key. */
interface Fixture {
  user: string;
  serial: string;
  client: string;
  group: string;
  key: string;
  /** A directory source pointing at this file's slapd. */
  source: string;
  tag: string;
}

let slapd: SlapdProcess;
const sourceBody = (name: string) => slapdSource(slapd, { name });
const DS = (f: Fixture) => `/v1/admin/directory/sources/${f.source}`;

interface Case {
  method: string;
  /** The route as the OpenAPI document names it. */
  route: string;
  path: (f: Fixture) => string;
  body?: (f: Fixture) => unknown;
  /** Who may: s = superadmin, h = helpdesk, a = auditor. Written from the issue, not from the code. */
  who: string;
  ok: number;
  /** Read with the superadmin key before and after a refused call: it must not change. */
  witness?: (f: Fixture) => string;
}

/** A public id of 8 bytes unique to a fixture's tag. */
const modhexOf = (tag: string) =>
  [...Buffer.from(tag.padEnd(8, '.').slice(0, 8))]
    .map((b) => 'cbdefghijklnrtuv'[b >> 4]! + 'cbdefghijklnrtuv'[b & 15]!)
    .join('');
const U = (f: Fixture) => `/v1/admin/users/${f.user}`;
const T = (f: Fixture) => `${U(f)}/tokens/${f.serial}`;

const CASES: Case[] = [
  {
    method: 'POST',
    route: '/v1/admin/users',
    path: () => '/v1/admin/users',
    body: (f) => ({ username: `new-${f.tag}` }),
    who: 'sh',
    ok: 201,
    witness: (f) => `/v1/admin/users/new-${f.tag}`,
  },
  {
    method: 'POST',
    route: '/v1/admin/users/import',
    path: () => '/v1/admin/users/import',
    body: (f) => ({ csv: `username,serial,secret\nimp-${f.tag},IMP-${f.tag},${SECRET}\n` }),
    who: 's',
    ok: 200,
    witness: (f) => `/v1/admin/users/imp-${f.tag}`,
  },
  {
    // YubiKey seeds in bulk: like the user import, superadmin only
    method: 'POST',
    route: '/v1/admin/tokens/import/yubikey',
    path: () => '/v1/admin/tokens/import/yubikey',
    body: (f) => ({
      // a Yubico-layout row of the personalisation tool, with the fixture's user added as column 8
      csv: `1,${modhexOf(f.tag)},0123456789ab,0f1e2d3c4b5a69788796a5b4c3d2e1f0,,2026-11-30T09:00:00,${f.user}\n`,
      userColumn: 8,
    }),
    who: 's',
    ok: 200,
    witness: (f) => `${U(f)}/tokens`,
  },
  { method: 'GET', route: '/v1/admin/users', path: () => '/v1/admin/users', who: 'sha', ok: 200 },
  { method: 'GET', route: '/v1/admin/users/{username}', path: U, who: 'sha', ok: 200 },
  {
    method: 'PATCH',
    route: '/v1/admin/users/{username}',
    path: U,
    body: () => ({ displayName: 'Changed' }),
    who: 'sh',
    ok: 200,
    witness: U,
  },
  { method: 'DELETE', route: '/v1/admin/users/{username}', path: U, who: 'sh', ok: 204, witness: U },
  {
    method: 'POST',
    route: '/v1/admin/users/{username}/unlock',
    path: (f) => `${U(f)}/unlock`,
    who: 'sh',
    ok: 204,
  },
  {
    method: 'POST',
    route: '/v1/admin/users/{username}/disable',
    path: (f) => `${U(f)}/disable`,
    who: 'sh',
    ok: 200,
    witness: U,
  },
  {
    method: 'POST',
    route: '/v1/admin/users/{username}/enable',
    path: (f) => `${U(f)}/enable`,
    who: 'sh',
    ok: 200,
  },
  {
    method: 'POST',
    route: '/v1/admin/users/{username}/tokens',
    path: (f) => `${U(f)}/tokens`,
    body: () => ({ type: 'totp' }),
    who: 'sh',
    ok: 201,
    witness: (f) => `${U(f)}/tokens`,
  },
  {
    method: 'GET',
    route: '/v1/admin/users/{username}/tokens',
    path: (f) => `${U(f)}/tokens`,
    who: 'sha',
    ok: 200,
  },
  {
    method: 'PATCH',
    route: '/v1/admin/users/{username}/tokens/{serial}',
    path: T,
    body: () => ({ description: 'x' }),
    who: 'sh',
    ok: 200,
    witness: (f) => `${U(f)}/tokens`,
  },
  {
    method: 'POST',
    route: '/v1/admin/users/{username}/tokens/{serial}/disable',
    path: (f) => `${T(f)}/disable`,
    who: 'sh',
    ok: 200,
    witness: (f) => `${U(f)}/tokens`,
  },
  {
    method: 'POST',
    route: '/v1/admin/users/{username}/tokens/{serial}/enable',
    path: (f) => `${T(f)}/enable`,
    who: 'sh',
    ok: 200,
  },
  {
    method: 'DELETE',
    route: '/v1/admin/users/{username}/tokens/{serial}',
    path: T,
    who: 'sh',
    ok: 204,
    witness: (f) => `${U(f)}/tokens`,
  },
  {
    method: 'POST',
    route: '/v1/admin/users/{username}/tokens/{serial}/resync',
    path: (f) => `${T(f)}/resync`,
    body: () => ({ code1: hotpAt(SECRET, 3), code2: hotpAt(SECRET, 4) }),
    who: 'sh',
    ok: 200,
    witness: U,
  },
  {
    method: 'POST',
    route: '/v1/admin/clients',
    path: () => '/v1/admin/clients',
    body: (f) => ({ name: `c-new-${f.tag}`, kind: 'api' }),
    who: 's',
    ok: 201,
    witness: () => '/v1/admin/clients',
  },
  { method: 'GET', route: '/v1/admin/clients', path: () => '/v1/admin/clients', who: 'sa', ok: 200 },
  {
    method: 'GET',
    route: '/v1/admin/clients/{id}',
    path: (f) => `/v1/admin/clients/${f.client}`,
    who: 'sa',
    ok: 200,
  },
  {
    method: 'PATCH',
    route: '/v1/admin/clients/{id}',
    path: (f) => `/v1/admin/clients/${f.client}`,
    body: () => ({ allowedCidrs: ['0.0.0.0/0'] }),
    who: 's',
    ok: 200,
    witness: (f) => `/v1/admin/clients/${f.client}`,
  },
  {
    method: 'DELETE',
    route: '/v1/admin/clients/{id}',
    path: (f) => `/v1/admin/clients/${f.client}`,
    who: 's',
    ok: 204,
    witness: (f) => `/v1/admin/clients/${f.client}`,
  },
  {
    method: 'POST',
    route: '/v1/admin/admin-keys',
    path: () => '/v1/admin/admin-keys',
    body: (f) => ({ name: `k-new-${f.tag}`, role: 'superadmin' }),
    who: 's',
    ok: 201,
    witness: () => '/v1/admin/admin-keys',
  },
  { method: 'GET', route: '/v1/admin/admin-keys', path: () => '/v1/admin/admin-keys', who: 'sa', ok: 200 },
  {
    method: 'DELETE',
    route: '/v1/admin/admin-keys/{id}',
    path: (f) => `/v1/admin/admin-keys/${f.key}`,
    who: 's',
    ok: 204,
    witness: () => '/v1/admin/admin-keys',
  },
  {
    method: 'POST',
    route: '/v1/admin/groups',
    path: () => '/v1/admin/groups',
    body: (f) => ({ name: `g-new-${f.tag}` }),
    who: 's',
    ok: 201,
    witness: () => '/v1/admin/groups',
  },
  { method: 'GET', route: '/v1/admin/groups', path: () => '/v1/admin/groups', who: 'sha', ok: 200 },
  {
    method: 'PATCH',
    route: '/v1/admin/groups/{name}',
    path: (f) => `/v1/admin/groups/${f.group}`,
    body: () => ({ description: 'changed' }),
    who: 's',
    ok: 200,
    witness: () => '/v1/admin/groups',
  },
  {
    method: 'DELETE',
    route: '/v1/admin/groups/{name}',
    path: (f) => `/v1/admin/groups/${f.group}`,
    who: 's',
    ok: 204,
    witness: () => '/v1/admin/groups',
  },
  { method: 'GET', route: '/v1/admin/settings', path: () => '/v1/admin/settings', who: 'sha', ok: 200 },
  {
    method: 'PATCH',
    route: '/v1/admin/settings',
    path: () => '/v1/admin/settings',
    body: () => ({ challengeTtlSeconds: 120 }),
    who: 's',
    ok: 200,
    witness: () => '/v1/admin/settings',
  },
  { method: 'GET', route: '/v1/admin/logging', path: () => '/v1/admin/logging', who: 'sha', ok: 200 },
  {
    method: 'PATCH',
    route: '/v1/admin/logging',
    path: () => '/v1/admin/logging',
    body: () => ({ level: 'info' }),
    who: 's',
    ok: 200,
    witness: () => '/v1/admin/logging',
  },
  { method: 'GET', route: '/v1/admin/audit', path: () => '/v1/admin/audit', who: 'sa', ok: 200 },
  {
    method: 'GET',
    route: '/v1/admin/audit/export',
    path: () => '/v1/admin/audit/export?format=jsonl&stream=admin',
    who: 'sa',
    ok: 200,
  },
  ...['logins-per-day', 'users-without-device', 'locked-users', 'unused-tokens', 'devices'].map(
    (r): Case => ({
      method: 'GET',
      route: `/v1/admin/reports/${r}`,
      path: () => `/v1/admin/reports/${r}`,
      who: 'sa',
      ok: 200,
    }),
  ),
  { method: 'GET', route: '/v1/admin/cluster', path: () => '/v1/admin/cluster', who: 'sha', ok: 200 },
  {
    method: 'POST',
    route: '/v1/admin/directory/sources',
    path: () => '/v1/admin/directory/sources',
    body: (f) => sourceBody(`n-${f.tag}`),
    who: 's',
    ok: 201,
    witness: () => '/v1/admin/directory/sources',
  },
  {
    method: 'GET',
    route: '/v1/admin/directory/sources',
    path: () => '/v1/admin/directory/sources',
    who: 'sa',
    ok: 200,
  },
  {
    method: 'DELETE',
    route: '/v1/admin/directory/sources/{name}',
    path: DS,
    who: 's',
    ok: 204,
    witness: () => '/v1/admin/directory/sources',
  },
  {
    method: 'POST',
    route: '/v1/admin/directory/sources/{name}/test',
    path: (f) => `${DS(f)}/test`,
    who: 's',
    ok: 200,
  },
  {
    method: 'POST',
    route: '/v1/admin/directory/sources/{name}/sync',
    path: (f) => `${DS(f)}/sync?dryRun=true`,
    who: 's',
    ok: 200,
    witness: () => '/v1/admin/users?limit=1000',
  },
  {
    method: 'POST',
    route: '/v1/admin/users/{username}/invitations',
    path: (f) => `${U(f)}/invitations`,
    body: (f) => ({ sendTo: `${f.user}@example.test` }),
    who: 'sh',
    ok: 201,
    witness: () => '/v1/admin/invitations',
  },
  {
    method: 'DELETE',
    route: '/v1/admin/users/{username}/invitations',
    path: (f) => `${U(f)}/invitations`,
    who: 'sh',
    ok: 200,
  },
  { method: 'GET', route: '/v1/admin/invitations', path: () => '/v1/admin/invitations', who: 'sha', ok: 200 },
  {
    method: 'POST',
    route: '/v1/admin/push/enable',
    path: () => '/v1/admin/push/enable',
    body: (f) => ({ usernames: [f.user], invite: false }),
    who: 'sh',
    ok: 200,
  },
  {
    method: 'POST',
    route: '/v1/admin/users/{username}/temporary-code',
    path: (f) => `${U(f)}/temporary-code`,
    body: () => ({ validMinutes: 5 }),
    who: 'sh',
    ok: 201,
  },
];

const SECRET = randomBase32();

describe('admin roles on every admin route (real node)', () => {
  let node: TesseraHandle;
  let root: Api;
  const keys = {} as Record<Role, { api: Api; id: string }>;
  const refused: Record<Role, number> = { superadmin: 0, helpdesk: 0, auditor: 0 };
  let n = 0;

  beforeAll(async () => {
    slapd = await startSlapd();
    slapd.ldif(personLdif({ uid: 'dir-only', cn: 'Only In Directory' }));
    node = await startTessera();
    root = new Api(node.url, node.adminKey);
    for (const role of ROLES) {
      const k = await root.ok('POST', '/v1/admin/admin-keys', { name: `as-${role}`, role });
      assert.equal(k.role, role);
      keys[role] = { api: new Api(node.url, k.apiKey), id: k.id };
    }
  });
  afterAll(async () => {
    await node?.stop();
    await slapd?.stop();
  });

  async function fixture(role: Role): Promise<Fixture> {
    const tag = `${role[0]}${++n}`;
    const user = `r-${tag}`;
    await root.ok('POST', '/v1/admin/users', { username: user });
    const token = await root.ok('POST', `/v1/admin/users/${user}/tokens`, { type: 'hotp', secret: SECRET });
    const client = (await root.ok('POST', '/v1/admin/clients', { name: `c-${tag}`, kind: 'radius' })).id;
    const group = `g-${tag}`;
    await root.ok('POST', '/v1/admin/groups', { name: group });
    const key = (await root.ok('POST', '/v1/admin/admin-keys', { name: `k-${tag}`, role: 'auditor' })).id;
    const source = (await root.ok('POST', '/v1/admin/directory/sources', sourceBody(`s-${tag}`))).name;
    return { user, serial: token.serial, client, group, key, source, tag };
  }

  test('the table names every admin route of the OpenAPI document', async () => {
    const doc = await root.ok('GET', '/docs/json');
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, ops]) =>
        path.startsWith('/v1/admin/')
          ? Object.keys(ops)
              .filter((m) => m !== 'head')
              .map((m) => `${m.toUpperCase()} ${path}`)
          : [],
    );
    const tabled = CASES.map((c) => `${c.method} ${c.route}`);
    assert.deepEqual([...documented].sort(), [...tabled].sort());
  });

  for (const c of CASES) {
    for (const role of ROLES) {
      const allowed = c.who.includes(role[0]!);
      test(`${c.method} ${c.route} as ${role} → ${allowed ? c.ok : '403 ROLE_FORBIDDEN'}`, async () => {
        const f = await fixture(role);
        const before = c.witness ? await root.call('GET', c.witness(f)) : null;
        const r = await keys[role].api.call(c.method, c.path(f), c.body?.(f));
        if (allowed) {
          assert.equal(r.status, c.ok, JSON.stringify(r.body));
          return;
        }
        refused[role]++;
        assert.equal(r.status, 403, JSON.stringify(r.body));
        assert.equal(r.body.error.code, 'ROLE_FORBIDDEN');
        if (c.witness && before) {
          const after = await root.call('GET', c.witness(f));
          assert.deepEqual(withoutVolatile(after), withoutVolatile(before), 'a refused call changed nothing');
        }
      });
    }
  }

  test('refusals and actions are audited with the key id and its role', async () => {
    // every page: the run writes more than one page (1,000) of events
    const audit: Json[] = [];
    for (let next: string | null = '', pages = 0; next !== null && pages < 50; pages++) {
      const page = await root.ok('GET', `/v1/admin/audit?limit=1000${next ? `&cursor=${next}` : ''}`);
      audit.push(...(page.items as Json[]));
      next = page.next;
    }
    for (const role of ROLES) {
      const denied = audit.filter((e) => e.type === 'admin.denied' && e.actor === `admin:${keys[role].id}`);
      assert.equal(denied.length, refused[role], role);
      for (const e of denied) assert.equal(e.detail.role, role);
    }
    assert.ok(refused.helpdesk > 0 && refused.auditor > refused.helpdesk);
    const created = audit.find(
      (e) =>
        e.type === 'user.create' && e.actor === `admin:${keys.helpdesk.id}` && e.username?.startsWith('new-'),
    );
    assert.equal(created?.detail?.role, 'helpdesk');
  });

  test('the key list shows roles and no secret or hash', async () => {
    const list = await keys.auditor.api.ok('GET', '/v1/admin/admin-keys');
    assert.ok(Array.isArray(list));
    const desk = list.find((k: Json) => k.id === keys.helpdesk.id);
    assert.equal(desk.role, 'helpdesk');
    assert.equal(desk.expired, false);
    assert.doesNotMatch(JSON.stringify(list), /keyHash|apiKey|scrypt|tessera-admin\./);
    for (const k of list)
      assert.deepEqual(
        Object.keys(k).filter(
          (x) => !['id', 'name', 'role', 'createdAt', 'expiresAt', 'expired'].includes(x),
        ),
        [],
      );
  });

  test('a revoked key is refused at once on the node that revoked it; an unknown id is 404', async () => {
    const k = await root.ok('POST', '/v1/admin/admin-keys', { name: 'short-lived', role: 'auditor' });
    const api = new Api(node.url, k.apiKey);
    assert.equal((await api.call('GET', '/v1/admin/users')).status, 200);
    assert.equal((await root.call('DELETE', `/v1/admin/admin-keys/${k.id}`)).status, 204);
    const after = await api.call('GET', '/v1/admin/users');
    assert.equal(after.status, 401);
    assert.equal(after.body.error.code, 'UNAUTHORIZED');
    assert.equal((await root.call('DELETE', `/v1/admin/admin-keys/${k.id}`)).status, 404);
    assert.equal((await root.call('DELETE', '/v1/admin/admin-keys/AAAAAAAAAAAA')).status, 404);
    const audit = (await root.ok('GET', '/v1/admin/audit?limit=1000')).items as Json[];
    assert.ok(audit.some((e) => e.type === 'admin-key.revoke' && e.detail?.keyId === k.id));
  });

  test('a key past its expiry is a 401; an expiry in the past or a bad date is a 400', async () => {
    const expiresAt = new Date(Date.now() + 2_000).toISOString();
    const k = await root.ok('POST', '/v1/admin/admin-keys', {
      name: 'expiring',
      role: 'helpdesk',
      expiresAt,
    });
    assert.equal(k.expiresAt, expiresAt);
    const api = new Api(node.url, k.apiKey);
    assert.equal((await api.call('GET', '/v1/admin/users')).status, 200);
    const refusedAt = await waitFor(
      'the key to expire',
      async () => ((await api.call('GET', '/v1/admin/users')).status === 401 ? Date.now() : null),
      10_000,
    );
    assert.ok(refusedAt >= Date.parse(expiresAt), 'not refused before its time');
    const listed = (await root.ok('GET', '/v1/admin/admin-keys')).find((x: Json) => x.id === k.id);
    assert.equal(listed.expired, true);
    for (const bad of [
      new Date(Date.now() - 1000).toISOString(),
      '2027-02-30',
      '2027-01-31T10:00:00',
      'soon',
    ]) {
      const r = await root.call('POST', '/v1/admin/admin-keys', {
        name: 'bad',
        role: 'auditor',
        expiresAt: bad,
      });
      assert.equal(r.status, 400, bad);
      assert.equal(r.body.error.code, 'BAD_REQUEST');
    }
    for (const body of [
      { name: 'no-role' },
      { name: 'x', role: 'root' },
      { name: 'x', role: 'auditor', keyHash: 'h' },
    ]) {
      assert.equal((await root.call('POST', '/v1/admin/admin-keys', body)).status, 400, JSON.stringify(body));
    }
  });

  test('snapshots go to node clients and superadmin keys only', async () => {
    const pull = (key: string) => new Api(node.url, key).call('GET', '/v1/cluster/snapshot/latest');
    // A standalone node has no snapshot: 404 means the caller got past the check.
    assert.equal((await pull(node.adminKey)).status, 404);
    const nodeKey = await root.createClient('node');
    assert.equal((await pull(nodeKey)).status, 404);
    for (const role of ['helpdesk', 'auditor'] as const) {
      const r = await pull(keys[role].api.key);
      assert.equal(r.status, 403, role);
      assert.equal(r.body.error.code, 'ROLE_FORBIDDEN');
    }
    for (const kind of ['api', 'radius', 'keycloak'] as const) {
      const r = await pull(await root.createClient(kind));
      assert.equal(r.status, 403, kind);
      assert.equal(r.body.error.code, 'FORBIDDEN');
    }
    assert.equal((await pull('')).status, 401);
    const validate = await new Api(node.url, nodeKey).call('POST', '/v1/validate', { user: 'x', pass: '1' });
    assert.equal(validate.status, 403, 'a node key does not validate logins');
    assert.equal((await new Api(node.url, nodeKey).call('GET', '/v1/admin/users')).status, 403);
  });
});

describe('admin-key revocation across a Redis master and replica (real nodes)', () => {
  let master: RedisProcess;
  let replica: RedisProcess;
  let nodeA: TesseraHandle;
  let nodeB: TesseraHandle;

  beforeAll(async () => {
    master = await startRedis();
    replica = await startRedis({ replicaOf: master.port });
    await waitForReplicaLink(replica);
    const masterKey = Buffer.alloc(32, 7).toString('base64');
    nodeA = await startTessera({ env: { TESSERA_REDIS_URL: master.url, TESSERA_MASTER_KEY: masterKey } });
    nodeB = await startTessera({
      env: { TESSERA_REDIS_URL: replica.url, TESSERA_MASTER_KEY: masterKey },
      expectAdminKey: false,
    });
  });
  afterAll(async () => {
    await nodeB?.stop();
    await nodeA?.stop();
    await replica?.stop();
    await master?.stop();
  });

  test('a key revoked on the master stops working on the replica node within the caller cache bound', async () => {
    const root = new Api(nodeA.url, nodeA.adminKey);
    const k = await root.ok('POST', '/v1/admin/admin-keys', { name: 'roaming', role: 'auditor' });
    const onB = new Api(nodeB.url, k.apiKey);
    await waitFor(
      'the key on the replica',
      async () => (await onB.call('GET', '/v1/admin/users')).status === 200,
      10_000,
    );
    const denied = await onB.call('POST', '/v1/admin/users', { username: 'nope' });
    assert.equal(denied.status, 403, 'roles hold on the replica node too');
    const revokedAt = Date.now();
    assert.equal((await root.call('DELETE', `/v1/admin/admin-keys/${k.id}`)).status, 204);
    assert.equal((await new Api(nodeA.url, k.apiKey).call('GET', '/v1/admin/users')).status, 401);
    await waitFor(
      'the replica node to refuse it',
      async () => (await onB.call('GET', '/v1/admin/users')).status === 401,
      10_000,
      50,
    );
    const took = Date.now() - revokedAt;
    // The bound is the caller cache (5 s); the rest is slack for a loaded machine.
    assert.ok(took <= 7_000, `the replica node kept a revoked key for ${took} ms`);
  });
});

/** What changes on every read regardless of the call under test. */
function withoutVolatile(r: { status: number; body: Json }): unknown {
  return JSON.parse(JSON.stringify(r), (k, v) => (k === 'lastSnapshot' || k === 'lastSeen' ? undefined : v));
}
