import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AdminContext, createAdminKey, loadSettings, migrateUsernames } from '../admin/index.ts';
import { AuditOutputs, BufferedAuditSink, LoggingRuntime, NodeEvents } from '../audit/index.ts';
import { Cached, CallerDirectory, pushMethod, Validator } from '../auth/index.ts';
import { BUILTIN_METHODS, methodRegistry } from '../auth/methods/index.ts';
import { ClusterRuntime } from '../cluster/index.ts';
import { KeyRing } from '../crypto/index.ts';
import {
  type DirectoryPasswords,
  DirectorySchedule,
  directoryPasswords,
  scheduleAuditEvent,
} from '../directory/index.ts';
import { DEFAULT_GROUP, type Settings } from '../model/index.ts';
import { Notifier } from '../notify/index.ts';
import { oneTimeCodeChecker, type SelfServiceContext, syncInviter } from '../portal/index.ts';
import { PushService, vapidKeys, vapidSubject, WebPushWaker } from '../push/index.ts';
import type { ReplicationControl, Store } from '../store/index.ts';
import { codeMethods } from './code-methods.ts';
import type { Config } from './config.ts';
import { Metrics } from './metrics.ts';
import {
  directorySyncMail,
  failoverMail,
  oneTimeCodeHooks,
  pushDeniedMail,
  watchLocks,
} from './notifications.ts';
import { type ReadinessProblem, SeedKeyWatch } from './seed-key-watch.ts';

