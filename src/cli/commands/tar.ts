import { gzipSync } from 'node:zlib';

/** One file of an archive: its name inside it, its bytes, its mode. */
export interface TarEntry {
  name: string;
  data: Buffer;
  mode?: number;
}

function header(entry: TarEntry, mtime: number): Buffer {
  const h = Buffer.alloc(512, 0);
  const name = Buffer.from(entry.name, 'utf8');
  if (name.length > 100) throw new Error(`archive entry name too long: ${entry.name}`);
  name.copy(h, 0);
  const octal = (n: number, len: number) => `${n.toString(8).padStart(len - 1, '0')}\0`;
  h.write(octal(entry.mode ?? 0o600, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(entry.data.length, 12), 124, 'ascii');
  h.write(octal(Math.floor(mtime / 1000), 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write('0', 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

/** A gzip-compressed POSIX (ustar) archive of the entries, readable by any `tar -xzf`. */
export function tarGz(entries: readonly TarEntry[], mtime = Date.now()): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    parts.push(header(e, mtime), e.data);
    const pad = (512 - (e.data.length % 512)) % 512;
    if (pad) parts.push(Buffer.alloc(pad, 0));
  }
  parts.push(Buffer.alloc(1024, 0));
  return gzipSync(Buffer.concat(parts));
}
