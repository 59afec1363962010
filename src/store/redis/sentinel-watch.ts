import { EventEmitter } from 'node:events';
import type { ConnectionOptions } from 'node:tls';
import type { Redis, RedisOptions } from 'ioredis';
import { within } from '../within.ts';
import { newRedis } from './new-redis.ts';

export interface SentinelWatchOptions {
  sentinels: { host: string; port: number }[];
  name: string;
  password?: string;
  tls?: ConnectionOptions;
  connectTimeout: number;
  onError: (err: unknown) => void;
}

/** How long one Sentinel may take to answer before the others' answers are used. */
const ASK_MS = 300;

/**
 * Where the master is, as the Sentinels say, and word of a switch the moment they announce it
 * (`+switch-master`), so the node's writers are re-pointed at once instead of on their next
 * failed reconnect. Every Sentinel is asked; the answer of the newest configuration epoch wins,
 * so a Sentinel left on the far side of a partition cannot point the node back at the old master.
 */
export class SentinelWatch extends EventEmitter<{ switch: [string] }> {
  private readonly asks: Redis[];
  private readonly subs: Redis[];

  constructor(private readonly opts: SentinelWatchOptions) {
    super();
    const base: RedisOptions = {
      ...(opts.tls ? { tls: opts.tls } : {}),
      ...(opts.password ? { password: opts.password } : {}),
      connectTimeout: opts.connectTimeout,
      enableReadyCheck: false,
      // A Sentinel that is down must not queue questions: the others answer.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (times) => Math.min(50 * times, 1_000),
    };
    this.asks = opts.sentinels.map((s) => this.watched(newRedis({ ...base, ...s })));
    this.subs = opts.sentinels.map((s) => {
      const sub = this.watched(
        newRedis({ ...base, ...s, enableOfflineQueue: true, maxRetriesPerRequest: null }),
      );
      sub.subscribe('+switch-master').catch(opts.onError);
      sub.on('message', (_channel: string, message: string) => {
        // "<name> <old ip> <old port> <new ip> <new port>"
        const [name, , , host, port] = message.split(' ');
        if (name === opts.name && host && port) this.emit('switch', joinAddr(host, port));
      });
      return sub;
    });
  }

  private watched(c: Redis): Redis {
    c.on('error', this.opts.onError);
    return c;
  }

  /** The master of the newest configuration epoch any Sentinel reports. */
  async master(): Promise<string> {
    if (!this.asks.some((c) => c.status === 'ready')) await this.anyReady();
    const answers = await Promise.all(
      this.asks.map(async (c) => {
        if (c.status !== 'ready') return undefined;
        const reply = await within(c.call('SENTINEL', 'MASTER', this.opts.name) as Promise<string[]>, ASK_MS);
        return reply ? fields(reply) : undefined;
      }),
    );
    let best: { addr: string; epoch: number } | undefined;
    for (const a of answers) {
      if (!a?.ip || !a.port) continue;
      const epoch = Number(a['config-epoch'] ?? 0);
      if (!best || epoch > best.epoch) best = { addr: joinAddr(a.ip, a.port), epoch };
    }
    if (!best) throw new Error('no Sentinel answered');
    return best.addr;
  }

  private anyReady(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        for (const c of this.asks) c.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, this.opts.connectTimeout);
      for (const c of this.asks) c.once('ready', done);
    });
  }

  close(): void {
    for (const c of [...this.asks, ...this.subs]) c.disconnect();
  }
}

function fields(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}

function joinAddr(host: string, port: string | number): string {
  return `${host}:${port}`;
}
