import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { hotpAt } from '../harness/codes.ts';
import { Api, randomBase32, runCli, startTessera, type TesseraHandle } from '../harness/tessera.ts';

// A backup restored onto a node whose seed key cannot open its seeds: before, the restore said
// "done" and every login with a restored token failed. Through the real CLI and real nodes.
describe('backup restore onto a node with another seed key', () => {
  const sourceKey = randomBytes(32).toString('base64');
  const otherKey = randomBytes(32).toString('base64');
  const secret = randomBase32();
  let source: TesseraHandle;
  let work: string;
  const nodes: TesseraHandle[] = [];
  const dirs: string[] = [];
  const pass = () => join(work, 'pass');
  const plain = () => join(work, 'plain.backup');
  const withKeys = () => join(work, 'with-keys.backup');

  const restore = (node: TesseraHandle, file: string, extra: string[], env: Record<string, string>) =>
    runCli(['backup', 'restore', '--in', file, '--passphrase-file', pass(), ...extra], {
      TESSERA_DATA_DIR: node.dataDir,
      ...env,
    });

  let serial = '';
  /**
   * A restored HOTP token needs a resync (its live counter is unknown), which opens the seed; then
   * the next code logs in. Returns where it stopped.
   */
  const login = async (node: TesseraHandle): Promise<string> => {
    const admin = new Api(node.url, node.adminKey);
    const resync = await admin.call('POST', `/v1/admin/users/k-alice/tokens/${serial}/resync`, {
      code1: hotpAt(secret, 1),
      code2: hotpAt(secret, 2),
    });
    if (resync.status !== 200) return `resync ${resync.status} ${resync.body?.error?.code}`;
    const client = new Api(node.url, await admin.createClient('api'));
    const body = await client.ok('POST', '/v1/validate', { user: 'k-alice', pass: hotpAt(secret, 3) });
    return `${body.result}${body.reason ? ` ${body.reason}` : ''}`;
  };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'tessera-backup-key-'));
    writeFileSync(pass(), 'a long backup passphrase\n', { mode: 0o600 });
    source = await startTessera({ env: { TESSERA_MASTER_KEY: sourceKey } });
    const admin = new Api(source.url, source.adminKey);
    await admin.ok('POST', '/v1/admin/users', { username: 'k-alice' });
    serial = (await admin.ok('POST', '/v1/admin/users/k-alice/tokens', { type: 'hotp', secret, counter: 0 }))
      .serial;
    const env = { TESSERA_DATA_DIR: source.dataDir, TESSERA_MASTER_KEY: sourceKey };
    const a = await runCli(['backup', 'create', '--out', plain(), '--passphrase-file', pass()], env);
    assert.equal(a.code, 0, a.err);
    const b = await runCli(
      [
        'backup',
        'create',
        '--out',
        withKeys(),
        '--passphrase-file',
        pass(),
        '--components',
        'users,tokens,clients,settings,keys',
      ],
      env,
    );
    assert.equal(b.code, 0, b.err);
  });

  afterAll(async () => {
    for (const n of nodes) await n.stop();
    await source?.stop();
    for (const d of [...dirs, work]) rmSync(d, { recursive: true, force: true });
  });

  test('another TESSERA_MASTER_KEY: refused with the fix named, nothing restored; --force restores', async () => {
    const node = await startTessera({ env: { TESSERA_MASTER_KEY: otherKey } });
    nodes.push(node);
    const env = { TESSERA_MASTER_KEY: otherKey };
    const refused = await restore(node, plain(), [], env);
    assert.equal(refused.code, 4, refused.out + refused.err);
    assert.match(refused.err, /cannot open the token seeds in this backup/);
    assert.match(refused.err, /TESSERA_MASTER_KEY/);
    assert.match(refused.err, /master\.key/);
    assert.match(refused.err, /--force/);
    for (const k of [sourceKey, otherKey])
      assert.ok(!(refused.out + refused.err).includes(k), 'a key was printed');
    const admin = new Api(node.url, node.adminKey);
    assert.equal(
      (await admin.call('GET', '/v1/admin/users/k-alice')).status,
      404,
      'the refused restore changed something',
    );

    const forced = await restore(node, plain(), ['--force'], env);
    assert.equal(forced.code, 0, forced.err);
    assert.match(forced.err, /warning \(--force\)/);
    assert.equal((await admin.call('GET', '/v1/admin/users/k-alice')).status, 200);
    // what the refusal protects against: the restored token refuses its valid code here
    assert.match(await login(node), /^resync 5\d\d /);
  });

  test('a node with its own master.key: refused; restoring the backup with its keys works after a restart', async () => {
    const node = await startTessera();
    const refused = await restore(node, plain(), [], {});
    assert.equal(refused.code, 4, refused.out + refused.err);
    assert.match(refused.err, /"env" \(not in this node's key ring\)/);
    const brought = await restore(node, withKeys(), ['--components', 'users,tokens,keys'], {});
    assert.equal(brought.code, 0, brought.err);
    assert.match(brought.out, /1 seed key\(s\) added/);
    await node.stop({ keepData: true });
    const restarted = await startTessera({ dataDir: node.dataDir });
    nodes.push(restarted);
    dirs.push(node.dataDir);
    assert.equal(await login(restarted), 'accept OK');
  });

  test('the same key: restored without a word about keys', async () => {
    const node = await startTessera({ env: { TESSERA_MASTER_KEY: sourceKey } });
    nodes.push(node);
    const r = await restore(node, plain(), [], { TESSERA_MASTER_KEY: sourceKey });
    assert.equal(r.code, 0, r.err);
    assert.doesNotMatch(r.err, /seed key/);
    assert.equal(await login(node), 'accept OK');
  });
});
