import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, test } from 'vitest';
import { KeyRing } from './keyring.ts';

const seed = Buffer.from('12345678901234567890');

describe('seed key ring', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-keyring-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('a sealed seed opens only under the serial it was sealed for', () => {
    const ring = KeyRing.generate();
    const sealed = ring.seal(seed, 'TOTP-A');
    assert.deepEqual(ring.open(sealed, 'TOTP-A'), seed);
    assert.equal(ring.open(sealed, 'TOTP-B'), null, 'moved to another serial');
    assert.equal(ring.open(sealed, ''), null);
  });

  test('an unknown key id, a changed byte or a foreign format is refused', () => {
    const ring = KeyRing.fromKeys('k1', { k1: randomBytes(32) });
    const sealed = ring.seal(seed, 'S');
    const [, , body] = sealed.split(':');
    assert.equal(ring.open(`v1:k2:${body}`, 'S'), null, 'unknown key id');
    const flipped = Buffer.from(body!, 'base64url');
    flipped[flipped.length - 1]! ^= 1;
    assert.equal(ring.open(`v1:k1:${flipped.toString('base64url')}`, 'S'), null, 'a changed byte');
    assert.equal(ring.open(`v2:k1:${body}`, 'S'), null, 'another version');
    assert.equal(ring.open('plain', 'S'), null);
    assert.equal(ring.open(`v1:k1:${body}:extra`, 'S'), null);
  });

  test('a ring with another key under the same id cannot open the seeds', () => {
    const a = KeyRing.fromKeys('env', { env: randomBytes(32) });
    const b = KeyRing.fromKeys('env', { env: randomBytes(32) });
    assert.equal(b.open(a.seal(seed, 'S'), 'S'), null);
  });

  test('after a rotation the new key seals and the old seeds still open', () => {
    const path = join(dir, 'master.key');
    const before = KeyRing.loadOrCreate(path);
    const old = before.seal(seed, 'S-OLD');
    const newId = KeyRing.rotate(path);
    const after = KeyRing.loadOrCreate(path);
    assert.equal(after.currentKeyId, newId);
    assert.notEqual(newId, before.currentKeyId);
    assert.deepEqual(after.open(old, 'S-OLD'), seed, 'the old key stays in the ring');
    const fresh = after.seal(seed, 'S-NEW');
    assert.equal(after.keyIdOf(fresh), newId);
    assert.equal(after.keyIdOf(old), before.currentKeyId);
    assert.equal(before.open(fresh, 'S-NEW'), null, 'a node that missed the rotation cannot open new seeds');
    const file = JSON.parse(readFileSync(path, 'utf8')) as { keys: Record<string, string> };
    assert.equal(Object.keys(file.keys).length, 2);
  });

  test('keys are checked when the ring is built', () => {
    assert.throws(() => KeyRing.fromKeys('k', { k: randomBytes(16) }), /32 bytes/);
    assert.throws(() => KeyRing.fromKeys('k', { j: randomBytes(32) }), /no key "k"/);
    assert.throws(() => KeyRing.fromKeys('a:b', { 'a:b': randomBytes(32) }), /plain word/);
    assert.throws(() => KeyRing.loadOrCreate(join(dir, 'unused'), randomBytes(16).toString('base64')), /32/);
  });
});

test('two rotations in the same millisecond keep both keys', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-keyring-fast-'));
  try {
    const path = join(dir, 'master.key');
    const ring = KeyRing.loadOrCreate(path);
    const sealed = ring.seal(seed, 'S');
    const ids = [ring.currentKeyId, KeyRing.rotate(path), KeyRing.rotate(path), KeyRing.rotate(path)];
    assert.equal(new Set(ids).size, 4);
    assert.deepEqual(KeyRing.loadOrCreate(path).open(sealed, 'S'), seed);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
