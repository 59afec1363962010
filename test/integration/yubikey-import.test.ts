// The personalisation tool's log imported through the admin API and the CLI; the imported keys
// then log in (Yubico OTP made by ykgenerate, OATH-HOTP by RFC 4226).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { hotpAt } from '../harness/codes.ts';
import { type Api, runCli, type TesseraHandle } from '../harness/tessera.ts';
import { newTestYubikey, startYubikeyNode, ykgenerate } from '../harness/ykgenerate.ts';

describe('YubiKey import: admin API and CLI', () => {
  let node: TesseraHandle;
  let admin: Api;
  let client: Api;

  beforeAll(async () => {
    ({ node, admin, client } = await startYubikeyNode());
    for (const username of ['imp-a', 'imp-b', 'imp-c'])
      await admin.ok('POST', '/v1/admin/users', { username });
  });
  afterAll(async () => {
    await node?.stop();
  });

  const login = async (user: string, pass: string) => {
    const r = await client.ok('POST', '/v1/validate', { user, pass });
    return [r.result, r.reason];
  };

  test('API: Yubico layout mapped by serial; dry run first, seeds never echoed', async () => {
    const key = newTestYubikey();
    const hmac = Buffer.from('12345678901234567890').toString('hex');
    const csv = [
      `9000001,${key.publicId},${key.privateId},${key.aesKey},,2026-11-30T09:02:10,`,
      `9000001,,7,${hmac},,2026-11-30T09:02:40,`,
      `9000002,${newTestYubikey().publicId},${key.privateId},${key.aesKey},,2026-11-30T09:03:00,`,
    ].join('\n');
    const body = { csv, users: { '9000001': 'imp-a' } };
    const dry = await admin.ok('POST', '/v1/admin/tokens/import/yubikey', { ...body, dryRun: true });
    assert.deepEqual([dry.dryRun, dry.created, dry.skipped], [true, 2, 1]);
    assert.match(dry.rows[2].reason, /no user/);
    assert.deepEqual((await admin.ok('GET', '/v1/admin/users/imp-a/tokens')).items, []);
    const done = await admin.ok('POST', '/v1/admin/tokens/import/yubikey', body);
    assert.equal(done.created, 2);
    assert.ok(!JSON.stringify(done).includes(key.aesKey) && !JSON.stringify(done).includes(hmac));
    assert.deepEqual(await login('imp-a', ykgenerate(key, 1, 0)), ['accept', 'OK']);
    assert.deepEqual(await login('imp-a', ykgenerate(key, 1, 0)), ['reject', 'OTP_REUSED']);
    assert.deepEqual(await login('imp-a', hotpAt('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 7)), ['accept', 'OK']);
    const bad = await admin.call('POST', '/v1/admin/tokens/import/yubikey', { csv, userColumn: 0 });
    assert.equal(bad.status, 400);
  });

  test('CLI: Traditional layout with a user column, and with a map file', async () => {
    const k1 = newTestYubikey();
    const k2 = newTestYubikey();
    const row = (k: typeof k1) =>
      `Yubico OTP,30.11.26 09:02,1,${k.publicId},${k.privateId},${k.aesKey},,,0,0,0,0,0,0,0,0,0,0`;
    const file = join(node.dataDir, 'configuration_log.csv');
    writeFileSync(file, `LOGGING START,30.11.26 09:01\r\n${row(k1)},imp-b\r\n`);
    const env = { TESSERA_DATA_DIR: node.dataDir };
    const dry = await runCli(['token', 'import-yubikey', file, '--user-column', '19', '--dry-run'], env);
    assert.equal(dry.code, 0, dry.err);
    assert.match(dry.out, /dry run: nothing changed/);
    const run = await runCli(['token', 'import-yubikey', file, '--user-column', '19'], env);
    assert.equal(run.code, 0, run.err);
    assert.match(run.out, new RegExp(`created\\tyubikey\\timp-b\\tYK${k1.publicId}`));
    assert.ok(!run.out.includes(k1.aesKey));
    assert.deepEqual(await login('imp-b', ykgenerate(k1, 3, 2)), ['accept', 'OK']);

    writeFileSync(file, `LOGGING START,30.11.26 09:05\n${row(k2)}\n${row(k1)}\n`);
    const map = join(node.dataDir, 'users.csv');
    writeFileSync(map, `${k2.publicId},imp-c\n${k1.publicId},imp-c\n`);
    const mapped = await runCli(['token', 'import-yubikey', file, '--users', map], env);
    assert.equal(mapped.code, 3, 'a skipped row (the key enrolled already) exits 3');
    assert.match(mapped.out, /exists already/);
    assert.deepEqual(await login('imp-c', ykgenerate(k2, 1, 0)), ['accept', 'OK']);
    const usage = await runCli(['token', 'import-yubikey', file], env);
    assert.equal(usage.code, 2);
  });
});
