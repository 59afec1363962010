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
    } finally {
      replica.proc.kill('SIGCONT');
    }
  });
});
