import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { mergeSeedKeys, readSeedKeys } from '../../cluster/keys-file.ts';
import {
  formatReport,
  type ResurrectPolicy,
  ResurrectRefused,
  restoreSnapshot,
} from '../../cluster/restore.ts';
import { olderThanTombstones } from '../../cluster/resurrection.ts';
import { createSnapshot } from '../../cluster/snapshot.ts';
import {
  COMPONENTS,
  type Component,
  openSnapshot,
  parseBackupKey,
  type SnapshotSecret,
} from '../../cluster/snapshot-format.ts';
import { checkSeedKeys, describeSeedKeyIds, KeyRing } from '../../crypto/index.ts';
import { type Config, loadConfig } from '../../server/config.ts';
import { keyFilePath } from '../../server/services.ts';
import { parse, print, readSecretFile, withServices } from '../context.ts';

const USAGE =
  'usage: tessera backup create --out FILE (--passphrase-file F | --key-file K) [--components users,tokens,clients,settings,keys]\n' +
  '       tessera backup restore --in FILE (--passphrase-file F | --key-file K) [--components users,tokens,clients,settings]\n' +
  '                              [--allow-resurrect | --skip-deleted]\n' +
  '       tessera backup verify --in FILE (--passphrase-file F | --key-file K)\n' +
  '\n' +
  'A restore never silently brings back a user, token, client or admin key that was deleted after the\n' +
  'backup was taken (the store keeps a record of deletions, TESSERA_TOMBSTONE_RETENTION_DAYS, 400 by\n' +
  'default). If the backup holds any, restore lists them, changes nothing and exits with 3.\n' +
  '  --allow-resurrect  restore them too (they work again)\n' +
  '  --skip-deleted     restore everything except them\n' +
  '\n' +
  "A restore whose token seeds this node's seed key cannot open (another TESSERA_MASTER_KEY or\n" +
  'master.key than the node that made the backup) is refused with exit code 4 and changes nothing.\n' +
  '  --force            restore anyway (those tokens refuse every code until the key is brought)\n';

const DEFAULT_COMPONENTS: Component[] = ['users', 'tokens', 'clients', 'settings'];

function components(text: string | undefined): Component[] {
  if (!text) return DEFAULT_COMPONENTS;
  const list = text
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  for (const c of list) {
    if (!(COMPONENTS as readonly string[]).includes(c))
      throw new Error(`unknown component "${c}" (choose from ${COMPONENTS.join(', ')})`);
  }
  return list as Component[];
}

function secretFrom(values: { 'passphrase-file'?: string; 'key-file'?: string }): SnapshotSecret {
  if (values['passphrase-file']) {
    const passphrase = readSecretFile(values['passphrase-file']);
    if (passphrase.length < 8) throw new Error('the passphrase must be at least 8 characters');
    return { passphrase };
  }
  if (values['key-file']) return { key: parseBackupKey(readFileSync(values['key-file'], 'utf8')) };
  throw new Error('give --passphrase-file or --key-file');
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    out: { type: 'string' },
    in: { type: 'string' },
    'passphrase-file': { type: 'string' },
    'key-file': { type: 'string' },
    components: { type: 'string' },
    'allow-resurrect': { type: 'boolean' },
    'skip-deleted': { type: 'boolean' },
    force: { type: 'boolean' },
  });
  const action = positionals[0];
  if (action === 'create' && values.out) {
    const secret = secretFrom(values);
    const chosen = components(values.components ?? DEFAULT_COMPONENTS.join(','));
    const out = values.out;
    const manifest = await withServices(async (s) => {
      const keys = chosen.includes('keys')
        ? readSeedKeys(keyFilePath(s.config.dataDir), s.config.masterKey)
        : undefined;
      const { bytes, manifest } = await createSnapshot(s.store, {
        secret,
        components: chosen,
        node: s.config.nodeId ?? hostname(),
        ...(keys ? { keys } : {}),
      });
      writeFileSync(`${out}.tmp`, bytes, { mode: 0o600 });
      renameSync(`${out}.tmp`, out);
      s.events.run('backup', { path: out, ms: Date.now() - manifest.time });
      return manifest;
    });
    print(`wrote ${out}: ${new Date(manifest.time).toISOString()} from ${manifest.node}`);
    print(`components: ${manifest.components.join(', ')}`);
    print(
      `counts: ${Object.entries(manifest.counts)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}`,
    );
    print(`checksum: ${manifest.checksum}`);
    return 0;
  }
  if ((action === 'restore' || action === 'verify') && values.in) {
    const secret = secretFrom(values);
    // Verified in full before the store is even opened: a refused file changes nothing.
    const snapshot = await openSnapshot(readFileSync(values.in), secret);
    if (action === 'verify') {
      print(JSON.stringify(snapshot.manifest, null, 2));
      return 0;
    }
    const chosen = components(values.components);
    if (values['allow-resurrect'] && values['skip-deleted'])
      throw new Error('give --allow-resurrect or --skip-deleted, not both');
    const resurrect: ResurrectPolicy = values['allow-resurrect']
      ? 'allow'
      : values['skip-deleted']
        ? 'skip'
        : 'refuse';
    const config = loadConfig();
    const unreadable = seedKeyRefusal(snapshot, chosen, config);
    if (unreadable && !values.force) {
      process.stderr.write(
        `tessera backup: refused: ${unreadable} Nothing was restored; --force restores anyway.\n`,
      );
      return 4;
    }
    if (unreadable) process.stderr.write(`warning (--force): ${unreadable}\n`);
    const retention = config.cluster.tombstoneRetentionMs;
    if (olderThanTombstones(snapshot.manifest.time, Date.now(), retention))
      process.stderr.write(
        'warning: this backup is older than the kept record of deletions: something deleted long ago may come back; check the report\n',
      );
    let report: Awaited<ReturnType<typeof restoreSnapshot>>;
    try {
      report = await withServices((s) =>
        restoreSnapshot(s.store, snapshot, {
          components: chosen,
          resurrect,
          restoreKeys: (keys) => mergeSeedKeys(keyFilePath(s.config.dataDir), keys, s.config.masterKey),
        }),
      );
    } catch (err) {
      if (!(err instanceof ResurrectRefused)) throw err;
      process.stderr.write(`tessera backup: refused: ${err.message}\n`);
      return 3;
    }
    process.stdout.write(formatReport(report));
    return 0;
  }
  process.stderr.write(USAGE);
  return 2;
}

type Opened = Awaited<ReturnType<typeof openSnapshot>>;

/**
 * Why the restored tokens would refuse every code on this node, or null: its seed key (with the
 * backup's own keys when they are restored too) cannot open a sample of the backup's seeds.
 * Decided before the store is opened, so a refusal changes nothing.
 */
function seedKeyRefusal(snapshot: Opened, chosen: readonly Component[], config: Config): string | null {
  if (!chosen.includes('tokens')) return null;
  const samples = (snapshot.payload.dump.tokens ?? [])
    .slice(0, 16)
    .map((t) => ({ sealed: t.secretSealed, aad: t.serial }));
  if (samples.length === 0) return null;
  const own = readSeedKeys(keyFilePath(config.dataDir), config.masterKey);
  const brought = chosen.includes('keys') && !config.masterKey ? snapshot.payload.keys : undefined;
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
