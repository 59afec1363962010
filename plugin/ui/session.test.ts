import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { SessionStore, sameToken } from './session.ts';

describe('console sessions', () => {
  test('a session ends after its idle time and after its maximum age, and then reads as expired', () => {
    let now = 1_000_000;
    const store = new SessionStore(15 * 60_000, 8 * 3600_000, () => now);
    const s = store.promote(store.create('ann', 'helpdesk', 'code'), 'in');
    now += 14 * 60_000;
    assert.ok(store.get(s.id) && 'session' in store.get(s.id)!);
    now += 16 * 60_000;
    assert.deepEqual(store.get(s.id), { expired: true });
    const t = store.promote(store.create('ann', 'helpdesk', 'code'), 'in');
    for (let i = 0; i < 40; i++) {
      now += 14 * 60_000;
      if (!store.get(t.id) || 'expired' in store.get(t.id)!) break;
    }
    assert.deepEqual(store.get(t.id), { expired: true });
    assert.ok(now - t.createdAt <= 8 * 3600_000 + 14 * 60_000);
    assert.equal(store.get('never-issued'), null);
  });

  test('a sign-in left between password and code lasts five minutes', () => {
    let now = 0;
    const store = new SessionStore(15 * 60_000, 8 * 3600_000, () => now);
    const s = store.create('ann', 'auditor', 'code');
    now += 6 * 60_000;
    assert.deepEqual(store.get(s.id), { expired: true });
  });

  test('each sign-in step gets a new id and form token; the old id is worthless', () => {
    const store = new SessionStore(60_000, 3_600_000);
    const pending = store.create('ann', 'superadmin', 'enrol');
    pending.pendingSecret = new Uint8Array(20);
    const signedIn = store.promote(pending, 'in');
    assert.notEqual(signedIn.id, pending.id);
    assert.notEqual(signedIn.csrf, pending.csrf);
    assert.equal(signedIn.pendingSecret, undefined);
    assert.equal(store.get(pending.id), null);
    store.endAll('ann');
    assert.deepEqual(store.get(signedIn.id), { expired: true });
  });

  test('form tokens compare whole and in constant time', () => {
    assert.equal(sameToken('abc', 'abc'), true);
    assert.equal(sameToken('abd', 'abc'), false);
    assert.equal(sameToken('ab', 'abc'), false);
    assert.equal(sameToken(undefined, 'abc'), false);
  });
});
