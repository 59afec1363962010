import { InvalidCredentialsError } from 'ldapts';
import { loadSettings } from '../admin/settings.ts';
import type { User } from '../model/index.ts';
import type { Store } from '../store/index.ts';
import { openClient } from './connect.ts';

export type PasswordVerdict = 'ok' | 'wrong' | 'unavailable';

/** Checks a user's directory password (`firstFactor: "ldap"`). */
export interface DirectoryPasswords {
  verify(user: User, password: string): Promise<PasswordVerdict>;
}

/**
 * Binds as the user's DN on the user's source, with the source's timeouts, and unbinds at once.
 * The password is passed to the bind and nowhere else: not stored, not cached, not logged.
 */
export function directoryPasswords(store: Store): DirectoryPasswords {
  return {
    async verify(user, password) {
      // An empty password is an unauthenticated bind, which LDAP servers answer with success.
      if (password.length === 0 || !user.directory) return 'wrong';
      const link = user.directory;
      const source = ((await loadSettings(store)).directorySources ?? []).find((s) => s.name === link.source);
      if (!source) return 'unavailable';
      let client: Awaited<ReturnType<typeof openClient>> | undefined;
      try {
        client = await openClient(source);
        await client.bind(link.dn, password);
        return 'ok';
      } catch (e) {
        return e instanceof InvalidCredentialsError ? 'wrong' : 'unavailable';
      } finally {
        await client?.unbind().catch(() => {});
      }
    },
  };
}
