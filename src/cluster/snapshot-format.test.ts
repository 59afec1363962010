import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'vitest';
import { DEFAULT_SETTINGS } from '../model/index.ts';
import { sampleUser } from '../store/fixtures.ts';
import { openSnapshot, peekManifest, type SnapshotPayload, sealSnapshot } from './snapshot-format.ts';

const payload: SnapshotPayload = {
  dump: {
    users: [sampleUser('a')],
    settings: DEFAULT_SETTINGS,
    tokenStates: { T: { counter: 3, lastUsedStep: 9, drift: 0 } },
  },
};
const meta = {
  time: 1_700_000_000_000,
  node: 'n1',
  appVersion: 't',
  components: ['users' as const, 'settings' as const],
};
const fastKdf = { N: 1024, r: 8, p: 1, salt: randomBytes(16).toString('base64') };

test('a sealed snapshot opens with its passphrase and carries a manifest', async () => {
  const { bytes, manifest } = await sealSnapshot(payload, { passphrase: 'pass phrase 1' }, meta, fastKdf);
  assert.equal(manifest.counts.users, 1);
  assert.equal(manifest.counts.settings, 1);
  assert.match(manifest.checksum, /^sha256:[0-9a-f]{64}$/);
  assert.deepEqual(peekManifest(bytes), manifest);
  const opened = await openSnapshot(bytes, { passphrase: 'pass phrase 1' });
  assert.deepEqual(opened.payload, payload);
  assert.ok(!bytes.includes(Buffer.from('lastUsedStep')), 'the payload is not readable in the file');
});

test('a wrong passphrase is refused', async () => {
  const { bytes } = await sealSnapshot(payload, { passphrase: 'pass phrase 1' }, meta, fastKdf);
  await assert.rejects(openSnapshot(bytes, { passphrase: 'pass phrase 2' }), /wrong passphrase/);
});

test('any changed byte, in the header or the body, is refused', async () => {
  const { bytes } = await sealSnapshot(payload, { passphrase: 'pass phrase 1' }, meta, fastKdf);
  const headerEnd = bytes.indexOf(0x0a, 20);
  const positions = [0, 5, 25, headerEnd - 3, headerEnd + 1, headerEnd + 20, bytes.length - 1];
  for (let i = 0; i < 40; i++) positions.push(Math.floor(Math.random() * bytes.length));
  for (const pos of positions) {
    const copy = Buffer.from(bytes);
    copy[pos] = copy[pos]! ^ 0x01;
    await assert.rejects(openSnapshot(copy, { passphrase: 'pass phrase 1' }), Error, `byte ${pos}`);
  }
  await assert.rejects(openSnapshot(bytes.subarray(0, bytes.length - 1), { passphrase: 'pass phrase 1' }));
});

test('a backup key file works instead of a passphrase, and a wrong key is refused', async () => {
  const key = randomBytes(32);
  const { bytes } = await sealSnapshot(payload, { key }, meta);
  assert.deepEqual((await openSnapshot(bytes, { key })).payload, payload);
  await assert.rejects(openSnapshot(bytes, { key: randomBytes(32) }), /wrong backup key/);
  await assert.rejects(openSnapshot(bytes, { passphrase: 'x' }), /key file/);
});
