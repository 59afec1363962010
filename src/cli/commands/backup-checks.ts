import { readSeedKeys } from '../../cluster/keys-file.ts';
import type { Component, SnapshotChunks } from '../../cluster/snapshot-format.ts';
import { checkSeedKeys, describeSeedKeyIds, KeyRing } from '../../crypto/index.ts';
import type { Config } from '../../server/config.ts';
import { keyFilePath } from '../../server/services.ts';
import type { ReplicationControl, Store } from '../../store/index.ts';

/**
 * Why the restored tokens would refuse every code on this node, or null: its seed key (with the
 * backup's own keys when they are restored too) cannot open a sample of the backup's seeds.
 * Decided before the store is opened, so a refusal changes nothing.
 */
export function seedKeyRefusal(
  snapshot: SnapshotChunks,
  chosen: readonly Component[],
  config: Config,
): string | null {
  if (!chosen.includes('tokens')) return null;
  let samples: { sealed: string; aad: string }[] = [];
  let brought: ReturnType<typeof readSeedKeys>;
  for (const chunk of snapshot.chunks()) {
    if (chunk.keys) brought = chunk.keys;
    if (samples.length === 0 && chunk.dump.tokens?.length)
      samples = chunk.dump.tokens.slice(0, 16).map((t) => ({ sealed: t.secretSealed, aad: t.serial }));
    if (samples.length && (brought || !chosen.includes('keys'))) break;
  }
  if (samples.length === 0) return null;
  const own = readSeedKeys(keyFilePath(config.dataDir), config.masterKey);
  if (!chosen.includes('keys') || config.masterKey) brought = undefined;
  const current = own?.current ?? brought?.current;
  let why = 'this node has no seed key yet';
  if (current) {
    const keys: Record<string, Buffer> = {};
    for (const [id, b64] of Object.entries({ ...brought?.keys, ...own?.keys }))
      keys[id] = Buffer.from(b64, 'base64');
    const verdict = checkSeedKeys(KeyRing.fromKeys(current, keys), samples);
    if (verdict.ok) return null;
    why = `seed key ${describeSeedKeyIds(verdict)}`;
  }
  return (
    `this node's seed key cannot open the token seeds in this backup (${why}): after the restore every ` +
    'login with those tokens would fail. Bring the seed key of the node that made the backup: the same ' +
    `TESSERA_MASTER_KEY, or a copy of its master.key in ${config.dataDir} (mode 0600), or a backup made ` +
    'and restored with --components ...,keys.'
  );
}

/** A clock this far from the snapshot's, in either direction, is worth a word. */
const SKEW_MS = 5_000;

function span(ms: number): string {
  const s = Math.abs(ms) / 1000;
  if (s < 120) return `${s.toFixed(1)} s`;
  if (s < 7200) return `${(s / 60).toFixed(1)} min`;
  if (s < 172_800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86_400).toFixed(1)} days`;
}

/**
 * What a node finds after a restore: its clock against the snapshot's time (TOTP floors were
 * computed with this clock, so a clock behind the snapshot's would reopen codes), and its
 * replication state (whether the restored records reach the other nodes). One line each.
 */
export async function afterRestoreChecks(
  snapshotTime: number,
  store: Store,
  replication: ReplicationControl | null,
  now = Date.now(),
): Promise<string[]> {
  const lines: string[] = [];
  const age = now - snapshotTime;
  if (age < -SKEW_MS)
    lines.push(
      `clock: WARNING this node's clock is ${span(age)} behind the snapshot's time ` +
        `(${new Date(snapshotTime).toISOString()}): a snapshot cannot come from the future, so this clock (or the one ` +
        'that wrote it) is wrong. TOTP floors were set with this clock; fix the time (NTP) and restore again.',
    );
  else
    lines.push(
      `clock: ok, this node's clock (${new Date(now).toISOString()}) is ${age < SKEW_MS ? 'level with' : `${span(age)} after`} the snapshot's time`,
    );
  const role = await store.role();
  if (!replication) {
    lines.push(`replication: none, ${store.kind} store on one node (restored here only)`);
    return lines;
  }
  let view = replication.replication();
  for (let i = 0; !view && i < 20; i++) {
    await new Promise((r) => setTimeout(r, 100));
    view = replication.replication();
  }
  if (!view) lines.push('replication: unknown (the Redis role was not reported within 2 s)');
  else if (view.redisRole === 'slave')
    lines.push(`replication: this Redis is a replica of ${view.master}, link ${view.linkUp ? 'up' : 'DOWN'}`);
  else if (view.replicas.length === 0)
    lines.push(
      `replication: WARNING this Redis (${view.self}, ${role.role}) has no replica connected: the restored ` +
        'records live on this Redis only until a replica attaches',
    );
  else
    lines.push(
      `replication: master ${view.self} at offset ${view.masterOffset}; replicas ${view.replicas
        .map((r) => `${r.addr} (${view!.masterOffset - r.offset} bytes behind)`)
        .join(', ')}: the restored records replicate to them`,
    );
  return lines;
}
