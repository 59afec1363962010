import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { waitFor } from '../harness/ports.ts';
import { type RedisProcess, startRedis } from '../harness/redis.ts';
import { type ReceivedSyslog, type RsyslogProcess, startRsyslog } from '../harness/rsyslog.ts';
import { Api, type Json, runCli, startTessera, type TesseraHandle } from '../harness/tessera.ts';

// Run-time switching: two nodes on one Redis, syslog to a real rsyslogd and JSON lines to a file.
// One admin call switches a stream's output on or off and changes the log level; both nodes apply
// it without a restart, and the change is in the admin trail with its before and after.
let rsyslog: RsyslogProcess;
let redis: RedisProcess;
let a: TesseraHandle;
let b: TesseraHandle;
let adminA: Api;
let adminB: Api;
let clientB: Api;
const dir = mkdtempSync(join(tmpdir(), 'tessera-runtime-'));
const jsonl = join(dir, 'b.jsonl');

beforeAll(async () => {
  [rsyslog, redis] = await Promise.all([startRsyslog(), startRedis()]);
  const env = (id: string) => ({
    TESSERA_REDIS_URL: redis.url,
    TESSERA_NODE_ID: id,
    TESSERA_LOG_LEVEL: 'info',
    TESSERA_AUDIT_SYSLOG: `udp://127.0.0.1:${rsyslog.udpPort}`,
    TESSERA_AUDIT_SYSLOG_STREAMS: 'admin',
  });
  a = await startTessera({ env: env('rt-a') });
  b = await startTessera({
    env: { ...env('rt-b'), TESSERA_AUDIT_JSONL: jsonl, TESSERA_AUDIT_JSONL_STREAMS: 'admin' },
    expectAdminKey: false,
  });
  adminA = new Api(a.url, a.adminKey);
  adminB = new Api(b.url, a.adminKey);
  clientB = new Api(b.url, await adminA.createClient('api'));
});
afterAll(async () => {
  await b?.stop();
  await a?.stop();
  await Promise.all([rsyslog?.stop(), redis?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

const fromB = (user: string) => (m: ReceivedSyslog) =>
  m.raw.includes(' rt-b tessera ') && m.raw.includes(user);
const arrived = (what: string, match: (m: ReceivedSyslog) => boolean) =>
  waitFor(what, async () => rsyslog.received().find(match), 10_000);
/** Nothing matching arrives within a while (UDP on loopback takes milliseconds). */
async function nothing(match: (m: ReceivedSyslog) => boolean, ms = 1500): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
  assert.equal(rsyslog.received().find(match), undefined);
}
/** Waits until node B applies what was switched on node A (settings replicate through the store). */
const applied = (what: string, check: (view: Json) => boolean) =>
  waitFor(`node B applies ${what}`, async () => check(await adminB.ok('GET', '/v1/admin/logging')), 15_000);
const syslogOf = (view: Json) => view.outputs.find((o: Json) => o.name === 'syslog').streams as string[];
const refuse = (user: string) => clientB.ok('POST', '/v1/validate', { user, pass: '000000' });

describe('switching audit outputs at run time', () => {
  test('auth is off by configuration; switched on through node A, node B sends it; switched off, it stops', async () => {
    await refuse('rt-before');
    await nothing(fromB('rt-before'));

    const on = await adminA.ok('PATCH', '/v1/admin/logging', { syslog: ['admin', 'auth'] });
    assert.deepEqual(syslogOf(on), ['admin', 'auth']);
    assert.deepEqual(on.switched.syslog, ['admin', 'auth']);
    await applied('auth on', (v) => syslogOf(v).includes('auth'));
    await refuse('rt-on');
    const m = await arrived('rt-on from node B', fromB('rt-on'));
    assert.equal(m.msgId, 'auth');

    await adminA.ok('PATCH', '/v1/admin/logging', { syslog: [] });
    await applied('syslog off', (v) => syslogOf(v).length === 0);
    await refuse('rt-off');
    await adminB.ok('POST', '/v1/admin/users', { username: 'rt-off-admin' });
    await nothing((x) => fromB('rt-off')(x));

    await adminA.ok('PATCH', '/v1/admin/logging', { syslog: null });
    await applied("the node's own streams", (v) => syslogOf(v).join() === 'admin');
    await adminB.ok('POST', '/v1/admin/users', { username: 'rt-back' });
    await arrived('rt-back from node B', fromB('rt-back'));
    await refuse('rt-back-auth');
    await nothing(fromB('rt-back-auth'), 500);
  });

  test('JSON lines switched off and on again on a running node', async () => {
    const lines = () => {
      try {
        return readFileSync(jsonl, 'utf8');
      } catch {
        return '';
      }
    };
    await adminB.ok('POST', '/v1/admin/users', { username: 'jl-one' });
    await waitFor('jl-one in the file', async () => lines().includes('jl-one'));
    await adminA.ok('PATCH', '/v1/admin/logging', { jsonl: [] });
    await applied('jsonl off', (v) => v.outputs.find((o: Json) => o.name === 'jsonl').streams.length === 0);
    await adminB.ok('POST', '/v1/admin/users', { username: 'jl-two' });
    await new Promise((r) => setTimeout(r, 1000));
    assert.ok(!lines().includes('jl-two'));
    await adminA.ok('PATCH', '/v1/admin/logging', { jsonl: ['admin'] });
    await applied('jsonl on', (v) => v.outputs.find((o: Json) => o.name === 'jsonl').streams.length === 1);
    await adminB.ok('POST', '/v1/admin/users', { username: 'jl-three' });
    await waitFor('jl-three in the file', async () => lines().includes('jl-three'));
  });

  test('the log level changes on a running node, through the API and through the CLI', async () => {
    await adminB.ok('POST', '/v1/admin/users', { username: 'lv-info' });
    await waitFor('an info line on node B', async () => b.output().includes('lv-info'));
    await adminA.ok('PATCH', '/v1/admin/logging', { level: 'warn' });
    await applied('level warn', (v) => v.level === 'warn');
    await adminB.ok('POST', '/v1/admin/users', { username: 'lv-quiet' });
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(!b.output().includes('lv-quiet'), 'an info line was written at level warn');

    const cli = await runCli(['log-level', 'debug'], { TESSERA_REDIS_URL: redis.url, TESSERA_DATA_DIR: dir });
    assert.equal(cli.code, 0, cli.err);
    assert.match(cli.out, /debug on every node/);
    await applied('level debug', (v) => v.level === 'debug');
    await adminB.ok('POST', '/v1/admin/users', { username: 'lv-loud' });
    await waitFor('an info line again', async () => b.output().includes('lv-loud'));
    const shown = await runCli(['log-level'], { TESSERA_REDIS_URL: redis.url, TESSERA_DATA_DIR: dir });
    assert.match(shown.out, /debug \(set at run time\)/);
    assert.equal((await runCli(['log-level', 'loud'], { TESSERA_REDIS_URL: redis.url })).code, 2);
    const reset = await runCli(['log-level', '--reset'], {
      TESSERA_REDIS_URL: redis.url,
      TESSERA_DATA_DIR: dir,
    });
    assert.equal(reset.code, 0, reset.err);
    await applied("the node's own level", (v) => v.level === 'info');
  });

  test('each switch is in the admin trail with before and after, by API key and by cli', async () => {
    const trail = (await adminA.ok('GET', '/v1/admin/audit?stream=admin&limit=1000')).items as Json[];
    const changes = trail.filter((e) => e.type === 'settings.logging');
    assert.ok(changes.length >= 8, String(changes.length));
    const off = changes.find((e) => e.detail?.['after.syslog'] === '[]');
    assert.ok(off, JSON.stringify(changes.slice(0, 3)));
    assert.equal(off.detail['before.syslog'], '["admin","auth"]');
    assert.match(off.actor, /^admin:/);
    assert.ok(changes.some((e) => e.actor === 'cli' && e.detail?.['after.level'] === 'debug'));
  });

  test('bad switches are a 400 naming the field and change nothing; the CLI checks its streams', async () => {
    // The previous test's CLI reset reaches each node at its own next look (applied waits for B):
    // node A's view is read once it has the same level, or a late look would pass for a change.
    const levelOf = async (admin: typeof adminA) => (await admin.ok('GET', '/v1/admin/logging')).level;
    await waitFor(
      'node A applies the level node B has',
      async () => (await levelOf(adminA)) === (await levelOf(adminB)),
    );
    const before = await adminA.ok('GET', '/v1/admin/logging');
    for (const body of [
      { syslog: ['logins'] },
      { level: 'loud' },
      {},
      { syslog: ['auth', 'auth'] },
      { target: 'x' },
    ]) {
      const r = await adminA.call('PATCH', '/v1/admin/logging', body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.error.code, 'BAD_REQUEST');
    }
    assert.deepEqual(await adminA.ok('GET', '/v1/admin/logging'), before);
    const bad = await runCli(['audit', 'outputs', '--syslog', 'auth,logins'], {
      TESSERA_REDIS_URL: redis.url,
    });
    assert.equal(bad.code, 2);
    assert.match(bad.err, /logins/);
    const ok = await runCli(['audit', 'outputs', '--syslog', 'none', '--jsonl', 'default'], {
      TESSERA_REDIS_URL: redis.url,
      TESSERA_DATA_DIR: dir,
    });
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /syslog: none/);
    await applied('syslog none from the CLI', (v) => syslogOf(v).length === 0);
  });
});
