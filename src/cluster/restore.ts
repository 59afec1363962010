import {
  EMPTY_TOKEN_STATE,
  type Settings,
  TesseraError,
  type Token,
  type TokenState,
} from '../model/index.ts';
import { timeStep } from '../otp/index.ts';
import type { Store } from '../store/index.ts';
import type { Component, KeyFileContent, Manifest, SnapshotPayload } from './snapshot-format.ts';

export interface RestoreOptions {
  components: readonly Component[];
  now?: number;
  /** Writes the snapshot's seed keys (the `keys` component); returns what it did. */
  restoreKeys?: (keys: KeyFileContent) => string;
  /**
   * `recovery` (default): the snapshot may be older than reality (floors, resync marks).
   * `sync`: a standby applying the master's fresh snapshots; states are max-merged and the
   * master's tokens are taken as they are (no floor, so standby users are not locked out each pull).
   */
  mode?: 'recovery' | 'sync';
}

export interface RestoreReport {
  snapshotTime: number;
  restoreTime: number;
  components: Component[];
  settings: number;
  clients: number;
  adminKeys: number;
  groups: number;
  usersCreated: number;
  usersReplaced: number;
  tokensRestored: number;
  tokensSkippedNoUser: number;
  /** TOTP tokens whose last-used step was raised to the restore floor. */
  totpFloored: number;
  /** HOTP tokens whose live counter was ahead of the snapshot: kept, never rolled back. */
  hotpKeptLive: number;
  /** HOTP tokens with no live state: marked resync required. */
  hotpResyncRequired: string[];
  keys?: string;
}

/**
 * Puts a snapshot's chosen components into a store, through the Store interface only, so it
 * works on both stores. Restore adds and replaces; it never deletes what the snapshot lacks.
 *
 * Codes stay used: every token's state is max-merged with the live one (never rolled back); a
 * TOTP token's last-used step gets a floor of the restore time's step plus the accept window and
 * the token's forward drift (any code that could have been accepted before the restore); a HOTP
 * token with no live state cannot prove its counter and is marked resync required.
 */
export async function restoreSnapshot(
  store: Store,
  snapshot: { manifest: Manifest; payload: SnapshotPayload },
  opts: RestoreOptions,
): Promise<RestoreReport> {
  const role = await store.role();
  if (role.role === 'slave') {
    throw new TesseraError(
      'READ_ONLY_REPLICA',
      `this node is a slave; restore on the master at ${role.master}`,
    );
  }
  const now = opts.now ?? Date.now();
  const want = new Set(opts.components.filter((c) => snapshot.manifest.components.includes(c)));
  const d = snapshot.payload.dump;
  const report: RestoreReport = {
    snapshotTime: snapshot.manifest.time,
    restoreTime: now,
    components: [...want],
    settings: 0,
    clients: 0,
    adminKeys: 0,
    groups: 0,
    usersCreated: 0,
    usersReplaced: 0,
    tokensRestored: 0,
    tokensSkippedNoUser: 0,
    totpFloored: 0,
    hotpKeptLive: 0,
    hotpResyncRequired: [],
  };

  if (want.has('keys') && snapshot.payload.keys && opts.restoreKeys)
    report.keys = opts.restoreKeys(snapshot.payload.keys);
  if (want.has('settings') && d.settings) {
    await store.putSettings(d.settings);
    report.settings = 1;
  }
  if (want.has('clients')) {
    for (const c of d.clients ?? []) await store.putClient(c);
    for (const k of d.adminKeys ?? []) await store.putAdminKey(k);
    report.clients = d.clients?.length ?? 0;
    report.adminKeys = d.adminKeys?.length ?? 0;
  }
  if (want.has('users')) {
    for (const g of d.groups ?? []) await store.putGroup(g);
    report.groups = d.groups?.length ?? 0;
    await eachLimit(d.users ?? [], async (u) => {
      if (await store.createUser(u)) report.usersCreated++;
      else if (await store.updateUser(u)) report.usersReplaced++;
    });
  }
  if (want.has('tokens')) {
    const settings = (await store.getSettings()) ?? d.settings ?? null;
    await eachLimit(d.tokens ?? [], (token) =>
      restoreToken(
        store,
        token,
        d.tokenStates?.[token.serial] ?? EMPTY_TOKEN_STATE,
        settings,
        now,
        report,
        opts.mode === 'sync',
      ),
    );
  }
  return report;
}

async function restoreToken(
  store: Store,
  token: Token,
  saved: TokenState,
  settings: Settings | null,
  now: number,
  report: RestoreReport,
  sync: boolean,
): Promise<void> {
  const live = await store.getToken(token.serial);
  const liveState = await store.getTokenState(token.serial);
  const hasLiveState = live !== null || !sameState(liveState, EMPTY_TOKEN_STATE);
  let next: Token = { ...token };
  if (live?.resyncRequired && !sync) next.resyncRequired = true;
  if (token.type === 'hotp' && !sync) {
    if (!hasLiveState) next = { ...next, resyncRequired: true };
    else if (liveState.counter > saved.counter) report.hotpKeptLive++;
  }
  if (!(await store.putToken(next))) {
    report.tokensSkippedNoUser++;
    return;
  }
  report.tokensRestored++;
  if (next.resyncRequired && token.type === 'hotp' && !hasLiveState)
    report.hotpResyncRequired.push(token.serial);
  let state = saved;
  if (token.type === 'totp' && !sync) {
    const window = settings?.totp.window ?? 1;
    const floor = timeStep(now, token.period) + window + Math.max(0, saved.drift, liveState.drift);
    if (floor > saved.lastUsedStep) report.totpFloored++;
    state = { ...saved, lastUsedStep: Math.max(saved.lastUsedStep, floor) };
  }
  await store.advanceTokenState(token.serial, state);
}

/** Runs fn over items with a bounded number in flight (restores of 100,000 users stay quick). */
async function eachLimit<T>(items: readonly T[], fn: (item: T) => Promise<void>, limit = 64): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function sameState(a: TokenState, b: TokenState): boolean {
  return a.counter === b.counter && a.lastUsedStep === b.lastUsedStep && a.drift === b.drift;
}

export function formatReport(r: RestoreReport): string {
  const lines = [
    `restored snapshot of ${new Date(r.snapshotTime).toISOString()} at ${new Date(r.restoreTime).toISOString()}`,
    `components: ${r.components.join(', ') || '(none)'}`,
    `settings: ${r.settings}  clients: ${r.clients}  admin keys: ${r.adminKeys}  groups: ${r.groups}`,
    `users: ${r.usersCreated} created, ${r.usersReplaced} replaced`,
    `tokens: ${r.tokensRestored} restored, ${r.tokensSkippedNoUser} skipped (user missing)`,
    `TOTP tokens floored at the restore time: ${r.totpFloored} (codes from before the restore stay refused; users may wait up to a minute)`,
    `HOTP tokens whose live counter was ahead (kept, never rolled back): ${r.hotpKeptLive}`,
    `HOTP tokens marked "resync required" (no live state; accept after a two-code resync): ${r.hotpResyncRequired.length}`,
  ];
  if (r.hotpResyncRequired.length)
    lines.push(
      `  ${r.hotpResyncRequired.slice(0, 50).join(' ')}${r.hotpResyncRequired.length > 50 ? ' …' : ''}`,
    );
  if (r.keys) lines.push(`keys: ${r.keys}`);
  return `${lines.join('\n')}\n`;
}
