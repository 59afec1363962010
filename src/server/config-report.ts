import { type Config, SYSLOG_FACILITIES, VARIABLES, type Variable } from './config.ts';
import { SMS_EFFECTIVE } from './config-sms.ts';
import { MASK, maskUrl } from './mask.ts';

/** Each variable's effective value, from the loaded configuration (defaults filled in). */
const EFFECTIVE: Record<string, (c: Config) => string | number | boolean | undefined> = {
  TESSERA_HOST: (c) => c.host,
  TESSERA_PORT: (c) => c.port,
  TESSERA_DATA_DIR: (c) => c.dataDir,
  TESSERA_LOG_LEVEL: (c) => c.logLevel,
  TESSERA_TRUST_PROXY: (c) => (c.trustProxy.length > 0 ? c.trustProxy.join(',') : undefined),
  TESSERA_MASTER_KEY: (c) => c.masterKey,
  TESSERA_ADMIN_KEY: (c) => c.adminKey,
  TESSERA_PUBLIC_URL: (c) => c.cluster.url,
  TESSERA_NODE_ID: (c) => c.cluster.nodeId,
  TESSERA_REDIS_URL: (c) => c.redisUrl,
  TESSERA_SENTINELS: (c) => c.sentinels?.map((s) => `${s.host}:${s.port}`).join(','),
  TESSERA_SENTINEL_NAME: (c) => c.sentinelName,
  TESSERA_SENTINEL_PASSWORD: (c) => c.redis.sentinelPassword,
  TESSERA_REDIS_PREFIX: (c) => c.redis.prefix,
  TESSERA_REDIS_AUTOPIPELINE: (c) => c.redis.autoPipelining,
  TESSERA_REPLICA_ACK: (c) => c.redis.replicaAck,
  TESSERA_REPLICA_WAIT_MS: (c) => c.redis.waitTimeoutMs,
  TESSERA_REPLICA_ACK_COUNT: (c) => c.redis.ackReplicas,
  TESSERA_FAILOVER_HOLD_MS: (c) => c.redis.holdMs,
  TESSERA_HEARTBEAT_SECONDS: (c) => c.cluster.heartbeatMs / 1000,
  TESSERA_DIRECTORY_SCHEDULE: (c) => c.directorySchedule ?? true,
  TESSERA_DIRECTORY_TAKEOVER_SECONDS: (c) => (c.directoryTakeoverMs ?? 60_000) / 1000,
  TESSERA_SNAPSHOT_DIR: (c) => c.cluster.snapshotDir,
  TESSERA_SNAPSHOT_INTERVAL_MIN: (c) => c.cluster.snapshotIntervalMs / 60_000,
  TESSERA_SNAPSHOT_KEEP: (c) => c.cluster.snapshotKeep,
  TESSERA_SNAPSHOT_PASSPHRASE: (c) => c.cluster.snapshotPassphrase,
  TESSERA_SNAPSHOT_PASSPHRASE_FILE: (c) => c.cluster.snapshotPassphraseFile,
  TESSERA_SNAPSHOT_KEY_FILE: (c) => c.cluster.snapshotKeyFile,
  TESSERA_SNAPSHOT_PULL_URL: (c) => c.cluster.pullUrl,
  TESSERA_SNAPSHOT_PULL_KEY_FILE: (c) => c.cluster.pullKeyFile,
  TESSERA_SNAPSHOT_PULL_INTERVAL_MIN: (c) => c.cluster.pullIntervalMs / 60_000,
  TESSERA_SNAPSHOT_PULL_APPLY: (c) => c.cluster.pullApply,
  TESSERA_FAILOVER_WEBHOOK: (c) => c.cluster.failoverWebhook,
  TESSERA_TOMBSTONE_RETENTION_DAYS: (c) => c.cluster.tombstoneRetentionMs / 86_400_000,
  TESSERA_REDIS_CA_FILE: (c) => c.redis.tls?.caFile,
  TESSERA_REDIS_CERT_FILE: (c) => c.redis.tls?.certFile,
  TESSERA_REDIS_KEY_FILE: (c) => c.redis.tls?.keyFile,
  TESSERA_SENTINEL_TLS: (c) => c.redis.sentinelTls,
  TESSERA_AUDIT_RETENTION_AUTH_DAYS: (c) => c.auditRetention.auth.maxAgeMs / 86_400_000,
  TESSERA_AUDIT_RETENTION_ADMIN_DAYS: (c) => c.auditRetention.admin.maxAgeMs / 86_400_000,
  TESSERA_AUDIT_RETENTION_EVENT_DAYS: (c) => c.auditRetention.event.maxAgeMs / 86_400_000,
  TESSERA_AUDIT_MAX_AUTH_EVENTS: (c) => c.auditRetention.auth.maxEvents,
  TESSERA_AUDIT_MAX_EVENT_EVENTS: (c) => c.auditRetention.event.maxEvents,
  TESSERA_AUDIT_KEY_FILE: (c) => c.auditKeyFile,
  TESSERA_AUDIT_SYSLOG: (c) => {
    const s = c.auditOut.syslog;
    return s ? `${s.protocol}://${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}` : undefined;
  },
  TESSERA_AUDIT_SYSLOG_STREAMS: (c) => c.auditOut.syslog?.streams.join(','),
  TESSERA_AUDIT_SYSLOG_FACILITY: (c) => {
    const n = c.auditOut.syslog?.facility;
    return Object.entries(SYSLOG_FACILITIES).find(([, v]) => v === n)?.[0];
  },
  TESSERA_AUDIT_SYSLOG_CA_FILE: (c) => c.auditOut.syslog?.caFile,
  TESSERA_AUDIT_JSONL: (c) => c.auditOut.jsonl?.target,
  TESSERA_AUDIT_JSONL_STREAMS: (c) => c.auditOut.jsonl?.streams.join(','),
  TESSERA_AUDIT_OUT_QUEUE: (c) => c.auditOut.queueSize,
  TESSERA_AUDIT_SUCCESS_RATE: (c) => c.auditSuccessRate,
  TESSERA_SMTP_HOST: (c) => c.mail.smtp?.host,
  TESSERA_SMTP_PORT: (c) => c.mail.smtp?.port,
  TESSERA_SMTP_SECURITY: (c) => c.mail.smtp?.security,
  TESSERA_SMTP_USER: (c) => c.mail.smtp?.user,
  TESSERA_SMTP_PASSWORD: (c) => c.mail.smtp?.password,
  TESSERA_SMTP_CA_FILE: (c) => c.mail.smtp?.caFile,
  TESSERA_SMTP_TIMEOUT_MS: (c) => c.mail.smtp?.timeoutMs,
  TESSERA_MAIL_FROM: (c) => c.mail.smtp?.from,
  TESSERA_MAIL_TEMPLATE_DIR: (c) => c.mail.templateDir,
  TESSERA_MAIL_DISABLED: (c) => (c.mail.disabled.length ? c.mail.disabled.join(',') : undefined),
  TESSERA_MAIL_ADMINS: (c) => (c.mail.adminAddresses.length ? c.mail.adminAddresses.join(',') : undefined),
  TESSERA_PORTAL_URL: (c) => c.portal.url,
  TESSERA_INVITATION_TTL_HOURS: (c) => c.portal.invitationTtlMs / 3_600_000,
  TESSERA_WEBPUSH_HOSTS: (c) => c.webPushHosts.join(','),
  ...SMS_EFFECTIVE,
};

