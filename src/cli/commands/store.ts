import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { formatReport, restoreSnapshot } from '../../cluster/restore.ts';
import { writeSnapshotFile } from '../../cluster/snapshot.ts';
import { verifySnapshot } from '../../cluster/snapshot-format.ts';
import { fileSource } from '../../cluster/snapshot-stream.ts';
import { keyFilePath } from '../../server/services.ts';
import { openEmbeddedStore } from '../../store/index.ts';
import { openRedisStore } from '../../store/redis/index.ts';
import { cliConfig, parse, print } from '../context.ts';
import { afterRestoreChecks } from './backup-checks.ts';
import { Progress } from './progress.ts';

const USAGE =
  'usage: tessera store migrate [--to redis://HOST:PORT] [--prefix P] [--again]\n' +
  '\n' +
  "Copies this node's embedded store (TESSERA_DATA_DIR) into Redis (--to, or TESSERA_REDIS_URL /\n" +
  'TESSERA_SENTINELS): users, groups, tokens with their used-code state (HOTP counters, TOTP last\n' +
  'steps and drift), clients, admin keys, settings and deletions. Seeds are copied sealed: every\n' +
  "node of the cluster needs this node's seed key (its master.key or TESSERA_MASTER_KEY).\n" +
  'The embedded store is only read, never changed. A Redis that already holds users is refused\n' +
  'unless --again (a repeated migrate of the same node: it mirrors the node again, states max-merged).\n' +
  'Codes accepted by the single node after the copy are not carried: stop it (or run migrate again\n' +
  'after stopping it) before its callers move to the cluster. See docs/upgrades.md.\n';

const ALL = ['users', 'tokens', 'clients', 'settings'] as const;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    to: { type: 'string' },
    prefix: { type: 'string' },
    again: { type: 'boolean' },
  });
  if (positionals[0] !== 'migrate') {
    process.stderr.write(USAGE);
    return 2;
  }
  const config = cliConfig();
  if (!existsSync(join(config.dataDir, 'store')))
    throw new Error(`no embedded store in ${config.dataDir} (TESSERA_DATA_DIR): nothing to migrate`);
  if (!values.to && !config.redisUrl && !config.sentinels)
    throw new Error('give --to redis://HOST:PORT (or set TESSERA_REDIS_URL / TESSERA_SENTINELS)');
  const source = openEmbeddedStore(config.dataDir);
  let target: Awaited<ReturnType<typeof openRedisStore>> | undefined;
  // The copy travels through a sealed snapshot file under a one-time key, so it is verified and
  // streamed like any restore; the file goes as soon as the copy is done.
  const tmp = join(config.dataDir, `.migrate-${process.pid}.tsnap`);
  const secret = { key: randomBytes(32) };
  try {
    target = await openRedisStore({
      ...config.redis,
      ...(values.prefix ? { prefix: values.prefix } : {}),
      ...(values.to
        ? { url: values.to }
        : {
            ...(config.redisUrl ? { url: config.redisUrl } : {}),
            ...(config.sentinels ? { sentinels: config.sentinels, sentinelName: config.sentinelName } : {}),
          }),
    });
    const role = await target.role();
    if (role.role === 'slave')
      throw new Error(`that Redis is a replica; migrate into its master ${role.master}`);
    const present = await target.countUsers();
    if (present > 0 && !values.again)
      throw new Error(
        `that Redis already holds ${present} user(s): refused, nothing changed (give --again when it holds an earlier migrate of this node)`,
      );
    const copy = new Progress('migrate: read');
    const manifest = await writeSnapshotFile(source, tmp, {
      secret,
      components: [...ALL],
      node: 'migrate',
      progress: (done, total) => copy.update(done, total, 'users'),
    });
    copy.done(
      `${manifest.counts.users ?? 0} users, ${manifest.counts.tokens ?? 0} tokens read`,
      manifest.counts.users ?? 0,
    );
    const snapshot = await verifySnapshot(fileSource(tmp), secret);
    const write = new Progress('migrate: write');
    // `sync`: the cluster becomes a mirror of this node, used-code state as it is (no floor, no
    // resync marks: the states are the live ones, not an older backup's).
    const report = await restoreSnapshot(target, snapshot, {
      components: [...ALL],
      mode: 'sync',
      progress: (done, total) => write.update(done, total, 'users and tokens'),
    });
    write.done(
      `${report.usersCreated + report.usersReplaced} users and ${report.tokensRestored} tokens written`,
      report.usersCreated + report.usersReplaced + report.tokensRestored,
    );
    process.stdout.write(formatReport(report));
    for (const line of await afterRestoreChecks(manifest.time, target, target)) print(line);
    print(
      `seed key: every node of the cluster must hold this node's seed key: ${
        config.masterKey
          ? 'the same TESSERA_MASTER_KEY'
          : `a copy of ${keyFilePath(config.dataDir)} (mode 0600)`
      }`,
    );
    print(
      `audit trail: stays in ${config.dataDir} (the embedded store is unchanged); the cluster starts its own signed trail`,
    );
    print(
      `next: start this node with TESSERA_REDIS_URL=${values.to ?? config.redisUrl ?? '(the Redis)'}; codes accepted here after ${new Date(manifest.time).toISOString()} were not carried`,
    );
    return 0;
  } finally {
    rmSync(tmp, { force: true });
    rmSync(`${tmp}.tmp`, { force: true });
    await source.close();
    await target?.close();
  }
}
