// The one configuration loader: every TESSERA_* variable is read, validated and typed here, and
// nowhere else; the rest of the program receives the values as options.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { parseKey } from '../auth/api-keys.ts';
import type { ClusterConfig } from '../cluster/index.ts';
import { parseAddressList, TOMBSTONE_RETENTION_MS } from '../model/index.ts';
import { DEFAULT_WEBPUSH_HOSTS, isWebPushHostPattern } from '../push/index.ts';
import {
  AUDIT_STREAMS,
  type AuditRetention,
  type AuditStream,
  DEFAULT_AUDIT_RETENTION,
} from '../store/index.ts';
import type { RedisStoreOptions, RedisTlsFiles } from '../store/redis/index.ts';
import { type MailConfig, mailConfigOf, type PortalConfig, portalConfigOf } from './config-mail.ts';
import { SMS_VARIABLES, type SmsConfig, smsConfigOf } from './config-sms.ts';
import { maskUrl } from './mask.ts';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface HostPort {
  host: string;
  port: number;
}

/** How the Redis store behaves, beyond where it is (passed to openRedisStore as it is). */
export type RedisTuning = Required<
  Pick<
    RedisStoreOptions,
    'prefix' | 'autoPipelining' | 'replicaAck' | 'waitTimeoutMs' | 'ackReplicas' | 'holdMs'
  >
> &
  Pick<RedisStoreOptions, 'sentinelPassword' | 'tls' | 'sentinelTls'>;

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  logLevel: LogLevel;
  /** X-Forwarded-For is read only from these proxies (addresses or CIDRs); none by default. */
  trustProxy: string[];
  /** The seed key (base64 of 32 bytes) instead of `<dataDir>/master.key`. */
  masterKey?: string;
  /** The first admin key, given instead of made (only while the store has none). */
  adminKey?: string;
  /** Public URL of this node, for cluster status and snapshot pulls. */
  publicUrl?: string;
  nodeId?: string;
  redisUrl?: string;
  sentinels?: HostPort[];
  sentinelName: string;
  redis: RedisTuning;
  cluster: ClusterConfig;
  /** How long each audit stream keeps its events, and how many at most (both stores). */
  auditRetention: AuditRetention;
  /** The audit chain's key file instead of `<dataDir>/audit.key` (one file for every node). */
  auditKeyFile?: string;
  /** Where audit events go besides the store: syslog and JSON lines, each for chosen streams. */
  auditOut: AuditOutConfig;
  /** Share (0..1) of accepts and challenges kept in the authentication log by default; refusals always. */
  auditSuccessRate?: number;
  /** How long the master may be silent before a replica runs the directory sync schedule (default 60 s). */
  directoryTakeoverMs?: number;
  /** false: this node never runs the directory sync schedule (nor takes it over). */
  directorySchedule?: boolean;
  /** Mail for people (SMTP, templates); no SMTP host means no mail. */
  mail: MailConfig;
  /** The self-service portal: its public address for links, and invitation lifetimes. */
  portal: PortalConfig;
  /** How SMS codes leave (TESSERA_SMS_*); none: SMS tokens get DELIVERY_FAILED. */
  sms?: SmsConfig;
  /** The hosts Web Push wake-ups may go to (TESSERA_WEBPUSH_HOSTS; default: the browsers' push services). */
  webPushHosts: readonly string[];
}

export type SyslogProtocol = 'udp' | 'tcp' | 'tls';

export interface AuditOutConfig {
  syslog?: {
    protocol: SyslogProtocol;
    host: string;
    port: number;
    /** RFC 5424 facility number (authpriv 10 by default). */
    facility: number;
    streams: AuditStream[];
    caFile?: string;
  };
  /** `stdout`, or a file appended to. */
  jsonl?: { target: string; streams: AuditStream[] };
  /** Events waiting to be sent; beyond it new ones are dropped and counted, never waited for. */
  queueSize: number;
}

