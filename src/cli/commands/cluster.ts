import { readFileSync } from 'node:fs';
import {
  type ClusterStatus,
  clusterStatus,
  formatReport,
  parseBackupKey,
  pullLatestSnapshot,
  restoreSnapshot,
  type SnapshotSecret,
  seedDerivedKey,
  verifySnapshot,
} from '../../cluster/index.ts';
import { bufferSource } from '../../cluster/snapshot-stream.ts';
import { type RedisAccess, rejoin, sentinelFailover, switchover } from '../../cluster/switchover.ts';
import type { Config } from '../../server/config.ts';
import { keyFilePath } from '../../server/services.ts';
import { cliConfig, parse, print, readSecretFile, withServices } from '../context.ts';

const USAGE =
  'usage: tessera cluster status [--json]\n' +
  '       tessera cluster failover [--to NODE|HOST:PORT]\n' +
  '       tessera cluster rejoin --master HOST:PORT\n' +
  '       tessera cluster seed --from URL --client-key-file F [--passphrase-file F | --key-file K]\n';

function ago(t: number | null): string {
  if (!t) return '-';
  const s = Math.round((Date.now() - t) / 1000);
  return s < 120 ? `${s}s ago` : `${Math.round(s / 60)}m ago`;
}

export function formatStatus(s: ClusterStatus): string {
  const head = ['NODE', 'ROLE', 'REDIS', 'REDIS ADDR', 'OFFSET', 'LAG', 'SNAPSHOT', 'VERSION', 'HEALTH'];
  const rows = s.nodes.map((n) => [
    n.id,
    n.role,
    n.redisRole ?? '-',
    n.redisAddr ?? '-',
    n.replicationOffset === null ? '-' : String(n.replicationOffset),
    n.lag === null ? '-' : String(n.lag),
    ago(n.lastSnapshot),
    n.versionMismatch ? `${n.version} (MISMATCH)` : n.version,
    n.health,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [`this node: ${s.role}`, line(head), ...rows.map(line)].join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    json: { type: 'boolean' },
    to: { type: 'string' },
    master: { type: 'string' },
    from: { type: 'string' },
    'client-key-file': { type: 'string' },
    'passphrase-file': { type: 'string' },
    'key-file': { type: 'string' },
  });
  switch (positionals[0]) {
    case 'status': {
      // Asked from outside a node: the registry's view, without a record of this process.
      const status = await withServices((s) =>
        clusterStatus({
          store: s.store,
          replication: s.replication,
          heartbeatMs: s.config.cluster.heartbeatMs,
        }),
      );
      print(values.json ? JSON.stringify(status, null, 2) : formatStatus(status));
      return 0;
    }
    case 'failover':
      return failover(values.to);
    case 'rejoin': {
      const config = cliConfig();
      if (!values.master || !config.redisUrl) break;
      const r = await rejoin({
        local: config.redisUrl,
        master: values.master,
        prefix: config.redis.prefix,
        redis: config.redis,
      });
      print(
        `merged ${r.merged} token state(s) into ${values.master}; ${config.redisUrl.replace(/\/\/[^@]*@/, '//')} now replicates from it`,
      );
      return 0;
    }
    case 'seed': {
      if (!values.from || !values['client-key-file']) break;
      const config = cliConfig();
      const secret: SnapshotSecret = values['passphrase-file']
        ? { passphrase: readSecretFile(values['passphrase-file']) }
        : values['key-file']
          ? { key: parseBackupKey(readFileSync(values['key-file'], 'utf8')) }
          : { key: seedDerivedKey(keyFilePath(config.dataDir), config.masterKey) };
      const pulled = await pullLatestSnapshot({
        masterUrl: values.from,
        clientKey: readSecretFile(values['client-key-file']),
        dir: config.cluster.snapshotDir,
        keep: config.cluster.snapshotKeep,
      });
      const snapshot = await verifySnapshot(bufferSource(pulled.bytes), secret);
      const report = await withServices((s) =>
        restoreSnapshot(s.store, snapshot, { components: ['users', 'tokens', 'clients', 'settings'] }),
      );
      print(`pulled ${pulled.path}`);
      process.stdout.write(formatReport(report));
      return 0;
    }
    default:
      break;
  }
  process.stderr.write(USAGE);
  return 2;
}

/** The node's own way to Redis and Sentinel (URL credentials, TLS files, Sentinel password). */
function redisAccess(config: Config): RedisAccess {
  return {
    ...(config.redisUrl ? { url: config.redisUrl } : {}),
    ...(config.redis.tls ? { tls: config.redis.tls } : {}),
    ...(config.redis.sentinelTls !== undefined ? { sentinelTls: config.redis.sentinelTls } : {}),
    ...(config.redis.sentinelPassword ? { sentinelPassword: config.redis.sentinelPassword } : {}),
  };
}

async function failover(to: string | undefined): Promise<number> {
  const result = await withServices(async (s) => {
    const { config, store, replication } = s;
    if (!replication)
      throw new Error('failover needs the Redis store (TESSERA_REDIS_URL or TESSERA_SENTINELS)');
    const status = await clusterStatus({ store, replication, heartbeatMs: config.cluster.heartbeatMs });
    const target = to ? (status.nodes.find((n) => n.id === to)?.redisAddr ?? to) : undefined;
    if (config.sentinels) {
      return sentinelFailover({
        sentinels: config.sentinels,
        name: config.sentinelName,
        ...(target ? { target } : {}),
        ...redisAccess(config),
      });
    }
    const view = replication.replication();
    if (!view) throw new Error('the Redis role is not known yet');
    const replicas = view.replicas.map((r) => r.addr);
    const chosen = target ?? [...view.replicas].sort((a, b) => b.offset - a.offset)[0]?.addr;
    if (!chosen) throw new Error('the master has no replica to promote');
    if (!replicas.includes(chosen))
      throw new Error(
        `${chosen} is not a replica of the master ${view.master} (${replicas.join(', ') || 'none'})`,
      );
    return switchover({
      master: view.master,
      target: chosen,
      others: replicas,
      ...redisAccess(config),
    });
  });
  print(`failover done: the master is now ${result.to} (was ${result.from}); there is no automatic failback`);
  return 0;
}
