import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, test } from 'vitest';
import { keyMatches, parseKey } from '../auth/index.ts';
import { KeyRing } from '../crypto/index.ts';
import { DEFAULT_SETTINGS, TesseraError } from '../model/index.ts';
import { openEmbeddedStore } from '../store/index.ts';
import { createAdminKey, listAdminKeys, parseExpiry, revokeAdminKey } from './admin-keys.ts';
import { createClient, updateClient } from './clients.ts';
import type { AdminContext } from './context.ts';
import { enrolToken } from './tokens.ts';
import { createUser } from './users.ts';

describe('admin keys, client networks and seeds as saved', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-admin-keys-'));
  const store = openEmbeddedStore(dir);
  const events: { type: string; detail: Record<string, string | undefined> }[] = [];
  const ctx: AdminContext = {
    store,
    keyring: KeyRing.generate(),
    settings: async () => DEFAULT_SETTINGS,
    audit: (type, detail) => events.push({ type, detail }),
  };
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const rejects = async (p: Promise<unknown>, code: string) =>
    assert.rejects(p, (err: unknown) => err instanceof TesseraError && err.code === code);

  test('a key is created with its role, listed without its hash, and revoked once', async () => {
    const now = Date.now();
    const { key, apiKey } = await createAdminKey(ctx, {
      name: 'desk',
      role: 'helpdesk',
      expiresAt: now + 60_000,
    });
    const parsed = parseKey(apiKey)!;
    assert.equal(parsed.id, key.id);
    assert.ok(keyMatches(parsed, (await store.getAdminKey(key.id))!.keyHash));
    const listed = (await listAdminKeys(ctx)).find((k) => k.id === key.id)!;
    assert.deepEqual(Object.keys(listed).sort(), ['createdAt', 'expired', 'expiresAt', 'id', 'name', 'role']);
    assert.equal(listed.role, 'helpdesk');
    assert.equal(listed.expired, false);
    assert.equal(listed.expiresAt, new Date(now + 60_000).toISOString());
    assert.equal(JSON.stringify(listed).includes(parsed.secret), false);
    await revokeAdminKey(ctx, key.id);
    assert.equal(await store.getAdminKey(key.id), null);
    await rejects(revokeAdminKey(ctx, key.id), 'NOT_FOUND');
    assert.deepEqual(
      events.filter((e) => e.detail.keyId === key.id).map((e) => e.type),
      ['admin-key.create', 'admin-key.revoke'],
    );
  });

  test('without a role a key is superadmin; an expiry in the past is refused', async () => {
    const { key } = await createAdminKey(ctx, { name: 'root' });
    assert.equal(key.role, 'superadmin');
    assert.equal(key.expiresAt, undefined);
    await rejects(createAdminKey(ctx, { name: 'late', expiresAt: Date.now() - 1 }), 'BAD_REQUEST');
    await rejects(createAdminKey(ctx, { name: 'nan', expiresAt: Number.NaN }), 'BAD_REQUEST');
  });

  test('the last usable superadmin key cannot be revoked', async () => {
    for (const k of await store.listAdminKeys()) await store.deleteAdminKey(k.id);
    const { key: only } = await createAdminKey(ctx, { name: 'only-root' });
    const { key: desk } = await createAdminKey(ctx, { name: 'desk', role: 'helpdesk' });
    const { key: expiring } = await createAdminKey(ctx, { name: 'brief', expiresAt: Date.now() + 1000 });
    await rejects(revokeAdminKey(ctx, only.id, Date.now() + 2000), 'CONFLICT');
    assert.ok(await store.getAdminKey(only.id), 'still there');
    await revokeAdminKey(ctx, desk.id);
    await revokeAdminKey(ctx, only.id); // the expiring one is still a usable superadmin now
    await rejects(revokeAdminKey(ctx, expiring.id), 'CONFLICT');
  });

  test('expiry text: a date or a zoned ISO time, nothing looser', () => {
    assert.equal(parseExpiry('2027-01-31'), Date.UTC(2027, 0, 31));
    assert.equal(parseExpiry('2027-01-31T18:00:00Z'), Date.UTC(2027, 0, 31, 18));
    assert.equal(parseExpiry('2027-01-31T18:00+02:00'), Date.UTC(2027, 0, 31, 16));
    for (const bad of ['2027-02-30', '2027-01-31T18:00:00', 'tomorrow', '1738000000000', '2027-1-31', '']) {
      assert.equal(parseExpiry(bad), null, bad);
    }
  });

  test('a client network list is checked when saved, naming the bad entry', async () => {
    const bad = createClient(ctx, {
      name: 'vpn',
      kind: 'radius',
      allowedCidrs: ['10.0.0.0/8', '10.0.0.0/99'],
    });
    await assert.rejects(
      bad,
      (err: unknown) =>
        err instanceof TesseraError && err.code === 'INVALID_CIDR' && /"10\.0\.0\.0\/99"/.test(err.message),
    );
    assert.equal((await store.listClients()).length, 0, 'nothing was saved');
    const { client } = await createClient(ctx, { name: 'vpn', kind: 'node', allowedCidrs: ['192.0.2.0/24'] });
    assert.equal(client.kind, 'node');
    await rejects(updateClient(ctx, client.id, { allowedCidrs: ['::/200'] }), 'INVALID_CIDR');
    assert.deepEqual((await store.getClient(client.id))?.allowedCidrs, ['192.0.2.0/24']);
  });

  test('a seed of one repeated byte is refused', async () => {
    await createUser(ctx, { username: 'seeded' });
    for (const secret of ['AAAAAAAAAAAAAAAA', '7777777777777777777777777777777777777777']) {
      await rejects(enrolToken(ctx, 'seeded', { type: 'totp', secret }), 'WEAK_SECRET');
    }
    assert.deepEqual(await store.listTokens('seeded'), []);
    const ok = await enrolToken(ctx, 'seeded', { type: 'totp', secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP' });
    assert.equal(ok.token.username, 'seeded');
  });
});