export const SYSLOG_FACILITIES: Readonly<Record<string, number>> = {
  auth: 4,
  authpriv: 10,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
};

/** What `tessera config` shows and the loader enforces, one entry per variable. */
export interface Variable {
  name: string;
  /** What a value must be (said in the error message). */
  allowed: string;
  /** Never printed as it is: `value` is masked whole, `url` loses its password and query. */
  secret?: 'value' | 'url';
}

export const VARIABLES: readonly Variable[] = [
  { name: 'TESSERA_HOST', allowed: 'a host name or address to listen on' },
  { name: 'TESSERA_PORT', allowed: 'an integer from 0 to 65535' },
  { name: 'TESSERA_DATA_DIR', allowed: 'a directory path' },
  { name: 'TESSERA_LOG_LEVEL', allowed: `one of ${LOG_LEVELS.join(', ')}` },
  {
    name: 'TESSERA_TRUST_PROXY',
    allowed: 'a comma-separated list of proxy addresses or CIDRs (10.0.0.5,10.1.0.0/16)',
  },
  { name: 'TESSERA_MASTER_KEY', allowed: 'the base64 of 32 bytes', secret: 'value' },
  {
    name: 'TESSERA_ADMIN_KEY',
    allowed: 'an admin API key (tessera-admin.<12 chars>.<43 chars>), installed on a first start',
    secret: 'value',
  },
  { name: 'TESSERA_PUBLIC_URL', allowed: 'an http:// or https:// URL' },
  { name: 'TESSERA_NODE_ID', allowed: 'a name without spaces' },
  { name: 'TESSERA_REDIS_URL', allowed: 'a redis:// or rediss:// URL', secret: 'url' },
  { name: 'TESSERA_SENTINELS', allowed: 'a comma-separated list of host:port' },
  { name: 'TESSERA_SENTINEL_NAME', allowed: 'the master name Sentinel watches' },
  { name: 'TESSERA_SENTINEL_PASSWORD', allowed: "Sentinel's password", secret: 'value' },
  { name: 'TESSERA_REDIS_PREFIX', allowed: 'a key prefix without spaces' },
  { name: 'TESSERA_REDIS_AUTOPIPELINE', allowed: 'true or false' },
  { name: 'TESSERA_REPLICA_ACK', allowed: 'accept or reject' },
  { name: 'TESSERA_REPLICA_WAIT_MS', allowed: 'a positive integer (milliseconds)' },
  { name: 'TESSERA_REPLICA_ACK_COUNT', allowed: 'a positive integer' },
  { name: 'TESSERA_FAILOVER_HOLD_MS', allowed: 'an integer of 0 or more (milliseconds; 0 does not hold)' },
  { name: 'TESSERA_HEARTBEAT_SECONDS', allowed: 'a positive number (seconds)' },
  {
    name: 'TESSERA_DIRECTORY_SCHEDULE',
    allowed: 'true or false (false: this node never runs scheduled directory syncs)',
  },
  {
    name: 'TESSERA_DIRECTORY_TAKEOVER_SECONDS',
    allowed:
      'a positive number (seconds the master may be silent before a replica runs the directory schedule)',
  },
  { name: 'TESSERA_SNAPSHOT_DIR', allowed: 'a directory path' },
  {
    name: 'TESSERA_SNAPSHOT_INTERVAL_MIN',
    allowed: 'a number of minutes, 0 or more (0 turns snapshots off)',
  },
  { name: 'TESSERA_SNAPSHOT_KEEP', allowed: 'a positive integer' },
  { name: 'TESSERA_SNAPSHOT_PASSPHRASE', allowed: 'a passphrase', secret: 'value' },
  { name: 'TESSERA_SNAPSHOT_PASSPHRASE_FILE', allowed: 'a file path' },
  { name: 'TESSERA_SNAPSHOT_KEY_FILE', allowed: 'a file path' },
  { name: 'TESSERA_SNAPSHOT_PULL_URL', allowed: 'an http:// or https:// URL', secret: 'url' },
  { name: 'TESSERA_SNAPSHOT_PULL_KEY_FILE', allowed: 'a file path' },
  {
    name: 'TESSERA_SNAPSHOT_PULL_INTERVAL_MIN',
    allowed: 'a number of minutes, 0 or more (0 turns pulls off)',
  },
  { name: 'TESSERA_SNAPSHOT_PULL_APPLY', allowed: 'true or false' },
  { name: 'TESSERA_FAILOVER_WEBHOOK', allowed: 'an http:// or https:// URL', secret: 'url' },
  { name: 'TESSERA_TOMBSTONE_RETENTION_DAYS', allowed: 'a positive number of days' },
  { name: 'TESSERA_REDIS_CA_FILE', allowed: 'a PEM file of the CA(s) that sign the Redis certificates' },
  { name: 'TESSERA_REDIS_CERT_FILE', allowed: 'a PEM client certificate (with TESSERA_REDIS_KEY_FILE)' },
  { name: 'TESSERA_REDIS_KEY_FILE', allowed: 'the PEM key of TESSERA_REDIS_CERT_FILE' },
  { name: 'TESSERA_SENTINEL_TLS', allowed: 'true or false (default: as the Redis URL)' },
  { name: 'TESSERA_AUDIT_RETENTION_AUTH_DAYS', allowed: 'a positive number of days' },
  { name: 'TESSERA_AUDIT_RETENTION_ADMIN_DAYS', allowed: 'a positive number of days' },
  { name: 'TESSERA_AUDIT_RETENTION_EVENT_DAYS', allowed: 'a positive number of days' },
  { name: 'TESSERA_AUDIT_MAX_AUTH_EVENTS', allowed: 'a positive integer' },
  { name: 'TESSERA_AUDIT_MAX_EVENT_EVENTS', allowed: 'a positive integer' },
  { name: 'TESSERA_AUDIT_KEY_FILE', allowed: 'a file path (the audit chain key, 0600)' },
  { name: 'TESSERA_AUDIT_SYSLOG', allowed: 'udp://host:port, tcp://host:port or tls://host:port' },
  { name: 'TESSERA_AUDIT_SYSLOG_STREAMS', allowed: 'a comma-separated list of auth, admin, event' },
  {
    name: 'TESSERA_AUDIT_SYSLOG_FACILITY',
    allowed: `one of ${Object.keys(SYSLOG_FACILITIES).join(', ')}`,
  },
  { name: 'TESSERA_AUDIT_SYSLOG_CA_FILE', allowed: 'a PEM file of the CA(s) that sign the syslog server' },
  { name: 'TESSERA_AUDIT_JSONL', allowed: 'stdout, or a file path' },
  { name: 'TESSERA_AUDIT_JSONL_STREAMS', allowed: 'a comma-separated list of auth, admin, event' },
  { name: 'TESSERA_AUDIT_OUT_QUEUE', allowed: 'a positive integer (events)' },
  { name: 'TESSERA_AUDIT_SUCCESS_RATE', allowed: 'a number from 0 to 1 (share of accepts logged)' },
  { name: 'TESSERA_SMTP_HOST', allowed: 'the SMTP server host name or address (no mail without it)' },
  { name: 'TESSERA_SMTP_PORT', allowed: 'an integer from 1 to 65535 (default 587, 465 with tls)' },
  { name: 'TESSERA_SMTP_SECURITY', allowed: 'starttls (default), tls or none' },
  { name: 'TESSERA_SMTP_USER', allowed: 'the SMTP login name' },
  { name: 'TESSERA_SMTP_PASSWORD', allowed: 'the SMTP password', secret: 'value' },
  {
    name: 'TESSERA_SMTP_CA_FILE',
    allowed: "a PEM file of the CA(s) that sign the SMTP server's certificate",
  },
  { name: 'TESSERA_SMTP_TIMEOUT_MS', allowed: 'a positive integer (milliseconds)' },
  { name: 'TESSERA_MAIL_FROM', allowed: 'the sender address (Name <addr@example.org> or addr@example.org)' },
  {
    name: 'TESSERA_MAIL_TEMPLATE_DIR',
    allowed: 'a directory of mail templates that replace the built-in ones',
  },
  { name: 'TESSERA_MAIL_DISABLED', allowed: 'a comma-separated list of mail template names to switch off' },
  { name: 'TESSERA_MAIL_ADMINS', allowed: 'a comma-separated list of addresses for admin notices' },
  {
    name: 'TESSERA_PORTAL_URL',
    allowed: 'the public http:// or https:// URL of /portal/ (for links in mails)',
  },
  { name: 'TESSERA_INVITATION_TTL_HOURS', allowed: 'a positive number of hours (default 72)' },
  {
    name: 'TESSERA_WEBPUSH_HOSTS',
    allowed:
      "a comma-separated list of the hosts Web Push wake-ups may go to (names, or *.name for any host under it); default: the browsers' push services",
  },
  ...SMS_VARIABLES,
];

