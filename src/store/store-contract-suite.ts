import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { type AuditEvent, type Client, DEFAULT_SETTINGS, EMPTY_TOKEN_STATE } from '../model/index.ts';
import { sampleToken, sampleUser } from './fixtures.ts';
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

/**
 * The behaviour every Store must have. Each implementation's test file calls this with a factory
 * that opens a fresh, empty store on a real backend.
 */
export function storeContract(
  name: string,
  make: (opts?: ContractStoreOptions) => Promise<StoreFixture>,
): void {
  auditContract(name, make);

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
      assert.deepEqual(view.tokenStates['T-VIEW'], EMPTY_TOKEN_STATE);
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

    test('failures count up, lock at the threshold and a success resets them', async () => {
      await store.createUser(sampleUser('c-fail'));
      await store.putToken(sampleToken('T-FAIL', 'c-fail'));
      const now = 1_000_000;
      assert.equal((await store.commitFailure('c-fail', now, policy)).failures, 1);
      assert.equal((await store.commitFailure('c-fail', now + 1, policy)).failures, 2);
      const locked = await store.commitFailure('c-fail', now + 2, policy);
      assert.equal(locked.lockedUntil, now + 2 + 60_000);
      assert.equal(locked.lockCount, 1);
      await store.unlockUser('c-fail');
      assert.equal((await store.loadAuthView('c-fail'))?.userState.lockedUntil, 0);
      await store.commitFailure('c-fail', now + 3, policy);
      await store.commitAccept('c-fail', 'T-FAIL', { kind: 'totp', step: 5, drift: 0 }, now + 4);
      const after = (await store.loadAuthView('c-fail'))?.userState;
      assert.equal(after?.failures, 0);
      assert.equal(after?.lastSuccess, now + 4);
    });

    test('concurrent failures are all counted', async () => {
      await store.createUser(sampleUser('c-many'));
      const big = { lockout: { threshold: 1000, baseSeconds: 60, maxSeconds: 60 }, windowMs: 60_000 };
      await Promise.all(Array.from({ length: 40 }, () => store.commitFailure('c-many', 5, big)));
      assert.equal((await store.loadAuthView('c-many'))?.userState.failures, 40);
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

    test('clients, admin keys and settings round-trip', async () => {
      const client: Client = {
        id: 'cl1',
        name: 'vpn',
        kind: 'radius',
        keyHash: 'h',
        allowedCidrs: [],
        challengeText: 'Enter code',
        enabled: true,
        rejectDetail: 'generic',
        firstFactor: 'pin',
        createdAt: 1,
      };
      await store.putClient(client);
      assert.deepEqual(await store.getClient('cl1'), client);
      assert.ok((await store.listClients()).some((c) => c.id === 'cl1'));
      await store.putAdminKey({ id: 'ak1', name: 'root', keyHash: 'h', createdAt: 1 });
      assert.equal((await store.getAdminKey('ak1'))?.name, 'root');
      assert.equal(await store.deleteAdminKey('ak1'), true);
      assert.equal(await store.getAdminKey('ak1'), null);
      await store.putSettings({ ...DEFAULT_SETTINGS, issuer: 'Contract' });
      assert.equal((await store.getSettings())?.issuer, 'Contract');
      assert.equal(await store.deleteClient('cl1'), true);
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
