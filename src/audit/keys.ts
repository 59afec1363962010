import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

interface KeyFile {
  current: string;
  keys: Record<string, string>;
}

const ID = /^[A-Za-z0-9_-]{1,32}$/;

/** `<dataDir>/audit.key`, unless TESSERA_AUDIT_KEY_FILE names another file. */
export function auditKeyPath(dataDir: string, file?: string): string {
  return file ?? join(dataDir, 'audit.key');
}

/**
 * The audit trail's signing keys: a key of its own, apart from the seed key, so that whoever may
 * read seeds cannot rewrite the trail and the other way round. Entries name the key id they were
 * signed with, so a rotation keeps older entries verifiable. Every node of a cluster must share
 * the file.
 */
export class AuditKeys {
  private constructor(
    private readonly currentId: string,
    private readonly keys: ReadonlyMap<string, Buffer>,
  ) {}

  static fromKeys(current: string, keys: Record<string, Buffer>): AuditKeys {
    const map = new Map(Object.entries(keys));
    for (const [id, key] of map) {
      if (key.length !== 32) throw new Error(`audit key "${id}" must be 32 bytes`);
      if (!ID.test(id)) throw new Error(`audit key id "${id}" is not a plain word`);
    }
    if (!map.has(current)) throw new Error(`audit key file has no key "${current}"`);
    return new AuditKeys(current, map);
  }

  /** Loads the key file, creating it (mode 0600) with one fresh key when missing. */
  static loadOrCreate(path: string): AuditKeys {
    if (!existsSync(path)) {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      const id = newId({});
      const file: KeyFile = { current: id, keys: { [id]: randomBytes(32).toString('base64') } };
      try {
        writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
      } catch (err) {
        // another process of this node (the CLI) created it first: use theirs
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    return AuditKeys.load(path);
  }

  /** Loads an existing key file (verify never creates one: a missing key is an error). */
  static load(path: string): AuditKeys {
    chmodSync(path, 0o600);
    const file = JSON.parse(readFileSync(path, 'utf8')) as KeyFile;
    const keys: Record<string, Buffer> = {};
    for (const [id, b64] of Object.entries(file.keys ?? {})) keys[id] = Buffer.from(b64, 'base64');
    return AuditKeys.fromKeys(file.current, keys);
  }

  /** Adds a new current key; entries signed with the older ones stay verifiable. → the new id. */
  static rotate(path: string): string {
    const file = JSON.parse(readFileSync(path, 'utf8')) as KeyFile;
    const id = newId(file.keys);
    file.keys[id] = randomBytes(32).toString('base64');
    file.current = id;
    writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
    return id;
  }

  get current(): { id: string; key: Buffer } {
    return { id: this.currentId, key: this.keys.get(this.currentId)! };
  }

  byId(id: string): Buffer | undefined {
    return this.keys.get(id);
  }
}

function newId(taken: Record<string, string>): string {
  let id = `a${Date.now().toString(36)}`;
  while (taken[id] !== undefined) id = `a${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  return id;
}
