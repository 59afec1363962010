import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { totpNow } from '../harness/codes.ts';
import { type RedisProcess, startRedis } from '../harness/redis.ts';
import { Api, type Json, runCli, startTessera, type TesseraHandle } from '../harness/tessera.ts';

// Reports over the API (JSON and CSV) and the CLI, on both stores: logins and failures per day per
// relying system, users without a device, locked users, unused tokens, devices by registration.
let redis: RedisProcess;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

for (const kind of ['embedded', 'redis'] as const) {
  describe(`reports (${kind} store)`, () => {
    let node: TesseraHandle;
    let admin: Api;
    let auditor: Api;
    let vpn: string;
    let wifi: string;
    const today = new Date().toISOString().slice(0, 10);

    beforeAll(async () => {
      node = await startTessera(kind === 'redis' ? { env: { TESSERA_REDIS_URL: redis.url } } : {});
      admin = new Api(node.url, node.adminKey);
      auditor = new Api(
        node.url,
        (await admin.ok('POST', '/v1/admin/admin-keys', { name: 'aud', role: 'auditor' })).apiKey,
      );
      await admin.ok('PATCH', '/v1/admin/settings', { lockout: { threshold: 3 } });
      const vpnKey = await admin.createClient('api', { name: 'VPN' });
      const wifiKey = await admin.createClient('api', { name: 'WiFi' });
      vpn = vpnKey.split('.')[1]!;
      wifi = wifiKey.split('.')[1]!;
      const { secret } = await admin.createUserWithTotp('rp-used');
      await admin.createUserWithTotp('rp-lock');
      await admin.ok('POST', '/v1/admin/users', { username: 'rp-none' });
      await admin.ok('POST', '/v1/admin/users', { username: 'rp-hotp' });
      await admin.ok('POST', '/v1/admin/users/rp-hotp/tokens', { type: 'hotp' });
      const v = new Api(node.url, vpnKey);
      const w = new Api(node.url, wifiKey);
      assert.equal(
        (await v.ok('POST', '/v1/validate', { user: 'rp-used', pass: totpNow(secret) })).result,
        'accept',
      );
      for (let i = 0; i < 2; i++) await v.ok('POST', '/v1/validate', { user: 'rp-used', pass: '000000' });
      for (let i = 0; i < 3; i++) await w.ok('POST', '/v1/validate', { user: 'rp-lock', pass: '000000' });
    });
    afterAll(async () => {
      await node?.stop();
    });

    test('logins and failures per day per relying system, JSON and CSV', async () => {
      const r = await auditor.ok('GET', '/v1/admin/reports/logins-per-day');
      assert.equal(r.to, today);
      const rows = r.rows.filter((x: Json) => x.day === today);
      const byClient = Object.fromEntries(rows.map((x: Json) => [x.client, x]));
      assert.deepEqual(
        { ...byClient[vpn], day: undefined },
        { day: undefined, client: vpn, clientName: 'VPN', logins: 1, failures: 2, challenges: 0, total: 3 },
      );
      assert.equal(byClient[wifi].failures, 3);
      assert.equal(byClient[wifi].logins, 0);
      const csv = await fetch(`${node.url}/v1/admin/reports/logins-per-day?format=csv`, {
        headers: { authorization: `Bearer ${auditor.key}` },
      });
      assert.equal(csv.status, 200);
      assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
      const lines = (await csv.text()).trim().split('\r\n');
      assert.equal(lines[0], 'day,client,clientName,logins,failures,challenges,total');
      // a client id is random base64url: one starting with '-' is made text (no spreadsheet formula)
      const vpnCell = vpn.startsWith('-') ? `'${vpn}` : vpn;
      assert.ok(lines.includes(`${today},${vpnCell},VPN,1,2,0,3`), lines.join('\n'));
      const old = await auditor.ok('GET', '/v1/admin/reports/logins-per-day?from=2020-01-01&to=2020-01-31');
      assert.deepEqual(old.rows, []);
    });

    test('users without a device, locked users, unused tokens, devices by registration type', async () => {
      const none = await auditor.ok('GET', '/v1/admin/reports/users-without-device');
      assert.deepEqual(
        none.items.map((u: Json) => u.username),
        ['rp-none'],
      );
      assert.equal(none.next, null);
      const locked = await auditor.ok('GET', '/v1/admin/reports/locked-users');
      assert.deepEqual(
        locked.items.map((u: Json) => u.username),
        ['rp-lock'],
      );
      assert.ok(locked.items[0].lockedUntil > Date.now());
      const unused = await auditor.ok('GET', '/v1/admin/reports/unused-tokens');
      assert.deepEqual(unused.items.map((t: Json) => t.username).sort(), ['rp-hotp', 'rp-lock']);
      assert.ok(unused.items.every((t: Json) => t.neverUsed && t.lastUsedAt === null));
      const stale = await auditor.ok('GET', '/v1/admin/reports/unused-tokens?days=1');
      assert.ok(!stale.items.some((t: Json) => t.username === 'rp-used'), 'used just now');
      const devices = await auditor.ok('GET', '/v1/admin/reports/devices');
      assert.deepEqual(devices, {
        total: 3,
        byRegistration: { offline: 3, online: 0 },
        byType: { totp: 2, hotp: 1 },
        byStatus: { active: 3 },
      });
    });

    test('a user report pages by cursor; CSV has every row', async () => {
      for (let i = 0; i < 5; i++) await admin.ok('POST', '/v1/admin/users', { username: `rp-z${i}` });
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const p: Json = await auditor.ok(
          'GET',
          `/v1/admin/reports/users-without-device?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        );
        assert.ok(p.items.length <= 2);
        seen.push(...p.items.map((u: Json) => u.username));
        cursor = p.next;
      } while (cursor);
      assert.deepEqual(seen, ['rp-none', 'rp-z0', 'rp-z1', 'rp-z2', 'rp-z3', 'rp-z4']);
      const csv = await fetch(`${node.url}/v1/admin/reports/users-without-device?format=csv`, {
        headers: { authorization: `Bearer ${auditor.key}` },
      });
      const lines = (await csv.text()).trim().split('\r\n');
      assert.deepEqual(lines, ['username,group,enabled', ...seen.map((u) => `${u},default,true`)]);
    });

    test('bad report queries are a 400 naming the parameter', async () => {
      const cases: [string, RegExp][] = [
        ['logins-per-day?from=2026-02-01&to=2026-01-01', /querystring\/to is before querystring\/from/],
        ['logins-per-day?from=yesterday', /querystring\/from/],
        ['logins-per-day?from=2000-01-01&to=2026-01-01', /querystring\/from: a report spans at most/],
        ['logins-per-day?client=x', /client is not a filter/],
        ['users-without-device?limit=1001', /querystring\/limit must be at most 1000/],
        ['locked-users?limit=0', /querystring\/limit/],
        ['unused-tokens?days=0', /querystring\/days/],
        ['devices?format=xml', /querystring\/format/],
      ];
      for (const [q, message] of cases) {
        const r = await auditor.call('GET', `/v1/admin/reports/${q}`);
        assert.equal(r.status, 400, `${q} → ${r.status}`);
        assert.equal(r.body.error.code, 'BAD_REQUEST');
        assert.match(r.body.error.message, message, q);
      }
    });

    test('the CLI prints the same reports, JSON and CSV', async () => {
      const env: Record<string, string> = { TESSERA_DATA_DIR: node.dataDir };
      if (kind === 'redis') env.TESSERA_REDIS_URL = redis.url;
      const devices = await runCli(['report', 'devices'], env);
      assert.equal(devices.code, 0, devices.err);
      assert.equal(JSON.parse(devices.out).byRegistration.offline, 3);
      const daily = await runCli(['report', 'logins-per-day', '--format', 'csv'], env);
      assert.equal(daily.code, 0, daily.err);
      assert.ok(daily.out.includes(`${today},${wifi},WiFi,0,3,0,3`), daily.out);
      const locked = await runCli(['report', 'locked-users', '--format', 'csv'], env);
      assert.match(
        locked.out,
        /^username,group,enabled,lockedUntil,failures\r\nrp-lock,default,true,\d+,\d+\r\n$/,
      );
      assert.equal((await runCli(['report', 'everything'], env)).code, 2);
      assert.equal((await runCli(['report', 'unused-tokens', '--days=0'], env)).code, 2);
      // the span checks the API applies (reportSpan), named as the CLI spells its options
      for (const [args, message] of [
        [['--from', '2026-02-01', '--to', '2026-01-01'], /--from is after --to/],
        [['--from', '2000-01-01', '--to', '2026-01-01'], /--from: a report spans at most 731 days/],
        [['--from', 'yesterday'], /--from and --to must be times/],
      ] as const) {
        const r = await runCli(['report', 'logins-per-day', ...args], env);
        assert.equal(r.code, 2, args.join(' '));
        assert.match(r.err, message);
      }
    });
  });
}
