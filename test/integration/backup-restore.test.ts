import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { awaitFreshStep, hotpAt, totpNow } from '../harness/codes.ts';
import { waitFor } from '../harness/ports.ts';
import { type RedisProcess, startRedis } from '../harness/redis.ts';
import { Api, randomBase32, runCli, startTessera, type TesseraHandle } from '../harness/tessera.ts';

// Backup → (life goes on) → refused restores change nothing → restore of the older snapshot →
// wipe → restore: through the real `tessera backup` command and real nodes, on both stores.
for (const kind of ['embedded', 'redis'] as const) {
  describe(`backup and restore through the CLI (${kind} store)`, () => {
    let redis: RedisProcess | undefined;
    let node: TesseraHandle;
    let dataDir: string;
    let env: Record<string, string>;
    let admin: Api;
    let client: Api;
    let work: string;
    const totpSecret = randomBase32();
    const hotpSecret = randomBase32();
    const passphraseFile = () => join(work, 'pass');
    const backupFile = () => join(work, 'tessera.backup');
    let usedTotpCode = '';
    let usedTotpStep = 0;
    // records that exist at backup time and are deleted after it
    const doomed = { token: '', client: { id: '', key: '' }, adminKey: { id: '', key: '' } };

    const validate = async (user: string, pass: string) => client.ok('POST', '/v1/validate', { user, pass });

    beforeAll(async () => {
      work = mkdtempSync(join(tmpdir(), 'tessera-backup-'));
      writeFileSync(passphraseFile(), 'a long backup passphrase\n', { mode: 0o600 });
      env = { TESSERA_MASTER_KEY: randomBytes(32).toString('base64') };
      if (kind === 'redis') {
        redis = await startRedis();
        env.TESSERA_REDIS_URL = redis.url;
      }
      node = await startTessera({ env });
      dataDir = node.dataDir;
      env.TESSERA_DATA_DIR = dataDir;
      admin = new Api(node.url, node.adminKey);
      client = new Api(node.url, await admin.createClient('api'));
      await admin.createUserWithTotp('b-alice', { secret: totpSecret });
      await admin.ok('POST', '/v1/admin/users', { username: 'b-bob' });
      await admin.ok('POST', '/v1/admin/users/b-bob/tokens', {
        type: 'hotp',
        secret: hotpSecret,
        counter: 0,
      });
      await admin.ok('POST', '/v1/admin/users', { username: 'b-carol' });
      await admin.ok('POST', '/v1/admin/users/b-carol/tokens', { type: 'hotp', secret: randomBase32() });
      doomed.token = (await admin.createUserWithTotp('b-erin')).serial;
      const c = await admin.ok('POST', '/v1/admin/clients', { name: 'b-old-vpn', kind: 'api' });
      doomed.client = { id: c.id, key: c.apiKey };
      const k = await admin.ok('POST', '/v1/admin/admin-keys', { name: 'b-old-ops', role: 'helpdesk' });
      doomed.adminKey = { id: k.id, key: k.apiKey };
      await awaitFreshStep(8000);
      usedTotpCode = totpNow(totpSecret);
      usedTotpStep = Math.floor(Date.now() / 30_000);
      assert.equal((await validate('b-alice', usedTotpCode)).result, 'accept');
      assert.equal((await validate('b-bob', hotpAt(hotpSecret, 0))).result, 'accept');
    });

    afterAll(async () => {
      await node?.stop({ keepData: true });
      await redis?.stop();
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(work, { recursive: true, force: true });
    });

    test('backup create writes an encrypted file with a manifest', async () => {
      const r = await runCli(
        ['backup', 'create', '--out', backupFile(), '--passphrase-file', passphraseFile()],
        env,
      );
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /counts: .*users=4/);
      assert.match(r.out, /checksum: sha256:/);
      const bytes = readFileSync(backupFile());
      assert.ok(!bytes.includes(Buffer.from('b-bob')), 'no user name in clear text');
      // life goes on after the backup
      assert.equal((await validate('b-bob', hotpAt(hotpSecret, 1))).result, 'accept');
      assert.equal((await validate('b-bob', hotpAt(hotpSecret, 2))).result, 'accept');
      await admin.ok('POST', '/v1/admin/users', { username: 'b-dave' });
    });

    test('a wrong passphrase and a changed byte are refused and change nothing', async () => {
      const wrong = join(work, 'wrong');
      writeFileSync(wrong, 'not the passphrase\n');
      const r1 = await runCli(['backup', 'restore', '--in', backupFile(), '--passphrase-file', wrong], env);
      assert.notEqual(r1.code, 0);
      assert.match(r1.err, /wrong passphrase/);
      assert.ok(!r1.err.includes('not the passphrase'));
      const bytes = readFileSync(backupFile());
      const tampered = Buffer.from(bytes);
      const at = Math.floor(bytes.length * 0.7);
      tampered[at] = tampered[at]! ^ 0x40;
      writeFileSync(join(work, 'tampered'), tampered);
      const r2 = await runCli(
        ['backup', 'restore', '--in', join(work, 'tampered'), '--passphrase-file', passphraseFile()],
        env,
      );
      assert.notEqual(r2.code, 0);
      assert.match(r2.err, /refused/);
      assert.equal(
        (await admin.call('GET', '/v1/admin/users/b-dave')).status,
        200,
        'the user created after the backup is still there',
      );
      assert.equal(
        (await validate('b-bob', hotpAt(hotpSecret, 2))).reason,
        'OTP_REUSED',
        'the live counter did not move back',
      );
    });

    test('a restore that would bring back what was deleted after the backup is refused, lists it and changes nothing', async () => {
      await admin.ok('DELETE', '/v1/admin/users/b-carol');
      await admin.ok('DELETE', `/v1/admin/users/b-erin/tokens/${doomed.token}`);
      await admin.ok('DELETE', `/v1/admin/clients/${doomed.client.id}`);
      await admin.ok('DELETE', `/v1/admin/admin-keys/${doomed.adminKey.id}`);
      await waitFor(
        'the deleted keys to be refused',
        async () =>
          (await new Api(node.url, doomed.adminKey.key).call('GET', '/v1/admin/users')).status === 401 &&
          (
            await new Api(node.url, doomed.client.key).call('POST', '/v1/validate', {
              user: 'b-bob',
              pass: '1',
            })
          ).status === 401,
        10_000,
      );
      const refused = await runCli(
        ['backup', 'restore', '--in', backupFile(), '--passphrase-file', passphraseFile()],
        env,
      );
      assert.equal(refused.code, 3, refused.err);
      process.stdout.write(`# refused restore (${kind}):\n${refused.err.replace(/^/gm, '#   ')}\n`);
      assert.match(refused.err, /5 record\(s\) deleted after it was taken; nothing was restored/);
      assert.match(refused.err, /user\s+b-carol/);
      assert.match(refused.err, new RegExp(`token\\s+${doomed.token}`));
      assert.match(refused.err, new RegExp(`client\\s+${doomed.client.id}`));
      assert.match(refused.err, new RegExp(`adminKey\\s+${doomed.adminKey.id}`));
      assert.match(refused.err, /--allow-resurrect/);
      // b-carol's token went with her and is named as well
      assert.equal((refused.err.match(/^\s+token /gm) ?? []).length, 2);
      assert.equal((await admin.call('GET', '/v1/admin/users/b-carol')).status, 404);
      assert.equal(
        (await admin.call('GET', '/v1/admin/users/b-dave')).status,
        200,
        'nothing else changed either',
      );
      assert.equal((await admin.call('GET', `/v1/admin/clients/${doomed.client.id}`)).status, 404);

      const help = await runCli(['backup'], env);
      assert.match(help.err, /--allow-resurrect\s+restore them too/);

      const skipped = await runCli(
        ['backup', 'restore', '--in', backupFile(), '--passphrase-file', passphraseFile(), '--skip-deleted'],
        env,
      );
      assert.equal(skipped.code, 0, skipped.err);
      assert.match(skipped.out, /left out because deleted after the backup \(--skip-deleted\): 5/);
      assert.equal((await admin.call('GET', '/v1/admin/users/b-carol')).status, 404);
      assert.deepEqual((await admin.ok('GET', '/v1/admin/users/b-erin')).tokens, []);
      assert.equal((await new Api(node.url, doomed.adminKey.key).call('GET', '/v1/admin/users')).status, 401);
      assert.equal(
        (
          await new Api(node.url, doomed.client.key).call('POST', '/v1/validate', {
            user: 'b-bob',
            pass: '1',
          })
        ).status,
        401,
      );
    });

    test('restoring the older snapshot over live data reopens no used code', async () => {
      const r = await runCli(
        [
          'backup',
          'restore',
          '--in',
          backupFile(),
          '--passphrase-file',
          passphraseFile(),
          '--allow-resurrect',
        ],
        env,
      );
      assert.equal(r.code, 0, r.err);
      process.stdout.write(`# restore report (${kind}, over live data):\n${r.out.replace(/^/gm, '#   ')}\n`);
      assert.match(r.out, /live counter was ahead \(kept, never rolled back\): 1/);
      assert.equal((await validate('b-alice', usedTotpCode)).reason, 'OTP_REUSED');
      assert.equal((await validate('b-bob', hotpAt(hotpSecret, 1))).reason, 'OTP_REUSED');
      assert.equal((await validate('b-bob', hotpAt(hotpSecret, 2))).reason, 'OTP_REUSED');
      assert.equal((await validate('b-bob', hotpAt(hotpSecret, 3))).result, 'accept');
      // --allow-resurrect brought the deleted records back, and said so
      assert.match(r.out, /brought back although deleted after the backup \(--allow-resurrect\): 5/);
      assert.equal((await admin.call('GET', '/v1/admin/users/b-carol')).status, 200);
      await waitFor(
        'the resurrected admin key to work again',
        async () =>
          (await new Api(node.url, doomed.adminKey.key).call('GET', '/v1/admin/users')).status === 200,
        10_000,
      );
    });

    test('wipe → restore brings users, tokens and callers back; HOTP asks for a resync, TOTP waits for a fresh step', async () => {
      await node.stop({ keepData: true });
      if (redis) {
        const c = redis.client();
        await c.flushall();
        c.disconnect();
      } else {
        rmSync(join(dataDir, 'store'), { recursive: true, force: true });
      }
      const r = await runCli(
        ['backup', 'restore', '--in', backupFile(), '--passphrase-file', passphraseFile()],
        env,
      );
      assert.equal(r.code, 0, r.err);
      process.stdout.write(`# restore report (${kind}, after a wipe):\n${r.out.replace(/^/gm, '#   ')}\n`);
      assert.match(r.out, /users: 4 created/);
      node = await startTessera({ env, dataDir });
      admin = new Api(node.url, node.adminKey);
      client = new Api(node.url, client.key);
      assert.equal(
        (await admin.call('GET', '/v1/admin/users/b-dave')).status,
        404,
        'the wipe removed what the backup lacks',
      );
      const bob = await validate('b-bob', hotpAt(hotpSecret, 5));
      assert.equal(bob.reason, 'RESYNC_REQUIRED');
      const serial = (await admin.ok('GET', '/v1/admin/users/b-bob')).tokens[0].serial as string;
      await admin.ok('POST', `/v1/admin/users/b-bob/tokens/${serial}/resync`, {
        code1: hotpAt(hotpSecret, 10),
        code2: hotpAt(hotpSecret, 11),
      });
      assert.equal((await validate('b-bob', hotpAt(hotpSecret, 11))).reason, 'OTP_REUSED');
      assert.equal((await validate('b-bob', hotpAt(hotpSecret, 12))).result, 'accept');
      // refused either way; on a slow run the used code's step may have left the accept window
      const stale = Math.floor(Date.now() / 30_000) - usedTotpStep > 1;
      assert.equal((await validate('b-alice', usedTotpCode)).reason, stale ? 'OTP_INVALID' : 'OTP_REUSED');
      assert.equal(
        (await validate('b-alice', totpNow(totpSecret))).reason,
        'OTP_REUSED',
        'codes of the restore step are refused',
      );
      if (kind === 'redis') {
        // After the floor (restore step + window), the next step's code is accepted.
        const started = Date.now();
        let ok = false;
        while (!ok && Date.now() - started < 95_000) {
          await new Promise((res) => setTimeout(res, 1_000));
          ok = (await validate('b-alice', totpNow(totpSecret))).result === 'accept';
        }
        assert.ok(ok, 'TOTP accepted again after the floor');
        process.stdout.write(
          `# TOTP accepted again ${Math.round((Date.now() - started) / 1000)} s after the restore\n`,
        );
      }
    });
  });
}