export interface Logger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** The node's services, built once; app.ts hands each face the ones it needs as options. */
export interface TesseraServices {
  config: Config;
  store: Store;
  /** The store's replication control (Redis); null for a one-node store. */
  replication: ReplicationControl | null;
  keyring: KeyRing;
  settings: Cached<Settings>;
  validator: Validator;
  /** Directory binds (one bounded pool per source) for every face that checks a directory password. */
  directoryPasswords: DirectoryPasswords;
  audit: BufferedAuditSink;
  /** The node's own events (start, stop, role, failover, snapshot and backup runs) for the event stream. */
  events: NodeEvents;
  /** Log level and audit output streams as switched at run time (settings), applied on this node. */
  logging: LoggingRuntime;
  metrics: Metrics;
  callers: CallerDirectory;
  /** Mail for people: a queue that never blocks (src/notify). */
  notifier: Notifier;
  /** Push challenges and their answers from paired phones (src/push). */
  push: PushService;
  /**
   * Why this node must not take traffic now, or null: its Redis replica has not finished its first
   * sync (it would refuse keys and users the master has), or its seed key cannot open its seeds.
   */
  readiness(): Promise<ReadinessProblem | null>;
  /** The node's cluster duties (heartbeat, failover watch, snapshots) and its cluster status. */
  cluster: ClusterRuntime;
  /** The admin operations' context, with `actor` in every audit event. */
  admin(actor: string, sourceIp?: string): AdminContext;
  /** The self-service operations' context (invitations, devices, one-time codes), with `actor` in every audit event. */
  selfService(actor: string, sourceIp?: string): SelfServiceContext;
  /** Starts the background duties (the cluster runtime); the CLI never does. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** A logger whose level can be changed while it runs (pino's). */
function hasLevel(log: Logger): log is Logger & { level: string } {
  return typeof (log as { level?: unknown }).level === 'string';
}

export function keyFilePath(dataDir: string): string {
  return join(dataDir, 'master.key');
}

export function createServices(
  config: Config,
  { store, replication }: { store: Store; replication: ReplicationControl | null },
  log: Logger,
  keyring?: KeyRing,
): TesseraServices {
  const ring = keyring ?? KeyRing.loadOrCreate(keyFilePath(config.dataDir), config.masterKey);
  const settings = new Cached(() => loadSettings(store), 5_000);
  const metrics = new Metrics();
  const notifier = new Notifier(config.mail, metrics.registry, log);
  const outputs = new AuditOutputs(
    config.auditOut,
    { hostname: config.cluster.nodeId, appName: 'tessera', procId: String(process.pid) },
    {
      onDrop: (output) => metrics.auditOutDropped.inc({ output }),
      onError: (output, message) => log.warn({ output }, `audit output: ${message}`),
    },
  );
  const audit = new BufferedAuditSink(store, log, undefined, outputs.enabled ? outputs : undefined);
  const logging = new LoggingRuntime(
    () => settings.get(),
    outputs,
    (level) => {
      if (hasLevel(log)) log.level = level;
    },
    {
      level: config.logLevel,
      streams: {
        ...(config.auditOut.syslog ? { syslog: config.auditOut.syslog.streams } : {}),
        ...(config.auditOut.jsonl ? { jsonl: config.auditOut.jsonl.streams } : {}),
      },
    },
  );
  const events = new NodeEvents(audit, config.cluster.nodeId);
  let started = false;
  let schedule: DirectorySchedule | null = null;
  const callers = new CallerDirectory(store);
  const seedKeys = new SeedKeyWatch(store, ring, log);
  let synced = false;
  const firstSync = async (): Promise<ReadinessProblem | null> => {
    const view = replication?.replication();
    if (synced || !view) return null;
    if (view.redisRole === 'slave' && !view.linkUp)
      return {
        code: 'REPLICA_SYNCING',
        message: `this node's Redis has not finished its first sync from the master ${view.master}`,
      };
    synced = true;
    // The replica now holds the master's keys and seeds: no refusal from before the sync may
    // outlive it, and the seeds are checked before the first "ready".
    callers.forget();
    await seedKeys.check();
    return null;
  };
  const cluster = new ClusterRuntime(
    store,
    replication,
    config.cluster,
    { keyFile: keyFilePath(config.dataDir), ...(config.masterKey ? { masterKey: config.masterKey } : {}) },
    {
      log,
      onFailover: (e) => {
        metrics.failovers.inc({ change: e.change });
        events.failover(e);
        failoverMail(notifier, config.cluster.nodeId, e);
      },
      onReplicaAckMissing: () => metrics.replicaAckMissing.inc(),
      onSnapshot: (r) => {
        metrics.observeSnapshot(r);
        events.run('snapshot', r);
      },
      onRole: (role) => {
        metrics.observeRole(role);
        events.roleSeen(role);
      },
      // Deleted clients and admin keys stop at once, not after the caller cache's few seconds.
      onApplied: () => {
        callers.forget();
        settings.invalidate();
        void seedKeys.check();
      },
    },
  );
  const waker = new WebPushWaker({
    store,
    vapid: () => vapidKeys(ring),
    subject: vapidSubject(config.portal.url),
    hosts: config.webPushHosts,
    observe: (outcome) => metrics.pushTotal.inc({ event: `wake-${outcome}` }),
    log,
  });
  const push = new PushService({
    store,
    settings: () => settings.get(),
    audit,
    observe: (event) => metrics.pushTotal.inc({ event }),
    onDenied: (p) => pushDeniedMail(notifier, p),
    wake: (p) => waker.wake(p),
  });
  const passwords = directoryPasswords(store);
  const validator = new Validator({
    store: watchLocks(store, notifier),
    keyring: ring,
    settings: () => settings.get(),
    audit,
    observe: (outcome, seconds) => metrics.observeValidate(outcome, seconds),
    log,
    node: config.cluster.nodeId,
    ...(config.auditSuccessRate !== undefined ? { successSampleRate: config.auditSuccessRate } : {}),
    directory: passwords,
    oneTimeCodes: oneTimeCodeChecker(store, oneTimeCodeHooks(store, notifier, metrics)),
    methods: methodRegistry([
      ...BUILTIN_METHODS,
      pushMethod({ push }),
      ...codeMethods(config, notifier, {
        store,
        keyring: ring,
        log,
        observe: (channel, result) => metrics.codeDelivery.inc({ channel, result }),
      }),
    ]),
  });
  return {
    config,
    store,
    replication,
    keyring: ring,
    settings,
    validator,
    directoryPasswords: passwords,
    audit,
    events,
    logging,
    metrics,
    callers,
    notifier,
    push,
    cluster,
    readiness: async () => (await firstSync()) ?? seedKeys.problem(),
    selfService(actor, sourceIp) {
      return {
        ...this.admin(actor, sourceIp),
        notifier,
        portalUrl: config.portal.url,
        invitationTtlMs: config.portal.invitationTtlMs,
        actor,
      };
    },
    admin(actor, sourceIp) {
      return {
        store,
        keyring: ring,
        settings: () => settings.get(),
        audit: (type, detail) => {
          if (type.startsWith('settings.')) settings.invalidate();
          if (type.startsWith('client.') || type.startsWith('admin-key.')) callers.forget();
          if (type === 'admin.failed') directorySyncMail(notifier, detail.route, detail.reason);
          const { username, serial, result, reason, ...rest } = detail;
          const extra: Record<string, string> = {};
          for (const [k, v] of Object.entries(rest)) if (v !== undefined) extra[k] = v;
          audit.record({
            time: Date.now(),
            type,
            actor,
            // an operation that failed throws before its audit call: what is recorded succeeded
            result: result ?? 'ok',
            ...(reason ? { reason } : {}),
            ...(username ? { username } : {}),
            ...(serial ? { serial } : {}),
            ...(sourceIp ? { sourceIp } : {}),
            ...(Object.keys(extra).length ? { detail: extra } : {}),
          });
        },
      };
    },
    async start() {
      await seedKeys.start();
      // A node re-pointed at another master may now hold seeds sealed with another key.
      for (const event of ['role-change', 'master-change'] as const)
        replication?.onReplication(event, () => void seedKeys.check());
      await cluster.start();
      // directory sources with a sync interval: on the master, or a replica standing in for it
      const nodeId = config.cluster.nodeId;
      schedule = new DirectorySchedule({
        store,
        replication,
        nodeId,
        takeoverMs: config.directoryTakeoverMs ?? 60_000,
        admin: (s) => ({ ...this.admin(`schedule:${nodeId}`), store: s }),
        invite: (s) => syncInviter({ ...this.selfService(`schedule:${nodeId}`), store: s }),
        onEvent: (e) => {
          const event = scheduleAuditEvent(e, nodeId, Date.now());
          audit.record(event);
          log.info({ ...event.detail, result: event.result }, event.type);
        },
      });
      if (config.directorySchedule !== false) schedule.start();
      logging.start();
      started = true;
      events.started({ pid: process.pid });
      // the role it starts in is its first role event; later ones come with the heartbeat
      events.roleSeen((await store.role()).role);
    },
    async close() {
      seedKeys.stop();
      await schedule?.stop();
      await passwords.close?.();
      logging.stop();
      await cluster.stop();
      // the CLI builds services without starting them: only a node that started records a stop
      if (started) events.stopped();
      notifier.close();
      await audit.close();
      await store.close();
    },
  };
}

/**
 * First start on a writable node: the permanent Default group, and an admin key written to
 * `<dataDir>/admin.key` (0600) when there is none. Logs the path, never the key.
 */
export async function bootstrap(services: TesseraServices, log: Logger): Promise<void> {
  const role = await services.store.role();
  if (role.role === 'slave') return;
  await migrateUsernames(services.admin('migration'), log);
  if (!(await services.store.getGroup(DEFAULT_GROUP))) {
    await services.store.putGroup({
      name: DEFAULT_GROUP,
      description: 'Every user not in another group',
      methods: {},
      permanent: true,
    });
  }
  const preset = services.config.adminKey;
  const none = (await services.store.listAdminKeys()).length === 0;
  if (none && preset) {
    // the operator holds this key already (a container secret): no copy of it goes to the data dir
    await createAdminKey(services.admin('bootstrap'), { name: 'initial', presetKey: preset });
    log.info({ variable: 'TESSERA_ADMIN_KEY' }, 'installed the first admin API key given in the environment');
  } else if (none) {
    const { apiKey } = await createAdminKey(services.admin('bootstrap'), { name: 'initial' });
    const path = join(services.config.dataDir, 'admin.key');
    writeFileSync(path, `${apiKey}\n`, { mode: 0o600 });
    log.info({ path }, 'created the first admin API key; it is in this file (mode 0600)');
  }
}
