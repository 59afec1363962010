import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { waitFor } from '../../../test/harness/ports.ts';
import { type RedisProcess, startRedis, waitForReplicaLink } from '../../../test/harness/redis.ts';
import { STORE_UNAVAILABLE_MESSAGE } from '../../model/index.ts';
import { sampleToken, sampleUser } from '../fixtures.ts';
import { openRedisStore, type RedisStore } from './index.ts';

// WAIT with a replica that is connected but does not answer (SIGSTOP): the replica-ack policy
// decides, and either way the alarm event fires.
describe('replica acknowledgement policy', () => {
  let master: RedisProcess;
  let replica: RedisProcess;
  let accepting: RedisStore;
  let rejecting: RedisStore;
  const alarms = { accept: 0, reject: 0 };

  beforeAll(async () => {
    master = await startRedis();
    replica = await startRedis({ replicaOf: master.port });
    // A replica still syncing acknowledges nothing: the tests below count alarms from a linked one.
    await waitForReplicaLink(replica);
    accepting = await openRedisStore({ url: master.url, replicaAck: 'accept', waitTimeoutMs: 1500 });
    rejecting = await openRedisStore({ url: master.url, replicaAck: 'reject', waitTimeoutMs: 1500 });
    accepting.links.on('replica-ack-missing', () => alarms.accept++);
    rejecting.links.on('replica-ack-missing', () => alarms.reject++);
    await accepting.createUser(sampleUser('ack'));
    await accepting.putToken(sampleToken('ACK', 'ack', { type: 'hotp' }));
  });
  afterAll(async () => {
    replica.proc.kill('SIGCONT');
    await accepting.close();
    await rejecting.close();
    await replica.stop();
    await master.stop();
  });

  test('with a healthy replica an accept is acknowledged and raises no alarm', async () => {
    assert.equal(await accepting.commitAccept('ack', 'ACK', { kind: 'hotp', counter: 0 }, 1), true);
    assert.equal(alarms.accept, 0);
  });

  test('settleAttempt: the accepts of one event-loop turn share one WAIT, each acknowledged', async () => {
    const policy = {
      lockout: { threshold: 0, baseSeconds: 60, maxSeconds: 60 },
      windowMs: 60_000,
      failuresPerWindow: 0,
    };
    await accepting.links.refresh();
    await waitFor(
      'the store to list the replica',
      async () => (accepting.replication()?.replicas.length ?? 0) > 0,
    );
    for (let i = 0; i < 13; i++) await accepting.createUser(sampleUser(`g${i}`));
    // the first run loads the script into this Redis (EVALSHA, then EVAL): not part of the count
    const settle = (i: number) =>
      accepting.settleAttempt(`g${i}`, 10, policy, {
        kind: 'accept',
        serial: `G${i}`,
        advance: { kind: 'hotp', counter: 0 },
      });
    assert.equal((await settle(12)).kind, 'accepted');
    const raw = master.client();
    const waits = async () =>
      Number(/cmdstat_wait:calls=(\d+)/.exec(String(await raw.info('commandstats')))?.[1] ?? 0);
    try {
      const before = await waits();
      const decisions = await Promise.all(Array.from({ length: 12 }, (_, i) => settle(i)));
      assert.deepEqual(new Set(decisions.map((d) => d.kind)), new Set(['accepted']));
      const sent = (await waits()) - before;
      assert.ok(sent >= 1 && sent <= 2, `one WAIT for the turn's twelve accepts (${sent})`);
      const replicaConn = replica.client();
      try {
        // each accept was on the replica before it was answered
        for (let i = 0; i < 12; i++)
          assert.equal(await replicaConn.hget('tessera:tstates', `G${i}`), '1,-1,0');
      } finally {
        replicaConn.disconnect();
      }
      assert.equal(alarms.accept, 0);
    } finally {
      raw.disconnect();
    }
  });

  test('TESSERA_REPLICA_ACK_COUNT above the replicas that answer counts as no acknowledgement', async () => {
    const strict = await openRedisStore({
      url: master.url,
      replicaAck: 'reject',
      waitTimeoutMs: 300,
      ackReplicas: 2,
    });
    try {
      await assert.rejects(
        strict.commitAccept('ack', 'ACK2', { kind: 'hotp', counter: 0 }, 5),
        (err: Error) => {
          assert.match(String(err.cause), /no replica acknowledged/);
          return true;
        },
      );
    } finally {
      await strict.close();
    }
  });

  test('no acknowledgement: "accept" accepts and raises the alarm, "reject" refuses and raises it', async () => {
    // Both stores must know the replica (their ROLE view) before it stops answering: a store that
    // has seen none has nothing to WAIT for.
    for (const store of [accepting, rejecting]) {
      await store.links.refresh();
      await waitFor(
        'the store to list the replica',
        async () => (store.replication()?.replicas.length ?? 0) > 0,
      );
    }
    replica.proc.kill('SIGSTOP');
    try {
      const started = Date.now();
      assert.equal(await accepting.commitAccept('ack', 'ACK', { kind: 'hotp', counter: 1 }, 2), true);
      assert.ok(Date.now() - started >= 1400, 'waited for the replica');
      assert.equal(alarms.accept, 1);
      await assert.rejects(
        rejecting.commitAccept('ack', 'ACK', { kind: 'hotp', counter: 2 }, 3),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, 'STORE_UNAVAILABLE');
          // the caller's message is generic; the reason is the cause, for the log
          assert.equal(err.message, STORE_UNAVAILABLE_MESSAGE);
          assert.match(String(err.cause), /no replica acknowledged/);
          return true;
        },
      );
      assert.equal(alarms.reject, 1);
      // the refused accept still used the code: it can never be accepted later
      assert.equal(await rejecting.commitAccept('ack', 'ACK', { kind: 'hotp', counter: 2 }, 4), false);
      // the single-step settle too: no acknowledgement, no accept
      await assert.rejects(
        rejecting.settleAttempt(
          'ack',
          5,
          { lockout: { threshold: 0, baseSeconds: 1, maxSeconds: 1 }, windowMs: 1, failuresPerWindow: 0 },
          {
            kind: 'accept',
            serial: 'ACK',
            advance: { kind: 'hotp', counter: 3 },
          },
        ),
        (err: Error & { code?: string }) => err.code === 'STORE_UNAVAILABLE',
      );
      assert.equal(alarms.reject, 2);
    } finally {
      replica.proc.kill('SIGCONT');
    }
  });
});
