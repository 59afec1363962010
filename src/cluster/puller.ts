import { storeSnapshotFile } from './snapshot-files.ts';
import { peekManifest } from './snapshot-format.ts';

/**
 * The second sync path: fetches the master's latest snapshot over HTTP(S) with this node's client
 * key and keeps it in the snapshot directory. The file stays sealed; opening it needs the secret.
 */
export async function pullLatestSnapshot(opts: {
  masterUrl: string;
  clientKey: string;
  dir: string;
  keep: number;
  timeoutMs?: number;
}): Promise<{ path: string; time: number; bytes: Buffer }> {
  const res = await fetch(new URL('/v1/cluster/snapshot/latest', opts.masterUrl), {
    headers: { authorization: `Bearer ${opts.clientKey}` },
    signal: AbortSignal.timeout(opts.timeoutMs ?? 60_000),
  });
  if (res.status !== 200) throw new Error(`the master answered ${res.status} for its latest snapshot`);
  const bytes = Buffer.from(await res.arrayBuffer());
  const manifest = peekManifest(bytes);
  const path = storeSnapshotFile(opts.dir, bytes, manifest.time, opts.keep);
  return { path, time: manifest.time, bytes };
}
