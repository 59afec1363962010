import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'vitest';
import { DEFAULT_SETTINGS } from '../model/index.ts';
import { sampleUser } from '../store/fixtures.ts';
import {
  FORMAT_VERSION,
  openSnapshot,
  peekManifest,
  type SnapshotPayload,
  SnapshotSealer,
  sealSnapshot,
} from './snapshot-format.ts';

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
  // the header is written before the records: counts and checksum come from the sealed trailer
  assert.deepEqual(peekManifest(bytes), { ...manifest, counts: {}, checksum: '' });
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

/** Seals three chunks into one file, the way a large store is written. */
async function threeChunks(): Promise<Buffer> {
  const parts: Buffer[] = [];
  const sealer = await SnapshotSealer.begin(
    { passphrase: 'pass phrase 1' },
    meta,
    (b) => parts.push(b),
    fastKdf,
  );
  sealer.add({ dump: { settings: DEFAULT_SETTINGS } });
  sealer.add({ dump: { users: [sampleUser('a')] } });
  sealer.add({
    dump: { users: [sampleUser('b')], tokenStates: { T: { counter: 3, lastUsedStep: 9, drift: 0 } } },
  });
  const manifest = sealer.finish();
  assert.deepEqual(manifest.counts, { settings: 1, users: 2, tokenStates: 1 });
  return Buffer.concat(parts);
}

/** Where each frame starts (after the two header lines). */
function frames(bytes: Buffer): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  let pos = bytes.indexOf(0x0a, bytes.indexOf(0x0a) + 1) + 1;
  while (pos < bytes.length) {
    const end = pos + 4 + bytes.readUInt32BE(pos);
    out.push({ start: pos, end });
    pos = end;
  }
  return out;
}

test('a snapshot written in chunks opens whole, with the counts of its trailer', async () => {
  const bytes = await threeChunks();
  const opened = await openSnapshot(bytes, { passphrase: 'pass phrase 1' });
  assert.deepEqual(
    opened.payload.dump.users?.map((u) => u.username),
    ['a', 'b'],
  );
  assert.equal(opened.manifest.counts.users, 2);
  assert.match(opened.manifest.checksum, /^sha256:/);
});

test('a dropped, repeated or reordered chunk, or a tail cut at a chunk boundary, is refused', async () => {
  const bytes = await threeChunks();
  const f = frames(bytes);
  assert.equal(f.length, 4, 'three chunks and the trailer');
  const head = bytes.subarray(0, f[0]!.start);
  const part = (i: number) => bytes.subarray(f[i]!.start, f[i]!.end);
  const variants = {
    dropped: Buffer.concat([head, part(0), part(2), part(3)]),
    repeated: Buffer.concat([head, part(0), part(1), part(1), part(2), part(3)]),
    reordered: Buffer.concat([head, part(0), part(2), part(1), part(3)]),
    cutBeforeTrailer: Buffer.concat([head, part(0), part(1), part(2)]),
    trailerOnly: Buffer.concat([head, part(3)]),
  };
  for (const [name, copy] of Object.entries(variants))
    await assert.rejects(
      openSnapshot(copy, { passphrase: 'pass phrase 1' }),
      /changed|cut off|ends early/,
      name,
    );
});

test('the previous format (version 1, written by the release before) still opens', async () => {
  const bytes = readFileSync(new URL('./fixtures/snapshot-format-1.tsnap', import.meta.url));
  assert.equal(peekManifest(bytes).version, 1);
  const opened = await openSnapshot(bytes, { passphrase: 'fixture passphrase v1' });
  assert.equal(opened.manifest.version, 1);
  assert.deepEqual(
    opened.payload.dump.users?.map((u) => u.username),
    ['alice', 'bob'],
  );
  assert.equal(opened.payload.dump.tokenStates?.['HOTP-V1']?.counter, 7);
  await assert.rejects(openSnapshot(bytes, { passphrase: 'fixture passphrase v2' }), /wrong passphrase/);
});

test('a newer format is refused with both versions named and what to do', async () => {
  const { bytes } = await sealSnapshot(payload, { passphrase: 'pass phrase 1' }, meta, fastKdf);
  const next = FORMAT_VERSION + 1;
  const text = bytes
    .toString('latin1')
    .replace(`TESSERA-SNAPSHOT ${FORMAT_VERSION}\n`, `TESSERA-SNAPSHOT ${next}\n`)
    .replace(`"version":${FORMAT_VERSION}`, `"version":${next}`);
  const future = Buffer.from(text, 'latin1');
  for (const attempt of [
    () => openSnapshot(future, { passphrase: 'pass phrase 1' }),
    async () => peekManifest(future),
  ])
    await assert.rejects(attempt(), (err: Error) => {
      assert.match(err.message, new RegExp(`format version ${next}`));
      assert.match(err.message, new RegExp(`formats 1 to ${FORMAT_VERSION}`));
      assert.match(err.message, /upgrade this node/);
      return true;
    });
});
