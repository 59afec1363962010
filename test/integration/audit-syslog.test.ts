import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { totpNow } from '../harness/codes.ts';
import { freePort, waitFor } from '../harness/ports.ts';
import { type ReceivedSyslog, type RsyslogProcess, startRsyslog } from '../harness/rsyslog.ts';
import { Api, type Json, startTessera, type TesseraHandle } from '../harness/tessera.ts';
import { makeTlsMaterial, type TlsMaterial } from '../harness/tls.ts';

// Audit events leave the node as RFC 5424 syslog (UDP and TCP) to a real rsyslogd on loopback,
// and as JSON lines to a file; a dead syslog server never slows a login.
let rsyslog: RsyslogProcess;
let tls: TlsMaterial;
const nodes: TesseraHandle[] = [];
const dir = mkdtempSync(join(tmpdir(), 'tessera-jsonl-'));

beforeAll(async () => {
  tls = makeTlsMaterial();
  rsyslog = await startRsyslog({ tls });
});
afterAll(async () => {
  for (const n of nodes) await n.stop();
  await rsyslog?.stop();
  tls?.remove();
  rmSync(dir, { recursive: true, force: true });
});

async function arrived(what: string, match: (m: ReceivedSyslog) => boolean): Promise<ReceivedSyslog> {
  return waitFor(what, async () => rsyslog.received().find(match), 10_000).catch((err: Error) => {
    throw new Error(`${err.message}\nrsyslog received:\n${rsyslog.text()}`);
  });
}