/** A URL without its secrets: the password and every query value are masked. */
function shown(v: Variable, value: string | number | boolean | undefined): string | null {
  if (value === undefined) return null;
  const text = String(value);
  if (v.secret === 'value') return MASK;
  return v.secret === 'url' ? maskUrl(text) : text;
}

export interface ReportLine {
  name: string;
  /** The effective value, secrets masked; null when unset and without a default. */
  value: string | null;
  source: 'set' | 'default';
}

/** What `tessera config` prints: every variable's effective value, and where it came from. */
export function configReport(config: Config, set: readonly string[]): ReportLine[] {
  return VARIABLES.map((v) => {
    const effective = EFFECTIVE[v.name];
    if (!effective) throw new Error(`${v.name} has no effective value in the report`);
    return {
      name: v.name,
      value: shown(v, effective(config)),
      source: set.includes(v.name) ? 'set' : 'default',
    };
  });
}

export function formatReport(lines: readonly ReportLine[], ignored: readonly string[]): string {
  const width = Math.max(...lines.map((l) => l.name.length + 1 + (l.value ?? '').length));
  const out = lines.map((l) => {
    const assignment = `${l.name}=${l.value ?? ''}`;
    const note = l.source === 'set' ? 'set' : l.value === null ? 'unset' : 'default';
    return `${assignment.padEnd(width)}  # ${note}`;
  });
  if (ignored.length > 0) out.push(`# ignored (not Tessera settings): ${ignored.join(', ')}`);
  return out.join('\n');
}
