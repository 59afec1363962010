import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, test } from 'vitest';
import { createUser } from '../admin/index.ts';
import { KeyRing } from '../crypto/index.ts';
import { DEFAULT_SETTINGS } from '../model/index.ts';
import type { SelfServiceContext } from '../portal/index.ts';
import { openEmbeddedStore } from '../store/index.ts';
import { enablePush } from './bulk.ts';
import { pairDevice, startPairing } from './pairing.ts';

describe('bulk action: enable push for many users, inviting those without an online device', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bulk-'));
  const store = openEmbeddedStore(dir);
  const mails: { template: string; to: string }[] = [];
  const ctx: SelfServiceContext = {
    store,
    keyring: KeyRing.generate(),
    settings: async () => DEFAULT_SETTINGS,
    audit: () => {},
    notifier: {
      send: (template, to) => {
        mails.push({ template, to: to ?? '' });
        return true;
      },
    },
    portalUrl: 'https://mfa.example/portal/',
    invitationTtlMs: 3_600_000,
    actor: 'admin:test',
  };
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('each user gets its own result; push is switched on for every user found', async () => {
    await createUser(ctx, { username: 'on-line', email: 'o@x.test' });
    await createUser(ctx, { username: 'mailable', email: 'm@x.test' });
    await createUser(ctx, { username: 'no-mail' });
    await store.updateUser({ ...(await store.getUser('mailable'))!, methods: { push: 'disabled' } });
    const start = await startPairing(ctx, 'on-line', { baseUrl: 'https://mfa.example/' });
    const key = (await crypto.subtle.exportKey(
      'jwk',
      (
        await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign'])
      ).publicKey,
    )) as { x: string; y: string };
    await pairDevice(ctx, {
      pairingToken: start.pairingToken,
      publicKey: { kty: 'EC', crv: 'P-256', ...key },
      name: 'p',
    });
    const out = await enablePush(ctx, ['on-line', 'Mailable', 'mailable', 'no-mail', 'ghost']);
    assert.deepEqual(out, [
      { username: 'on-line', result: 'online' },
      { username: 'mailable', result: 'invited' },
      { username: 'no-mail', result: 'no-address' },
      { username: 'ghost', result: 'not-found' },
    ]);
    assert.deepEqual(mails, [{ template: 'invitation', to: 'm@x.test' }]);
    for (const u of ['on-line', 'mailable', 'no-mail'])
      assert.equal((await store.getUser(u))?.methods.push, 'enabled');
    assert.equal((await store.listInvitations()).filter((i) => i.status === 'open').length, 1);
    assert.deepEqual(await enablePush(ctx, ['mailable'], false), [
      { username: 'mailable', result: 'enabled' },
    ]);
    assert.equal(mails.length, 1);
  });

  test('an invitation that could not be mailed is not reported as sent', async () => {
    await createUser(ctx, { username: 'unmailed', email: 'u@x.test' });
    const silent: SelfServiceContext = { ...ctx, notifier: { send: () => false } };
    assert.deepEqual(await enablePush(silent, ['unmailed']), [{ username: 'unmailed', result: 'enabled' }]);
    assert.equal((await store.getUser('unmailed'))?.methods.push, 'enabled');
  });
});