const KNOWN = new Map(VARIABLES.map((v) => [v.name, v]));

/**
 * `NAME_FILE` for each secret NAME: the value is read from that file (a container secret, a
 * mounted key), its trailing newline dropped. Not where a `_FILE` variable of its own is declared.
 */
export const SECRET_FILE_VARIABLES: ReadonlyMap<string, string> = new Map(
  VARIABLES.filter((v) => v.secret && !KNOWN.has(`${v.name}_FILE`)).map((v) => [`${v.name}_FILE`, v.name]),
);

/** A start stopped by bad settings: one line per variable, each naming it and what is allowed. */
export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(problems.map((p) => p.message).join('\n'));
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** Reads one variable at a time and collects every problem, so one start reports them all. */
export class Reader {
  readonly problems: { variable: string; message: string }[] = [];

  constructor(private readonly env: Env) {}

  /** The raw value; unset and empty are the same. A secret may come from the file `NAME_FILE` names. */
  raw(name: string): string | undefined {
    if (!KNOWN.has(name)) throw new Error(`${name} is not a declared variable`);
    const v = this.env[name];
    const direct = v === undefined || v === '' ? undefined : v;
    const fileVar = `${name}_FILE`;
    const file = SECRET_FILE_VARIABLES.has(fileVar) ? this.env[fileVar] : undefined;
    if (file === undefined || file === '') return direct;
    if (direct !== undefined) {
      this.problem(fileVar, `${name} and ${fileVar} are both set; use one`);
      return undefined;
    }
    return this.secretFile(fileVar, file);
  }

