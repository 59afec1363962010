import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import type { AdminContext } from '../admin/index.ts';
import { KeyRing, pinHashing } from '../crypto/index.ts';
import { DEFAULT_SETTINGS, type Settings } from '../model/index.ts';
import { timeStep, totpAt } from '../otp/index.ts';
import { openEmbeddedStore, type Store } from '../store/index.ts';
import { createConsoleAccount, resetConsoleTotp } from './accounts.ts';
import { attemptKey, ConsoleSignIn } from './signin.ts';

const PASSWORD = 'a long enough password';

describe('console sign-in', () => {
  let dir: string;
  let store: Store;
  let clock = Date.UTC(2026, 10, 30, 12, 0, 5);
  const events: { type: string; detail: Record<string, string | undefined> }[] = [];
  const settings: Settings = {
    ...DEFAULT_SETTINGS,
    lockout: { threshold: 4, baseSeconds: 60, maxSeconds: 600 },
    throttle: { failuresPerWindow: 0, windowSeconds: 60 },
  };
  const keyring = KeyRing.generate();
  const ctx = (): AdminContext => ({
    store,
    keyring,
    settings: async () => settings,
    audit: (type, detail) => events.push({ type, detail }),
  });
  let signIn: ConsoleSignIn;
  const code = (secret: Uint8Array, offset = 0) =>
    totpAt({ secret, algorithm: 'SHA1', digits: 6, period: 30 }, timeStep(clock, 30) + offset);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-console-'));
    store = openEmbeddedStore(dir);
    signIn = new ConsoleSignIn({ adminContext: () => ctx(), now: () => clock });
    await createConsoleAccount(ctx(), { username: 'Root', role: 'superadmin', password: PASSWORD });
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('accounts are stored under the canonical name, with a scrypt hash and no seed', async () => {
    const account = await store.getConsoleAccount('root');
    assert.ok(account?.passwordHash?.startsWith('scrypt$'));
    if (!account?.passwordHash) return;
    assert.equal(account.passwordHash.includes(PASSWORD), false);
    assert.equal(account.totpSealed, undefined);
    await assert.rejects(
      createConsoleAccount(ctx(), { username: 'root', role: 'helpdesk', password: PASSWORD }),
      /exists/,
    );
    await assert.rejects(
      createConsoleAccount(ctx(), { username: 'short', role: 'helpdesk', password: 'short' }),
      /12 characters/,
    );
  });

  test('a right password alone signs nobody in; the enrolment stores the seed once a code from it is right', async () => {
    const step = await signIn.password('root', PASSWORD, '127.0.0.1');
    assert.equal(step.ok, true);
    const secret = signIn.newSecret();
    assert.equal((await signIn.confirmEnrolment('root', secret, code(secret, 5), '127.0.0.1')).ok, false);
    assert.equal((await signIn.confirmEnrolment('root', secret, code(secret), '127.0.0.1')).ok, true);
    const sealed = (await store.getConsoleAccount('root'))?.totpSealed;
    assert.ok(sealed);
    assert.deepEqual(keyring.open(sealed, 'console:root'), Buffer.from(secret));
    // a second enrolment page (another seed) cannot replace it
    const other = signIn.newSecret();
    assert.equal((await signIn.confirmEnrolment('root', other, code(other), '127.0.0.1')).ok, false);
    // the code used for the enrolment is spent
    assert.equal((await signIn.code('root', code(secret), '127.0.0.1')).ok, false);
    clock += 30_000;
    assert.equal((await signIn.code('root', code(secret), '127.0.0.1')).ok, true);
    assert.equal((await signIn.code('root', code(secret), '127.0.0.1')).ok, false, 'a code is good once');
  });

  test('wrong passwords and codes count toward the lock; a locked account is refused even with both right', async () => {
    const account = await store.getConsoleAccount('root');
    const secret = keyring.open(account!.totpSealed!, 'console:root')!;
    clock += 30_000;
    for (let i = 0; i < 3; i++)
      assert.equal((await signIn.password('root', `wrong ${i}`, '10.0.0.1')).ok, false);
    assert.equal((await signIn.code('root', '000000', '10.0.0.1')).ok, false);
    const locked = await signIn.password('root', PASSWORD, '10.0.0.1');
    assert.deepEqual(locked, { ok: false, reason: 'LOCKED' });
    assert.deepEqual(await signIn.code('root', code(secret), '10.0.0.1'), { ok: false, reason: 'LOCKED' });
    assert.ok(events.some((e) => e.type === 'console.signin' && e.detail.reason === 'LOCKED'));
    await signIn.unlock(ctx(), 'root');
    assert.equal((await signIn.password('root', PASSWORD, '10.0.0.1')).ok, true);
    assert.equal((await signIn.code('root', code(secret), '10.0.0.1')).ok, true);
    assert.equal(await store.loadAuthView(attemptKey('root')), null, 'the counters live beside no user');
  });

  test('an unknown account is refused like a wrong password and leaves no state', async () => {
    assert.deepEqual(await signIn.password('nobody', PASSWORD, '10.0.0.2'), {
      ok: false,
      reason: 'WRONG_CREDENTIALS',
    });
    assert.deepEqual(await signIn.password('a/b', PASSWORD, '10.0.0.2'), {
      ok: false,
      reason: 'WRONG_CREDENTIALS',
    });
    const dump = await store.dump();
    assert.equal(
      Object.keys(dump.userStates).some((k) => k.includes('nobody')),
      false,
    );
  });

  test('a full hashing queue (a flood) refuses with BUSY and counts nothing', async () => {
    await signIn.unlock(ctx(), 'root');
    const before = (await store.dump()).userStates[attemptKey('root')]?.failures ?? 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const { concurrency, maxWaiting } = pinHashing.limits;
    const blockers = Array.from({ length: concurrency + maxWaiting }, () => pinHashing.run(() => gate));
    try {
      assert.deepEqual(await signIn.password('root', PASSWORD, '10.0.0.4'), { ok: false, reason: 'BUSY' });
      assert.deepEqual(await signIn.password('nobody', PASSWORD, '10.0.0.4'), { ok: false, reason: 'BUSY' });
    } finally {
      release();
      await Promise.all(blockers);
    }
    assert.equal((await store.dump()).userStates[attemptKey('root')]?.failures ?? 0, before);
  });

  test('a reset seed sends the account back to enrolment', async () => {
    await resetConsoleTotp(ctx(), 'root');
    assert.equal((await store.getConsoleAccount('root'))?.totpSealed, undefined);
    assert.equal((await signIn.code('root', '123456', '10.0.0.3')).ok, false);
  });
});
