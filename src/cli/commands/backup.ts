import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { mergeSeedKeys, readSeedKeys } from '../../cluster/keys-file.ts';
import { formatReport, restoreSnapshot } from '../../cluster/restore.ts';
import { createSnapshot } from '../../cluster/snapshot.ts';
import {
  COMPONENTS,
  type Component,
  openSnapshot,
  parseBackupKey,
  type SnapshotSecret,
} from '../../cluster/snapshot-format.ts';
import { keyFilePath } from '../../server/services.ts';
import { parse, print, readSecretFile, withServices } from '../context.ts';

const USAGE =
  'usage: tessera backup create --out FILE (--passphrase-file F | --key-file K) [--components users,tokens,clients,settings,keys]\n' +
  '       tessera backup restore --in FILE (--passphrase-file F | --key-file K) [--components users,tokens,clients,settings]\n' +
  '       tessera backup verify --in FILE (--passphrase-file F | --key-file K)\n';

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
    const report = await withServices((s) =>
      restoreSnapshot(s.store, snapshot, {
        components: chosen,
        restoreKeys: (keys) => mergeSeedKeys(keyFilePath(s.config.dataDir), keys, s.config.masterKey),
      }),
    );
    process.stdout.write(formatReport(report));
    return 0;
  }
  process.stderr.write(USAGE);
  return 2;
}
