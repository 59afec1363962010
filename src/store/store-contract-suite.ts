import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import {
  type AdminKey,
  type AuditEvent,
  type Client,
  DEFAULT_SETTINGS,
  EMPTY_TOKEN_STATE,
} from '../model/index.ts';
import { sampleClient, sampleToken, sampleUser } from './fixtures.ts';
import { pushContract } from './push-contract.ts';
import { restoreBatchContract } from './restore-batch-contract.ts';
import { selfServiceContract } from './self-service-contract.ts';
import type { AuditRetention, Store } from './types.ts';

export interface StoreFixture {
  store: Store;
  cleanup(): Promise<void>;
}

/** What a contract test may ask of a fresh store: its audit retention and a clock it controls. */
export interface ContractStoreOptions {
  auditRetention?: Partial<AuditRetention>;
  now?: () => number;
}

const policy = { lockout: { threshold: 3, baseSeconds: 60, maxSeconds: 3600 }, windowMs: 60_000 };
const attempts = { ...policy, failuresPerWindow: 0 };

/**
 * The behaviour every Store must have. Each implementation's test file calls this with a factory
 * that opens a fresh, empty store on a real backend.
 */
export function storeContract(
  name: string,
  make: (opts?: ContractStoreOptions) => Promise<StoreFixture>,
): void {
  auditContract(name, make);
  selfServiceContract(name, make);
  restoreBatchContract(name, make);
  pushContract(name, make);

  describe(`Store contract: ${name}`, () => {
    let fx: StoreFixture;
    let store: Store;
    beforeAll(async () => {
      fx = await make();
      store = fx.store;
    });
    afterAll(async () => {
      await fx.cleanup();
    });

    test('creating a user twice keeps the first and reports the conflict', async () => {
      assert.equal(await store.createUser(sampleUser('c-alice', { email: 'a@x' })), true);
      assert.equal(await store.createUser(sampleUser('c-alice', { email: 'b@x' })), false);
      assert.equal((await store.getUser('c-alice'))?.email, 'a@x');
    });

    test("a user's directory link survives a write, a read and a rename", async () => {
      const directory = { source: 'corp', id: '6a8e1c9e-0000-1000-8000-00000000abcd', dn: 'uid=d,ou=p,dc=x' };
      await store.createUser(sampleUser('c-dir', { directory }));
      assert.deepEqual((await store.getUser('c-dir'))?.directory, directory);
      assert.equal(await store.renameUser('c-dir', 'c-dir2'), true);
      assert.deepEqual((await store.getUser('c-dir2'))?.directory, directory);
    });

    test('updateUser changes only existing users', async () => {
      assert.equal(await store.updateUser(sampleUser('c-nobody')), false);
      assert.equal(await store.getUser('c-nobody'), null);
      await store.createUser(sampleUser('c-upd'));
      assert.equal(await store.updateUser(sampleUser('c-upd', { enabled: false })), true);
      assert.equal((await store.getUser('c-upd'))?.enabled, false);
    });

    test('listUsers pages in username order with a prefix', async () => {
      for (const n of ['p-a', 'p-b', 'p-c', 'q-a']) await store.createUser(sampleUser(n));
      const first = await store.listUsers({ prefix: 'p-', limit: 2 });
      assert.deepEqual(
        first.items.map((u) => u.username),
        ['p-a', 'p-b'],
      );
      assert.ok(first.next);
      const second = await store.listUsers({ prefix: 'p-', limit: 2, after: first.next });
      assert.deepEqual(
        second.items.map((u) => u.username),
        ['p-c'],
      );
      assert.equal(second.next, undefined);
      assert.ok((await store.countUsers()) >= 4);
    });

    test('a token needs an existing user and is listed under it', async () => {
      assert.equal(await store.putToken(sampleToken('T-ORPHAN', 'c-ghost')), false);
      assert.equal(await store.getToken('T-ORPHAN'), null);
      await store.createUser(sampleUser('c-tok'));
      assert.equal(await store.putToken(sampleToken('T-1', 'c-tok')), true);
      assert.equal(await store.putToken(sampleToken('T-2', 'c-tok', { type: 'hotp' })), true);
      const serials = (await store.listTokens('c-tok')).map((t) => t.serial).sort();
      assert.deepEqual(serials, ['T-1', 'T-2']);
      assert.equal(await store.deleteToken('T-2'), true);
      assert.deepEqual(
        (await store.listTokens('c-tok')).map((t) => t.serial),
        ['T-1'],
      );
    });

    test('writeUserWithTokens writes the user with its tokens, or nothing at all', async () => {
      const tokens = [sampleToken('W-1', 'c-w'), sampleToken('W-2', 'c-w', { type: 'hotp' })];
      assert.equal(await store.writeUserWithTokens(sampleUser('c-w'), tokens, 'create'), 'ok');
      assert.deepEqual((await store.listTokens('c-w')).map((t) => t.serial).sort(), ['W-1', 'W-2']);
      assert.equal(await store.writeUserWithTokens(sampleUser('c-w'), [], 'create'), 'user-exists');
      // a taken serial refuses the whole write: neither the user nor the other token appears
      const clash = [sampleToken('W-3', 'c-w2'), sampleToken('W-1', 'c-w2')];
      assert.equal(await store.writeUserWithTokens(sampleUser('c-w2'), clash, 'create'), 'serial-taken');
      assert.equal(await store.getUser('c-w2'), null);
      assert.equal(await store.getToken('W-3'), null);
      assert.equal((await store.getToken('W-1'))?.username, 'c-w');
      assert.equal(await store.writeUserWithTokens(sampleUser('c-w3'), [], 'update'), 'user-missing');
      assert.equal(await store.getUser('c-w3'), null);
      const changed = sampleUser('c-w', { email: 'w@x' });
      assert.equal(await store.writeUserWithTokens(changed, [sampleToken('W-4', 'c-w')], 'update'), 'ok');
      assert.equal((await store.getUser('c-w'))?.email, 'w@x');
      assert.equal((await store.listTokens('c-w')).length, 3);
    });

    test('deleting a user removes its tokens and their state', async () => {
      await store.createUser(sampleUser('c-del'));
      await store.putToken(sampleToken('T-DEL', 'c-del'));
      await store.commitAccept('c-del', 'T-DEL', { kind: 'totp', step: 100, drift: 0 }, 5);
      assert.equal(await store.deleteUser('c-del'), true);
      assert.equal(await store.deleteUser('c-del'), false);
      assert.equal(await store.getToken('T-DEL'), null);
      assert.deepEqual(await store.getTokenState('T-DEL'), EMPTY_TOKEN_STATE);
      assert.equal(await store.loadAuthView('c-del'), null);
    });

    test('loadAuthView brings user, group, tokens and states together', async () => {
      await store.putGroup({ name: 'default', methods: {}, permanent: true });
      await store.createUser(sampleUser('c-view'));
      await store.putToken(sampleToken('T-VIEW', 'c-view'));
      const view = await store.loadAuthView('c-view');
      assert.ok(view);
      assert.equal(view.user.username, 'c-view');
      assert.equal(view.group?.name, 'default');
      assert.deepEqual(
        view.tokens.map((t) => t.serial),
        ['T-VIEW'],
      );
      assert.deepEqual(view.tokenStates.get('T-VIEW'), EMPTY_TOKEN_STATE);
      assert.equal(view.userState.failures, 0);
    });

    test('a TOTP step is accepted once and never an older one after it', async () => {
      await store.createUser(sampleUser('c-totp'));
      await store.putToken(sampleToken('T-TOTP', 'c-totp'));
      assert.equal(
        await store.commitAccept('c-totp', 'T-TOTP', { kind: 'totp', step: 50, drift: 1 }, 10),
        true,
      );
      assert.equal(
        await store.commitAccept('c-totp', 'T-TOTP', { kind: 'totp', step: 50, drift: 1 }, 11),
        false,
      );
      assert.equal(
        await store.commitAccept('c-totp', 'T-TOTP', { kind: 'totp', step: 49, drift: 0 }, 12),
        false,
      );
      assert.equal(
        await store.commitAccept('c-totp', 'T-TOTP', { kind: 'totp', step: 51, drift: 0 }, 13),
        true,
      );
      const s = await store.getTokenState('T-TOTP');
      assert.equal(s.lastUsedStep, 51);
      assert.equal(s.drift, 0);
    });

    test('a HOTP counter only moves forward', async () => {
      await store.createUser(sampleUser('c-hotp'));
      await store.putToken(sampleToken('T-HOTP', 'c-hotp', { type: 'hotp' }));
      assert.equal(await store.commitAccept('c-hotp', 'T-HOTP', { kind: 'hotp', counter: 3 }, 1), true);
      assert.equal((await store.getTokenState('T-HOTP')).counter, 4);
      assert.equal(await store.commitAccept('c-hotp', 'T-HOTP', { kind: 'hotp', counter: 3 }, 1), false);
      assert.equal(await store.commitAccept('c-hotp', 'T-HOTP', { kind: 'hotp', counter: 2 }, 1), false);
      assert.equal(await store.commitAccept('c-hotp', 'T-HOTP', { kind: 'hotp', counter: 4 }, 1), true);
    });

    test('a YubiKey position (usage and session counter) only moves forward, also in parallel', async () => {
      await store.createUser(sampleUser('c-yk'));
      await store.putToken(sampleToken('T-YK', 'c-yk', { type: 'yubikey', publicId: 'vvcccccbhtkn' }));
      const at = (usage: number, session: number) => ({
        kind: 'yubikey' as const,
        counter: usage * 256 + session,
      });
      assert.equal(await store.commitAccept('c-yk', 'T-YK', at(19, 16), 1), true);
      assert.equal((await store.getTokenState('T-YK')).counter, 19 * 256 + 17);
      assert.equal(await store.commitAccept('c-yk', 'T-YK', at(19, 16), 1), false);
      assert.equal(await store.commitAccept('c-yk', 'T-YK', at(18, 255), 1), false);
      const results = await Promise.all(
        Array.from({ length: 20 }, () => store.commitAccept('c-yk', 'T-YK', at(20, 0), 2)),
      );
      assert.equal(results.filter(Boolean).length, 1);
    });

    test('of 50 concurrent commits of the same code exactly one wins', async () => {
      await store.createUser(sampleUser('c-race'));
      await store.putToken(sampleToken('T-RACE', 'c-race'));
      const results = await Promise.all(
        Array.from({ length: 50 }, () =>
          store.commitAccept('c-race', 'T-RACE', { kind: 'totp', step: 777, drift: 0 }, 1),
        ),
      );
      assert.equal(results.filter(Boolean).length, 1);
    });

    test('attempts are counted when reserved, lock at the threshold and a success resets them', async () => {
      await store.createUser(sampleUser('c-fail'));
      await store.putToken(sampleToken('T-FAIL', 'c-fail'));
      const now = 1_000_000;
      const failOnce = async (t: number) => {
        const r = await store.reserveAttempt('c-fail', t, attempts);
        assert.ok(r.granted, `reserved at ${t}`);
        return store.commitFailure('c-fail', t, policy);
      };
      assert.equal((await failOnce(now)).failures, 1);
      assert.equal((await failOnce(now + 1)).failures, 2, 'settling does not count a second time');
      const locked = await failOnce(now + 2);
      assert.equal(locked.lockedUntil, now + 2 + 60_000);
      assert.equal(locked.lockCount, 1);
      assert.equal(locked.failures, 0);
      await store.unlockUser('c-fail');
      assert.equal((await store.loadAuthView('c-fail'))?.userState.lockedUntil, 0);
      await failOnce(now + 3);
      const r = await store.reserveAttempt('c-fail', now + 4, attempts);
      assert.ok(r.granted);
      await store.commitAccept('c-fail', 'T-FAIL', { kind: 'totp', step: 5, drift: 0 }, now + 4);
      const after = (await store.loadAuthView('c-fail'))?.userState;
      assert.equal(after?.failures, 0);
      assert.equal(after?.windowFailures, 0);
      assert.equal(after?.lastSuccess, now + 4);
    });

    test('a locked user is refused before evaluation and nothing is written', async () => {
      await store.createUser(sampleUser('c-locked'));
      const t = 2_000_000;
      for (let i = 0; i < 3; i++) {
        assert.ok((await store.reserveAttempt('c-locked', t, attempts)).granted);
        await store.commitFailure('c-locked', t, policy);
      }
      const before = (await store.loadAuthView('c-locked'))?.userState;
      assert.equal(before?.lockedUntil, t + 60_000);
      const refused = await store.reserveAttempt('c-locked', t + 59_999, attempts);
      assert.equal(refused.granted, false);
      assert.equal(!refused.granted && refused.refusal, 'locked');
      assert.deepEqual((await store.loadAuthView('c-locked'))?.userState, before);
      assert.ok((await store.reserveAttempt('c-locked', t + 60_000, attempts)).granted, 'the lock ends');
    });

    test('a throttled user is refused until the window ends', async () => {
      await store.createUser(sampleUser('c-throttle'));
      const t = 3_000_000;
      const p = { ...attempts, lockout: { ...attempts.lockout, threshold: 0 }, failuresPerWindow: 2 };
      for (let i = 0; i < 2; i++) {
        assert.ok((await store.reserveAttempt('c-throttle', t + i, p)).granted);
        await store.commitFailure('c-throttle', t + i, { lockout: p.lockout, windowMs: p.windowMs });
      }
      const refused = await store.reserveAttempt('c-throttle', t + 59_999, p);
      assert.equal(!refused.granted && refused.refusal, 'throttled');
      const next = await store.reserveAttempt('c-throttle', t + 60_000, p);
      assert.ok(next.granted);
      assert.equal(next.state.windowStart, t + 60_000);
      assert.equal(next.state.windowFailures, 1);
    });

    test('an accept while locked is refused and leaves the token where it was', async () => {
      await store.createUser(sampleUser('c-nolockaccept'));
      await store.putToken(sampleToken('T-NLA', 'c-nolockaccept'));
      const t = 4_000_000;
      const r = await store.reserveAttempt('c-nolockaccept', t, attempts);
      assert.ok(r.granted);
      // Parallel failures lock the user while this right code is being checked.
      for (let i = 0; i < 2; i++) await store.reserveAttempt('c-nolockaccept', t, attempts);
      assert.ok((await store.commitFailure('c-nolockaccept', t, policy)).lockedUntil > t);
      assert.equal(
        await store.commitAccept('c-nolockaccept', 'T-NLA', { kind: 'totp', step: 9, drift: 0 }, t + 1),
        false,
      );
      assert.deepEqual(await store.getTokenState('T-NLA'), EMPTY_TOKEN_STATE);
      assert.ok((await store.loadAuthView('c-nolockaccept'))!.userState.lockedUntil > t + 1);
      assert.equal(
        await store.commitAccept('c-nolockaccept', 'T-NLA', { kind: 'totp', step: 9, drift: 0 }, t + 60_000),
        true,
        'after the lock the same code is accepted',
      );
    });

    test('a refund gives back only what its reservation added', async () => {
      await store.createUser(sampleUser('c-refund'));
      await store.putToken(sampleToken('T-REF', 'c-refund', { type: 'hotp' }));
      const t = 5_000_000;
      const a = await store.reserveAttempt('c-refund', t, attempts);
      assert.ok(a.granted);
      const b = await store.reserveAttempt('c-refund', t + 1, attempts);
      assert.ok(b.granted);
      const refunded = await store.refundAttempt('c-refund', a.ticket);
      assert.equal(refunded.failures, 1);
      assert.equal(refunded.windowFailures, 1);
      // A refund from an earlier window does not take from the current one.
      const later = await store.reserveAttempt('c-refund', t + 70_000, attempts);
      assert.ok(later.granted);
      assert.equal(later.state.windowFailures, 1);
      const stale = await store.refundAttempt('c-refund', b.ticket);
      assert.equal(stale.failures, 1);
      assert.equal(stale.windowFailures, 1);
      // After a success (or a lock) restarted the count, an older refund changes nothing.
      const c = await store.reserveAttempt('c-refund', t + 70_001, attempts);
      assert.ok(c.granted);
      await store.commitAccept('c-refund', 'T-REF', { kind: 'hotp', counter: 0 }, t + 70_002);
      const d = await store.reserveAttempt('c-refund', t + 70_003, attempts);
      assert.ok(d.granted);
      assert.equal((await store.refundAttempt('c-refund', c.ticket)).failures, 1);
      assert.equal((await store.refundAttempt('c-refund', d.ticket)).failures, 0);
      assert.equal((await store.refundAttempt('c-refund', d.ticket)).failures, 0, 'never below zero');
    });

    test('of 300 parallel reservations only the throttle window is granted', async () => {
      await store.createUser(sampleUser('c-flood'));
      const p = { ...attempts, failuresPerWindow: 5, lockout: { ...attempts.lockout, threshold: 10 } };
      const results = await Promise.all(
        Array.from({ length: 300 }, () => store.reserveAttempt('c-flood', 6_000_000, p)),
      );
      assert.equal(results.filter((r) => r.granted).length, 5);
      assert.ok(results.every((r) => r.granted || r.refusal === 'throttled'));
      assert.equal((await store.loadAuthView('c-flood'))?.userState.failures, 5);
    });

    test('of 300 parallel reservations only the lockout threshold is granted, then the user locks', async () => {
      await store.createUser(sampleUser('c-flood-lock'));
      const p = {
        ...attempts,
        failuresPerWindow: 0,
        lockout: { threshold: 10, baseSeconds: 60, maxSeconds: 60 },
      };
      const t = 7_000_000;
      const results = await Promise.all(
        Array.from({ length: 300 }, () => store.reserveAttempt('c-flood-lock', t, p)),
      );
      assert.equal(results.filter((r) => r.granted).length, 10);
      assert.ok(results.every((r) => r.granted || r.refusal === 'locked'));
      const state = (await store.loadAuthView('c-flood-lock'))?.userState;
      assert.equal(state?.lockedUntil, t + 60_000);
      assert.equal(state?.lockCount, 1, 'locked once, not once per refused request');
      // The ten granted ones then fail: settling them adds no second lock.
      for (let i = 0; i < 10; i++)
        await store.commitFailure('c-flood-lock', t, { lockout: p.lockout, windowMs: p.windowMs });
      assert.equal((await store.loadAuthView('c-flood-lock'))?.userState.lockCount, 1);
    });

    test('advanceTokenState max-merges and never goes back', async () => {
      await store.createUser(sampleUser('c-adv'));
      await store.putToken(sampleToken('T-ADV', 'c-adv', { type: 'hotp' }));
      await store.advanceTokenState('T-ADV', { counter: 10, lastUsedStep: 5, drift: 2 });
      const merged = await store.advanceTokenState('T-ADV', { counter: 7, lastUsedStep: 9, drift: -1 });
      assert.deepEqual(merged, { counter: 10, lastUsedStep: 9, drift: -1 });
      assert.deepEqual(await store.getTokenState('T-ADV'), merged);
    });

    test('a challenge can be taken once', async () => {
      const ch = {
        transactionId: 'tx-1',
        username: 'u',
        clientId: 'c',
        firstFactor: 'pin' as const,
        createdAt: Date.now(),
        expiresAt: Date.now() + 1000,
      };
      await store.putChallenge(ch, 60_000);
      const results = await Promise.all([store.takeChallenge('tx-1'), store.takeChallenge('tx-1')]);
      assert.equal(results.filter((r) => r !== null).length, 1);
      assert.deepEqual(
        results.find((r) => r !== null),
        ch,
      );
      assert.equal(await store.takeChallenge('tx-unknown'), null);
    });

    test('send limits: all or nothing, sliding window, parallel hits never pass the limit', async () => {
      const t0 = 1_700_000_000_000;
      const user = { key: 'u:rl-alice', limit: 3, windowMs: 60_000 };
      const dest = { key: 'd:rl-phone', limit: 2, windowMs: 10_000 };
      assert.deepEqual(await store.hitRateLimits([user, dest], t0), { allowed: true });
      assert.deepEqual(await store.hitRateLimits([user, dest], t0 + 1), { allowed: true });
      // the destination is full: the user's count must not move either
      assert.deepEqual(await store.hitRateLimits([user, dest], t0 + 2), {
        allowed: false,
        blocked: dest.key,
      });
      assert.deepEqual(await store.hitRateLimits([user], t0 + 3), { allowed: true });
      assert.deepEqual(await store.hitRateLimits([user], t0 + 4), { allowed: false, blocked: user.key });
      // the destination's window slides past its first two hits; the user's does not
      assert.deepEqual(await store.hitRateLimits([dest], t0 + 10_002), { allowed: true });
      assert.deepEqual(await store.hitRateLimits([user], t0 + 59_999), { allowed: false, blocked: user.key });
      assert.deepEqual(await store.hitRateLimits([user], t0 + 60_001), { allowed: true });
      const racing = { key: 'u:rl-race', limit: 5, windowMs: 60_000 };
      const results = await Promise.all(Array.from({ length: 20 }, () => store.hitRateLimits([racing], t0)));
      assert.equal(results.filter((r) => r.allowed).length, 5);
    });

    test('a challenge keeps its method binding, the method state and its menu as given', async () => {
      const ch = {
        transactionId: 'tx-bound',
        username: 'u',
        clientId: 'c',
        firstFactor: 'upstream' as const,
        createdAt: Date.now(),
        expiresAt: Date.now() + 1000,
        method: { serial: 'TOTP0001', type: 'email' as const, state: { codeHash: 'h', sent: 2, ok: true } },
        menu: [
          { serial: 'TOTP0001', type: 'totp' as const },
          { serial: 'PUSH0001', type: 'push' as const },
        ],
      };
      await store.putChallenge(ch, 60_000);
      assert.deepEqual(await store.takeChallenge('tx-bound'), ch);
    });

    test('clients, admin keys and settings round-trip', async () => {
      const client: Client = sampleClient('cl1', { name: 'vpn' });
      await store.putClient(client);
      assert.deepEqual(await store.getClient('cl1'), client);
      assert.ok((await store.listClients()).some((c) => c.id === 'cl1'));
      await store.putAdminKey({ id: 'ak1', name: 'root', role: 'helpdesk', keyHash: 'h', createdAt: 1 });
      assert.equal((await store.getAdminKey('ak1'))?.role, 'helpdesk');
      assert.equal(await store.deleteAdminKey('ak1'), true);
      assert.equal(await store.getAdminKey('ak1'), null);
      assert.equal(await store.deleteAdminKey('ak1'), false);
      assert.equal(await store.deleteClient('no-such-client'), false);
      await store.putSettings({ ...DEFAULT_SETTINGS, issuer: 'Contract' });
      assert.equal((await store.getSettings())?.issuer, 'Contract');
      assert.equal(await store.deleteClient('cl1'), true);
    });

    test('console accounts are written, replaced, listed and deleted by username', async () => {
      const account = {
        username: 'c-console',
        role: 'helpdesk' as const,
        passwordHash: 'scrypt$1$1$1$s$h',
        enabled: true,
        createdAt: 1,
        updatedAt: 1,
      };
      assert.equal(await store.getConsoleAccount('c-console'), null);
      await store.putConsoleAccount(account);
      assert.deepEqual(await store.getConsoleAccount('c-console'), account);
      await store.putConsoleAccount({ ...account, totpSealed: 'sealed', updatedAt: 2 });
      assert.equal((await store.getConsoleAccount('c-console'))?.totpSealed, 'sealed');
      assert.deepEqual(
        (await store.listConsoleAccounts()).filter((a) => a.username === 'c-console').map((a) => a.updatedAt),
        [2],
      );
      assert.equal(await store.deleteConsoleAccount('c-console'), true);
      assert.equal(await store.deleteConsoleAccount('c-console'), false);
      assert.equal(await store.getConsoleAccount('c-console'), null);
    });

    test('admin keys written before roles read as superadmin; an unknown role reads as no key', async () => {
      const legacy = {
        id: 'ak-old',
        name: 'old',
        keyHash: 'h',
        role: 'superadmin',
        createdAt: 1,
      } as unknown as AdminKey;
      const future = { ...legacy, id: 'ak-new', role: 'janitor' } as unknown as AdminKey;
      await store.putAdminKey(legacy);
      await store.putAdminKey(future);
      assert.equal((await store.getAdminKey('ak-old'))?.role, 'superadmin');
      assert.equal(await store.getAdminKey('ak-new'), null);
      const listed = await store.listAdminKeys();
      assert.equal(listed.find((k) => k.id === 'ak-old')?.role, 'superadmin');
      assert.equal(
        listed.some((k) => k.id === 'ak-new'),
        false,
      );
      await store.deleteAdminKey('ak-old');
      await store.deleteAdminKey('ak-new');
    });

    test('audit events come back newest first', async () => {
      // recent times: every stream drops what is older than its retention
      const now = Date.now();
      await store.appendAudit([
        { time: now - 100, type: 'a', actor: 'x' },
        { time: now, type: 'b', actor: 'x' },
      ]);
      const events = await store.listAudit(2);
      assert.deepEqual(
        events.map((e) => e.type),
        ['b', 'a'],
      );
    });

    test('every delete leaves a tombstone with its time; a user takes its tokens along', async () => {
      const client = { ...sampleClient('t-cl'), id: 't-cl' };
      await store.putClient(client);
      await store.putAdminKey({ id: 't-ak', name: 'k', keyHash: 'h', role: 'superadmin', createdAt: 1 });
      await store.createUser(sampleUser('t-user'));
      await store.putToken(sampleToken('T-TA', 't-user'));
      await store.putToken(sampleToken('T-TB', 't-user'));
      await store.createUser(sampleUser('t-other'));
      await store.putToken(sampleToken('T-TC', 't-other'));
      const before = Date.now();
      assert.equal(await store.deleteToken('T-TC'), true);
      assert.equal(await store.deleteUser('t-user'), true);
      assert.equal(await store.deleteClient('t-cl'), true);
      assert.equal(await store.deleteAdminKey('t-ak'), true);
      const after = Date.now();
      const found = (await store.listTombstones(before)).filter(
        (t) => t.id.startsWith('t') || t.id.startsWith('T-T'),
      );
      assert.deepEqual(found.map((t) => `${t.kind}:${t.id}`).sort(), [
        'adminKey:t-ak',
        'client:t-cl',
        'token:T-TA',
        'token:T-TB',
        'token:T-TC',
        'user:t-user',
      ]);
      for (const t of found)
        assert.ok(t.deletedAt >= before && t.deletedAt <= after, `${t.id} at ${t.deletedAt}`);
      assert.equal((await store.listTombstones(after + 1)).length, 0, 'since filters by deletedAt');
      const dumped = (await store.dump()).tombstones.map((t) => `${t.kind}:${t.id}`);
      assert.ok(dumped.includes('user:t-user') && dumped.includes('adminKey:t-ak'), 'the dump carries them');
    });

    test('deleting what does not exist leaves no tombstone; creating again clears it', async () => {
      const before = Date.now();
      assert.equal(await store.deleteUser('t-never'), false);
      assert.equal(await store.deleteToken('T-NEVER'), false);
      assert.equal(await store.deleteClient('t-never'), false);
      assert.equal(await store.deleteAdminKey('t-never'), false);
      const ids = (await store.listTombstones(before)).map((t) => t.id);
      assert.ok(!ids.some((id) => /never/i.test(id)), ids.join(','));
      await store.createUser(sampleUser('t-user'));
      await store.putToken(sampleToken('T-TA', 't-user'));
      await store.putClient({ ...sampleClient('t-cl'), id: 't-cl' });
      await store.putAdminKey({ id: 't-ak', name: 'k', keyHash: 'h', role: 'superadmin', createdAt: 1 });
      const left = (await store.listTombstones()).map((t) => `${t.kind}:${t.id}`);
      for (const gone of ['user:t-user', 'token:T-TA', 'client:t-cl', 'adminKey:t-ak'])
        assert.ok(!left.includes(gone), `${gone} cleared by the re-create`);
      assert.ok(left.includes('token:T-TB'), 'the token not re-created keeps its tombstone');
    });

    test('pruneTombstones removes only the ones older than the cut', async () => {
      await store.createUser(sampleUser('t-prune'));
      await store.deleteUser('t-prune');
      const all = await store.listTombstones();
      const cut = Math.min(...all.map((t) => t.deletedAt)) + 1;
      const older = all.filter((t) => t.deletedAt < cut).length;
      assert.ok(older >= 1);
      assert.equal(await store.pruneTombstones(cut), older);
      const rest = await store.listTombstones();
      assert.equal(rest.length, all.length - older);
      assert.ok(rest.every((t) => t.deletedAt >= cut));
      assert.equal(await store.pruneTombstones(0), 0);
    });

    test('renameUser moves tokens and the lock, leaves a tombstone, and never overwrites', async () => {
      await store.createUser(sampleUser('Rn-Old', { email: 'o@x' }));
      await store.putToken(sampleToken('T-RN', 'Rn-Old', { description: 'a "quoted" / thing' }));
      await store.commitAccept('Rn-Old', 'T-RN', { kind: 'totp', step: 40, drift: 2 }, 1);
      assert.ok((await store.reserveAttempt('Rn-Old', 10, attempts)).granted);
      const locked = await store.commitFailure('Rn-Old', 10, {
        ...policy,
        lockout: { ...policy.lockout, threshold: 1 },
      });
      assert.ok(locked.lockedUntil > 10);
      await store.createUser(sampleUser('rn-taken'));
      assert.equal(
        await store.renameUser('Rn-Old', 'rn-taken'),
        false,
        'an existing name is never overwritten',
      );
      assert.equal(await store.renameUser('rn-missing', 'rn-x'), false);
      assert.equal((await store.getUser('Rn-Old'))?.email, 'o@x');

      const before = Date.now();
      assert.equal(await store.renameUser('Rn-Old', 'rn-new'), true);
      assert.equal(await store.getUser('Rn-Old'), null);
      assert.equal(await store.loadAuthView('Rn-Old'), null);
      const view = await store.loadAuthView('rn-new');
      assert.ok(view);
      assert.equal(view.user.username, 'rn-new');
      assert.equal(view.user.email, 'o@x');
      assert.deepEqual(
        view.tokens.map((t) => [t.serial, t.username, t.description]),
        [['T-RN', 'rn-new', 'a "quoted" / thing']],
      );
      assert.equal(view.tokenStates.get('T-RN')?.lastUsedStep, 40);
      assert.equal(view.userState.lockedUntil, locked.lockedUntil, 'the lock moves with the user');
      assert.deepEqual(await store.listTokens('Rn-Old'), []);
      assert.ok((await store.listUsers({ prefix: 'rn-' })).items.some((u) => u.username === 'rn-new'));
      assert.ok(!(await store.listUsers({ prefix: 'Rn-' })).items.some((u) => u.username === 'Rn-Old'));
      const tomb = (await store.listTombstones(before)).find((t) => t.id === 'Rn-Old');
      assert.equal(tomb?.kind, 'user');
      assert.equal(await store.deleteUser('rn-new'), true);
      assert.equal(await store.getToken('T-RN'), null);
    });

    test('dump holds configuration and state together', async () => {
      const d = await store.dump();
      assert.ok(d.users.some((u) => u.username === 'c-totp'));
      assert.ok(d.tokens.some((t) => t.serial === 'T-TOTP'));
      assert.equal(d.tokenStates['T-TOTP']?.lastUsedStep, 51);
      assert.ok(d.userStates['c-fail']);
      assert.equal(d.settings?.issuer, 'Contract');
    });
  });
}

