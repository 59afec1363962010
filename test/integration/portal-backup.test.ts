// Recovery codes and invitation links survive a backup restored into a fresh node, spent ones spent.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { awaitFreshStep, totpNow } from '../harness/codes.ts';
import { type SmtpHandle, smtpEnv, startSmtp } from '../harness/smtp.ts';
import { Api, runCli, startTessera, type TesseraHandle } from '../harness/tessera.ts';
import { recoveryCodesFromPortal, Visitor } from './portal-visitor.ts';

describe('one-time codes and invitation links in a backup (real nodes, real CLI)', () => {
  let smtp: SmtpHandle;
  let node: TesseraHandle;
  let fresh: TesseraHandle | undefined;
  let work: string;
  let env: Record<string, string>;
  let clientKey: string;
  let codes: string[] = [];
  let link = '';

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'tessera-portal-backup-'));
    writeFileSync(join(work, 'pass'), 'a long backup passphrase\n', { mode: 0o600 });
    smtp = await startSmtp();
    env = smtpEnv(smtp, { TESSERA_MASTER_KEY: randomBytes(32).toString('base64') });
    node = await startTessera({ env });
    const admin = new Api(node.url, node.adminKey);
    clientKey = await admin.createClient('api');
    const { secret } = await admin.createUserWithTotp('bk-ann');
    await awaitFreshStep();
    codes = await recoveryCodesFromPortal(node.url, 'bk-ann', '', totpNow(secret));
    await admin.ok('POST', '/v1/admin/users', { username: 'bk-inv', email: 'bk-inv@example.test' });
    await admin.ok('POST', '/v1/admin/users/bk-inv/invitations', {});
    link = /http:\/\/\S+\/portal\/i\/[A-Za-z0-9_-]+/.exec(
      (await smtp.waitForMail('bk-inv@example.test')).text,
    )![0];
  }, 120_000);
  afterAll(async () => {
    await node?.stop();
    await fresh?.stop();
    await smtp?.close();
    rmSync(work, { recursive: true, force: true });
  });

  test('a used recovery code stays refused after the restore; an unused one works; an open link still opens', async () => {
    const before = new Api(node.url, clientKey);
    assert.equal(
      (await before.ok('POST', '/v1/validate', { user: 'bk-ann', pass: codes[0] })).result,
      'accept',
    );
    const backup = join(work, 'tessera.backup');
    const made = await runCli(
      ['backup', 'create', '--out', backup, '--passphrase-file', join(work, 'pass')],
      { ...env, TESSERA_DATA_DIR: node.dataDir },
    );
    assert.equal(made.code, 0, made.err);
    await node.stop();

    // a fresh node (its own admin key), stopped, restored from the backup, started again
    const dataDir = mkdtempSync(join(tmpdir(), 'tessera-portal-restored-'));
    fresh = await startTessera({ env, dataDir });
    const adminKey = fresh.adminKey;
    await fresh.stop({ keepData: true });
    const restored = await runCli(
      ['backup', 'restore', '--in', backup, '--passphrase-file', join(work, 'pass')],
      { ...env, TESSERA_DATA_DIR: dataDir },
    );
    assert.equal(restored.code, 0, restored.err);
    assert.match(restored.out, /self-service: 1 invitation link\(s\), 1 user\(s\) with one-time codes/);
    fresh = await startTessera({ env, dataDir });
    const client = new Api(fresh.url, clientKey);
    const used = await client.ok('POST', '/v1/validate', { user: 'bk-ann', pass: codes[0] });
    assert.equal(used.result, 'reject', 'a code used before the backup is not reopened');
    assert.equal(used.reason, 'OTP_INVALID');
    const unused = await client.ok('POST', '/v1/validate', { user: 'bk-ann', pass: codes[1] });
    assert.equal(unused.result, 'accept', JSON.stringify(unused));
    const admin = new Api(fresh.url, adminKey);
    const invitations = (await admin.ok('GET', '/v1/admin/invitations')).items;
    assert.ok(
      invitations.some(
        (i: { username: string; status: string }) => i.username === 'bk-inv' && i.status === 'open',
      ),
    );
    // the link names the old node's address: its path, on the restored node
    const path = new URL(link).pathname;
    assert.equal(
      (await new Visitor(fresh.url).get(path)).status,
      200,
      'the open link opens on the restored node',
    );
  });
});
