import { existsSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { mergeSeedKeys, readSeedKeys } from '../../cluster/keys-file.ts';
import {
  formatReport,
  type ResurrectPolicy,
  ResurrectRefused,
  restoreSnapshot,
} from '../../cluster/restore.ts';
import { olderThanTombstones } from '../../cluster/resurrection.ts';
import { writeSnapshotFile } from '../../cluster/snapshot.ts';
import {
  COMPONENTS,
  type Component,
  type Manifest,
  parseBackupKey,
  recordsOf,
  type SnapshotChunks,
  type SnapshotSecret,
  verifySnapshot,
} from '../../cluster/snapshot-format.ts';
import { fileSource } from '../../cluster/snapshot-stream.ts';
import { loadConfig } from '../../server/config.ts';
import { keyFilePath } from '../../server/services.ts';
import { parse, print, readSecretFile, withServices } from '../context.ts';
import { afterRestoreChecks, seedKeyRefusal } from './backup-checks.ts';
import { listFiles, restoreFilesTo } from './backup-files.ts';
import { Progress } from './progress.ts';

const USAGE =
  'usage: tessera backup create --out FILE (--passphrase-file F | --key-file K) [--components LIST]\n' +
  '                             [--freeradius-dir DIR] [--keycloak-settings PATH]\n' +
  '       tessera backup restore --in FILE (--passphrase-file F | --key-file K) [--components LIST]\n' +
  '                              [--allow-resurrect | --skip-deleted] [--force] [--files-to DIR]\n' +
  '       tessera backup verify --in FILE (--passphrase-file F | --key-file K)\n' +
  '       tessera backup audit --in FILE (--passphrase-file F | --key-file K) [--stream auth|admin|event]\n' +
  '\n' +
  `Components: ${COMPONENTS.join(', ')}. A backup holds users, tokens, clients, settings and the\n` +
  'audit trail by default; keys (the seed keys) only when asked; freeradius and keycloak (files)\n' +
  'when --freeradius-dir / --keycloak-settings name them. The manifest says what was left out and why.\n' +
  'A restore writes users, tokens, clients and settings by default. The audit trail is never written\n' +
  "back into the store (its signed chain continues unbroken); `backup audit` prints the backup's.\n" +
  'File components are written under --files-to DIR, never over the running configuration.\n' +
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

const CREATE_DEFAULT: Component[] = ['users', 'tokens', 'clients', 'settings', 'audit'];
const RESTORE_DEFAULT: Component[] = ['users', 'tokens', 'clients', 'settings'];

function components(text: string | undefined, fallback: Component[]): Component[] {
  if (!text) return [...fallback];
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

const OPTIONS = {
  out: { type: 'string' },
  in: { type: 'string' },
  'passphrase-file': { type: 'string' },
  'key-file': { type: 'string' },
  components: { type: 'string' },
  'allow-resurrect': { type: 'boolean' },
  'skip-deleted': { type: 'boolean' },
  force: { type: 'boolean' },
  'freeradius-dir': { type: 'string' },
  'keycloak-settings': { type: 'string' },
  'files-to': { type: 'string' },
  stream: { type: 'string' },
} as const;

type Values = ReturnType<typeof parse<typeof OPTIONS>>['values'];

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS);
  const action = positionals[0];
  if (action === 'create' && values.out) return create(values, values.out);
  if ((action === 'restore' || action === 'verify' || action === 'audit') && values.in) {
    const secret = secretFrom(values);
    const progress = new Progress(`${action} ${values.in}`);
    // Verified in full before the store is even opened: a refused file changes nothing.
    const snapshot = await verifySnapshot(fileSource(values.in), secret, (done, total) =>
      progress.update(Math.round(done / 1024), Math.round(total / 1024), 'KiB read'),
    );
    if (action === 'verify') {
      progress.done(
        `verified, ${recordsOf(snapshot.manifest.counts)} records`,
        recordsOf(snapshot.manifest.counts),
      );
      print(JSON.stringify(snapshot.manifest, null, 2));
      return 0;
    }
    if (action === 'audit') return printAudit(snapshot, values.stream);
    return restore(values, snapshot, progress);
  }
  process.stderr.write(USAGE);
  return 2;
}

