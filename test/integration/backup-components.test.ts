import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { FORMAT_VERSION, sealSnapshot } from '../../src/cluster/snapshot-format.ts';
import { DEFAULT_SETTINGS } from '../../src/model/index.ts';
import { SAMPLE_SECRET } from '../../src/store/fixtures.ts';
import { hotpAt } from '../harness/codes.ts';
import { type RedisProcess, startRedis, waitForReplicaLink } from '../harness/redis.ts';
import { Api, runCli, startTessera, type TesseraHandle } from '../harness/tessera.ts';

const FIXTURE_V1 = new URL('../../src/cluster/fixtures/snapshot-format-1.tsnap', import.meta.url).pathname;

// What an operator trusts a backup with: the previous format still restores, a newer one is
// refused, the audit trail and configuration files travel in it, and after a restore the node
// says whether its clock and its replication can be trusted. Real nodes, the real CLI.
describe('backups an operator can trust', () => {
  let node: TesseraHandle;
  let work: string;
  const pass = () => join(work, 'pass');
  const cli = (args: string[], extra: Record<string, string> = {}) =>
    runCli(args, { TESSERA_DATA_DIR: node.dataDir, ...extra });

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'tessera-components-'));
    writeFileSync(pass(), 'a long backup passphrase\n', { mode: 0o600 });
    writeFileSync(join(work, 'fixture-pass'), 'fixture passphrase v1\n', { mode: 0o600 });
    node = await startTessera();
  });

  afterAll(async () => {
    await node?.stop();
    if (node) rmSync(node.dataDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  test('a backup in the previous format (version 1) restores, and its tokens work after a resync', async () => {
    const r = await cli([
      'backup',
      'restore',
      '--in',
      FIXTURE_V1,
      '--passphrase-file',
      join(work, 'fixture-pass'),
      '--components',
      'users,tokens,clients,settings,keys',
    ]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /users: 2 created/);
    assert.match(r.out, /keys: 1 seed key\(s\) added/);
    // a running node reads its seed key file at start: the brought key is used after a restart
    await node.stop({ keepData: true });
    node = await startTessera({ dataDir: node.dataDir });
    const admin = new Api(node.url, node.adminKey);
    assert.equal((await admin.ok('GET', '/v1/admin/users/bob')).tokens[0].serial, 'HOTP-V1');
    // the seed sealed by the old release opens: a resync checks two codes against it
    const resync = await admin.call('POST', '/v1/admin/users/bob/tokens/HOTP-V1/resync', {
      code1: hotpAt(SAMPLE_SECRET, 8),
      code2: hotpAt(SAMPLE_SECRET, 9),
    });
    assert.equal(resync.status, 200, JSON.stringify(resync.body));
    const client = new Api(node.url, await admin.createClient('api'));
    const used = await client.ok('POST', '/v1/validate', { user: 'bob', pass: hotpAt(SAMPLE_SECRET, 7) });
    assert.equal(used.result, 'reject', 'the counter the old backup carried stays used');
    const next = await client.ok('POST', '/v1/validate', { user: 'bob', pass: hotpAt(SAMPLE_SECRET, 10) });
    assert.equal(next.result, 'accept');
  });

  test('a backup in a newer format is refused with both versions named, and nothing changes', async () => {
    const next = FORMAT_VERSION + 1;
    const { bytes } = await sealSnapshot(
      { dump: { settings: { ...DEFAULT_SETTINGS, issuer: 'From the future' } } },
      { passphrase: 'a long backup passphrase' },
      { time: Date.now(), node: 'newer', components: ['settings'] },
    );
    const future = Buffer.from(
      bytes
        .toString('latin1')
        .replace(`TESSERA-SNAPSHOT ${FORMAT_VERSION}\n`, `TESSERA-SNAPSHOT ${next}\n`)
        .replace(`"version":${FORMAT_VERSION}`, `"version":${next}`),
      'latin1',
    );
    writeFileSync(join(work, 'future.tsnap'), future);
    for (const action of ['restore', 'verify']) {
      const r = await cli([
        'backup',
        action,
        '--in',
        join(work, 'future.tsnap'),
        '--passphrase-file',
        pass(),
        '--components',
        'settings',
      ]);
      assert.equal(r.code, 1);
      assert.match(r.err, new RegExp(`format version ${next}, newer than this node reads`));
      assert.match(r.err, new RegExp(`reads snapshot formats 1 to ${FORMAT_VERSION}`));
      assert.match(r.err, /upgrade this node to the release that wrote it/);
    }
    const admin = new Api(node.url, node.adminKey);
    const settings = await admin.ok('GET', '/v1/admin/settings');
    assert.notEqual(settings.issuer, 'From the future');
  });

  test('the audit trail and the FreeRADIUS and Keycloak files travel in a backup; the manifest says what it leaves out', async () => {
    const kc = join(work, 'keycloak-settings.json');
    writeFileSync(kc, JSON.stringify({ realm: 'corp', flow: 'tessera browser' }));
    const file = join(work, 'full.backup');
    const made = await cli([
      'backup',
      'create',
      '--out',
      file,
      '--passphrase-file',
      pass(),
      '--freeradius-dir',
      'freeradius-config',
      '--keycloak-settings',
      kc,
    ]);
    assert.equal(made.code, 0, made.err);
    assert.match(made.out, /components: users, tokens, clients, settings, audit, freeradius, keycloak/);
    assert.match(made.out, /counts: .*audit\.admin=\d+/);
    assert.match(made.out, /files\.freeradius=\d+/);
    assert.match(made.out, /left out: keys: the seed keys are kept apart by default/);
    assert.match(made.err, /^backup .*: wrote \d+ records, \d+ bytes in [\d.]+ s \(\d+ records\/s\)$/m);

    const audit = await cli([
      'backup',
      'audit',
      '--in',
      file,
      '--passphrase-file',
      pass(),
      '--stream',
      'admin',
    ]);
    assert.equal(audit.code, 0, audit.err);
    const events = audit.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.ok(
      events.some((e) => e.type === 'admin-key.create' && e.actor === 'bootstrap'),
      audit.out.slice(0, 500),
    );
    assert.ok(events.every((e) => e.stream === 'admin'));

    const to = join(work, 'files');
    const restored = await cli([
      'backup',
      'restore',
      '--in',
      file,
      '--passphrase-file',
      pass(),
      '--components',
      'freeradius,keycloak',
      '--files-to',
      to,
    ]);
    assert.equal(restored.code, 0, restored.err);
    assert.match(restored.out, /files: \d+ freeradius file\(s\) written under/);
    assert.equal(
      readFileSync(join(to, 'freeradius', 'install.sh'), 'utf8'),
      readFileSync('freeradius-config/install.sh', 'utf8'),
    );
    assert.deepEqual(JSON.parse(readFileSync(join(to, 'keycloak', 'keycloak-settings.json'), 'utf8')), {
      realm: 'corp',
      flow: 'tessera browser',
    });
  });

  test('a file component naming a path outside its place is refused whole', async () => {
    const { bytes } = await sealSnapshot(
      {
        dump: {},
        files: [
          {
            component: 'keycloak',
            path: 'ok.json',
            mode: 0o600,
            content: Buffer.from('{}').toString('base64'),
          },
          {
            component: 'keycloak',
            path: '../../escape',
            mode: 0o600,
            content: Buffer.from('x').toString('base64'),
          },
        ],
      },
      { passphrase: 'a long backup passphrase' },
      { time: Date.now(), node: 'x', components: ['keycloak'] },
    );
    writeFileSync(join(work, 'escape.tsnap'), bytes);
    const to = join(work, 'esc', 'inner');
    mkdirSync(to, { recursive: true });
    const r = await cli([
      'backup',
      'restore',
      '--in',
      join(work, 'escape.tsnap'),
      '--passphrase-file',
      pass(),
      '--components',
      'keycloak',
      '--files-to',
      to,
    ]);
    assert.notEqual(r.code, 0);
    assert.match(r.err, /outside its component/);
    assert.throws(() => readFileSync(join(to, 'keycloak', 'ok.json')), 'nothing written');
    assert.throws(() => readFileSync(join(work, 'esc', 'escape')));
  });

  test('a restore of a snapshot from the future warns that a clock is wrong', async () => {
    const ahead = Date.now() + 3_600_000;
    const { bytes } = await sealSnapshot(
      { dump: { settings: { ...DEFAULT_SETTINGS, issuer: 'Ahead' } } },
      { passphrase: 'a long backup passphrase' },
      { time: ahead, node: 'ahead', components: ['settings'] },
    );
    writeFileSync(join(work, 'ahead.tsnap'), bytes);
    const r = await cli([
      'backup',
      'restore',
      '--in',
      join(work, 'ahead.tsnap'),
      '--passphrase-file',
      pass(),
      '--components',
      'settings',
    ]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /clock: WARNING this node's clock is (59\.\d|60\.\d) min behind the snapshot's time/);
    assert.match(r.out, /replication: none, embedded store on one node/);
  });
});

describe('after a restore on a Redis master with a replica', () => {
  let master: RedisProcess;
  let replica: RedisProcess;
  let node: TesseraHandle;
  let work: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'tessera-components-r-'));
    writeFileSync(join(work, 'pass'), 'a long backup passphrase\n');
    master = await startRedis();
    replica = await startRedis({ replicaOf: master.port });
    await waitForReplicaLink(replica);
    node = await startTessera({
      env: { TESSERA_REDIS_URL: master.url, TESSERA_MASTER_KEY: randomBytes(32).toString('base64') },
    });
  });

  afterAll(async () => {
    await node?.stop();
    await replica?.stop();
    await master?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  test('the node names its replicas and how far behind they are', async () => {
    const env = { TESSERA_DATA_DIR: node.dataDir, TESSERA_REDIS_URL: master.url };
    const file = join(work, 'b');
    const made = await runCli(
      ['backup', 'create', '--out', file, '--passphrase-file', join(work, 'pass')],
      env,
    );
    assert.equal(made.code, 0, made.err);
    const r = await runCli(
      [
        'backup',
        'restore',
        '--in',
        file,
        '--passphrase-file',
        join(work, 'pass'),
        '--components',
        'settings',
      ],
      env,
    );
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /clock: ok, this node's clock .* is (level with|[\d.]+ s after) the snapshot's time/);
    assert.match(
      r.out,
      new RegExp(
        `replication: master 127\\.0\\.0\\.1:${master.port} at offset \\d+; replicas 127\\.0\\.0\\.1:${replica.port} \\(\\d+ bytes behind\\)`,
      ),
    );
  });
});
