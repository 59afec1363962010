import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, test } from 'vitest';
import { ConfigError, loadConfig, SECRET_FILE_VARIABLES, tesseraVariables, VARIABLES } from './config.ts';
import { configReport, formatReport } from './config-report.ts';
import { maskUrl } from './mask.ts';

const KEY = randomBytes(32).toString('base64');

function problemOf(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.message;
  }
  assert.fail(`${JSON.stringify(env)} was accepted`);
}

/** One value each variable must refuse (free-form variables are listed apart). */
const BAD: Record<string, string> = {
  TESSERA_HOST: 'two words',
  TESSERA_PORT: '80800',
  TESSERA_LOG_LEVEL: 'verbose',
  TESSERA_TRUST_PROXY: '10.0.0.0/99',
  TESSERA_MASTER_KEY: 'c2hvcnQ=',
  TESSERA_ADMIN_KEY: 'tessera-client.AAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB',
  TESSERA_PUBLIC_URL: 'ftp://node-a',
  TESSERA_NODE_ID: 'node a',
  TESSERA_REDIS_URL: 'http://127.0.0.1:6379',
  TESSERA_SENTINELS: '127.0.0.1:26379,nohost',
  TESSERA_SENTINEL_NAME: 'my master',
  TESSERA_REDIS_PREFIX: 'a b:',
  TESSERA_REDIS_AUTOPIPELINE: 'no',
  TESSERA_REPLICA_ACK: 'maybe',
  TESSERA_REPLICA_WAIT_MS: '0',
  TESSERA_REPLICA_ACK_COUNT: '1.5',
  TESSERA_FAILOVER_HOLD_MS: '-1',
  TESSERA_HEARTBEAT_SECONDS: '0',
  TESSERA_DIRECTORY_TAKEOVER_SECONDS: '0',
  TESSERA_DIRECTORY_SCHEDULE: 'sometimes',
  TESSERA_SNAPSHOT_INTERVAL_MIN: '-1',
  TESSERA_SNAPSHOT_KEEP: '0',
  TESSERA_SNAPSHOT_PULL_URL: 'not a url',
  TESSERA_SNAPSHOT_PULL_INTERVAL_MIN: 'soon',
  TESSERA_SNAPSHOT_PULL_APPLY: 'yes',
  TESSERA_FAILOVER_WEBHOOK: 'mailto:ops@example.org',
  TESSERA_TOMBSTONE_RETENTION_DAYS: '0',
  TESSERA_SENTINEL_TLS: 'yes',
  TESSERA_AUDIT_RETENTION_AUTH_DAYS: '0',
  TESSERA_AUDIT_RETENTION_ADMIN_DAYS: '-3',
  TESSERA_AUDIT_RETENTION_EVENT_DAYS: 'forever',
  TESSERA_AUDIT_MAX_AUTH_EVENTS: '1.5',
  TESSERA_AUDIT_MAX_EVENT_EVENTS: '0',
  TESSERA_AUDIT_SYSLOG: 'http://127.0.0.1:514',
  TESSERA_AUDIT_SYSLOG_STREAMS: 'auth,logins',
  TESSERA_AUDIT_SYSLOG_FACILITY: 'kern',
  TESSERA_AUDIT_JSONL_STREAMS: 'everything',
  TESSERA_AUDIT_OUT_QUEUE: '0',
  TESSERA_AUDIT_SUCCESS_RATE: '1.5',
  TESSERA_SMTP_HOST: 'mail host',
  TESSERA_SMTP_PORT: '0',
  TESSERA_SMTP_SECURITY: 'ssl3',
  TESSERA_SMTP_TIMEOUT_MS: '-5',
  TESSERA_MAIL_FROM: 'not an address',
  TESSERA_MAIL_DISABLED: 'invitation,birthday',
  TESSERA_MAIL_ADMINS: 'ops@example.org,nobody',
  TESSERA_PORTAL_URL: 'portal.example.org',
  TESSERA_INVITATION_TTL_HOURS: '0',
  TESSERA_WEBPUSH_HOSTS: 'fcm.googleapis.com,https://push.example/',
  TESSERA_SMS_PROVIDER: 'carrier-pigeon',
  TESSERA_SMS_URL: 'ftp://gw.example.org/send',
  TESSERA_SMS_METHOD: 'DELETE',
  TESSERA_SMS_HEADERS: '{"x-key": 5}',
  TESSERA_SMS_BODY_FORMAT: 'xml',
  TESSERA_SMS_BODY: '{not json',
  TESSERA_SMS_SUCCESS_STATUS: '200,abc',
  TESSERA_SMS_SUCCESS_MATCH: '(unclosed',
  TESSERA_SMS_FAILURE_MATCH: '[z-a]',
  TESSERA_SMS_TIMEOUT_MS: '0',
  TESSERA_SMS_TLS_VERIFY: 'sometimes',
  TESSERA_SMS_SMTP_ADDRESS: 'sms@gw.example.org',
};

