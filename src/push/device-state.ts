import type { PublicToken } from '../admin/index.ts';
import type { Store } from '../store/index.ts';

/**
 * Online devices' last sync (kept apart from the token, so any node can note it) joined to their
 * token views, for the admin API and the console alike.
 */
export async function withDeviceState<T extends PublicToken>(store: Store, tokens: T[]): Promise<T[]> {
  return Promise.all(
    tokens.map(async (t) => {
      if (t.device?.registration !== 'online') return t;
      const state = await store.push.getDeviceState(t.serial);
      return state ? { ...t, device: { ...t.device, lastSyncAt: state.lastSyncAt } } : t;
    }),
  );
}
