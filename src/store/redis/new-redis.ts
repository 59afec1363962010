import type { EventEmitter } from 'node:events';
import { Redis, type RedisOptions } from 'ioredis';

interface StreamConnector {
  connect(emitter: unknown): Promise<EventEmitter>;
}

/**
 * A Redis client whose every socket keeps an error listener for as long as it lives. ioredis
 * listens with `once`, so a socket that reports a second error (a TLS alert, then the reset) throws
 * it as an uncaught exception and ends the process (redis/ioredis#961). ioredis's own listeners
 * still take the first error, and reconnect as before; the later reports are dropped, the socket is
 * closed by then. The client connects at once, as ioredis's default does, unless `lazyConnect`.
 */
export function newRedis(options: RedisOptions): Redis {
  const client = new Redis({ ...options, lazyConnect: true });
  // ioredis keeps its connector in a field of its own; the test beside this file fails if it moves
  const connector = (client as unknown as { connector: StreamConnector }).connector;
  const connect = connector.connect.bind(connector);
  connector.connect = async (emitter) => {
    const stream = await connect(emitter);
    stream.on('error', () => {});
    return stream;
  };
  if (!options.lazyConnect) client.connect().catch(() => {});
  return client;
}