/** Paths and secrets: any text is a value; empty means unset. */
const FREE_FORM = [
  'TESSERA_DATA_DIR',
  'TESSERA_SENTINEL_PASSWORD',
  'TESSERA_SNAPSHOT_DIR',
  'TESSERA_SNAPSHOT_PASSPHRASE',
  'TESSERA_SNAPSHOT_PASSPHRASE_FILE',
  'TESSERA_SNAPSHOT_KEY_FILE',
  'TESSERA_SNAPSHOT_PULL_KEY_FILE',
  'TESSERA_REDIS_CA_FILE',
  'TESSERA_REDIS_CERT_FILE',
  'TESSERA_REDIS_KEY_FILE',
  'TESSERA_AUDIT_KEY_FILE',
  'TESSERA_AUDIT_SYSLOG_CA_FILE',
  'TESSERA_AUDIT_JSONL',
  'TESSERA_SMTP_USER',
  'TESSERA_SMTP_PASSWORD',
  'TESSERA_SMTP_CA_FILE',
  'TESSERA_MAIL_TEMPLATE_DIR',
  'TESSERA_SMS_USER',
  'TESSERA_SMS_PASSWORD',
  'TESSERA_SMS_CA_FILE',
];

describe('the configuration loader', () => {
  test('audit outputs: a syslog URL per protocol, streams, facility; JSON lines to stdout or a file', () => {
    assert.deepEqual(loadConfig({}).auditOut, { queueSize: 10_000 });
    const c = loadConfig({
      TESSERA_AUDIT_SYSLOG: 'tcp://[::1]:6514',
      TESSERA_AUDIT_SYSLOG_STREAMS: 'admin, event',
      TESSERA_AUDIT_SYSLOG_FACILITY: 'local3',
      TESSERA_AUDIT_JSONL: 'stdout',
      TESSERA_AUDIT_OUT_QUEUE: '50',
    });
    assert.deepEqual(c.auditOut, {
      queueSize: 50,
      syslog: { protocol: 'tcp', host: '::1', port: 6514, facility: 19, streams: ['admin', 'event'] },
      jsonl: { target: 'stdout', streams: ['auth', 'admin', 'event'] },
    });
    assert.equal(loadConfig({ TESSERA_AUDIT_SYSLOG: 'udp://127.0.0.1:514' }).auditOut.syslog?.facility, 10);
    assert.match(problemOf({ TESSERA_AUDIT_SYSLOG: 'udp://127.0.0.1' }), /TESSERA_AUDIT_SYSLOG: /);
    assert.equal(loadConfig({ TESSERA_AUDIT_KEY_FILE: 'k/audit.key' }).auditKeyFile, resolve('k/audit.key'));
    assert.equal(loadConfig({ TESSERA_AUDIT_SUCCESS_RATE: '0.25' }).auditSuccessRate, 0.25);
    assert.equal(loadConfig({ TESSERA_DIRECTORY_TAKEOVER_SECONDS: '2.5' }).directoryTakeoverMs, 2500);
    assert.equal(loadConfig({ TESSERA_DIRECTORY_SCHEDULE: 'false' }).directorySchedule, false);
    assert.equal(loadConfig({}).auditSuccessRate, undefined);
  });

  test('Redis TLS files go with a rediss:// URL, and a client certificate with its key', () => {
    assert.throws(
      () => loadConfig({ TESSERA_REDIS_URL: 'redis://127.0.0.1:6379', TESSERA_REDIS_CA_FILE: '/ca.pem' }),
      /TESSERA_REDIS_CA_FILE: .*rediss:\/\//,
    );
    assert.throws(
      () => loadConfig({ TESSERA_REDIS_URL: 'rediss://127.0.0.1:6379', TESSERA_REDIS_CERT_FILE: '/c.pem' }),
      /TESSERA_REDIS_CERT_FILE: .*together/,
    );
    const c = loadConfig({
      TESSERA_REDIS_URL: 'rediss://127.0.0.1:6379',
      TESSERA_REDIS_CA_FILE: '/ca.pem',
      TESSERA_SENTINEL_TLS: 'false',
    });
    assert.deepEqual(c.redis.tls, { caFile: '/ca.pem' });
    assert.equal(c.redis.sentinelTls, false);
  });

  test('audit retention: days and caps per stream, the defaults otherwise', () => {
    const d = loadConfig({}).auditRetention;
    assert.deepEqual(d, {
      auth: { maxAgeMs: 90 * 86_400_000, maxEvents: 2_000_000 },
      admin: { maxAgeMs: 730 * 86_400_000 },
      event: { maxAgeMs: 730 * 86_400_000, maxEvents: 100_000 },
    });
    const c = loadConfig({
      TESSERA_AUDIT_RETENTION_ADMIN_DAYS: '365',
      TESSERA_AUDIT_MAX_AUTH_EVENTS: '1000',
    });
    assert.equal(c.auditRetention.admin.maxAgeMs, 365 * 86_400_000);
    assert.equal(c.auditRetention.auth.maxEvents, 1000);
  });

  test('mail: SMTP with STARTTLS by default, templates switched off by name, a password from a file', () => {
    assert.equal(loadConfig({}).mail.smtp, undefined, 'no host, no mail');
    const c = loadConfig({
      TESSERA_SMTP_HOST: 'mail.example.org',
      TESSERA_MAIL_FROM: 'Tessera <otp@example.org>',
      TESSERA_SMTP_USER: 'otp',
      TESSERA_SMTP_PASSWORD: 'smtp-secret',
      TESSERA_MAIL_DISABLED: 'account-locked, admin-failover',
      TESSERA_MAIL_ADMINS: 'ops@example.org',
    });
    assert.deepEqual(c.mail.smtp, {
      host: 'mail.example.org',
      port: 587,
      security: 'starttls',
      from: 'Tessera <otp@example.org>',
      timeoutMs: 10_000,
      user: 'otp',
      password: 'smtp-secret',
    });
    assert.deepEqual(c.mail.disabled, ['account-locked', 'admin-failover']);
    assert.deepEqual(c.mail.adminAddresses, ['ops@example.org']);
    assert.equal(
      loadConfig({ TESSERA_SMTP_HOST: 'm', TESSERA_MAIL_FROM: 'a@b', TESSERA_SMTP_SECURITY: 'tls' }).mail.smtp
        ?.port,
      465,
    );
    assert.match(problemOf({ TESSERA_SMTP_HOST: 'mail.example.org' }), /TESSERA_MAIL_FROM is needed/);
    assert.match(problemOf({ TESSERA_SMTP_USER: 'otp' }), /needs TESSERA_SMTP_PASSWORD/);
    const refused = problemOf({ TESSERA_SMTP_PASSWORD_FILE: '/nonexistent/smtp-password' });
    assert.match(refused, /^TESSERA_SMTP_PASSWORD_FILE: cannot read/);
  });

  test('SMS: an HTTP gateway from TESSERA_SMS_*, the password from a file; SMTP-to-SMS needs SMTP and an address', () => {
    assert.equal(loadConfig({}).sms, undefined);
    const c = loadConfig({
      TESSERA_SMS_PROVIDER: 'http',
      TESSERA_SMS_URL: 'https://gw.example.org/send?to={phone}',
      TESSERA_SMS_BODY_FORMAT: 'form',
      TESSERA_SMS_BODY: '{"text":"{message}"}',
      TESSERA_SMS_HEADERS: '{"x-api-key":"k1"}',
      TESSERA_SMS_USER: 'acct',
      TESSERA_SMS_PASSWORD: 'pw',
      TESSERA_SMS_SUCCESS_STATUS: '200, 202',
      TESSERA_SMS_TLS_VERIFY: 'false',
    }).sms;
    assert.deepEqual(c, {
      provider: 'http',
      http: {
        url: 'https://gw.example.org/send?to={phone}',
        method: 'POST',
        headers: { 'x-api-key': 'k1' },
        body: { format: 'form', template: { text: '{message}' } },
        successStatus: [200, 202],
        timeoutMs: 5000,
        tlsVerify: false,
        basicAuth: { user: 'acct', password: 'pw' },
      },
    });
    assert.match(problemOf({ TESSERA_SMS_PROVIDER: 'http' }), /needs TESSERA_SMS_URL/);
    assert.match(
      problemOf({ TESSERA_SMS_PROVIDER: 'smtp', TESSERA_SMS_SMTP_ADDRESS: '{digits}@sms.example' }),
      /needs TESSERA_SMTP_HOST/,
    );
    const smtp = loadConfig({
      TESSERA_SMTP_HOST: 'm',
      TESSERA_MAIL_FROM: 'a@b',
      TESSERA_SMS_PROVIDER: 'smtp',
      TESSERA_SMS_SMTP_ADDRESS: '{digits}@sms.example',
    }).sms;
    assert.deepEqual(smtp, { provider: 'smtp', addressTemplate: '{digits}@sms.example', timeoutMs: 5000 });
    const headers = problemOf({
      TESSERA_SMS_PROVIDER: 'http',
      TESSERA_SMS_URL: 'http://gw/',
      TESSERA_SMS_HEADERS: '{"k":"secret-9"',
    });
    assert.equal(headers.includes('secret-9'), false);
  });

  test('portal: links point at TESSERA_PORTAL_URL, else at the node; invitations last 72 hours by default', () => {
    const d = loadConfig({ TESSERA_PORT: '9000' }).portal;
    assert.deepEqual(d, { url: 'http://127.0.0.1:9000/portal/', invitationTtlMs: 72 * 3_600_000 });
    const c = loadConfig({
      TESSERA_PORTAL_URL: 'https://otp.example.org/portal',
      TESSERA_INVITATION_TTL_HOURS: '2',
    });
    assert.deepEqual(c.portal, { url: 'https://otp.example.org/portal/', invitationTtlMs: 2 * 3_600_000 });
  });

  test("Web Push wake-ups go to the browsers' push services unless TESSERA_WEBPUSH_HOSTS names others", () => {
    assert.ok(loadConfig({}).webPushHosts.includes('fcm.googleapis.com'));
    assert.deepEqual(
      loadConfig({ TESSERA_WEBPUSH_HOSTS: 'push.corp.example, *.push.example' }).webPushHosts,
      ['push.corp.example', '*.push.example'],
    );
  });

  test('every declared variable is either checked below or free-form', () => {
    const covered = new Set([...Object.keys(BAD), ...FREE_FORM]);
    assert.deepEqual(
      VARIABLES.map((v) => v.name).filter((n) => !covered.has(n)),
      [],
    );
    assert.deepEqual(
      [...covered].filter((n) => !VARIABLES.some((v) => v.name === n)),
      [],
    );
  });

  for (const [name, value] of Object.entries(BAD)) {
    test(`${name}=${value} stops the start, naming the variable and what it allows`, () => {
      const message = problemOf({ [name]: value });
      const spec = VARIABLES.find((v) => v.name === name)!;
      assert.equal(message, message.split('\n')[0], 'one problem, one line');
      assert.ok(message.startsWith(`${name}: `), message);
      assert.ok(message.endsWith(`use ${spec.allowed}`), message);
    });
  }

  test('a secret that is refused is not echoed', () => {
    const message = problemOf({ TESSERA_MASTER_KEY: 'not-the-right-secret' });
    assert.equal(message.includes('not-the-right-secret'), false);
    // a URL's key in its query, an SMS body's API key
    const url = problemOf({
      TESSERA_SMS_PROVIDER: 'http',
      TESSERA_SMS_URL: 'ftp://gw.example/send?apikey=SECRET123',
    });
    assert.equal(url.includes('SECRET123'), false, url);
    assert.match(url, /TESSERA_SMS_URL/);
    const body = problemOf({
      TESSERA_SMS_PROVIDER: 'http',
      TESSERA_SMS_BODY: '{"api_key":"SECRET456", oops',
    });
    assert.equal(body.includes('SECRET456'), false, body);
    assert.match(message, /^TESSERA_MASTER_KEY: the value is not allowed; use the base64 of 32 bytes$/);
  });

  test('every bad variable is reported at once', () => {
    const message = problemOf({ TESSERA_PORT: 'x', TESSERA_REPLICA_ACK: 'x', TESSERA_KEEP: 'ignored' });
    assert.deepEqual(
      message.split('\n').map((l) => l.split(':')[0]),
      ['TESSERA_PORT', 'TESSERA_REPLICA_ACK'],
    );
  });

  test('defaults, when nothing is set', () => {
    const c = loadConfig({});
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.port, 8080);
    assert.equal(c.dataDir, resolve('./data'));
    assert.equal(c.logLevel, 'info');
    assert.deepEqual(c.trustProxy, []);
    assert.equal(c.redisUrl, undefined);
    assert.deepEqual(c.redis, {
      prefix: 'tessera:',
      autoPipelining: true,
      replicaAck: 'reject',
      waitTimeoutMs: 1000,
      ackReplicas: 1,
      holdMs: 5_000,
    });
    assert.equal(c.cluster.heartbeatMs, 5_000);
    assert.equal(c.cluster.snapshotIntervalMs, 15 * 60_000);
    assert.equal(c.cluster.snapshotKeep, 8);
    assert.equal(c.cluster.snapshotDir, resolve('./data/snapshots'));
    assert.equal(c.cluster.url, 'http://127.0.0.1:8080');
    assert.equal(c.cluster.pullApply, false);
    assert.equal(loadConfig({}, { logLevel: 'warn' }).logLevel, 'warn');
    assert.equal(loadConfig({ TESSERA_LOG_LEVEL: 'debug' }, { logLevel: 'warn' }).logLevel, 'debug');
  });

  test('good values are typed', () => {
    const c = loadConfig({
      TESSERA_PORT: '0',
      TESSERA_TRUST_PROXY: '10.0.0.0/8, ::1',
      TESSERA_MASTER_KEY: KEY,
      TESSERA_SENTINELS: '127.0.0.1:26379,[::1]:26380',
      TESSERA_REDIS_URL: 'rediss://:pw@127.0.0.1:6380/2',
      TESSERA_REDIS_AUTOPIPELINE: 'false',
      TESSERA_REPLICA_ACK: 'accept',
      TESSERA_REPLICA_WAIT_MS: '250',
      TESSERA_REPLICA_ACK_COUNT: '2',
      TESSERA_FAILOVER_HOLD_MS: '0',
      TESSERA_HEARTBEAT_SECONDS: '0.5',
      TESSERA_SNAPSHOT_INTERVAL_MIN: '0.02',
      TESSERA_SNAPSHOT_PULL_INTERVAL_MIN: '0',
      TESSERA_SNAPSHOT_PULL_APPLY: 'true',
      TESSERA_NODE_ID: 'node-a',
      TESSERA_PUBLIC_URL: 'https://node-a.example:8443',
    });
    assert.equal(c.port, 0);
    assert.deepEqual(c.trustProxy, ['10.0.0.0/8', '::1']);
    for (const all of ['true', 'false', '1']) {
      assert.match(problemOf({ TESSERA_TRUST_PROXY: all }), new RegExp(`^TESSERA_TRUST_PROXY: "${all}" `));
    }
    assert.equal(c.masterKey, KEY);
    assert.deepEqual(c.sentinels, [
      { host: '127.0.0.1', port: 26379 },
      { host: '::1', port: 26380 },
    ]);
    assert.deepEqual(c.redis, {
      prefix: 'tessera:',
      autoPipelining: false,
      replicaAck: 'accept',
      waitTimeoutMs: 250,
      ackReplicas: 2,
      holdMs: 0,
    });
    assert.equal(c.cluster.heartbeatMs, 500);
    assert.equal(c.cluster.snapshotIntervalMs, 1_200);
    assert.equal(c.cluster.pullIntervalMs, 0);
    assert.equal(c.cluster.pullApply, true);
    assert.equal(c.cluster.nodeId, 'node-a');
    assert.equal(c.cluster.url, 'https://node-a.example:8443');
  });

  test('an empty value is the same as unset', () => {
    assert.equal(loadConfig({ TESSERA_PORT: '', TESSERA_REDIS_URL: '' }).port, 8080);
    assert.equal(loadConfig({ TESSERA_REDIS_URL: '' }).redisUrl, undefined);
  });
});

