import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, test } from 'vitest';
import { totpNow } from '../harness/codes.ts';
import { Api, runCli, startTessera } from '../harness/tessera.ts';

describe('the tessera command against a data directory', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-cli-'));
  const tessera = (...args: string[]) => runCli(args, { TESSERA_DATA_DIR: dataDir });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  test('admin basics work before and while a node runs on the same data', async () => {
    const pinFile = join(dataDir, 'pin.txt');
    writeFileSync(pinFile, '2468\n', { mode: 0o600 });
    const add = await tessera(
      'user',
      'add',
      'cli-alice',
      '--email',
      'alice@example.org',
      '--pin-file',
      pinFile,
    );
    assert.equal(add.code, 0, add.err);
    assert.equal(JSON.parse(add.out).hasPin, true);
    assert.equal(add.out.includes('2468'), false);

    const token = await tessera('token', 'add', 'cli-alice');
    assert.equal(token.code, 0, token.err);
    const uri = token.out.split('\n').find((l) => l.startsWith('otpauth://totp/'));
    assert.ok(uri, token.out);
    assert.ok(token.out.length > uri.length + 200, 'a terminal QR code follows the URI');
    const secret = new URL(uri).searchParams.get('secret')!;

    const client = await tessera('client', 'add', '--name', 'vpn', '--kind', 'radius');
    assert.equal(client.code, 0, client.err);
    const clientKey = client.out.trim().split('\n').pop()!;
    assert.match(clientKey, /^tessera-client\./);

    const node = await startTessera({ dataDir });
    try {
      const adminKey = await tessera('admin-key', 'create', '--name', 'ops');
      assert.equal(adminKey.code, 0, adminKey.err);
      const api = new Api(node.url, adminKey.out.trim());
      assert.equal((await api.ok('GET', '/v1/admin/users/cli-alice')).email, 'alice@example.org');
      const r = await new Api(node.url, clientKey).ok('POST', '/v1/validate', {
        user: 'cli-alice',
        pass: `2468${totpNow(secret)}`,
      });
      assert.equal(r.result, 'accept');
      assert.match((await tessera('user', 'list')).out, /cli-alice\tenabled\talice@example.org/);
    } finally {
      await node.stop({ keepData: true });
    }
  });

  test('admin keys: create with a role and expiry, list without secrets, revoke', async () => {
    const made = await tessera(
      'admin-key',
      'create',
      '--name',
      'desk',
      '--role',
      'helpdesk',
      '--expires',
      '2099-01-31',
    );
    assert.equal(made.code, 0, made.err);
    const key = made.out.trim();
    assert.match(key, /^tessera-admin\.[A-Za-z0-9_-]{12}\./);
    const id = key.split('.')[1]!;
    assert.match(made.err, new RegExp(`${id} \\(helpdesk\\)`));
    const list = await tessera('admin-key', 'list');
    assert.equal(list.code, 0, list.err);
    const rows = list.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const desk = rows.find((r) => r.id === id);
    assert.deepEqual(desk, {
      id,
      name: 'desk',
      role: 'helpdesk',
      createdAt: desk.createdAt,
      expiresAt: '2099-01-31T00:00:00.000Z',
      expired: false,
    });
    assert.equal(list.out.includes(key.split('.')[2]!), false, 'no secret in the list');
    assert.ok(
      rows.some((r) => r.role === 'superadmin'),
      'the other keys are superadmins',
    );
    assert.equal((await tessera('admin-key', 'revoke', id)).code, 0);
    assert.equal((await tessera('admin-key', 'list')).out.includes(id), false);
    const again = await tessera('admin-key', 'revoke', id);
    assert.equal(again.code, 1);
    assert.match(again.err, /does not exist/);
    for (const args of [
      ['create', '--name', 'x', '--role', 'root'],
      ['create', '--name', 'x', '--expires', 'tomorrow'],
      ['create', '--name', 'x', '--expires', '2099-01-31T10:00'],
      ['revoke'],
      ['rotate'],
    ]) {
      const r = await tessera('admin-key', ...args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.err, /usage/);
    }
    const past = await tessera('admin-key', 'create', '--name', 'x', '--expires', '2001-01-01');
    assert.equal(past.code, 1);
    assert.match(past.err, /in the future/);
  });

  test('wrong usage exits 2 with a usage line; a failing action exits 1 naming the problem', async () => {
    const bad = await tessera('user', 'frobnicate');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /usage/);
    const dup = await tessera('user', 'add', 'cli-alice');
    assert.equal(dup.code, 1);
    assert.match(dup.err, /exists already/);
    assert.equal((await tessera('nonsense')).code, 2);
  });

  test("mail and SMS tokens: bound to the user's address, or to a destination given; none to send to is refused", async () => {
    assert.equal((await tessera('user', 'add', 'cli-codes', '--email', 'codes@example.org')).code, 0);
    const mail = await tessera('token', 'add', 'cli-codes', '--type', 'email');
    assert.equal(mail.code, 0, mail.err);
    assert.match(mail.out, /^token EMAIL[0-9A-F]+ \(email\) enrolled for cli-codes$/m);
    const noPhone = await tessera('token', 'add', 'cli-codes', '--type', 'sms');
    assert.equal(noPhone.code, 1);
    assert.match(noPhone.err, /has no phone/);
    const sms = await tessera('token', 'add', 'cli-codes', '--type', 'sms', '--destination', '+41790000009');
    assert.equal(sms.code, 0, sms.err);
    const list = (await tessera('token', 'list', 'cli-codes')).out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      list.map((t: { type: string; destination?: string }) => [t.type, t.destination]).sort(),
      [
        ['email', undefined],
        ['sms', '+41790000009'],
      ],
    );
  });
});
