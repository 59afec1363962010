import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, test } from 'vitest';
import { Validator } from '../auth/validator.ts';
import { KeyRing } from '../crypto/index.ts';
import { DEFAULT_SETTINGS } from '../model/index.ts';
import { hotp } from '../otp/index.ts';
import { generateOtp } from '../otp/yubico/index.ts';
import { sampleClient } from '../store/fixtures.ts';
import { openEmbeddedStore } from '../store/index.ts';
import type { AdminContext } from './context.ts';
import { createUser } from './users.ts';
import { importYubikeys } from './yubikey-import.ts';

const AES = 'ecde18dbe76fbd0c33330f1c354871db';
const PRIVATE = '8792ebfe26cc';
const HMAC = '3132333435363738393031323334353637383930'; // RFC 4226's seed

// Rows as the YubiKey Personalization Tool writes them (Traditional and Yubico layouts).
const TRADITIONAL = [
  'LOGGING START,11/30/26 9:02 AM',
  `Yubico OTP,11/30/26 9:02 AM,1,vvcccccbhtkn,${PRIVATE},${AES},,,0,0,0,0,0,0,0,0,0,0`,
  `OATH-HOTP,11/30/26 9:03 AM,2,,,${HMAC},,,0,0,0,8,0,0,0,0,0,0`,
  'Static Password,11/30/26 9:04 AM,1,,,00112233445566778899aabbccddeeff,,,0,0,0,0,0,0,0,0,0,0',
].join('\r\n');
const YUBICO = [
  `5312345,vvcccccdhtkn,${PRIVATE},${AES.replace(/^ec/, 'ed')},,2026-11-30T09:02:10,`,
  `5312345,,16,${HMAC},,2026-11-30T09:02:40,`,
  `5312346,vvcccccbhtkn,${PRIVATE},${AES},,2026-11-30T09:05:00,`,
  'garbage',
].join('\n');

describe('import of YubiKey programming files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-ykimport-'));
  const store = openEmbeddedStore(dir);
  const keyring = KeyRing.generate();
  const settings = async () => DEFAULT_SETTINGS;
  const events: string[] = [];
  const ctx: AdminContext = { store, keyring, settings, audit: (type) => events.push(type) };
  const validator = new Validator({ store, keyring, settings, audit: { record() {} } });
  const client = sampleClient('c', { kind: 'api' });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('Traditional layout with an added user column: a dry run writes nothing, then the keys work', async () => {
    await createUser(ctx, { username: 'ann' });
    const csv = TRADITIONAL.split('\r\n')
      .map((l) => (l.startsWith('LOGGING') ? l : `${l},ann`))
      .join('\r\n');
    const dry = await importYubikeys(ctx, csv, { dryRun: true, userColumn: 19 });
    assert.deepEqual(
      dry.rows.map((r) => [r.line, r.action, r.kind, r.serial]),
      [
        [2, 'created', 'yubikey', 'YKvvcccccbhtkn'],
        [3, 'created', 'hotp', dry.rows[1]?.serial],
        [4, 'skipped', undefined, undefined],
      ],
    );
    assert.match(dry.rows[1]!.serial!, /^YKH[0-9A-F]{10}$/);
    assert.match(dry.rows[2]!.reason!, /Static Password/);
    const unmapped = await importYubikeys(ctx, TRADITIONAL, { dryRun: true });
    assert.match(unmapped.rows[0]!.reason!, /serial number or public id/);
    assert.deepEqual(await store.listTokens('ann'), [], 'a dry run writes nothing');
    const done = await importYubikeys(ctx, csv, { userColumn: 19 });
    assert.equal(done.created, 2);
    const token = (await store.listTokens('ann')).find((t) => t.type === 'yubikey');
    assert.equal((await store.listTokens('ann')).find((t) => t.type === 'hotp')?.digits, 8);
    assert.equal(token?.type, 'yubikey');
    assert.equal(token?.publicId, 'vvcccccbhtkn');
    assert.ok(!JSON.stringify(token).includes(AES) && !JSON.stringify(done).includes(AES), 'sealed');
    const otp = generateOtp('vvcccccbhtkn', Buffer.from(AES, 'hex'), {
      privateId: Buffer.from(PRIVATE, 'hex'),
      usageCounter: 1,
      sessionCounter: 0,
      timestamp: 5,
      random: 5,
    });
    const r = await validator.validate({ user: 'ann', pass: otp, client });
    assert.deepEqual([r.result, r.reason], ['accept', 'OK']);
    const again = await importYubikeys(ctx, csv, { userColumn: 19 });
    assert.match(again.rows[0]!.reason!, /exists already/);
  });

  test('Yubico layout mapped by serial number: Yubico OTP and OATH-HOTP rows', async () => {
    await createUser(ctx, { username: 'bob' });
    const report = await importYubikeys(ctx, YUBICO, { users: { '5312345': 'bob', '5312346': 'nobody' } });
    assert.deepEqual(
      report.rows.map((r) => [r.line, r.action, r.kind, r.username, r.serial]),
      [
        [1, 'created', 'yubikey', 'bob', 'YKvvcccccdhtkn'],
        [2, 'created', 'hotp', 'bob', 'YKH5312345'],
        [3, 'skipped', 'yubikey', 'nobody', 'YKvvcccccbhtkn'],
        [4, 'skipped', undefined, undefined, undefined],
      ],
    );
    const hotpToken = (await store.listTokens('bob')).find((t) => t.type === 'hotp')!;
    assert.equal((await store.getTokenState(hotpToken.serial)).counter, 16, 'the moving factor');
    const code = hotp({ secret: Buffer.from(HMAC, 'hex'), algorithm: 'SHA1', digits: 6 }, 16);
    const r = await validator.validate({ user: 'bob', pass: code, client });
    assert.deepEqual([r.result, r.reason], ['accept', 'OK']);
  });

  test('mapped by public id; a bad key or a constant one is skipped with its reason', async () => {
    await createUser(ctx, { username: 'cy' });
    const csv = [
      `,vvcccccfhtkn,${PRIVATE},${AES.replace(/^ec/, 'ee')},,2026-11-30T09:02:10,`,
      `,vvcccccghtkn,${PRIVATE},${'00'.repeat(16)},,2026-11-30T09:02:10,`,
      `,vvcccccfhtkn,${PRIVATE},${AES.replace(/^ec/, 'ef')},,2026-11-30T09:02:10,`,
    ].join('\n');
    const report = await importYubikeys(ctx, csv, { users: { vvcccccfhtkn: 'cy', vvcccccghtkn: 'cy' } });
    assert.deepEqual(
      report.rows.map((r) => r.action),
      ['created', 'skipped', 'skipped'],
    );
    assert.match(report.rows[1]!.reason!, /one byte repeated/);
    assert.match(report.rows[2]!.reason!, /exists already/);
    assert.ok(events.includes('token.import'));
  });
});