/** The file components' roots: named by option, or the repository's freeradius-config/ when asked by name. */
function fileRoots(values: Values, chosen: Component[]): Partial<Record<'freeradius' | 'keycloak', string>> {
  const roots: Partial<Record<'freeradius' | 'keycloak', string>> = {};
  const radius =
    values['freeradius-dir'] ?? (chosen.includes('freeradius') ? 'freeradius-config' : undefined);
  if (radius) {
    if (!existsSync(radius) || !statSync(radius).isDirectory())
      throw new Error(`--freeradius-dir: ${radius} is not a directory`);
    roots.freeradius = radius;
    if (!chosen.includes('freeradius')) chosen.push('freeradius');
  }
  const kc = values['keycloak-settings'];
  if (chosen.includes('keycloak') && !kc)
    throw new Error('the keycloak component needs --keycloak-settings PATH');
  if (kc) {
    if (!existsSync(kc)) throw new Error(`--keycloak-settings: ${kc} does not exist`);
    roots.keycloak = kc;
    if (!chosen.includes('keycloak')) chosen.push('keycloak');
  }
  return roots;
}

async function create(values: Values, out: string): Promise<number> {
  const secret = secretFrom(values);
  const chosen = components(values.components, CREATE_DEFAULT);
  const files = fileRoots(values, chosen);
  const progress = new Progress(`backup ${out}`);
  const manifest = await withServices(async (s) => {
    const keys = chosen.includes('keys')
      ? readSeedKeys(keyFilePath(s.config.dataDir), s.config.masterKey)
      : undefined;
    const started = Date.now();
    const manifest = await writeSnapshotFile(s.store, out, {
      secret,
      components: chosen,
      node: s.config.nodeId ?? hostname(),
      files,
      progress: (done, total) => progress.update(done, total, 'users'),
      ...(keys ? { keys } : {}),
    });
    s.events.run('backup', { path: out, ms: Date.now() - started });
    return manifest;
  });
  progress.done(
    `wrote ${recordsOf(manifest.counts)} records, ${statSync(out).size} bytes`,
    recordsOf(manifest.counts),
  );
  describe(manifest, `wrote ${out}`);
  return 0;
}

function describe(manifest: Manifest, what: string): void {
  print(
    `${what}: ${new Date(manifest.time).toISOString()} from ${manifest.node} (format ${manifest.version})`,
  );
  print(`components: ${manifest.components.join(', ')}`);
  print(
    `counts: ${Object.entries(manifest.counts)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );
  for (const [c, why] of Object.entries(manifest.excluded ?? {})) print(`left out: ${c}: ${why}`);
  print(`checksum: ${manifest.checksum}`);
}

async function restore(values: Values, snapshot: SnapshotChunks, progress: Progress): Promise<number> {
  const chosen = components(values.components, RESTORE_DEFAULT);
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
  const filesTo = values['files-to'];
  let result: { report: Awaited<ReturnType<typeof restoreSnapshot>>; checks: string[] };
  try {
    result = await withServices(async (s) => {
      const report = await restoreSnapshot(s.store, snapshot, {
        components: chosen,
        resurrect,
        restoreKeys: (keys) => mergeSeedKeys(keyFilePath(s.config.dataDir), keys, s.config.masterKey),
        restoreFiles: (files) => (filesTo ? restoreFilesTo(filesTo, files) : listFiles(files)),
        progress: (done, total) => progress.update(done, total, 'users and tokens'),
      });
      return { report, checks: await afterRestoreChecks(snapshot.manifest.time, s.store, s.replication) };
    });
  } catch (err) {
    if (!(err instanceof ResurrectRefused)) throw err;
    process.stderr.write(`tessera backup: refused: ${err.message}\n`);
    return 3;
  }
  const { report } = result;
  progress.done(
    `restored ${report.usersCreated + report.usersReplaced} users and ${report.tokensRestored} tokens`,
    report.usersCreated + report.usersReplaced + report.tokensRestored,
  );
  process.stdout.write(formatReport(report));
  for (const line of result.checks) print(line);
  return 0;
}

/** The backup's audit trail as JSON lines (newest first per stream, as stored). */
function printAudit(snapshot: SnapshotChunks, stream: string | undefined): number {
  if (!snapshot.manifest.components.includes('audit')) {
    process.stderr.write(
      `tessera backup: this backup holds no audit trail (${snapshot.manifest.excluded?.audit ?? 'not included'})\n`,
    );
    return 1;
  }
  for (const chunk of snapshot.chunks())
    for (const [s, events] of Object.entries(chunk.audit ?? {})) {
      if (stream && s !== stream) continue;
      process.stdout.write(events.map((e) => `${JSON.stringify({ stream: s, ...e })}\n`).join(''));
    }
  return 0;
}
