import type { Client } from 'ldapts';
import type { StoredDirectorySource } from '../model/index.ts';
import { openClient } from './connect.ts';

export interface PoolLimits {
  /** Connections open to one source at most (busy and idle together). */
  size: number;
  /** Binds that may wait for a connection; one more is refused at once. */
  waiting: number;
  /** An idle connection is closed after this long. */
  idleMs: number;
}

export const DEFAULT_POOL: PoolLimits = { size: 4, waiting: 32, idleMs: 30_000 };

/** Thrown when the pool is full and so is its queue, or a wait outlasts the source's timeout. */
export class PoolBusyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PoolBusyError';
  }
}

interface Waiter {
  resolve: (c: Client) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * A small, bounded set of connections to one source, used only for user binds (`firstFactor:
 * "ldap"`): a login does not pay a TCP and TLS handshake, and a flood of logins cannot open more
 * than `size` connections to the directory. A connection keeps no credential: ldapts replays a
 * bind only with `autoRebind`, which is off, and a connection is only ever used for a new bind.
 */
export class BindPool {
  private readonly idle: { client: Client; timer: NodeJS.Timeout }[] = [];
  private readonly queue: Waiter[] = [];
  private open = 0;

  constructor(
    readonly source: StoredDirectorySource,
    private readonly limits: PoolLimits = DEFAULT_POOL,
  ) {}

  /** Connections open now (busy or idle), for tests and metrics. */
  get size(): number {
    return this.open;
  }

  async acquire(): Promise<Client> {
    while (this.idle.length > 0) {
      const { client, timer } = this.idle.pop()!;
      clearTimeout(timer);
      if (client.isConnected) return client;
      this.open--;
    }
    if (this.open < this.limits.size) {
      this.open++;
      try {
        return await openClient(this.source);
      } catch (e) {
        this.open--;
        this.handOn();
        throw e;
      }
    }
    if (this.queue.length >= this.limits.waiting) {
      throw new PoolBusyError('every directory connection is busy and the queue is full');
    }
    return new Promise<Client>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          const at = this.queue.indexOf(waiter);
          if (at >= 0) this.queue.splice(at, 1);
          reject(new PoolBusyError('no directory connection became free in time'));
        }, this.source.timeoutMs),
      };
      this.queue.push(waiter);
    });
  }

  /** Gives a connection back; `healthy` false (a timeout, a closed socket) closes it instead. */
  release(client: Client, healthy: boolean): void {
    if (!healthy || !client.isConnected) {
      this.open--;
      void client.unbind().catch(() => {});
      this.handOn();
      return;
    }
    const waiter = this.queue.shift();
    if (waiter) {
      clearTimeout(waiter.timer);
      waiter.resolve(client);
      return;
    }
    const timer = setTimeout(() => {
      const at = this.idle.findIndex((x) => x.client === client);
      if (at >= 0) this.idle.splice(at, 1);
      this.open--;
      void client.unbind().catch(() => {});
    }, this.limits.idleMs);
    timer.unref();
    this.idle.push({ client, timer });
  }

  /** A slot came free: the first waiter opens a connection of its own. */
  private handOn(): void {
    const waiter = this.queue.shift();
    if (!waiter) return;
    clearTimeout(waiter.timer);
    this.acquire().then(waiter.resolve, waiter.reject);
  }

  async close(): Promise<void> {
    for (const w of this.queue.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new PoolBusyError('the pool is closed'));
    }
    for (const { client, timer } of this.idle.splice(0)) {
      clearTimeout(timer);
      this.open--;
      await client.unbind().catch(() => {});
    }
  }
}
