import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, test } from 'vitest';
import { runCli } from '../harness/tessera.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'tessera-cli-push-'));
const tessera = (...args: string[]) => runCli(args, { TESSERA_DATA_DIR: dataDir });
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

test('tessera client add chooses the push mode per client; a wrong mode or hold time is refused', async () => {
  const made = await tessera(
    'client',
    'add',
    '--name',
    'vpn',
    '--kind',
    'radius',
    '--push-mode',
    'hold',
    '--push-hold-seconds',
    '5',
  );
  assert.equal(made.code, 0, made.err);
  const listed = (await tessera('client', 'list')).out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    listed.map((c) => [c.name, c.pushMode, c.pushHoldSeconds]),
    [['vpn', 'hold', 5]],
  );
  assert.equal(
    (await tessera('client', 'add', '--name', 'x', '--kind', 'radius', '--push-mode', 'wait')).code,
    2,
  );
  assert.equal(
    (await tessera('client', 'add', '--name', 'x', '--kind', 'radius', '--push-hold-seconds', '0')).code,
    2,
  );
});
