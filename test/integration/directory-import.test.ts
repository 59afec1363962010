import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { base32Decode, hotp } from '../../src/otp/index.ts';
import { awaitFreshStep, totpNow } from '../harness/codes.ts';
import { addSyncedSource } from '../harness/directory.ts';
import { type RedisProcess, startRedis } from '../harness/redis.ts';
import { personLdif, type SlapdProcess, startSlapd } from '../harness/slapd.ts';
import {
  Api,
  type Json,
  randomBase32,
  runCli,
  startTessera,
  type TesseraHandle,
} from '../harness/tessera.ts';

/** Sends only the headers of a request that declares `length` bytes, and reads the answer. */
function announceBody(
  node: TesseraHandle,
  path: string,
  length: number,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${node.url}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${node.adminKey}`,
        'content-type': 'application/json',
        'content-length': String(length),
      },
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString();
      });
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body });
        req.destroy();
      });
    });
    req.on('error', reject);
    req.write('{"csv":"username\\n');
  });
}

const hotp8 = (secret: string, counter: number) =>
  hotp({ secret: base32Decode(secret)!, algorithm: 'SHA1', digits: 8 }, counter);

// CSV import of users and hardware-token seeds over the admin API and the CLI, on real nodes (LMDB
// and Redis), with a real slapd providing a directory-linked user that an import must not touch.
describe('user import from CSV (real nodes, real slapd)', () => {
  let slapd: SlapdProcess;
  let redis: RedisProcess;
  let node: TesseraHandle;
  let onRedis: TesseraHandle;
  let admin: Api;
  let client: Api;
  const annSecret = randomBase32();
  const benSecret = randomBase32();
  const badRowSecret = randomBase32();
  const takenRowSecret = randomBase32();
  const secrets = [annSecret, benSecret, badRowSecret, takenRowSecret];
  const importCsv = (csv: string, extra: Record<string, unknown> = {}) =>
    admin.call('POST', '/v1/admin/users/import', { csv, ...extra });
  const rowAt = (r: Json, line: number) => r.rows.find((x: Json) => x.line === line);

  beforeAll(async () => {
    slapd = await startSlapd();
    slapd.ldif(personLdif({ uid: 'dora', cn: 'Dora Dirk' }));
    redis = await startRedis();
    [node, onRedis] = await Promise.all([
      startTessera({ env: { TESSERA_LOG_LEVEL: 'debug' } }),
      startTessera({ env: { TESSERA_REDIS_URL: redis.url } }),
    ]);
    admin = new Api(node.url, node.adminKey);
    client = new Api(node.url, await admin.createClient('api'));
    await admin.ok('POST', '/v1/admin/groups', { name: 'vpn' });
    await admin.ok('POST', '/v1/admin/users', { username: 'cid', displayName: 'Old Name' });
    await admin.createUserWithTotp('owner', { token: { serial: 'HW-TAKEN' } });
    await addSyncedSource(admin, slapd);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([node?.stop(), onRedis?.stop()]);
    await redis?.stop();
    await slapd?.stop();
  });

  // Odd on purpose: a BOM, CRLF, column names of other products, a quoted name with a comma and
  // a line break, an unknown column, and a bad row of each kind between good ones.
  const csv = () =>
    [
      '\uFEFFsAMAccountName,E-Mail,Mobile,Display Name,Groups,Serial,Secret,Type,Digits,Shoe size',
      `ann,ann@example.org,+49 30 1234,"Arbor, Ann",vpn,HW-ANN,${annSecret},totp,6,42`,
      `ben,,,"Ben\r\nBale",,HW-BEN,${benSecret.toLowerCase()},hotp,8,`,
      `ANN,dup@example.org,,,,,,,,`,
      `eve,,,,,HW-EVE,not!base32,totp,6,`,
      `fay,,,,,HW-TAKEN,${takenRowSecret},totp,6,`,
      `gil,,,,nosuchgroup,,,,,`,
      `hal,not-an-address,,,,,,,,`,
      `ivy,too,few`,
      `cid,,,"New Name",,,,,,`,
      `dora,,,Someone Else,,,,,,`,
      `jon,,,,,HW-JON,${badRowSecret},totp,7,`,
      `kim,,,"unclosed,,,,,,`,
    ].join('\r\n');

  test('a dry run reports every row and writes nothing', async () => {
    const r = await importCsv(csv(), { dryRun: true });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.dryRun, true);
    assert.deepEqual([r.body.created, r.body.updated, r.body.skipped], [2, 1, 9]);
    assert.equal((await admin.call('GET', '/v1/admin/users/ann')).status, 404);
    assert.equal((await admin.ok('GET', '/v1/admin/users/cid')).displayName, 'Old Name');
  });

  test('good rows are written with their tokens, each bad row is skipped with its reason, none half-written', async () => {
    const r = await importCsv(csv());
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const b = r.body;
    assert.equal(b.dryRun, false);
    assert.deepEqual(b.columns, {
      username: 'sAMAccountName',
      email: 'E-Mail',
      phone: 'Mobile',
      displayName: 'Display Name',
      group: 'Groups',
      serial: 'Serial',
      secret: 'Secret',
      type: 'Type',
      digits: 'Digits',
    });
    assert.deepEqual(b.ignoredColumns, ['Shoe size']);
    assert.deepEqual(rowAt(b, 2), { line: 2, username: 'ann', serial: 'HW-ANN', action: 'created' });
    assert.equal(rowAt(b, 3).action, 'created');
    // ben's quoted name spans two lines: the next row starts on line 5
    assert.match(rowAt(b, 5).reason, /username already on line 2/);
    assert.match(rowAt(b, 6).reason, /not valid base32/);
    assert.match(rowAt(b, 7).reason, /serial exists/);
    assert.match(rowAt(b, 8).reason, /no Tessera group/);
    assert.match(rowAt(b, 9).reason, /e-mail/);
    assert.match(rowAt(b, 10).reason, /has 3 fields, the header has 10/);
    assert.deepEqual(rowAt(b, 11), { line: 11, username: 'cid', action: 'updated' });
    assert.match(rowAt(b, 12).reason, /directory source "corp"/);
    assert.match(rowAt(b, 13).reason, /digits must be 6 or 8/);
    assert.match(rowAt(b, 14).reason, /never closed/);
    assert.deepEqual([b.created, b.updated, b.skipped], [2, 1, 9]);

    const ann = await admin.ok('GET', '/v1/admin/users/ann');
    assert.equal(ann.displayName, 'Arbor, Ann');
    assert.equal(ann.group, 'vpn');
    assert.equal(ann.phone, '+49 30 1234');
    assert.deepEqual(
      ann.tokens.map((t: Json) => [t.serial, t.type, t.isDefault]),
      [['HW-ANN', 'totp', true]],
    );
    assert.equal((await admin.ok('GET', '/v1/admin/users/ben')).displayName, 'Ben\r\nBale');
    assert.equal((await admin.ok('GET', '/v1/admin/users/cid')).displayName, 'New Name');
    assert.equal((await admin.ok('GET', '/v1/admin/users/dora')).displayName, 'Dora Dirk');
    // a skipped row leaves neither its user nor its token
    for (const name of ['eve', 'fay', 'gil', 'hal', 'ivy', 'jon', 'kim'])
      assert.equal((await admin.call('GET', `/v1/admin/users/${name}`)).status, 404, name);
    assert.equal((await admin.ok('GET', '/v1/admin/users/owner')).tokens[0].serial, 'HW-TAKEN');

    // the imported seeds work: the seed was sealed with this node's key, as enrolment does
    await awaitFreshStep();
    const a = await client.ok('POST', '/v1/validate', { user: 'ann', pass: totpNow(annSecret) });
    assert.equal(a.result, 'accept', JSON.stringify(a));
    const bb = await client.ok('POST', '/v1/validate', { user: 'ben', pass: hotp8(benSecret, 0) });
    assert.equal(bb.result, 'accept', JSON.stringify(bb));

    // the same file again: nothing new, existing serials and unchanged users are skipped
    const again = (await importCsv(csv())).body;
    assert.deepEqual([again.created, again.updated], [0, 0]);
    assert.match(rowAt(again, 2).reason, /serial exists/);
  });

  test('no seed is ever echoed: not in answers, the audit trail or the log', async () => {
    const dry = await importCsv(csv(), { dryRun: true });
    const audit = await admin.ok('GET', '/v1/admin/audit?limit=500');
    const users = await admin.ok('GET', '/v1/admin/users/ann');
    assert.ok(audit.items.some((e: Json) => e.type === 'user.import.create' && e.username === 'ann'));
    const seen = [JSON.stringify(dry.body), JSON.stringify(audit), JSON.stringify(users), node.output()].join(
      '\n',
    );
    for (const s of secrets) {
      assert.ok(!seen.includes(s), 'a seed came back');
      assert.ok(!seen.toLowerCase().includes(s.toLowerCase()), 'a seed came back (lower case)');
    }
    assert.ok(!seen.includes('not!base32'), 'a bad secret cell was echoed');
  });

  test('malformed bodies and unusable files are 400 with a stable code; nothing is written', async () => {
    const cases: [unknown, number, string][] = [
      [{}, 400, 'BAD_REQUEST'],
      [{ csv: 42 }, 400, 'BAD_REQUEST'],
      [{ csv: 'username\nx', extra: 1 }, 400, 'BAD_REQUEST'],
      [{ csv: 'username\nx', mapping: { shoe: 'x' } }, 400, 'BAD_REQUEST'],
      [{ csv: '' }, 400, 'IMPORT_INVALID'],
      [{ csv: '\uFEFF\r\n\r\n' }, 400, 'IMPORT_INVALID'],
      [{ csv: 'mail,phone\na@x,1' }, 400, 'IMPORT_INVALID'],
      [{ csv: 'login,uid\nx,y' }, 400, 'IMPORT_INVALID'],
      [{ csv: 'user,serial\nx,S1' }, 400, 'IMPORT_INVALID'],
      [{ csv: '"user\nx,y' }, 400, 'IMPORT_INVALID'],
      [{ csv: 'Kennung\nnew-x', mapping: { username: 'Login' } }, 400, 'IMPORT_INVALID'],
    ];
    for (const [body, status, code] of cases) {
      const r = await admin.call('POST', '/v1/admin/users/import', body);
      assert.equal(r.status, status, JSON.stringify([body, r.body]));
      assert.equal(r.body.error.code, code, JSON.stringify(body));
    }
    const text = await admin.call('POST', '/v1/admin/users/import', 'username\nx');
    assert.equal(text.status, 400);
    assert.equal((await admin.call('GET', '/v1/admin/users/new-x')).status, 404);
    // a header alone is a file of no users
    const empty = await importCsv('username,mail\r\n');
    assert.deepEqual([empty.status, empty.body.created, empty.body.rows.length], [200, 0, 0]);
    // an explicit mapping reads columns of any name
    const mapped = await importCsv('Kennung;Adresse\nmapped-1;m@example.org\n', {
      mapping: { username: 'Kennung', email: 'Adresse' },
    });
    assert.equal(mapped.body.created, 1, JSON.stringify(mapped.body));
    assert.equal((await admin.ok('GET', '/v1/admin/users/mapped-1')).email, 'm@example.org');
  });

  test('too many rows or too many bytes: refused whole, before anything is written', async () => {
    const rows = Array.from({ length: 10_001 }, (_, i) => `big-${i}`);
    const many = await importCsv(['username', ...rows].join('\n'));
    assert.equal(many.status, 413, JSON.stringify(many.body).slice(0, 300));
    assert.equal(many.body.error.code, 'PAYLOAD_TOO_LARGE');
    assert.equal((await admin.call('GET', '/v1/admin/users/big-0')).status, 404);
    // text over the schema's 1 MiB is a 400 from the schema; nothing is parsed or written
    const long = await importCsv(`username\nbig-x${'x'.repeat(1024 * 1024)}`);
    assert.deepEqual([long.status, long.body.error.code], [400, 'BAD_REQUEST']);
    assert.equal((await admin.call('GET', '/v1/admin/users/big-x')).status, 404);
    // a body over the route's limit is refused from its declared length, before it is read
    const huge = await announceBody(node, '/v1/admin/users/import', 9 * 1024 * 1024);
    assert.equal(huge.status, 413);
    assert.equal(JSON.parse(huge.body).error.code, 'PAYLOAD_TOO_LARGE');
  });

  test('on a Redis store too: the user and its token arrive together, a taken serial writes neither', async () => {
    const api = new Api(onRedis.url, onRedis.adminKey);
    await api.createUserWithTotp('r-owner', { token: { serial: 'R-TAKEN' } });
    const secret = randomBase32();
    const r = await api.ok('POST', '/v1/admin/users/import', {
      csv: `login,serial,secret\nr-one,R-ONE,${secret}\nr-two,R-TAKEN,${randomBase32()}\n`,
    });
    assert.deepEqual([r.created, r.skipped], [1, 1]);
    assert.equal((await api.ok('GET', '/v1/admin/users/r-one')).tokens[0].serial, 'R-ONE');
    assert.equal((await api.call('GET', '/v1/admin/users/r-two')).status, 404);
    const c = new Api(onRedis.url, await api.createClient('api'));
    await awaitFreshStep();
    assert.equal(
      (await c.ok('POST', '/v1/validate', { user: 'r-one', pass: totpNow(secret) })).result,
      'accept',
    );
  });
});