describe('secrets from files (NAME_FILE)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-secret-files-'));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text, { mode: 0o600 });
    return path;
  };

  test('every secret has one, unless it declares its own _FILE variable', () => {
    assert.deepEqual(
      [...SECRET_FILE_VARIABLES.values()].sort(),
      VARIABLES.filter((v) => v.secret && v.name !== 'TESSERA_SNAPSHOT_PASSPHRASE')
        .map((v) => v.name)
        .sort(),
    );
  });

  test('the value is the file, its trailing newline dropped', () => {
    const c = loadConfig({
      TESSERA_MASTER_KEY_FILE: file('master', `${KEY}\n`),
      TESSERA_REDIS_URL_FILE: file('redis', 'redis://:pw@127.0.0.1:6379\r\n'),
      TESSERA_SENTINEL_PASSWORD_FILE: file('sentinel', 'two words \n'),
    });
    assert.equal(c.masterKey, KEY);
    assert.equal(c.redisUrl, 'redis://:pw@127.0.0.1:6379');
    assert.equal(c.redis.sentinelPassword, 'two words ');
  });

  test('the file is checked like the value would be, and its content never shows', () => {
    const message = problemOf({ TESSERA_MASTER_KEY_FILE: file('bad', 'not-the-right-secret\n') });
    assert.match(message, /^TESSERA_MASTER_KEY: the value is not allowed/);
    assert.equal(message.includes('not-the-right-secret'), false);
  });

  test('both set, a missing file or an empty file stop the start, naming the variable', () => {
    const both = problemOf({ TESSERA_MASTER_KEY: KEY, TESSERA_MASTER_KEY_FILE: file('m2', KEY) });
    assert.equal(
      both,
      'TESSERA_MASTER_KEY_FILE: TESSERA_MASTER_KEY and TESSERA_MASTER_KEY_FILE are both set; use one',
    );
    assert.equal(both.includes(KEY), false);
    const missing = problemOf({ TESSERA_SENTINEL_PASSWORD_FILE: join(dir, 'nope') });
    assert.match(missing, /^TESSERA_SENTINEL_PASSWORD_FILE: cannot read ".*nope" \(ENOENT\)$/);
    const empty = problemOf({ TESSERA_MASTER_KEY_FILE: file('empty', '\n') });
    assert.match(empty, /^TESSERA_MASTER_KEY_FILE: ".*empty" is empty$/);
  });

  test('`tessera config` shows the secret as set, masked, and the _FILE name as no stranger', () => {
    const env = { TESSERA_MASTER_KEY_FILE: file('m3', KEY) };
    const { set, unknown } = tesseraVariables(env);
    assert.deepEqual(set, ['TESSERA_MASTER_KEY']);
    assert.deepEqual(unknown, []);
    const text = formatReport(configReport(loadConfig(env), set), unknown);
    assert.match(text, /^TESSERA_MASTER_KEY=\*+ +# set$/m);
    assert.equal(text.includes(KEY), false);
  });

  test('a _FILE name for a variable that is not a secret is not read', () => {
    assert.equal(loadConfig({ TESSERA_PORT_FILE: file('port', '9000') }).port, 8080);
    assert.deepEqual(tesseraVariables({ TESSERA_PORT_FILE: 'x' }).unknown, ['TESSERA_PORT_FILE']);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));
});

