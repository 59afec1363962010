import { mkdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, normalize, resolve, sep } from 'node:path';
import type { SnapshotFile } from '../../cluster/snapshot-format.ts';

/**
 * Writes the files of a backup's file components under `dir/<component>/`, never outside it: a
 * path that is absolute or climbs out (`..`) is refused whole before anything is written.
 */
export function restoreFilesTo(dir: string, files: readonly SnapshotFile[]): string {
  const root = resolve(dir);
  const planned = files.map((f) => {
    const rel = normalize(f.path);
    const target = resolve(root, f.component, rel);
    if (isAbsolute(f.path) || rel.startsWith('..') || !target.startsWith(`${join(root, f.component)}${sep}`))
      throw new Error(
        `the backup names a file outside its component (${f.component}: ${f.path}); nothing written`,
      );
    return { f, target };
  });
  for (const { f, target } of planned) {
    mkdirSync(resolve(target, '..'), { recursive: true, mode: 0o700 });
    writeFileSync(target, Buffer.from(f.content, 'base64'), { mode: f.mode & 0o777 });
  }
  const by = new Map<string, number>();
  for (const f of files) by.set(f.component, (by.get(f.component) ?? 0) + 1);
  return [...by].map(([c, n]) => `${n} ${c} file(s) written under ${join(root, c)}`).join('; ');
}

/** What a restore without a place for files says about them. */
export function listFiles(files: readonly SnapshotFile[]): string {
  return `${files.length} ${files[0]?.component ?? ''} file(s) in the backup, not written (give --files-to DIR): ${files
    .slice(0, 10)
    .map((f) => f.path)
    .join(', ')}${files.length > 10 ? ' …' : ''}`;
}
