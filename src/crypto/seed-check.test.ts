import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'vitest';
import { KeyRing } from './keyring.ts';
import { checkSeedKeys, explainSeedKeyMismatch } from './seed-check.ts';

const seal = (ring: KeyRing, serial: string) => ({ sealed: ring.seal(randomBytes(20), serial), aad: serial });
const envRing = () => KeyRing.fromKeys('env', { env: randomBytes(32) });

test('the ring that sealed the seeds opens them; an empty store is fine', () => {
  const ring = envRing();
  const samples = ['T1', 'T2', 'T3'].map((s) => seal(ring, s));
  assert.deepEqual(checkSeedKeys(ring, samples), { ok: true, checked: 3 });
  assert.deepEqual(checkSeedKeys(ring, []), { ok: true, checked: 0 });
});

test('another key under the same id (two TESSERA_MASTER_KEY values) is found', () => {
  const samples = ['T1', 'T2'].map((s) => seal(envRing(), s));
  const verdict = checkSeedKeys(envRing(), samples);
  assert.deepEqual(verdict, { ok: false as const, checked: 2, missingKeyIds: [], wrongKeyIds: ['env'] });
  if (verdict.ok) return;
  const text = explainSeedKeyMismatch(verdict);
  assert.match(text, /TESSERA_MASTER_KEY/);
  assert.match(text, /master\.key/);
});

test('a key id the ring lacks (a fresh master.key) is named as missing', () => {
  const cluster = KeyRing.fromKeys('kcluster', { kcluster: randomBytes(32) });
  const fresh = KeyRing.fromKeys('kfresh', { kfresh: randomBytes(32) });
  const verdict = checkSeedKeys(fresh, [seal(cluster, 'T1')]);
  assert.deepEqual(verdict, { ok: false as const, checked: 1, missingKeyIds: ['kcluster'], wrongKeyIds: [] });
});

test('one damaged value beside readable ones does not fail the key; a rotated-in key still opens old seeds', () => {
  const ring = envRing();
  const good = seal(ring, 'T1');
  const moved = { sealed: seal(ring, 'T2').sealed, aad: 'T3' };
  assert.equal(checkSeedKeys(ring, [good, moved]).ok, true);
  const oldKey = randomBytes(32);
  const old = KeyRing.fromKeys('kold', { kold: oldKey });
  const rotated = KeyRing.fromKeys('knew', { knew: randomBytes(32), kold: oldKey });
  assert.equal(checkSeedKeys(rotated, [seal(old, 'T4'), seal(rotated, 'T5')]).ok, true);
});

test('the explanation carries no key material', () => {
  const material = randomBytes(32);
  const ring = KeyRing.fromKeys('env', { env: material });
  const verdict = checkSeedKeys(envRing(), [seal(ring, 'T1')]);
  assert.equal(verdict.ok, false);
  if (verdict.ok) return;
  const text = explainSeedKeyMismatch(verdict);
  assert.ok(!text.includes(material.toString('base64')));
});
