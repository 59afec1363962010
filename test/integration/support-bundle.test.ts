import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { base32Decode } from '../../src/otp/index.ts';
import { Api, randomBase32, runCli, startTessera, type TesseraHandle } from '../harness/tessera.ts';

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((n) => join(dir, n))
    .filter((p) => statSync(p).isFile());
}

// `tessera support bundle` as an attacker would read what an operator sends out: every secret the
// node holds (seed key, admin key, client key, snapshot passphrase, audit signing key, a token's
// seed) is looked for in every byte of the archive, in every encoding a leak would take.
describe('tessera support bundle', () => {
  let node: TesseraHandle;
  let work: string;
  const env: Record<string, string> = {};
  const secrets: Record<string, string> = {};

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'tessera-support-'));
    env.TESSERA_MASTER_KEY = randomBytes(32).toString('base64');
    env.TESSERA_SNAPSHOT_PASSPHRASE = `support test passphrase ${randomBytes(6).toString('hex')}`;
    node = await startTessera({ env });
    env.TESSERA_DATA_DIR = node.dataDir;
    env.TESSERA_PORT = String(node.port);
    const admin = new Api(node.url, node.adminKey);
    const seed = randomBase32();
    await admin.createUserWithTotp('s-alice', { secret: seed });
    secrets.masterKey = env.TESSERA_MASTER_KEY;
    secrets.passphrase = env.TESSERA_SNAPSHOT_PASSPHRASE;
    secrets.adminKey = node.adminKey;
    secrets.clientKey = await admin.createClient('api');
    secrets.seedBase32 = seed;
    secrets.seedHex = Buffer.from(base32Decode(seed)!).toString('hex');
    secrets.seedBase64 = Buffer.from(base32Decode(seed)!).toString('base64');
    const audit = JSON.parse(readFileSync(join(node.dataDir, 'audit.key'), 'utf8')) as {
      keys: Record<string, string>;
    };
    for (const [id, k] of Object.entries(audit.keys)) secrets[`auditKey ${id}`] = k;
    assert.ok(Object.keys(audit.keys).length > 0);
  });

  afterAll(async () => {
    await node?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  test('one archive with versions, masked config, status, events, readyz and logs, and no secret in any byte', async () => {
    // a log that leaked secrets (a misconfigured proxy's access log, say) is masked on the way in
    const log = join(work, 'tessera.log');
    writeFileSync(
      log,
      `${node.output()}\nleaked: Authorization: Bearer ${secrets.adminKey} master=${secrets.masterKey} pass=${secrets.passphrase}\n`,
    );
    const out = join(work, 'bundle.tar.gz');
    const r = await runCli(['support', 'bundle', '--out', out, '--log', log, '--url', node.url], env);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /masked 3 secret\(s\)/);
    assert.equal(statSync(out).mode & 0o777, 0o600);

    const raw = gunzipSync(readFileSync(out));
    for (const [name, value] of Object.entries(secrets))
      assert.ok(!raw.includes(Buffer.from(value)), `${name} appears in the archive`);

    const dir = join(work, 'x');
    mkdirSync(dir);
    execFileSync('tar', ['-xzf', out, '-C', dir]);
    const files = filesUnder(join(dir, 'tessera-support')).map((p) => p.slice(dir.length + 17));
    for (const f of [
      'README.txt',
      'versions.json',
      'config.txt',
      'cluster-status.json',
      'events.jsonl',
      'readyz.txt',
      'metrics.txt',
      'data-dir.txt',
    ])
      assert.ok(files.includes(f), `${f} in ${files.join(', ')}`);
    const read = (f: string) => readFileSync(join(dir, 'tessera-support', f), 'utf8');
    assert.equal(JSON.parse(read('versions.json')).node, process.version);
    assert.match(read('config.txt'), /^TESSERA_MASTER_KEY=\*{8} +# set$/m);
    assert.match(read('config.txt'), /^TESSERA_SNAPSHOT_PASSPHRASE=\*{8} +# set$/m);
    assert.match(read('cluster-status.json'), /"role": "standalone"/);
    assert.match(read('readyz.txt'), /^HTTP 200/);
    assert.match(read('metrics.txt'), /tessera_validate_total|# HELP/);
    assert.match(read('data-dir.txt'), /0600 .*admin\.key/, 'key files are listed with their mode');
    const logs = files.filter((f) => f.startsWith('logs/'));
    assert.equal(logs.length, 1);
    assert.match(read(logs[0]!), /leaked: Authorization: Bearer \*{8} master=\*{8} pass=\*{8}/);
    for (const f of filesUnder(dir))
      for (const [name, value] of Object.entries(secrets))
        assert.ok(!readFileSync(f, 'utf8').includes(value), `${name} in ${f}`);
  });

  test('a bundle without a running node or store still writes, and says what it could not reach', async () => {
    const out = join(work, 'cold.tar.gz');
    const r = await runCli(['support', 'bundle', '--out', out, '--url', 'http://127.0.0.1:1'], {
      TESSERA_DATA_DIR: join(work, 'empty'),
    });
    assert.equal(r.code, 0, r.err);
    const raw = gunzipSync(readFileSync(out)).toString('latin1');
    assert.match(raw, /not reached/);
    assert.match(raw, /no store in/);
    assert.throws(
      () => readdirSync(join(work, 'empty')),
      'the bundle created no data directory, store or key',
    );
  });
});