describe('tessera user import (CLI against a data directory)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-import-'));
  const tessera = (...args: string[]) => runCli(args, { TESSERA_DATA_DIR: dataDir });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  test('dry run, import with a report per row, exit 3 when rows were skipped; seeds never printed', async () => {
    const secret = randomBase32();
    const file = join(dataDir, 'users.csv');
    writeFileSync(
      file,
      `\uFEFFLogin;Mail;Serial;Seed\r\nlia;lia@example.org;HW-LIA;${secret}\r\nmo;;HW-MO;###\r\n`,
    );
    const dry = await tessera('user', 'import', file, '--dry-run');
    assert.equal(dry.code, 3, dry.err);
    assert.match(dry.out, /^2\tcreated\tlia\tHW-LIA$/m);
    assert.match(dry.out, /^3\tskipped\tmo\tHW-MO\tsecret is not valid base32$/m);
    assert.match(dry.out, /created 1, updated 0, skipped 1 \(dry run: nothing changed\)/);
    assert.doesNotMatch((await tessera('user', 'list')).out, /lia/);
    const real = await tessera('user', 'import', file);
    assert.equal(real.code, 3, real.err);
    assert.match((await tessera('user', 'list')).out, /lia\tenabled\tlia@example.org/);
    const tokens = await tessera('token', 'list', 'lia');
    assert.equal(JSON.parse(tokens.out.trim()).serial, 'HW-LIA');
    for (const r of [dry, real, tokens]) assert.ok(!`${r.out}${r.err}`.includes(secret));
    const good = join(dataDir, 'good.csv');
    writeFileSync(good, 'Kennung\nnoa\n');
    const mapped = await tessera('user', 'import', good, '--map', 'username=Kennung');
    assert.equal(mapped.code, 0, mapped.err);
    const bad = await tessera('user', 'import', good, '--map', 'shoe=Kennung');
    assert.notEqual(bad.code, 0);
    const none = await tessera('user', 'import', join(dataDir, 'missing.csv'));
    assert.notEqual(none.code, 0);
  });
});