describe('tessera config: the effective configuration', () => {
  const env = {
    TESSERA_MASTER_KEY: KEY,
    TESSERA_REDIS_URL: 'redis://ops:s3cret-pw@127.0.0.1:6379',
    TESSERA_SENTINEL_PASSWORD: 'sentinel-pw',
    TESSERA_SNAPSHOT_PASSPHRASE: 'snapshot passphrase',
    TESSERA_SNAPSHOT_PULL_URL: 'https://:pull-pw@master.example/',
    TESSERA_FAILOVER_WEBHOOK: 'https://hooks.example/h?token=hook-token',
    TESSERA_PORT: '9000',
    TESSERA_URL: 'http://not-ours',
  };
  const config = loadConfig(env);
  const { set, unknown } = tesseraVariables(env);
  const lines = configReport(config, set);
  const text = formatReport(lines, unknown);

  test('secrets never show', () => {
    for (const secret of [KEY, 's3cret-pw', 'sentinel-pw', 'snapshot passphrase', 'pull-pw', 'hook-token']) {
      assert.equal(text.includes(secret), false, `${secret} shows in\n${text}`);
    }
    const value = (name: string) => lines.find((l) => l.name === name)?.value;
    assert.equal(value('TESSERA_MASTER_KEY'), '********');
    assert.equal(value('TESSERA_REDIS_URL'), 'redis://ops:********@127.0.0.1:6379');
    assert.equal(value('TESSERA_FAILOVER_WEBHOOK'), 'https://hooks.example/h?token=********');
    assert.equal(maskUrl('no url'), '********');
  });

  test('every variable is listed with its effective value and where it came from', () => {
    assert.deepEqual(
      lines.map((l) => l.name),
      VARIABLES.map((v) => v.name),
    );
    assert.match(text, /^TESSERA_PORT=9000 +# set$/m);
    assert.match(text, /^TESSERA_HOST=127\.0\.0\.1 +# default$/m);
    assert.match(text, /^TESSERA_SNAPSHOT_KEY_FILE= +# unset$/m);
    assert.match(text, /^TESSERA_HEARTBEAT_SECONDS=5 +# default$/m);
    assert.match(text, /# ignored \(not Tessera settings\): TESSERA_URL$/);
  });
});
