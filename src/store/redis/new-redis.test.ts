import assert from 'node:assert/strict';
import type { EventEmitter } from 'node:events';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { type RedisProcess, startRedis } from '../../../test/harness/redis.ts';
import { newRedis } from './new-redis.ts';

describe('Redis clients whose sockets survive a second error report', () => {
  let redis: RedisProcess;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  test('a socket that reports two errors does not throw the second (ioredis listens once)', async () => {
    const client = newRedis({ host: '127.0.0.1', port: redis.port, retryStrategy: () => null });
    const seen: string[] = [];
    client.on('error', (e: Error) => seen.push(e.message));
    assert.equal(await client.ping(), 'PONG');
    const stream = (client as unknown as { stream: EventEmitter }).stream;
    stream.emit('error', new Error('tlsv1 alert decode error'));
    // without the lasting listener this second report has no listener left and throws
    assert.doesNotThrow(() => stream.emit('error', new Error('read ECONNRESET')));
    assert.deepEqual(seen, ['tlsv1 alert decode error'], 'the first still reaches the client');
    client.disconnect();
  });

  test('it connects at once like any client, and waits with lazyConnect', async () => {
    const eager = newRedis({ host: '127.0.0.1', port: redis.port });
    await new Promise((r) => eager.once('ready', r));
    const lazy = newRedis({ host: '127.0.0.1', port: redis.port, lazyConnect: true });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(lazy.status, 'wait');
    await lazy.connect();
    assert.equal(await lazy.ping(), 'PONG');
    eager.disconnect();
    lazy.disconnect();
  });
});