  private secretFile(fileVar: string, path: string): string | undefined {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      // the path is the operator's, not a secret; the file's content never appears
      this.problem(
        fileVar,
        `cannot read ${JSON.stringify(path)} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      );
      return undefined;
    }
    const value = text.replace(/\r?\n$/, '');
    if (value === '') this.problem(fileVar, `${JSON.stringify(path)} is empty`);
    return value === '' ? undefined : value;
  }

  /** A problem that is not one value's: two variables that do not fit together. */
  problem(name: string, message: string): void {
    this.problems.push({ variable: name, message: `${name}: ${message}` });
  }

  reject(name: string, value: string): undefined {
    const spec = KNOWN.get(name)!;
    // a refused secret is not echoed: a URL shows with its password and query values masked
    const shown =
      spec.secret === 'value'
        ? 'the value'
        : JSON.stringify((spec.secret === 'url' ? maskUrl(value) : value).slice(0, 80));
    this.problems.push({ variable: name, message: `${name}: ${shown} is not allowed; use ${spec.allowed}` });
    return undefined;
  }

  text(name: string, ok: (v: string) => boolean = () => true): string | undefined {
    const v = this.raw(name);
    if (v === undefined) return undefined;
    return ok(v) ? v : this.reject(name, v);
  }

  number(name: string, ok: (n: number) => boolean): number | undefined {
    const v = this.raw(name);
    if (v === undefined) return undefined;
    const n = /^\s*-?(\d+\.?\d*|\.\d+)\s*$/.test(v) ? Number(v) : Number.NaN;
    return Number.isFinite(n) && ok(n) ? n : this.reject(name, v);
  }

  flag(name: string): boolean | undefined {
    const v = this.raw(name);
    if (v === undefined) return undefined;
    if (v === 'true' || v === 'false') return v === 'true';
    return this.reject(name, v);
  }

  oneOf<T extends string>(name: string, values: readonly T[]): T | undefined {
    return this.text(name, (v) => (values as readonly string[]).includes(v)) as T | undefined;
  }

  url(name: string, protocols: readonly string[]): string | undefined {
    return this.text(name, (v) => {
      try {
        const u = new URL(v);
        return protocols.includes(u.protocol) && u.hostname !== '';
      } catch {
        return false;
      }
    });
  }

  hostPorts(name: string): HostPort[] | undefined {
    const v = this.raw(name);
    if (v === undefined) return undefined;
    const list = v.split(',').map((part) => parseHostPort(part.trim()));
    if (list.every((x): x is HostPort => x !== null)) return list;
    return this.reject(name, v);
  }
}

function parseHostPort(text: string): HostPort | null {
  const i = text.lastIndexOf(':');
  const host = text.slice(0, i);
  const port = Number(text.slice(i + 1));
  if (i <= 0 || !/^\d+$/.test(text.slice(i + 1)) || port < 1 || port > 65535) return null;
  return { host: host.replace(/^\[(.*)\]$/, '$1'), port };
}

const noSpaces = (v: string) => !/\s/.test(v);
const integer =
  (min: number, max = Number.MAX_SAFE_INTEGER) =>
  (n: number) =>
    Number.isInteger(n) && n >= min && n <= max;

function isMasterKey(v: string): boolean {
  return /^[A-Za-z0-9+/]+={0,2}$/.test(v) && Buffer.from(v, 'base64').length === 32;
}

/**
 * The proxies whose X-Forwarded-For is believed. A list only: `true` would let any caller choose
 * its own address (and with it pass a client's allowedCidrs).
 */
function proxyList(r: Reader): string[] {
  const parsed = parseAddressList('TESSERA_TRUST_PROXY', r.raw('TESSERA_TRUST_PROXY'));
  if (parsed.ok) return parsed.value;
  const allowed = KNOWN.get('TESSERA_TRUST_PROXY')!.allowed;
  r.problems.push({ variable: 'TESSERA_TRUST_PROXY', message: `${parsed.error}; use ${allowed}` });
  return [];
}

/**
 * Reads every TESSERA_* variable once. A bad value stops here with a ConfigError naming each bad
 * variable and what it allows. `defaults` are the caller's own (the CLI logs at warn).
 */
export function loadConfig(env: Env = process.env, defaults: { logLevel?: LogLevel } = {}): Config {
  const r = new Reader(env);
  const host = r.text('TESSERA_HOST', noSpaces) ?? '127.0.0.1';
  const port = r.number('TESSERA_PORT', integer(0, 65535)) ?? 8080;
  const dataDir = resolve(r.text('TESSERA_DATA_DIR') ?? './data');
  const logLevel = r.oneOf('TESSERA_LOG_LEVEL', LOG_LEVELS) ?? defaults.logLevel ?? 'info';
  const trustProxy = proxyList(r);
  const masterKey = r.text('TESSERA_MASTER_KEY', isMasterKey);
  const adminKey = r.text('TESSERA_ADMIN_KEY', (v) => parseKey(v)?.kind === 'admin');
  const publicUrl = r.url('TESSERA_PUBLIC_URL', ['http:', 'https:']);
  const nodeId = r.text('TESSERA_NODE_ID', noSpaces);
  const redisUrl = r.url('TESSERA_REDIS_URL', ['redis:', 'rediss:']);
  const sentinels = r.hostPorts('TESSERA_SENTINELS');
  const sentinelName = r.text('TESSERA_SENTINEL_NAME', noSpaces) ?? 'tessera';
  const sentinelPassword = r.text('TESSERA_SENTINEL_PASSWORD');
  const tls = redisTlsFiles(r, redisUrl);
  const sentinelTls = r.flag('TESSERA_SENTINEL_TLS');
  const redis: RedisTuning = {
    prefix: r.text('TESSERA_REDIS_PREFIX', noSpaces) ?? 'tessera:',
    autoPipelining: r.flag('TESSERA_REDIS_AUTOPIPELINE') ?? true,
    // Strict unless the operator chose otherwise: in a cluster no replica's ack means no accept.
    // A standalone Redis (no replica ever seen, no Sentinel) never waits, so this costs it nothing.
    replicaAck: r.oneOf('TESSERA_REPLICA_ACK', ['accept', 'reject'] as const) ?? 'reject',
    waitTimeoutMs: r.number('TESSERA_REPLICA_WAIT_MS', integer(1)) ?? 1000,
    ackReplicas: r.number('TESSERA_REPLICA_ACK_COUNT', integer(1)) ?? 1,
    // A login that finds the master gone waits this long for Sentinel's next one, not failing.
    holdMs: r.number('TESSERA_FAILOVER_HOLD_MS', integer(0, 120_000)) ?? 5_000,
    ...(sentinelPassword ? { sentinelPassword } : {}),
    ...(tls ? { tls } : {}),
    ...(sentinelTls !== undefined ? { sentinelTls } : {}),
  };
  const cluster = clusterConfig(r, { host, port, dataDir, nodeId, publicUrl });
  const retention = auditRetentionOf(r);
  const auditKeyFile = r.text('TESSERA_AUDIT_KEY_FILE');
  const auditOut = auditOutOf(r);
  const auditSuccessRate = r.number('TESSERA_AUDIT_SUCCESS_RATE', (n) => n >= 0 && n <= 1);
  const takeover = r.number('TESSERA_DIRECTORY_TAKEOVER_SECONDS', (n) => n > 0);
  const schedule = r.flag('TESSERA_DIRECTORY_SCHEDULE');
  const mail = mailConfigOf(r);
  const portal = portalConfigOf(r, cluster.url);
  const sms = smsConfigOf(r, mail.smtp !== undefined);
  const webPushHosts = webPushHostsOf(r);
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return {
    host,
    port,
    dataDir,
    logLevel,
    trustProxy,
    sentinelName,
    redis,
    cluster,
    auditRetention: retention,
    auditOut,
    mail,
    portal,
    webPushHosts,
    ...(sms ? { sms } : {}),
    ...(auditSuccessRate !== undefined ? { auditSuccessRate } : {}),
    ...(takeover !== undefined ? { directoryTakeoverMs: takeover * 1000 } : {}),
    ...(schedule !== undefined ? { directorySchedule: schedule } : {}),
    ...(auditKeyFile ? { auditKeyFile: resolve(auditKeyFile) } : {}),
    ...(redisUrl ? { redisUrl } : {}),
    ...(sentinels ? { sentinels } : {}),
    ...(masterKey ? { masterKey } : {}),
    ...(adminKey ? { adminKey } : {}),
    ...(publicUrl ? { publicUrl } : {}),
    ...(nodeId ? { nodeId } : {}),
  };
}

/** TLS files for `rediss://`; beside a plaintext `redis://` URL they are a mistake, not a no-op. */
function redisTlsFiles(r: Reader, redisUrl: string | undefined): RedisTlsFiles | undefined {
  const caFile = r.text('TESSERA_REDIS_CA_FILE');
  const certFile = r.text('TESSERA_REDIS_CERT_FILE');
  const keyFile = r.text('TESSERA_REDIS_KEY_FILE');
  if (!caFile && !certFile && !keyFile) return undefined;
  if (Boolean(certFile) !== Boolean(keyFile))
    r.problem('TESSERA_REDIS_CERT_FILE', 'TESSERA_REDIS_CERT_FILE and TESSERA_REDIS_KEY_FILE go together');
  if (redisUrl?.startsWith('redis:'))
    r.problem('TESSERA_REDIS_CA_FILE', 'Redis TLS files need a rediss:// TESSERA_REDIS_URL, not redis://');
  return {
    ...(caFile ? { caFile } : {}),
    ...(certFile ? { certFile } : {}),
    ...(keyFile ? { keyFile } : {}),
  };
}

function webPushHostsOf(r: Reader): readonly string[] {
  const v = r.raw('TESSERA_WEBPUSH_HOSTS');
  if (v === undefined) return DEFAULT_WEBPUSH_HOSTS;
  const list = v.split(',').map((x) => x.trim());
  if (list.every(isWebPushHostPattern)) return list;
  r.reject('TESSERA_WEBPUSH_HOSTS', v);
  return [];
}

function streamList(r: Reader, name: string): AuditStream[] {
  const v = r.raw(name);
  if (v === undefined) return [...AUDIT_STREAMS];
  const list = v.split(',').map((x) => x.trim());
  if (list.length > 0 && list.every((x) => (AUDIT_STREAMS as readonly string[]).includes(x)))
    return list as AuditStream[];
  r.reject(name, v);
  return [];
}

function auditOutOf(r: Reader): AuditOutConfig {
  const queueSize = r.number('TESSERA_AUDIT_OUT_QUEUE', integer(1)) ?? 10_000;
  const out: AuditOutConfig = { queueSize };
  const target = r.text('TESSERA_AUDIT_SYSLOG', (v) => {
    try {
      const u = new URL(v);
      return ['udp:', 'tcp:', 'tls:'].includes(u.protocol) && u.hostname !== '' && u.port !== '';
    } catch {
      return false;
    }
  });
  const syslogStreams = streamList(r, 'TESSERA_AUDIT_SYSLOG_STREAMS');
  const facility = r.oneOf('TESSERA_AUDIT_SYSLOG_FACILITY', Object.keys(SYSLOG_FACILITIES)) ?? 'authpriv';
  const caFile = r.text('TESSERA_AUDIT_SYSLOG_CA_FILE');
  if (target) {
    const u = new URL(target);
    out.syslog = {
      protocol: u.protocol.slice(0, -1) as SyslogProtocol,
      host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: Number(u.port),
      facility: SYSLOG_FACILITIES[facility]!,
      streams: syslogStreams,
      ...(caFile ? { caFile } : {}),
    };
  }
  const jsonl = r.text('TESSERA_AUDIT_JSONL');
  const jsonlStreams = streamList(r, 'TESSERA_AUDIT_JSONL_STREAMS');
  if (jsonl) out.jsonl = { target: jsonl === 'stdout' ? 'stdout' : resolve(jsonl), streams: jsonlStreams };
  return out;
}

function auditRetentionOf(r: Reader): AuditRetention {
  const days = (name: string, fallbackMs: number) =>
    (r.number(name, (n) => n > 0) ?? fallbackMs / 86_400_000) * 86_400_000;
  const max = (name: string, fallback: number | undefined) => r.number(name, integer(1)) ?? fallback;
  const d = DEFAULT_AUDIT_RETENTION;
  const authMax = max('TESSERA_AUDIT_MAX_AUTH_EVENTS', d.auth.maxEvents);
  const eventMax = max('TESSERA_AUDIT_MAX_EVENT_EVENTS', d.event.maxEvents);
  return {
    auth: {
      maxAgeMs: days('TESSERA_AUDIT_RETENTION_AUTH_DAYS', d.auth.maxAgeMs),
      ...(authMax ? { maxEvents: authMax } : {}),
    },
    admin: { maxAgeMs: days('TESSERA_AUDIT_RETENTION_ADMIN_DAYS', d.admin.maxAgeMs) },
    event: {
      maxAgeMs: days('TESSERA_AUDIT_RETENTION_EVENT_DAYS', d.event.maxAgeMs),
      ...(eventMax ? { maxEvents: eventMax } : {}),
    },
  };
}

function clusterConfig(
  r: Reader,
  base: { host: string; port: number; dataDir: string; nodeId?: string; publicUrl?: string },
): ClusterConfig {
  const minutes = (name: string, fallback: number) => (r.number(name, (n) => n >= 0) ?? fallback) * 60_000;
  const passphrase = r.text('TESSERA_SNAPSHOT_PASSPHRASE');
  const passphraseFile = r.text('TESSERA_SNAPSHOT_PASSPHRASE_FILE');
  const keyFile = r.text('TESSERA_SNAPSHOT_KEY_FILE');
  const pullUrl = r.url('TESSERA_SNAPSHOT_PULL_URL', ['http:', 'https:']);
  const pullKeyFile = r.text('TESSERA_SNAPSHOT_PULL_KEY_FILE');
  const failoverWebhook = r.url('TESSERA_FAILOVER_WEBHOOK', ['http:', 'https:']);
  return {
    nodeId: base.nodeId ?? `${hostname()}:${base.port}`,
    url: base.publicUrl ?? `http://${base.host}:${base.port}`,
    dataDir: base.dataDir,
    snapshotDir: resolve(r.text('TESSERA_SNAPSHOT_DIR') ?? join(base.dataDir, 'snapshots')),
    snapshotIntervalMs: minutes('TESSERA_SNAPSHOT_INTERVAL_MIN', 15),
    snapshotKeep: r.number('TESSERA_SNAPSHOT_KEEP', integer(1)) ?? 8,
    pullIntervalMs: minutes('TESSERA_SNAPSHOT_PULL_INTERVAL_MIN', 15),
    pullApply: r.flag('TESSERA_SNAPSHOT_PULL_APPLY') ?? false,
    heartbeatMs: (r.number('TESSERA_HEARTBEAT_SECONDS', (n) => n > 0) ?? 5) * 1000,
    tombstoneRetentionMs:
      (r.number('TESSERA_TOMBSTONE_RETENTION_DAYS', (n) => n > 0) ?? TOMBSTONE_RETENTION_MS / 86_400_000) *
      86_400_000,
    ...(passphrase ? { snapshotPassphrase: passphrase } : {}),
    ...(passphraseFile ? { snapshotPassphraseFile: passphraseFile } : {}),
    ...(keyFile ? { snapshotKeyFile: keyFile } : {}),
    ...(pullUrl ? { pullUrl } : {}),
    ...(pullKeyFile ? { pullKeyFile } : {}),
    ...(failoverWebhook ? { failoverWebhook } : {}),
  };
}

/** Which TESSERA_* variables the environment sets: the known ones, and any the loader ignores. */
export function tesseraVariables(env: Env = process.env): { set: string[]; unknown: string[] } {
  const names = Object.keys(env).filter((k) => k.startsWith('TESSERA_') && env[k] !== '');
  // a secret set through its NAME_FILE counts as NAME set
  const set = names.map((k) => SECRET_FILE_VARIABLES.get(k) ?? k).filter((k) => KNOWN.has(k));
  return {
    set: [...new Set(set)],
    unknown: names.filter((k) => !KNOWN.has(k) && !SECRET_FILE_VARIABLES.has(k)).sort(),
  };
}