describe('syslog over UDP, every stream, and JSON lines', () => {
  let admin: Api;
  let secrets: string[];
  const jsonl = join(dir, 'audit.jsonl');

  beforeAll(async () => {
    const node = await startTessera({
      env: {
        TESSERA_AUDIT_SYSLOG: `udp://127.0.0.1:${rsyslog.udpPort}`,
        TESSERA_AUDIT_JSONL: jsonl,
        TESSERA_AUDIT_JSONL_STREAMS: 'admin',
        TESSERA_NODE_ID: 'node-udp',
      },
    });
    nodes.push(node);
    admin = new Api(node.url, node.adminKey);
    const clientKey = await admin.createClient('api');
    const { secret } = await admin.createUserWithTotp('sl-alice', { pin: '8642' });
    const client = new Api(node.url, clientKey);
    const wrong = totpNow(secret) === '000000' ? '111111' : '000000';
    const r = await client.ok('POST', '/v1/validate', { user: 'sl-alice', pass: `8642${wrong}` });
    assert.equal(r.result, 'reject');
    secrets = [secret, '8642', clientKey, node.adminKey];
  });

  test('an admin change arrives as RFC 5424: facility authpriv, notice, app-name, msgid, structured data', async () => {
    const m = await arrived(
      'user.create over UDP',
      (x) => x.msgId === 'admin' && x.raw.includes('user.create'),
    );
    assert.equal(m.facility, 10, m.raw);
    assert.equal(m.severity, 5, m.raw);
    assert.equal(m.appName, 'tessera');
    assert.match(m.procId, /^\d+$/);
    assert.match(m.structuredData, /^\[tessera@32473 type="user\.create" actor="[^"]+" user="sl-alice"/);
    assert.match(m.raw, /^<85>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z node-udp tessera \d+ admin \[/);
  });

  test('a validate decision arrives in the auth stream as a warning with its result and reason', async () => {
    const m = await arrived('validate over UDP', (x) => x.msgId === 'auth' && x.raw.includes('sl-alice'));
    assert.equal(m.facility, 10);
    assert.equal(m.severity, 4, 'a refused login is a warning');
    assert.match(m.structuredData, /type="validate"/);
    assert.match(m.structuredData, /result="reject"/);
    assert.match(m.structuredData, /reason="[A-Z_]+"/);
  });

  test('no secret (seed, PIN, API keys) is in anything syslog received', async () => {
    await arrived('token enrolment', (x) => x.raw.includes('token.'));
    const text = rsyslog.text();
    for (const s of secrets) assert.ok(!text.includes(s), 'a secret reached syslog');
  });

  test('JSON lines: the admin stream only, one object a line', async () => {
    const lines = await waitFor('the jsonl file', async () => {
      const t = (() => {
        try {
          return readFileSync(jsonl, 'utf8');
        } catch {
          return '';
        }
      })();
      return t.includes('user.create') ? t.trim().split('\n') : undefined;
    });
    const events: Json[] = lines.map((l) => JSON.parse(l));
    assert.ok(events.every((e) => e.stream === 'admin'));
    assert.ok(events.some((e) => e.type === 'user.create' && e.username === 'sl-alice'));
    for (const s of secrets) assert.ok(!lines.join('\n').includes(s));
  });
});

describe('syslog over TCP, chosen streams and facility', () => {
  test('an admin change arrives octet-counted over TCP with facility local3; auth is not sent', async () => {
    const node = await startTessera({
      env: {
        TESSERA_AUDIT_SYSLOG: `tcp://127.0.0.1:${rsyslog.tcpPort}`,
        TESSERA_AUDIT_SYSLOG_STREAMS: 'admin',
        TESSERA_AUDIT_SYSLOG_FACILITY: 'local3',
        TESSERA_NODE_ID: 'node-tcp',
      },
    });
    nodes.push(node);
    const admin = new Api(node.url, node.adminKey);
    const client = new Api(node.url, await admin.createClient('api'));
    await admin.ok('POST', '/v1/admin/users', { username: 'tcp-bob' });
    await client.ok('POST', '/v1/validate', { user: 'tcp-bob', pass: '123456' });
    const m = await arrived('user.create over TCP', (x) => x.raw.includes('tcp-bob') && x.msgId === 'admin');
    assert.equal(m.facility, 19);
    assert.equal(m.severity, 5);
    assert.match(m.raw, / node-tcp tessera /);
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(
      !rsyslog.received().some((x) => x.raw.includes('node-tcp') && x.msgId === 'auth'),
      'the auth stream was not chosen',
    );
  });
});

describe('syslog over TLS', () => {
  test('an admin change arrives over TLS when the node trusts the CA; with another CA nothing is sent', async () => {
    const node = await startTessera({
      env: {
        TESSERA_AUDIT_SYSLOG: `tls://127.0.0.1:${rsyslog.tlsPort}`,
        TESSERA_AUDIT_SYSLOG_CA_FILE: tls.caFile,
        TESSERA_NODE_ID: 'node-tls',
      },
    });
    nodes.push(node);
    const admin = new Api(node.url, node.adminKey);
    await admin.ok('POST', '/v1/admin/users', { username: 'tls-dave' });
    const m = await arrived('user.create over TLS', (x) => x.raw.includes('tls-dave'));
    assert.equal(m.msgId, 'admin');
    assert.match(m.raw, / node-tls tessera /);

    const wrongCa = await startTessera({
      env: {
        TESSERA_AUDIT_SYSLOG: `tls://127.0.0.1:${rsyslog.tlsPort}`,
        TESSERA_AUDIT_SYSLOG_CA_FILE: tls.otherCaFile,
        TESSERA_NODE_ID: 'node-badca',
      },
    });
    nodes.push(wrongCa);
    await new Api(wrongCa.url, wrongCa.adminKey).ok('POST', '/v1/admin/users', { username: 'tls-mallory' });
    await waitFor('the refused certificate in the node log', async () =>
      wrongCa.output().includes('audit output'),
    );
    assert.ok(!rsyslog.text().includes('tls-mallory'));
  });
});

describe('a syslog server that does not answer', () => {
  test('logins stay fast; events beyond the queue are dropped and counted', async () => {
    const dead = await freePort(); // nothing listens: every connect is refused
    const node = await startTessera({
      env: { TESSERA_AUDIT_SYSLOG: `tcp://127.0.0.1:${dead}`, TESSERA_AUDIT_OUT_QUEUE: '5' },
    });
    nodes.push(node);
    const admin = new Api(node.url, node.adminKey);
    const client = new Api(node.url, await admin.createClient('api'));
    await admin.ok('POST', '/v1/admin/users', { username: 'dead-carol' });
    const started = Date.now();
    for (let i = 0; i < 50; i++)
      await client.ok('POST', '/v1/validate', { user: 'dead-carol', pass: '123456' });
    const perLogin = (Date.now() - started) / 50;
    assert.ok(perLogin < 100, `a login took ${perLogin} ms on average`);
    const metrics = await (await fetch(`${node.url}/metrics`)).text();
    const dropped = Number(
      /tessera_audit_out_dropped_total\{output="syslog"\} (\d+)/.exec(metrics)?.[1] ?? 0,
    );
    assert.ok(dropped >= 40, `dropped ${dropped}\n`);
  });
});
