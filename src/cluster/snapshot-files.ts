import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const PATTERN = /^snapshot-\d{8}-\d{6}(-\d+)?\.tsnap$/;

function stamp(time: number): string {
  return new Date(time).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

/** Writes a snapshot file atomically (tmp + rename, mode 0600) and keeps the newest `keep`. */
export function storeSnapshotFile(dir: string, bytes: Buffer, time: number, keep: number): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let name = `snapshot-${stamp(time)}.tsnap`;
  for (let i = 1; listSnapshotFiles(dir).includes(name); i++) name = `snapshot-${stamp(time)}-${i}.tsnap`;
  const path = join(dir, name);
  writeFileSync(`${path}.tmp`, bytes, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
  const all = listSnapshotFiles(dir);
  for (const old of all.slice(0, Math.max(0, all.length - keep))) rmSync(join(dir, old), { force: true });
  return path;
}

/** Snapshot file names, oldest first. */
export function listSnapshotFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => PATTERN.test(n));
  } catch {
    return [];
  }
  return names.sort(
    (a, b) => statSync(join(dir, a)).mtimeMs - statSync(join(dir, b)).mtimeMs || a.localeCompare(b),
  );
}

export function latestSnapshotFile(dir: string): string | null {
  const all = listSnapshotFiles(dir);
  return all.length ? join(dir, all[all.length - 1]!) : null;
}
