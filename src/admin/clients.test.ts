import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, test } from 'vitest';
import { KeyRing } from '../crypto/index.ts';
import { DEFAULT_SETTINGS, type Method } from '../model/index.ts';
import { openEmbeddedStore } from '../store/index.ts';
import { type ClientInput, createClient, updateClient } from './clients.ts';
import type { AdminContext } from './context.ts';

describe('client choices are checked where they are saved, whichever face sent them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-clients-'));
  const store = openEmbeddedStore(dir);
  const audited: string[] = [];
  const ctx: AdminContext = {
    store,
    keyring: KeyRing.generate(),
    settings: async () => DEFAULT_SETTINGS,
    audit: (type) => void audited.push(type),
  };
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a hold time, method list or success rate no face allows is refused, and nothing is saved', async () => {
    const bad: Partial<ClientInput>[] = [
      { pushHoldSeconds: 0 },
      { pushHoldSeconds: 121 },
      { pushHoldSeconds: 2.5 },
      { pushHoldSeconds: Number.NaN },
      { allowedMethods: [] },
      { allowedMethods: ['totp', 'carrier-pigeon' as Method] },
      { auditSuccessRate: -0.1 },
      { auditSuccessRate: Number.NaN },
    ];
    for (const choice of bad)
      await assert.rejects(
        createClient(ctx, { name: 'vpn', kind: 'radius', ...choice }),
        (e: { code?: string }) => e.code === 'BAD_REQUEST',
        JSON.stringify(choice),
      );
    assert.deepEqual(await store.listClients(), []);
    const { client } = await createClient(ctx, {
      name: 'vpn',
      kind: 'radius',
      pushHoldSeconds: 120,
      allowedMethods: ['push', 'totp'],
    });
    for (const choice of bad)
      await assert.rejects(updateClient(ctx, client.id, choice), JSON.stringify(choice));
    const saved = await store.getClient(client.id);
    assert.equal(saved?.pushHoldSeconds, 120);
    assert.deepEqual(saved?.allowedMethods, ['push', 'totp']);
    assert.deepEqual(audited, ['client.create']);
    assert.equal((await updateClient(ctx, client.id, { pushHoldSeconds: 1 })).pushHoldSeconds, 1);
  });
});
