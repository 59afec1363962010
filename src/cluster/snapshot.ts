import type { Store, StoreDump } from '../store/index.ts';
import { VERSION } from '../version.ts';
import {
  type Component,
  type KeyFileContent,
  type Manifest,
  type SnapshotPayload,
  type SnapshotSecret,
  sealSnapshot,
} from './snapshot-format.ts';

/** Picks the parts of a store cut that belong to the chosen components. */
export function selectComponents(dump: StoreDump, components: readonly Component[]): Partial<StoreDump> {
  const want = new Set(components);
  const out: Partial<StoreDump> = {};
  if (want.has('users')) {
    out.users = dump.users;
    out.groups = dump.groups;
    out.userStates = dump.userStates;
  }
  if (want.has('tokens')) {
    out.tokens = dump.tokens;
    out.tokenStates = dump.tokenStates;
  }
  if (want.has('clients')) {
    out.clients = dump.clients;
    out.adminKeys = dump.adminKeys;
  }
  if (want.has('settings')) out.settings = dump.settings;
  // Deletions travel with every cut: a standby tells a master's deletion from a wiped master by
  // them (sync-removals.ts), and they name what a restore must not silently bring back.
  if (want.size > 0) out.tombstones = dump.tombstones;
  return out;
}

export interface CreateOptions {
  secret: SnapshotSecret;
  components: readonly Component[];
  node: string;
  /** The seed key ring, for the `keys` component (kept apart by default: see docs). */
  keys?: KeyFileContent;
  now?: number;
}

/** One consistent cut of the store (Store.dump), sealed. Uses only the Store interface. */
export async function createSnapshot(
  store: Store,
  opts: CreateOptions,
): Promise<{ bytes: Buffer; manifest: Manifest }> {
  const time = opts.now ?? Date.now();
  const dump = await store.dump();
  const components = opts.components.filter((c) => c !== 'keys' || opts.keys);
  const payload: SnapshotPayload = { dump: selectComponents(dump, components) };
  if (components.includes('keys') && opts.keys) payload.keys = opts.keys;
  return sealSnapshot(payload, opts.secret, {
    time,
    node: opts.node,
    appVersion: VERSION,
    components: [...components],
  });
}