const DAY = 86_400_000;

function validateEvent(time: number, i: number): AuditEvent {
  return { time, type: 'validate', actor: 'client:c', username: `flood-${i}`, result: 'reject' };
}

/** Audit streams: apart from each other, each kept by age (and auth by count), on a faked clock. */
function auditContract(name: string, make: (opts?: ContractStoreOptions) => Promise<StoreFixture>): void {
  describe(`Store contract: ${name}: audit streams`, () => {
    let fx: StoreFixture;
    let store: Store;
    const T0 = 1_800_000_000_000;
    let clock = T0;
    beforeAll(async () => {
      fx = await make({
        now: () => clock,
        auditRetention: {
          auth: { maxAgeMs: 30 * DAY, maxEvents: 2_000 },
          admin: { maxAgeMs: 400 * DAY },
          event: { maxAgeMs: 90 * DAY },
        },
      });
      store = fx.store;
    });
    afterAll(async () => {
      await fx.cleanup();
    });

    test('10,000 validate events after an admin event leave the admin event listed', async () => {
      await store.appendAudit(
        [{ time: T0, type: 'user.create', actor: 'admin:k1', username: 'kept' }],
        'admin',
      );
      for (let b = 0; b < 10; b++) {
        const batch = Array.from({ length: 1_000 }, (_, i) =>
          validateEvent(T0 + 1 + b * 1_000 + i, b * 1_000 + i),
        );
        await store.appendAudit(batch, 'auth');
      }
      await store.pruneAudit();
      const admin = await store.listAudit(10, 'admin');
      assert.deepEqual(
        admin.map((e) => [e.type, e.username]),
        [['user.create', 'kept']],
      );
      const auth = await store.listAudit(5_000, 'auth');
      assert.equal(auth.length, 2_000, 'the auth stream is bounded by its own maxEvents');
      assert.equal(auth[0]?.username, 'flood-9999', 'newest first');
      assert.equal(auth.at(-1)?.username, 'flood-8000', 'the oldest auth events went first');
      assert.ok(auth.every((e) => e.type === 'validate'));
    });

    test('one stream or all of them merged, newest first', async () => {
      await store.appendAudit([{ time: T0 + 20_000, type: 'node.snapshot', actor: 'node:a' }], 'event');
      const merged = await store.listAudit(3);
      assert.deepEqual(
        merged.map((e) => e.type),
        ['node.snapshot', 'validate', 'validate'],
      );
      assert.deepEqual(
        (await store.listAudit(5, 'event')).map((e) => e.type),
        ['node.snapshot'],
      );
      assert.equal((await store.listAudit(3_000)).length, 2_002);
    });

    test('two equal events of one millisecond are both kept, in the order they came', async () => {
      const e = { time: T0 + 30_000, type: 'user.update', actor: 'admin:k1', username: 'twice' };
      await store.appendAudit([e, { ...e, username: 'twice-b' }], 'admin');
      await store.appendAudit([e], 'admin');
      const top = (await store.listAudit(3, 'admin')).map((x) => x.username);
      assert.deepEqual(top, ['twice', 'twice-b', 'twice']);
    });

    test("events older than their stream's retention are gone after a sweep", async () => {
      // 31 days on: the auth events are past 30 days, the admin ones far from 400
      clock = T0 + 31 * DAY;
      await store.appendAudit([validateEvent(clock, -1)], 'auth');
      await store.pruneAudit();
      assert.deepEqual(
        (await store.listAudit(10, 'auth')).map((e) => e.username),
        ['flood--1'],
      );
      assert.equal((await store.listAudit(10, 'admin')).length, 4);
      assert.equal((await store.listAudit(10, 'event')).length, 1);
      // an event that arrives already past its retention is not kept
      await store.appendAudit([validateEvent(clock - 30 * DAY - 1, -2)], 'auth');
      await store.pruneAudit();
      assert.equal((await store.listAudit(10, 'auth')).length, 1);
      // 91 days on: node events are gone; 401 days on: the admin trail too
      clock = T0 + 91 * DAY;
      await store.pruneAudit();
      assert.equal((await store.listAudit(10, 'event')).length, 0);
      assert.equal((await store.listAudit(10, 'admin')).length, 4);
      clock = T0 + 401 * DAY;
      await store.pruneAudit();
      assert.equal((await store.listAudit(10, 'admin')).length, 0);
      assert.equal((await store.listAudit(10)).length, 0);
    });
  });
}
