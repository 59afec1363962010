import { InvalidCredentialsError } from 'ldapts';
import { loadSettings } from '../admin/settings.ts';
import type { StoredDirectorySource, User } from '../model/index.ts';
import type { Store } from '../store/index.ts';
import { BindPool, DEFAULT_POOL, type PoolLimits } from './bind-pool.ts';

export type PasswordVerdict = 'ok' | 'wrong' | 'unavailable';

/** Checks a user's directory password (`firstFactor: "ldap"`). */
export interface DirectoryPasswords {
  verify(user: User, password: string): Promise<PasswordVerdict>;
  /** Closes the pooled connections (at shutdown). */
  close?(): Promise<void>;
}

/** What a pool's connections depend on: a source changed in any of these gets a new pool. */
function connectionKey(s: StoredDirectorySource): string {
  return JSON.stringify([s.url, s.startTls, s.caFile ?? '', s.connectTimeoutMs, s.timeoutMs]);
}

/**
 * Binds as the user's DN on the user's source, over a small bounded pool of connections per source
 * (src/directory/bind-pool.ts), each bind bounded by the source's timeout. The password is passed
 * to the bind and nowhere else: not stored, not cached, not logged. A directory that does not
 * answer, or a pool that is full, is `unavailable`, never a wrong password.
 */
export function directoryPasswords(store: Store, limits: PoolLimits = DEFAULT_POOL): DirectoryPasswords {
  const pools = new Map<string, { key: string; pool: BindPool }>();
  const poolFor = (source: StoredDirectorySource): BindPool => {
    const key = connectionKey(source);
    const known = pools.get(source.name);
    if (known?.key === key) return known.pool;
    void known?.pool.close();
    const pool = new BindPool(source, limits);
    pools.set(source.name, { key, pool });
    return pool;
  };
  return {
    async verify(user, password) {
      // An empty password is an unauthenticated bind, which LDAP servers answer with success.
      if (password.length === 0 || !user.directory) return 'wrong';
      const link = user.directory;
      const source = ((await loadSettings(store)).directorySources ?? []).find((s) => s.name === link.source);
      if (!source) return 'unavailable';
      const pool = poolFor(source);
      let client: Awaited<ReturnType<BindPool['acquire']>>;
      try {
        client = await pool.acquire();
      } catch {
        return 'unavailable';
      }
      let healthy = true;
      try {
        await client.bind(link.dn, password);
        return 'ok';
      } catch (e) {
        if (e instanceof InvalidCredentialsError) return 'wrong';
        // a timeout leaves an answer pending on this connection: it is not used again
        healthy = false;
        return 'unavailable';
      } finally {
        pool.release(client, healthy);
      }
    },
    async close() {
      await Promise.all([...pools.values()].map(({ pool }) => pool.close()));
      pools.clear();
    },
  };
}
