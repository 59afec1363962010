import { hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { openBytes, sealBytes } from './sealed-box.ts';

interface KeyFile {
  current: string;
  keys: Record<string, string>;
}

/**
 * The seed encryption keys. Sealed values are `v1:<keyId>:<base64url>`, so old values stay
 * readable after a rotation adds a new current key. The key ring lives outside the store.
 */
export class KeyRing {
  private constructor(
    private readonly currentId: string,
    private readonly keys: ReadonlyMap<string, Buffer>,
  ) {}

  static fromKeys(current: string, keys: Record<string, Buffer>): KeyRing {
    const map = new Map(Object.entries(keys));
    for (const [id, key] of map) {
      if (key.length !== 32) throw new Error(`seed key "${id}" must be 32 bytes`);
      if (!/^[A-Za-z0-9_-]{1,32}$/.test(id)) throw new Error(`seed key id "${id}" is not a plain word`);
    }
    if (!map.has(current)) throw new Error(`seed key ring has no key "${current}"`);
    return new KeyRing(current, map);
  }

  /** A ring with one fresh key, for tests and first starts. */
  static generate(): KeyRing {
    const id = `k${Date.now().toString(36)}`;
    return KeyRing.fromKeys(id, { [id]: randomBytes(32) });
  }

  /**
   * Loads the key file, creating it (mode 0600) when missing. `TESSERA_MASTER_KEY` (base64 of 32
   * bytes) takes precedence so that every node of a cluster can share one key without a file.
   */
  static loadOrCreate(path: string, envKey?: string): KeyRing {
    if (envKey) {
      const key = Buffer.from(envKey, 'base64');
      if (key.length !== 32) throw new Error('TESSERA_MASTER_KEY must be the base64 of 32 bytes');
      return KeyRing.fromKeys('env', { env: key });
    }
    if (!existsSync(path)) {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      const id = `k${Date.now().toString(36)}`;
      const file: KeyFile = { current: id, keys: { [id]: randomBytes(32).toString('base64') } };
      writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    }
    chmodSync(path, 0o600);
    const file = JSON.parse(readFileSync(path, 'utf8')) as KeyFile;
    const keys: Record<string, Buffer> = {};
    for (const [id, b64] of Object.entries(file.keys)) keys[id] = Buffer.from(b64, 'base64');
    return KeyRing.fromKeys(file.current, keys);
  }

  /** Adds a new current key to the file; existing sealed values stay readable. */
  static rotate(path: string): string {
    const file = JSON.parse(readFileSync(path, 'utf8')) as KeyFile;
    // A rotation in the same millisecond as the last one must not overwrite that key.
    let id = `k${Date.now().toString(36)}`;
    while (file.keys[id] !== undefined) id = `k${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
    file.keys[id] = randomBytes(32).toString('base64');
    file.current = id;
    writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
    return id;
  }

  get currentKeyId(): string {
    return this.currentId;
  }

  seal(plaintext: Uint8Array, aad: string): string {
    const key = this.keys.get(this.currentId)!;
    return `v1:${this.currentId}:${sealBytes(key, plaintext, Buffer.from(aad)).toString('base64url')}`;
  }

  /** Null when the value is not ours, the key is unknown, or the value was changed or moved. */
  open(sealed: string, aad: string): Buffer | null {
    const parts = sealed.split(':');
    if (parts.length !== 3 || parts[0] !== 'v1') return null;
    const key = this.keys.get(parts[1]!);
    if (!key) return null;
    return openBytes(key, Buffer.from(parts[2]!, 'base64url'), Buffer.from(aad));
  }

  /**
   * 32 bytes derived (HKDF-SHA256) for one purpose, the same on every node that shares the ring.
   * From the oldest key (ids sort by creation time), so a rotation does not change it.
   */
  derive(purpose: string): Buffer {
    const id = [...this.keys.keys()].sort()[0]!;
    return Buffer.from(hkdfSync('sha256', this.keys.get(id)!, Buffer.alloc(0), `tessera:${purpose}`, 32));
  }

  /** Whether the ring holds a key under this id (which says nothing about its material). */
  hasKey(id: string): boolean {
    return this.keys.has(id);
  }

  keyIdOf(sealed: string): string | null {
    const parts = sealed.split(':');
    return parts.length === 3 ? (parts[1] ?? null) : null;
  }
}
