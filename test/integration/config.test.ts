import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, test } from 'vitest';
import { runCli } from '../harness/tessera.ts';

describe('one configuration, read by the tessera command', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-config-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  test('`tessera config` prints the effective settings with every secret masked', async () => {
    const masterKey = randomBytes(32).toString('base64');
    const r = await runCli(['config'], {
      TESSERA_DATA_DIR: dataDir,
      TESSERA_MASTER_KEY: masterKey,
      TESSERA_REDIS_URL: 'redis://:hunter2-redis@127.0.0.1:6399',
      TESSERA_SNAPSHOT_PASSPHRASE: 'hunter2 passphrase',
      TESSERA_PORT: '9123',
    });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^TESSERA_PORT=9123 +# set$/m);
    assert.match(r.out, new RegExp(`^TESSERA_DATA_DIR=${dataDir} +# set$`, 'm'));
    assert.match(r.out, /^TESSERA_LOG_LEVEL=warn +# set$/m);
    assert.match(r.out, /^TESSERA_REDIS_URL=redis:\/\/:\*{8}@127\.0\.0\.1:6399 +# set$/m);
    for (const secret of [masterKey, 'hunter2']) assert.equal(r.out.includes(secret), false, r.out);
    const json = await runCli(['config', '--json'], { TESSERA_DATA_DIR: dataDir });
    assert.equal(json.code, 0, json.err);
    const port = JSON.parse(json.out).variables.find((v: { name: string }) => v.name === 'TESSERA_PORT');
    assert.deepEqual(port, { name: 'TESSERA_PORT', value: '8080', source: 'default' });
  });

  test('a bad value stops `tessera serve` before it opens anything, naming the variable', async () => {
    const r = await runCli(['serve'], {
      TESSERA_DATA_DIR: join(dataDir, 'never'),
      TESSERA_PORT: '0',
      TESSERA_REPLICA_ACK: 'sometimes',
    });
    assert.equal(r.code, 1);
    assert.match(r.err, /TESSERA_REPLICA_ACK: "sometimes" is not allowed; use accept or reject/);
    assert.equal(existsSync(join(dataDir, 'never')), false, 'nothing was created');
    const cfg = await runCli(['config'], { TESSERA_HEARTBEAT_SECONDS: 'often' });
    assert.equal(cfg.code, 1);
    assert.match(cfg.err, /TESSERA_HEARTBEAT_SECONDS: "often" is not allowed; use a positive number/);
  });
});
